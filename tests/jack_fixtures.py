"""JACK fixtures shared by tests/playback and tests/ui: a JACK server with the dummy backend, a MIDI peer.

Registered for the whole test tree by ``pytest_plugins`` in tests/conftest.py (one definition,
so one session server however many directories use it).

JACK is how these tests reach real MIDI ports on a machine without a sound card or an ALSA
sequencer. ``jackd2`` is a declared system dependency (scripts/setup.sh installs it): when it is
missing the JACK tests FAIL, they do not skip, so that a broken install cannot pass CI silently.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest


JACK_SAMPLE_RATE_HZ = 48000
# 21 ms at 48 kHz, JACK's usual default. At 256 frames (5.3 ms) the dummy server xrun every few
# seconds on an idle 2-core VM, and a CI run failed with an xrun in each of 3 attempts of a test.
JACK_PERIOD_FRAMES = 1024
JACK_PERIOD_S = JACK_PERIOD_FRAMES / JACK_SAMPLE_RATE_HZ
JACK_START_TIMEOUT_S = 10
PLAY_ATTEMPTS = 5  # a playback during which the JACK graph itself xruns is repeated (see JackServer.xruns)


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(
            f"{program} is not installed: the JACK MIDI tests need Debian's jackd2 "
            "(scripts/setup.sh installs it; apt-get install jackd2)",
            pytrace=False,
        )
    return path


@dataclass
class JackServer:
    name: str
    process: subprocess.Popen
    log_path: Path

    def lsp(self, *flags: str) -> str:
        """What ``jack_lsp`` (a third-party client) lists on this server."""
        return subprocess.run(
            ["jack_lsp", "-s", self.name, *flags], capture_output=True, text=True, timeout=10
        ).stdout

    def xruns(self) -> int:
        """How many xruns the server has logged so far.

        In an xrun the dummy driver's cycle ran late (CPU starvation) and JACK itself may drop or
        repeat MIDI events between clients. A test that checks every byte repeats a playback that
        overlapped an xrun, instead of blaming the app for what the server did.
        """
        return self.log_path.read_text(errors="replace").count("XRun")

    def wait_for_port(self, port: str, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if port in self.lsp().splitlines():
                return
            time.sleep(0.05)
        listed = subprocess.run(["jack_lsp", "-s", self.name], capture_output=True, text=True, timeout=10)
        raise AssertionError(
            f"JACK port {port!r} did not appear; jack_lsp exit {listed.returncode}: ports {listed.stdout!r}, "
            f"stderr {listed.stderr.strip()[-300:]!r}; server {'running' if self.process.poll() is None else 'exited'}"
        )


SERVER_START_ATTEMPTS = 3  # a server that starts but that no client can reach is replaced (seen once in CI)


def _start_server(jackd: str, name: str, log_path: Path, env: dict) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        # -R asks for real-time scheduling; where it is not allowed jackd says so and runs without.
        return subprocess.Popen(
            [jackd, "-R", "-n", name, "-d", "dummy", "-r", str(JACK_SAMPLE_RATE_HZ), "-p", str(JACK_PERIOD_FRAMES)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
        )


def _stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _reachable(name: str, env: dict, timeout_s: float = 5.0) -> str:
    """'' when a third-party client (jack_lsp) lists the dummy driver's ports, else what it said."""
    deadline = time.monotonic() + timeout_s
    said = ""
    while time.monotonic() < deadline:
        listed = subprocess.run(["jack_lsp", "-s", name], capture_output=True, text=True, timeout=10, env=env)
        if "system:playback_1" in listed.stdout.splitlines():
            return ""
        said = f"jack_lsp exit {listed.returncode}: {listed.stdout.strip()!r} {listed.stderr.strip()[-300:]!r}"
        time.sleep(0.1)
    return said


@pytest.fixture(scope="session")
def jack_server_session(tmp_path_factory):
    """A JACK server with the dummy backend, unique to this test session (started on first use).

    Started servers are checked with a third-party client; one that no client can reach is
    stopped and replaced, up to ``SERVER_START_ATTEMPTS`` times.
    """
    jackd = _require("jackd")
    _require("jack_wait")
    _require("jack_lsp")
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    failures = []
    for attempt in range(SERVER_START_ATTEMPTS):
        name = f"composer-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        log_path = tmp_path_factory.mktemp("jack") / "jackd.log"
        process = _start_server(jackd, name, log_path, env)
        waited = subprocess.run(
            ["jack_wait", "-s", name, "-w", "-t", str(JACK_START_TIMEOUT_S)],
            capture_output=True, text=True, timeout=JACK_START_TIMEOUT_S + 5, env=env,
        )
        problem = (f"jack_wait: {waited.stdout}{waited.stderr}" if waited.returncode != 0 or process.poll() is not None
                   else _reachable(name, env))
        if not problem:
            break
        _stop_server(process)
        failures.append(f"attempt {attempt + 1}: {problem}\n{log_path.read_text(errors='replace')[-500:]}")
    else:
        pytest.fail("jackd did not start or could not be reached:\n" + "\n".join(failures), pytrace=False)
    try:
        yield JackServer(name, process, log_path)
    finally:
        _stop_server(process)


@pytest.fixture
def jack_server(jack_server_session, monkeypatch):
    """The session's JACK server, with the environment pointing JACK clients at it for one test.

    (Only for that test: other tests, the GUI's among them, must not find a JACK server by accident.)
    """
    monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_server_session.name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    return jack_server_session


# jack_midi_dump -a prints e.g. "  1234: 90 3c 64 note on  (channel  0): pitch  60, velocity 100"
_DUMP_LINE = re.compile(r"^\s*(\d+):\s+((?:[0-9a-f]{2}\s?)+)", re.IGNORECASE)


@dataclass
class MidiDump:
    """``jack_midi_dump``, a third-party JACK MIDI peer, and what it printed."""

    client: str
    process: subprocess.Popen
    out_path: Path
    start_offset: int = 0  # bytes of output before the last clear()

    @property
    def port(self) -> str:
        return f"{self.client}:input"

    def events(self) -> list[tuple[int, bytes]]:
        """(frame time, message bytes) for every message received so far."""
        events = []
        with open(self.out_path, "rb") as stream:
            stream.seek(self.start_offset)
            text = stream.read().decode(errors="replace")
        lines = text.splitlines()
        if lines and not text.endswith("\n"):
            lines.pop()  # a line still being written
        for line in lines:
            match = _DUMP_LINE.match(line)
            if match:
                events.append((int(match.group(1)), bytes.fromhex(match.group(2).replace(" ", ""))))
        return events

    def clear(self) -> None:
        """Forget what was received so far (the program keeps running)."""
        self.start_offset = self.out_path.stat().st_size

    def messages(self):
        import mido

        return [mido.Message.from_bytes(data) for _, data in self.events()]

    def wait_for(self, count: int, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(self.events()) < count:
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture
def midi_dump(jack_server, tmp_path):
    """A fresh ``jack_midi_dump`` with absolute timestamps, its input port registered."""
    _require("jack_midi_dump")
    client = f"dump{uuid.uuid4().hex[:6]}"
    out_path = tmp_path / "midi_dump.txt"
    stdbuf = shutil.which("stdbuf")
    command = ([stdbuf, "-oL"] if stdbuf else []) + ["jack_midi_dump", "-a", client]
    with open(out_path, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, start_new_session=True)
    dump = MidiDump(client, process, out_path)
    try:
        jack_server.wait_for_port(dump.port)
        yield dump
    finally:
        dump.stop()
