"""Faults at run time, against real JACK peers: no stuck notes, and a lost port is said and found again.

Finding 5 and 6 of issue 9 on the GUI side: killing the MIDI peer or the JACK server during
playback left the status bar saying "sending to port …"; the window closing, the playback thread
dying and the app being killed must all end with all-notes-off at the port (for ``kill -9``: at the
next launch). The peer is ``jack_midi_dump`` (third-party), the port is chosen the way a user does,
and the server for the server-killing tests is one of this test's own (the session's must live on).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import mido
import pytest
from PySide6.QtCore import QPoint, Qt

from composer_app.core.note import Note
from composer_app.core.project import LoopRegion, Project
from composer_app.core.track import Track
from composer_app.playback.midiports import MidiPortSink, mido_backend_name
from composer_app.playback.sink import CC_ALL_NOTES_OFF, Sink
from tests.jack_fixtures import JACK_PERIOD_FRAMES, JACK_SAMPLE_RATE_HZ, JackServer, MidiDump, _require
from tests.ui.conftest import TPQ, show_window

REPO = Path(__file__).resolve().parents[2]
LOSS_NOTICED_S = 1.0  # the bound: the status bar and the output menu say so within a second
PITCH = 67


def held_note_project(bars: int = 8) -> Project:
    """One note held for ``bars`` bars (so it is sounding whenever the test acts), looped."""
    ticks = bars * 4 * TPQ
    return Project(
        tracks=(Track("Pad", notes=(Note(0, PITCH, ticks - 10, 100, 0),)),),
        ticks_per_quarter=TPQ, title="held", loop=LoopRegion(0, ticks),
    )


def _all_notes_off(messages) -> set[int]:
    """Channels that received all-notes-off (CC 123)."""
    return {m.channel for m in messages if m.type == "control_change" and m.control == CC_ALL_NOTES_OFF}


def _note_ons(messages) -> list:
    return [m for m in messages if m.type == "note_on" and m.velocity > 0]


def _start_dump(server_name: str, client: str, out_path: Path) -> MidiDump:
    stdbuf = shutil.which("stdbuf")
    command = ([stdbuf, "-oL"] if stdbuf else []) + ["jack_midi_dump", "-a", client]
    env = dict(os.environ, JACK_DEFAULT_SERVER=server_name, JACK_NO_START_SERVER="1")
    with open(out_path, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    return MidiDump(client, process, out_path)


def _start_jackd(name: str, log_path: Path) -> JackServer:
    env = dict(os.environ, JACK_NO_START_SERVER="1")
    with open(log_path, "wb") as log:
        process = subprocess.Popen([_require("jackd"), "-n", name, "-d", "dummy", "-r", str(JACK_SAMPLE_RATE_HZ), "-p", str(JACK_PERIOD_FRAMES)],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    waited = subprocess.run(["jack_wait", "-s", name, "-w", "-t", "10"], capture_output=True, text=True, timeout=20, env=env)
    assert waited.returncode == 0, waited.stdout + waited.stderr
    return JackServer(name, process, log_path)


@pytest.fixture
def own_jack(monkeypatch, tmp_path):
    """A JACK server of this test alone (killed and restarted by it), and a peer on it."""
    _require("jack_midi_dump")
    name = f"composer-faults-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    monkeypatch.setenv("MIDO_BACKEND", mido_backend_name("jack"))
    servers = [_start_jackd(name, tmp_path / "jackd.log")]
    dumps = [_start_dump(name, f"synth{uuid.uuid4().hex[:4]}", tmp_path / "dump0.txt")]
    servers[0].wait_for_port(dumps[0].port)
    yield servers, dumps
    for dump in dumps:
        dump.stop()
    if all(server.process.poll() is not None for server in servers):
        # libjack frees a SIGKILLed server's registry slot (8 in all, shared by the machine) only
        # when a server of the same name starts: start one, so that it can be stopped cleanly.
        servers.append(_start_jackd(name, tmp_path / "jackd-reclaim.log"))
    for server in servers:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)  # a clean stop unregisters the server
            try:
                server.process.wait(5)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(5)


@pytest.fixture
def jack_midi(jack_server, monkeypatch):
    monkeypatch.setenv("MIDO_BACKEND", mido_backend_name("jack"))
    return jack_server


def _choose_output_in_menu(qtbot, window, port: str) -> None:
    """Transport ▸ Output ▸ <port>, clicked with the mouse; the built-in synth off (no sound card here)."""
    window._set_output(False, None, None)
    menu = window.output_menu
    menu.popup(window.mapToGlobal(QPoint(100, 100)))
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    actions = {a.text(): a for a in menu.actions()}
    assert port in actions, f"{port!r} not offered; menu: {list(actions)}"
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(actions[port]).center())
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=2000)
    assert window.playback.port_name == port


def _output_menu_texts(qtbot, window) -> list[str]:
    menu = window.output_menu
    menu.popup(window.mapToGlobal(QPoint(100, 100)))
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    texts = [a.text() for a in menu.actions()]
    menu.hide()
    return texts


def _play_until_heard(qtbot, window, dump: MidiDump) -> None:
    window.transport_actions["loop"].setChecked(True)
    window.play(0)
    qtbot.waitUntil(lambda: bool(_note_ons(dump.messages())), timeout=5000)


def test_peer_killed_is_said_within_a_second_and_found_again(qtbot, jack_midi, midi_dump, tmp_path, artifacts_dir):
    window = show_window(qtbot, held_note_project())
    _choose_output_in_menu(qtbot, window, midi_dump.port)
    _play_until_heard(qtbot, window, midi_dump)
    assert "sending to port" in window.output_label.text()

    midi_dump.process.kill()
    midi_dump.process.wait(5)
    killed_at = time.monotonic()
    qtbot.waitUntil(lambda: "lost" in window.output_label.text(), timeout=3000)
    noticed_s = time.monotonic() - killed_at
    (artifacts_dir / "port-loss.json").write_text(json.dumps({"peer_killed_noticed_s": round(noticed_s, 3)}))
    assert noticed_s <= LOSS_NOTICED_S, noticed_s
    assert window.output_label.text().startswith(f"MIDI out: {midi_dump.port} lost (port gone)")
    assert f"{midi_dump.port} (lost: reconnects when it returns)" in _output_menu_texts(qtbot, window)
    window.grab().save(str(artifacts_dir / "status-port-lost.png"))
    assert window.playback.is_playing  # playback goes on (to the other outputs)

    # The same synth starts again: it is offered in the menu and used again, silenced first.
    back = _start_dump(jack_midi.name, midi_dump.client, tmp_path / "dump-back.txt")
    try:
        jack_midi.wait_for_port(back.port)
        with qtbot.waitSignal(window.playback.port_back, timeout=3000):
            pass
        qtbot.waitUntil(lambda: "sending to port" in window.output_label.text(), timeout=2000)
        assert not any("(lost" in t for t in _output_menu_texts(qtbot, window))
        assert back.port in _output_menu_texts(qtbot, window)
        qtbot.waitUntil(lambda: _all_notes_off(back.messages()) == set(range(16)), timeout=2000)
        window.seek(0)  # the note starts again from the top of the loop: it reaches the new peer
        qtbot.waitUntil(lambda: bool(_note_ons(back.messages())), timeout=3000)
    finally:
        window.stop()
        back.stop()


SERVER_KILL_PLAYER = r"""
import sys, time
from PySide6.QtCore import QTimer
from composer_app.ui.app import ensure_application, create_main_window

