"""Real MIDI and audio peers through a JACK server (dummy backend) started by the tests.

The peers are third-party programs from Debian's jackd2: ``jack_midi_dump`` prints what it
receives, ``jack_midiseq`` sends a loop, ``jack_rec`` records audio. If jackd2 is missing these
tests fail (see conftest.py): they are the proof that MIDI leaves the app.
"""

from __future__ import annotations

import queue
import statistics
import subprocess
import sys
import time
import wave

import mido
import numpy as np
import pytest

from composer_app.core.document_io import load_document
from composer_app.core.midifile import save_midi
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.timing import TempoMap
from composer_app.core.track import Track
from composer_app.playback.fluid import FluidSynthSink
from composer_app.playback.midiports import (
    CLIENT_NAME,
    VIRTUAL_OUTPUT_NAME,
    MidiInput,
    MidiPortSink,
    PortNotFoundError,
    list_input_ports,
    list_output_ports,
)
from composer_app.playback.schedule import project_events
from composer_app.playback.sink import CC_ALL_NOTES_OFF, FakeSink
from composer_app.playback.transport import Transport
from tests.playback.conftest import JACK_PERIOD_S, PLAY_ATTEMPTS
from tests.playback.projects import faster, melody_project

pytestmark = pytest.mark.jack


def _note_events(messages):
    return [(m.type, m.channel, m.note, m.velocity) for m in messages if m.type in ("note_on", "note_off")]


def _expected_notes(project):
    return _note_events(e.message for e in project_events(project, include_programs=False))


def without_xruns(jack_server, attempt):
    """Run ``attempt()`` until one run overlaps no JACK xrun; return its result."""
    for _ in range(PLAY_ATTEMPTS):
        before = jack_server.xruns()
        result = attempt()
        if jack_server.xruns() == before:
            return result
    pytest.fail(f"the JACK server xrun during each of {PLAY_ATTEMPTS} attempts: the machine is overloaded")


def test_ports_lists_the_peer_and_falls_back_to_jack(midi_dump):
    listing = list_output_ports("jack")
    assert midi_dump.port in listing.names and listing.reason is None and listing.api == "jack"
    if sys.platform.startswith("linux"):
        fallback = list_output_ports()  # no ALSA sequencer here: the platform order goes on to JACK
        assert fallback.api in ("alsa", "jack") and (fallback.api == "alsa" or midi_dump.port in fallback.names)
    with pytest.raises(PortNotFoundError, match="no MIDI port matches 'no such synth' on jack"):
        MidiPortSink("no such synth", api="jack")


def test_example_clip_arrives_complete_and_in_order(jack_server, midi_dump, resources_dir):
    """Every note-on/off of a two-track example reaches jack_midi_dump: pitch, velocity, channel, order."""
    project = faster(load_document(resources_dir / "examples" / "two_track_waltz.mid"), 16)  # ~1.4 s
    expected = _expected_notes(project)
    assert len(expected) > 200 and {e[1] for e in expected} == {0, 1}

    def attempt():
        midi_dump.clear()
        sink = MidiPortSink(midi_dump.port.split(":")[0], api="jack")  # a unique part of the name will do
        with Transport([sink]) as transport:
            transport.play(project)
            assert transport.wait(10)
            assert sink.ok, sink.status
        midi_dump.wait_for(len(expected) + 48 + 2)
        return midi_dump.messages()

    received = without_xruns(jack_server, attempt)
    programs = [(m.channel, m.program) for m in received if m.type == "program_change"]
    assert programs == [(0, 73), (1, 0)]  # flute melody, piano accompaniment
    assert _note_events(received) == expected


