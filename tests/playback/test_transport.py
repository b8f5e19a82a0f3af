"""The transport against fake sinks: order, tempo changes, loop wraps, stop/pause/seek, failures.

Clips are short and fast (a few hundred milliseconds). Timing is checked against the schedule
(the tempo map) with a tolerance that a busy 2-core CI machine meets; the benchmark
(bench/midi_timing.py) measures the real precision.
"""

import statistics
import threading
import time

import mido
import pytest

from composer_app.core.note import Note
from composer_app.core.project import LoopRegion, Project
from composer_app.core.timing import TempoMap
from composer_app.core.track import Track
from composer_app.playback.sink import CC_ALL_NOTES_OFF, FakeSink
from composer_app.playback.transport import Transport
from tests.playback.projects import TPQ, melody_project, two_tempo_project

TOLERANCE_S = 0.015  # worst single event on a loaded CI machine
MEDIAN_TOLERANCE_S = 0.003


@pytest.fixture
def fake():
    return FakeSink()


@pytest.fixture
def transport(fake):
    transport = Transport([fake])
    yield transport
    transport.close()


def _notes(records, kind=None):
    return [(t, m) for t, m in records if m.type in (("note_on", "note_off") if kind is None else (kind,))]


def _assert_times(actual, expected):
    errors = [abs(a - e) for a, e in zip(actual, expected, strict=True)]
    assert max(errors) < TOLERANCE_S, errors
    assert statistics.median(errors) < MEDIAN_TOLERANCE_S, errors


def test_plays_every_event_in_order_with_programs_first(transport, fake):
    project = melody_project(program=33, channel=3)
    transport.play(project)
    assert transport.wait(5)
    messages = fake.messages
    assert messages[0] == mido.Message("program_change", channel=3, program=33)
    notes = [m for m in messages if m.type.startswith("note")]
    expected = []
    for i in range(8):
        expected += [("note_on", 60 + i, 60 + 5 * i), ("note_off", 60 + i, 64)]
    assert [(m.type, m.note, m.velocity) for m in notes] == expected
    assert all(m.channel == 3 for m in notes)
    assert transport.state == "stopped" and not transport.is_playing


def test_tempo_change_timing(transport, fake):
    transport.play(two_tempo_project())
    assert transport.wait(5)
    ons = _notes(fake.records, "note_on")
    start = ons[0][0]
    # 480 BPM for four quarters (0.125 s each), then 960 BPM (0.0625 s each)
    _assert_times([t - start for t, _ in ons], [0.0, 0.125, 0.25, 0.375, 0.5, 0.5625, 0.625, 0.6875])
    last_off = _notes(fake.records, "note_off")[-1][0]
    assert last_off - start == pytest.approx(0.75, abs=TOLERANCE_S)


