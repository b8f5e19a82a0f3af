"""Hostile files (issue 9): each one is a clear MidiFileError/ProjectFileError, and what loads can be saved.

The bytes are the ones the issue reports: a 37-byte file with a note at tick 2^28 - 1, one
tick per quarter under a 4/8 meter, 65,535 tracks, a one-hour note, a start tick of 10^4000,
NaN in the settings, a lone surrogate in the title, a 100 MB track name.
"""

from __future__ import annotations

import json

import pytest

from composer_app.core import limits
from composer_app.core.document_io import load_document
from composer_app.core.midifile import MidiFileError, load_midi_bytes, project_to_midi_bytes
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.projectfile import (
    ProjectFileError,
    load_project,
    load_project_bytes,
    project_to_json,
    save_project,
)
from composer_app.core.timing import TimeSignatureChange, TimeSignatureMap
from composer_app.core.track import Track
from tests.midi_bytes import END_OF_TRACK, smf, vlq


def note(delta: int, length: int, pitch: int = 60) -> bytes:
    return vlq(delta) + bytes((0x90, pitch, 100)) + vlq(length) + bytes((0x80, pitch, 64))


def project_document(**changes) -> dict:
    document = json.loads(project_to_json(Project(tracks=(Track("Melody", notes=[Note(0, 60, 480)]),), title="Sketch")))
    document.update(changes)
    return document


# -- MIDI files -------------------------------------------------------------------------------


def test_a_note_at_tick_2_28_at_one_tick_per_quarter_is_refused():
    data = smf(0, 1, [note(2**28 - 1, 1) + END_OF_TRACK])
    assert len(data) < 45
    with pytest.raises(MidiFileError, match=r"beyond the limit of 65,536 quarter notes"):
        load_midi_bytes(data, "far.mid")


def test_a_one_hour_note_is_refused_as_too_long():
    data = smf(0, 1, [note(0, 7200) + END_OF_TRACK])  # 7,200 quarters at 120 BPM: one hour
    with pytest.raises(MidiFileError, match=r"a note of 7,200 quarter notes .*\(the limit is 4,096\)"):
        load_midi_bytes(data, "hour.mid")


def test_one_tick_per_quarter_under_a_4_8_meter_is_a_clear_error_not_a_zero_division():
    meter = b"\x00\xff\x58\x04\x04\x03\x18\x08"
    data = smf(0, 1, [meter + note(0, 4) + END_OF_TRACK])
    with pytest.raises(MidiFileError, match=r"4/8 meter .* 1 tick per quarter cannot \(use a multiple of 2\)"):
        load_midi_bytes(data, "meter.mid")


def test_the_time_signature_map_itself_refuses_a_beat_of_half_a_tick():
    with pytest.raises(limits.LimitError):
        TimeSignatureMap([TimeSignatureChange(0, 4, 8)], 1)
    assert TimeSignatureMap([TimeSignatureChange(0, 4, 8)], 2).ticks_per_bar_at(0) == 4


def test_65535_tracks_are_refused():
    data = smf(1, 480, [note(0, 1) + END_OF_TRACK] * 65535)
    with pytest.raises(MidiFileError, match=r"65,535 tracks \(the limit is 256\)"):
        load_midi_bytes(data, "tracks.mid")


def test_format_2_patterns_beyond_the_span_are_a_clear_error():
    pattern = note(0, 2**28 - 1) + END_OF_TRACK
    data = smf(2, 480, [pattern] * 3)
    with pytest.raises(MidiFileError, match=r"refusing to load it$"):
        load_midi_bytes(data, "patterns.mid")


def test_a_30_mb_track_name_is_cut_to_the_name_limit():
    name = b"x" * 30_000_000
    track = b"\x00\xff\x03" + vlq(len(name)) + name + note(0, 480) + END_OF_TRACK
    project = load_midi_bytes(smf(0, 480, [track]), "named.mid")
    assert len(project.tracks[0].name.encode()) <= limits.MAX_NAME_BYTES
    assert project.tracks[0].name.endswith("…")
    assert load_midi_bytes(project_to_midi_bytes(project)).tracks[0].name == project.tracks[0].name


def test_a_file_at_the_limits_still_loads():
    data = smf(0, 1, [note(limits.MAX_SPAN_QUARTERS - limits.MAX_NOTE_QUARTERS, limits.MAX_NOTE_QUARTERS) + END_OF_TRACK])
    project = load_midi_bytes(data, "edge.mid")
    assert project.end_tick == limits.MAX_SPAN_QUARTERS


# -- project files ----------------------------------------------------------------------------


def test_a_start_tick_of_10_to_the_4000_is_a_clear_error():
    text = json.dumps(project_document()).replace("[0, 60, 480, 100, 0]", "[1" + "0" * 4000 + ", 60, 480, 100, 0]")
    with pytest.raises(ProjectFileError, match=r"p.composer: .*beyond the limit of 65,536 quarter notes"):
        load_project_bytes(text.encode(), "p.composer")


def test_a_tempo_change_at_tick_10_to_the_400_is_a_clear_error_not_an_overflow():
    """Found by the fuzz run (seed 12, input 29,082): the tempo map turned the tick into a float first."""
    document = project_document()
    document["tempo_map"] = [[0, 500000], [10**400, 600000]]
    with pytest.raises(ProjectFileError, match=r"p.composer: tempo_map: a tempo change at quarter ~10\^\d+ lies beyond the limit"):
        load_project_bytes(json.dumps(document).encode(), "p.composer")


