"""``composer-app evaluate``: likelihood, style fidelity, control fidelity and diversity on held-out music.

Every figure is computed on the held-out split (works whose source-id hash falls in the last
``data.HELDOUT_PERCENT``), never on training data, and written as JSON + Markdown.

* **Likelihood**: negative log-likelihood per note (nats; total over all tokens / number of notes)
  of the model and of an interpolated Witten-Bell n-gram baseline (``ngram``) trained on the same
  training tokens; the baseline's order is the best of ``NGRAM_ORDERS`` on the held-out pieces
  themselves (which flatters the baseline, not the model). The model reads each piece in windows of ``block_size`` with half-window stride.
* **Style fidelity**: the first ``PROMPT_BARS`` bars of held-out pieces are continued (neutral
  mood) and compared with the real next bars: pitch-class histogram entropy, scale consistency
  (best-fitting major/minor scale share, Dong et al. 2018), groove consistency (1 - mean Hamming
  distance of adjacent bars' onset grids, Wu & Yang 2020), and the overlapping areas of Yang &
  Lerch (2018): for each feature, the KDE of inter-set distances (generated vs real) overlapped with
  the KDE of intra-set distances of the real continuations (1 = indistinguishable).
* **Control fidelity**: arousal and valence are swept over 5 levels each (the other at 0), for
  several prompts and seeds. Reported: Spearman rho and R^2 between the slider and its attribute
  (note density for arousal, major strength for valence), per sweep (one prompt and seed through
  the 5 levels, then averaged: FaderNets' consistency) and pooled over all samples; and how much the
  other attributes move (mean |rho| with the slider). The mood sliders move several attributes on
  purpose (the mood table), so restrictiveness is also measured with one attribute target swept
  alone (advanced sliders), every other target held at the neutral mood's value.
* **Diversity**: mean pairwise distance among the candidates of one request (1 - Jaccard of their
  (onset, pitch) sets, and L1 distance of their pitch-class histograms).
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from composer_app.core.note import Note
from composer_app.core.timing import TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.generation import tokenizer as tk
from composer_app.generation.dataset import TokenizedPiece
from composer_app.generation.ngram import NGramModel

PROMPT_BARS = 4
NGRAM_ORDERS = (3, 4, 5, 6, 8)
LEVELS = (-1.0, -0.5, 0.0, 0.5, 1.0)
EVAL_TPQ = 480
# Advanced-slider sweeps: the target values of one attribute (others at the neutral mood's targets).
ATTRIBUTE_SWEEPS = {
    "note_density": (0.7, 1.0, 1.4, 2.0, 2.8),  # the mood table's arousal levels -1 .. 1
    "major_strength": (-0.3, -0.15, 0.0, 0.15, 0.3),  # the mood table's valence levels -1 .. 1
}
ATTRIBUTES_WATCHED = ("note_density", "rhythmic_activity", "pitch_mean", "velocity_mean", "articulation", "major_strength", "consonance")


@dataclass
class EvalSettings:
    quick: bool = False  # a small, fast run (tests)
    ngram_order: int | None = None  # None: the best of NGRAM_ORDERS on the held-out pieces (a strong baseline)
    nll_pieces: int | None = None  # held-out pieces for the likelihood (None = all)
    style_prompts: int = 24
    control_prompts: int = 6
    control_seeds: int = 4  # candidates per request = seeds per level
    bars: int = 4
    seed: int = 0
    realism_prompts: int | None = 300  # held-out folk prompts for the realism test (None = all)
    realism_candidates: int = 4  # candidates per prompt (default suggestion settings: 4 x 4 bars)
    realism_folds: int = 5  # cross-validation folds of the realism classifiers (grouped by piece)

    def __post_init__(self):
        if self.quick:
            self.ngram_order = self.ngram_order or 4
            self.nll_pieces = self.nll_pieces or 8
            self.style_prompts = min(self.style_prompts, 3)
            self.control_prompts = min(self.control_prompts, 2)
            self.control_seeds = min(self.control_seeds, 2)
            self.bars = min(self.bars, 2)
            self.realism_prompts = min(self.realism_prompts or 12, 12)
            self.realism_candidates = min(self.realism_candidates, 2)
            self.realism_folds = min(self.realism_folds, 3)


# ----------------------------------------------------------------------------------------------
# Statistics in numpy


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation (average ranks for ties); nan when either side is constant."""
    x, y = np.asarray(x, float), np.asarray(y, float)

    def ranks(v):
        order = np.argsort(v, kind="mergesort")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        for value in np.unique(v):
            same = v == value
            r[same] = r[same].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def r_squared(x: Sequence[float], y: Sequence[float]) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1] ** 2)


