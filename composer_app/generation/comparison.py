"""Every shipped generator on the same held-out prompts: ``composer-app evaluate --generators all``.

One report (JSON + Markdown + PNG plots) answering: which generator is most realistic, most
diverse, most controllable, fastest? All generators get the same held-out prompts (the realism
cases: a folk tune's first 4 bars, never trained on), the same requests and the same seeds, and
answer through the ``Generator`` interface with one per-bar plan per request.

* **Likelihood**: NLL per note on held-out pieces where the generator defines one (token models),
  next to an interpolated Witten-Bell n-gram trained on the same tokens.
* **Realism** (``realism.realism_report``): cross-validated accuracy of classifiers telling the real
  next 4 bars from each generator's (50 % = indistinguishable).
* **Style**: pitch-class entropy, scale consistency, groove consistency and the Yang & Lerch
  overlapping areas against the real continuations (``evaluation``).
* **Diversity** among the candidates of one request: 1 - Jaccard of their (onset, pitch) sets, and
  the share of distinct bars among ``DISTINCT_SAMPLES`` one-bar samples of one prompt.
* **Control**: arousal and valence swept over 5 levels (the other at 0) per prompt; Spearman of the
  level with the mean attribute (note density / major strength) per prompt (median and minimum
  over prompts), and R² pooled over every candidate.
* **Diversity at equal realism**: each generator is also run at lower and higher temperatures
  (the GAN: its noise scale), tracing realism against diversity; the design's claim (the GAN is
  more diverse at equal realism) is checked where the curves overlap.
* **Cost**: load time, 4 candidates x 4 bars and 4 x 16 bars (medians), weights size, parameters.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from composer_app.core.clip import Clip
from composer_app.core.note import Note
from composer_app.core.timing import TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.generation import tokenizer as tk
from composer_app.generation.evaluation import (
    LEVELS,
    groove_consistency,
    overlapping_area,
    pitch_class_entropy,
    r_squared,
    scale_consistency,
    spearman,
    yang_lerch_features,
)

TPQ = 480  # ticks per quarter of the prompts handed to the generators
DISTINCT_SAMPLES = 16  # one-bar samples of one prompt in the distinct-bars check
TARGETS = {"arousal_spearman": 0.9, "valence_spearman": 0.8, "load_seconds": 1.0, "latency_4x4_seconds": 1.0, "gan_distinct_bars": 0.9}


@dataclass
class CompareSettings:
    prompts: int = 32  # held-out prompts for realism, style and diversity
    candidates: int = 4  # candidates per request
    bars: int = 4  # bars per continuation (the realism cases' length)
    temperatures: tuple[float, ...] = (0.7, 1.0, 1.4)  # the realism/diversity trade-off (GAN: noise scale)
    control_prompts: int = 6  # prompts for the slider sweeps
    control_candidates: int = 2  # candidates per sweep level
    nll_pieces: int = 60  # held-out pieces for the likelihood
    ngram_order: int = 5
    latency_runs: int = 5
    seed: int = 0
    quick: bool = False  # a small, fast run (tests)

    def __post_init__(self):
        if self.quick:
            self.prompts, self.control_prompts, self.nll_pieces, self.latency_runs = min(self.prompts, 6), 2, 4, 1
            self.temperatures, self.ngram_order = (1.0,), 3


def _clip(grid_notes: np.ndarray, numerator: int, denominator: int) -> Clip:
    scale = TPQ // tk.GRID_TICKS_PER_QUARTER
    notes = tuple(Note(int(s) * scale, int(p), max(1, int(d) * scale), 90) for s, d, p in grid_notes)
    return Clip(notes, TPQ, TempoMap(ticks_per_quarter=TPQ), TimeSignatureMap([TimeSignatureChange(0, numerator, denominator)], TPQ))


def _grid(candidate) -> np.ndarray:
    scale = candidate.ticks_per_quarter / tk.GRID_TICKS_PER_QUARTER
    return np.array(
        [(round(n.start_tick / scale), max(1, round(n.duration_ticks / scale)), n.pitch) for n in candidate.notes], dtype=np.int64
    ).reshape(-1, 3)


def _jaccard_distance(a: np.ndarray, b: np.ndarray) -> float:
    sa, sb = {(int(s), int(p)) for s, _, p in a}, {(int(s), int(p)) for s, _, p in b}
    return 1.0 - len(sa & sb) / max(1, len(sa | sb))


def _median(values) -> float | None:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.median(values)) if values else None


def _continuations(gen, cases, settings: CompareSettings, temperature: float, seed_base: int) -> list[list[np.ndarray]]:
    from composer_app.generation.engine import suggest

    out = []
    for k, case in enumerate(cases):
        clip = _clip(case.context.prompt, case.numerator, case.denominator)
        candidates = suggest(clip, None, settings.bars, settings.candidates, temperature, seed_base + k, model=gen)
        out.append([_grid(c) for c in candidates])
    return out


def _style(candidate_lists, cases, settings: CompareSettings) -> dict:
    gen_stats = {"pc_entropy": [], "scale_consistency": [], "groove_consistency": []}
    real_stats = {"pc_entropy": [], "scale_consistency": [], "groove_consistency": []}
    gen_feats, real_feats = [], []
    for grids, case in zip(candidate_lists, cases):
        bar_len = case.context.bar_ticks
        for stats, feats, clips in ((real_stats, real_feats, [case.real]), (gen_stats, gen_feats, grids)):
            for g in clips:
                stats["pc_entropy"].append(pitch_class_entropy(g))
                stats["scale_consistency"].append(scale_consistency(g))
                stats["groove_consistency"].append(groove_consistency(g, bar_len, settings.bars))
                feats.append(yang_lerch_features(g))
    overlap = {}
    for name in real_feats[0]:
        real = np.array([f[name] for f in real_feats])
        gen = np.array([f[name] for f in gen_feats])
        intra = np.abs(real[:, None] - real[None, :])[np.triu_indices(len(real), 1)]
        overlap[name] = overlapping_area(intra, np.abs(gen[:, None] - real[None, :]).ravel())
    finite = [v for v in overlap.values() if not math.isnan(v)]
    return {
        "generated": {k: float(np.mean(v)) for k, v in gen_stats.items()},
        "real": {k: float(np.mean(v)) for k, v in real_stats.items()},
        "overlapping_area": overlap,
        "overlapping_area_mean": float(np.mean(finite)) if finite else None,
    }


def _diversity(candidate_lists) -> float | None:
    distances = [_jaccard_distance(a, b) for grids in candidate_lists for a, b in itertools.combinations(grids, 2)]
    return float(np.mean(distances)) if distances else None


def _distinct_bars(gen, cases, settings: CompareSettings) -> dict:
    """Distinct first bars among ``DISTINCT_SAMPLES`` one-bar candidates of one prompt (no ranking)."""
    from composer_app.generation.engine import suggest

    shares = []
    for k, case in enumerate(cases[: max(1, min(4, len(cases)))]):
        clip = _clip(case.context.prompt, case.numerator, case.denominator)
        candidates = suggest(clip, None, 1, DISTINCT_SAMPLES, 1.0, settings.seed + 500 + k, model=gen, oversample=1)
        bars = {tuple((int(s), int(p)) for s, _, p in _grid(c)) for c in candidates}
        shares.append(len(bars) / len(candidates))
    return {"samples_per_prompt": DISTINCT_SAMPLES, "prompts": len(shares), "share": float(np.mean(shares)), "min": float(np.min(shares))}


def _control(gen, cases, settings: CompareSettings) -> dict:
    from composer_app.generation.engine import suggest
    from composer_app.mood.mood import Mood

    out = {}
    for slider, attribute in (("arousal", "note_density"), ("valence", "major_strength")):
        per_prompt, levels, values, means = [], [], [], {level: [] for level in LEVELS}
        for k, case in enumerate(cases[: settings.control_prompts]):
            clip = _clip(case.context.prompt, case.numerator, case.denominator)
            level_means = []
            for level in LEVELS:
                mood = Mood(level, 0.0) if slider == "valence" else Mood(0.0, level)
                candidates = suggest(clip, mood, settings.bars, settings.control_candidates, 1.0, settings.seed + 1000 + k, model=gen)
                measured = [c.attributes.as_dict()[attribute] for c in candidates]
                levels += [level] * len(measured)
                values += measured
                level_means.append(float(np.mean(measured)))
                means[level].append(float(np.mean(measured)))
            per_prompt.append(spearman(LEVELS, level_means))
        out[slider] = {
            "attribute": attribute,
            "spearman_per_prompt": per_prompt,
            "spearman_median": _median(per_prompt),
            "spearman_min": float(np.nanmin(per_prompt)) if per_prompt else None,
            "r2_pooled": r_squared(levels, values),
            "spearman_pooled": spearman(levels, values),
            "mean_by_level": {str(level): float(np.mean(v)) for level, v in means.items()},
            "std_by_level": {str(level): float(np.std(v)) for level, v in means.items()},
        }
    return out


def _latency(gen, settings: CompareSettings) -> dict:
    from composer_app.core.midifile import load_midi
    from composer_app.generation.engine import suggest
    from composer_app.paths import resources_dir

    prompt = load_midi(resources_dir() / "examples" / "c_major_melody.mid")
    out = {}
    for bars in (4, 16):
        times = []
        for run in range(settings.latency_runs):
            started = time.perf_counter()
            suggest(prompt, None, bars, 4, 1.0, 100 + run, model=gen)
            times.append(time.perf_counter() - started)
        out[f"4x{bars}_seconds"] = float(np.median(times))
    return out


def _load_seconds(path: Path, runs: int = 3) -> float:
    from composer_app.generation.registry import load_weights

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        load_weights(path)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def _realism_at(curve: list[dict], realism: float) -> float | None:
    """Diversity interpolated along a generator's (realism, diversity) curve at ``realism`` (None outside it)."""
    points = sorted((p["realism"], p["diversity"]) for p in curve if p["realism"] is not None and p["diversity"] is not None)
    for (r0, d0), (r1, d1) in zip(points, points[1:]):
        if r0 <= realism <= r1:
            return d0 if r1 == r0 else d0 + (d1 - d0) * (realism - r0) / (r1 - r0)
    if points and abs(points[0][0] - realism) < 1e-9:
        return points[0][1]
    return None


