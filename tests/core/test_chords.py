"""Chord symbols and the chord track: parsing, spelling, validation, estimation, file round trips."""

from __future__ import annotations

import io
import json

import mido
import pytest
from hypothesis import given
from hypothesis import strategies as st

from composer_app.core import midifile, projectfile
from composer_app.core.chords import (
    EXTENSION_NAMES,
    QUALITIES,
    Chord,
    ChordEvent,
    ChordTrack,
    chord_track_from_symbols,
    diatonic_chords,
    estimate_chords,
    roman_numeral,
)
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.track import Track


@pytest.mark.parametrize(
    "text, root, quality, extensions, bass, pcs",
    [
        ("Am7/G", 9, "m7", (), 7, {9, 0, 4, 7}),
        ("C", 0, "maj", (), None, {0, 4, 7}),
        ("F#m7b5", 6, "m7b5", (), None, {6, 9, 0, 4}),
        ("Bbmaj9", 10, "maj7", (14,), None, {10, 2, 5, 9, 0}),
        ("G7(b9)", 7, "7", (13,), None, {7, 11, 2, 5, 8}),
        ("Dsus4", 2, "sus4", (), None, {2, 7, 9}),
        ("Cadd9", 0, "maj", (14,), None, {0, 4, 7, 2}),
        ("Ebm(maj7)", 3, "mmaj7", (), None, {3, 6, 10, 2}),
        ("E/G#", 4, "maj", (), 8, {4, 8, 11}),
        ("Bb-7", 10, "m7", (), None, {10, 1, 5, 8}),
        ("Bdim7", 11, "dim7", (), None, {11, 2, 5, 8}),
    ],
)
def test_parse_reads_lead_sheet_symbols(text, root, quality, extensions, bass, pcs):
    chord = Chord.parse(text)
    assert (chord.root_pc, chord.quality, chord.extensions, chord.bass_pc) == (root, quality, extensions, bass)
    assert chord.pitch_classes == frozenset(pcs)


@pytest.mark.parametrize("text", ["Am7/G", "C", "F#m7b5", "Bbmaj9", "G7(b9)", "E/G#", "Bb/Ab", "C13", "Dm11", "C6/9", "Ebm(maj7)"])
def test_format_writes_what_parse_read(text):
    assert Chord.parse(text).symbol() == text


@given(
    st.integers(0, 11),
    st.sampled_from(QUALITIES),
    st.sets(st.sampled_from(sorted(EXTENSION_NAMES)), max_size=2),
    st.one_of(st.none(), st.integers(0, 11)),
)
def test_symbol_round_trips_every_chord(root, quality, extensions, bass):
    chord = Chord(root, quality, tuple(extensions), bass)
    assert Chord.parse(chord.symbol()) == chord
    assert Chord.parse(chord.symbol(flats=True)) == chord
    assert Chord.parse(chord.symbol(flats=False)) == chord


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty chord symbol"),
        ("H7", "must start with a note name"),
        ("Cxyz", "unknown quality 'xyz'"),
        ("C7(b10)", "unknown extension 'b10'"),
        ("C/Q", "unknown quality '/Q'"),
        ("C/Bx", "bad bass note 'Bx'"),
        ("C" * 50, "longer than 40"),
    ],
)
def test_parse_refuses_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        Chord.parse(text)


def test_values_are_validated():
    with pytest.raises(ValueError, match="root_pc must be in range 0..11"):
        Chord(12)
    with pytest.raises(ValueError, match="quality must be one of"):
        Chord(0, "weird")
    with pytest.raises(TypeError, match="chord must be a Chord"):
        ChordEvent("C", 0, 10)
    with pytest.raises(ValueError, match="duration_ticks must be >= 1"):
        ChordEvent(Chord(0), 0, 0)
    with pytest.raises(ValueError, match="chords overlap at tick 100"):
        ChordTrack((ChordEvent(Chord(0), 0, 200), ChordEvent(Chord(7), 100, 100)))
    assert Chord(0, bass_pc=0).bass_pc is None  # C/C is C


def test_diatonic_chords_and_roman_numerals():
    c_major = diatonic_chords(0, minor=False)
    assert [c.symbol() for c in c_major] == ["C", "Dm", "Em", "F", "G", "Am", "Bdim"]
    assert [roman_numeral(c, 0, False) for c in diatonic_chords(0, False, sevenths=True)] == [
        "Imaj7", "ii7", "iii7", "IVmaj7", "V7", "vi7", "viiø7"]
    a_minor = diatonic_chords(9, minor=True)
    assert [roman_numeral(c, 9, True) for c in a_minor] == ["i", "ii°", "III", "iv", "V", "VI", "vii°"]
    assert roman_numeral(Chord.parse("Ab"), 0, False) == "bVI"


def test_track_editing_keeps_events_apart():
    track = chord_track_from_symbols(["C", "F", "-", "G7"], 1920)
    assert [(e.chord.symbol(), e.start_tick, e.duration_ticks) for e in track] == [
        ("C", 0, 1920), ("F", 1920, 3840), ("G7", 5760, 1920)]
    placed = track.placed(ChordEvent(Chord.parse("Am"), 960, 1920))
    assert [(e.chord.symbol(), e.start_tick, e.end_tick) for e in placed] == [
        ("C", 0, 960), ("Am", 960, 2880), ("F", 2880, 5760), ("G7", 5760, 7680)]
    assert placed.at(1000).chord.symbol() == "Am"
    assert placed.covers(0, 7680) and not track.without_span(100, 200).covers(0, 7680)
    assert track.transposed(2).symbols() == ["D", "G", "A7"]
    assert track.rescaled(480, 96).events[1].start_tick == 384


