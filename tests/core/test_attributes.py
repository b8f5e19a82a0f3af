"""Musical attributes: hand-computed values on small examples (the arithmetic is in the comments)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer_app.core.attributes import (
    ATTRIBUTE_NAMES,
    EMPTY_ATTRIBUTES,
    Attributes,
    compute_attributes,
    compute_attributes_from_arrays,
)
from composer_app.core.note import Note
from composer_app.core.theory import estimate_key

TPQ = 480
BAR = 4 * TPQ  # a 4/4 bar


def melody(*pitch_beats, start_tick=0, channel=0, gap_beats=0.0):
    """Consecutive notes (pitch, beats); each sounds for its length minus ``gap_beats``."""
    notes, tick = [], start_tick
    for pitch, beats in pitch_beats:
        length = round(beats * TPQ)
        notes.append(Note(tick, pitch, length - round(gap_beats * TPQ), channel=channel))
        tick += length
    return notes


# --- Shape of the API -----------------------------------------------------------------------


def test_attribute_names_match_the_dataclass_fields():
    attributes = compute_attributes([Note(0, 60, 480)], TPQ)
    assert tuple(attributes.as_dict()) == ATTRIBUTE_NAMES
    assert all(isinstance(v, float) for v in attributes.as_dict().values())
    np.testing.assert_array_equal(attributes.as_array(), list(attributes.as_dict().values()))
    with pytest.raises(AttributeError):
        attributes.note_density = 2.0  # frozen


def test_empty_list_gives_defined_attributes():
    assert compute_attributes([], TPQ) == EMPTY_ATTRIBUTES
    assert compute_attributes([], TPQ, start_tick=0, end_tick=BAR) == EMPTY_ATTRIBUTES
    assert EMPTY_ATTRIBUTES.consonance == 1.0
    assert EMPTY_ATTRIBUTES.major_strength == 0.0
    assert EMPTY_ATTRIBUTES.note_density == 0.0


def test_notes_outside_the_span_are_ignored():
    notes = [Note(0, 60, 480), Note(BAR, 72, 480)]
    assert compute_attributes(notes, TPQ, start_tick=2 * BAR, end_tick=3 * BAR) == EMPTY_ATTRIBUTES
    # Only the end given, every onset at or after it: nothing in the span.
    assert compute_attributes([Note(BAR, 60, 10)], TPQ, end_tick=BAR) == EMPTY_ATTRIBUTES
    # The bar-1 window sees only the C5 at tick 1920 (a note sounding in from before does not count).
    in_bar_1 = compute_attributes(notes + [Note(1800, 50, 600)], TPQ, start_tick=BAR, end_tick=2 * BAR)
    assert (in_bar_1.pitch_min, in_bar_1.pitch_max) == (72.0, 72.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="^end_tick must be > start_tick$"):
        compute_attributes([Note(0, 60, 1)], TPQ, start_tick=BAR, end_tick=BAR)
    with pytest.raises(ValueError, match="^ticks_per_quarter must be >= 1$"):
        compute_attributes([], 0)
    with pytest.raises(ValueError, match="^start_tick must be >= 0$"):
        compute_attributes([], TPQ, start_tick=-1)
    with pytest.raises(TypeError, match="^notes must be Note values$"):
        compute_attributes([(0, 60, 1)], TPQ)


# --- Density and rhythmic activity ------------------------------------------------------------

# One 4/4 bar: quarter, two eighths, dotted quarter, rest of an eighth... onsets at ticks
# 0, 480, 720, 960, 1680 (beats 1, 2, 2&, 3, 4&).
RHYTHM = [Note(0, 60, 480), Note(480, 62, 240), Note(720, 64, 240), Note(960, 65, 720), Note(1680, 67, 240)]


def test_density_and_activity_of_a_known_rhythm():
    attributes = compute_attributes(RHYTHM, TPQ, start_tick=0, end_tick=BAR)
    assert attributes.note_density == 5 / 4  # 5 onsets over 4 beats
    # 16th cells are 120 ticks; onsets fall in cells 0, 4, 6, 8, 14 of 16.
    assert attributes.rhythmic_activity == 5 / 16


def test_empty_bars_count_with_an_explicit_span():
    attributes = compute_attributes(RHYTHM, TPQ, start_tick=0, end_tick=2 * BAR)
    assert attributes.note_density == 5 / 8  # same 5 onsets over 8 beats
    assert attributes.rhythmic_activity == 5 / 32


def test_a_chord_counts_each_note_for_density_but_one_cell_for_activity():
    chord = [Note(0, 60, 480), Note(0, 64, 480), Note(0, 67, 480)]
    attributes = compute_attributes(RHYTHM + chord, TPQ, start_tick=0, end_tick=BAR)
    assert attributes.note_density == 8 / 4  # 5 + 3 notes
    assert attributes.rhythmic_activity == 5 / 16  # the chord shares cell 0


def test_default_span_runs_from_the_first_onsets_beat_to_the_beat_after_the_last_end():
    # First onset 500 -> span starts on beat 480; last end 1500 + 200 = 1700 -> span ends on 1920.
    # 3 beats, 12 cells; onsets 500 (cell 0: (500-480)/120 = 0.17), 1500 (cell 8.5 -> 8).
    attributes = compute_attributes([Note(500, 60, 100), Note(1500, 62, 200)], TPQ)
    assert attributes.note_density == 2 / 3
    assert attributes.rhythmic_activity == 2 / 12


def test_activity_counts_every_16th_cell_when_full():
    sixteenths = [Note(i * 120, 60, 120) for i in range(16)]
    attributes = compute_attributes(sixteenths, TPQ, start_tick=0, end_tick=BAR)
    assert attributes.rhythmic_activity == 1.0
    assert attributes.note_density == 4.0


# --- Register and dynamics -----------------------------------------------------------------


def test_register_and_velocity():
    notes = [Note(0, 48, 480, velocity=40), Note(480, 60, 480, velocity=80), Note(960, 79, 480, velocity=120)]
    attributes = compute_attributes(notes, TPQ)
    assert attributes.pitch_mean == (48 + 60 + 79) / 3
    assert (attributes.pitch_min, attributes.pitch_max) == (48.0, 79.0)
    assert attributes.velocity_mean == (40 + 80 + 120) / 3


def test_drums_count_for_timing_and_dynamics_but_not_for_pitch():
    notes = [Note(0, 60, 480, velocity=100), Note(0, 36, 60, velocity=50, channel=9), Note(240, 42, 60, channel=9)]
    attributes = compute_attributes(notes, TPQ, start_tick=0, end_tick=TPQ)
    assert attributes.note_density == 3.0  # 3 onsets in one beat
    assert attributes.rhythmic_activity == 2 / 4  # cells 0 and 2 of 4
    assert attributes.velocity_mean == (100 + 50 + 100) / 3
    assert (attributes.pitch_mean, attributes.pitch_min, attributes.pitch_max) == (60.0, 60.0, 60.0)
    assert attributes.articulation == 1.0  # the C alone: 480 / 480
    drums_only = compute_attributes(notes[1:], TPQ, start_tick=0, end_tick=TPQ)
    assert (drums_only.pitch_mean, drums_only.articulation, drums_only.consonance) == (0.0, 0.0, 1.0)


# --- Articulation ------------------------------------------------------------------------


def test_articulation_legato_vs_staccato():
    four_quarters = [(60, 1), (62, 1), (64, 1), (65, 1)]
    legato = compute_attributes(melody(*four_quarters), TPQ)
    assert legato.articulation == 1.0  # each note lasts its whole inter-onset interval
    # Staccato: each sounds 0.3 of a beat = 144 ticks of 480; the last looks to the span end,
    # ceil((1440 + 144) / 480) * 480 = 1920, so it is 144 / 480 too.
    staccato = compute_attributes(melody(*four_quarters, gap_beats=0.7), TPQ)
    assert staccato.articulation == pytest.approx(0.3)


def test_articulation_mixed_and_overlapping():
    # Durations 480, 240, 120, 600 every 480 ticks: 1, 0.5, 0.25, and the last, held past
    # the span end (end 1920): min(1, 600 / 480) = 1. Mean = 2.75 / 4.
    notes = [Note(0, 60, 480), Note(480, 62, 240), Note(960, 64, 120), Note(1440, 65, 600)]
    assert compute_attributes(notes, TPQ, start_tick=0, end_tick=BAR).articulation == 2.75 / 4
    # Overlapping legato (each note 720 ticks every 480) is capped at 1 ...
    overlapping = [Note(i * 480, 60 + i, 720) for i in range(4)]
    assert compute_attributes(overlapping, TPQ, start_tick=0, end_tick=BAR).articulation == 1.0
    # ... but the last note looks to the span end: by default the beat after its end,
    # ceil((1440 + 720) / 480) * 480 = 2400, so it is 720 / 960 = 0.75. Mean (3 + 0.75) / 4.
    assert compute_attributes(overlapping, TPQ).articulation == 3.75 / 4


def test_articulation_streams_are_channels():
    # A chord C E G for 360 ticks at 0, and a melody of two 120-tick notes at 0 and 240; span 0..480.
    chord = [Note(0, p, 360) for p in (60, 64, 67)]
    melody_ch1 = [Note(0, 72, 120, channel=1), Note(240, 74, 120, channel=1)]
    # Separate channels: chord notes look to the span end: 360 / 480 = 0.75 each; the melody
    # notes 120 / 240 = 0.5 each. Mean (3 * 0.75 + 2 * 0.5) / 5 = 0.65.
    separate = compute_attributes(chord + melody_ch1, TPQ, start_tick=0, end_tick=480)
    assert separate.articulation == pytest.approx(0.65)
    # All on channel 0: the chord's next onset is the melody's 240: min(1, 360 / 240) = 1 each.
    # Mean (3 * 1 + 2 * 0.5) / 5 = 0.8.
    merged = [n.with_channel(0) for n in melody_ch1]
    assert compute_attributes(chord + merged, TPQ, start_tick=0, end_tick=480).articulation == pytest.approx(0.8)


# --- Consonance --------------------------------------------------------------------------


def chord(*pitches, start=0, length=960):
    return [Note(start, p, length) for p in pitches]


def test_consonance_of_a_major_triad_vs_a_minor_second_cluster():
    # C E G: intervals 4, 7, 3, all consonant -> 1.
    assert compute_attributes(chord(60, 64, 67), TPQ).consonance == 1.0
    # C C# D: 1, 2, 1 semitones, all dissonant -> 0.
    assert compute_attributes(chord(60, 61, 62), TPQ).consonance == 0.0


def test_consonance_counts_interval_classes_fourths_consonant():
    # C E G Bb: C-E 4 ✓, C-G 7 ✓, C-Bb 10 ✗, E-G 3 ✓, E-Bb 6 ✗, G-Bb 3 ✓ -> 4 / 6.
    assert compute_attributes(chord(60, 64, 67, 70), TPQ).consonance == pytest.approx(4 / 6)
    assert compute_attributes(chord(60, 65), TPQ).consonance == 1.0  # perfect fourth
    assert compute_attributes(chord(48, 77), TPQ).consonance == 1.0  # an 11th folds to a fourth
    assert compute_attributes(chord(60, 66), TPQ).consonance == 0.0  # tritone
    assert compute_attributes(chord(60, 72, 60), TPQ).consonance == 1.0  # octave and unison


def test_consonance_is_weighted_by_overlap():
    # C held 0..960; D 0..240 (major second, overlap 240); E 480..960 (major third, overlap 480);
    # D and E do not overlap. Consonance = 480 / (240 + 480) = 2/3.
    notes = [Note(0, 60, 960), Note(0, 62, 240), Note(480, 64, 480)]
    assert compute_attributes(notes, TPQ).consonance == pytest.approx(2 / 3)


def test_consonance_overlaps_are_clipped_to_the_span():
    # C and C# held 0..1920, E 480..960. Span 0..1920: C-C# 1920 ✗, C-E 480 ✓, C#-E 480 ✓ (minor
    # third) -> 960 / 2880 = 1/3. Span 0..960: C-C# clipped to 960 -> 960 / 1920 = 1/2.
    notes = [Note(0, 60, 1920), Note(0, 61, 1920), Note(480, 64, 480)]
    assert compute_attributes(notes, TPQ, start_tick=0, end_tick=1920).consonance == pytest.approx(1 / 3)
    assert compute_attributes(notes, TPQ, start_tick=0, end_tick=960).consonance == pytest.approx(1 / 2)


def test_monophony_and_touching_notes_are_fully_consonant():
    # A chromatic line whose notes only touch (end == next start) has no sounding pair.
    assert compute_attributes([Note(i * 240, 60 + i, 240) for i in range(8)], TPQ).consonance == 1.0


# --- Mode (major_strength) ---------------------------------------------------------------

C_MAJOR_SCALE = melody(*[(p, 1) for p in (60, 62, 64, 65, 67, 69, 71, 72)])
C_MAJOR_MELODY = melody((60, 1), (64, 1), (67, 1), (64, 1), (65, 1), (62, 1), (60, 2))  # C E G E F D C
A_HARMONIC_MINOR_MELODY = melody(
    (69, 1), (71, 1), (72, 1), (74, 1), (76, 1), (77, 1), (80, 1), (81, 2), (80, 1), (76, 1), (69, 2)
)
A_MINOR_MELODY = melody((69, 1), (72, 1), (76, 2), (74, 1), (72, 1), (71, 1), (69, 2), (64, 1), (69, 2))


@pytest.mark.parametrize(
    ("notes", "sign"),
    [(C_MAJOR_SCALE, 1), (C_MAJOR_MELODY, 1), (A_HARMONIC_MINOR_MELODY, -1), (A_MINOR_MELODY, -1)],
    ids=["C major scale", "C major melody", "A harmonic minor melody", "A natural minor melody"],
)
def test_major_strength_sign(notes, sign):
    assert np.sign(compute_attributes(notes, TPQ).major_strength) == sign


def test_major_strength_is_best_major_minus_best_minor_correlation():
    for notes in (C_MAJOR_SCALE, C_MAJOR_MELODY, A_HARMONIC_MINOR_MELODY, A_MINOR_MELODY):
        correlations = estimate_key(notes).correlations  # 12 major keys, then 12 minor keys
        expected = max(correlations[:12]) - max(correlations[12:])
        assert compute_attributes(notes, TPQ).major_strength == pytest.approx(expected)
    # C major melody: histogram C 3, D 1, E 2, F 1, G 1 beats; best major C major (r = 0.909),
    # best minor A minor / E minor lower: clearly positive.
    assert compute_attributes(C_MAJOR_MELODY, TPQ).major_strength > 0.2


def test_major_strength_follows_mode_not_pitch_set_when_the_tonic_is_stressed():
    # The same seven pitch classes (C major = A natural minor), once centred on C, once on A.
    centred_on_c = melody((60, 2), (62, 1), (64, 2), (65, 1), (67, 2), (69, 1), (71, 1), (72, 2))
    centred_on_a = melody((57, 2), (59, 1), (60, 2), (62, 1), (64, 2), (65, 1), (67, 1), (69, 3))
    assert compute_attributes(centred_on_c, TPQ).major_strength > 0
    assert compute_attributes(centred_on_a, TPQ).major_strength < 0


def test_major_strength_neutral_for_flat_histograms():
    chromatic = [Note(i * 120, 60 + i, 120) for i in range(12)]  # every pitch class equally long
    assert compute_attributes(chromatic, TPQ).major_strength == 0.0


# --- Arrays entry point and properties ------------------------------------------------------

notes_strategy = st.lists(
    st.builds(
        Note,
        start_tick=st.integers(0, 8_000),
        pitch=st.integers(0, 127),
        duration_ticks=st.integers(1, 2_000),
        velocity=st.integers(1, 127),
        channel=st.sampled_from([0, 1, 9]),
    ),
    max_size=40,
)


def brute_force_consonance(notes, end_tick):
    """The consonance formula written out pair by pair."""
    pitched = [n for n in notes if n.channel != 9]
    consonant, total = 0, 0
    for i, a in enumerate(pitched):
        for b in pitched[i + 1 :]:
            overlap = min(a.end_tick, b.end_tick, end_tick) - max(a.start_tick, b.start_tick)
            if overlap > 0:
                total += overlap
                consonant += overlap if abs(a.pitch - b.pitch) % 12 in {0, 3, 4, 5, 7, 8, 9} else 0
    return consonant / total if total else 1.0


def brute_force_articulation(notes, end_tick):
    pitched = [n for n in notes if n.channel != 9]
    ratios = []
    for note in pitched:
        later = [m.start_tick for m in pitched if m.channel == note.channel and m.start_tick > note.start_tick]
        ioi = min(later, default=end_tick) - note.start_tick
        ratios.append(min(1.0, note.duration_ticks / ioi))
    return sum(ratios) / len(ratios) if ratios else 0.0


@settings(max_examples=150, deadline=None)
@given(notes=notes_strategy, start_beats=st.integers(0, 8), beats=st.integers(1, 12))
def test_vectorised_attributes_match_the_formulas_written_out(notes, start_beats, beats):
    start, end = start_beats * TPQ, (start_beats + beats) * TPQ
    attributes = compute_attributes(notes, TPQ, start_tick=start, end_tick=end)
    inside = [n for n in notes if start <= n.start_tick < end]
    assert attributes.consonance == pytest.approx(brute_force_consonance(inside, end))
    assert attributes.articulation == pytest.approx(brute_force_articulation(inside, end))
    assert attributes.note_density == pytest.approx(len(inside) / beats)
    cells = {(n.start_tick - start) // 120 for n in inside}
    assert attributes.rhythmic_activity == pytest.approx(len(cells) / (4 * beats))
    assert 0.0 <= attributes.rhythmic_activity <= 1.0
    assert -1.0 <= attributes.major_strength <= 1.0
    assert 0.0 <= attributes.consonance <= 1.0


@settings(max_examples=50, deadline=None)
@given(notes=notes_strategy)
def test_arrays_entry_point_agrees_with_notes(notes):
    arrays = [np.array([getattr(n, f) for n in notes], dtype=np.int64)
              for f in ("start_tick", "duration_ticks", "pitch", "velocity", "channel")]
    assert compute_attributes_from_arrays(*arrays, TPQ) == compute_attributes(notes, TPQ)


def test_arrays_entry_point_checks_lengths():
    with pytest.raises(ValueError, match="^note arrays must have equal lengths$"):
        compute_attributes_from_arrays([0], [1], [60], [100, 90], None, TPQ)
    assert isinstance(compute_attributes_from_arrays([0], [480], [60], [100], None, TPQ), Attributes)