def compare_generators(
    names: Sequence[str], train_items, heldout_items, settings: CompareSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Every figure for every named generator (shipped weights), as one JSON-able dict."""
    import torch

    from composer_app.generation import realism, registry
    from composer_app.generation.evaluation import model_nll  # noqa: F401 - token models score through Generator.nll
    from composer_app.generation.evaluation import ngram_nll
    from composer_app.generation.ngram import NGramModel

    torch.set_num_threads(1)
    settings = settings or CompareSettings()
    say = progress or (lambda message: None)
    started = time.perf_counter()
    rng = np.random.default_rng(settings.seed)
    cases = realism.cases_from_tokens(heldout_items, bars=settings.bars)
    if len(cases) < 2:
        raise ValueError("not enough held-out prompts to compare generators")
    order = rng.permutation(len(cases))[: settings.prompts]
    cases = [cases[i] for i in sorted(order)]
    nll_items = [heldout_items[i] for i in sorted(rng.choice(len(heldout_items), min(settings.nll_pieces, len(heldout_items)), replace=False))]
    say(f"n-gram baseline (order {settings.ngram_order})")
    n_total, n_tokens, n_notes = ngram_nll(NGramModel(settings.ngram_order).fit([t.tokens for t in train_items]), nll_items)
    result: dict = {
        "settings": asdict(settings),
        "prompts": len(cases),
        "prompt_sources": [c.source_id for c in cases],
        "ngram": {"order": settings.ngram_order, "nll_per_note": n_total / max(n_notes, 1), "pieces": len(nll_items)},
        "generators": {},
        "targets": TARGETS,
    }
    continuations: dict[str, list] = {}
    for name in names:
        say(f"{name}: load")
        path = registry.weights_path(name)
        gen = registry.load_weights(path)
        gen.name = name
        entry: dict = {
            "description": registry.describe(name),
            "weights": path.name,
            "weights_bytes": path.stat().st_size,
            "parameters": gen.parameter_count(),
            "load_seconds": _load_seconds(path),
        }
        say(f"{name}: likelihood")
        scored = gen.nll(nll_items)
        entry["nll_per_note"] = None if scored is None else scored[0] / max(scored[2], 1)
        curve = []
        for temperature in settings.temperatures:
            say(f"{name}: continuations at temperature {temperature}")
            grids = _continuations(gen, cases, settings, temperature, settings.seed)
            continuations[f"{name}@{temperature:g}"] = grids
            curve.append({"temperature": temperature, "diversity": _diversity(grids)})
            if temperature == 1.0:
                entry["style"] = _style(grids, cases, settings)
                entry["diversity"] = curve[-1]["diversity"]
        entry["curve"] = curve
        say(f"{name}: distinct bars, control, latency")
        entry["distinct_bars"] = _distinct_bars(gen, cases, settings)
        if name == "gan":
            entry["mode_collapse_check"] = _gan_collapse_check(gen, cases[0])
        entry["control"] = _control(gen, cases, settings)
        entry.update(_latency(gen, settings))
        result["generators"][name] = entry
    say("realism classifiers")
    report = realism.realism_report(
        [c.context for c in cases], [c.real for c in cases], continuations, [c.source_id.split("#")[0] for c in cases],
        bars=settings.bars, seed=settings.seed, baselines=True,
    )
    result["realism"] = report
    rows = {row["name"]: row for row in report["rows"]}
    for name, entry in result["generators"].items():
        for point in entry["curve"]:
            row = rows.get(f"{name}@{point['temperature']:g}")
            point["realism"] = row["boosting"] if row else None
            point["realism_logistic"] = row["logistic"] if row else None
        default = rows.get(f"{name}@1")
        entry["realism_boosting"] = default["boosting"] if default else None
        entry["realism_logistic"] = default["logistic"] if default else None
    result["equal_realism"] = _equal_realism(result["generators"])
    result["best_at"] = _best_at(result["generators"])
    result["seconds"] = time.perf_counter() - started
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]  # the machine is shared: latencies depend on it
    return result


def _gan_collapse_check(gen, case, samples: int = 64) -> dict:
    """Distinct bars among ``samples`` noise draws after one prompt's last bar (the GAN's own check)."""
    from composer_app.generation import gan

    prompt = case.context.prompt
    key = tk.estimate_key_index(prompt)
    shift = gan.key_shift(key // 2)
    line = gan.melody_line(prompt)
    last = (int(prompt[:, 0].max()) // case.context.bar_ticks) * case.context.bar_ticks
    previous = gan.bar_symbols(line, last, gan.STEPS_PER_BAR, shift)
    mean_pitch = float(line[:, 2].mean()) - shift
    attributes = gan.attribute_vector(float(key % 2), len(line) / max(1, (last + case.context.bar_ticks) // gan.GRID_PER_STEP), mean_pitch, gan.STEPS_PER_BAR)
    bars = gen.sample_bars(previous, attributes, list(range(samples)))
    return {"samples": samples, "distinct_share": gan.distinct_bar_share(bars), "source": case.source_id}


def _equal_realism(generators: dict) -> dict:
    """The design's claim: is the GAN more diverse than the others at the GAN's realism?"""
    if "gan" not in generators or generators["gan"].get("realism_boosting") is None:
        return {"answered": False, "reason": "no GAN among the compared generators"}
    level = generators["gan"]["realism_boosting"]
    out = {"answered": True, "gan_realism": level, "gan_diversity": generators["gan"]["diversity"], "others": {}}
    for name, entry in generators.items():
        if name == "gan":
            continue
        at = _realism_at(entry["curve"], level)
        out["others"][name] = {
            "diversity_at_gan_realism": at,
            "realism_range": [min(p["realism"] for p in entry["curve"]), max(p["realism"] for p in entry["curve"])],
            "diversity_default": entry["diversity"],
            "realism_default": entry["realism_boosting"],
        }
    return out


def _best_at(generators: dict) -> dict:
    def pick(key, lower=False):
        scored = [(v, n) for n, e in generators.items() if (v := key(e)) is not None and not math.isnan(v)]
        if not scored:
            return None
        return (min if lower else max)(scored)[1]

    return {
        "most_realistic": pick(lambda e: e.get("realism_boosting"), lower=True),
        "most_diverse": pick(lambda e: e.get("diversity")),
        "most_controllable": pick(lambda e: np.mean([e["control"]["arousal"]["spearman_median"] or 0, e["control"]["valence"]["spearman_median"] or 0])),
        "fastest": pick(lambda e: e.get("4x4_seconds"), lower=True),
        "best_likelihood": pick(lambda e: e.get("nll_per_note"), lower=True),
    }


# ----------------------------------------------------------------------------------------------
# Reports


def _f(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def summary_table(result: dict) -> list[str]:
    """The comparison table (Markdown lines): one row per generator."""
    lines = [
        "| generator | NLL/note (nats) | realism: classifier accuracy (LR / GB; 50 % = real) | diversity (1 − Jaccard) | distinct bars | "
        "arousal ρ median (min) | arousal R² | valence ρ median (min) | valence R² | style overlap | 4×4 bars | 4×16 bars | load | size |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, e in result["generators"].items():
        a, v = e["control"]["arousal"], e["control"]["valence"]
        lines.append(
            f"| {name} | {_f(e['nll_per_note'])} | {_pct(e['realism_logistic'])} / {_pct(e['realism_boosting'])} | {_f(e['diversity'])} | "
            f"{_pct(e['distinct_bars']['share'])} | {_f(a['spearman_median'])} ({_f(a['spearman_min'])}) | {_f(a['r2_pooled'])} | "
            f"{_f(v['spearman_median'])} ({_f(v['spearman_min'])}) | {_f(v['r2_pooled'])} | {_f(e['style']['overlapping_area_mean'])} | "
            f"{_f(e['4x4_seconds'])} s | {_f(e['4x16_seconds'])} s | {_f(e['load_seconds'], 3)} s | {e['weights_bytes'] / 1e6:.1f} MB |"
        )
    return lines


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.0f} %"


def best_at_sentences(result: dict) -> dict[str, str]:
    """One plain sentence per generator on what it is best at (from the measured figures)."""
    best = result["best_at"]
    titles = {
        "most_realistic": "the most realistic continuations (the classifier tells them from the real ones least often)",
        "most_diverse": "the most diverse candidates for one request",
        "most_controllable": "the closest control by the mood sliders",
        "fastest": "the fastest answers",
        "best_likelihood": "the best held-out likelihood",
    }
    out = {}
    for name in result["generators"]:
        wins = [titles[k] for k, v in best.items() if v == name]
        out[name] = (f"best at {'; '.join(wins)}." if wins else "leads on none of these measures; see the table for where it stands.")
    return out


def to_markdown(result: dict, plots: dict[str, str] | None = None) -> str:
    from composer_app.generation import realism

    lines = [
        "# Generators compared on the same held-out prompts",
        "",
        f"{result['prompts']} held-out folk-tune prompts (4 bars each, never trained on), {result['settings']['candidates']} candidates "
        f"× {result['settings']['bars']} bars per request, the same seeds for every generator; neutral mood for realism, "
        f"style and diversity. NLL on {result['ngram']['pieces']} held-out pieces (the {result['ngram']['order']}-gram baseline: "
        f"{_f(result['ngram']['nll_per_note'])} nats per note). Control: {result['settings']['control_prompts']} prompts × 5 slider "
        "levels; ρ per prompt between the level and the mean attribute (note density for arousal, major strength for valence).",
        "",
        *summary_table(result),
        "",
        "## What each one is best at",
        "",
    ]
    for name, sentence in best_at_sentences(result).items():
        lines.append(f"- **{name}** ({result['generators'][name]['description']}): {sentence}")
    eq = result["equal_realism"]
    lines += ["", "## Is the GAN more diverse at equal realism?", ""]
    if eq.get("answered"):
        lines.append(
            f"The GAN's candidates are told from the real continuations {_pct(eq['gan_realism'])} of the time (gradient boosting) "
            f"with a diversity of {_f(eq['gan_diversity'])}. Each other generator was also run at temperatures "
            f"{', '.join(f'{t:g}' for t in result['settings']['temperatures'])} to trace realism against diversity:"
        )
        lines.append("")
        for name, o in eq["others"].items():
            at = o["diversity_at_gan_realism"]
            span = f"{_pct(o['realism_range'][0])}–{_pct(o['realism_range'][1])}"
            if at is None:
                lines.append(f"- {name}: its realism spans {span} over those temperatures, which does not reach the GAN's; at its default "
                             f"it is told apart {_pct(o['realism_default'])} of the time with diversity {_f(o['diversity_default'])}.")
            else:
                verdict = "more" if eq["gan_diversity"] > at else "less"
                lines.append(f"- {name}: at the GAN's realism its diversity is {_f(at)}; the GAN is **{verdict}** diverse.")
        others = ", ".join(f"{n} {_pct(e['realism_logistic'])}" for n, e in result["generators"].items() if n != "gan")
        lines.append("")
        lines.append(
            f"The claim is judged with gradient boosting, the stronger classifier on most rows. The logistic regression tells "
            f"the GAN apart {_pct(result['generators']['gan']['realism_logistic'])} of the time ({others}): by that measure "
            "the GAN is also the least realistic."
            if result["generators"]["gan"]["realism_logistic"] > max(e["realism_logistic"] for n, e in result["generators"].items() if n != "gan")
            else f"The logistic regression tells the GAN apart {_pct(result['generators']['gan']['realism_logistic'])} of the time ({others})."
        )
        lines.append("")
        lines.append("Curves (realism accuracy, diversity) per temperature:")
        lines.append("")
        for name, e in result["generators"].items():
            points = "; ".join(f"T={p['temperature']:g}: {_pct(p['realism'])}, {_f(p['diversity'])}" for p in e["curve"])
            lines.append(f"- {name}: {points}")
    else:
        lines.append(eq.get("reason", ""))
    lines += ["", "## Mode collapse", ""]
    for name, e in result["generators"].items():
        lines.append(f"- {name}: distinct first bars among {e['distinct_bars']['samples_per_prompt']} one-bar candidates of one prompt: "
                     f"{_pct(e['distinct_bars']['share'])} (worst prompt {_pct(e['distinct_bars']['min'])})")
        if "mode_collapse_check" in e:
            m = e["mode_collapse_check"]
            lines.append(f"  - raw generator, {m['samples']} noise draws after one prompt's last bar: {_pct(m['distinct_share'])} distinct bars (target ≥ 90 %)")
    lines += ["", "## Style (generated vs real continuations)", "", "| | pitch-class entropy | scale consistency | groove consistency | overlap (mean) |", "|---|---|---|---|---|"]
    first = next(iter(result["generators"].values()))
    r = first["style"]["real"]
    lines.append(f"| real | {_f(r['pc_entropy'])} | {_f(r['scale_consistency'])} | {_f(r['groove_consistency'])} | |")
    for name, e in result["generators"].items():
        g = e["style"]["generated"]
        lines.append(f"| {name} | {_f(g['pc_entropy'])} | {_f(g['scale_consistency'])} | {_f(g['groove_consistency'])} | {_f(e['style']['overlapping_area_mean'])} |")
    lines += ["", "## Realism classifiers", "", realism.to_markdown(result["realism"])]
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{title}]({path})" for title, path in plots.items()]
        lines.append("")
    load = result.get("load_average")
    lines.append(
        f"The comparison took {result['seconds'] / 60:.1f} minutes on this machine (one torch thread)"
        + (f"; load average at the end {load[0]:.1f} on 2 cores (shared with other work: latencies are inflated accordingly)." if load else ".")
    )
    return "\n".join(lines) + "\n"


def write_plots(result: dict, out_stem: Path) -> dict[str, str]:
    """Control lines, metric bars and the realism/diversity curves as PNG files beside the report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from composer_app.mood.mood import Mood
    from composer_app.mood.targets import targets_for

    out_stem = Path(out_stem)
    names = list(result["generators"])
    paths = {}

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (slider, attribute) in zip(axes, (("arousal", "note_density"), ("valence", "major_strength"))):
        for name in names:
            c = result["generators"][name]["control"][slider]
            means = [c["mean_by_level"][str(level)] for level in LEVELS]
            stds = [c["std_by_level"][str(level)] for level in LEVELS]
            ax.errorbar(LEVELS, means, yerr=stds, marker="o", capsize=3, label=f"{name} (ρ {_f(c['spearman_median'])})")
        target = [getattr(targets_for(Mood(0, level) if slider == "arousal" else Mood(level, 0)), attribute) for level in LEVELS]
        ax.plot(LEVELS, target, "k--", alpha=0.5, label="mood table target (one line)")
        ax.set_xlabel(f"{slider} slider")
        ax.set_ylabel(attribute.replace("_", " "))
        ax.set_title(f"{slider} → {attribute.replace('_', ' ')}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    paths["attribute vs slider"] = _save(fig, out_stem, "control")

    metrics = [
        ("realism: classifier accuracy (GB)", lambda e: e["realism_boosting"], "lower is more realistic (0.5 = real)", 0.5),
        ("diversity (1 − Jaccard)", lambda e: e["diversity"], "higher = more different candidates", None),
        ("arousal ρ (median)", lambda e: e["control"]["arousal"]["spearman_median"], "target 0.9", 0.9),
        ("valence ρ (median)", lambda e: e["control"]["valence"]["spearman_median"], "target 0.8", 0.8),
        ("4×4 bars (s)", lambda e: e["4x4_seconds"], "target 1 s", 1.0),
        ("load (s)", lambda e: e["load_seconds"], "target 1 s", None),
    ]
    fig, axes = plt.subplots(1, len(metrics), figsize=(3 * len(metrics), 3.4))
    for ax, (title, get, note, line) in zip(axes, metrics):
        values = [get(result["generators"][n]) or 0.0 for n in names]
        ax.bar(names, values, color=[f"C{i}" for i in range(len(names))])
        if line is not None:
            ax.axhline(line, color="k", linestyle="--", alpha=0.5)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(note, fontsize=7)
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    paths["metrics"] = _save(fig, out_stem, "metrics")

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name in names:
        curve = [p for p in result["generators"][name]["curve"] if p["realism"] is not None]
        ax.plot([p["realism"] for p in curve], [p["diversity"] for p in curve], marker="o", label=name)
        for p in curve:
            ax.annotate(f"T={p['temperature']:g}", (p["realism"], p["diversity"]), fontsize=7)
    ax.set_xlabel("classifier accuracy, real vs generated (0.5 = indistinguishable)")
    ax.set_ylabel("diversity among one request's candidates")
    ax.set_title("diversity against realism")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths["diversity against realism"] = _save(fig, out_stem, "realism-diversity")
    return paths


def _save(fig, out_stem: Path, suffix: str) -> str:
    import matplotlib.pyplot as plt

    path = out_stem.with_name(f"{out_stem.name}-{suffix}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def write_report(result: dict, out_stem: Path) -> dict[str, Path]:
    """``OUT.json``, ``OUT.md`` and ``OUT-*.png``."""
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    plots = write_plots(result, out_stem)
    json_path, md_path = out_stem.with_suffix(".json"), out_stem.with_suffix(".md")
    json_path.write_text(json.dumps(result, indent=1, default=float) + "\n")
    md_path.write_text(to_markdown(result, plots))
    return {"json": json_path, "markdown": md_path, **{k: out_stem.parent / v for k, v in plots.items()}}


SHORT_WINS = {
    "most_realistic": "most realistic",
    "most_diverse": "most diverse",
    "most_controllable": "most controllable",
    "fastest": "fastest",
    "best_likelihood": "best likelihood",
}


def update_cards(result: dict, report_name: str = "docs/evaluation/generators.md", models_dir: Path | None = None) -> None:
    """Write the comparison table and each generator's sentence into its model card (.md + .json)."""
    from composer_app.generation import registry
    from composer_app.generation.model_card import write_comparison_section

    sentences = best_at_sentences(result)
    table = "\n".join(summary_table(result))
    for name, entry in result["generators"].items():
        wins = [SHORT_WINS[k] for k, v in result["best_at"].items() if v == name]
        summary = registry.info(name).description + (f" ({', '.join(wins)} of the shipped generators)" if wins else "")
        section = (
            "## Compared with the other generators\n\n"
            f"Same held-out prompts, requests and seeds for every generator (full report: `{report_name}`).\n\n"
            f"{table}\n\n{sentences[name]}\n"
        )
        figures = {k: entry.get(k) for k in ("nll_per_note", "realism_boosting", "realism_logistic", "diversity", "load_seconds", "4x4_seconds", "4x16_seconds")}
        figures["arousal_spearman_median"] = entry["control"]["arousal"]["spearman_median"]
        figures["valence_spearman_median"] = entry["control"]["valence"]["spearman_median"]
        figures["distinct_bars"] = entry["distinct_bars"]["share"]
        write_comparison_section(name, section, summary, {"report": report_name, "figures": figures, "best_at": sentences[name]}, models_dir)
