"""Recording from a real MIDI input port: a JACK server (dummy backend), a third-party sender, the real window.

The user's path end to end: choose the port under Transport ▸ MIDI input, click Record, wait
through the one-bar count-in, play, click Record again. Notes come from mido's own rtmidi port
(a virtual JACK output of this test process, not the app's code) or from ``jack_midiseq``. If
jackd2 is missing these tests FAIL (tests/jack_fixtures.py), they do not skip.

Timing: the recorder turns each message's arrival time into a tick relative to the moment the
count-in ends. That moment lies between "before the click" and "after the click" plus the
count-in, so each expected start tick is an interval; around it we allow ``TOLERANCE_S`` for the
trip through JACK (a message sent in one cycle is delivered in the next: up to two periods) and
the input's reader poll and scheduling noise, converted to ticks at the test's tempo.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import replace

import mido
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QToolButton

from composer_app.core.timing import TempoMap
from composer_app.playback.midiports import mido_backend_name
from tests.jack_fixtures import JACK_PERIOD_S, PLAY_ATTEMPTS
from tests.ui.conftest import TPQ, melody_project, show_window

BPM = 240  # one 4/4 bar of count-in = 1 s; 1920 ticks per second at 480 ticks per quarter
TOLERANCE_S = 2 * JACK_PERIOD_S + 0.015  # JACK delivery (<= 2 periods) + reader poll + scheduling noise
SECONDS_PER_BEAT = 60 / BPM
# (seconds after the count-in ends, pitch, velocity, seconds held): four notes a beat apart
PLAYED = [(0.10 + i * SECONDS_PER_BEAT, pitch, velocity, 0.15) for i, (pitch, velocity) in
          enumerate([(60, 40), (64, 70), (67, 100), (72, 127)])]


@pytest.fixture
def jack_midi(jack_server, monkeypatch):
    """The JACK server, with the app's MIDI forced onto JACK (as a user would with MIDO_BACKEND).

    Without it a machine that has an ALSA sequencer would list ALSA ports only.
    """
    monkeypatch.setenv("MIDO_BACKEND", mido_backend_name("jack"))
    return jack_server


@pytest.fixture
def fast_window(qtbot, jack_midi):
    project = melody_project()
    return show_window(qtbot, replace(project, tempo_map=TempoMap.constant(BPM, TPQ), title="recording"))


def _added(before, after) -> list:
    """The notes in ``after`` that were not in ``before`` (duplicates counted), by start."""
    return sorted((Counter(after) - Counter(before)).elements(), key=lambda n: (n.start_tick, n.pitch))


def _open_sender(jack_server) -> tuple[mido.ports.BaseOutput, str]:
    """A virtual JACK MIDI output owned by this test process through mido (third-party code)."""
    client = f"keyboard-{uuid.uuid4().hex[:6]}"
    port = mido.Backend(mido_backend_name("jack"), load=True).open_output("keys", client_name=client)
    full_name = f"{client}:keys"
    jack_server.wait_for_port(full_name)
    return port, full_name


def _choose_input_in_menu(qtbot, window, port_name: str) -> None:
    """Transport ▸ MIDI input ▸ <port>, clicked with the mouse."""
    menu = window.input_menu
    menu.popup(window.mapToGlobal(QPoint(100, 100)))  # aboutToShow lists the ports
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    actions = {a.text(): a for a in menu.actions()}
    assert port_name in actions, f"{port_name!r} not offered; menu: {list(actions)}"
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(actions[port_name]).center())
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=2000)
    assert QSettings().value("input/port") == port_name


def _click_record(qtbot, window) -> tuple[float, float]:
    """Click the transport bar's Record button; (time before, time after) the click."""
    button = window.findChild(QToolButton, "transport_record")
    assert button is not None and button.isVisible()
    before = time.perf_counter()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return before, time.perf_counter()


def _count_in_s(project) -> float:
    return project.tempo_map.tick_to_seconds(project.time_signatures.ticks_per_bar_at(0))


def _play(port, start_s: float, played) -> list[tuple[float, float]]:
    """Send each note at its time after ``start_s``; the (on, off) times actually sent."""
    events = []
    for offset_s, pitch, velocity, held_s in played:
        events.append((start_s + offset_s, mido.Message("note_on", note=pitch, velocity=velocity)))
        events.append((start_s + offset_s + held_s, mido.Message("note_off", note=pitch, velocity=0)))
    events.sort(key=lambda e: e[0])
    sent = {}
    for due_s, message in events:
        while (left := due_s - time.perf_counter()) > 0:
            time.sleep(min(left, 0.002))
        port.send(message)
        sent.setdefault(message.note, []).append(time.perf_counter())
    return [tuple(sent[pitch]) for _, pitch, _, _ in played]


