"""The VAE's melody representation: tokens on a 16th grid, segments, skyline, clip <-> segments."""

from __future__ import annotations

import numpy as np
import pytest

from composer_app.core.note import Note
from composer_app.generation import melody
from composer_app.generation.data import Piece


def test_notes_tokens_round_trip_and_rests():
    notes = np.array([[0, 4, 60], [4, 2, 62], [8, 4, 64], [20, 12, 67]])  # a rest from step 12 to 20
    tokens = melody.notes_to_tokens(notes[:, 0], notes[:, 1], notes[:, 2])
    assert tokens.shape == (melody.SEGMENT_STEPS,)
    assert tokens[0] == melody.NOTE_ON + 60 - melody.MIN_PITCH
    assert tokens[1] == melody.HOLD and tokens[12] == melody.NOTE_OFF
    np.testing.assert_array_equal(melody.tokens_to_notes(tokens), notes)


def test_skyline_keeps_the_top_line():
    # a held high note with a lower note starting under it: the lower one is dropped;
    # two notes at one onset: the higher wins
    tokens = melody.notes_to_tokens([0, 2, 8, 8], [8, 2, 4, 4], [72, 60, 64, 67])
    assert melody.note_set(tokens) == {(0, 8, 72), (8, 4, 67)}


def test_pitches_fold_into_the_range_by_octaves():
    tokens = melody.notes_to_tokens([0, 4], [4, 4], [24, 110])
    pitches = sorted(p for _, _, p in melody.note_set(tokens))
    assert pitches == [36, 86]


def test_exact_note_share_counts_onset_duration_and_pitch():
    a = melody.notes_to_tokens([0, 4, 8, 12], [4, 4, 4, 4], [60, 62, 64, 65])
    b = melody.notes_to_tokens([0, 4, 8, 12], [4, 4, 2, 4], [60, 62, 64, 66])  # one shorter, one other pitch
    assert melody.exact_note_share(a, a) == 1.0
    assert melody.exact_note_share(a, b) == 0.5


def test_clip_to_segments_cuts_two_bar_groups_and_back():
    tpq = 480
    notes = [Note(i * tpq, 60 + i % 12, tpq, 90) for i in range(20)]  # 5 bars of quarters
    segments, length_steps = melody.clip_to_segments(notes, tpq)
    assert segments.shape == (3, melody.SEGMENT_STEPS) and length_steps == 80
    rows = melody.segments_to_note_rows(segments, tpq)
    assert [(s, d, p) for s, d, p in rows] == [(n.start_tick, n.duration_ticks, n.pitch) for n in notes]


def test_segments_from_piece_keeps_bar_aligned_common_time_on_the_grid():
    tpq = 24
    rows = [(i * 12, 12, 60 + i % 5) for i in range(32)]  # 4 bars of 8ths in 4/4
    piece = Piece("x#1", np.array(rows, dtype=np.int32), np.array([[0, 4, 4]], dtype=np.int32), tpq)
    segments = melody.segments_from_piece(piece)
    assert len(segments) == 3  # windows at bars 1, 2, 3
    assert all((s >= melody.NOTE_ON).sum() == 16 for s in segments)
    waltz = Piece("x#2", piece.notes, np.array([[0, 3, 4]], dtype=np.int32), tpq)
    assert len(melody.segments_from_piece(waltz)) == 0
    triplets = Piece("x#3", np.array([(i * 8, 8, 60) for i in range(24)], dtype=np.int32), piece.time_signatures, tpq)
    assert len(melody.segments_from_piece(triplets)) == 0  # onsets off the 16th grid


def test_segment_attributes_match_core_attributes():
    tokens = melody.notes_to_tokens([0, 4, 8, 12, 16, 20, 24, 28], [4] * 8, [60, 64, 67, 72, 67, 64, 60, 55])
    attrs = melody.segment_attributes(tokens)
    assert attrs["note_density"] == pytest.approx(1.0)  # 8 onsets in 8 beats
    assert attrs["pitch_mean"] == pytest.approx(np.mean([60, 64, 67, 72, 67, 64, 60, 55]))
    assert attrs["major_strength"] > 0  # a C major arpeggio


def test_parallel_mode_moves_third_sixth_and_seventh_and_back():
    scale = melody.notes_to_tokens(range(0, 32, 4), [4] * 8, [60, 62, 64, 65, 67, 69, 71, 72])  # C major
    minor = melody.parallel_mode(scale)
    assert [int(p) for p in melody.tokens_to_notes(minor)[:, 2]] == [60, 62, 63, 65, 67, 68, 70, 72]  # C natural minor
    assert (melody.tokens_to_notes(minor)[:, :2] == melody.tokens_to_notes(scale)[:, :2]).all()  # same rhythm
    assert melody.segment_attributes(minor)["major_strength"] < 0 < melody.segment_attributes(scale)["major_strength"]
    assert (melody.parallel_mode(minor) == scale).all()
    fifths = melody.notes_to_tokens([0, 8, 16, 24], [8] * 4, [60, 67, 60, 67])  # no third, sixth or seventh
    assert melody.parallel_mode(fifths) is None
    assert melody.parallel_mode(np.full(32, melody.HOLD)) is None