@pytest.mark.parametrize("row", [[10**400, 0.1, 0.1, 1, "x"], [1, 10**400, 0.1, 1, "x"], [1, 0.1, 0.1, 10**400, "x"]])
def test_a_mood_point_with_a_400_digit_number_is_a_clear_error_not_an_overflow(row):
    document = project_document()
    document["mood_timeline"] = [row]
    with pytest.raises(ProjectFileError, match=r"p.composer: mood_timeline: points\[0\]: \w+ must be in range"):
        load_project_bytes(json.dumps(document).encode(), "p.composer")


@pytest.mark.parametrize("settings, field", [
    ({"mood": {"valence": 0.5, "arousal": float("nan")}}, r"settings.mood.arousal: nan \(NaN and Infinity cannot be saved again\)"),
    ({"points": [1.0, float("inf")]}, r"settings.points\[1\]: inf"),
    ({"deep": json.loads("[" * 40 + "1" + "]" * 40)}, r"settings.deep.*nested deeper than 32"),
])
def test_values_that_could_not_be_saved_again_are_refused_naming_the_field(settings, field):
    text = json.dumps(project_document(settings=settings))
    with pytest.raises(ProjectFileError, match=r"^p.composer: " + field):
        load_project_bytes(text.encode(), "p.composer")


def test_lone_surrogates_are_refused_naming_the_field():
    document = project_document(title="Sketch \ud800")
    text = json.dumps(document)  # ensure_ascii: the surrogate travels as a \ud800 escape
    assert "\\ud800" in text
    with pytest.raises(ProjectFileError, match=r"^p.composer: title: text with a lone surrogate"):
        load_project_bytes(text.encode(), "p.composer")
    document = project_document()
    document["tracks"][0]["name"] = "Lead \udfff"
    with pytest.raises(ProjectFileError, match=r"tracks\[0\].name: text with a lone surrogate"):
        load_project_bytes(json.dumps(document).encode(), "p.composer")


def test_whatever_loads_saves_again(tmp_path):
    document = project_document(settings={"mood": {"valence": 0.5}, "zoom": 2.0})
    document["tracks"][0]["name"] = "x" * 5000
    project = load_project_bytes(json.dumps(document).encode(), "p.composer")
    save_project(project, tmp_path / "again.composer")
    assert load_project(tmp_path / "again.composer") == project


def test_a_lone_surrogate_in_memory_is_a_clear_save_error(tmp_path):
    project = Project(title="Sketch \ud800")
    with pytest.raises(ProjectFileError, match=r"again.composer: cannot save: the title or a name holds a lone surrogate"):
        save_project(project, tmp_path / "again.composer")
    assert not (tmp_path / "again.composer").exists()


def test_a_project_that_cannot_be_saved_says_which_setting(tmp_path):
    project = Project(settings={"mood": float("nan")})
    with pytest.raises(ProjectFileError, match=r"again.composer: cannot save: setting 'mood' .*NaN or Infinity"):
        save_project(project, tmp_path / "again.composer")
    assert not (tmp_path / "again.composer").exists()


def test_a_100_mb_track_name_is_refused_by_the_file_size(tmp_path):
    document = project_document()
    document["tracks"][0]["name"] = "x" * 100_000_000
    path = tmp_path / "big.composer"
    path.write_text(json.dumps(document))
    with pytest.raises(ProjectFileError, match=r"too large \(100,000,\d+ bytes; the limit is 33,554,432\)"):
        load_document(path)


def test_a_long_name_within_the_file_limit_is_cut():
    document = project_document()
    document["tracks"][0]["name"] = "ü" * 2_000_000
    project = load_project_bytes(json.dumps(document, ensure_ascii=False).encode(), "p.composer")
    assert len(project.tracks[0].name.encode()) <= limits.MAX_NAME_BYTES


def test_millions_of_tiny_json_items_are_refused_before_parsing():
    text = '{"format": "composer-app project", "x": [' + ",".join(["[]"] * 5_000_000) + "]}"
    with pytest.raises(ProjectFileError, match=r"too many items for a project file"):
        load_project_bytes(text.encode(), "p.composer")


def test_a_project_with_too_many_tracks_is_refused():
    document = project_document()
    document["tracks"] = document["tracks"] * 300
    with pytest.raises(ProjectFileError, match=r"tracks: 300 tracks \(the limit is 256\)"):
        load_project_bytes(json.dumps(document).encode(), "p.composer")


def test_a_meter_the_resolution_cannot_count_is_refused_in_a_project_file():
    document = project_document(ticks_per_quarter=1, time_signatures=[[0, 4, 8]])
    document["tracks"][0]["notes"] = [[0, 60, 1, 100, 0]]
    with pytest.raises(ProjectFileError, match=r"time_signatures: a 4/8 meter"):
        load_project_bytes(json.dumps(document).encode(), "p.composer")


# -- the values themselves ----------------------------------------------------------------------


def test_the_document_values_refuse_what_the_readers_refuse():
    with pytest.raises(limits.LimitError):
        Project(tracks=(Track(notes=[Note(0, 60, limits.MAX_NOTE_QUARTERS * 480 + 1)]),))
    with pytest.raises(limits.LimitError):
        Project(tracks=(Track(),) * (limits.MAX_TRACKS + 1))
    with pytest.raises(limits.LimitError, match="name is longer than 1,024 bytes"):
        Track(name="é" * 600)


def test_cut_text_never_splits_a_character():
    cut = limits.cut_text("€" * 1000, 100)
    assert cut.endswith("…") and len(cut.encode()) <= 100
    assert limits.cut_text("ok") == "ok"