def _kde(samples: np.ndarray, grid: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, float)
    std = samples.std()
    bandwidth = 1.06 * (std if std > 0 else 1.0) * len(samples) ** (-1 / 5)
    z = (grid[:, None] - samples[None, :]) / bandwidth
    return np.exp(-0.5 * z**2).sum(axis=1) / (len(samples) * bandwidth * math.sqrt(2 * math.pi))


def overlapping_area(a: Sequence[float], b: Sequence[float]) -> float:
    """Overlap of the Gaussian KDEs of two samples (Yang & Lerch 2018): 0 disjoint .. 1 identical."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    span = hi - lo or 1.0
    grid = np.linspace(lo - 0.5 * span, hi + 0.5 * span, 512)
    return float(np.trapezoid(np.minimum(_kde(a, grid), _kde(b, grid)), grid))


# ----------------------------------------------------------------------------------------------
# Music features on grid notes (n, 3)


def pitch_class_entropy(notes: np.ndarray) -> float:
    if len(notes) == 0:
        return 0.0
    hist = np.bincount(notes[:, 2] % 12, minlength=12).astype(float)
    p = hist / hist.sum()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def scale_consistency(notes: np.ndarray) -> float:
    if len(notes) == 0:
        return 0.0
    pcs = notes[:, 2] % 12
    best = 0.0
    for tonic in range(12):
        for steps in ((0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)):
            scale = [(tonic + s) % 12 for s in steps]
            best = max(best, float(np.isin(pcs, scale).mean()))
    return best


def groove_consistency(notes: np.ndarray, bar_len: int, n_bars: int) -> float:
    if n_bars < 2:
        return 1.0
    grid = np.zeros((n_bars, bar_len), dtype=bool)
    for start in notes[:, 0]:
        b = int(start) // bar_len
        if 0 <= b < n_bars:
            grid[b, int(start) % bar_len] = True
    distances = [np.mean(grid[i] != grid[i + 1]) for i in range(n_bars - 1)]
    return float(1.0 - np.mean(distances))


def yang_lerch_features(notes: np.ndarray) -> dict[str, float]:
    """Per-sample features used for the overlapping areas."""
    if len(notes) == 0:
        return {"pitch_count": 0, "pitch_range": 0, "avg_pitch_interval": 0, "avg_ioi": 0, "note_count": 0}
    onsets = np.unique(notes[:, 0])
    order = np.lexsort((notes[:, 2], notes[:, 0]))
    pitches = notes[order, 2]
    return {
        "pitch_count": float(len(np.unique(notes[:, 2]))),
        "pitch_range": float(notes[:, 2].max() - notes[:, 2].min()),
        "avg_pitch_interval": float(np.abs(np.diff(pitches)).mean()) if len(pitches) > 1 else 0.0,
        "avg_ioi": float(np.diff(onsets).mean() / tk.GRID_TICKS_PER_QUARTER) if len(onsets) > 1 else 0.0,
        "note_count": float(len(notes)),
    }


# ----------------------------------------------------------------------------------------------


@torch.no_grad()
def model_nll(model, items: Sequence[TokenizedPiece]) -> tuple[float, int, int]:
    """(total NLL in nats, scored tokens, notes) of the model over whole pieces."""
    block = model.config.block_size
    stride = block // 2
    total, tokens, notes = 0.0, 0, 0
    for item in items:
        seq = torch.from_numpy(item.tokens.astype(np.int64))
        n = len(seq)
        notes += int(((item.tokens >= tk.PITCH_BASE) & (item.tokens < tk.PITCH_BASE + tk.N_PITCH)).sum())
        scored_until = 1  # token 0 (BOS) is given, never predicted
        start = 0
        while scored_until < n:
            end = min(n, start + block)
            window = seq[start:end].view(1, -1)
            logits = model(window)[0].float()
            logp = torch.log_softmax(logits[:-1], dim=-1)
            targets = window[0, 1:]
            picked = logp.gather(1, targets.view(-1, 1)).view(-1)
            first = scored_until - start - 1  # index into picked of the first unscored target
            total -= float(picked[first:].sum())
            tokens += len(picked) - first
            scored_until = end
            start = max(start + stride, end - block + stride) if end < n else end
        # (windows overlap by half: every token is scored once, with at least half a window of context)
    return total, tokens, notes


def ngram_nll(ngram: NGramModel, items: Sequence[TokenizedPiece]) -> tuple[float, int, int]:
    total, tokens, notes = 0.0, 0, 0
    for item in items:
        logp = ngram.token_log_probs(item.tokens.astype(np.int64))
        total -= float(logp.sum())
        tokens += len(logp)
        notes += int(((item.tokens >= tk.PITCH_BASE) & (item.tokens < tk.PITCH_BASE + tk.N_PITCH)).sum())
    return total, tokens, notes


def _prompt_and_truth(item: TokenizedPiece, bars: int):
    """Held-out piece -> (prompt Notes at EVAL_TPQ, TimeSignatureMap, truth grid notes, bar length) or None."""
    if len(item.bar_index) < PROMPT_BARS + bars:
        return None
    decoded = tk.tokens_to_notes(item.tokens)
    if len(decoded.time_signatures) != 1:
        return None  # keep to one meter: bar arithmetic stays simple
    _, num, den = decoded.time_signatures[0]
    bar_len = tk.bar_grid_length(num, den)
    notes = decoded.notes
    cut = PROMPT_BARS * bar_len
    prompt = notes[notes[:, 0] < cut]
    truth = notes[(notes[:, 0] >= cut) & (notes[:, 0] < cut + bars * bar_len)].copy()
    if len(prompt) < 4 or len(truth) < 2:
        return None
    truth[:, 0] -= cut
    scale = EVAL_TPQ // tk.GRID_TICKS_PER_QUARTER
    prompt_notes = [Note(int(s) * scale, int(p), max(1, int(d) * scale), 90) for s, d, p in prompt]
    ts_map = TimeSignatureMap([TimeSignatureChange(0, num, den)], EVAL_TPQ)
    return prompt_notes, ts_map, truth, bar_len


def _candidate_grid(candidate) -> np.ndarray:
    scale = candidate.ticks_per_quarter / tk.GRID_TICKS_PER_QUARTER
    return np.array(
        [(round(n.start_tick / scale), max(1, round(n.duration_ticks / scale)), n.pitch) for n in candidate.notes], dtype=np.int64
    ).reshape(-1, 3)


def _prompt(prompt_notes, ts_map):
    from composer_app.generation.engine import Prompt

    return Prompt(tuple(prompt_notes), EVAL_TPQ, TempoMap(ticks_per_quarter=EVAL_TPQ), ts_map)


def evaluate(model, train_items, heldout_items, settings: EvalSettings | None = None, progress=None) -> dict:
    """All figures as one JSON-able dict."""
    from composer_app.generation.engine import as_generator, suggest
    from composer_app.mood.mood import Mood

    model = as_generator(model)  # a Generator (or a bare token model, wrapped)
    settings = settings or EvalSettings()
    say = progress or (lambda message: None)
    started = time.perf_counter()
    rng = np.random.default_rng(settings.seed)
    result: dict = {"settings": {k: getattr(settings, k) for k in settings.__dataclass_fields__}}

    # 1. likelihood (where the generator defines one)
    say("likelihood: n-gram baseline")
    result["likelihood"] = _likelihood(model, train_items, heldout_items, settings, rng, say)
    _style_and_rest(model, heldout_items, settings, rng, say, result)
    result["seconds"] = time.perf_counter() - started
    return result


def _likelihood(model, train_items, heldout_items, settings, rng, say) -> dict:
    nll_items = list(heldout_items)
    if settings.nll_pieces is not None:
        nll_items = [nll_items[i] for i in sorted(rng.choice(len(nll_items), min(settings.nll_pieces, len(nll_items)), replace=False))]
    orders = (settings.ngram_order,) if settings.ngram_order else NGRAM_ORDERS
    by_order = {}
    for order in orders:
        by_order[order] = ngram_nll(NGramModel(order).fit([t.tokens for t in train_items]), nll_items)
    best_order = min(by_order, key=lambda o: by_order[o][0])
    n_total, n_tokens, n_notes = by_order[best_order]
    say("likelihood: model")
    scored = model.nll(nll_items)
    if scored is None:
        return {"defined": False, "heldout_pieces": len(nll_items), "ngram_order": best_order,
                "ngram_nll_per_token": n_total / max(n_tokens, 1), "ngram_nll_per_note": n_total / max(n_notes, 1)}
    m_total, m_tokens, m_notes = scored
    return {
        "defined": True,
        "heldout_pieces": len(nll_items),
        "tokens": m_tokens,
        "notes": m_notes,
        "model_nll_per_token": m_total / max(m_tokens, 1),
        "model_nll_per_note": m_total / max(m_notes, 1),
        "ngram_order": best_order,
        "ngram_nll_per_token_by_order": {str(o): v[0] / max(v[1], 1) for o, v in by_order.items()},
        "ngram_nll_per_token": n_total / max(n_tokens, 1),
        "ngram_nll_per_note": n_total / max(n_notes, 1),
        "improvement_over_ngram": 1.0 - m_total / max(n_total, 1e-9),
    }


def _style_and_rest(model, heldout_items, settings, rng, say, result) -> None:
    from composer_app.generation.engine import suggest
    from composer_app.mood.mood import Mood

    # 2. style fidelity
    say("style fidelity")
    cases = [c for c in (_prompt_and_truth(item, settings.bars) for item in heldout_items) if c is not None]
    order = rng.permutation(len(cases))
    cases = [cases[i] for i in order[: settings.style_prompts]]
    gen_feats, real_feats = [], []
    stats = {"generated": {"pc_entropy": [], "scale_consistency": [], "groove_consistency": []},
             "real": {"pc_entropy": [], "scale_consistency": [], "groove_consistency": []}}
    diversity_jaccard, diversity_pc = [], []
    for k, (prompt_notes, ts_map, truth, bar_len) in enumerate(cases):
        candidates = suggest(_prompt(prompt_notes, ts_map), None, bars=settings.bars, candidates=2, seed=settings.seed + 100 * k, model=model)
        for which, grids in (("real", [truth]), ("generated", [_candidate_grid(c) for c in candidates])):
            for g in grids:
                stats[which]["pc_entropy"].append(pitch_class_entropy(g))
                stats[which]["scale_consistency"].append(scale_consistency(g))
                stats[which]["groove_consistency"].append(groove_consistency(g, bar_len, settings.bars))
                (real_feats if which == "real" else gen_feats).append(yang_lerch_features(g))
        grids = [_candidate_grid(c) for c in candidates]
        for a, b in itertools.combinations(grids, 2):
            sa, sb = {(int(s), int(p)) for s, _, p in a}, {(int(s), int(p)) for s, _, p in b}
            diversity_jaccard.append(1.0 - len(sa & sb) / max(1, len(sa | sb)))
            ha = np.bincount(a[:, 2] % 12, minlength=12) / max(1, len(a))
            hb = np.bincount(b[:, 2] % 12, minlength=12) / max(1, len(b))
            diversity_pc.append(float(np.abs(ha - hb).sum()))
    overlap = {}
    if real_feats and gen_feats:
        for name in real_feats[0]:
            real = np.array([f[name] for f in real_feats])
            gen = np.array([f[name] for f in gen_feats])
            intra = np.abs(real[:, None] - real[None, :])[np.triu_indices(len(real), 1)]
            inter = np.abs(gen[:, None] - real[None, :]).ravel()
            overlap[name] = overlapping_area(intra, inter)
    result["style"] = {
        "prompts": len(cases),
        "generated": {k: float(np.mean(v)) if v else None for k, v in stats["generated"].items()},
        "real": {k: float(np.mean(v)) if v else None for k, v in stats["real"].items()},
        "overlapping_area": overlap,
        "overlapping_area_mean": float(np.nanmean(finite)) if (finite := [v for v in overlap.values() if not math.isnan(v)]) else None,
    }
    result["diversity"] = {
        "pairs": len(diversity_jaccard),
        "onset_pitch_jaccard_distance": float(np.mean(diversity_jaccard)) if diversity_jaccard else None,
        "pitch_class_l1": float(np.mean(diversity_pc)) if diversity_pc else None,
    }

    # 3. control fidelity
    say("control fidelity")
    control_cases = cases[: settings.control_prompts] if cases else []
    control = {}
    for slider, attribute in (("arousal", "note_density"), ("valence", "major_strength")):
        levels, values, others = [], [], {name: [] for name in ATTRIBUTES_WATCHED if name != attribute}
        sweeps: dict[tuple[int, int], list[tuple[float, float]]] = {}
        for k, (prompt_notes, ts_map, _, _) in enumerate(control_cases):
            for level in LEVELS:
                mood = Mood(level, 0.0) if slider == "valence" else Mood(0.0, level)
                candidates = suggest(
                    _prompt(prompt_notes, ts_map), mood, bars=settings.bars, candidates=settings.control_seeds,
                    seed=settings.seed + 1000 * k, model=model,
                )
                for j, c in enumerate(candidates):
                    attrs = c.attributes.as_dict()
                    levels.append(level)
                    values.append(attrs[attribute])
                    for name in others:
                        others[name].append(attrs[name])
                    sweeps.setdefault((k, j), []).append((level, attrs[attribute]))
        per_sweep = [spearman([a for a, _ in s], [b for _, b in s]) for s in sweeps.values()]
        per_level_mean = [float(np.mean([v for l, v in zip(levels, values) if l == level])) for level in LEVELS] if values else []
        control[slider] = {
            "attribute": attribute,
            "samples": len(values),
            "spearman_per_sweep_mean": float(np.nanmean(per_sweep)) if per_sweep else None,
            "spearman_pooled": spearman(levels, values) if values else None,
            "spearman_level_means": spearman(LEVELS, per_level_mean) if per_level_mean else None,
            "r2_pooled": r_squared(levels, values) if values else None,
            "mean_by_level": dict(zip([str(l) for l in LEVELS], per_level_mean)),
            "other_attributes_abs_spearman": {
                name: (abs(spearman(levels, v)) if np.std(v) > 0 else 0.0) for name, v in others.items()
            } if values else {},
        }
        moved = [x for x in control[slider]["other_attributes_abs_spearman"].values() if not math.isnan(x)]
        control[slider]["restrictiveness"] = 1.0 - float(np.mean(moved)) if moved else None
    result["control"] = control

    # 4. attribute sweeps (FaderNets-style restrictiveness): one attribute target moves over 5 levels
    # (an advanced slider), every other target stays at the neutral mood's value.
    say("attribute sweeps")
    from composer_app.mood.targets import targets_for

    neutral = targets_for(Mood(0.0, 0.0))
    sweeps_out = {}
    for attribute, values_for_levels in ATTRIBUTE_SWEEPS.items():
        levels, measured = [], {name: [] for name in ATTRIBUTES_WATCHED}
        per_sweep: dict[tuple[int, int], list[tuple[float, float]]] = {}
        for k, (prompt_notes, ts_map, _, _) in enumerate(control_cases):
            for level in values_for_levels:
                targets = neutral.with_overrides({attribute: level})
                candidates = suggest(
                    _prompt(prompt_notes, ts_map), None, bars=settings.bars, candidates=settings.control_seeds,
                    seed=settings.seed + 1000 * k, model=model, targets=targets,
                )
                for j, c in enumerate(candidates):
                    attrs = c.attributes.as_dict()
                    levels.append(level)
                    for name in ATTRIBUTES_WATCHED:
                        measured[name].append(attrs[name])
                    per_sweep.setdefault((k, j), []).append((level, attrs[attribute]))
        if not levels:
            continue
        others = {
            name: (abs(spearman(levels, v)) if np.std(v) > 0 else 0.0)
            for name, v in measured.items() if name != attribute
        }
        finite = [x for x in others.values() if not math.isnan(x)]
        sweeps_out[attribute] = {
            "levels": list(values_for_levels),
            "spearman_per_sweep_mean": float(np.nanmean([spearman(*zip(*sw)) for sw in per_sweep.values()])),
            "spearman_pooled": spearman(levels, measured[attribute]),
            "r2_pooled": r_squared(levels, measured[attribute]),
            "mean_by_level": {str(l): float(np.mean([v for x, v in zip(levels, measured[attribute]) if x == l])) for l in values_for_levels},
            "other_attributes_abs_spearman": others,
            "restrictiveness": 1.0 - float(np.mean(finite)) if finite else None,
        }
    result["attribute_sweeps"] = sweeps_out

    # 5. realism: can a classifier tell the continuations from the real next bars?
    result["realism"] = evaluate_realism(model, heldout_items, settings, progress=say)


def realism_cases(heldout_items, settings: EvalSettings):
    """The realism test's held-out folk prompts (a fixed random subset of ``settings.realism_prompts``)."""
    from composer_app.generation import realism

    cases = realism.cases_from_tokens(heldout_items, realism.PROMPT_BARS, realism.CONTINUATION_BARS)
    if not cases:  # not the corpus (a folder of .mid files): any held-out piece with a melody
        cases = realism.cases_from_tokens(heldout_items, realism.PROMPT_BARS, realism.CONTINUATION_BARS, collections=None)
    if settings.realism_prompts is not None and len(cases) > settings.realism_prompts:
        rng = np.random.default_rng(settings.seed + 7)
        keep = sorted(rng.choice(len(cases), settings.realism_prompts, replace=False))
        cases = [cases[i] for i in keep]
    return cases


