"""Benchmark: the story-text mood reader — cold start, per-line latency, and sign accuracy.

Cold start is measured in a fresh interpreter (import ``composer_app.mood.text`` and load the
lexicon). Latency: every labelled story line of ``tests/mood`` read 20 times; median and 95th
percentile ms per line. Accuracy: share of lines whose valence and arousal have the sign of their
label, on the 60 labelled lines and on the 40 held-out lines. Target: a line in ≤ 5 ms (the GUI reads
as the user types). Writes bench/results/mood_text.json.

Run: .venv/bin/python bench/mood_text.py
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from composer_app.mood.text import read_mood  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "mood_text.json"
LINE_FILES = {"labelled": ROOT / "tests/mood/story_lines.tsv", "held_out": ROOT / "tests/mood/story_lines_holdout.tsv"}
REPEATS = 20


def load_lines(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            quadrant, text = line.split("\t")
            rows.append((quadrant, text))
    return rows


def cold_start_ms() -> float:
    code = (
        "import time; t = time.perf_counter(); from composer_app.mood.text import load_lexicon; "
        "load_lexicon(); print((time.perf_counter() - t) * 1000)"
    )
    runs = [float(subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, text=True)) for _ in range(5)]
    return statistics.median(runs)


def main() -> int:
    result: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version()}
    result["cold_start_ms"] = round(cold_start_ms(), 1)
    all_lines = [text for path in LINE_FILES.values() for _, text in load_lines(path)]
    times_ms = []
    for _ in range(REPEATS):
        for text in all_lines:
            start = time.perf_counter()
            read_mood(text)
            times_ms.append((time.perf_counter() - start) * 1000)
    times_ms.sort()
    result["line_ms_median"] = round(statistics.median(times_ms), 3)
    result["line_ms_p95"] = round(times_ms[int(0.95 * (len(times_ms) - 1))], 3)
    for name, path in LINE_FILES.items():
        rows = load_lines(path)
        valence = sum((read_mood(t).mood.valence > 0) == (q[0] == "+") for q, t in rows) / len(rows)
        arousal = sum((read_mood(t).mood.arousal > 0) == (q[2] == "+") for q, t in rows) / len(rows)
        result[f"{name}_lines"] = len(rows)
        result[f"{name}_valence_sign_accuracy"] = round(valence, 3)
        result[f"{name}_arousal_sign_accuracy"] = round(arousal, 3)
    result["target_line_ms"] = 5.0
    result["meets_target"] = result["line_ms_p95"] <= 5.0
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
