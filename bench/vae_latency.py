"""Benchmark: how fast the VAE varies and interpolates on this CPU (one torch thread).

Measures, after a warm-up, the median wall time of
- 8 variations of a 4-bar clip (target <= 0.3 s), also 16 variations and 8 of an 8-bar clip;
- a 16-step interpolation between two 2-bar clips (target <= 0.5 s), and between two 4-bar clips;
- model load (weights -> generator).
Each request encodes its clips afresh (the generator's code cache is cleared), except
``vary_8x4_bars_again_s``: the same selection varied again ("More like this"), its codes cached.
Each figure is the generator's public call (``vary`` / ``interpolate``: encoding, latent work,
greedy decoding of all candidates in one batch, candidates built). The load average at the start is
recorded: on a busy machine every figure rises. ``*_decode_*``: the decode-time work alone (codes
cached), ranked / guided against single-draw / plain decodes, interleaved so both see the same load.

Writes bench/results/vae_latency.json.  Run: .venv/bin/python bench/vae_latency.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "vae_latency.json"
TARGET_VARY_SECONDS = 0.3  # 8 variations x 4 bars
TARGET_INTERPOLATE_SECONDS = 0.5  # 16 steps


def clip(bars: int, shift: int = 0):
    from composer_app.core.clip import Clip
    from composer_app.core.note import Note

    tpq = 480
    tune = [0, 2, 4, 5, 7, 5, 4, 2, 0, 4, 7, 12, 11, 7, 5, 2]
    notes = [Note(i * tpq // 2, 60 + shift + tune[(i * 3 + shift) % 16], tpq // 2, 90) for i in range(bars * 8)]
    return Clip.from_notes(notes, tpq)


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    import torch

    torch.set_num_threads(1)
    from composer_app.generation import registry
    from composer_app.generation.generator import InterpolateRequest, VaryRequest

    started = time.perf_counter()
    generator = registry.load_generator("vae", cached=False)
    load_s = time.perf_counter() - started
    four, eight = clip(4), clip(8)
    a2, b2, a4, b4 = clip(2), clip(2, shift=5), clip(4), clip(4, shift=5)
    generator.vary(VaryRequest(four, candidates=8, amount=0.3, seed=1))  # warm-up

    def cold(call):  # every request encodes its clips afresh (a new selection each time)
        def run():
            generator._codes.clear()
            call()
        return run

    figures = {
        "vary_8x4_bars_again_s": median_seconds(lambda: generator.vary(VaryRequest(four, candidates=8, amount=0.3, seed=2)), args.repeats),
        "vary_8x4_bars_s": median_seconds(cold(lambda: generator.vary(VaryRequest(four, candidates=8, amount=0.3, seed=1))), args.repeats),
        "vary_16x4_bars_s": median_seconds(cold(lambda: generator.vary(VaryRequest(four, candidates=16, amount=0.3, seed=1))), args.repeats),
        "vary_8x8_bars_s": median_seconds(cold(lambda: generator.vary(VaryRequest(eight, candidates=8, amount=0.3, seed=1))), args.repeats),
        "interpolate_16_steps_2_bars_s": median_seconds(cold(lambda: generator.interpolate(InterpolateRequest(a2, b2, steps=16))), args.repeats),
        "interpolate_16_steps_4_bars_s": median_seconds(cold(lambda: generator.interpolate(InterpolateRequest(a4, b4, steps=16))), args.repeats),
        "model_load_s": load_s,
    }
    from composer_app.generation import melody, variation

    # the cost of the decode-time work (ranked draws, mode guidance), interleaved with the plain decodes
    # so that both see the same load: codes cached, latent work and decoding only
    segments_4, _ = melody.clip_to_segments(four.notes, four.ticks_per_quarter)
    mu_4 = generator.codes(segments_4)
    segments_a, _ = melody.clip_to_segments(a2.notes, a2.ticks_per_quarter)
    segments_b, _ = melody.clip_to_segments(b2.notes, b2.ticks_per_quarter)
    mu_a, mu_b = generator.codes(segments_a), generator.codes(segments_b)
    model, seeds = generator.model, list(range(1, 9))
    pairs = {
        "vary_8x4_decode_ranked_s": lambda: variation.vary(model, segments_4, mu_4, 0.3, seeds),
        "vary_8x4_decode_single_draw_s": lambda: variation.vary(model, segments_4, mu_4, 0.3, seeds, draws=1),
        "interpolate_16_decode_guided_s": lambda: variation.interpolate(model, segments_a, segments_b, mu_a, mu_b, 16),
        "interpolate_16_decode_plain_s": lambda: variation.interpolate(model, segments_a, segments_b, mu_a, mu_b, 16, guided=False),
    }
    interleaved = {name: [] for name in pairs}
    for _ in range(args.repeats):
        for name, call in pairs.items():
            interleaved[name].append(median_seconds(call, 1))
    figures.update({name: statistics.median(times) for name, times in interleaved.items()})

    result = {
        "load_average_at_start": load,
        "load_average_at_end": os.getloadavg()[0],
        "refinement": {"steps": variation.REFINE_STEPS, "learning_rate": variation.REFINE_LEARNING_RATE,
                       "momentum": variation.REFINE_MOMENTUM},
        # on a shared machine the absolute figures follow the load; these ratios much less
        "ratio_vary_8x4_cold_to_cached": round(figures["vary_8x4_bars_s"] / figures["vary_8x4_bars_again_s"], 2),
        "ratio_interpolate_16_to_vary_8x4_cached": round(figures["interpolate_16_steps_2_bars_s"] / figures["vary_8x4_bars_again_s"], 2),
        "ratio_vary_decode_ranked_to_single_draw": round(figures["vary_8x4_decode_ranked_s"] / figures["vary_8x4_decode_single_draw_s"], 2),
        "ratio_interpolate_decode_guided_to_plain": round(figures["interpolate_16_decode_guided_s"] / figures["interpolate_16_decode_plain_s"], 2),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "targets": {"vary_8x4_bars_s": TARGET_VARY_SECONDS, "interpolate_16_steps_2_bars_s": TARGET_INTERPOLATE_SECONDS},
        **{k: round(v, 4) for k, v in figures.items()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    for name, value in figures.items():
        print(f"{name:34s} {value:.3f}")
    print(f"cold / cached: {result['ratio_vary_8x4_cold_to_cached']}")
    print(f"(load average {load:.1f} at start, {result['load_average_at_end']:.1f} at end) -> {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