def _record_once(qtbot, window, port) -> tuple[float, float, list[tuple[float, float]]]:
    """One take: Record, count-in, the notes (sent from a thread while the GUI runs), Record again."""
    window.seek(0)
    before, after = _click_record(qtbot, window)
    assert window.transport_actions["record"].isChecked()
    assert window.recorder.is_recording
    # The notes are timed from the latest moment the count-in can end.
    result: list = []
    sender = threading.Thread(target=lambda: result.append(_play(port, after + _count_in_s(window.document.project),
                                                                 PLAYED)))
    sender.start()
    qtbot.waitUntil(lambda: not sender.is_alive(), timeout=10_000)
    sender.join()
    qtbot.wait(round(4 * JACK_PERIOD_S * 1000) + 30)  # the last note-off through JACK and the 10 ms drain
    _click_record(qtbot, window)
    assert not window.transport_actions["record"].isChecked()
    assert not window.recorder.is_recording
    return before, after, result[0]


def test_recording_from_a_jack_port_lands_in_the_current_track_as_one_undo_step(qtbot, fast_window, jack_midi):
    window = fast_window
    project = window.document.project
    tempo = project.tempo_map
    count_in_s = _count_in_s(project)
    assert count_in_s == pytest.approx(1.0)
    track_index = window.document.current_track_index
    notes_before = window.document.current_track.notes
    sender, port_name = _open_sender(jack_midi)
    try:
        _choose_input_in_menu(qtbot, window, port_name)
        for _ in range(PLAY_ATTEMPTS):
            xruns = jack_midi.xruns()
            undo_index = window.document.undo_stack.index()
            before, after, sent = _record_once(qtbot, window, sender)
            if jack_midi.xruns() == xruns:
                break
            if window.document.undo_stack.index() > undo_index:
                window.edit_actions["undo"].trigger()  # JACK itself was late: that take proves nothing, play again
        else:
            pytest.fail(f"the JACK server xrun during each of {PLAY_ATTEMPTS} takes: the machine is overloaded")
    finally:
        sender.close()

    stack = window.document.undo_stack
    assert stack.index() == undo_index + 1  # one step (index: an undone take is replaced)
    assert stack.undoText() == f"Record {len(PLAYED)} notes"
    track = window.document.project.tracks[track_index]
    recorded = _added(notes_before, track.notes)
    assert [(n.pitch, n.velocity, n.channel) for n in recorded] == [(p, v, track.channel) for _, p, v, _ in PLAYED]

    def ticks(seconds: float) -> float:
        return tempo.seconds_to_tick(seconds)

    tolerance_ticks = ticks(TOLERANCE_S)
    earliest_start_s, latest_start_s = before + count_in_s, after + count_in_s
    for note, (on_s, off_s) in zip(recorded, sent, strict=True):
        low = ticks(max(0.0, on_s - latest_start_s - TOLERANCE_S))
        high = ticks(on_s - earliest_start_s + TOLERANCE_S)
        assert low <= note.start_tick <= high, (note, low, high)
        assert abs(note.duration_ticks - ticks(off_s - on_s)) <= 2 * tolerance_ticks, note
    # Spacing between notes does not depend on when the count-in ended: it is held to the tolerance alone.
    for (a, (a_on, _)), (b, (b_on, _)) in zip(zip(recorded, sent), zip(recorded[1:], sent[1:])):
        assert abs((b.start_tick - a.start_tick) - ticks(b_on - a_on)) <= 2 * tolerance_ticks, (a, b)

    window.edit_actions["undo"].trigger()  # Edit ▸ Undo: one step takes every recorded note away
    assert window.document.project.tracks[track_index].notes == notes_before


SEQ_LOOP_S, SEQ_HELD_S = 0.2, 0.1


