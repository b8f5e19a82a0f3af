"""Benchmark: suggestion latency of the shipped Transformer on this CPU.

Measures (in one process, after a warm-up request):
- import of torch + the generation package (fresh interpreter), and model load (weights -> eval model);
- ``engine.suggest`` wall time for 4 candidates x 4 bars (the target: median <= 1.0 s), and also
  1 and 8 candidates x 4 bars, and 4 candidates x 8 and 16 bars;
- streaming (with ``on_candidate``, as the GUI calls it): 8 x 8 bars, time to the first candidate
  and to all, against the same request sampled in one batch.
The prompt is a 4-bar melody in 4/4 with a chord per bar; moods vary over the repeats (seeds too).
Torch runs on 1 thread (measured faster than 2 on a shared 2-core machine). The load average at
the start is recorded: on a busy machine every figure rises.

Writes bench/results/suggest_latency.json.  Run: .venv/bin/python bench/suggest_latency.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "suggest_latency.json"
TARGET_SECONDS = 1.0
TARGET_LOAD_SECONDS = 1.0


def _prompt():
    from composer_app.core.note import Note

    tpq = 480
    notes = []
    tune = [0, 2, 4, 5, 7, 5, 4, 2, 0, 4, 7, 12, 11, 7, 5, 2]
    for i in range(32):
        notes.append(Note(i * tpq // 2, 60 + tune[i % 16], tpq // 2, 90))
        if i % 8 == 0:
            notes.append(Note(i * tpq // 2, 48, 4 * tpq, 70))
            notes.append(Note(i * tpq // 2, 55, 4 * tpq, 70))
    return notes, tpq


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import_cmd = "import time; t=time.perf_counter(); import torch, composer_app.generation.engine; print(time.perf_counter()-t)"
    import_seconds = float(subprocess.run([sys.executable, "-c", import_cmd], capture_output=True, text=True, cwd=ROOT).stdout.strip() or "nan")

    import torch

    torch.set_num_threads(1)
    from composer_app.generation import engine, registry
    from composer_app.mood import Mood

    load_times = []
    for _ in range(3):
        started = time.perf_counter()
        model = registry.load_weights(registry.weights_path("transformer"))
        load_times.append(time.perf_counter() - started)
    notes, tpq = _prompt()
    moods = [Mood(0.0, 0.0), Mood(0.8, 0.8), Mood(-0.8, -0.6), Mood(0.5, -0.5), Mood(-0.5, 0.9)]
    engine.suggest(notes, moods[0], bars=4, candidates=4, seed=0, model=model, ticks_per_quarter=tpq)  # warm-up

    cases = [(4, 4), (1, 4), (8, 4), (4, 8), (4, 16), (1, 64)]
    results = {}

    def use_rolling_cache(rolling: bool) -> None:
        """The Transformer's rolling KV cache (now) or re-reading the window past its context (before)."""
        import functools

        net = model.model
        net.new_cache = functools.partial(type(net).new_cache, net, rolling=rolling)

    for candidates, bars in cases:
        times, notes_out = [], []
        repeats = args.repeats if bars <= 8 else max(3, args.repeats // 2)
        for r in range(repeats):
            started = time.perf_counter()
            out = engine.suggest(notes, moods[r % len(moods)], bars=bars, candidates=candidates, seed=100 + r, model=model, ticks_per_quarter=tpq)
            times.append(time.perf_counter() - started)
            notes_out.append(sum(len(c.notes) for c in out) / len(out))
        key = f"{candidates}x{bars}"
        results[key] = {
            "candidates": candidates,
            "bars": bars,
            "repeats": repeats,
            "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
            "notes_per_candidate": round(statistics.mean(notes_out), 1),
        }
        print(f"{key:>6}: median {results[key]['median_s']:.3f} s (min {results[key]['min_s']:.3f}, max {results[key]['max_s']:.3f})", flush=True)

    # Per generated bar at 16 bars against 4, in this run; and the same requests re-reading the window (before).
    def per_bar(key: str) -> float:
        return results[key]["median_s"] / results[key]["bars"]

    reread = {}
    use_rolling_cache(False)
    for candidates, bars in ((4, 4), (4, 16), (1, 64)):
        times = []
        for r in range(max(3, args.repeats // 2)):
            started = time.perf_counter()
            engine.suggest(notes, moods[r % len(moods)], bars=bars, candidates=candidates, seed=100 + r, model=model, ticks_per_quarter=tpq)
            times.append(time.perf_counter() - started)
        reread[f"{candidates}x{bars}"] = {"median_s": round(statistics.median(times), 3), "bars": bars}
    use_rolling_cache(True)
    ratios = {
        "per_bar_16_vs_4": round(per_bar("4x16") / per_bar("4x4"), 3),
        "per_bar_64_vs_4_one_candidate": round(per_bar("1x64") / per_bar("1x4"), 3),
        "reread_window_per_bar_16_vs_4": round((reread["4x16"]["median_s"] / 16) / (reread["4x4"]["median_s"] / 4), 3),
        "reread_window": reread,
        "target_per_bar_16_vs_4": 1.2,
    }
    print(f"per bar, 16 vs 4 bars: {ratios['per_bar_16_vs_4']:.2f} (re-reading the window: {ratios['reread_window_per_bar_16_vs_4']:.2f}); "
          f"1x64 {results['1x64']['median_s']:.2f} s (re-reading {reread['1x64']['median_s']:.2f} s)", flush=True)

    # Streaming (what the GUI does: on_candidate given): 8 x 8 bars, first candidate and all,
    # against the same requests in one batch (no callback).
    streamed = {"first_s": [], "all_s": [], "one_batch_all_s": []}
    for r in range(args.repeats):
        arrivals = []
        started = time.perf_counter()
        engine.suggest(notes, moods[r % len(moods)], bars=8, candidates=8, seed=200 + r, model=model, ticks_per_quarter=tpq,
                       on_candidate=lambda c: arrivals.append(time.perf_counter() - started))
        streamed["all_s"].append(time.perf_counter() - started)
        streamed["first_s"].append(arrivals[0])
        started = time.perf_counter()
        engine.suggest(notes, moods[r % len(moods)], bars=8, candidates=8, seed=200 + r, model=model, ticks_per_quarter=tpq)
        streamed["one_batch_all_s"].append(time.perf_counter() - started)
    streaming = {
        "request": "8 candidates x 8 bars, repeats alternate streamed / one batch",
        **{f"{k}_median": round(statistics.median(v), 3) for k, v in streamed.items()},
        **{k: [round(x, 3) for x in v] for k, v in streamed.items()},
    }
    print(f"8x8 streamed: first {streaming['first_s_median']:.3f} s, all {streaming['all_s_median']:.3f} s; "
          f"one batch: all {streaming['one_batch_all_s_median']:.3f} s", flush=True)

    meta = registry.read_metadata(registry.weights_path("transformer"))
    report = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "torch_threads": torch.get_num_threads(),
        "model_config": json.loads(meta["config"]),
        "import_torch_and_engine_s": round(import_seconds, 3),
        "model_load_s_median": round(statistics.median(load_times), 3),
        "cases": results,
        "length_ratios": ratios,
        "targets_issue_11_s": {"4x4": 0.5, "4x16": 1.5, "1x64": 4.0},
        "streaming_8x8": streaming,
        "target_4x4_median_s": TARGET_SECONDS,
        "meets_latency_target": results["4x4"]["median_s"] <= TARGET_SECONDS,
        "target_model_load_s": TARGET_LOAD_SECONDS,
        "meets_load_target": statistics.median(load_times) <= TARGET_LOAD_SECONDS,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"model load {report['model_load_s_median']:.3f} s, import {import_seconds:.2f} s -> {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