def test_loopback_timing_against_the_schedule(jack_server):
    """Virtual input <- our port sink: arrival times match the schedule within about one JACK period."""
    project = melody_project(bpm=600, notes=16)  # 16 eighths, 50 ms apart
    log: queue.Queue = queue.Queue()

    def attempt():
        with MidiInput(virtual=True, api="jack", port_name="loop in") as loop_in:
            sink = MidiPortSink(f"{loop_in.port_name}", api="jack")
            with Transport([sink], timing_log=log) as transport:
                while not log.empty():
                    log.get()
                transport.play(project)
                assert transport.wait(10)
            time.sleep(3 * JACK_PERIOD_S)
            arrived = []
            while (item := loop_in.receive(0.05)) is not None:
                arrived.append(item)
            sent = []
            while not log.empty():
                sent.append(log.get())
            return sent, arrived

    sent, arrived = without_xruns(jack_server, attempt)
    sent = [r for r in sent if r.message.type.startswith("note")]
    arrived = [(t, m) for t, m in arrived if m.type.startswith("note")]
    assert [m for _, m in arrived] == [r.message for r in sent]
    send_late_s = [r.sent_s - r.due_s for r in sent]
    assert max(abs(x) for x in send_late_s) < 0.015
    latency_s = [t - r.due_s for (t, _), r in zip(arrived, sent, strict=True)]
    assert min(latency_s) > -0.001  # nothing arrives before it is due
    assert statistics.median(latency_s) < 2 * JACK_PERIOD_S + 0.003
    assert max(latency_s) < 2 * JACK_PERIOD_S + 0.020


def test_stop_mid_note_leaves_no_stuck_note(jack_server, midi_dump):
    held = Project(tracks=(Track(channel=4, notes=[Note(0, 64, 4800, velocity=101, channel=4)]),),
                   tempo_map=TempoMap.constant(120))  # 5 s

    def attempt():
        midi_dump.clear()
        sink = MidiPortSink(midi_dump.port, api="jack")
        transport = Transport([sink])
        try:
            transport.play(held)
            time.sleep(0.15)
            transport.stop()
        finally:
            transport.close(close_sinks=False)
        midi_dump.wait_for(2 + 1 + 48)
        sink.close()
        return midi_dump.messages()

    received = without_xruns(jack_server, attempt)
    on = received.index(mido.Message("note_on", channel=4, note=64, velocity=101))
    off = received.index(mido.Message("note_off", channel=4, note=64, velocity=64))
    assert on < off
    all_notes_off = {m.channel for m in received[off:] if m.type == "control_change" and m.control == CC_ALL_NOTES_OFF}
    assert all_notes_off == set(range(16))


def test_closing_right_after_a_burst_delivers_all_of_it_and_the_panic(jack_server, midi_dump):
    """rtmidi queues JACK output until the next period: closing must not drop the queue.

    Without the wait in ``MidiPortSink._close`` about 1 close in 100 (3 in 100 at 256-frame periods)
    lost the last notes and the whole panic, so each attempt closes 20 times.
    """
    burst = [mido.Message(kind, channel=1, note=60 + i, velocity=90 if kind == "note_on" else 64)
             for i in range(12) for kind in ("note_on", "note_off")]

    def attempt():
        counts = []
        for _ in range(20):
            midi_dump.clear()
            sink = MidiPortSink(midi_dump.port, api="jack")
            for message in burst:
                sink.send(message)
            sink.close()  # at once: the panic follows the burst into the queue
            midi_dump.wait_for(len(burst) + 48, timeout_s=10)  # returns as soon as all is there (a busy peer prints late)
            counts.append(len(midi_dump.messages()))
        return counts

    counts = without_xruns(jack_server, attempt)
    assert counts == [len(burst) + 48] * 20


def test_peer_disappearing_mid_playback_is_reported_and_playback_goes_on(jack_server, midi_dump):
    project = melody_project(bpm=480, notes=16)  # 1 s
    port_sink = MidiPortSink(midi_dump.port, api="jack")
    fake = FakeSink()
    changes = []
    port_sink.add_status_listener(lambda sink: changes.append(sink.status))
    with Transport([port_sink, fake]) as transport:
        transport.play(project)
        time.sleep(0.25)
        midi_dump.stop()  # the peer quits while we play
        assert transport.wait(10)  # no exception escapes; playback ends normally
    assert port_sink.failed
    assert port_sink.status == f"MIDI port '{midi_dump.port}' disappeared (jack); playback goes on without it"
    assert changes == [port_sink.status]
    assert len([m for m in fake.messages if m.type.startswith("note")]) == 32  # the other sink got everything


