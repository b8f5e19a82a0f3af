"""Realism test of the VAE's output: can a classifier tell its phrases from real ones?

Uses the project's realism test (``generation.realism``: per-clip features measured against a prompt,
logistic regression and gradient boosting, folds grouped by piece) on the held-out folk cases of
``evaluation.realism_cases`` (a tune's first 4 bars as the prompt, its real next 4 bars as the
reference). Rows, all against the real next 4 bars:
- ``transformer (default continuations)``: the default generator continuing the prompt (the bar to beat);
- ``vae variations, amount 0.3`` / ``0.7``: variations of the real next bars (what Vary makes of a phrase);
- ``vae free samples (amount 1)``: decoded from the prior, nothing of the phrase kept.
Accuracy 0.5: the classifier cannot tell them from real phrases; 1.0: always can.

``--mood NAME`` (a preset of ``mood.mood.PRESETS``, e.g. tense): the VAE rows vary toward that mood, as
the Vary button does with "toward the mood" on (``VaryRequest(moods=(mood,))``: the faders set to the
mood's targets, the bar plan's changed bars free and steered toward them, the others kept); the Transformer row stays the default, mood-free
continuations (the same bar to beat; with ``--reuse-transformer`` taken from vae_realism.json).

Writes bench/results/vae_realism.json (``--split dev``: vae_realism-dev.json, the dev pieces' prompts, VAE rows only;
``--mood tense``: vae_realism-tense.json / vae_realism-dev-tense.json, the mood-free files left as they are).
Run: .venv/bin/python bench/vae_realism.py [--prompts 200] [--split dev] [--amounts 0.1,0.3,0.7,1.0] [--mood tense]
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
RESULTS = ROOT / "bench" / "results" / "vae_realism.json"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=2)
    parser.add_argument("--amounts", default="0.3,0.7,1.0", help="variation amounts, comma-separated (1: free samples)")
    parser.add_argument("--reuse-transformer", action="store_true",
                        help="take the Transformer's row from the existing results file (same prompts, seed and "
                             "candidates; each row's classifiers see only that row and the real phrases)")
    parser.add_argument("--split", choices=("heldout", "dev"), default="heldout",
                        help="dev: prompts from the VAE's dev pieces (training_vae.is_dev), VAE rows only (for tuning)")
    parser.add_argument("--mood", default=None,
                        help="vary toward this mood preset (e.g. tense, calm); results go to vae_realism-MOOD.json")
    args = parser.parse_args()
    from composer_app.mood.mood import preset

    mood_name = args.mood.strip().lower() if args.mood is not None else None
    try:
        moods = (preset(mood_name),) if mood_name else ()
    except ValueError as error:
        parser.error(str(error))
    mood_suffix = f" with mood {mood_name}" if moods else ""
    import torch

    torch.set_num_threads(1)
    from composer_app.core.clip import Clip
    from composer_app.core.note import Note
    from composer_app.core.timing import TimeSignatureChange, TimeSignatureMap, TempoMap
    from composer_app.generation import evaluation, realism, registry
    from composer_app.generation import tokenizer as tk
    from composer_app.generation.generator import VaryRequest
    from composer_app.generation.training import TrainSettings, load_split

    started = time.perf_counter()
    load = os.getloadavg()[0]
    train_items, heldout_items = load_split(TrainSettings(convert=False, progress=False))
    if args.split == "dev":  # the Transformer trained on these pieces: its row would not be a fair bar here
        from composer_app.generation.training_vae import is_dev

        heldout_items = [item for item in train_items if is_dev(item.source_id)]
    settings = evaluation.EvalSettings(realism_prompts=args.prompts)
    cases = evaluation.realism_cases(heldout_items, settings)
    tpq = tk.GRID_TICKS_PER_QUARTER
    vae = registry.load_generator("vae")

    def as_clip(case) -> Clip:
        notes = [Note(int(s), int(p), max(1, int(d)), 90) for s, d, p in case.real]
        ts = TimeSignatureMap([TimeSignatureChange(0, case.numerator, case.denominator)], tpq)
        return Clip(tuple(notes), tpq, TempoMap(ticks_per_quarter=tpq), ts)

    def arrays(candidate, length_ticks: int) -> np.ndarray:
        rows = [(n.start_tick, n.duration_ticks, n.pitch) for n in candidate.notes if n.start_tick < length_ticks]
        return np.array(rows, dtype=np.int64).reshape(-1, 3)

    generated = {}
    for amount in (float(a) for a in args.amounts.split(",")):
        name = ("vae free samples (amount 1)" if amount == 1.0 else f"vae variations, amount {amount}") + mood_suffix
        out = []
        for k, case in enumerate(cases):
            length = realism.CONTINUATION_BARS * case.context.bar_ticks
            found = vae.vary(VaryRequest(as_clip(case), candidates=args.candidates, amount=amount, moods=moods,
                                       seed=1000 * k))
            out.append([arrays(c, length) for c in found])
        generated[name] = out
    transformer_name = "transformer (default continuations)"
    previous = json.loads(RESULTS.read_text()) if args.reuse_transformer and RESULTS.exists() else {}
    reused = [row for row in previous.get("rows", []) if row["name"] == transformer_name]
    if args.split == "heldout" and not reused:
        transformer = registry.load_generator("transformer")
        generated["transformer (default continuations)"] = evaluation.continue_cases(transformer, cases, args.candidates, seed=0)
    report = realism.realism_report(
        [c.context for c in cases], [c.real for c in cases], generated, [c.source_id for c in cases], seed=0,
        baselines=args.split == "heldout",
    )
    report["split"] = args.split
    report["mood"] = {"preset": mood_name, **moods[0].to_dict()} if moods else None
    if args.split == "heldout" and reused:
        report["rows"].append({**reused[0], "note": (reused[0].get("note", "") + f" reused from {RESULTS.name}" + (" (no mood)" if moods else "")).strip()})
    report["load_average_at_start"] = load
    report["seconds"] = round(time.perf_counter() - started, 1)
    stem = RESULTS.stem + ("" if args.split == "heldout" else "-dev") + (f"-{mood_name}" if moods else "")
    out = RESULTS.with_name(stem + RESULTS.suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    for row in report["rows"]:
        print(f"{row['name']:45s} logistic {row['logistic']:.3f}  boosting {row['boosting']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
