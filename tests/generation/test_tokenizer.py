"""The token encoding: exact round trips, polyphony, triplets, meters, transposition, grammar."""

import numpy as np
import pytest

from composer_app.generation import tokenizer as tk


def _sorted(notes):
    notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    return notes[np.lexsort((notes[:, 2], notes[:, 0]))]


def test_round_trip_melody_with_sixteenths_and_triplets():
    # start, duration, pitch on the 12-per-quarter grid: 16ths (3), 8th triplets (4), 16th triplets (2)
    notes = [(0, 3, 60), (3, 3, 62), (6, 6, 64), (12, 4, 65), (16, 4, 67), (20, 4, 69), (24, 2, 71), (26, 2, 72), (28, 2, 71),
             (36, 12, 67), (48, 48, 60)]
    tokens, bars = tk.notes_to_tokens(np.array(notes), [(0, 4, 4)])
    decoded = tk.tokens_to_notes(tokens)
    assert np.array_equal(decoded.notes, _sorted(notes))
    assert decoded.time_signatures == [(0, 4, 4)]
    assert len(bars) == 2 and tokens[bars[1]] == tk.BAR
    assert tk.grammar_errors(tokens) == []


def test_round_trip_polyphony_chords_and_overlaps():
    notes = [(0, 48, 48), (0, 24, 55), (0, 12, 64), (0, 12, 67), (12, 12, 65), (24, 24, 52), (24, 8, 72), (48, 48, 43), (60, 6, 74)]
    tokens, _ = tk.notes_to_tokens(np.array(notes), [(0, 4, 4)])
    assert np.array_equal(tk.tokens_to_notes(tokens).notes, _sorted(notes))
    assert tk.grammar_errors(tokens) == []


def test_round_trip_meter_changes_on_bar_lines_and_compound_meters():
    # two bars of 6/8 (36 steps each), then 3/4 (36 steps), then 2/2 (48 steps)
    ts = [(0, 6, 8), (72, 3, 4), (108, 2, 2)]
    notes = [(0, 18, 67), (18, 6, 69), (24, 12, 71), (36, 36, 72), (72, 12, 60), (84, 24, 62), (108, 24, 64), (132, 24, 65)]
    tokens, bars = tk.notes_to_tokens(np.array(notes), ts)
    decoded = tk.tokens_to_notes(tokens)
    assert np.array_equal(decoded.notes, _sorted(notes))
    assert decoded.time_signatures == ts
    assert decoded.bar_starts == [0, 36, 72, 108]


def test_velocity_written_only_when_its_bin_changes():
    notes = np.array([(0, 12, 60), (12, 12, 62), (24, 12, 64)])
    tokens, _ = tk.notes_to_tokens(notes, velocities=[100, 100, 40])
    assert sum(tk.token_class(t) == "VEL" for t in tokens) == 2
    decoded = tk.tokens_to_notes(tokens)
    assert [tk.velocity_bin(v) for v in decoded.velocities] == [tk.velocity_bin(100), tk.velocity_bin(100), tk.velocity_bin(40)]


def test_empty_bars_are_kept():
    tokens, bars = tk.notes_to_tokens(np.array([(0, 12, 60), (144, 12, 62)]), [(0, 4, 4)])
    assert len(bars) == 4
    assert np.array_equal(tk.tokens_to_notes(tokens).notes, [[0, 12, 60], [144, 12, 62]])


def test_off_grid_values_round_to_the_nearest():
    notes = tk.to_grid(np.array([(0, 479, 60), (121, 241, 62)]), 480)
    assert notes.tolist() == [[0, 12, 60], [3, 6, 62]]
    tokens, _ = tk.notes_to_tokens(np.array([(0, 26, 60)]))  # 26 is not a duration: nearest is 27
    assert tk.tokens_to_notes(tokens).notes[0, 1] == 27


def test_controls_describe_each_bar():
    quarters = [(i * 12, 12, 60 + i % 5) for i in range(4)]
    sixteenths = [(48 + i * 3, 3, 72) for i in range(16)]
    controls = tk.compute_bar_controls(np.array(quarters + sixteenths), tk.bar_lines([(0, 4, 4)], 96))
    assert controls[0].density == tk.density_bin(1.0)
    assert controls[1].density == tk.density_bin(4.0)
    assert controls[1].register > controls[0].register


def test_key_estimate_major_and_minor():
    c_major = np.array([(i * 12, 12, p) for i, p in enumerate([60, 64, 67, 72, 67, 64, 65, 62, 60])])
    a_minor = np.array([(i * 12, 12, p) for i, p in enumerate([57, 60, 64, 69, 64, 60, 62, 59, 57, 56, 57])])
    assert tk.estimate_key_index(c_major) == 0  # C major
    assert tk.estimate_key_index(a_minor) == 2 * 9 + 1  # A minor


def test_transposition_moves_pitches_and_keys():
    tokens, _ = tk.notes_to_tokens(np.array([(0, 12, 60), (12, 12, 64)]))
    up = tk.transpose_tokens(np.array(tokens), 2)
    decoded = tk.tokens_to_notes(up)
    assert decoded.notes[:, 2].tolist() == [62, 66]
    assert decoded.controls[0].key == (tk.tokens_to_notes(tokens).controls[0].key + 4) % 24
    assert tk.transpose_tokens(np.array(tokens), 60) is None  # out of range


def test_grammar_checker_finds_backward_positions():
    tokens, _ = tk.notes_to_tokens(np.array([(0, 12, 60), (12, 12, 62)]))
    bad = list(tokens)
    i = bad.index(tk.POS_BASE + 12)
    bad[i] = tk.POS_BASE + 0
    assert tk.grammar_errors(bad)


def test_unsupported_meter_is_refused():
    with pytest.raises(ValueError, match="unsupported time signature"):
        tk.notes_to_tokens(np.array([(0, 12, 60)]), [(0, 15, 16)])


def test_unison_of_two_voices_keeps_the_longer_note():
    tokens, _ = tk.notes_to_tokens(np.array([(0, 12, 60), (0, 24, 60), (0, 12, 64)]))
    assert tk.tokens_to_notes(tokens).notes.tolist() == [[0, 24, 60], [0, 12, 64]]
    assert tk.grammar_errors(tokens) == []


def test_control_tokens_measure_what_core_attributes_measures():
    from composer_app.core.attributes import compute_attributes
    from composer_app.core.note import Note

    rng = np.random.default_rng(0)
    starts = np.sort(rng.integers(0, 4 * 48, 60))
    notes = np.array([(s, int(rng.integers(1, 24)), int(rng.integers(48, 84))) for s in starts])
    bars = tk.bar_lines([(0, 4, 4)], 4 * 48)
    controls = tk.compute_bar_controls(notes, bars)
    core_notes = [Note(int(s), int(p), int(d)) for s, d, p in notes]
    for (start, length, _, _), control in zip(bars, controls):
        attributes = compute_attributes(core_notes, tk.GRID_TICKS_PER_QUARTER, start_tick=start, end_tick=start + length)
        assert control.density == tk.density_bin(attributes.note_density)
        assert control.register == tk.register_bin(attributes.pitch_mean)
