"""Valence and arousal sweeps per held-out prompt: does each slider move the music on any prompt?

For held-out folk prompts (the realism test's cases; half read as major, half as minor by the
Krumhansl-Kessler estimate of the prompt), each slider is swept over five levels (the other at 0),
``--candidates`` candidates per level with the same seed. Per prompt: Spearman's rho between the
level and the mean measured attribute of its candidates (valence -> major_strength, arousal ->
note_density), the same per seed (one candidate index through the five levels, the stricter
figure), whether the means rise at every step (monotone), and the share of candidates whose
Krumhansl-Kessler key keeps the prompt's tonic. Writes bench/results/mood_sweep-TAG.json.

    python bench/mood_sweep.py [--prompts 12] [--candidates 4] [--weights models/transformer.safetensors] [--tag v1] [--split heldout|dev]
        [--key-signatures] [--heuristics name=value,...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LEVELS = (-1.0, -0.5, 0.0, 0.5, 1.0)
SLIDERS = {"valence": "major_strength", "arousal": "note_density"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=12, help="prompts in all (half major, half minor)")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--weights", type=Path, default=ROOT / "models" / "transformer.safetensors")
    parser.add_argument("--tag", default="transformer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heuristics", default="", help="changes to plan.Heuristics, e.g. frequency_penalty=0,ranking=0")
    parser.add_argument("--split", choices=("heldout", "dev"), default="heldout", help="dev: the prompts tuning may look at")
    parser.add_argument("--key-signatures", action="store_true", help="give the engine each file's key signature, as the app does")
    args = parser.parse_args(argv)

    import torch

    from composer_app.core.note import Note
    from composer_app.core.theory import key_correlations
    from composer_app.core.timing import TimeSignatureChange, TimeSignatureMap
    from composer_app.generation import evaluation, keys
    from composer_app.generation.engine import suggest
    from composer_app.generation.evaluation import EvalSettings, realism_cases, spearman
    from composer_app.generation.registry import load_weights
    from composer_app.generation.training import TrainSettings, load_split
    from composer_app.mood.mood import Mood

    from dataclasses import replace

    from composer_app.generation.plan import Heuristics

    changes = {}
    for item in filter(None, args.heuristics.split(",")):
        name, _, value = item.partition("=")
        changes[name] = bool(float(value)) if name == "ranking" else type(getattr(Heuristics(), name))(float(value))
    heuristics = replace(Heuristics(), **changes)
    torch.set_num_threads(1)
    load = os.getloadavg()
    model = load_weights(args.weights)
    from composer_app.generation.training_vae import is_dev

    train, heldout = load_split(TrainSettings(convert=False, progress=False))
    items = heldout if args.split == "heldout" else [item for item in train if is_dev(item.source_id)]
    cases = realism_cases(items, EvalSettings(realism_prompts=None, seed=args.seed))
    rng = np.random.default_rng(args.seed + 11)
    rng.shuffle(cases)

    def kk(notes):
        hist = np.bincount(notes[:, 2] % 12, weights=notes[:, 1], minlength=12)
        best = int(np.argmax(key_correlations(hist)))
        return best % 12, best >= 12

    chosen = {False: [], True: []}
    for case in cases:
        _, minor = kk(case.context.prompt)
        if len(chosen[minor]) < args.prompts // 2:
            chosen[minor].append(case)
    scale = evaluation.EVAL_TPQ // 12
    rows = []
    started = time.perf_counter()
    for minor, group in chosen.items():
        for k, case in enumerate(group):
            prompt_notes = [Note(int(s) * scale, int(p), max(1, int(d) * scale), 90) for s, d, p in case.context.prompt]
            prompt = evaluation._prompt(prompt_notes, TimeSignatureMap([TimeSignatureChange(0, case.numerator, case.denominator)], evaluation.EVAL_TPQ))
            hist = np.bincount(case.context.prompt[:, 2] % 12, weights=np.minimum(case.context.prompt[:, 1], 24), minlength=12)
            tonic = keys.prompt_key(hist, case.context.key_signature).tonic_pc
            row = {"source_id": case.source_id, "prompt_mode": "minor" if minor else "major", "tonic": tonic}
            for slider, attribute in SLIDERS.items():
                means, tonic_kept, values = [], [], []
                for level in LEVELS:
                    mood = Mood(level, 0.0) if slider == "valence" else Mood(0.0, level)
                    found = suggest(prompt, mood, bars=4, candidates=args.candidates, seed=args.seed + 1000 * k, model=model, heuristics=heuristics,
                                    key_signature=case.context.key_signature if args.key_signatures else None)
                    values.append([c.attributes.as_dict()[attribute] for c in found])
                    means.append(float(np.mean(values[-1])))
                    for c in found:
                        if c.notes:
                            grid = np.array([(n.start_tick, n.duration_ticks, n.pitch) for n in c.notes])
                            tonic_kept.append(kk(grid)[0] == tonic)
                rho = spearman(LEVELS, means)
                per_seed = [spearman(LEVELS, [v[j] for v in values]) for j in range(min(len(v) for v in values))]
                row[slider] = {
                    "means": means, "spearman": rho, "monotone": bool(np.all(np.diff(means) > 0)),
                    "values": values, "spearman_per_seed": float(np.nanmean(per_seed)) if per_seed else None,
                    "tonic_kept": float(np.mean(tonic_kept)) if tonic_kept else None,
                }
            rows.append(row)
            print(f"{row['prompt_mode']} {case.source_id}: valence {row['valence']['spearman']:.2f} {np.round(row['valence']['means'], 3).tolist()} "
                  f"arousal {row['arousal']['spearman']:.2f}", file=sys.stderr, flush=True)
    summary = {}
    for slider in SLIDERS:
        for mode in ("major", "minor", "all"):
            picked = [r[slider] for r in rows if mode == "all" or r["prompt_mode"] == mode]
            rhos = [p["spearman"] for p in picked if p["spearman"] == p["spearman"]]
            summary[f"{slider}_{mode}"] = {
                "prompts": len(picked),
                "spearman_mean": float(np.mean(rhos)) if rhos else None,
                "spearman_min": float(np.min(rhos)) if rhos else None,
                "spearman_per_seed_mean": float(np.nanmean([p["spearman_per_seed"] for p in picked])) if picked else None,
                "monotone_share": float(np.mean([p["monotone"] for p in picked])) if picked else None,
                "tonic_kept": float(np.mean([p["tonic_kept"] for p in picked if p["tonic_kept"] is not None])) if picked else None,
            }
    result = {
        "weights": args.weights.name, "split": args.split, "heuristics": changes, "key_signatures": args.key_signatures, "levels": LEVELS, "candidates": args.candidates, "load_average": load,
        "seconds": time.perf_counter() - started, "summary": summary, "prompts": rows,
    }
    out = ROOT / "bench" / "results" / f"mood_sweep-{args.tag}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
