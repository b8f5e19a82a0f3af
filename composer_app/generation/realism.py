"""The realism test: can a classifier tell generated continuations from the real ones?

A tune's first bars are the prompt; its real next bars are the reference. Every continuation
(real, generated, or from a baseline) becomes one row of documented per-clip features
(:data:`FEATURES`), measured relative to its prompt (its key, register, bars and rhythm). A
logistic regression and gradient boosting (scikit-learn) are trained to tell real rows from
generated ones, cross-validated with folds grouped by piece (a prompt's real and generated
continuations are always in the same fold). The figure is the held-out accuracy: 0.5 means the
classifier cannot tell them apart, 1.0 means it always can.

Rows of the report, for any generator (``realism_report`` takes plain note arrays, so the
Transformer, an LSTM or a GAN are evaluated the same way):

* each generator: real vs its candidates (accuracy averaged over the candidate index: candidate
  1 of every prompt vs the real ones, then candidate 2, …);
* baseline ``repeat-prompt``: the prompt's last bars played again (restates perfectly, never moves on);
* baseline ``shuffled-prompt-pitches``: the prompt's last bars' rhythm with pitches drawn at random
  from the prompt's notes (right notes and rhythm, no melody);
* sanity ``<generator> candidate vs candidate``: candidate 1 against candidate 2 of the same
  generator (≈ 0.5 when the classifier is not fooling itself).

Clips are ``(n, 3)`` integer arrays of start tick, duration ticks, MIDI pitch; a continuation's
ticks start at 0 on the bar line after its prompt. No Qt, no torch: numpy, and scikit-learn for
the classifiers (the ``eval`` extra).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from composer_app.core.theory import (
    MODE_INTERVALS,
    estimate_modal_key,
    key_correlations,
    key_signature_of,
    key_signature_pitch_classes,
)

FOLDS = 5  # cross-validation folds (grouped by piece)
MAX_CANDIDATE_ROWS = 4  # candidates per prompt whose accuracy is averaged (candidate 1 vs real, 2 vs real, …)
# Signed melodic intervals (semitones, top note of each onset to the next) -> bins.
INTERVAL_EDGES = (-7.5, -4.5, -2.5, -0.5, 0.5, 2.5, 4.5, 7.5)  # 9 bins: down > 7, 5..7, 3..4, 1..2, unison, up …
# Inter-onset intervals in quarter notes -> bins (the last note: its duration).
IOI_EDGES_QUARTERS = (0.26, 0.34, 0.51, 0.76, 1.01, 1.51, 2.01)  # 8 bins: 16th, triplet 8th, 8th, dotted 8th, …
LONGEST_RUN_CAP = 16  # the longest run of notes shared with the prompt is capped at this many notes


@dataclass(frozen=True)
class Context:
    """What a continuation is measured against: its prompt, meter and notated key.

    ``prompt``: ``(n, 3)`` int array of start tick, duration ticks, pitch (first bar at tick 0).
    ``bar_ticks``: ticks per bar (one meter for the excerpt). ``key_signature``: sharps (> 0) or
    flats (< 0) of the file's key signature; ``None`` when the file has none (then the diatonic
    collection is estimated from the prompt).
    """

    prompt: np.ndarray
    bar_ticks: int
    ticks_per_quarter: int
    key_signature: int | None = None

    def __post_init__(self):
        prompt = np.asarray(self.prompt, dtype=np.int64).reshape(-1, 3)
        object.__setattr__(self, "prompt", prompt)
        if self.bar_ticks <= 0 or self.ticks_per_quarter <= 0:
            raise ValueError("bar_ticks and ticks_per_quarter must be > 0")
        if len(prompt) == 0:
            raise ValueError("a prompt needs at least one note")

    @property
    def prompt_bars(self) -> int:
        return max(1, math.ceil((int(self.prompt[:, 0].max()) + 1) / self.bar_ticks))


# Every feature, with what it measures. Keep this table and ``clip_features`` in step.
FEATURES: dict[str, str] = {}
for _d in range(12):
    FEATURES[f"pc_{_d}"] = f"share of notes on pitch class {_d} semitones above the prompt's tonic (the prompt's mode-aware key)"
for _i, _name in enumerate(("down_over7", "down_5to7", "down_3to4", "down_1to2", "unison", "up_1to2", "up_3to4", "up_5to7", "up_over7")):
    FEATURES[f"interval_{_name}"] = f"share of melodic intervals (top note per onset) that go {_name.replace('_', ' ')} semitones"
for _i, _name in enumerate(("16th", "8th_triplet", "8th", "dotted_8th", "quarter", "dotted_quarter", "half", "longer")):
    FEATURES[f"ioi_{_name}"] = f"share of inter-onset intervals (last note: its duration) of about a {_name.replace('_', ' ')}"
FEATURES.update({
    "onset_offbeat_share": "share of onsets not on a beat (quarter note grid)",
    "density_ratio": "notes per bar divided by the prompt's notes per bar",
    "rhythm_l1_to_prompt": "L1 distance between the clip's and the prompt's inter-onset histograms",
    "pc_l1_to_prompt": "L1 distance between the clip's and the prompt's pitch-class histograms",
    "step_share": "share of melodic intervals of 1 or 2 semitones",
    "repeat_share": "share of melodic intervals of 0 (a repeated note)",
    "leap_share": "share of melodic intervals over a major third (> 4 semitones)",
    "big_leap_share": "share of melodic intervals over a fifth (> 7 semitones)",
    "max_leap": "largest melodic interval (semitones)",
    "mean_pitch_vs_prompt": "mean pitch minus the prompt's mean pitch (semitones)",
    "high_vs_prompt": "highest pitch minus the prompt's highest",
    "low_vs_prompt": "lowest pitch minus the prompt's lowest",
    "range_ratio": "pitch range divided by the prompt's (1 = same span)",
    "high_point_position": "where the highest note falls, 0 (start) .. 1 (end of the clip)",
    "contour_second_half": "mean pitch of the second half minus the first half (semitones)",
    "last_vs_prompt_mean": "last note minus the prompt's mean pitch",
    "prompt_bar_copy_share": "share of bars identical (onsets and pitches) to a bar of the prompt",
    "prompt_bar_transposed_share": "share of bars that are a prompt bar moved up or down (same rhythm and intervals)",
    "prompt_rhythm_copy_share": "share of bars with the onsets of a prompt bar",
    "self_bar_repeat_share": "share of bars (after the first) identical to an earlier bar of the clip",
    "longest_prompt_run": f"longest run of consecutive pitches shared with the prompt's melody (notes, at most {LONGEST_RUN_CAP})",
    "cadence_tonic": "1 if the last note is the prompt's tonic",
    "cadence_fifth": "1 if the last note is the fifth above the tonic",
    "cadence_third": "1 if the last note is the third above the tonic",
    "last_note_quarters": "duration of the last note in quarter notes (at most 4)",
    "last_onset_on_beat": "1 if the last note starts on a beat",
    "in_key_share": "share of notes in the scale of the prompt's Krumhansl-Kessler major or minor key (minor with its leading tone)",
    "key_signature_agreement": "share of notes natural in the file's key signature (or the prompt's best diatonic collection)",
    "in_prompt_pcs_share": "share of notes whose pitch class occurs in the prompt",
    "note_count": "number of notes",
})


def melody(notes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(onsets, pitches) of the top note of each onset, in time order."""
    notes = np.asarray(notes).reshape(-1, 3)
    if len(notes) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort((-notes[:, 2], notes[:, 0]))
    ordered = notes[order]
    first = np.ones(len(ordered), bool)
    first[1:] = ordered[1:, 0] != ordered[:-1, 0]
    return ordered[first, 0].astype(np.int64), ordered[first, 2].astype(np.int64)


