"""Theory: keys, key estimation, snap grids, quantize, transpose (hand-computed expectations)."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer_app.core.note import Note
from composer_app.core.theory import (
    GRID_CHOICES,
    GRID_LABELS,
    KEY_CANDIDATES,
    KRUMHANSL_KESSLER_MAJOR,
    KRUMHANSL_KESSLER_MINOR,
    MODE_INTERVALS,
    Key,
    estimate_key,
    grid_ticks,
    key_correlations,
    pitch_class_histogram,
    quantize,
    scale_pitches,
    snap_to_scale,
    transpose,
    transpose_in_scale,
)

TPQ = 480


def melody(*pitch_beats: tuple[int, float], channel: int = 0) -> list[Note]:
    """Consecutive notes, each (pitch, length in quarter beats) at TPQ ticks per quarter."""
    notes, tick = [], 0
    for pitch, beats in pitch_beats:
        length = round(beats * TPQ)
        notes.append(Note(tick, pitch, length, channel=channel))
        tick += length
    return notes


# C D E F G(2) E C G F(½) E(½) D C(2): tonic, third and fifth lead the histogram.
C_MAJOR_MELODY = melody(
    (60, 1), (62, 1), (64, 1), (65, 1), (67, 2), (64, 1), (60, 1), (67, 1), (65, 0.5), (64, 0.5), (62, 1), (60, 2)
)
# A C E(2) D C B A(2) E A(2): natural minor, no F or G.
A_MINOR_MELODY = melody((69, 1), (72, 1), (76, 2), (74, 1), (72, 1), (71, 1), (69, 2), (64, 1), (69, 2))
# A harmonic minor up and back: A B C D E F G# A(2) G# E A(2).
A_HARMONIC_MINOR_MELODY = melody(
    (69, 1), (71, 1), (72, 1), (74, 1), (76, 1), (77, 1), (80, 1), (81, 2), (80, 1), (76, 1), (69, 2)
)
# D(2) E F G A(2) B A F E D(2): D dorian (B natural), the C major pitch set centred on D.
D_DORIAN_MELODY = melody((62, 2), (64, 1), (65, 1), (67, 1), (69, 2), (71, 1), (69, 1), (65, 1), (64, 1), (62, 2))


# --- Key (existing API) -------------------------------------------------------------------


def test_key_api_unchanged():
    assert Key.parse("F# dorian") == Key(6, "dorian")
    assert Key(9, "minor").pitch_classes == frozenset({9, 11, 0, 2, 4, 5, 7})
    assert str(Key(10)) == "Bb major"


# --- Pitch-class histogram and key estimation -----------------------------------------------


def test_pitch_class_histogram_weights_by_duration_or_count_and_skips_drums():
    notes = [Note(0, 60, 480), Note(480, 72, 240), Note(0, 67, 960), Note(0, 36, 100, channel=9)]
    # C: 480 + 240 (two octaves fold together), G: 960; the drum note (C2 on channel 9) is skipped.
    expected = np.zeros(12)
    expected[0], expected[7] = 720, 960
    np.testing.assert_array_equal(pitch_class_histogram(notes), expected)
    expected[0], expected[7] = 2, 1
    np.testing.assert_array_equal(pitch_class_histogram(notes, weight="count"), expected)
    np.testing.assert_array_equal(pitch_class_histogram([]), np.zeros(12))


def test_pitch_class_histogram_rejects_bad_arguments():
    with pytest.raises(ValueError, match='^weight must be "duration" or "count"$'):
        pitch_class_histogram([], weight="velocity")
    with pytest.raises(TypeError, match="^notes must be Note values$"):
        pitch_class_histogram([60])


def test_key_correlations_are_pearson_correlations_with_rotated_profiles():
    rng = np.random.default_rng(1)
    hist = rng.random(12)
    corr = key_correlations(hist)
    assert corr.shape == (24,)
    for index, key in enumerate(KEY_CANDIDATES):
        profile = KRUMHANSL_KESSLER_MAJOR if key.mode == "major" else KRUMHANSL_KESSLER_MINOR
        # The profile of the key with tonic t rates pitch class pc by profile[(pc - t) % 12].
        rotated = [profile[(pc - key.tonic_pc) % 12] for pc in range(12)]
        assert corr[index] == pytest.approx(np.corrcoef(hist, rotated)[0, 1])
    np.testing.assert_array_equal(key_correlations(np.ones(12)), np.zeros(24))  # flat: undefined -> 0


def test_estimate_key_of_nothing_is_none():
    assert estimate_key([]) is None
    assert estimate_key([Note(0, 36, 480, channel=9)]) is None  # drums only


def test_estimate_key_single_c_is_c_major():
    # For a one-hot histogram at C and a profile x, Pearson's r = (x[0] - mean(x)) / (sqrt(11) * std(x))
    # (population std): about 0.8 for both profiles, and the major profile's tonic stands out a
    # little more (6.35 against a mean of 3.48 vs 6.33 against 3.70), so C major wins over C minor.
    def one_hot_r(profile):
        x = np.asarray(profile)
        return (x[0] - x.mean()) / (np.sqrt(11) * x.std())

    estimate = estimate_key([Note(0, 60, 480)])
    assert estimate.key == Key(0, "major")
    assert estimate.correlation == pytest.approx(one_hot_r(KRUMHANSL_KESSLER_MAJOR))
    assert estimate.correlation_of(Key(0, "minor")) == pytest.approx(one_hot_r(KRUMHANSL_KESSLER_MINOR))
    assert estimate.correlation_of(Key(0, "minor")) < estimate.correlation


@pytest.mark.parametrize(
    ("notes", "expected", "runner_up"),
    [
        (C_MAJOR_MELODY, Key(0, "major"), Key(7, "major")),
        (A_MINOR_MELODY, Key(9, "minor"), Key(9, "major")),
        (A_HARMONIC_MINOR_MELODY, Key(9, "minor"), Key(9, "major")),
        (transpose(C_MAJOR_MELODY, 6), Key(6, "major"), Key(1, "major")),  # F# major
        # D dorian shares C major's pitch set; KS reads the D-centred melody as D minor (r = 0.84
        # against D major 0.75, F major and C major lower): the minor profile fits D–F–A best.
        (D_DORIAN_MELODY, Key(2, "minor"), Key(2, "major")),
    ],
    ids=["C major", "A minor", "A harmonic minor", "F# major", "D dorian"],
)
def test_estimate_key_on_melodies(notes, expected, runner_up):
    estimate = estimate_key(notes)
    assert estimate.key == expected
    ranked = estimate.ranked()
    assert ranked[0] == (expected, estimate.correlation)
    assert ranked[1][0] == runner_up
    assert len(estimate.correlations) == 24
    assert estimate.correlation == max(estimate.correlations)


def test_estimate_key_c_major_melody_correlation_by_hand():
    # Histogram in quarter beats: C 4, D 2, E 2.5, F 1.5, G 3, others 0 (total 13 beats).
    assert pitch_class_histogram(C_MAJOR_MELODY).tolist() == [
        x * TPQ for x in (4, 0, 2, 0, 2.5, 1.5, 0, 3, 0, 0, 0, 0)
    ]
    estimate = estimate_key(C_MAJOR_MELODY)
    assert estimate.correlation == pytest.approx(
        np.corrcoef([4, 0, 2, 0, 2.5, 1.5, 0, 3, 0, 0, 0, 0], KRUMHANSL_KESSLER_MAJOR)[0, 1]
    )
    assert estimate.correlation == pytest.approx(0.9324, abs=1e-4)


@pytest.mark.parametrize("tonic", range(12))
def test_estimate_key_follows_transposition_in_all_keys(tonic):
    shift_major = tonic - 0 if tonic < 6 else tonic - 12  # keep pitches in a middle register
    assert estimate_key(transpose(C_MAJOR_MELODY, shift_major)).key == Key(tonic, "major")
    shift_minor = tonic - 9 if tonic >= 3 else tonic + 3
    assert estimate_key(transpose(A_MINOR_MELODY, shift_minor)).key == Key(tonic, "minor")


def test_key_estimate_correlation_of_rejects_modes_without_a_profile():
    with pytest.raises(ValueError, match="^key must be a major or minor key$"):
        estimate_key(C_MAJOR_MELODY).correlation_of(Key(2, "dorian"))


# --- Snap grids --------------------------------------------------------------------------


def test_grid_choices_run_from_whole_notes_to_64ths_with_triplets():
    assert GRID_LABELS[0] == "1/1" and "1/64" in GRID_LABELS
    assert {"1/4T", "1/8T", "1/16T", "1/32T"} <= set(GRID_LABELS)
    assert dict(GRID_CHOICES)["1/8T"] == Fraction(1, 3)  # three eighth triplets per quarter


@pytest.mark.parametrize(
    ("label", "ticks"),
    [("1/1", 1920), ("1/2", 960), ("1/4", 480), ("1/4T", 320), ("1/8", 240), ("1/8T", 160),
     ("1/16", 120), ("1/16T", 80), ("1/32", 60), ("1/64", 30), ("1/64T", 20)],
)
def test_grid_ticks_at_480(label, ticks):
    assert grid_ticks(label, 480) == ticks


def test_grid_ticks_rounds_when_inexact_and_never_returns_zero():
    assert grid_ticks("1/8T", 100) == 33  # 100 / 3 = 33.3
    assert grid_ticks("1/16T", 100) == 17  # 100 / 6 = 16.7
    assert grid_ticks("1/64T", 96) == 4  # 96 / 24
    assert grid_ticks("1/64T", 1) == 1  # 1/24 tick rounds to 0, kept at 1


def test_grid_ticks_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"^grid must be one of 1/1, 1/2, 1/2T, 1/4, "):
        grid_ticks("1/3", 480)
    with pytest.raises(ValueError, match=r"^ticks_per_quarter must be >= 1$"):
        grid_ticks("1/4", 0)


# --- Quantize ----------------------------------------------------------------------------

OFF_GRID = [Note(10, 60, 100), Note(250, 62, 100), Note(470, 64, 100), Note(700, 65, 50)]


def starts(notes):
    return [n.start_tick for n in notes]


def test_quantize_full_strength_snaps_starts_and_keeps_durations():
    # Grid 240: 10 -> 0, 250 -> 240, 470 -> 480, 700 -> 720.
    result = quantize(OFF_GRID, 240)
    assert starts(result) == [0, 240, 480, 720]
    assert [n.duration_ticks for n in result] == [100, 100, 100, 50]
    assert [n.pitch for n in result] == [60, 62, 64, 65]


def test_quantize_half_strength_goes_half_way_rounding_half_up():
    # s + round_half_up(0.5 * (L - s)): 10 - 5 = 5, 250 - 5 = 245, 470 + 5 = 475, 700 + 10 = 710.
    assert starts(quantize(OFF_GRID, 240, strength=0.5)) == [5, 245, 475, 710]
    # Halves round up, in both directions: 5 -> 5 + floor(-2.5 + 0.5) = 3; 235 -> 235 + floor(2.5 + 0.5) = 238.
    assert starts(quantize([Note(5, 60, 10), Note(235, 60, 10)], 240, strength=0.5)) == [3, 238]


def test_quantize_zero_strength_changes_nothing():
    assert quantize(OFF_GRID, 240, strength=0) == tuple(OFF_GRID)


def test_quantize_ties_go_to_the_earlier_line_and_order_is_kept():
    notes = [Note(360, 64, 10), Note(120, 60, 10)]  # both exactly between two 240-tick lines
    assert starts(quantize(notes, 240)) == [240, 0]


@pytest.mark.parametrize(
    ("swing", "expected"),
    [
        # Grid 240, off-beat lines (odd k) delayed by round(swing * 240 / 2) ticks.
        (0.5, [0, 300, 480, 780]),  # delay 60: 250 is 50 from 300 (0 is 250 away); 700 -> 780
        (2 / 3, [0, 320, 480, 800]),  # delay 80 = a triplet feel (320 : 160 = 2 : 1)
        (1.0, [0, 360, 480, 840]),  # delay 120 = dotted feel (360 : 120 = 3 : 1); 700 nearer 840
    ],
)
def test_quantize_swing_delays_off_beat_lines(swing, expected):
    assert starts(quantize(OFF_GRID, 240, swing=swing)) == expected


def test_quantize_swing_off_beats_follow_offset():
    # Lines at 30 + 240k; k = 1 is the swung one: 270 + 80 = 350.
    assert starts(quantize([Note(330, 60, 10), Note(500, 60, 10)], 240, swing=2 / 3, offset_ticks=30)) == [350, 510]


def test_quantize_ends_snaps_ends_and_keeps_at_least_one_cell():
    # Each end goes to its nearest line after the start's line: 110 -> 240 (after 0), 350 -> 480
    # (after 240), 570 -> 720 (after 480; 480 itself is not after it), 750 -> 960 (after 720).
    result = quantize(OFF_GRID, 240, quantize_ends=True)
    assert [(n.start_tick, n.end_tick) for n in result] == [(0, 240), (240, 480), (480, 720), (720, 960)]
    long_note = quantize([Note(10, 60, 500)], 240, quantize_ends=True)[0]
    assert (long_note.start_tick, long_note.end_tick) == (0, 480)  # end 510 -> 480


def test_quantize_ends_half_strength_never_below_one_tick():
    # Start 230 -> 235 (half of +10); end 231 -> its line after 240 is 480: 231 + round(0.5 * 249) = 356.
    note = quantize([Note(230, 60, 1)], 240, strength=0.5, quantize_ends=True)[0]
    assert (note.start_tick, note.end_tick) == (235, 356)


def test_quantize_clamps_at_tick_zero():
    # Offset 300 on a 480 grid: lines at -180, 300, …; tick 0 is nearer -180 and stays at 0.
    assert starts(quantize([Note(0, 60, 10)], 480, offset_ticks=300)) == [0]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"grid_ticks": 0}, ValueError, "grid_ticks must be >= 1"),
        ({"grid_ticks": 1.5}, TypeError, "grid_ticks must be an int"),
        ({"strength": 1.5}, ValueError, "strength must be in range 0..1"),
        ({"strength": -0.1}, ValueError, "strength must be in range 0..1"),
        ({"strength": float("nan")}, ValueError, "strength must be in range 0..1"),
        ({"strength": "1"}, TypeError, "strength must be a number"),
        ({"swing": 1.01}, ValueError, "swing must be in range 0..1"),
        ({"swing": True}, TypeError, "swing must be a number"),
        ({"quantize_ends": 1}, TypeError, "quantize_ends must be a bool"),
        ({"offset_ticks": 2.0}, TypeError, "offset_ticks must be an int"),
    ],
)
def test_quantize_rejects_bad_arguments(kwargs, error, message):
    arguments = {"grid_ticks": 240, **kwargs}
    grid = arguments.pop("grid_ticks")
    with pytest.raises(error, match=f"^{message}$"):
        quantize(OFF_GRID, grid, **arguments)


def test_quantize_rejects_non_notes():
    with pytest.raises(TypeError, match="^notes must be Note values$"):
        quantize([(0, 60, 10)], 240)


notes_strategy = st.lists(
    st.builds(
        Note,
        start_tick=st.integers(0, 20_000),
        pitch=st.integers(0, 127),
        duration_ticks=st.integers(1, 3_000),
        velocity=st.integers(1, 127),
        channel=st.integers(0, 15),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(
    notes=notes_strategy,
    grid=st.integers(1, 2_000),
    swing=st.floats(0, 1),
    offset=st.integers(-3_000, 3_000),
    ends=st.booleans(),
)
def test_quantize_full_strength_is_idempotent(notes, grid, swing, offset, ends):
    once = quantize(notes, grid, swing=swing, offset_ticks=offset, quantize_ends=ends)
    assert quantize(once, grid, swing=swing, offset_ticks=offset, quantize_ends=ends) == once
    assert [n.pitch for n in once] == [n.pitch for n in notes]


def reference_quantize(note, grid, strength, swing, ends, offset):
    """The quantize rule written out with a plain search over grid lines."""
    delay = int(swing * grid / 2 + 0.5)
    lines = [offset + k * grid + (delay if k % 2 else 0) for k in range(-10 - (10_000 // grid), 30_000 // grid + 10)]

    def nearest(tick, after=None):
        usable = [line for line in lines if after is None or line > after]
        return min(usable, key=lambda line: (abs(line - tick), line))

    def toward(tick, line):
        return tick + int(np.floor(strength * (line - tick) + 0.5))

    start_line = nearest(note.start_tick)
    start = max(0, toward(note.start_tick, start_line))
    if not ends:
        return start, note.duration_ticks
    end = toward(note.end_tick, nearest(note.end_tick, after=start_line))
    return start, max(1, end - start)


@settings(max_examples=100, deadline=None)
@given(
    notes=st.lists(st.builds(Note, start_tick=st.integers(0, 10_000), pitch=st.just(60),
                             duration_ticks=st.integers(1, 3_000)), max_size=10),
    grid=st.integers(12, 1_000),
    strength=st.floats(0, 1),
    swing=st.floats(0, 1),
    ends=st.booleans(),
    offset=st.integers(-2_000, 2_000),
)
def test_quantize_matches_the_rule_written_out(notes, grid, strength, swing, ends, offset):
    result = quantize(notes, grid, strength=strength, swing=swing, quantize_ends=ends, offset_ticks=offset)
    for before, after in zip(notes, result):
        assert (after.start_tick, after.duration_ticks) == reference_quantize(before, grid, strength, swing, ends, offset)


@settings(max_examples=200, deadline=None)
@given(notes=notes_strategy, grid=st.integers(1, 2_000), strength=st.floats(0, 1), ends=st.booleans())
def test_quantize_moves_each_start_at_most_half_a_cell(notes, grid, strength, ends):
    for before, after in zip(notes, quantize(notes, grid, strength=strength, quantize_ends=ends)):
        assert abs(after.start_tick - before.start_tick) <= grid / 2 + 0.5
        assert after.duration_ticks >= 1
        if not ends:
            assert after.duration_ticks == before.duration_ticks


# --- Transpose ---------------------------------------------------------------------------


def test_transpose_chromatic_leaves_drums_alone():
    notes = [Note(0, 60, 10), Note(10, 64, 10, channel=3), Note(0, 36, 10, channel=9)]
    assert [n.pitch for n in transpose(notes, 5)] == [65, 69, 36]
    assert [n.pitch for n in transpose(notes, -12)] == [48, 52, 36]
    assert transpose(notes, 5)[1].channel == 3


def test_transpose_out_of_range_raises_exact_message():
    with pytest.raises(ValueError, match=r"^transposed pitch out of range 0\.\.127$"):
        transpose([Note(0, 120, 10)], 8)
    with pytest.raises(ValueError, match=r"^transposed pitch out of range 0\.\.127$"):
        transpose([Note(0, 3, 10)], -4)
    with pytest.raises(TypeError, match="^semitones must be an int$"):
        transpose([], 1.0)
    assert [n.pitch for n in transpose([Note(0, 120, 10), Note(0, 127, 10, channel=9)], 7)] == [127, 127]


@settings(max_examples=200, deadline=None)
@given(notes=notes_strategy, semitones=st.integers(-127, 127))
def test_transpose_up_then_down_is_identity(notes, semitones):
    try:
        moved = transpose(notes, semitones)
    except ValueError:
        return  # some note would leave 0..127
    assert transpose(moved, -semitones) == tuple(notes)


def test_transpose_in_scale_c_major():
    # C D E B -> +2 steps: E F G D; -1 step: B(59) C D A.
    notes = melody((60, 1), (62, 1), (64, 1), (71, 1))
    assert [n.pitch for n in transpose_in_scale(notes, 2, Key(0))] == [64, 65, 67, 74]
    assert [n.pitch for n in transpose_in_scale(notes, -1, Key(0))] == [59, 60, 62, 69]
    assert [n.pitch for n in transpose_in_scale(notes, 7, Key(0))] == [72, 74, 76, 83]  # 7 steps = octave


def test_transpose_in_scale_a_minor_and_dorian():
    # A minor: A(57) +2 -> C(60); G(67) +2 -> B(71); E(64) -3 -> B(59).
    notes = [Note(0, 57, 10), Note(0, 67, 10), Note(0, 64, 10)]
    assert [n.pitch for n in transpose_in_scale(notes[:2], 2, Key(9, "minor"))] == [60, 71]
    assert [n.pitch for n in transpose_in_scale(notes[2:], -3, Key(9, "minor"))] == [59]
    # D dorian: D E F G A B C; F(65) +1 -> G(67), A(69) +1 -> B natural (71).
    assert [n.pitch for n in transpose_in_scale([Note(0, 65, 1), Note(0, 69, 1)], 1, Key(2, "dorian"))] == [67, 71]


def test_transpose_in_scale_out_of_scale_notes_keep_their_offset():
    # C major. C#(61) sits 1 above C and 1 below D: the tie goes to C, offset +1.
    # +1 step: C -> D, so C# -> D# (63). Eb(63): tie between D and E -> D, offset +1; +1: E+1 = F(65).
    # F#(66): tie between F and G -> F, +1 -> G + 1 = G#(68).
    notes = [Note(0, 61, 1), Note(0, 63, 1), Note(0, 66, 1)]
    assert [n.pitch for n in transpose_in_scale(notes, 1, Key(0))] == [63, 65, 68]
    # A harmonic minor (A B C D E F G#): G(67) is 2 above F and 1 below G#: nearest G#, offset -1.
    # +1 step: G# -> A(69), so G -> G#(68).
    assert [n.pitch for n in transpose_in_scale([Note(0, 67, 1)], 1, Key(9, "harmonic_minor"))] == [68]


def test_transpose_in_scale_chromatic_key_is_chromatic_transposition():
    notes = melody((60, 1), (61, 1), (70, 1))
    assert transpose_in_scale(notes, 5, Key(0, "chromatic")) == transpose(notes, 5)


def test_transpose_in_scale_leaves_drums_and_checks_range():
    assert transpose_in_scale([Note(0, 36, 1, channel=9)], 3, Key(0))[0].pitch == 36
    with pytest.raises(ValueError, match=r"^transposed pitch out of range 0\.\.127$"):
        transpose_in_scale([Note(0, 127, 1)], 1, Key(0))  # G9 -> A9 = 129
    with pytest.raises(TypeError, match="^key must be a Key$"):
        transpose_in_scale([], 1, "C major")
    with pytest.raises(TypeError, match="^steps must be an int$"):
        transpose_in_scale([], 0.5, Key(0))


@settings(max_examples=200, deadline=None)
@given(
    tonic=st.integers(0, 11),
    mode=st.sampled_from(sorted(MODE_INTERVALS)),
    degrees=st.lists(st.integers(0, 127), max_size=20),
    steps=st.integers(-40, 40),
)
def test_transpose_in_scale_up_then_down_restores_scale_notes(tonic, mode, degrees, steps):
    key = Key(tonic, mode)
    pitches = scale_pitches(key)
    notes = [Note(i, pitches[d % len(pitches)], 1) for i, d in enumerate(degrees)]
    try:
        moved = transpose_in_scale(notes, steps, key)
    except ValueError:
        return
    assert all(key.contains(n.pitch) for n in moved)
    assert transpose_in_scale(moved, -steps, key) == tuple(notes)


def test_snap_to_scale():
    c_major = Key(0)
    assert snap_to_scale(62, c_major) == 62  # already in the scale
    assert snap_to_scale(61, c_major) == 60  # C# between C and D: a tie goes down
    assert snap_to_scale(61, c_major, "up") == 62
    assert snap_to_scale(61, c_major, "down") == 60
    a_harmonic = Key(9, "harmonic_minor")
    assert snap_to_scale(67, a_harmonic) == 68  # G: G# is 1 away, F is 2
    assert snap_to_scale(67, a_harmonic, "down") == 65


def test_snap_to_scale_at_the_ends_of_the_midi_range():
    c_sharp_major = Key(1)  # C# D# F F# G# A# C: no G
    assert snap_to_scale(127, c_sharp_major) == 126  # G9: G#9 would be 128
    with pytest.raises(ValueError, match=r"^no scale pitch in range 0\.\.127 in that direction$"):
        snap_to_scale(127, c_sharp_major, "up")
    d_major = Key(2)  # no C
    assert snap_to_scale(0, d_major) == 1
    with pytest.raises(ValueError, match=r"^no scale pitch in range 0\.\.127 in that direction$"):
        snap_to_scale(0, d_major, "down")
    with pytest.raises(ValueError, match="^direction must be one of nearest, up, down$"):
        snap_to_scale(60, d_major, "sideways")
    with pytest.raises(ValueError, match=r"^pitch must be in range 0\.\.127$"):
        snap_to_scale(128, d_major)


def test_scale_pitches():
    assert scale_pitches(Key(0), 60, 72) == (60, 62, 64, 65, 67, 69, 71, 72)
    assert scale_pitches(Key(9, "minor"), 57, 69) == (57, 59, 60, 62, 64, 65, 67, 69)
    assert len(scale_pitches(Key(0))) == 75  # 10 full octaves of 7 + C10..G10 (5)
    with pytest.raises(ValueError, match="^high must be >= low$"):
        scale_pitches(Key(0), 70, 60)


def test_key_signatures_and_their_modes():
    from composer_app.core.theory import key_signature_of, key_signature_pitch_classes

    assert key_signature_of(Key.parse("A dorian")) == 1 == key_signature_of(Key.parse("D mixolydian"))
    assert key_signature_of(Key.parse("D minor")) == -1 and key_signature_of(Key.parse("E phrygian")) == 0
    assert key_signature_pitch_classes(2) == frozenset({2, 4, 6, 7, 9, 11, 1})  # D major: F# and C#
    assert key_signature_pitch_classes(-3) == Key.parse("Eb major").pitch_classes
    with pytest.raises(ValueError):
        key_signature_of(Key(0, "harmonic_minor"))


def test_modal_key_estimate_keeps_modes():
    from composer_app.core.theory import estimate_modal_key

    def hist(weights):
        h = np.zeros(12)
        for pc, w in weights.items():
            h[pc] += w
        return h

    # An A dorian tune: A centre, F sharp (the dorian sixth), no G sharp.
    dorian = hist({9: 8, 11: 3, 0: 4, 2: 3, 4: 5, 6: 2, 7: 2})
    assert estimate_modal_key(dorian).name == "A dorian"
    assert estimate_modal_key(dorian, key_signature=1).name == "A dorian"
    # A mixolydian: A centre, C sharp, G natural.
    mixolydian = hist({9: 8, 1: 4, 4: 5, 7: 3, 11: 2, 2: 3, 6: 1})
    assert estimate_modal_key(mixolydian).name == "A mixolydian"
    assert estimate_modal_key(hist({0: 6, 4: 4, 7: 5, 2: 2, 5: 1, 9: 1, 11: 1})).name == "C major"
    assert estimate_modal_key(np.zeros(12)) is None
