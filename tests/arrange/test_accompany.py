"""Accompaniment in a style: patterns on the metre, voicings that play the chords, mood defaults."""

from __future__ import annotations

import pytest

from composer_app.arrange.accompany import (
    STYLE_NAMES,
    accompany,
    accompany_project,
    chords_for_project,
    default_style,
    free_channels,
    is_polyphonic,
    voice_chord,
)
from composer_app.core.chords import Chord, chord_track_from_symbols
from composer_app.core.midifile import load_midi
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.timing import TimeSignatureChange, TimeSignatureMap
from composer_app.core.track import Track

TPQ = 480
BAR = 4 * TPQ
FOUR_FOUR = TimeSignatureMap(ticks_per_quarter=TPQ)
THREE_FOUR = TimeSignatureMap([TimeSignatureChange(0, 3, 4)], TPQ)
PROGRESSION = chord_track_from_symbols(["C", "Am", "Dm7", "G7"], BAR)


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_every_style_plays_only_chord_tones_and_the_bass_plays_roots_or_fifths(style):
    result = accompany(PROGRESSION, FOUR_FOUR, style)
    assert result.style == style
    assert result.tracks, style
    for track in result.tracks:
        assert track.notes, (style, track.name)
        for note in track.notes:
            event = PROGRESSION.at(note.start_tick)
            assert event is not None
            assert note.end_tick <= event.end_tick, (style, track.name, note)
            if track.name.startswith("Bass"):
                assert note.pitch % 12 in {event.chord.bass, (event.chord.root_pc + 7) % 12}
            else:
                assert note.pitch % 12 in event.chord.pitch_classes


def test_waltz_puts_the_bass_on_one_and_chords_on_two_and_three():
    chords = chord_track_from_symbols(["C", "G7"], 3 * TPQ)
    pattern, bass = accompany(chords, THREE_FOUR, "waltz").tracks
    assert sorted({n.start_tick for n in bass.notes}) == [0, 3 * TPQ]
    assert sorted({n.start_tick for n in pattern.notes}) == [TPQ, 2 * TPQ, 4 * TPQ, 5 * TPQ]
    assert all(len([n for n in pattern.notes if n.start_tick == t]) == 3 for t in (TPQ, 2 * TPQ))
    assert bass.program == 42 and pattern.program == 0  # cello under a piano by default


def test_alberti_goes_low_high_middle_high_in_eighths():
    pattern = accompany(chord_track_from_symbols(["C"], BAR), FOUR_FOUR, "alberti").tracks[0]
    first_four = [n.pitch for n in pattern.notes[:4]]
    low, middle, high = sorted(set(first_four))
    assert first_four == [low, high, middle, high]
    assert [n.start_tick for n in pattern.notes[:4]] == [0, 240, 480, 720]


def test_pad_sustains_each_chord_once():
    pattern = accompany(PROGRESSION, FOUR_FOUR, "pad").tracks[0]
    assert sorted({n.start_tick for n in pattern.notes}) == [0, BAR, 2 * BAR, 3 * BAR]
    assert all(n.duration_ticks == BAR for n in pattern.notes)
    assert pattern.program == 48


def test_voicings_move_smoothly():
    previous = voice_chord(Chord.parse("C"), None, 52, 74, 3)
    nxt = voice_chord(Chord.parse("F"), previous, 52, 74, 3)
    assert sum(abs(a - b) for a, b in zip(previous, nxt)) <= 3  # C E G -> C F A


def test_mood_sets_the_default_style_dynamics_and_rhythm():
    assert default_style(0.0, -0.8) == "pad"
    assert default_style(0.5, 0.0, 3) == "waltz"
    assert default_style(-0.6, 0.8) == "block"
    assert default_style(0.6, 0.8) == "alberti"
    assert default_style(0.2, 0.1) == "arpeggio"
    calm = accompany(PROGRESSION, FOUR_FOUR, "arpeggio", arousal=-0.3).tracks[0]
    excited = accompany(PROGRESSION, FOUR_FOUR, "arpeggio", arousal=0.9).tracks[0]
    assert len(excited.notes) == 2 * len(calm.notes)
    assert sum(n.velocity for n in excited.notes) / len(excited.notes) > sum(n.velocity for n in calm.notes) / len(calm.notes) + 20


def test_instrument_overrides_and_unknown_style():
    pattern, bass = accompany(PROGRESSION, FOUR_FOUR, "waltz", program=0, bass_program=42, channel=3, bass_channel=4).tracks
    assert (pattern.program, pattern.channel, bass.program, bass.channel) == (0, 3, 42, 4)
    with pytest.raises(ValueError, match="unknown style 'polka'; expected one of block, arpeggio"):
        accompany(PROGRESSION, FOUR_FOUR, "polka")


def test_free_channels_skip_used_ones_and_drums():
    tracks = [Track("a", channel=0, notes=[Note(0, 60, 10)]), Track("b", channel=1), Track("drums", channel=9)]
    assert free_channels(tracks, 3) == (2, 3, 4)


def test_chords_come_from_the_project_or_are_estimated(resources_dir):
    waltz = load_midi(resources_dir / "examples" / "two_track_waltz.mid")
    assert is_polyphonic([n for t in waltz.tracks for n in t.notes])
    estimated = chords_for_project(waltz)
    assert estimated.symbols()[:2] == ["G", "D7"]
    own = waltz.with_chords(PROGRESSION)
    assert chords_for_project(own) == PROGRESSION
    result = accompany_project(own, "block")
    assert {t.channel for t in result.tracks}.isdisjoint({t.channel for t in waltz.tracks})


def test_a_melody_gets_suggested_chords_and_an_accompaniment_below_it(resources_dir):
    melody = load_midi(resources_dir / "examples" / "c_major_melody.mid")
    result = accompany_project(melody, "arpeggio")
    assert len(result.chords) >= 8
    assert result.chords.events[0].chord.symbol() == "C"
    lowest_melody = sorted(n.pitch for n in melody.tracks[0].notes)[len(melody.tracks[0].notes) // 10]
    assert max(n.pitch for n in result.tracks[0].notes) < lowest_melody


def test_empty_project_gets_nothing():
    assert accompany_project(Project()).tracks == ()