def prompt_key(context: Context):
    """The prompt's mode-aware key (``core.theory.Key``), from its whole prompt and key signature."""
    hist = np.bincount(context.prompt[:, 2] % 12, weights=context.prompt[:, 1], minlength=12)
    return estimate_modal_key(hist, context.key_signature)


def _major_minor_scale(context: Context) -> frozenset[int]:
    """The pitch classes of the prompt's major or minor key (Krumhansl-Kessler), minor with the leading tone."""
    hist = np.bincount(context.prompt[:, 2] % 12, weights=context.prompt[:, 1], minlength=12)
    best = int(np.argmax(key_correlations(hist)))
    tonic, minor = best % 12, best >= 12
    steps = MODE_INTERVALS["minor"] + (11,) if minor else MODE_INTERVALS["major"]
    return frozenset((tonic + s) % 12 for s in steps)


def _bars(notes: np.ndarray, bar_ticks: int, n_bars: int) -> list[tuple[tuple[int, int], ...]]:
    """Each bar as a sorted tuple of (onset within the bar, pitch)."""
    out = [[] for _ in range(n_bars)]
    for start, _, pitch in notes:
        b = int(start) // bar_ticks
        if 0 <= b < n_bars:
            out[b].append((int(start) % bar_ticks, int(pitch)))
    return [tuple(sorted(bar)) for bar in out]


