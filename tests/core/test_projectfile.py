"""Project files: exact round trips, validation naming the field at fault, atomic saves."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer_app.core import projectfile
from composer_app.core.note import Note
from composer_app.core.project import LoopRegion, Project
from composer_app.core.projectfile import (
    FORMAT_NAME,
    FORMAT_VERSION,
    PROJECT_SUFFIX,
    ProjectFileError,
    load_project,
    load_project_bytes,
    project_from_dict,
    project_to_dict,
    project_to_json,
    save_project,
)
from composer_app.core.theory import Key
from composer_app.core.timing import TempoChange, TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.core.track import Track
from composer_app.errors import BadInputError


def sample_project() -> Project:
    tpq = 480
    return Project(
        tracks=(
            Track("Lead \"quoted\" ♪", 73, 0, [Note(0, 72, 240, 90), Note(240, 74, 240, 80, 1)], mute=True),
            Track("Drums", 0, 9, [Note(0, 36, 60, 120, 9), Note(480, 38, 60, 100, 9)], solo=True),
            Track("Empty", 48, 4),
        ),
        ticks_per_quarter=tpq,
        tempo_map=TempoMap([TempoChange(0, 600_000), TempoChange(3840, 500_000)], tpq),
        time_signatures=TimeSignatureMap([TimeSignatureChange(0, 4, 4), TimeSignatureChange(3840, 6, 8)], tpq),
        loop=LoopRegion(0, 3840),
        key=Key(3, "minor"),
        title="Sketch",
        settings={"mood": {"valence": -0.25, "arousal": 0.5}, "generator": "transformer", "seeds": [1, 2, 3]},
    )


def document() -> dict:
    return json.loads(project_to_json(sample_project()))


def load_dict(value) -> Project:
    return load_project_bytes(json.dumps(value).encode(), "p.composer")


def test_round_trip_is_exact(tmp_path):
    project = sample_project()
    path = tmp_path / f"sketch{PROJECT_SUFFIX}"
    save_project(project, path)
    assert load_project(path) == project
    assert Project() == load_dict(project_to_dict(Project()))


def test_file_is_versioned_readable_json_with_one_note_per_line(tmp_path):
    text = project_to_json(sample_project())
    data = json.loads(text)
    assert data["format"] == FORMAT_NAME and data["version"] == FORMAT_VERSION == 1
    assert data["tracks"][0]["notes"] == [[0, 72, 240, 90, 0], [240, 74, 240, 80, 1]]
    assert "    [0, 72, 240, 90, 0],\n" in text
    assert '"tempo_map": [\n  [0, 600000],\n  [3840, 500000]\n ]' in text
    assert '"name": "Lead \\"quoted\\" ♪"' in text


def test_settings_that_json_cannot_hold_are_refused_before_the_file_is_touched(tmp_path):
    path = tmp_path / "p.composer"
    save_project(Project(title="old"), path)
    with pytest.raises(ProjectFileError, match="setting 'bad'"):
        save_project(Project(settings={"bad": object()}), path)
    with pytest.raises(ProjectFileError, match="setting 'nan' .*NaN or Infinity"):
        save_project(Project(settings={"nan": float("nan")}), path)
    assert load_project(path).title == "old"


@pytest.mark.parametrize("fail_at", ["write", "fsync", "replace"])
def test_a_crash_mid_write_keeps_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, fail_at):
    path = tmp_path / "song.composer"
    save_project(sample_project(), path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError(5, "Input/output error")

    if fail_at == "write":
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, fd, mode):
                self.stream = real_fdopen(fd, mode)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.stream.close()

            def write(self, data):
                self.stream.write(data[: len(data) // 2])  # half of it reaches the disk, then the crash
                raise OSError(5, "Input/output error")

        monkeypatch.setattr(os, "fdopen", HalfWriter)
    else:
        monkeypatch.setattr(os, fail_at, crash)
    with pytest.raises(ProjectFileError) as info:
        save_project(Project(title="new"), path)
    assert str(info.value) == f"{path}: cannot write (Input/output error)"
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["song.composer"]


def test_an_interrupt_mid_write_also_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "song.composer"

    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_project(Project(), path)
    assert list(tmp_path.iterdir()) == []


def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "p.composer"
    save_project(Project(), path)
    os.chmod(path, 0o640)
    save_project(Project(title="again"), path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_newer_versions_are_refused_clearly():
    value = document()
    value["version"] = FORMAT_VERSION + 1
    with pytest.raises(ProjectFileError) as info:
        load_dict(value)
    assert str(info.value) == (
        f"p.composer: made by a newer composer-app (format version {FORMAT_VERSION + 1}; "
        f"this version reads up to {FORMAT_VERSION})"
    )


def edited(path: list, value) -> dict:
    doc = document()
    target = doc
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    "path, value, message",
    [
        (["tracks", 0, "notes", 1, 1], 128, "tracks[0].notes[1]: pitch must be in range 0..127"),
        (["tracks", 0, "notes", 1, 2], 0.5, "tracks[0].notes[1]: duration_ticks must be an int"),
        (["tracks", 0, "notes", 1], [1, 2], "tracks[0].notes[1]: must be a list of 5 numbers"),
        (["tracks", 1, "program"], 300, "tracks[1]: program must be in range 0..127"),
        (["tracks", 1, "program"], "5", "tracks[1].program: must be an int"),
        (["tracks", 1, "mute"], 0, "tracks[1].mute: must be true or false"),
        (["tracks", 2, "name"], KeyError, "tracks[2].name: missing"),
        (["tracks", 2], [], "tracks[2]: must be an object"),
        (["tracks"], {}, "tracks: must be a list"),
        (["tempo_map", 1, 1], 0, "tempo_map[1]: microseconds_per_quarter must be in range 1..16777215"),
        (["time_signatures", 1, 2], 6, "time_signatures[1]: denominator must be a power of two"),
        (["ticks_per_quarter"], 0, "ticks_per_quarter must be in range 1..32767"),
        (["ticks_per_quarter"], True, "ticks_per_quarter: must be an int"),
        (["key"], "H major", "key: cannot read a key from 'H major'"),
        (["key"], 5, "key: must be a string"),
        (["loop"], [10, 5], "loop: end_tick must be > start_tick"),
        (["title"], None, "title: must be a string"),
        (["settings"], [1], "settings: must be an object"),
        (["version"], "1", "version: must be an int >= 1"),
        (["note_fields"], ["pitch"], "note_fields: must be ['start_tick', 'pitch', 'duration_ticks', 'velocity', 'channel']"),
    ],
)
def test_invalid_fields_are_named_in_one_line(path, value, message):
    with pytest.raises(ProjectFileError) as info:
        load_dict(edited(path, value))
    assert str(info.value) == f"p.composer: {message}"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "p.composer: empty file"),
        (b"\xff\xfe{}", "p.composer: not a project file (not UTF-8 text)"),
        (b'{"format": "composer-app project", "version": 1,', "p.composer: not a project file (invalid JSON at line 1: "),
        (b"[1, 2]", 'p.composer: not a project file (no "format": "composer-app project")'),
        (b'{"format": "something else"}', 'p.composer: not a project file (no "format": "composer-app project")'),
        (b"[" * 100_000 + b"]" * 100_000, "p.composer: not a project file ("),
        (b"1" * 5000, "p.composer: not a project file ("),
    ],
)
def test_files_that_are_not_projects(data, message):
    with pytest.raises(ProjectFileError) as info:
        load_project_bytes(data, "p.composer")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value) and isinstance(info.value, BadInputError)


def test_missing_and_oversized_files(tmp_path, monkeypatch):
    with pytest.raises(ProjectFileError, match="none.composer: no such file$"):
        load_project(tmp_path / "none.composer")
    path = tmp_path / "big.composer"
    save_project(sample_project(), path)
    monkeypatch.setattr(projectfile, "MAX_PROJECT_BYTES", 100)
    with pytest.raises(ProjectFileError, match=r"big.composer: too large \([\d,]+ bytes; the limit is 100\)$"):
        load_project(path)


VALID_TEXT = project_to_json(sample_project()).encode()


@settings(max_examples=200, deadline=None)
@given(
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_mutated_project_files_give_a_project_or_one_project_file_error(edits, cut):
    data = bytearray(VALID_TEXT)
    for where, value in edits:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    try:
        assert isinstance(load_project_bytes(bytes(data), "m.composer"), Project)
    except ProjectFileError as error:
        assert str(error).startswith("m.composer: ") and "\n" not in str(error)


def test_markers_volume_and_pan_round_trip_and_older_files_without_them_still_load(tmp_path):
    from composer_app.core.project import Marker

    project = Project(
        tracks=(Track("Lead", program=0, channel=0, notes=(Note(0, 60, 480),), volume=80, pan=30),),
        markers=(Marker(1920, "Chorus"), Marker(0, "Verse")),
    )
    path = tmp_path / "song.composer"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.markers == (Marker(0, "Verse"), Marker(1920, "Chorus"))
    assert (loaded.tracks[0].volume, loaded.tracks[0].pan) == (80, 30)
    old = project_to_dict(project)
    del old["markers"]
    for track in old["tracks"]:
        del track["volume"], track["pan"]
    older = project_from_dict(old)
    assert older.markers == () and (older.tracks[0].volume, older.tracks[0].pan) == (100, 64)
    bad = project_to_dict(project)
    bad["markers"] = [[-5, "x"]]
    with pytest.raises(Exception, match=r"markers\[0\]"):
        project_from_dict(bad)
