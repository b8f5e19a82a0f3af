"""Benchmark: MIDI and project file I/O — read, write, refuse; ours against mido's.

Songs of 1,000, 10,000 and 100,000 notes (four tracks, running status as our writer writes it):
median ms to read (``load_midi_bytes``) and write (``project_to_midi_bytes``) a MIDI file and to
read and write a project file (JSON text, no disk). The same 10,000-note file read and written by
mido (``mido.MidiFile`` / ``MidiFile.save``) for comparison. Refusal: ms to refuse a file of two
million events (it stops at ``MAX_EVENTS``). Target: a 10,000-note song opens and saves in
< 500 ms. Writes bench/results/midi_io.json.

Run: .venv/bin/python bench/midi_io.py
"""

from __future__ import annotations

import io
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mido  # noqa: E402

from composer_app.core.midifile import (  # noqa: E402
    MAX_EVENTS,
    MidiFileError,
    load_midi_bytes,
    project_to_midi_bytes,
)
from composer_app.core.note import Note  # noqa: E402
from composer_app.core.project import Project  # noqa: E402
from composer_app.core.projectfile import load_project_bytes, project_to_json  # noqa: E402
from composer_app.core.track import Track  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "midi_io.json"
SIZES_NOTES = (1_000, 10_000, 100_000)
TARGET_MS = 500.0


def song(note_count: int) -> Project:
    per_track = note_count // 4
    tracks = []
    for index in range(4):
        notes = [
            Note(i * 120 + index * 7, 36 + (i * 7 + index * 12) % 60, 100 + i % 50, 40 + i % 80, index)
            for i in range(per_track)
        ]
        tracks.append(Track(f"Track {index + 1}", program=index * 8, channel=index, notes=notes))
    return Project(tracks=tuple(tracks), title="bench")


def median_ms(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    result: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version()}
    for notes in SIZES_NOTES:
        repeats = 5 if notes <= 10_000 else 3
        project = song(notes)
        data = project_to_midi_bytes(project)
        text = project_to_json(project).encode()
        result[f"notes_{notes}_midi_bytes"] = len(data)
        result[f"notes_{notes}_read_midi_ms"] = round(median_ms(lambda: load_midi_bytes(data), repeats), 1)
        result[f"notes_{notes}_write_midi_ms"] = round(median_ms(lambda: project_to_midi_bytes(project), repeats), 1)
        result[f"notes_{notes}_read_project_ms"] = round(median_ms(lambda: load_project_bytes(text), repeats), 1)
        result[f"notes_{notes}_write_project_ms"] = round(median_ms(lambda: project_to_json(project), repeats), 1)
        if notes == 10_000:
            midi = mido.MidiFile(file=io.BytesIO(data))
            result["notes_10000_mido_read_ms"] = round(median_ms(lambda: mido.MidiFile(file=io.BytesIO(data)), 3), 1)
            result["notes_10000_mido_write_ms"] = round(median_ms(lambda: midi.save(file=io.BytesIO()), 3), 1)

    pair = b"\x00\x3c\x40\x00\x3c\x00"
    body = b"\x00\x90\x3c\x40" + pair * 1_000_000
    huge = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk" + len(body).to_bytes(4, "big") + body

    def refuse():
        try:
            load_midi_bytes(huge)
        except MidiFileError:
            return
        raise AssertionError("a file of two million events was not refused")

    result["max_events"] = MAX_EVENTS
    result["refuse_2M_events_ms"] = round(median_ms(refuse, 3), 1)
    result["target_10000_notes_open_and_save_ms"] = TARGET_MS
    result["meets_target"] = (
        result["notes_10000_read_midi_ms"] < TARGET_MS and result["notes_10000_write_midi_ms"] < TARGET_MS
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
