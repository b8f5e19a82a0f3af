"""Chords for a continuation's new bars: proposed by the shipped chord suggester, or the chord track's own."""

from __future__ import annotations

from composer_app.arrange.continuation_chords import chords_for_new_bars, with_new_bar_chords
from composer_app.arrange.suggest import chord_tone_rate
from composer_app.core.chords import chord_track_from_symbols
from composer_app.core.midifile import load_midi
from composer_app.core.theory import Key
from tests.conftest import RESOURCES


def _split(project):
    """The example melody's first four bars as the prompt, bars 5-8 as the 'candidate'."""
    bar = project.time_signatures.ticks_per_bar_at(0)
    notes = project.tracks[0].notes
    return bar, [n for n in notes if n.start_tick < 4 * bar], [n for n in notes if 4 * bar <= n.start_tick < 8 * bar]


def test_chords_are_proposed_for_the_new_bars_only_and_fit_them():
    project = load_midi(RESOURCES / "examples" / "c_major_melody.mid")
    bar, prompt, new = _split(project)
    got = chords_for_new_bars(project, prompt, new, 4 * bar, 8 * bar, valence=0.5, arousal=0.0)
    assert got is not None and got.proposed and (got.tonic_pc, got.minor) == (0, False)
    assert got.chords.covers(4 * bar, 8 * bar) and got.chords.events[0].start_tick == 4 * bar
    assert got.chords.end_tick == 8 * bar
    rate, count = chord_tone_rate(new, got.chords, project.time_signatures)
    assert count >= 6 and rate >= 0.85
    added = with_new_bar_chords(project, got)
    assert added.chords == got.chords and added.tracks == project.tracks
    # calm asks for a chord per bar, excited for more
    calm = chords_for_new_bars(project, prompt, new, 4 * bar, 8 * bar, arousal=-0.9)
    busy = chords_for_new_bars(project, prompt, new, 4 * bar, 8 * bar, arousal=0.9)
    assert all(e.start_tick % bar == 0 for e in calm.chords) and len(busy.chords) > len(calm.chords)


def test_bars_the_chord_track_covers_are_not_proposed_again():
    project = load_midi(RESOURCES / "examples" / "c_major_melody.mid")
    bar, prompt, new = _split(project)
    project = project.with_chords(chord_track_from_symbols(["C", "F", "G7", "C", "Am", "Dm", "G", "C"], bar))
    got = chords_for_new_bars(project, prompt, new, 4 * bar, 8 * bar)
    assert not got.proposed and got.symbols == ["Am", "Dm", "G", "C"]
    assert with_new_bar_chords(project, got) is project


def test_the_key_of_the_candidate_is_used_when_the_project_has_none():
    project = load_midi(RESOURCES / "examples" / "a_minor_melody.mid")
    bar, prompt, new = _split(project)
    project = project.__class__(tracks=project.tracks, ticks_per_quarter=project.ticks_per_quarter,
                                time_signatures=project.time_signatures)  # no key
    got = chords_for_new_bars(project, prompt, new, 4 * bar, 8 * bar, key=Key(9, "minor"))
    assert (got.tonic_pc, got.minor) == (9, True)
    assert chords_for_new_bars(project, prompt, [], 4 * bar, 8 * bar) is None


def test_the_text_has_one_entry_per_bar_with_a_repeat_sign_for_a_held_chord():
    from composer_app.arrange.continuation_chords import NewBarChords
    from composer_app.core.chords import Chord, ChordEvent, ChordTrack

    bar = 1920
    events = [ChordEvent(Chord.parse("C"), 0, 2 * bar), ChordEvent(Chord.parse("F"), 2 * bar, bar // 2),
              ChordEvent(Chord.parse("G7"), 2 * bar + bar // 2, bar // 2)]
    chords = NewBarChords(ChordTrack(tuple(events)), 0, 5 * bar, proposed=True, bar_starts=(bar, 2 * bar, 3 * bar, 4 * bar))
    assert chords.text() == "C | % | F G7 | – | –"
