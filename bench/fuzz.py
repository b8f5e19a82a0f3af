"""Fuzz every entry point that takes a file with mutated real MIDI and project files; count escapes.

Inputs start from real files: the example clips in resources/examples, the .mid files music21 ships
(its MIDI test files and two Mozart excerpts), and project files made from them. Each input is one
mutation of one seed, chosen by a seeded random generator (input i of a run is always the same):

- bytes: bit flips, random or "interesting" bytes (0x00, 0x7F, 0x80, 0xFF), inserted, deleted or
  repeated runs, truncation;
- MIDI structure: inside the header and the tracks, as a decoder sees them: ticks per quarter
  (1, 2, 3, 0x7FFF, SMPTE), format (0-3), the track count, time signatures (any numerator, any
  power-of-two denominator, at 1 tick per quarter too), tempi, delta times up to 0x0FFFFFFF, note
  lengths (note-offs moved or dropped), event counts (events repeated thousands of times), names
  of up to 1 MB, missing end-of-track;
- project JSON fields: resolution, tempo and meter rows, note rows (ticks up to 10^4000, lengths
  of hours, wrong types), track and note counts, names (long, lone surrogates), settings (NaN,
  Infinity, deep nesting), loop and key; and text-level edits of the JSON.

Each input goes through every entry point that takes a file, as the commands call them:
``load`` (the document readers: MIDI or project bytes into a ``Project``), and for what loads,
``info`` (what ``composer-app info`` prints), ``suggest_plan`` (``suggest``'s prompt planning, up to
the model), ``render_schedule`` (``render``'s length check and event schedule) and ``save_again``
(what loaded is written as a project file and a MIDI file and read back: the editor relies on it).

An *escape* is anything but the documented outcome: an exception other than the entry point's
clear error (``BadInputError`` and its kin; the planner's ValueError for a time signature it
does not support, which ``suggest`` reports in one line, exit 2), more
than ``TIME_LIMIT_S`` for what one command does (loading plus one entry point, as ``info``,
``suggest`` or ``render`` would), or a ``MemoryError`` under the worker's address-space limit
(its size at start plus ``MEMORY_LIMIT_BYTES``). A worker that dies is restarted and its input
counted as an escape. One thread per worker process (``--workers``: each runs a contiguous range of the
indexes, so input i is the same whatever the number of workers); escapes are saved for replay.

    python bench/fuzz.py --inputs 100000          # at scale (writes bench/results/fuzz.json)
    python bench/fuzz.py --inputs 150 --no-write  # what the test suite runs
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import signal
import struct
import sys
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results" / "fuzz.json"
ESCAPES_DIR = REPO / "bench" / "results" / "fuzz-escapes"
TIME_LIMIT_S = 30.0  # loading plus one entry point: what one command does (the promise per command)
MEMORY_LIMIT_BYTES = 1_000_000_000  # per worker, beyond its address space at start
ENTRY_POINTS = ("load", "info", "suggest_plan", "render_schedule", "save_again")
MUTATORS = ("bytes", "midi_structure", "project_fields", "project_text")
CHECKPOINT_INPUTS = 1_000


class InputTimeout(BaseException):
    """One input took longer than ``TIME_LIMIT_S``."""


# -- seeds ------------------------------------------------------------------------------------


def seed_files() -> list[tuple[str, bytes]]:
    """(name, bytes) of the real files mutations start from: MIDI files and project files."""
    import music21

    from composer_app.core.midifile import load_midi_bytes
    from composer_app.core.projectfile import project_to_json

    paths = sorted((REPO / "resources" / "examples").glob("*.mid"))
    paths += sorted(p for p in Path(music21.__file__).parent.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    seeds = [(p.name, p.read_bytes()) for p in paths]
    for name, data in list(seeds):
        try:
            project = load_midi_bytes(data, name)
        except Exception:
            continue
        seeds.append((Path(name).stem + ".composer", project_to_json(project).encode()))
    return seeds


# -- MIDI structure ------------------------------------------------------------------------------


def vlq(value: int) -> bytes:
    value = max(0, min(value, 0x0FFFFFFF))
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def read_vlq(data: bytes, i: int) -> tuple[int, int]:
    """The variable-length quantity at ``data[i]`` and the index after it (IndexError past the end)."""
    value = 0
    while True:
        byte = data[i]
        i += 1
        value = value << 7 | (byte & 0x7F)
        if byte < 0x80:
            return value, i


def split_midi(data: bytes):
    """(header fields, [track event lists]) where an event is [delta, bytes], or None if not parseable."""
    if data[:4] != b"MThd" or len(data) < 14:
        return None
    fmt, ntracks, division = struct.unpack(">HHH", data[8:14])
    position = 8 + int.from_bytes(data[4:8], "big")
    tracks = []
    while position + 8 <= len(data):
        length = int.from_bytes(data[position + 4 : position + 8], "big")
        body = data[position + 8 : position + 8 + length]
        position += 8 + length
        events, i, running = [], 0, 0
        try:
            while i < len(body):
                delta, i = read_vlq(body, i)
                start = i
                status = body[i]
                if status < 0x80:
                    status = running
                else:
                    i += 1
                if status in (0xFF, 0xF0, 0xF7):  # meta (its type byte first) or sysex: a length, then the data
                    length, i = read_vlq(body, i + 1 if status == 0xFF else i)
                    i += length
                else:
                    running = status
                    i += 1 if status & 0xF0 in (0xC0, 0xD0) else 2
                raw = body[start:i]
                if raw and raw[0] < 0x80:  # running status: store the full event
                    raw = bytes((running,)) + raw
                events.append([delta, raw])
        except IndexError:
            pass
        tracks.append(events)
    return [fmt, ntracks, division], tracks


def join_midi(header, tracks) -> bytes:
    fmt, ntracks, division = header
    out = b"MThd" + struct.pack(">IHHH", 6, fmt & 0xFFFF, ntracks & 0xFFFF, division & 0xFFFF)
    for events in tracks:
        body = b"".join(vlq(delta) + raw for delta, raw in events)
        out += b"MTrk" + len(body).to_bytes(4, "big") + body
    return out


def _meta(kind: int, payload: bytes) -> bytes:
    return bytes((0xFF, kind)) + vlq(len(payload)) + payload


def mutate_midi_structure(data: bytes, rng: random.Random) -> bytes:
    parsed = split_midi(data)
    if parsed is None or not parsed[1]:
        return mutate_bytes(data, rng)
    header, tracks = parsed
    for _ in range(rng.choice((1, 1, 2, 3))):
        track = rng.choice(tracks)
        what = rng.randrange(12)
        if what == 0:  # ticks per quarter, including 1 tick and SMPTE
            header[2] = rng.choice((0, 1, 2, 3, 5, 7, 96, 0x7FFF, 0x8000 | 25 << 8 | 40, rng.randrange(0x10000)))
        elif what == 1:
            header[0] = rng.randrange(4)
        elif what == 2:
            header[1] = rng.choice((0, 1, len(tracks) + 1, 0xFFFF, rng.randrange(0x10000)))
        elif what == 3:  # a meter, any numerator, any power-of-two denominator (also beyond 1/128)
            payload = bytes((rng.choice((0, 1, 3, 4, 7, 255)), rng.choice((0, 1, 2, 3, 5, 7, 8, 255)), 24, 8))
            track.insert(rng.randrange(len(track) + 1), [rng.choice((0, 1, 480)), _meta(0x58, payload)])
            if rng.random() < 0.5:
                header[2] = rng.choice((1, 2, 3))
        elif what == 4:  # a tempo
            mpq = rng.choice((0, 1, 0xFFFFFF, rng.randrange(1 << 24)))
            track.insert(rng.randrange(len(track) + 1), [0, _meta(0x51, mpq.to_bytes(3, "big"))])
        elif what == 5 and track:  # delta times up to the largest a file can hold
            event = rng.choice(track)
            event[0] = rng.choice((0x7F, 0x80, 0x3FFF, 0x1FFFFF, 0x0FFFFFFF, rng.randrange(0x10000000)))
        elif what == 6 and track:  # note lengths: a note-off moved far away or dropped
            offs = [e for e in track if e[1] and e[1][0] & 0xF0 == 0x80]
            if offs:
                event = rng.choice(offs)
                if rng.random() < 0.5:
                    track.remove(event)
                else:
                    event[0] = rng.choice((0x0FFFFFFF, 7200 * 480, rng.randrange(1 << 24)))
        elif what == 7 and track:  # event counts: one event repeated many times
            event = rng.choice(track)
            count = rng.choice((100, 5000, 60000 if rng.random() < 0.1 else 1000))
            position = track.index(event)
            track[position:position] = [list(event) for _ in range(count)]
        elif what == 8:  # a long name
            length = rng.choice((300, 5000, 1 << 20 if rng.random() < 0.1 else 2000))
            text = bytes(rng.randrange(0x20, 0x100) for _ in range(64)) * (length // 64)
            track.insert(0, [0, _meta(0x03, text)])
        elif what == 9 and track:  # drop end-of-track or an event
            del track[rng.randrange(len(track))]
        elif what == 10:  # many tracks
            tracks.extend([list(map(list, track))] * rng.choice((2, 300)))
            header[1] = len(tracks)
        elif what == 11 and track:  # a channel message with odd data
            track.insert(rng.randrange(len(track) + 1), [rng.randrange(200), bytes((rng.randrange(0x80, 0xF0), rng.randrange(256), rng.randrange(256)))])
    return join_midi(header, tracks)


# -- bytes and project files -------------------------------------------------------------------


INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        if not out:
            out += bytes(rng.randrange(256) for _ in range(16))
        i = rng.randrange(len(out))
        what = rng.randrange(7)
        if what == 0:
            out[i] ^= 1 << rng.randrange(8)
        elif what == 1:
            out[i] = rng.randrange(256)
        elif what == 2:
            out[i] = rng.choice(INTERESTING_BYTES)
        elif what == 3:
            out[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        elif what == 4:
            del out[i : i + rng.randrange(1, 33)]
        elif what == 5:
            chunk = out[i : i + rng.randrange(1, 65)]
            out[i:i] = chunk * rng.choice((2, 16, 1000))
        else:
            del out[i:]
    return bytes(out)


HUGE_INT_TEXT = "1" + "0" * 4000  # 10^4000: parses, then overflows any float


def _odd_value(rng: random.Random):
    return rng.choice((0, -1, 1, 2**31, 2**63, 10**30, 1.5, float("nan"), float("inf"), "x", None, True, [], {},
                       HUGE_INT_TEXT))


def mutate_project_fields(data: bytes, rng: random.Random) -> bytes:
    try:
        document = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng)
    tracks = document.get("tracks") or [{"name": "t", "program": 0, "channel": 0, "mute": False, "solo": False, "notes": []}]
    document["tracks"] = tracks
    for _ in range(rng.choice((1, 1, 2, 3))):
        track = rng.choice(tracks)
        notes = track.setdefault("notes", [])
        what = rng.randrange(11)
        if what == 0:
            document["ticks_per_quarter"] = rng.choice((1, 2, 3, 0x7FFF, 0x8000, _odd_value(rng)))
        elif what == 1:
            document["time_signatures"] = [[rng.choice((0, 1, 480, 2**40)), rng.choice((1, 4, 7, 0, 300)),
                                            rng.choice((1, 2, 4, 8, 16, 64, 128, 256, 3))]]
        elif what == 2:
            document["tempo_map"] = [[rng.choice((0, 1, 10**9)), rng.choice((1, 0xFFFFFF, 0, 2**24, 500000))]]
        elif what == 3 and notes:
            row = rng.choice(notes)
            row[rng.randrange(len(row))] = rng.choice((0, 2**28, 2**62, 7200 * 480, 10**12, _odd_value(rng)))
        elif what == 4 and notes:  # (at the note limit only rarely: such inputs take seconds each)
            big = 210_000 // max(1, len(notes)) if rng.random() < 0.01 else 100
            track["notes"] = notes * rng.choice((10, big))
        elif what == 5:
            document["tracks"] = tracks * rng.choice((2, 100, 300))
        elif what == 6:
            track["name"] = rng.choice(("\ud800", "x" * 100_000, "é" * 3000, "", _odd_value(rng)))
        elif what == 7:
            document["title"] = rng.choice(("\udfff title", "t" * 5000, _odd_value(rng)))
        elif what == 8:
            nested: object = 1.0
            for _ in range(rng.choice((1, 50, 500))):
                nested = [nested]
            document["settings"] = {"mood": {"valence": float("nan"), "arousal": float("-inf")}, "deep": nested,
                                    "\ud800key": "v\udfff", "ok": 1}
        elif what == 9:
            document["loop"] = rng.choice(([0, 2**40], [5, 1], [0, 480], _odd_value(rng)))
        else:
            document["key"] = rng.choice(("C major", "H minor", "\ud800", "", _odd_value(rng)))
    text = json.dumps(document, allow_nan=True)
    return text.replace(json.dumps(HUGE_INT_TEXT), HUGE_INT_TEXT).encode("utf-8", "surrogatepass")


def mutate_project_text(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "replace")
    for _ in range(rng.choice((1, 2))):
        what = rng.randrange(5)
        if what == 0:  # a number made huge
            digits = [i for i, c in enumerate(text) if c.isdigit()]
            if digits:
                i = rng.choice(digits)
                text = text[:i] + rng.choice(("9" * 30, "0" * 4000, "1e400", "NaN", "-")) + text[i:]
        elif what == 1:
            text = text.replace("[", "[" * rng.choice((2, 100, 100000)), 1)
        elif what == 2:
            text = text.replace('"', '"\\ud800', 1)
        elif what == 3:
            i = rng.randrange(len(text) + 1)
            text = text[:i]
        else:
            text = text.replace("]", ", Infinity]", 1)
    return text.encode("utf-8", "surrogatepass")


def make_input(seeds, run_seed: int, index: int) -> tuple[str, str, bytes]:
    """(mutator, seed name, bytes) of input ``index`` of the run seeded ``run_seed``."""
    rng = random.Random(run_seed * 1_000_003 + index)
    name, data = rng.choice(seeds)
    is_project = name.endswith(".composer")
    mutator = rng.choice(("bytes", "project_fields", "project_text") if is_project else ("bytes", "midi_structure", "midi_structure"))
    function = {"bytes": mutate_bytes, "midi_structure": mutate_midi_structure,
                "project_fields": mutate_project_fields, "project_text": mutate_project_text}[mutator]
    return mutator, name, function(data, rng)


# -- entry points -----------------------------------------------------------------------------


def run_entry_points(name: str, data: bytes, timed: bool = False) -> dict[str, str]:
    """Outcome per entry point: "ok", "refused" (the documented clear error) or "escape: ...".

    ``timed``: each entry point runs under a SIGALRM timer (the worker's ``InputTimeout``).
    """
    from composer_app.commands.info import describe, format_text
    from composer_app.core.midifile import load_midi_bytes, project_to_midi_bytes
    from composer_app.core.projectfile import load_project_bytes, project_to_json
    from composer_app.errors import BadInputError
    from composer_app.generation.engine import plan_request, prompt_from
    from composer_app.mood.mood import Mood
    from composer_app.mood.targets import targets_for
    from composer_app.playback.render import check_render_length
    from composer_app.playback.schedule import project_events

    outcomes: dict[str, str] = {}

    load_seconds = 0.0

    def attempt(entry: str, function, refused=(BadInputError,), refused_message: str | None = None):
        # Each command loads the file and then does its one thing: that pair gets TIME_LIMIT_S.
        if timed:
            signal.setitimer(signal.ITIMER_REAL, max(0.001, TIME_LIMIT_S - load_seconds))
        try:
            value = function()
        except refused as error:
            if refused_message is None or refused_message in str(error):
                outcomes[entry] = "refused"
                return None
            outcomes[entry] = f"escape: {type(error).__name__}: {str(error)[:200]}"
            return None
        except (InputTimeout, MemoryError, RecursionError, Exception) as error:
            outcomes[entry] = f"escape: {type(error).__name__}: {str(error)[:200]}"
            return None
        finally:
            if timed:
                signal.setitimer(signal.ITIMER_REAL, 0)
        outcomes[entry] = "ok"
        return value

    is_project = name.endswith(".composer")
    started = time.perf_counter()
    project = attempt("load", lambda: (load_project_bytes if is_project else load_midi_bytes)(data, name))
    load_seconds = time.perf_counter() - started
    if project is None:
        return outcomes

    def info():
        facts = describe(project)
        return format_text({"file": name, **facts}) + json.dumps(facts, ensure_ascii=False, allow_nan=False)

    attempt("info", info)
    mood = Mood(random.Random(len(data)).uniform(-1, 1), random.Random(len(data) + 1).uniform(-1, 1))
    attempt("suggest_plan", lambda: plan_request(prompt_from(project), 4, targets_for(mood)), ValueError,
            "time signature")  # suggest turns it into one line, exit 2

    def render_schedule():
        check_render_length(project)
        return sum(1 for _ in project_events(project))

    attempt("render_schedule", render_schedule)

    def save_again():
        again = load_project_bytes(project_to_json(project).encode("utf-8"), "again.composer")
        assert again == project, "a saved project reads back different"
        load_midi_bytes(project_to_midi_bytes(project), "again.mid")

    attempt("save_again", save_again)
    return outcomes


# -- the run ----------------------------------------------------------------------------------


def _alarm(_signum, _frame):
    raise InputTimeout(f"more than {TIME_LIMIT_S} s")


def _worker(connection, run_seed: int, start: int, stop: int) -> None:
    """Run inputs start..stop-1, sending (index, mutator, seed name, outcomes) for each."""
    import torch

    torch.set_num_threads(1)
    seeds = seed_files()
    run_entry_points(seeds[0][0], seeds[0][1])  # imports everything before the limit is set
    with open("/proc/self/status") as status:
        vm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    limit = vm_kb * 1024 + MEMORY_LIMIT_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    for index in range(start, stop):
        try:
            mutator, name, data = make_input(seeds, run_seed, index)
        except (MemoryError, RecursionError):  # the mutation itself was too big to build (not the app)
            connection.send(("skipped", index))
            continue
        try:
            connection.send(("start", index, mutator, name, data))
        except MemoryError:  # too big to pickle under the limit: nothing was written, skip it
            del data
            connection.send(("skipped", index))
            continue
        started = time.perf_counter()
        try:
            outcomes = run_entry_points(name, data, timed=True)
        except InputTimeout as error:  # between two entry points
            outcomes = {"load": f"escape: InputTimeout: {error}"}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        connection.send(("done", index, mutator, name, outcomes, time.perf_counter() - started))
    connection.send(("finished",))


def fuzz(inputs: int, run_seed: int = 9, progress: bool = False, checkpoint=None, workers: int = 1) -> dict:
    """Run inputs 0..``inputs``-1 in ``workers`` worker processes (each restarted if it dies); return the figures.

    Worker ``w`` runs a contiguous range of the indexes, so input ``i`` is the same whatever the
    number of workers. ``checkpoint(figures)`` is called every ``CHECKPOINT_INPUTS`` inputs (a long
    run leaves figures even if it is stopped).
    """
    run = _Run(run_seed, progress, checkpoint)
    bounds = [inputs * w // workers for w in range(workers + 1)]
    threads = [threading.Thread(target=run.run_range, args=(a, b), daemon=True) for a, b in zip(bounds, bounds[1:]) if b > a]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run.summary(complete=True)


class _Run:
    """The figures of one run, added to by one thread per worker process."""

    def __init__(self, run_seed: int, progress: bool, checkpoint) -> None:
        self.run_seed, self.progress, self.checkpoint = run_seed, progress, checkpoint
        self.by_entry = {e: {"tried": 0, "ok": 0, "refused": 0, "escapes": 0} for e in ENTRY_POINTS}
        self.by_mutator = {m: {"inputs": 0, "escapes": 0} for m in MUTATORS}
        self.escapes: list[dict] = []
        self.skipped: list[int] = []  # inputs whose mutation could not be built or sent within the worker's memory
        self.slowest_s = 0.0
        self.done = 0  # inputs finished (run, skipped or escaped), all workers together
        self.started = time.perf_counter()
        self.lock = threading.Lock()

    def summary(self, complete: bool) -> dict:
        with self.lock:
            figures = _summary(self.done, self.escapes, self.run_seed, self.started, self.slowest_s,
                               self.by_entry, self.by_mutator, complete)
            figures["skipped_inputs"] = len(self.skipped)
        return figures

    def _count(self, mutator: str | None, outcomes: dict | None, record=None) -> None:
        """One input finished: add its outcomes (None: skipped) and report progress."""
        with self.lock:
            if outcomes is not None:
                self.by_mutator[mutator]["inputs"] += 1
                escaped = False
                for entry, outcome in outcomes.items():
                    counts = self.by_entry[entry]
                    counts["tried"] += 1
                    if outcome.startswith("escape"):
                        counts["escapes"] += 1
                        escaped = True
                    else:
                        counts[outcome] += 1
                if escaped:
                    self.by_mutator[mutator]["escapes"] += 1
                    self.escapes.append(record())
            self.done += 1
            done = self.done
        if self.progress and done % 1000 == 0:
            rate = done / (time.perf_counter() - self.started)
            print(f"{done:,} inputs, {len(self.escapes)} escapes, {rate:.0f}/s", flush=True)
        if self.checkpoint is not None and done % CHECKPOINT_INPUTS == 0:
            self.checkpoint(self.summary(complete=False))

    def run_range(self, start: int, stop: int) -> None:
        """Inputs start..stop-1 in one worker process, restarted after the input it died on."""
        context = multiprocessing.get_context("spawn")
        next_index = start
        current = None
        while next_index < stop:
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_worker, args=(sender, self.run_seed, next_index, stop), daemon=True)
            process.start()
            sender.close()
            finished = False
            while True:
                try:
                    if not receiver.poll(TIME_LIMIT_S * 3 + 60):
                        raise EOFError("the worker stopped answering")
                    message = receiver.recv()
                except (EOFError, OSError):
                    break
                if message[0] == "finished":
                    finished = True
                    break
                if message[0] == "start":
                    current = message[1:]
                    continue
                if message[0] == "skipped":
                    with self.lock:
                        self.skipped.append(message[1])
                    next_index = message[1] + 1
                    self._count(None, None)
                    continue
                _, index, mutator, name, outcomes, seconds = message
                with self.lock:
                    self.slowest_s = max(self.slowest_s, seconds)
                data = current[3] if current else b""
                self._count(mutator, outcomes, lambda: _record(index, mutator, name, data, outcomes))
                next_index = index + 1
            if finished:
                break
            process.kill()
            process.join(10)
            if current is not None and current[0] == next_index:  # the worker died on this input
                index, mutator, name, data = current
                outcome = f"escape: worker died (exit {process.exitcode})"
                self._count(mutator, {"load": outcome}, lambda: _record(index, mutator, name, data, {"load": outcome}))
                next_index += 1


def _summary(next_index, escapes, run_seed, started, slowest_s, by_entry, by_mutator, complete) -> dict:
    seconds = time.perf_counter() - started
    return {
        "complete": complete,
        "inputs": next_index,
        "escapes": len(escapes),
        "run_seed": run_seed,
        "seconds": round(seconds, 1),
        "inputs_per_second": round(next_index / seconds, 1) if seconds else None,
        "slowest_input_s": round(slowest_s, 3),
        "limits": {"time_per_input_s": TIME_LIMIT_S, "memory_per_worker_bytes": MEMORY_LIMIT_BYTES},
        "by_entry_point": by_entry,
        "by_mutator": by_mutator,
        "escape_examples": escapes[:20],
        "load_average": os.getloadavg()[0],
    }


def _record(index, mutator, name, data: bytes, outcomes) -> dict:
    ESCAPES_DIR.mkdir(parents=True, exist_ok=True)
    suffix = ".composer" if name.endswith(".composer") else ".mid"
    path = ESCAPES_DIR / f"input-{index}{suffix}"
    path.write_bytes(data)
    return {"index": index, "mutator": mutator, "seed_file": name, "outcomes": outcomes,
            "saved_as": str(path.relative_to(REPO))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=9, help="the run's seed (input i is always the same)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (each runs a range of the inputs)")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.relative_to(REPO)}")
    parser.add_argument("--json", action="store_true", help="print every figure as one JSON object at the end")
    args = parser.parse_args()
    def write(figures: dict) -> None:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(figures, indent=1) + "\n")

    result = fuzz(args.inputs, args.seed, progress=True, checkpoint=None if args.no_write else write,
                  workers=max(1, args.workers))
    print(json.dumps({k: result[k] for k in ("inputs", "escapes", "seconds", "inputs_per_second")}))
    for entry, counts in result["by_entry_point"].items():
        print(f"  {entry:<16} tried {counts['tried']:>7,}  ok {counts['ok']:>7,}  refused {counts['refused']:>7,}  "
              f"escapes {counts['escapes']}")
    if args.json:
        print(json.dumps(result))
    if not args.no_write:
        write(result)
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 1 if result["escapes"] else 0


if __name__ == "__main__":
    sys.exit(main())