song, port, shot = sys.argv[1:4]
app = ensure_application()
window = create_main_window(song)
window.files.confirm_discard = lambda: "discard"
window.transport_actions["loop"].setChecked(True)
window._set_output(False, port, None)

def on_status(text):
    print("STATUS", repr(time.time()), text, flush=True)
    if "lost" in text:
        window._fill_output_menu()
        print("MENU", " | ".join(a.text() for a in window.output_menu.actions()), flush=True)
        window.grab().save(shot)

def on_back(name):
    QTimer.singleShot(0, lambda: print("BACK", repr(time.time()), window.output_label.text(), flush=True))
    QTimer.singleShot(1000, close)

def close():
    window.close()
    print("CLOSED", flush=True)
    app.quit()

window.playback.status_changed.connect(on_status)
window.playback.port_back.connect(on_back)
QTimer.singleShot(500, lambda: (window.play(0), print("PLAYING", flush=True)))
sys.exit(app.exec())
"""


def test_jack_server_killed_is_said_within_a_second_and_the_app_survives(own_jack, tmp_path, artifacts_dir):
    """In a child process: with the server gone, libjack must never be asked to close the lost client."""
    from composer_app.core.projectfile import save_project

    servers, dumps = own_jack
    song = tmp_path / "held.composer"
    save_project(held_note_project(), song)
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    shot = artifacts_dir / "status-jack-server-lost.png"
    player = subprocess.Popen([sys.executable, "-c", SERVER_KILL_PLAYER, str(song), dumps[0].port, str(shot)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO)

    def next_line(prefix: str) -> str:
        for line in player.stdout:
            if line.startswith(prefix):
                return line.rstrip("\n")
        raise AssertionError(f"the player ended before {prefix!r} (exit code {player.wait(10)})")

    try:
        next_line("PLAYING")
        deadline = time.monotonic() + 10
        while not _note_ons(dumps[0].messages()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _note_ons(dumps[0].messages())
        servers[0].process.kill()
        servers[0].process.wait(5)
        killed_at = time.time()
        while "lost" not in (status := next_line("STATUS")):
            pass
        _, at, text = status.split(" ", 2)
        report = artifacts_dir / "port-loss.json"
        figures = json.loads(report.read_text()) if report.exists() else {}
        report.write_text(json.dumps({**figures, "jack_server_killed_noticed_s": round(float(at) - killed_at, 3)}))
        assert float(at) - killed_at <= LOSS_NOTICED_S, (float(at) - killed_at, text)
        # Whichever notices first: the port watcher (no server) or the playback thread (port gone).
        assert f"MIDI out: {dumps[0].port} lost (JACK server gone)" in text or f"MIDI out: {dumps[0].port} lost (port gone)" in text
        assert f"{dumps[0].port} (lost: reconnects when it returns)" in next_line("MENU")

        servers.append(_start_jackd(servers[0].name, tmp_path / "jackd2.log"))
        dumps.append(_start_dump(servers[0].name, dumps[0].client, tmp_path / "dump1.txt"))
        servers[-1].wait_for_port(dumps[-1].port)
        back = next_line("BACK")
        assert f"sending to port {dumps[-1].port!r}" in back
        next_line("CLOSED")
        assert player.wait(30) == 0, "the app did not close cleanly after the server came back"
    finally:
        player.kill()
        player.wait(10)
    # Delivery to the new peer is not asserted here: a restarted server whose old client died mid-cycle
    # sometimes stalls its graph for a while ("JackEngine::ClientKill … cannot be removed from the graph"
    # in its log). The peer test above checks the silencing and playing after a reconnection.


def test_window_close_while_a_note_sounds_sends_all_notes_off(qtbot, jack_midi, midi_dump):
    window = show_window(qtbot, held_note_project())
    _choose_output_in_menu(qtbot, window, midi_dump.port)
    _play_until_heard(qtbot, window, midi_dump)
    window.close()
    qtbot.waitUntil(lambda: _all_notes_off(midi_dump.messages()) == set(range(16)), timeout=3000)
    offs = [m for m in midi_dump.messages() if m.type in ("note_off", "note_on") and m.note == PITCH and getattr(m, "velocity", 1) == 0 or m.type == "note_off"]
    assert offs, "the sounding note was not released"


class _ExplodingSink(Sink):
    """A backend that once raises what no sink should (SystemExit) after a few messages: the thread dies."""

    def __init__(self, after: int):
        super().__init__("exploding")
        self.left = after

    def _send(self, msg: mido.Message) -> None:
        self.left -= 1
        if self.left == 0:
            raise SystemExit("backend bug")


# The thread's death is the point of the test: pytest's report of it is expected, not a finding.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_playback_thread_dying_silences_every_port(qtbot, jack_midi, midi_dump):
    window = show_window(qtbot, replace(held_note_project(), tracks=(
        Track("Pad", notes=(Note(0, PITCH, 8 * 4 * TPQ - 10, 100, 0), *(Note(i * TPQ, 72, 100, 90, 1) for i in range(1, 32)))),
    )))
    port = MidiPortSink(midi_dump.port)
    window.playback.sink_factory = lambda: [port, _ExplodingSink(after=8)]  # a program, a few notes, then the bug
    window.transport_actions["loop"].setChecked(True)
    window.play(0)
    qtbot.waitUntil(lambda: bool(_note_ons(midi_dump.messages())), timeout=5000)
    qtbot.waitUntil(lambda: not window.playback.is_playing, timeout=5000)
    qtbot.waitUntil(lambda: _all_notes_off(midi_dump.messages()) == set(range(16)), timeout=2000)
    assert "internal error" in window.output_label.text()
    assert not window.transport_actions["play"].isChecked()


KILLED_PLAYER = r"""
import sys
from PySide6.QtCore import QTimer
from composer_app.ui.app import ensure_application, create_main_window
app = ensure_application()
window = create_main_window(sys.argv[1])
window._set_output(False, sys.argv[2], None)
QTimer.singleShot(500, lambda: (window.play(0), print("PLAYING", flush=True)))
app.exec()
"""

NEXT_LAUNCH = r"""
import os
from PySide6.QtCore import QTimer
from composer_app.ui.app import ensure_application, create_main_window
app = ensure_application()
window = create_main_window(None)
QTimer.singleShot(3000, lambda: (print("STATUS", window.output_label.text(), flush=True), os._exit(0)))
app.exec()
"""


def test_kill_9_while_playing_then_the_next_launch_silences_the_port(jack_midi, midi_dump, tmp_path):
    from composer_app.core.projectfile import save_project

    song = tmp_path / "held.composer"
    save_project(held_note_project(), song)
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    player = subprocess.Popen([sys.executable, "-c", KILLED_PLAYER, str(song), midi_dump.port],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO)
    try:
        assert player.stdout.readline().strip() == "PLAYING"
        deadline = time.monotonic() + 10
        while not _note_ons(midi_dump.messages()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _note_ons(midi_dump.messages()), "the killed session never played"
        os.kill(player.pid, signal.SIGKILL)
    finally:
        player.kill()
        player.wait(10)
    time.sleep(0.5)
    heard = midi_dump.messages()
    # What a peer sees after kill -9: the note-on, and nothing more: the note hangs on a synth.
    assert _note_ons(heard) and not _all_notes_off(heard)
    assert not [m for m in heard if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0)]

    launch = subprocess.run([sys.executable, "-c", NEXT_LAUNCH], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert "Sent all-notes-off to " + midi_dump.port in launch.stdout, launch.stdout + launch.stderr[-2000:]
    assert _all_notes_off(midi_dump.messages()) == set(range(16))