def _start_jack_midiseq(jack_server) -> tuple[subprocess.Popen, str]:
    """``jack_midiseq`` looping pitch 60: on for ``SEQ_HELD_S`` of every ``SEQ_LOOP_S`` (48 kHz)."""
    client = f"seq-{uuid.uuid4().hex[:6]}"
    process = subprocess.Popen(["jack_midiseq", client, "9600", "0", "60", "4800"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    jack_server.wait_for_port(f"{client}:out")
    return process, f"{client}:out"


@pytest.mark.parametrize("how", ["sender closes its port", "sender is killed"])
def test_input_port_disappearing_while_recording_is_reported_and_keeps_the_take(qtbot, fast_window, jack_midi, how):
    window = fast_window
    track_index = window.document.current_track_index
    notes_before = window.document.current_track.notes
    if how == "sender closes its port":
        sender, port_name = _open_sender(jack_midi)
        process = None
    else:
        process, port_name = _start_jack_midiseq(jack_midi)
    try:
        _choose_input_in_menu(qtbot, window, port_name)
        window.seek(0)
        _before, after = _click_record(qtbot, window)
        assert window.recorder.is_recording
        qtbot.wait(round((after + _count_in_s(window.document.project) - time.perf_counter()) * 1000) + 50)
        if process is None:
            # one whole note, then a note still held when the port goes away
            sender.send(mido.Message("note_on", note=62, velocity=90))
            qtbot.wait(100)
            sender.send(mido.Message("note_off", note=62))
            sender.send(mido.Message("note_on", note=65, velocity=80))
            qtbot.wait(100)
            sender.close()
        else:
            qtbot.wait(450)  # a couple of the sequencer's loops
            process.send_signal(signal.SIGKILL)
            process.wait(5)
        qtbot.waitUntil(lambda: "disappeared" in window.statusBar().currentMessage(), timeout=5000)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(5)
        elif process is None and not sender.closed:
            sender.close()

    message = window.statusBar().currentMessage()
    assert message.startswith(f"MIDI input {port_name!r} disappeared (jack); recording goes on without it"), message
    assert window.recorder.is_recording and window.transport_actions["record"].isChecked()
    assert window.recorder.port_gone_reason is not None
    qtbot.wait(100)  # recording (and playback) go on without the port: nothing raises in the timers
    _click_record(qtbot, window)
    assert not window.recorder.is_recording

    track = window.document.project.tracks[track_index]
    recorded = _added(notes_before, track.notes)
    if process is None:
        assert [(n.pitch, n.velocity) for n in recorded] == [(62, 90), (65, 80)]
        held = recorded[1]
        assert held.duration_ticks > 0  # the held note ends where recording stopped
    else:
        # It loops all through the count-in: those notes are not part of the take (one held across
        # its end starts at tick 0). After it, two or three loops (the last perhaps cut by the kill).
        ticks = window.document.project.tempo_map.seconds_to_tick
        assert {n.pitch for n in recorded} == {60}
        assert [n.velocity for n in recorded] == [64] * len(recorded)  # jack_midiseq's fixed velocity
        struck = [n for n in recorded if n.start_tick > 0]
        assert len(struck) >= 2 and len(recorded) - len(struck) <= 1, recorded
        for a, b in zip(struck, struck[1:]):
            assert abs(b.start_tick - a.start_tick - ticks(SEQ_LOOP_S)) <= 2 * ticks(TOLERANCE_S), (a, b)
        for note in struck[:-1]:
            assert abs(note.duration_ticks - ticks(SEQ_HELD_S)) <= 2 * ticks(TOLERANCE_S), note
    assert window.document.undo_stack.undoText() == f"Record {len(recorded)} notes"


def test_issue10_defect1_the_apps_own_ports_are_never_offered_and_record_asks_for_an_input(qtbot, fast_window, jack_midi, midi_dump):
    """Record with no input chosen used to connect the app's own output and record its playback."""
    window = fast_window
    # The app plays out through a MIDI port: its own output "Composer Assistant:out" now exists in JACK.
    window._set_output(False, midi_dump.port, None)
    window.playback.audition(60, 90, 0)
    jack_midi.wait_for_port("Composer Assistant:out")
    sender, port_name = _open_sender(jack_midi)
    try:
        menu = window.input_menu
        menu.popup(window.mapToGlobal(QPoint(100, 100)))
        qtbot.waitUntil(menu.isVisible, timeout=2000)
        offered = [a.text() for a in menu.actions()]
        menu.hide()
        assert port_name in offered
        assert not any(name.startswith("Composer Assistant") for name in offered), offered
        # Nothing chosen: Record asks (the menu opens, the status bar says so) and records nothing.
        assert not QSettings().value("input/port")
        _click_record(qtbot, window)
        assert not window.transport_actions["record"].isChecked()
        assert window.recorder is None or not window.recorder.is_recording
        assert "Choose the MIDI input" in window.statusBar().currentMessage()
        qtbot.waitUntil(menu.isVisible, timeout=2000)
        menu.hide()
        connections = jack_midi.lsp("-c")
        assert "Composer Assistant input" not in connections  # no input client was opened, nothing connected
        # A setting left pointing at the app's own output is refused the same way.
        QSettings().setValue("input/port", "Composer Assistant:out")
        _click_record(qtbot, window)
        assert not window.recorder.is_recording
    finally:
        sender.close()
        window.playback.shutdown()
