"""Realism and control of the Transformer's continuations under sampling variants (ablation rows).

Continues held-out folk prompts (the realism test's cases, ``composer-app evaluate``'s split) with
each variant, stores every variant's candidates under bench/results/realism/ (so a later run only
adds what is missing), then runs one realism report over all variants together and writes
bench/results/realism_ablation.json and .md. Usage:

    python bench/realism_ablation.py [--prompts 200] [--candidates 4] [--variants default,no-frequency-penalty,...]
        [--weights models/transformer.safetensors] [--tag NAME] [--split heldout|dev]

Variants are named settings of the engine (``VARIANTS``); each names what it switches off.
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

from composer_app.generation.plan import NO_INTERVAL_BIAS  # noqa: E402  (after the path set-up above)


# name -> engine.suggest keyword arguments (engine.SamplingOptions fields where the engine has them)
def _heuristics(**changes):
    from dataclasses import replace

    from composer_app.generation.plan import Heuristics

    return {"heuristics": replace(Heuristics(), **changes)}


VARIANTS: dict[str, dict] = {
    "default": {},
    "previous-default": _heuristics(restatement=0.0, frequency_penalty=1.0, cadence=0.0),  # the engine before issue 11's restatement
    "session-17-engine": _heuristics(frequency_keeps_key=False, frequency_free=0, interval_bias=NO_INTERVAL_BIAS),  # the engine before this round's key keeping and interval bias
    "frequency-penalty-1": _heuristics(frequency_penalty=1.0),
    "no-frequency-penalty": _heuristics(frequency_penalty=0.0),
    "frequency-penalty-any-key": _heuristics(frequency_keeps_key=False),  # the penalty's mass may go to chromatic pitches (before)
    "frequency-free-1": _heuristics(frequency_free=1),
    "frequency-free-2": _heuristics(frequency_free=2),
    "frequency-free-1-restatement-1.5": _heuristics(frequency_free=1, restatement=1.5),
    "no-interval-bias": _heuristics(interval_bias=NO_INTERVAL_BIAS),  # the key kept, no interval bias
    "interval-bias-x2": _heuristics(interval_bias=tuple(2 * v for v in __import__("composer_app.generation.plan", fromlist=["x"]).INTERVAL_BIAS)),
    "interval-bias-round-1": _heuristics(interval_bias=(0.0, 0.0, -0.3, 0.2, 0.0, 0.1, -0.45, 0.0, 0.0)),  # the first calibration
    "restatement-1.5-any-key": _heuristics(restatement=1.5, frequency_keeps_key=False),
    "no-repeat-penalty": _heuristics(repeat_penalty=0.0),
    "frequency-penalty-0.5": _heuristics(frequency_penalty=0.5),
    "cadence-1": _heuristics(cadence=1.0),
    "cadence-2": _heuristics(cadence=2.0),
    "frequency-penalty-0.5-cadence-1": _heuristics(frequency_penalty=0.5, cadence=1.0),
    "frequency-penalty-0.5-cadence-2": _heuristics(frequency_penalty=0.5, cadence=2.0),
    "no-penalties": _heuristics(frequency_penalty=0.0, repeat_penalty=0.0),
    "no-scale-guidance": _heuristics(scale_penalty=0.0, scale_penalty_notated_key=0.0, mode_penalty=0.0, mode_guidance=0.0),
    "scale-penalty-0.5": _heuristics(scale_penalty=0.5),
    "scale-penalty-2": _heuristics(scale_penalty=2.0),
    "no-ranking": _heuristics(ranking=False),
    "no-restatement": _heuristics(restatement=0.0),
    "restatement-copy-only": _heuristics(restatement_kinds=("copy",)),
    "restatement-rhythm-only": _heuristics(restatement_kinds=("rhythm",)),
    "restatement-0.5": _heuristics(restatement=0.5),
    "restatement-1.5": _heuristics(restatement=1.5),
    "key-signature": {"key_signatures": True},  # the file's key signature given to the engine (as the app does)
    "key-signature-no-restatement": {"key_signatures": True, **_heuristics(restatement=0.0)},
    "scale-penalty-2-key-signature": {"key_signatures": True, **_heuristics(scale_penalty_notated_key=2.0)},
    "key-signature-scale-penalty-1": {"key_signatures": True, **_heuristics(scale_penalty_notated_key=1.0)},  # before
    "key-signature-scale-penalty-0.25": {"key_signatures": True, **_heuristics(scale_penalty_notated_key=0.25)},
    "key-signature-frequency-keeps-key": {"key_signatures": True, **_heuristics(frequency_keeps_notated_key=True)},  # before
}


def load_cases(prompts: int, seed: int = 0, split: str = "heldout"):
    """The realism cases of the held-out split, or of the dev split (``training_vae.is_dev``: a
    hash-chosen part of the training pieces, left out of the phrase table's calibration) for tuning."""
    from composer_app.generation.evaluation import EvalSettings, realism_cases
    from composer_app.generation.training import TrainSettings, load_split
    from composer_app.generation.training_vae import is_dev

    train, heldout = load_split(TrainSettings(convert=False, progress=False))
    items = heldout if split == "heldout" else [item for item in train if is_dev(item.source_id)]
    return realism_cases(items, EvalSettings(realism_prompts=prompts, seed=seed))


def generate(model, cases, variant: str, candidates: int, out: Path) -> list[list[np.ndarray]]:
    from composer_app.generation.evaluation import continue_cases

    if out.exists():
        with np.load(out, allow_pickle=False) as data:
            ids = json.loads(str(data["ids"]))
            if ids == [c.source_id for c in cases] and int(data["candidates"]) == candidates:
                flat, counts = data["notes"], data["counts"]
                ends = np.cumsum(counts)
                clips = [flat[e - n : e] for e, n in zip(ends, counts)]
                return [clips[i * candidates : (i + 1) * candidates] for i in range(len(cases))]
    started = time.perf_counter()
    gen = continue_cases(model, cases, candidates, 0, lambda m: print(f"{variant}: {m}", file=sys.stderr), **VARIANTS[variant])
    seconds = time.perf_counter() - started
    flat = [c for group in gen for c in group]
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out, ids=np.array(json.dumps([c.source_id for c in cases])), candidates=np.array(candidates),
        notes=np.concatenate(flat).reshape(-1, 3), counts=np.array([len(c) for c in flat]), seconds=np.array(seconds),
    )
    return gen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--variants", default="default")
    parser.add_argument("--weights", type=Path, default=ROOT / "models" / "transformer.safetensors")
    parser.add_argument("--tag", default="transformer")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--split", choices=("heldout", "dev"), default="heldout", help="dev: tune here; heldout: report")
    args = parser.parse_args(argv)

    import torch

    from composer_app.generation import realism
    from composer_app.generation.registry import load_weights

    torch.set_num_threads(1)
    model = load_weights(args.weights)
    cases = load_cases(args.prompts, split=args.split)
    store = ROOT / "bench" / "results" / "realism"
    generated = {}
    if args.variants == "all":
        args.variants = ",".join(VARIANTS)
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            print(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}", file=sys.stderr)
            return 2
        name = f"{args.tag}/{variant}"
        split = "" if args.split == "heldout" else f"{args.split}-"
        generated[name] = generate(model, cases, variant, args.candidates, store / f"{split}{args.tag}-{variant}-{args.prompts}x{args.candidates}.npz")
    if args.generate_only:
        return 0
    report = realism.realism_report([c.context for c in cases], [c.real for c in cases], generated, [c.source_id for c in cases])
    report["weights"] = args.weights.name
    report["load_average"] = os.getloadavg()
    report["split"] = args.split
    out = ROOT / "bench" / "results" / f"realism_ablation-{args.tag}{'' if args.split == 'heldout' else '-' + args.split}"
    out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    out.with_suffix(".md").write_text(realism.to_markdown(report))
    print(realism.to_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
