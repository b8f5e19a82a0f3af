"""MIDI timing through a real JACK loopback, idle and under a generation load; offline render speed.

What it does:
1. Starts its own JACK server (dummy backend, real-time if allowed, period P frames at 48 kHz;
   --periods, default 64 and 128), opens a virtual MIDI input in this process and a
   ``MidiPortSink`` connected to it.
2. Plays a project of --events MIDI events (note-ons and note-offs at irregular 5-15 ms steps)
   through the ``Transport`` and records, for every event, when it was due, when the scheduler
   sent it (``timing_log``) and when it came back through JACK (``MidiInput``).
3. Does it twice: on an idle machine, and while a generation job runs in a worker thread of the
   same process (the app's real engine when trained weights are installed, else a stand-in:
   autoregressive decoding with a 4-layer d=256 Transformer in torch, the size of the shipped one).
4. Renders the example clips and a 2-minute piece offline and reports the real-time factor.

Numbers: |sent - due| (scheduler precision) and |arrived - due| (what a peer sees: includes the
JACK period, since rtmidi hands events to JACK at the start of the next cycle), as median, p99
and max in milliseconds. Target: p99 of |arrived - due| within one JACK period + 1 ms idle and
+ 3 ms under load. Writes bench/results/midi_timing.json.

Run: .venv/bin/python bench/midi_timing.py [--events 2000] [--periods 64 128] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["JACK_NO_START_SERVER"] = "1"

from composer_app.core.note import Note  # noqa: E402
from composer_app.core.project import Project  # noqa: E402
from composer_app.core.timing import TempoMap  # noqa: E402
from composer_app.core.track import Track  # noqa: E402

RESULTS = REPO / "bench" / "results" / "midi_timing.json"
SAMPLE_RATE_HZ = 48000
TPQ = 960
BPM = 125.0  # with TPQ 960: one tick = 0.5 ms
STEP_TICKS = (10, 30)  # onsets 5-15 ms apart
NOTE_TICKS = (4, 16)  # notes 2-8 ms long


def timing_project(events: int, seed: int = 7) -> Project:
    """``events`` MIDI events: notes at irregular onsets so that nothing locks to the JACK period."""
    rng = random.Random(seed)
    notes, tick = [], 0
    for i in range(events // 2):
        notes.append(Note(tick, 36 + (i * 7) % 60, rng.randint(*NOTE_TICKS), velocity=1 + i % 127))
        tick += rng.randint(*STEP_TICKS)
    return Project(tracks=(Track("timing", notes=notes),), ticks_per_quarter=TPQ, tempo_map=TempoMap.constant(BPM, TPQ))


class JackServer:
    def __init__(self, period_frames: int):
        self.name = f"composer-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.log = tempfile.NamedTemporaryFile(prefix="jackd-", suffix=".log", delete=False)
        jackd = shutil.which("jackd")
        if jackd is None:
            raise SystemExit("bench/midi_timing.py needs jackd (Debian: jackd2; scripts/setup.sh installs it)")
        self.process = subprocess.Popen(
            [jackd, "-R", "-n", self.name, "-d", "dummy", "-r", str(SAMPLE_RATE_HZ), "-p", str(period_frames)],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        subprocess.run(["jack_wait", "-s", self.name, "-w", "-t", "10"], check=True, capture_output=True, timeout=20)
        os.environ["JACK_DEFAULT_SERVER"] = self.name

    def xruns(self) -> int:
        return Path(self.log.name).read_text(errors="replace").count("XRun")

    def close(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.unlink(self.log.name)


def stats_ms(values_s: list[float]) -> dict:
    ordered = sorted(abs(v) * 1000 for v in values_s)
    if not ordered:
        return {}
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "median_ms": round(pick(0.5), 3),
        "p99_ms": round(pick(0.99), 3),
        "max_ms": round(ordered[-1], 3),
        "count": len(ordered),
    }


def measure(project: Project, server: JackServer) -> dict:
    from composer_app.playback.midiports import MidiInput, MidiPortSink
    from composer_app.playback.transport import Transport

    log: queue.Queue = queue.Queue()
    xruns_before = server.xruns()
    with MidiInput(virtual=True, api="jack", port_name="bench in") as loop_in:
        sink = MidiPortSink(loop_in.port_name, api="jack")
        transport = Transport([sink], timing_log=log)
        time.sleep(0.2)
        transport.play(project)
        transport.wait(project.duration_seconds + 30)
        priority = transport.thread_priority
        transport.close()
        time.sleep(0.1)
        arrived = []
        while (item := loop_in.receive(0.05)) is not None:
            arrived.append(item)
    sent = []
    while not log.empty():
        sent.append(log.get())
    sent = [r for r in sent if r.message.type in ("note_on", "note_off")]
    arrived = [(t, m) for t, m in arrived if m.type in ("note_on", "note_off")]
    complete = [m for _, m in arrived] == [r.message for r in sent]
    pairs = match_in_order(sent, arrived)
    latency = [t - r.due_s for t, r in pairs]
    median_latency = sorted(latency)[len(latency) // 2] if latency else 0.0
    return {
        "events_sent": len(sent),
        "events_received": len(arrived),
        "all_received_in_order": complete,
        "events_matched": len(pairs),
        "jack_xruns": server.xruns() - xruns_before,
        "scheduler_thread": priority,
        "send_minus_due": stats_ms([r.sent_s - r.due_s for r in sent]),
        "arrival_minus_due": stats_ms(latency),
        "arrival_jitter_around_median_latency": stats_ms([x - median_latency for x in latency]),
        "median_latency_ms": round(median_latency * 1000, 3),
    }


def match_in_order(sent, arrived, window: int = 16):
    """Pair each arrival with the next sent record carrying the same message (events JACK dropped
    in an xrun are skipped, so the rest can still be timed)."""
    pairs, j = [], 0
    for t, msg in arrived:
        for k in range(j, min(j + window, len(sent))):
            if sent[k].message == msg:
                pairs.append((t, sent[k]))
                j = k + 1
                break
    return pairs


class GenerationLoad:
    """A generation job on a worker thread of this process, as the GUI runs one while playing."""

    def __init__(self):
        self.stop = threading.Event()
        self.steps = 0
        self.kind = ""
        self.unit = ""
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 60
        while self.steps == 0 and time.monotonic() < deadline:  # wait until it really computes
            time.sleep(0.05)

    def run(self):
        try:
            self._run_engine()
        except Exception as error:  # no trained weights yet (or no engine): the stand-in
            self.kind = f"stand-in torch Transformer decoding ({type(error).__name__}: {error})"[:200]
            self.unit = "tokens"
            self._run_standin()

    def _run_engine(self):
        from composer_app.core.document_io import load_document
        from composer_app.generation.engine import suggest

        prompt = load_document(REPO / "resources" / "examples" / "c_major_melody.mid")
        suggest(prompt, bars=1, candidates=1, seed=1)  # loads the weights, fails fast without them
        self.kind = "composer_app.generation.engine.suggest (default generator, 4 bars x 4 candidates)"
        self.unit = "suggest calls"
        from composer_app.generation.engine import Cancelled

        seed = 0
        while not self.stop.is_set():
            try:
                suggest(prompt, bars=4, candidates=4, seed=seed, cancel=self.stop)
            except Cancelled:
                return
            seed += 1
            self.steps += 1

    def _run_standin(self):
        import torch

        torch.manual_seed(0)
        layer = torch.nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024, batch_first=True)
        model = torch.nn.TransformerEncoder(layer, num_layers=4).eval()
        head = torch.nn.Linear(256, 512)
        embed = torch.nn.Embedding(512, 256)
        with torch.no_grad():
            while not self.stop.is_set():
                tokens = torch.randint(0, 512, (4, 64))
                for _ in range(64):  # autoregressive: the whole sequence each step, sampling in Python
                    if self.stop.is_set():
                        break
                    logits = head(model(embed(tokens[:, -256:]))[:, -1])
                    probs = torch.softmax(logits / 1.0, dim=-1)
                    nxt = torch.multinomial(probs, 1)
                    tokens = torch.cat([tokens, nxt], dim=1)
                    self.steps += 1

    def close(self):
        self.stop.set()
        self.thread.join(30)


def _render_numbers(r) -> dict:
    return {"audio_s": round(r.duration_s, 2), "load_s": round(r.load_s, 3), "render_s": round(r.render_s, 3),
            "realtime_factor": round(r.realtime_factor, 1),
            "realtime_factor_with_soundfont_load": round(r.duration_s / (r.render_s + r.load_s), 1),
            "rms_dbfs": round(r.rms_dbfs, 1)}


def render_speed() -> dict:
    from composer_app.core.document_io import load_document
    from composer_app.playback.render import render_to_wav

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in ("c_major_melody", "a_minor_melody", "two_track_waltz"):
            path = REPO / "resources" / "examples" / f"{name}.mid"
            if path.exists():
                results[name] = _render_numbers(render_to_wav(load_document(path), Path(folder) / f"{name}.wav"))
        # A 2-minute, 4-voice piece: the soundfont load is amortised, synthesis dominates.
        rng = random.Random(3)
        tracks = []
        for voice, program in enumerate((0, 48, 32, 73)):
            notes = [Note(i * 480, 40 + 12 * (voice % 3) + rng.randint(0, 12), 480, 90, voice) for i in range(240)]
            tracks.append(Track(f"v{voice}", program=program, channel=voice, notes=notes))
        results["four_voices_2_minutes"] = _render_numbers(
            render_to_wav(Project(tracks=tuple(tracks)), Path(folder) / "long.wav")
        )
    return results


def measure_period(project: Project, period: int, events: int) -> dict:
    period_ms = period / SAMPLE_RATE_HZ * 1000
    server = JackServer(period)
    try:
        print(f"JACK dummy server, period {period} frames = {period_ms:.2f} ms; "
              f"{events} events over {project.duration_seconds:.1f} s", flush=True)
        idle = measure(project, server)
        print("  idle:", json.dumps(idle), flush=True)
        load = GenerationLoad()
        load.start()
        busy_started = time.perf_counter()
        loaded = measure(project, server)
        loaded["load"] = load.kind
        loaded["load_rate_per_s"] = round(load.steps / (time.perf_counter() - busy_started), 2)
        loaded["load_rate_unit"] = load.unit
        load.close()
        print("  under generation load:", json.dumps(loaded), flush=True)
    finally:
        server.close()

    def meets(run, allowance_ms):
        a = run["arrival_minus_due"]
        return bool(a) and a["p99_ms"] <= period_ms + allowance_ms

    targets = {"idle_p99_arrival_ms": round(period_ms + 1, 3), "load_p99_arrival_ms": round(period_ms + 3, 3),
               "idle_met": meets(idle, 1.0), "load_met": meets(loaded, 3.0)}
    print(f"  targets: idle p99 <= {period_ms + 1:.2f} ms: {targets['idle_met']}; "
          f"load p99 <= {period_ms + 3:.2f} ms: {targets['load_met']}", flush=True)
    return {"jack_period_frames": period, "jack_period_ms": round(period_ms, 3), "idle": idle,
            "under_generation_load": loaded, "targets": targets}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--periods", type=int, nargs="+", default=[64, 128],
                        help="JACK periods in frames at 48 kHz to measure (default 64 128)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results alone")
    args = parser.parse_args()

    project = timing_project(args.events)
    load_average_before = [round(x, 2) for x in os.getloadavg()]
    runs = [measure_period(project, period, args.events) for period in args.periods]
    render = render_speed()
    print("offline render:", json.dumps(render), flush=True)
    result = {
        "what": "MIDI events through a JACK loopback (dummy backend); |actual - due| in ms",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before": load_average_before,
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "events": args.events,
        "runs": runs,
        "offline_render": render,
    }
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
