"""Benchmark: time to paint one piano-roll frame, and a 1,000-note quantize with undo.

Paints the real ``NoteCanvas`` (grid, ghost notes of a second track, notes, playhead) into an
offscreen 1200×600 image at several zoom levels, for projects of 1,000 / 20,000 / 100,000 notes
(16 notes per bar, so the notes visible at a given zoom do not depend on the project size;
"fit" shows every note). Each frame scrolls a little, like a user dragging the scroll bar.
Reports the median and 95th percentile ms per frame. Target: <= 8 ms per frame at 20,000 notes.
Writes bench/results/piano_roll_paint.json.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/piano_roll_paint.py [--frames N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from composer_app.core.note import Note  # noqa: E402
from composer_app.core.project import Project  # noqa: E402
from composer_app.core.theory import Key  # noqa: E402
from composer_app.core.track import Track  # noqa: E402

TPQ = 480
NOTES_PER_BAR = 16
VIEW_WIDTH_PX, VIEW_HEIGHT_PX = 1200, 600
ZOOMS_BARS = (4, 16, 64, "fit")  # bars visible across the view
RESULTS = Path(__file__).resolve().parent / "results" / "piano_roll_paint.json"


def make_project(note_count: int, seed: int = 1) -> Project:
    rng = random.Random(seed)
    bar_ticks = 4 * TPQ
    notes = []
    for i in range(note_count):
        bar, slot = divmod(i, NOTES_PER_BAR)
        start = bar * bar_ticks + slot * bar_ticks // NOTES_PER_BAR + rng.randrange(0, 30)
        notes.append(Note(start, rng.randrange(48, 84), rng.choice((120, 240, 480)), rng.randrange(30, 127), 0))
    ghost = [Note(b * bar_ticks, 40 + b % 7, bar_ticks - 20, 90, 1) for b in range(note_count // NOTES_PER_BAR)]
    return Project(
        tracks=(Track("Lead", notes=notes), Track("Bass", program=32, channel=1, notes=ghost)),
        ticks_per_quarter=TPQ,
        key=Key(0, "major"),
    )


def time_frames(window, zoom, frames: int) -> dict:
    editor = window.editor
    canvas = editor.canvas
    view = editor.view
    project = window.document.project
    bars_total = project.end_tick / (4 * TPQ)
    if zoom == "fit":
        editor.fit_to_content()
    else:
        view.show_range(0, zoom * 4 * TPQ, 48, 84, margin=0)
    image = QImage(VIEW_WIDTH_PX, VIEW_HEIGHT_PX, QImage.Format.Format_ARGB32_Premultiplied)
    span = view.visible_ticks()[1] - view.visible_ticks()[0]
    start_tick = 0 if zoom == "fit" else min(project.end_tick / 2, max(0.0, project.end_tick - span))
    times, cpu_times = [], []
    for frame in range(frames + 3):
        if zoom != "fit":
            view.scroll_to(tick=start_tick + frame * span / 97)
        painter = QPainter(image)
        c0, t0 = time.thread_time(), time.perf_counter()
        canvas.paint(painter, image.rect())
        t1, c1 = time.perf_counter(), time.thread_time()
        painter.end()
        if frame >= 3:  # the first frames build caches
            times.append((t1 - t0) * 1000)
            cpu_times.append((c1 - c0) * 1000)
    low, high = view.visible_ticks()
    visible = len(canvas.note_index().overlapping(low, high))
    times.sort()
    return {
        "zoom_bars": zoom if zoom == "fit" else zoom,
        "bars_in_project": round(bars_total),
        "visible_notes": visible,
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "median_cpu_ms": round(statistics.median(cpu_times), 3),
    }


def time_quantize(window, note_count: int = 1000, repeats: int = 5) -> dict:
    project = make_project(note_count, seed=7)
    window.document.reset(project)
    editor = window.editor
    apply_ms, undo_ms, redo_ms = [], [], []
    for _ in range(repeats):
        editor.select_all()
        t0 = time.perf_counter()
        editor.quantize(TPQ // 4, strength=1.0)
        t1 = time.perf_counter()
        window.document.undo_stack.undo()
        t2 = time.perf_counter()
        window.document.undo_stack.redo()
        t3 = time.perf_counter()
        window.document.undo_stack.undo()
        apply_ms.append((t1 - t0) * 1000)
        undo_ms.append((t2 - t1) * 1000)
        redo_ms.append((t3 - t2) * 1000)
    return {
        "notes": note_count,
        "quantize_ms": round(statistics.median(apply_ms), 2),
        "undo_ms": round(statistics.median(undo_ms), 2),
        "redo_ms": round(statistics.median(redo_ms), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="frames timed per case (median reported)")
    parser.add_argument("--quick", action="store_true", help="fewer frames, no 100k case (a smoke run)")
    args = parser.parse_args()
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.setOrganizationName("composer-app-bench")
    app = QApplication.instance() or QApplication([])
    from composer_app.ui.document import Document
    from composer_app.ui.main_window import MainWindow

    sizes = (1_000, 20_000) if args.quick else (1_000, 20_000, 100_000)
    frames = 10 if args.quick else args.frames
    paint = []
    for size in sizes:
        window = MainWindow(Document(make_project(size)))
        window.resize(VIEW_WIDTH_PX + 400, VIEW_HEIGHT_PX + 300)
        window.editor.canvas.resize(VIEW_WIDTH_PX, VIEW_HEIGHT_PX)
        window.editor.view.set_viewport(VIEW_WIDTH_PX, VIEW_HEIGHT_PX)
        window.editor.view.set_content_end(window.document.project.end_tick)
        for zoom in ZOOMS_BARS:
            row = {"notes": size, **time_frames(window, zoom, frames)}
            paint.append(row)
            print(f"{size:>7} notes  zoom {str(zoom):>4} bars  visible {row['visible_notes']:>6}  "
                  f"median {row['median_ms']:7.2f} ms  p95 {row['p95_ms']:7.2f} ms  "
                  f"(CPU {row['median_cpu_ms']:6.2f} ms)", flush=True)
        window.close()
        window.deleteLater()
        app.processEvents()
    window = MainWindow()
    quantize = time_quantize(window)
    print(f"quantize {quantize['notes']} notes: {quantize['quantize_ms']} ms, undo {quantize['undo_ms']} ms, "
          f"redo {quantize['redo_ms']} ms")
    window.close()
    worst_20k = max(r["median_ms"] for r in paint if r["notes"] == 20_000)
    worst_20k_cpu = max(r["median_cpu_ms"] for r in paint if r["notes"] == 20_000)
    result = {
        "benchmark": "piano_roll_paint",
        "view_px": [VIEW_WIDTH_PX, VIEW_HEIGHT_PX],
        "frames_per_case": frames,
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "load_average_1min_at_end": round(os.getloadavg()[0], 2)},
        "note": "median_ms is wall time per frame; median_cpu_ms is the painting thread's CPU time "
                "(the same work without waiting for a busy CPU)",
        "paint": paint,
        "quantize_with_undo": quantize,
        "target_ms_per_frame_at_20k": 8.0,
        "worst_median_ms_at_20k": worst_20k,
        "worst_median_cpu_ms_at_20k": worst_20k_cpu,
        "meets_target": worst_20k <= 8.0,
    }
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
