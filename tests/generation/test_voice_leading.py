"""Voice-leading counts: parallel fifths/octaves, crossings and ranges, on hand-made grids."""

from __future__ import annotations

import numpy as np

from composer_app.generation.voice_leading import count_errors


def grid(*columns):
    return np.array(columns, dtype=int).T  # columns of (S, A, T, B)


def test_parallel_fifths_and_octaves_need_both_voices_to_move():
    # C major -> D minor with S and B in parallel octaves and T/B in parallel fifths.
    counts = count_errors(grid((72, 64, 55, 48), (74, 65, 57, 50)))
    assert counts.transitions == 1
    assert counts.parallel_octaves == 1  # S-B: C -> D
    assert counts.parallel_fifths == 1  # T-B: G/C -> A/D
    # The same fifth held in one voice (oblique motion) is not parallel.
    held = count_errors(grid((72, 64, 55, 48), (72, 65, 55, 48)))
    assert held.parallel_fifths == 0 and held.parallel_octaves == 0


def test_crossings_ranges_and_rests():
    counts = count_errors(grid((72, 64, 55, 48), (72, 54, 57, 36)))  # alto under tenor and below G3; bass below E2
    assert counts.crossings == 1 and counts.range_violations == 2
    assert count_errors(grid((72, 64, 55, 48), (-1, 64, 55, 48))).transitions == 0  # a rest is no transition
    per_100 = counts.per_100()
    assert per_100["crossings"] == 100.0 and per_100["parallel_fifths_octaves"] == 0.0
