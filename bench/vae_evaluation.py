"""Evaluation of the melody VAE on the held-out split (and the dev split), for its model card.

Measures, on 2-bar segments of works the training never saw (``data.split``; dev = a slice of the
training pieces kept out of training, used while tuning):
- reconstruction: greedy decoding of the code ``variation.encode`` gives (the posterior mean refined
  by a few gradient steps, as vary/interpolate use it; also the encoder's mean alone); share of notes
  reproduced exactly (onset, duration and pitch), of 16th steps, and of whole segments;
- the KL term: KL per latent dimension (nats) and active dimensions (Var_x E[z_i | x] > 0.01);
- faders (Pati & Lerch 2020): for each fader dimension, a sweep over its 5-95 % range on held-out
  segments; Spearman rho between fader and its attribute per segment (median), R^2 of the attribute
  on the fader (pooled), and how much the *other* attributes move (median |rho| and their range in
  units of their spread over the data: restrictiveness);
- interpolation between random held-out pairs in 16 steps: endpoint exactness and, for every
  attribute whose values at the two ends differ, Spearman rho between step and attribute (median);
- variations: exact share of the input's notes kept at amounts 0 … 1, and moods: note density, mode
  and register of variations pushed toward tense / calm / happy / sad moods.

Writes bench/results/vae_evaluation.json.
Run: .venv/bin/python bench/vae_evaluation.py [--weights models/vae.safetensors] [--segments cache/vae-segments.npz]
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
RESULTS = ROOT / "bench" / "results" / "vae_evaluation.json"


def spearman(x, y) -> float:
    from scipy.stats import spearmanr

    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


def reconstruction_refined(model, tokens: np.ndarray, batch_size: int = 256) -> dict[str, float]:
    """Greedy reconstruction from the refined code (``variation.encode``, what vary/interpolate use)."""
    from composer_app.generation import melody, variation

    shares, hits, whole = [], 0, 0
    for i in range(0, len(tokens), batch_size):
        batch = tokens[i : i + batch_size]
        decoded = variation.decode(model, variation.encode(model, batch))
        shares += [melody.exact_note_share(a, b) for a, b in zip(batch, decoded)]
        hits += int((decoded == batch).sum())
        whole += int((decoded == batch).all(axis=1).sum())
    return {"notes_exact": float(np.mean(shares)), "steps_exact": hits / tokens.size, "segments_exact": whole / len(tokens)}


def fader_sweeps(model, segments: np.ndarray, attributes_all: np.ndarray, levels: int = 9) -> dict:
    from composer_app.generation import melody, variation

    calibration = model.calibration
    mu = variation.encode(model, segments)
    spread = attributes_all.std(0)
    out = {}
    for i, name in enumerate(model.config.fader_attributes):
        z_values = np.asarray(calibration["faders"][name]["z"])
        sweep = np.linspace(np.quantile(z_values, 0.04), np.quantile(z_values, 0.96), levels).astype(np.float32)
        latents = np.repeat(mu[:, None, :], levels, axis=1)
        latents[:, :, i] = sweep[None, :]
        tokens = variation.decode(model, latents)  # (n, levels, steps)
        attrs = variation.segment_attribute_rows(tokens)  # (n, levels, 3)
        rho = [spearman(sweep, attrs[s, :, i]) for s in range(len(segments))]
        x = np.tile(sweep, len(segments))
        y = attrs[:, :, i].reshape(-1)
        r2 = float(np.corrcoef(x, y)[0, 1] ** 2) if np.ptp(y) > 0 else 0.0
        others = {}
        for j, other in enumerate(melody.FADER_ATTRIBUTES):
            if j == i:
                continue
            rho_j = [abs(spearman(sweep, attrs[s, :, j])) for s in range(len(segments))]
            moved = np.ptp(attrs[:, :, j], axis=1) / max(spread[j], 1e-9)
            others[other] = {"median_abs_spearman": round(float(np.median(rho_j)), 3),
                             "median_range_in_std": round(float(np.median(moved)), 3)}
        own_range = np.ptp(attrs[:, :, i], axis=1) / max(spread[i], 1e-9)
        out[name] = {
            "dim": i,
            "sweep_z": [round(float(v), 3) for v in sweep],
            "mean_attribute_along_sweep": [round(float(v), 3) for v in attrs[:, :, i].mean(0)],
            "spearman_median": round(float(np.median(rho)), 3),
            "spearman_mean": round(float(np.mean(rho)), 3),
            "r2_pooled": round(r2, 3),
            "own_range_in_std_median": round(float(np.median(own_range)), 3),
            "others": others,
        }
    return out


def interpolations(model, segments: np.ndarray, pairs: int, steps: int, rng, spread: np.ndarray | None = None,
                   guided: bool = True) -> dict:
    """Interpolations as the generator makes them (``variation.interpolate``; ``guided`` False: plain decodes)."""
    from composer_app.generation import melody, variation

    a_idx = rng.choice(len(segments), pairs, replace=False)
    b_idx = rng.choice(len(segments), pairs, replace=False)
    a, b = segments[a_idx], segments[b_idx]
    mu = variation.encode(model, np.concatenate([a, b]))
    # every pair is a one-group clip: (steps, pairs, 32) -> (pairs, steps, 32)
    tokens = variation.interpolate(model, a, b, mu[:pairs], mu[pairs:], steps, guided=guided).transpose(1, 0, 2)
    attrs = variation.segment_attribute_rows(tokens)
    start_exact = [melody.exact_note_share(a[k], tokens[k, 0]) for k in range(pairs)]
    end_exact = [melody.exact_note_share(b[k], tokens[k, -1]) for k in range(pairs)]
    rho = {name: [] for name in melody.FADER_ATTRIBUTES}
    rho_clear = {name: [] for name in melody.FADER_ATTRIBUTES}  # ends at least half a data std apart
    true_attrs = variation.segment_attribute_rows(np.stack([a, b], 1))
    for k in range(pairs):
        for j, name in enumerate(melody.FADER_ATTRIBUTES):
            if abs(true_attrs[k, 0, j] - true_attrs[k, 1, j]) > 1e-6:
                sign = 1.0 if true_attrs[k, 1, j] > true_attrs[k, 0, j] else -1.0
                rho[name].append(sign * spearman(np.arange(steps), attrs[k, :, j]))
                if spread is not None and abs(true_attrs[k, 0, j] - true_attrs[k, 1, j]) >= 0.5 * spread[j]:
                    rho_clear[name].append(rho[name][-1])
    all_rho = [v for values in rho.values() for v in values]
    clear = [v for values in rho_clear.values() for v in values]
    distinct = [len({tuple(t) for t in tokens[k]}) for k in range(pairs)]
    return {
        "pairs": pairs,
        "steps": steps,
        "start_notes_exact": round(float(np.mean(start_exact)), 4),
        "end_notes_exact": round(float(np.mean(end_exact)), 4),
        "endpoints_notes_exact": round(float(np.mean(start_exact + end_exact)), 4),
        "monotonicity_spearman_median": round(float(np.median(all_rho)), 3),
        "monotonicity_spearman_median_per_attribute": {k: round(float(np.median(v)), 3) for k, v in rho.items() if v},
        "monotonicity_spearman_quartiles_per_attribute": {
            k: [round(float(q), 3) for q in np.quantile(v, [0.25, 0.5, 0.75])] for k, v in rho.items() if v
        },
        "paths_per_attribute": {k: len(v) for k, v in rho.items()},
        "where_ends_differ_by_half_a_std": {
            "monotonicity_spearman_median": round(float(np.median(clear)), 3) if clear else None,
            "per_attribute": {k: round(float(np.median(v)), 3) for k, v in rho_clear.items() if v},
            "paths_per_attribute": {k: len(v) for k, v in rho_clear.items()},
        },
        "share_of_paths_with_rho_at_least_0.9": round(float(np.mean(np.array(all_rho) >= 0.9)), 3),
        "distinct_steps_median": float(np.median(distinct)),
    }


def variations(model, segments: np.ndarray, rng) -> dict:
    from composer_app.generation import melody, variation
    from composer_app.mood.mood import PRESETS
    from composer_app.mood.targets import targets_for

    mu = variation.encode(model, segments)
    amounts = {}
    for amount in (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0):
        seeds = rng.integers(0, 2**31, 4)  # each segment a clip of its own, varied as the generator does
        tokens = np.stack([variation.vary(model, segments[s : s + 1], mu[s : s + 1], amount, seeds + s)[:, 0]
                           for s in range(len(segments))], axis=1)  # (4, n, 32)
        kept = [melody.exact_note_share(segments[s], tokens[c, s]) for c in range(4) for s in range(len(segments))]
        distinct = np.mean([len({tuple(tokens[c, s]) for c in range(4)}) for s in range(len(segments))])
        bars_in = segments.reshape(len(segments), -1, variation.BAR_STEPS)  # (n, bars, 16)
        bars_out = tokens.reshape(4, len(segments), -1, variation.BAR_STEPS)
        changed = np.mean([[not np.array_equal(bars_out[c, s, b], bars_in[s, b]) for b in range(bars_in.shape[1])]
                           for c in range(4) for s in range(len(segments))])
        rhythm = np.mean([[variation.bar_onsets(bars_out[c, s, b]) == variation.bar_onsets(bars_in[s, b]) for b in range(bars_in.shape[1])]
                          for c in range(4) for s in range(len(segments))])
        amounts[f"{amount:.1f}"] = {"input_notes_kept": round(float(np.mean(kept)), 4), "distinct_of_4": round(float(distinct), 2),
                                    "bars_changed": round(float(changed), 4), "bars_with_the_input_onsets": round(float(rhythm), 4)}
    moods = {}
    for name in ("happy", "tense", "sad", "calm"):
        preset = PRESETS[name]
        targets = targets_for(preset.mood)
        row = np.array([[float(getattr(targets, k)) for k in melody.FADER_ATTRIBUTES]])
        seed = int(rng.integers(0, 2**31))  # each segment a clip of its own, varied as the generator does
        tokens = np.stack([variation.vary(model, segments[s : s + 1], mu[s : s + 1], 0.3, [seed + s], row)[0, 0]
                           for s in range(len(segments))])
        attrs = variation.segment_attribute_rows(tokens).mean(0)
        moods[name] = {
            "valence": preset.mood.valence,
            "arousal": preset.mood.arousal,
            "targets": {k: round(float(getattr(targets, k)), 3) for k in melody.FADER_ATTRIBUTES},
            "measured_mean": {k: round(float(v), 3) for k, v in zip(melody.FADER_ATTRIBUTES, attrs)},
        }
    inputs = variation.segment_attribute_rows(segments).mean(0)
    return {"amounts": amounts, "moods_amount_0.3": moods, "inputs_mean": {k: round(float(v), 3) for k, v in zip(melody.FADER_ATTRIBUTES, inputs)}}


def dev_only(model, dev: np.ndarray, train_attributes: np.ndarray, args, rng, started: float) -> int:
    """Interpolations and variations on the dev split, what the decode-time guidance was tuned on."""
    sweep = dev[rng.choice(len(dev), min(args.sweep_segments, len(dev)), replace=False)]
    result = {
        "split": "dev",
        "load_average_at_start": os.getloadavg()[0],
        "interpolation_dev": interpolations(model, dev, min(args.pairs, len(dev) // 2), 16, rng, train_attributes.std(0)),
        "variations_dev": variations(model, sweep[: args.variation_segments], rng),
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    interpolation = result["interpolation_dev"]
    print(json.dumps({k: interpolation[k] for k in ("endpoints_notes_exact", "monotonicity_spearman_median",
                                                    "monotonicity_spearman_median_per_attribute")}, indent=1))
    print(json.dumps(result["variations_dev"], indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=Path, default=ROOT / "models" / "vae.safetensors")
    parser.add_argument("--segments", type=Path, default=ROOT / "cache" / "vae-segments.npz")
    parser.add_argument("--heldout", type=int, default=2976, help="held-out segments to reconstruct (all by default)")
    parser.add_argument("--sweep-segments", type=int, default=200)
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--variation-segments", type=int, default=100, help="segments varied at each amount and mood")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/results/vae_evaluation.json (dev: vae_evaluation-dev.json)")
    parser.add_argument("--reuse-unchanged", action="store_true",
                        help="take reconstruction, KL and fader sweeps from the existing results file (for a change "
                             "that leaves the encoder, the plain decoder and the weights as they were) and measure the rest")
    parser.add_argument("--only-variations", action="store_true",
                        help="measure only the variations and take everything else from the existing results file (for a "
                             "change to Vary alone; the variations' seeds then differ from a full run's)")
    parser.add_argument("--split", choices=("heldout", "dev"), default="heldout",
                        help="dev: only interpolations and variations, on the dev split (for tuning)")
    args = parser.parse_args()
    args.out = args.out or (RESULTS if args.split == "heldout" else RESULTS.with_name("vae_evaluation-dev.json"))
    import torch

    torch.set_num_threads(1)
    from composer_app.generation import training_vae, variation
    from composer_app.generation.vae import load_vae

    started = time.perf_counter()
    model = load_vae(args.weights)
    segments = training_vae.build_segments(segment_cache=args.segments)
    rng = np.random.default_rng(7)
    heldout = segments["heldout"].astype(np.int64)
    heldout = heldout[rng.permutation(len(heldout))[: args.heldout]]
    dev = segments["dev"].astype(np.int64)
    if args.split == "dev":
        return dev_only(model, dev, segments["train_attributes"], args, rng, started)
    result = {
        "weights": str(args.weights.name),
        "load_average_at_start": os.getloadavg()[0],
        "heldout_segments": int(len(heldout)),
        "dev_segments": int(len(dev)),
        "refinement": {"steps": variation.REFINE_STEPS, "learning_rate": variation.REFINE_LEARNING_RATE,
                       "momentum": variation.REFINE_MOMENTUM, "margin": variation.REFINE_MARGIN,
                       "prior_weight": variation.REFINE_PRIOR_WEIGHT},
    }
    unchanged = ("reconstruction_heldout", "reconstruction_dev", "reconstruction_heldout_encoder_only",
                 "reconstruction_dev_encoder_only", "kl_heldout", "faders_heldout")
    sweep = heldout[rng.choice(len(heldout), min(args.sweep_segments, len(heldout)), replace=False)]
    if args.only_variations and args.out.exists():
        previous = json.loads(args.out.read_text())
        result = {**previous, "load_average_at_start": result["load_average_at_start"]}
        result["reused_from_previous_run"] = [k for k in previous if k not in ("variations_heldout", "seconds", "load_average_at_start")]
        result["variations_heldout"] = variations(model, sweep[: args.variation_segments], rng)
        result["seconds"] = round(time.perf_counter() - started, 1)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result["variations_heldout"], indent=1))
        return 0
    if args.reuse_unchanged and args.out.exists():
        previous = json.loads(args.out.read_text())
        result.update({k: previous[k] for k in unchanged})
        result["reused_from_previous_run"] = list(unchanged)
    else:
        result["reconstruction_heldout"] = reconstruction_refined(model, heldout)
        result["reconstruction_dev"] = reconstruction_refined(model, dev)
        result["reconstruction_heldout_encoder_only"] = training_vae.reconstruction(model, heldout)
        result["reconstruction_dev_encoder_only"] = training_vae.reconstruction(model, dev)
        result["kl_heldout"] = training_vae.kl_statistics(model, heldout)
        result["faders_heldout"] = fader_sweeps(model, sweep, segments["train_attributes"])
    result["interpolation_heldout"] = interpolations(model, heldout, min(args.pairs, len(heldout) // 2), 16, rng,
                                                     segments["train_attributes"].std(0))
    result["variations_heldout"] = variations(model, sweep[: args.variation_segments], rng)
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    summary = {k: result[k] for k in ("reconstruction_heldout", "reconstruction_dev", "reconstruction_heldout_encoder_only")}
    summary["active_dims"] = result["kl_heldout"]["active_dims"]
    summary["kl_total"] = result["kl_heldout"]["kl_total"]
    summary["faders"] = {k: (v["spearman_median"], v["r2_pooled"]) for k, v in result["faders_heldout"].items()}
    summary["interpolation"] = {k: result["interpolation_heldout"][k] for k in ("endpoints_notes_exact", "monotonicity_spearman_median")}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
