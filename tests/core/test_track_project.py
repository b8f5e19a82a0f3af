"""Track, Project and LoopRegion: validation with exact messages and the derived values."""

import dataclasses

import pytest

from composer_app.core.note import Note
from composer_app.core.project import LoopRegion, Project
from composer_app.core.theory import Key
from composer_app.core.timing import TempoChange, TempoMap, TimeSignatureMap
from composer_app.core.track import Track


def test_track_sorts_its_notes_and_keeps_a_tuple():
    track = Track("Lead", 73, 1, [Note(480, 60, 10), Note(0, 64, 10), Note(0, 62, 10)])
    assert isinstance(track.notes, tuple)
    assert [(n.start_tick, n.pitch) for n in track.notes] == [(0, 62), (0, 64), (480, 60)]
    assert track.end_tick == 490 and Track().end_tick == 0
    assert track.notes_between(0, 480) == (Note(0, 62, 10), Note(0, 64, 10))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"name": 3}, TypeError, "name must be a str"),
        ({"program": 128}, ValueError, "program must be in range 0..127"),
        ({"program": "0"}, TypeError, "program must be an int"),
        ({"channel": -1}, ValueError, "channel must be in range 0..15"),
        ({"notes": [(0, 60, 10)]}, TypeError, "notes must be Note values"),
    ],
)
def test_track_validation(kwargs, error, message):
    with pytest.raises(error) as info:
        Track(**kwargs)
    assert str(info.value) == message


def test_track_drums_and_copies():
    assert Track(channel=9).is_drums and not Track(channel=0).is_drums
    track = Track("A")
    assert track.with_name("B").name == "B" and track.name == "A"
    assert track.with_notes([Note(5, 60, 1)]).notes == (Note(5, 60, 1),)
    with pytest.raises(dataclasses.FrozenInstanceError):
        track.name = "C"


def test_project_defaults_follow_its_resolution():
    project = Project(ticks_per_quarter=96)
    assert project.tempo_map == TempoMap(ticks_per_quarter=96)
    assert project.time_signatures == TimeSignatureMap(ticks_per_quarter=96)
    assert project.end_tick == 0 and project.note_count == 0 and project.duration_seconds == 0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"ticks_per_quarter": 0}, ValueError, "ticks_per_quarter must be in range 1..32767"),
        ({"ticks_per_quarter": 32768}, ValueError, "ticks_per_quarter must be in range 1..32767"),
        ({"tracks": ["x"]}, TypeError, "tracks must be Track values"),
        ({"tempo_map": TempoMap(ticks_per_quarter=96)}, ValueError, "tempo_map must use the project's ticks_per_quarter"),
        (
            {"time_signatures": TimeSignatureMap(ticks_per_quarter=96)},
            ValueError,
            "time_signatures must use the project's ticks_per_quarter",
        ),
    ],
)
def test_project_validation(kwargs, error, message):
    with pytest.raises(error) as info:
        Project(**kwargs)
    assert str(info.value) == message


def test_project_derived_values():
    tempo = TempoMap([TempoChange(0, 1_000_000)], 480)  # 60 BPM: one quarter per second
    a = Track("A", notes=[Note(0, 60, 480)], mute=True)
    b = Track("B", notes=[Note(960, 60, 480), Note(0, 48, 100)])
    project = Project(tracks=[a, b], tempo_map=tempo)
    assert isinstance(project.tracks, tuple)
    assert project.end_tick == 1440 and project.note_count == 3
    assert project.duration_seconds == pytest.approx(3.0)
    assert project.audible_tracks == (b,)
    soloed = project.replace_track(0, dataclasses.replace(a, solo=True))
    assert soloed.audible_tracks == (soloed.tracks[0],)
    assert project.tracks[0] is a  # replace_track left the original alone
    assert project.with_tracks([b]).tracks == (b,)


def test_project_settings_are_copied_and_merged():
    settings = {"mood": {"valence": 0.5}}
    project = Project(settings=settings)
    settings["mood"] = "changed"
    assert project.settings == {"mood": {"valence": 0.5}}
    merged = project.with_settings(seed=3)
    assert merged.settings == {"mood": {"valence": 0.5}, "seed": 3} and "seed" not in project.settings
    assert Project(key=Key(9, "minor"), title="x") == Project(key=Key(9, "minor"), title="x")


def test_loop_region_validation():
    assert LoopRegion(0, 1920).end_tick == 1920
    with pytest.raises(ValueError) as info:
        LoopRegion(960, 960)
    assert str(info.value) == "end_tick must be > start_tick"
    with pytest.raises(ValueError) as info:
        LoopRegion(-1, 5)
    assert str(info.value) == "start_tick must be >= 0"