def continue_cases(
    model, cases, candidates: int, seed: int = 0, progress=None, mood=None, key_signatures: bool = False, **suggest_options
) -> list[list[np.ndarray]]:
    """Each case's prompt continued by ``model`` through the engine (default suggestion settings,
    no mood, unless ``mood``/``suggest_options`` say otherwise): candidate note arrays on the case's grid.
    ``key_signatures``: give the engine the file's key signature, as the app does for a file that has one."""
    from composer_app.generation import realism
    from composer_app.generation.engine import suggest

    scale = EVAL_TPQ // tk.GRID_TICKS_PER_QUARTER
    out = []
    for k, case in enumerate(cases):
        prompt_notes = [Note(int(s) * scale, int(p), max(1, int(d) * scale), 90) for s, d, p in case.context.prompt]
        ts_map = TimeSignatureMap([TimeSignatureChange(0, case.numerator, case.denominator)], EVAL_TPQ)
        found = suggest(
            _prompt(prompt_notes, ts_map), mood, bars=realism.CONTINUATION_BARS, candidates=candidates,
            seed=seed + 100 * k, model=model,
            key_signature=case.context.key_signature if key_signatures else None, **suggest_options,
        )
        out.append([_candidate_grid(c) for c in found])
        if progress and (k + 1) % 50 == 0:
            progress(f"realism: {k + 1}/{len(cases)} prompts continued")
    return out


