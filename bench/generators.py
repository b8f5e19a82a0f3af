"""Benchmark: every shipped generator's load time and latency on this CPU (issue 12's targets).

For each generator with weights under models/: load time (weights -> generator, median of 3, after
the torch import), and ``engine.suggest`` wall time for 4 candidates x 4 bars and 4 x 16 bars
(median of ``--repeats`` after a warm-up request) on the shipped C-major example clip, neutral mood.
Targets: load <= 1 s, 4 x 4 bars <= 1 s median. Torch runs on 1 thread; the load average at the
start and the end is recorded (the machine is shared: every figure rises with it).

Writes bench/results/generators.json.  Run: .venv/bin/python bench/generators.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "generators.json"
TARGET_SECONDS = 1.0
TARGET_LOAD_SECONDS = 1.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    import torch

    torch.set_num_threads(1)
    from composer_app.core.midifile import load_midi
    from composer_app.generation import engine, registry
    from composer_app.generation.generator import CONTINUE
    from composer_app.paths import example_clip

    prompt = load_midi(example_clip())
    report = {"machine": platform.machine(), "cpus": os.cpu_count(), "load_average_start": round(load_before, 2), "generators": {}}
    for name in registry.names(shipped_only=True):
        path = registry.weights_path(name)
        loads = []
        for _ in range(3):
            started = time.perf_counter()
            gen = registry.load_weights(path)
            loads.append(time.perf_counter() - started)
        entry = {"load_seconds": statistics.median(loads), "weights_bytes": path.stat().st_size, "parameters": gen.parameter_count()}
        if CONTINUE not in gen.capabilities:  # the VAE: its vary/interpolate latency is bench/vae_latency.py's
            entry["capabilities"] = sorted(gen.capabilities)
            entry["meets_targets"] = entry["load_seconds"] <= TARGET_LOAD_SECONDS
            report["generators"][name] = entry
            print(f"{name}: load {entry['load_seconds']:.3f} s (cannot continue: {', '.join(sorted(gen.capabilities))})")
            continue
        engine.suggest(prompt, None, 4, 4, seed=0, model=gen)  # warm-up
        for bars in (4, 16):
            times = []
            for repeat in range(args.repeats):
                started = time.perf_counter()
                engine.suggest(prompt, None, bars, 4, seed=1 + repeat, model=gen)
                times.append(time.perf_counter() - started)
            entry[f"4x{bars}_median_seconds"] = statistics.median(times)
            entry[f"4x{bars}_all_seconds"] = [round(t, 3) for t in times]
        entry["meets_targets"] = entry["load_seconds"] <= TARGET_LOAD_SECONDS and entry["4x4_median_seconds"] <= TARGET_SECONDS
        report["generators"][name] = entry
        print(f"{name}: load {entry['load_seconds']:.3f} s, 4x4 bars {entry['4x4_median_seconds']:.2f} s, "
              f"4x16 bars {entry['4x16_median_seconds']:.2f} s (targets {TARGET_LOAD_SECONDS} s / {TARGET_SECONDS} s)")
    report["load_average_end"] = round(os.getloadavg()[0], 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"load average {report['load_average_start']} -> {report['load_average_end']}; wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