def test_virtual_output_port_reaches_a_peer_that_connects_to_it(jack_server, midi_dump):
    def attempt():
        midi_dump.clear()
        with MidiPortSink(virtual=True, api="jack") as sink:
            full_name = f"{CLIENT_NAME}:{VIRTUAL_OUTPUT_NAME}"
            jack_server.wait_for_port(full_name)
            assert full_name in list_input_ports("jack").names  # others read from it
            subprocess.run(["jack_connect", "-s", jack_server.name, full_name, midi_dump.port], check=True, timeout=10)
            time.sleep(0.05)
            sink.send(mido.Message("note_on", channel=2, note=67, velocity=77))
            sink.send(mido.Message("note_off", channel=2, note=67, velocity=64))
            midi_dump.wait_for(2)
        return midi_dump.messages()

    received = without_xruns(jack_server, attempt)
    assert received[:2] == [
        mido.Message("note_on", channel=2, note=67, velocity=77),
        mido.Message("note_off", channel=2, note=67, velocity=64),
    ]


def test_port_sink_moves_everything_to_the_chosen_channel(jack_server, midi_dump):
    def attempt():
        midi_dump.clear()
        sink = MidiPortSink(midi_dump.port, api="jack", channel=9)
        with Transport([sink]) as transport:
            transport.play(melody_project(notes=2, channel=0))
            assert transport.wait(5)
        midi_dump.wait_for(5)
        return midi_dump.messages()

    received = without_xruns(jack_server, attempt)
    assert {m.channel for m in received if m.type.startswith("note")} == {9}


