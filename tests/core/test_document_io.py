"""Opening and saving documents by kind: suffix first, content for unknown suffixes."""

import shutil
from pathlib import Path

import pytest

from composer_app.core.document_io import document_kind, load_document, save_document
from composer_app.core.midifile import MidiFileError, load_midi
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.projectfile import ProjectFileError
from composer_app.core.track import Track
from composer_app.errors import BadInputError

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "c_major_melody.mid"


def project() -> Project:
    return Project(tracks=(Track("A", notes=[Note(0, 60, 480)]),), title="Doc", settings={"seed": 4})


@pytest.mark.parametrize("name", ["a.mid", "b.MIDI", "c.smf", "d.composer"])
def test_save_and_load_by_suffix(tmp_path, name):
    path = tmp_path / name
    save_document(project(), path)
    loaded = load_document(path)
    expected = project() if name.endswith(".composer") else Project(tracks=project().tracks, title="Doc")
    assert loaded == expected  # settings live only in project files


def test_unknown_suffixes_are_recognised_by_content(tmp_path):
    midi_copy = tmp_path / "download.bin"
    shutil.copy(EXAMPLE, midi_copy)
    assert document_kind(midi_copy) == "midi"
    assert load_document(midi_copy).tracks == load_midi(EXAMPLE).tracks
    project_copy = tmp_path / "backup.json"
    save_document(project(), tmp_path / "p.composer")
    shutil.copy(tmp_path / "p.composer", project_copy)
    assert document_kind(project_copy) == "project" and load_document(project_copy) == project()


def test_what_is_neither_is_refused_in_one_line(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not music")
    with pytest.raises(BadInputError) as info:
        load_document(text)
    assert str(info.value) == f"{text}: not a MIDI file or a project file (use .mid or .composer)"
    with pytest.raises(BadInputError, match="no such file$"):
        load_document(tmp_path / "missing.txt")
    with pytest.raises(BadInputError, match="cannot save as .txt"):
        save_document(project(), text)


def test_a_suffix_that_lies_gives_the_error_of_that_kind(tmp_path):
    fake_midi = tmp_path / "fake.mid"
    fake_midi.write_text("{}")
    with pytest.raises(MidiFileError, match="not a MIDI file"):
        load_document(fake_midi)
    fake_project = tmp_path / "fake.composer"
    shutil.copy(EXAMPLE, fake_project)
    with pytest.raises(ProjectFileError, match="not a project file"):
        load_document(fake_project)