def evaluate_realism(model, heldout_items, settings: EvalSettings, progress=None, extra: dict | None = None) -> dict:
    """The realism test (``generation.realism``) of ``model`` on held-out folk prompts.

    ``extra``: more generators' continuations of the same cases (name -> candidate lists), e.g.
    ablations of the sampling heuristics.
    """
    from composer_app.generation import realism

    say = progress or (lambda message: None)
    cases = realism_cases(heldout_items, settings)
    if len(cases) < 4:
        return {"skipped": f"only {len(cases)} held-out folk prompts"}
    say(f"realism: continuing {len(cases)} held-out prompts")
    generated = {"model": continue_cases(model, cases, settings.realism_candidates, settings.seed, say)}
    generated.update(extra or {})
    say("realism: classifiers")
    report = realism.realism_report(
        [c.context for c in cases], [c.real for c in cases], generated, [c.source_id for c in cases],
        seed=settings.seed, folds=settings.realism_folds,
    )
    report["candidates_per_prompt"] = settings.realism_candidates
    return report


def realism_markdown(result: dict) -> list[str]:
    """The realism section's lines (empty when the result has none)."""
    from composer_app.generation import realism

    report = result.get("realism")
    if not report:
        return []
    lines = ["## Realism (a classifier tells continuations from the real next bars)", ""]
    if "skipped" in report:
        return lines + [f"Skipped: {report['skipped']}.", ""]
    return lines + [realism.to_markdown(report)]