def test_midi_input_from_a_third_party_sender(jack_server):
    """jack_midiseq plays a loop; MidiInput delivers timestamped messages on its queue."""
    client = "seq-test"
    seq = subprocess.Popen(["jack_midiseq", client, "4800", "0", "60", "2400"],  # 0.1 s loop at 48 kHz
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        jack_server.wait_for_port(f"{client}:out")
        assert f"{client}:out" in list_input_ports("jack").names
        with MidiInput(client, api="jack") as midi_in:
            assert midi_in.port_name == f"{client}:out"
            first = midi_in.queue.get(timeout=2)
            received = [first] + [midi_in.queue.get(timeout=1) for _ in range(5)]
    finally:
        seq.terminate()
        seq.wait(5)
    times = [t for t, _ in received]
    assert times == sorted(times)
    assert {m.type for _, m in received} == {"note_on", "note_off"}
    assert {m.note for _, m in received} == {60}


def test_fluidsynth_sink_plays_sound_through_jack(jack_server, tmp_path):
    """With an audio server present the synth opens it; jack_rec records what it plays."""
    sink = FluidSynthSink(drivers=("jack",))
    try:
        assert sink.ok, sink.status
        assert sink.status == f"playing through jack with {sink.soundfont.name}"
        jack_server.wait_for_port("fluidsynth:left")
        out = tmp_path / "live.wav"
        rec = subprocess.Popen(["jack_rec", "-f", str(out), "-d", "1", "fluidsynth:left", "fluidsynth:right"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.2)
        with Transport([sink]) as transport:
            transport.audition_note(69, velocity=110, duration_ms=500)
            rec.wait(10)
            transport.close(close_sinks=False)
    finally:
        sink.close()
    with wave.open(str(out)) as wav:
        raw = wav.readframes(wav.getnframes())
        width = wav.getsampwidth()
    samples = np.frombuffer(raw, dtype={2: "<i2", 4: "<i4"}[width]).astype(np.float64) / (2 ** (8 * width - 1))
    rms_dbfs = 20 * np.log10(np.sqrt((samples**2).mean()) + 1e-12)
    assert rms_dbfs > -50, rms_dbfs


def test_play_command_into_a_jack_port(jack_server, midi_dump, resources_dir, tmp_path):
    """`composer-app play CLIP --port NAME --midi-api jack` as a user runs it, into jack_midi_dump."""
    clip = tmp_path / "fast.mid"
    project = faster(load_document(resources_dir / "examples" / "c_major_melody.mid"), 12)  # ~1.5 s
    save_midi(project, clip)
    expected = _expected_notes(load_document(clip))

    def attempt():
        midi_dump.clear()
        done = subprocess.run(
            [sys.executable, "-m", "composer_app", "play", str(clip), "--port", midi_dump.port, "--midi-api", "jack"],
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        midi_dump.wait_for(len(expected) + 48 + 1)
        return done, midi_dump.messages()

    done, received = without_xruns(jack_server, attempt)
    assert done.stdout.startswith(f"playing {clip}")
    assert done.stdout.rstrip().endswith("done")
    assert done.stderr == ""
    assert _note_events(received) == expected


def test_ports_command_lists_jack_ports(jack_server, midi_dump):
    done = subprocess.run(
        [sys.executable, "-m", "composer_app", "ports", "--midi-api", "jack"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0
    assert f"MIDI outputs (jack):\n  {midi_dump.port}\n" in done.stdout
    assert "MIDI inputs: none (no MIDI input ports on jack)" in done.stdout


# -- the play command under every stop (issue 9) -------------------------------------------------


def _held_note_clip(tmp_path, seconds: int = 20):
    """A clip whose one note (channel 3, pitch 67) sounds for ``seconds``: a stuck note would ring."""
    clip = tmp_path / "held.mid"
    save_midi(Project(tracks=(Track(channel=2, notes=[Note(0, 67, 960 * seconds, velocity=99, channel=2)]),),
                      tempo_map=TempoMap.constant(120), ticks_per_quarter=480), clip)
    return clip


def _start_play(clip, port: str, extra_env: dict | None = None) -> subprocess.Popen:
    import os

    process = subprocess.Popen(
        [sys.executable, "-m", "composer_app", "play", str(clip), "--port", port, "--midi-api", "jack"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(extra_env or {})},
    )
    line = process.stdout.readline()
    assert line.startswith(f"playing {clip}"), line + process.stderr.read()
    return process


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_play_killed_by_a_signal_sends_note_off_and_all_notes_off_to_the_peer(
    jack_server, midi_dump, tmp_path, signal_name
):
    import signal

    clip = _held_note_clip(tmp_path)
    midi_dump.clear()
    process = _start_play(clip, midi_dump.port)
    note_on = mido.Message("note_on", channel=2, note=67, velocity=99)
    deadline = time.monotonic() + 10
    while note_on not in midi_dump.messages() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert note_on in midi_dump.messages()
    process.send_signal(getattr(signal, signal_name))
    _, err = process.communicate(timeout=20)
    expected_code = {"SIGINT": 130}.get(signal_name, 128 + getattr(signal, signal_name))
    assert process.returncode == expected_code, err
    midi_dump.wait_for(2 + 1 + 48)
    received = midi_dump.messages()
    after = received[received.index(note_on) + 1 :]
    assert mido.Message("note_off", channel=2, note=67, velocity=64) in after
    all_notes_off = {m.channel for m in after if m.type == "control_change" and m.control == CC_ALL_NOTES_OFF}
    assert all_notes_off == set(range(16))
    assert err.count("\n") == 1 and "Traceback" not in err
    if signal_name != "SIGINT":
        assert err == f"composer-app play: stopped by {signal_name}; all notes off sent\n"


def test_play_ends_with_a_clear_message_when_its_peer_quits(jack_server, midi_dump, tmp_path):
    clip = _held_note_clip(tmp_path)
    process = _start_play(clip, midi_dump.port)
    time.sleep(0.3)
    midi_dump.stop()
    started = time.monotonic()
    _, err = process.communicate(timeout=20)
    assert time.monotonic() - started < 3  # not the 20 s the clip lasts
    assert process.returncode == 1
    assert err == (
        f"composer-app play: MIDI port '{midi_dump.port}' disappeared (jack); playback goes on without it\n"
        "composer-app play: stopped: every output was lost\n"
    )


def test_play_ends_with_a_clear_message_when_the_jack_server_dies(tmp_path):
    """A JACK server of this test's own, killed (-9) while play sends to a peer on it."""
    import os
    import signal
    import uuid

    from tests.jack_fixtures import JACK_START_TIMEOUT_S, _require

    name = f"composer-kill-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": name}
    server = subprocess.Popen([_require("jackd"), "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    dump = None
    try:
        subprocess.run(["jack_wait", "-s", name, "-w", "-t", str(JACK_START_TIMEOUT_S)], env=env, check=True,
                       capture_output=True, timeout=JACK_START_TIMEOUT_S + 5)
        dump = subprocess.Popen(["jack_midi_dump", "peer"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while "peer:input" not in subprocess.run(["jack_lsp", "-s", name], capture_output=True, text=True).stdout:
            assert time.monotonic() < deadline, "the peer's port did not appear"
            time.sleep(0.05)
        process = _start_play(_held_note_clip(tmp_path), "peer:input", {"JACK_DEFAULT_SERVER": name})
        time.sleep(0.3)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        started = time.monotonic()
        _, err = process.communicate(timeout=20)
        assert time.monotonic() - started < 5
        assert process.returncode == 1, err
        assert err.endswith("composer-app play: stopped: every output was lost\n"), err
        assert "Traceback" not in err
    finally:
        for child in (dump, server):
            if child is not None and child.poll() is None:
                child.kill()
                child.wait(10)
        _release_registry_slot(name, env)


def _release_registry_slot(name: str, env: dict) -> None:
    """Give back the slot a killed JACK server keeps in JACK's registry of at most 8 servers.

    A server killed with -9 never unregisters, and libjack reclaims the slot only for a server of
    the same name: start one under that name and stop it properly, or after eight such tests no
    JACK server on the machine could start ("Too many servers already active").
    """
    import signal

    again = subprocess.Popen(["jackd", "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    subprocess.run(["jack_wait", "-s", name, "-w", "-t", "10"], env=env, capture_output=True, timeout=15)
    again.send_signal(signal.SIGTERM)
    try:
        again.wait(10)
    except subprocess.TimeoutExpired:
        again.kill()
        again.wait(10)


def test_closing_while_the_jack_server_is_stalled_does_not_hold_the_caller(jack_server, monkeypatch):
    """A stalled server (stopped with SIGSTOP: alive, not answering) once held a closing thread for minutes.

    The watch client's close gives up waiting after ``CLOSE_WAIT_S`` and says so; libjack finishes the
    close on its own thread once the server answers again.
    """
    import os
    import signal
    import threading

    from composer_app.playback.midiports import _JackServerWatch

    monkeypatch.setattr(_JackServerWatch, "CLOSE_WAIT_S", 0.5)
    watch = _JackServerWatch("stall-test")
    assert watch._client, "the watch client did not open on the test server"
    os.kill(jack_server.process.pid, signal.SIGSTOP)
    safety_net = threading.Timer(20, os.kill, (jack_server.process.pid, signal.SIGCONT))  # a broken close
    safety_net.start()  # would wait for the server forever (as it did before the fix) and keep it stopped
    try:
        watch.close()
        assert watch.close_stalled and not watch.lost
        assert any(t.name == "jack-watch-close" for t in threading.enumerate())
    finally:
        safety_net.cancel()
        os.kill(jack_server.process.pid, signal.SIGCONT)
    for thread in [t for t in threading.enumerate() if t.name == "jack-watch-close"]:
        thread.join(30)
        assert not thread.is_alive(), "libjack did not finish the close after the server resumed"
    assert "stall-test" not in jack_server.lsp()