def test_loop_wrap_timing_and_cut(transport, fake):
    project = melody_project()  # eighth notes of 62.5 ms
    transport.set_loop(LoopRegion(0, 4 * TPQ // 2))  # the first four notes: 250 ms
    assert transport.loop == LoopRegion(0, 960)
    transport.play(project)
    time.sleep(0.68)  # two wraps and a bit
    assert transport.is_playing  # a loop plays until stopped
    assert transport.position_tick < 960
    transport.stop()
    ons = _notes(fake.records, "note_on")
    assert [m.note for _, m in ons][:10] == [60, 61, 62, 63, 60, 61, 62, 63, 60, 61]
    start = ons[0][0]
    _assert_times([t - start for t, _ in ons[:10]], [i * 0.0625 for i in range(10)])
    # The note sounding at the loop end is released at the wrap, before the loop start is struck again.
    notes = [m for _, m in _notes(fake.records)]
    wrap = notes.index(mido.Message("note_on", note=60, velocity=60), 1)
    assert notes[wrap - 1] == mido.Message("note_off", note=63, velocity=64)
    assert 60 + 4 not in [m.note for _, m in ons]  # nothing past the loop end played


def test_stop_mid_note_releases_it_and_panics(transport, fake):
    long_note = Project(tracks=(Track(notes=[Note(0, 72, TPQ * 8, velocity=99)]),))  # 4 s at 120 BPM
    positions = []
    transport.add_position_listener(positions.append)
    transport.play(long_note)
    time.sleep(0.15)
    assert transport.is_playing and transport.position_tick > 0
    transport.stop()
    messages = fake.messages
    on = messages.index(mido.Message("note_on", note=72, velocity=99))
    off = messages.index(mido.Message("note_off", note=72, velocity=64))
    assert on < off
    assert {(m.channel, m.control) for m in messages[off + 1:] if m.type == "control_change"} >= {
        (c, CC_ALL_NOTES_OFF) for c in range(16)
    }
    assert not transport.is_playing
    assert transport.position_tick == 0  # back to where play started
    assert positions[-1] == 0


def test_pause_holds_the_position_and_resume_goes_on(transport, fake):
    project = melody_project(bpm=240)  # eighths of 125 ms
    transport.play(project)
    time.sleep(0.3)  # inside the third note
    transport.pause()
    held = transport.position_tick
    assert transport.state == "paused"
    assert 2 * 240 <= held < 3 * 240
    time.sleep(0.1)
    assert transport.position_tick == held
    ons_before = [m.note for _, m in _notes(fake.records, "note_on")]
    assert ons_before == [60, 61, 62]
    assert fake.messages[-1].type == "note_off" and fake.messages[-1].note == 62  # cut, no panic
    transport.resume()
    assert transport.wait(5)
    ons = [m.note for _, m in _notes(fake.records, "note_on")]
    assert ons == [60, 61, 62, 63, 64, 65, 66, 67]


def test_seek_while_playing_cuts_and_jumps(transport, fake):
    project = melody_project(bpm=240)
    transport.play(project)
    time.sleep(0.05)
    transport.seek(6 * 240)  # the seventh note
    assert transport.wait(5)
    notes = [(m.type, m.note) for _, m in _notes(fake.records)]
    assert notes == [("note_on", 60), ("note_off", 60), ("note_on", 66), ("note_off", 66), ("note_on", 67),
                     ("note_off", 67)]


def test_seek_while_stopped_sets_where_resume_starts(transport, fake):
    transport.play(melody_project())
    assert transport.wait(5)
    fake.clear()
    transport.seek(7 * 240)
    assert transport.position_tick == 7 * 240
    transport.resume()
    assert transport.wait(5)
    assert [m.note for _, m in _notes(fake.records, "note_on")] == [67]


def test_play_from_a_later_tick_sends_programs_and_skips_earlier_notes(transport, fake):
    transport.play(melody_project(program=12), start_tick=5 * 240)
    assert transport.wait(5)
    assert fake.messages[0].type == "program_change" and fake.messages[0].program == 12
    assert [m.note for _, m in _notes(fake.records, "note_on")] == [65, 66, 67]
    assert transport.position_tick == 5 * 240  # back to the start point after the end


def test_position_listener_follows_the_playhead(transport):
    ticks = []
    called_on = set()

    def listener(tick):
        ticks.append(tick)
        called_on.add(threading.current_thread().name)

    transport.add_position_listener(listener)
    transport.play(melody_project())  # 0.5 s
    assert transport.wait(5)
    assert called_on == {"composer-playback"}
    during = ticks[:-1]
    assert len(during) >= 8  # ~30 Hz for 0.5 s
    assert during == sorted(during)
    assert during[-1] > 7 * 240
    assert ticks[-1] == 0  # the end: back to the start


def test_a_failing_sink_does_not_stop_the_others():
    good, bad = FakeSink("good"), FakeSink("bad")
    bad.fail_after(4, "port vanished")
    with Transport([bad, good]) as transport:
        transport.play(melody_project())
        assert transport.wait(5)
    assert len(_notes(good.records)) == 16
    assert len(bad.messages) == 3
    assert not bad.ok and "port vanished" in bad.status


def test_audition_note_sounds_and_releases(transport, fake):
    transport.audition_note(69, velocity=80, channel=2, program=40, duration_ms=60)
    time.sleep(0.2)
    records = fake.records
    messages = [m for _, m in records]
    assert messages == [
        mido.Message("program_change", channel=2, program=40),
        mido.Message("note_on", channel=2, note=69, velocity=80),
        mido.Message("note_off", channel=2, note=69, velocity=64),
    ]
    assert records[2][0] - records[1][0] == pytest.approx(0.06, abs=TOLERANCE_S)
    with pytest.raises(ValueError):
        transport.audition_note(128)


def test_update_project_while_playing(transport, fake):
    transport.play(melody_project(bpm=240))
    time.sleep(0.2)
    edited = melody_project(bpm=240).replace_track(
        0, Track("melody", notes=[Note(i * 240, 80 + i, 240) for i in range(8)])
    )
    transport.update_project(edited)
    assert transport.wait(5)
    ons = [m.note for _, m in _notes(fake.records, "note_on")]
    assert ons[:2] == [60, 61] and ons[-1] == 87 and 62 not in ons[3:]
    # Every key struck was released.
    struck = [(m.channel, m.note) for _, m in _notes(fake.records, "note_on")]
    released = [(m.channel, m.note) for _, m in _notes(fake.records, "note_off")]
    assert sorted(struck) == sorted(released)


def test_set_sinks_while_playing_moves_playback(transport, fake):
    other = FakeSink("other")
    transport.play(Project(tracks=(Track(program=9, notes=[Note(0, 60, 480), Note(480, 62, 480)]),),
                           tempo_map=TempoMap.constant(480)))
    time.sleep(0.03)
    transport.set_sinks([other])
    assert transport.sinks == (other,)
    assert transport.wait(5)
    old = fake.messages
    assert mido.Message("note_off", note=60, velocity=64) in old  # cut on the old sink
    assert sum(m.type == "control_change" and m.control in (64, 120, 123) for m in old) == 48  # and a panic
    assert other.messages[0] == mido.Message("program_change", program=9)
    assert [m.note for m in other.messages if m.type == "note_on"] == [62]


def test_mute_and_solo_are_honoured(transport, fake):
    a = Track("a", channel=0, notes=[Note(0, 60, 240, channel=0)])
    b = Track("b", channel=1, notes=[Note(0, 64, 240, channel=1)], solo=True)
    transport.play(Project(tracks=(a, b), tempo_map=TempoMap.constant(480)))
    assert transport.wait(5)
    assert [m.note for _, m in _notes(fake.records, "note_on")] == [64]


def test_close_panics_closes_sinks_and_refuses_commands(fake):
    transport = Transport([fake])
    transport.play(Project(tracks=(Track(notes=[Note(0, 60, 4800)]),)))
    time.sleep(0.05)
    transport.close()
    assert fake.closed
    assert mido.Message("note_off", note=60, velocity=64) in fake.messages
    with pytest.raises(RuntimeError, match="closed"):
        transport.play(melody_project())
    transport.close()  # twice is harmless


def test_argument_checks(transport):
    with pytest.raises(TypeError, match="project must be a Project"):
        transport.play("song.mid")
    with pytest.raises(ValueError, match="start_tick must be >= 0"):
        transport.play(Project(), start_tick=-1)
    with pytest.raises(TypeError, match="loop must be a LoopRegion or None"):
        transport.set_loop((0, 10))
    with pytest.raises(TypeError, match="sinks must be Sink values"):
        transport.set_sinks(["port"])


def test_empty_project_ends_at_once(transport, fake):
    transport.play(Project())
    assert transport.wait(1)
    assert not [m for m in fake.messages if m.type.startswith("note")]


def test_scheduler_thread_has_a_raised_priority_where_allowed(transport):
    assert transport.thread_priority in ("normal", "nice -10") or transport.thread_priority.startswith("SCHED_RR")


def test_gil_switch_interval_is_short_only_while_playing(transport):
    import sys

    from composer_app.playback.transport import GIL_SWITCH_INTERVAL_S

    before = sys.getswitchinterval()
    transport.play(Project(tracks=(Track(notes=[Note(0, 60, 4800)]),)))
    assert sys.getswitchinterval() == pytest.approx(min(before, GIL_SWITCH_INTERVAL_S))
    transport.stop()
    assert sys.getswitchinterval() == before
