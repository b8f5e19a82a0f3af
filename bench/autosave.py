"""Autosave cost: how long a copy takes, and how much it stalls the window, by document size.

For documents of 1,000 / 20,000 / 100,000 notes in the real main window (offscreen): one note is
added (one undo step), the autosaver writes its copy on its writer thread, and a 5 ms ``QTimer``
(PreciseTimer) probe on the GUI thread records how late each tick fires meanwhile (the writer holds
the interpreter lock while it builds the JSON). Reports the write time (``saved`` signal), the
copy's size, and the probe's worst and p99 lateness (the window's responsiveness targets elsewhere:
max <= 50 ms, p99 <= 20 ms). Writes bench/results/autosave.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("JACK_NO_START_SERVER", "1")
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="composer-bench-autosave-")  # never the user's folder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "autosave.json"
SIZES = (1_000, 20_000, 100_000)
PROBE_MS = 5


def measure(app, notes_count: int) -> dict:
    from PySide6.QtCore import Qt, QTimer

    from composer_app.core.note import Note
    from composer_app.core.project import Project
    from composer_app.core.track import Track
    from composer_app.ui.document import Document
    from composer_app.ui.main_window import MainWindow

    notes = tuple(Note(i * 120, 40 + i % 40, 100, 90) for i in range(notes_count))
    window = MainWindow(Document(Project(tracks=(Track("Piano", notes=notes),))))
    window.files.confirm_discard = lambda: "discard"
    window.show()
    app.processEvents()
    saved = []
    window.files.autosave.saved.connect(lambda path, seconds: saved.append((path, seconds)))
    lateness_ms: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        lateness_ms.append((now - last[0]) * 1000 - PROBE_MS)
        last[0] = now

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.timeout.connect(tick)
    project = window.document.project
    window.document.apply(project.replace_track(0, project.tracks[0].with_notes([*notes, Note(0, 100, 120, 90)])), "Add note")
    last[0] = time.perf_counter()
    probe.start(PROBE_MS)
    window.files.autosave.save_now()
    deadline = time.perf_counter() + 60
    while not saved and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)
    probe.stop()
    path, seconds = saved[0]
    size = Path(path).stat().st_size
    window.close()
    window.deleteLater()
    app.processEvents()
    late = sorted(lateness_ms) or [0.0]
    return {
        "notes": notes_count,
        "write_s": round(seconds, 3),
        "copy_bytes": size,
        "probe_ticks": len(lateness_ms),
        "stall_max_ms": round(max(late), 1),
        "stall_p99_ms": round(late[min(len(late) - 1, int(len(late) * 0.99))], 1),
        "stall_median_ms": round(statistics.median(late), 2),
    }


def main() -> int:
    from composer_app.ui.app import ensure_application

    app = ensure_application()
    rows = [measure(app, n) for n in SIZES]
    for row in rows:
        print(f"{row['notes']:>7} notes: copy {row['copy_bytes'] / 1e6:.1f} MB written in {row['write_s'] * 1000:.0f} ms; "
              f"window stall max {row['stall_max_ms']} ms, p99 {row['stall_p99_ms']} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": platform.machine(), "cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2),
        "rows": rows,
    }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