def to_markdown(result: dict, title: str = "Evaluation") -> str:
    if "likelihood" not in result:  # a realism-only run
        return "\n".join([f"# {title}", ""] + realism_markdown(result)).rstrip() + "\n"
    lk, st, ct, dv = result["likelihood"], result["style"], result["control"], result["diversity"]
    f = lambda v, d=3: "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"  # noqa: E731
    lines = [
        f"# {title}",
        "",
        "## Held-out likelihood",
        "",
        *_likelihood_lines(lk, f),
        "",
        "## Style fidelity (continuations of held-out prompts vs the real continuations)",
        "",
        f"{st['prompts']} prompts, 2 candidates each.",
        "",
        "| | pitch-class entropy (bits) | scale consistency | groove consistency |",
        "|---|---|---|---|",
    ]
    for which in ("real", "generated"):
        s = st[which]
        lines.append(f"| {which} | {f(s['pc_entropy'])} | {f(s['scale_consistency'])} | {f(s['groove_consistency'])} |")
    lines += ["", "Overlapping areas (Yang & Lerch 2018; 1 = generated as close to the real ones as they are to each other):", ""]
    lines += [f"- {name}: {f(v)}" for name, v in st["overlapping_area"].items()]
    lines += [f"- mean: {f(st['overlapping_area_mean'])}", "", "## Control fidelity", ""]
    lines += ["| slider | attribute | Spearman per sweep | Spearman of level means | Spearman pooled | R² pooled | restrictiveness |", "|---|---|---|---|---|---|---|"]
    for slider, c in ct.items():
        lines.append(
            f"| {slider} | {c['attribute']} | {f(c['spearman_per_sweep_mean'])} | {f(c['spearman_level_means'])} | "
            f"{f(c['spearman_pooled'])} | {f(c['r2_pooled'])} | {f(c['restrictiveness'])} |"
        )
    lines.append("")
    for slider, c in ct.items():
        means = ", ".join(f"{k}: {f(v)}" for k, v in c["mean_by_level"].items())
        lines.append(f"- {slider} → {c['attribute']} by level: {means}")
        others = ", ".join(f"{k} {f(v, 2)}" for k, v in c["other_attributes_abs_spearman"].items())
        lines.append(f"  - |Spearman| of the other attributes with the slider: {others}")
    sweeps = result.get("attribute_sweeps") or {}
    if sweeps:
        lines += [
            "",
            "### Attribute sliders alone (FaderNets-style restrictiveness)",
            "",
            "One attribute target swept over 5 levels, all other targets held at the neutral mood's values. "
            "Restrictiveness = 1 - mean |Spearman| of the other attributes with the slider (1 = nothing else moves).",
            "",
            "| attribute target | Spearman per sweep | Spearman pooled | R² pooled | restrictiveness |",
            "|---|---|---|---|---|",
        ]
        for attribute, c in sweeps.items():
            lines.append(
                f"| {attribute} | {f(c['spearman_per_sweep_mean'])} | {f(c['spearman_pooled'])} | {f(c['r2_pooled'])} | {f(c['restrictiveness'])} |"
            )
        lines.append("")
        for attribute, c in sweeps.items():
            others = ", ".join(f"{k} {f(v, 2)}" for k, v in c["other_attributes_abs_spearman"].items())
            lines.append(f"- {attribute}: |Spearman| of the others: {others}")
    lines += [
        "",
        "## Diversity among the candidates of one request",
        "",
        f"- 1 - Jaccard of (onset, pitch) sets: {f(dv['onset_pitch_jaccard_distance'])}",
        f"- L1 distance of pitch-class histograms: {f(dv['pitch_class_l1'])}",
        "",
        *realism_markdown(result),
        f"Evaluation took {result['seconds']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


def _likelihood_lines(lk: dict, f) -> list[str]:
    if not lk.get("defined", True):
        return [f"Not defined for this generator (it gives no probability of a sequence); the {lk['ngram_order']}-gram "
                f"baseline scores {f(lk['ngram_nll_per_note'])} nats per note on {lk['heldout_pieces']} held-out pieces."]
    return [
        f"{lk['heldout_pieces']} held-out pieces, {lk['tokens']} tokens, {lk['notes']} notes.",
        "",
        "| model | NLL per token (nats) | NLL per note (nats) |",
        "|---|---|---|",
        f"| this model | {f(lk['model_nll_per_token'])} | {f(lk['model_nll_per_note'])} |",
        f"| {lk['ngram_order']}-gram (Witten-Bell) | {f(lk['ngram_nll_per_token'])} | {f(lk['ngram_nll_per_note'])} |",
        "",
        f"Improvement over the n-gram baseline: **{100 * lk['improvement_over_ngram']:.1f} %** (target >= 15 %).",
    ]


def write_reports(result: dict, json_path: Path, md_path: Path, title: str) -> None:
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2, default=float) + "\n")
    Path(md_path).write_text(to_markdown(result, title))
