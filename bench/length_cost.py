"""Cost per generated bar against the request's length, in CPU seconds of this process (robust to a shared machine).

The issue's speed targets are wall-clock medians on an idle machine (bench/suggest_latency.py); on a
machine shared with other jobs the wall clock mostly measures the others, so this bench measures the
process's CPU time (time.process_time, one torch thread) of the same requests as suggest_latency.py
(4-bar prompt, a mood per repeat, 4 candidates best of 3 samples each), interleaved: 4 x 4 bars,
4 x 16 bars, 1 x 4 and 1 x 64 bars, with the rolling KV cache (now) and re-reading the window past the
model's context (before). Writes bench/results/length_cost.json.

    python bench/length_cost.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from bench.suggest_latency import _prompt
    from composer_app.generation import engine, registry
    from composer_app.mood import Mood

    model = registry.load_weights(registry.weights_path("transformer"))
    net = model.model
    notes, tpq = _prompt()
    moods = [Mood(0.0, 0.0), Mood(0.8, 0.8), Mood(-0.8, -0.6), Mood(0.5, -0.5), Mood(-0.5, 0.9)]
    engine.suggest(notes, moods[0], bars=4, candidates=4, seed=0, model=model, ticks_per_quarter=tpq)  # warm-up
    cases = [(4, 4), (4, 16), (1, 4), (1, 64)]
    cpu = {(mode, c, b): [] for mode in ("rolling", "reread") for c, b in cases}
    wall = {k: [] for k in cpu}
    for r in range(args.repeats):
        for mood_index in range(len(moods)):
            for mode in ("rolling", "reread"):
                net.new_cache = functools.partial(type(net).new_cache, net, rolling=mode == "rolling")
                for candidates, bars in cases:
                    if bars == 64 and mood_index % 5:
                        continue  # the long request once per repeat
                    c0, w0 = time.process_time(), time.perf_counter()
                    engine.suggest(notes, moods[mood_index], bars=bars, candidates=candidates, seed=100 + r * 10 + mood_index,
                                   model=model, ticks_per_quarter=tpq)
                    cpu[(mode, candidates, bars)].append(time.process_time() - c0)
                    wall[(mode, candidates, bars)].append(time.perf_counter() - w0)
    net.new_cache = functools.partial(type(net).new_cache, net, rolling=True)
    out = {"load_average": os.getloadavg(), "repeats": args.repeats, "moods": len(moods), "cases": {}}
    for (mode, candidates, bars), values in cpu.items():
        out["cases"][f"{mode} {candidates}x{bars}"] = {
            "cpu_s_median": round(statistics.median(values), 3), "cpu_s_per_bar": round(statistics.median(values) / bars, 4),
            "wall_s_median": round(statistics.median(wall[(mode, candidates, bars)]), 3), "requests": len(values),
        }
    per_bar = lambda mode, c, b: statistics.median(cpu[(mode, c, b)]) / b  # noqa: E731
    for mode in ("rolling", "reread"):
        out[f"{mode}_per_bar_16_vs_4"] = round(per_bar(mode, 4, 16) / per_bar(mode, 4, 4), 3)
        out[f"{mode}_per_bar_64_vs_4_one_candidate"] = round(per_bar(mode, 1, 64) / per_bar(mode, 1, 4), 3)
    out["target_per_bar_16_vs_4"] = 1.2
    (ROOT / "bench" / "results" / "length_cost.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