def _shape(bar) -> tuple:
    """A bar without its transposition: onsets and intervals from its first note."""
    if not bar:
        return ()
    base = bar[0][1]
    return tuple((t, p - base) for t, p in bar)


def _ioi_histogram(notes: np.ndarray, tpq: int, end_tick: int) -> np.ndarray:
    onsets, _ = melody(notes)
    if len(onsets) == 0:
        return np.zeros(len(IOI_EDGES_QUARTERS) + 1)
    last = notes[notes[:, 0] == onsets[-1], 1].max()
    iois = np.append(np.diff(onsets), min(last, max(1, end_tick - onsets[-1]))) / tpq
    hist = np.bincount(np.digitize(iois, IOI_EDGES_QUARTERS), minlength=len(IOI_EDGES_QUARTERS) + 1).astype(float)
    return hist / hist.sum()


def _longest_common_run(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the longest common contiguous run of two pitch sequences."""
    if len(a) == 0 or len(b) == 0:
        return 0
    best = 0
    previous = np.zeros(len(b) + 1, np.int64)
    for x in a:
        current = np.zeros(len(b) + 1, np.int64)
        match = b == x
        current[1:][match] = previous[:-1][match] + 1
        best = max(best, int(current.max()))
        previous = current
    return best


def clip_features(clip, context: Context, key=None) -> dict[str, float]:
    """The :data:`FEATURES` of one continuation (``(n, 3)`` notes from tick 0) after ``context``."""
    notes = np.asarray(clip, dtype=np.int64).reshape(-1, 3)
    prompt, bar_ticks, tpq = context.prompt, context.bar_ticks, context.ticks_per_quarter
    key = key or prompt_key(context)
    tonic = key.tonic_pc
    n_bars = max(1, math.ceil((int(notes[:, 0].max()) + 1) / bar_ticks)) if len(notes) else 1
    end_tick = n_bars * bar_ticks
    f: dict[str, float] = dict.fromkeys(FEATURES, 0.0)
    f["note_count"] = float(len(notes))
    p_onsets, p_pitches = melody(prompt)
    if len(notes) == 0:
        f["density_ratio"] = 0.0
        return f
    pcs = notes[:, 2] % 12
    rel = np.bincount((pcs - tonic) % 12, minlength=12) / len(notes)
    for d in range(12):
        f[f"pc_{d}"] = float(rel[d])
    prompt_rel = np.bincount((prompt[:, 2] - tonic) % 12, minlength=12) / len(prompt)
    f["pc_l1_to_prompt"] = float(np.abs(rel - prompt_rel).sum())

    onsets, pitches = melody(notes)
    intervals = np.diff(pitches)
    if len(intervals):
        hist = np.bincount(np.digitize(intervals, INTERVAL_EDGES), minlength=len(INTERVAL_EDGES) + 1) / len(intervals)
        for name, value in zip([k for k in FEATURES if k.startswith("interval_")], hist):
            f[name] = float(value)
        size = np.abs(intervals)
        f["step_share"] = float(np.mean((size >= 1) & (size <= 2)))
        f["repeat_share"] = float(np.mean(size == 0))
        f["leap_share"] = float(np.mean(size > 4))
        f["big_leap_share"] = float(np.mean(size > 7))
        f["max_leap"] = float(size.max())
    ioi = _ioi_histogram(notes, tpq, end_tick)
    for name, value in zip([k for k in FEATURES if k.startswith("ioi_")], ioi):
        f[name] = float(value)
    prompt_end = context.prompt_bars * bar_ticks
    f["rhythm_l1_to_prompt"] = float(np.abs(ioi - _ioi_histogram(prompt, tpq, prompt_end)).sum())
    f["onset_offbeat_share"] = float(np.mean(onsets % tpq != 0))
    f["density_ratio"] = (len(notes) / n_bars) / (len(prompt) / context.prompt_bars)

    p_mean = float(prompt[:, 2].mean())
    f["mean_pitch_vs_prompt"] = float(notes[:, 2].mean()) - p_mean
    f["high_vs_prompt"] = float(notes[:, 2].max() - prompt[:, 2].max())
    f["low_vs_prompt"] = float(notes[:, 2].min() - prompt[:, 2].min())
    f["range_ratio"] = float(np.ptp(notes[:, 2]) + 1) / float(np.ptp(prompt[:, 2]) + 1)
    f["high_point_position"] = float(onsets[int(np.argmax(pitches))]) / end_tick
    half = onsets < end_tick / 2
    if half.any() and (~half).any():
        f["contour_second_half"] = float(pitches[~half].mean() - pitches[half].mean())
    f["last_vs_prompt_mean"] = float(pitches[-1]) - p_mean

    clip_bars = _bars(notes, bar_ticks, n_bars)
    prompt_bars = [b for b in _bars(prompt, bar_ticks, context.prompt_bars) if b]
    prompt_set = set(prompt_bars)
    prompt_shapes = {_shape(b) for b in prompt_bars}
    prompt_rhythms = {tuple(t for t, _ in b) for b in prompt_bars}
    filled = [b for b in clip_bars if b]
    if filled:
        f["prompt_bar_copy_share"] = float(np.mean([b in prompt_set for b in filled]))
        f["prompt_bar_transposed_share"] = float(np.mean([b not in prompt_set and _shape(b) in prompt_shapes for b in filled]))
        f["prompt_rhythm_copy_share"] = float(np.mean([tuple(t for t, _ in b) in prompt_rhythms for b in filled]))
    if len(clip_bars) > 1:
        f["self_bar_repeat_share"] = float(np.mean([bool(clip_bars[i]) and clip_bars[i] in clip_bars[:i] for i in range(1, len(clip_bars))]))
    f["longest_prompt_run"] = float(min(LONGEST_RUN_CAP, _longest_common_run(pitches, p_pitches)))

    last_degree = (int(pitches[-1]) - tonic) % 12
    f["cadence_tonic"] = float(last_degree == 0)
    f["cadence_fifth"] = float(last_degree == 7)
    f["cadence_third"] = float(last_degree in (3, 4))
    last_duration = notes[notes[:, 0] == onsets[-1], 1].max()
    f["last_note_quarters"] = float(min(4.0, last_duration / tpq))
    f["last_onset_on_beat"] = float(onsets[-1] % tpq == 0)

    f["in_key_share"] = float(np.isin(pcs, sorted(_major_minor_scale(context))).mean())
    signature = context.key_signature if context.key_signature is not None else key_signature_of(key)
    f["key_signature_agreement"] = float(np.isin(pcs, sorted(key_signature_pitch_classes(signature))).mean())
    f["in_prompt_pcs_share"] = float(np.isin(pcs, np.unique(prompt[:, 2] % 12)).mean())
    return f


def feature_matrix(clips: Sequence, contexts: Sequence[Context]) -> np.ndarray:
    """Rows of :data:`FEATURES` (in that order), one per (clip, context)."""
    names = list(FEATURES)
    rows = []
    for clip, context in zip(clips, contexts, strict=True):
        feats = clip_features(clip, context)
        rows.append([feats[n] for n in names])
    return np.array(rows, dtype=np.float64).reshape(-1, len(names))



# ----------------------------------------------------------------------------------------------
# Held-out cases: a tune's first bars and its real next bars

FOLK_COLLECTIONS = ("essenFolksong", "ryansMammoth", "airdsAirs", "miscFolk")  # tunes with a melody to continue
PROMPT_BARS = 4  # the prompt: a tune's first 4 bars (a pickup counts as the first bar)
CONTINUATION_BARS = 4  # the reference: its real next 4 bars


@dataclass(frozen=True)
class Case:
    """One held-out prompt and its real continuation, on the tokenizer's grid."""

    source_id: str
    context: Context
    real: np.ndarray  # (n, 3) notes of the real next bars, from tick 0
    numerator: int
    denominator: int


def cases_from_tokens(
    items,
    prompt_bars: int = PROMPT_BARS,
    bars: int = CONTINUATION_BARS,
    collections: Sequence[str] | None = FOLK_COLLECTIONS,
    key_signature=None,
) -> list[Case]:
    """Held-out tokenized pieces (``dataset.TokenizedPiece``) -> realism cases, in the items' order.

    Kept: pieces of ``collections`` (None: any) in one meter whose tune lasts at least
    ``prompt_bars + bars`` bars, with at least 4 prompt notes and 2 continuation notes.
    ``key_signature(source_id) -> int | None`` gives the notated key signature (default: the ABC
    source's ``K:`` field, ``data.key_signature_of_source``).
    """
    from composer_app.generation import tokenizer as tk
    from composer_app.generation.data import key_signature_of_source

    key_signature = key_signature or key_signature_of_source
    out = []
    for item in items:
        if collections is not None and item.source_id.split("/", 1)[0] not in collections:
            continue
        if len(item.bar_index) < prompt_bars + bars:
            continue
        decoded = tk.tokens_to_notes(item.tokens)
        if len(decoded.time_signatures) != 1:
            continue
        _, num, den = decoded.time_signatures[0]
        bar_ticks = tk.bar_grid_length(num, den)
        notes = decoded.notes
        cut, end = prompt_bars * bar_ticks, (prompt_bars + bars) * bar_ticks
        prompt = notes[notes[:, 0] < cut]
        real = notes[(notes[:, 0] >= cut) & (notes[:, 0] < end)].copy()
        if len(prompt) < 4 or len(real) < 2 or notes[:, 0].max() < end - bar_ticks:
            continue
        real[:, 0] -= cut
        context = Context(prompt, bar_ticks, tk.GRID_TICKS_PER_QUARTER, key_signature(item.source_id))
        out.append(Case(item.source_id, context, real, int(num), int(den)))
    return out


# ----------------------------------------------------------------------------------------------
# Baselines


def repeat_prompt(context: Context, bars: int) -> np.ndarray:
    """Baseline: the prompt's last ``bars`` bars played again (cycled when the prompt is shorter)."""
    bar_ticks = context.bar_ticks
    n = context.prompt_bars
    out = []
    for b in range(bars):
        source = n - bars + b if bars <= n else (b % n)
        src = context.prompt[(context.prompt[:, 0] // bar_ticks) == source]
        for start, duration, pitch in src:
            out.append((start - source * bar_ticks + b * bar_ticks, duration, pitch))
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def shuffled_prompt_pitches(context: Context, bars: int, rng: np.random.Generator) -> np.ndarray:
    """Baseline: the rhythm of ``repeat_prompt``, each note's pitch drawn at random from the prompt's notes."""
    clip = repeat_prompt(context, bars)
    if len(clip):
        clip[:, 2] = rng.choice(context.prompt[:, 2], size=len(clip), replace=True)
    return clip


# ----------------------------------------------------------------------------------------------
# The classifier


def classifier_accuracy(x_real: np.ndarray, x_other: np.ndarray, groups: Sequence, folds: int = FOLDS, seed: int = 0) -> dict[str, float]:
    """Cross-validated accuracy of telling ``x_real`` (label 1) from ``x_other`` (label 0).

    Folds are grouped by ``groups`` (one per row of each matrix, the same for both: the piece a
    prompt comes from), so a piece is never in training and test at once. Returns the mean
    accuracy of each classifier over the folds, and the folds' standard deviation.
    """
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([x_real, x_other])
    y = np.concatenate([np.ones(len(x_real)), np.zeros(len(x_other))])
    g = np.concatenate([np.asarray(groups), np.asarray(groups)])
    n_folds = min(folds, len(set(g.tolist())))
    if n_folds < 2:
        raise ValueError("the realism test needs prompts from at least 2 pieces")
    cv = GroupKFold(n_splits=n_folds)
    models = {
        "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, C=1.0)),
        "boosting": GradientBoostingClassifier(random_state=seed),
    }
    out = {}
    for name, model in models.items():
        scores = cross_val_score(model, x, y, groups=g, cv=cv, scoring="accuracy")
        out[name] = float(scores.mean())
        out[f"{name}_fold_std"] = float(scores.std())
    return out


def _as_candidate_lists(clips) -> list[list[np.ndarray]]:
    out = []
    for item in clips:
        if isinstance(item, np.ndarray) and item.ndim == 2:
            out.append([item])
        else:
            out.append([np.asarray(c, dtype=np.int64).reshape(-1, 3) for c in item])
    return out


SUMMARY_FEATURES = (
    "step_share", "leap_share", "big_leap_share", "repeat_share", "max_leap", "mean_pitch_vs_prompt",
    "contour_second_half", "prompt_bar_copy_share", "self_bar_repeat_share", "longest_prompt_run",
    "cadence_tonic", "cadence_fifth", "in_key_share", "key_signature_agreement", "density_ratio",
)


def _summary(x: np.ndarray) -> dict[str, float]:
    names = list(FEATURES)
    out = {name: float(x[:, names.index(name)].mean()) for name in SUMMARY_FEATURES}
    out["longest_prompt_run_median"] = float(np.median(x[:, names.index("longest_prompt_run")]))
    out["clips_with_self_repeat"] = float(np.mean(x[:, names.index("self_bar_repeat_share")] > 0))
    out["cadence_tonic_or_fifth"] = out["cadence_tonic"] + out["cadence_fifth"]
    out["out_of_key_share"] = 1.0 - out["in_key_share"]
    out["key_signature_contradiction_share"] = 1.0 - out["key_signature_agreement"]
    return out


def _telltales(x_real: np.ndarray, x_other: np.ndarray, top: int = 6) -> list[dict]:
    """The features whose means differ most (in pooled standard deviations) between real and other."""
    names = list(FEATURES)
    pooled = np.sqrt((x_real.var(axis=0) + x_other.var(axis=0)) / 2) + 1e-9
    effect = (x_other.mean(axis=0) - x_real.mean(axis=0)) / pooled
    order = np.argsort(-np.abs(effect))[:top]
    return [
        {"feature": names[i], "real": float(x_real[:, i].mean()), "other": float(x_other[:, i].mean()), "effect_size": float(effect[i])}
        for i in order
    ]


def realism_report(
    contexts: Sequence[Context],
    real: Sequence,
    generated: Mapping[str, Sequence],
    groups: Sequence,
    *,
    bars: int | None = None,
    seed: int = 0,
    baselines: bool = True,
    folds: int = FOLDS,
) -> dict:
    """The realism test for any number of generators, as one JSON-able dict.

    ``contexts[i]`` is prompt i, ``real[i]`` its real continuation (``(n, 3)`` notes from tick 0),
    ``generated[name][i]`` one clip or a list of candidate clips for prompt i, ``groups[i]`` the
    piece prompt i comes from (folds never split a piece). ``bars``: continuation length for the
    baselines (default: the real continuations' length in bars, at least 1).

    Returns ``{"prompts", "pieces", "features", "rows": [{"name", "kind", "logistic", "boosting",
    …, "summary", "telltales"}], "real_summary"}``. ``kind`` is ``generator``, ``baseline`` or
    ``sanity``.
    """
    contexts = list(contexts)
    n = len(contexts)
    if not (len(real) == len(groups) == n):
        raise ValueError("contexts, real and groups must have the same length")
    real_clips = [np.asarray(c, dtype=np.int64).reshape(-1, 3) for c in real]
    keys = [prompt_key(c) for c in contexts]

    def matrix(clips):
        rows = [list(clip_features(c, ctx, k).values()) for c, ctx, k in zip(clips, contexts, keys, strict=True)]
        return np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))

    x_real = matrix(real_clips)
    if bars is None:
        lengths = [math.ceil((int(c[:, 0].max()) + 1) / ctx.bar_ticks) if len(c) else 1 for c, ctx in zip(real_clips, contexts)]
        bars = max(1, int(np.median(lengths)))
    rows = []

    def add_row(name: str, kind: str, matrices: list[np.ndarray], reference: np.ndarray | None = None, note: str = ""):
        reference = x_real if reference is None else reference
        accs = [classifier_accuracy(reference, m, groups, folds, seed) for m in matrices]
        pooled = np.vstack(matrices)
        rows.append({
            "name": name,
            "kind": kind,
            "candidate_rows": len(matrices),
            "logistic": float(np.mean([a["logistic"] for a in accs])),
            "boosting": float(np.mean([a["boosting"] for a in accs])),
            "logistic_fold_std": float(np.mean([a["logistic_fold_std"] for a in accs])),
            "boosting_fold_std": float(np.mean([a["boosting_fold_std"] for a in accs])),
            "summary": _summary(pooled),
            "telltales": _telltales(reference, pooled),
            "note": note,
        })

    sanity = []
    for name, clips in generated.items():
        lists = _as_candidate_lists(clips)
        if len(lists) != n:
            raise ValueError(f"generated[{name!r}] must hold one entry per prompt")
        count = min(MAX_CANDIDATE_ROWS, min(len(c) for c in lists))
        if count < 1:
            raise ValueError(f"generated[{name!r}] has a prompt without candidates")
        matrices = [matrix([c[j] for c in lists]) for j in range(count)]
        add_row(name, "generator", matrices)
        if count >= 2:
            sanity.append((name, matrices[0], matrices[1]))
    if baselines:
        rng = np.random.default_rng(seed)
        add_row("repeat-prompt", "baseline", [matrix([repeat_prompt(c, bars) for c in contexts])],
                note=f"the prompt's last {bars} bars again")
        add_row("shuffled-prompt-pitches", "baseline", [matrix([shuffled_prompt_pitches(c, bars, rng) for c in contexts])],
                note="the prompt's rhythm, pitches drawn at random from the prompt")
    for name, first, second in sanity:
        add_row(f"{name} candidate vs candidate", "sanity", [second], reference=first,
                note="candidate 1 against candidate 2 of the same prompts (should be about 0.5)")
    return {
        "prompts": n,
        "pieces": len(set(groups)),
        "bars": bars,
        "folds": min(folds, len(set(groups))),
        "features": dict(FEATURES),
        "real_summary": _summary(x_real),
        "rows": rows,
    }


def to_markdown(report: dict) -> str:
    """The realism report as a Markdown section (accuracy table, then the giveaways per row)."""
    pct = lambda v: f"{100 * v:.1f} %"  # noqa: E731
    lines = [
        f"{report['prompts']} held-out prompts from {report['pieces']} pieces, continuations of {report['bars']} bars; "
        f"{report['folds']}-fold cross-validation grouped by piece. Accuracy of telling the real continuation "
        "from the other one: 50 % = indistinguishable, 100 % = always told apart.",
        "",
        "| continuation | kind | logistic regression | gradient boosting | steps | leaps > M3 | prompt-bar copies | "
        "longest run shared with prompt (median) | ends on tonic or 5th | out of key | against key signature |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    real = report["real_summary"]
    lines.append(
        f"| real | reference | | | {pct(real['step_share'])} | {pct(real['leap_share'])} | {pct(real['prompt_bar_copy_share'])} | "
        f"{real['longest_prompt_run_median']:.0f} | {pct(real['cadence_tonic_or_fifth'])} | {pct(real['out_of_key_share'])} | "
        f"{pct(real['key_signature_contradiction_share'])} |"
    )
    for row in report["rows"]:
        s = row["summary"]
        lines.append(
            f"| {row['name']} | {row['kind']} | {pct(row['logistic'])} | {pct(row['boosting'])} | {pct(s['step_share'])} | "
            f"{pct(s['leap_share'])} | {pct(s['prompt_bar_copy_share'])} | {s['longest_prompt_run_median']:.0f} | "
            f"{pct(s['cadence_tonic_or_fifth'])} | {pct(s['out_of_key_share'])} | {pct(s['key_signature_contradiction_share'])} |"
        )
    lines += ["", "What gives each one away (largest differences from the real continuations, in pooled standard deviations):", ""]
    for row in report["rows"]:
        tells = "; ".join(f"{t['feature']} {t['other']:.2f} vs {t['real']:.2f}" for t in row["telltales"][:4])
        lines.append(f"- {row['name']}: {tells}")
    return "\n".join(lines) + "\n"