def _block(chord_text: str, start: int, length: int, octave: int = 4) -> list[Note]:
    chord = Chord.parse(chord_text)
    bass = 12 * (octave - 1) + chord.bass
    notes = [Note(start, bass, length)]
    for interval in chord.intervals:
        notes.append(Note(start, 12 * octave + chord.root_pc + interval, length))
    return notes


def test_estimate_chords_labels_block_chords_and_merges_repeats():
    tpq = 480
    symbols = ["C", "Am", "Dm7", "G7", "C/E", "F", "Bdim", "E"]
    notes = []
    for i, text in enumerate(symbols):
        notes += _block(text, i * 2 * tpq, tpq) + _block(text, (i * 2 + 1) * tpq, tpq)
    track = estimate_chords(notes, tpq)
    assert track.symbols() == symbols
    assert [e.duration_ticks for e in track] == [2 * tpq] * len(symbols)


def test_estimate_chords_sees_through_a_passing_tone():
    tpq = 480
    notes = _block("G", 0, 2 * tpq) + [Note(0, 79, tpq // 2), Note(tpq // 2, 81, tpq // 2 // 2), Note(tpq, 83, tpq)]
    assert estimate_chords(notes, 2 * tpq).symbols() == ["G"]


def test_estimate_chords_ignores_drums_and_silence():
    assert estimate_chords([Note(0, 36, 480, channel=9)], 480).symbols() == []
    notes = _block("F", 0, 480) + _block("C", 1920, 480)
    track = estimate_chords(notes, 480)
    assert [(e.chord.symbol(), e.start_tick) for e in track] == [("F", 0), ("C", 1920)]


def test_chords_survive_project_files_and_old_files_still_load(tmp_path):
    project = Project(tracks=(Track(notes=[Note(0, 60, 480)]),), chords=chord_track_from_symbols(["Am7/G", "D7(#11)"], 960))
    path = tmp_path / "song.composer"
    projectfile.save_project(project, path)
    assert '[0, 960, "Am7/G"]' in path.read_text()
    assert projectfile.load_project(path) == project
    document = json.loads(path.read_text())
    del document["chords"]  # a file written before chord tracks existed
    assert projectfile.project_from_dict(document).chords == ChordTrack()


@pytest.mark.parametrize(
    "chords, message",
    [
        ([[0, 960, "Xm"]], r"chords\[0\]: cannot read a chord"),
        ([[0, 960]], r"chords\[0\]: must be \[start tick, duration ticks, chord symbol\]"),
        ([[-5, 960, "C"]], r"chords\[0\]: start_tick must be >= 0"),
        ([[0, 960, "C"], [480, 960, "G"]], "chords: chords overlap at tick 480"),
        ("C G", "chords: must be a list"),
    ],
)
def test_bad_chords_in_a_project_file_name_the_field(chords, message):
    document = projectfile.project_to_dict(Project())
    document["chords"] = chords
    with pytest.raises(projectfile.ProjectFileError, match=message):
        projectfile.load_project_bytes(json.dumps(document).encode(), "song.composer")


def test_midi_export_has_a_marker_track_and_round_trips_the_chords():
    project = Project(tracks=(Track("Melody", notes=[Note(0, 60, 480)]),), chords=chord_track_from_symbols(["C", "G/B", "Am"], 1920))
    data = midifile.project_to_midi_bytes(project)
    markers = [(m.type, m.text) for m in mido.MidiFile(file=io.BytesIO(data)).tracks[1] if m.type == "marker"]
    assert markers == [("marker", "C"), ("marker", "G/B"), ("marker", "Am")]
    loaded = midifile.load_midi_bytes(data)
    assert loaded.chords == project.chords
    assert [t.name for t in loaded.tracks] == ["Melody"]  # the marker track is not a note track


def test_chord_markers_are_not_project_markers_and_a_daws_chord_markers_are_read():
    project = Project(tracks=(Track("Melody", notes=[Note(0, 60, 480)]),), chords=chord_track_from_symbols(["C", "F"], 1920))
    assert midifile.load_midi_bytes(midifile.project_to_midi_bytes(project)).markers == ()
    # A file from elsewhere: chords only as markers on a track named "Chords".
    file = mido.MidiFile(ticks_per_beat=480)
    chords = mido.MidiTrack([mido.MetaMessage("track_name", name="Chords"), mido.MetaMessage("marker", text="Dm7", time=0),
                             mido.MetaMessage("marker", text="verse", time=960), mido.MetaMessage("marker", text="G7", time=960)])
    melody = mido.MidiTrack([mido.Message("note_on", note=62, velocity=90), mido.Message("note_off", note=62, time=3840)])
    file.tracks += [chords, melody]
    buffer = io.BytesIO()
    file.save(file=buffer)
    loaded = midifile.load_midi_bytes(buffer.getvalue())
    assert [(e.chord.symbol(), e.start_tick, e.duration_ticks) for e in loaded.chords] == [("Dm7", 0, 1920), ("G7", 1920, 1920)]
