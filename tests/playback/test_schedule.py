"""Project -> timed events: programs, mute/solo, tempo map, ordering, overlapping notes."""

import pytest

from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.timing import TempoChange, TempoMap
from composer_app.core.track import Track
from composer_app.playback.schedule import (
    NOTE_OFF_VELOCITY,
    first_index_at_or_after,
    program_messages,
    project_events,
)
from tests.playback.projects import TPQ, two_tempo_project


def _summary(events):
    return [(e.tick, e.message.type, getattr(e.message, "note", None), getattr(e.message, "channel", None))
            for e in events]


def test_program_changes_come_first_then_notes_in_time_order():
    track = Track("piano", program=5, channel=2, notes=[Note(480, 62, 240, channel=2), Note(0, 60, 480, channel=2)])
    events = project_events(Project(tracks=(track,)))
    assert _summary(events) == [
        (0, "program_change", None, 2),
        (0, "control_change", None, 2),
        (0, "control_change", None, 2),
        (0, "note_on", 60, 2),
        (480, "note_off", 60, 2),
        (480, "note_on", 62, 2),
        (720, "note_off", 62, 2),
    ]
    assert events[0].message.program == 5
    assert [(e.message.control, e.message.value) for e in events[1:3]] == [(7, 100), (10, 64)]
    assert events[3].message.velocity == 100
    assert events[4].message.velocity == NOTE_OFF_VELOCITY


def test_note_off_before_note_on_on_the_same_key_at_the_same_tick():
    track = Track(notes=[Note(0, 60, 480), Note(480, 60, 480)])
    kinds = [(e.tick, e.message.type) for e in project_events(Project(tracks=(track,)), include_programs=False)]
    assert kinds == [(0, "note_on"), (480, "note_off"), (480, "note_on"), (960, "note_off")]


def test_overlapping_notes_on_one_key_release_only_at_the_last_end():
    track = Track(notes=[Note(0, 60, 960), Note(480, 60, 960)])  # second starts while first sounds
    events = project_events(Project(tracks=(track,)), include_programs=False)
    assert [(e.tick, e.message.type) for e in events] == [(0, "note_on"), (480, "note_on"), (1440, "note_off")]


def test_mute_and_solo_choose_the_audible_tracks():
    a = Track("a", program=1, channel=0, notes=[Note(0, 60, 10, channel=0)])
    b = Track("b", program=2, channel=1, notes=[Note(0, 64, 10, channel=1)], mute=True)
    c = Track("c", program=3, channel=2, notes=[Note(0, 67, 10, channel=2)])
    def notes(project):
        return sorted(e.message.note for e in project_events(project) if e.message.type == "note_on")

    assert notes(Project(tracks=(a, b, c))) == [60, 67]
    soloed = Project(tracks=(a, b, Track("c", program=3, channel=2, notes=c.notes, solo=True)))
    assert notes(soloed) == [67]
    assert [m.program for m in program_messages(soloed) if m.type == "program_change"] == [3]


def test_track_volume_and_pan_go_out_as_cc7_and_cc10_for_audible_tracks_only():
    a = Track("a", program=1, channel=0, notes=[Note(0, 60, 10, channel=0)], volume=90, pan=20)
    b = Track("b", program=2, channel=1, notes=[Note(0, 64, 10, channel=1)], volume=40, pan=120, mute=True)
    controls = [(m.channel, m.control, m.value) for m in program_messages(Project(tracks=(a, b))) if m.type == "control_change"]
    assert controls == [(0, 7, 90), (0, 10, 20)]


def test_program_change_for_each_channel_a_track_plays_on():
    track = Track("t", program=7, channel=0, notes=[Note(0, 60, 10, channel=0), Note(0, 36, 10, channel=9)])
    assert [(m.channel, m.program) for m in program_messages(Project(tracks=(track,))) if m.type == "program_change"] == [(0, 7), (9, 7)]


def test_seconds_follow_the_tempo_map():
    events = project_events(two_tempo_project(), include_programs=False)
    ons = [e for e in events if e.message.type == "note_on"]
    assert [round(e.seconds, 6) for e in ons] == [0.0, 0.125, 0.25, 0.375, 0.5, 0.5625, 0.625, 0.6875]


def test_first_index_at_or_after():
    events = project_events(two_tempo_project(), include_programs=False)
    assert first_index_at_or_after(events, 0) == 0
    index = first_index_at_or_after(events, TPQ)  # the note-off of note 1 and the note-on of note 2
    assert events[index].tick == TPQ and events[index].message.type == "note_off"
    assert first_index_at_or_after(events, 10**9) == len(events)


def test_empty_project_has_no_events():
    assert project_events(Project()) == ()


@pytest.mark.parametrize("bpm", [60, 120, 333])
def test_constant_tempo_seconds(bpm):
    microseconds_per_quarter = round(60e6 / bpm)
    project = Project(
        tracks=(Track(notes=[Note(TPQ * 3, 60, TPQ)]),), tempo_map=TempoMap([TempoChange(0, microseconds_per_quarter)])
    )
    on = [e for e in project_events(project) if e.message.type == "note_on"][0]
    assert on.seconds == pytest.approx(3 * microseconds_per_quarter / 1e6, rel=1e-9)
