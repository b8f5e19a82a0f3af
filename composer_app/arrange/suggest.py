"""Suggest chords for a melody: a hidden Markov model learned from the Bach chorales (numpy only).

Hidden states are chords relative to the key (root interval 0..11 above the tonic × a quality of
:data:`STATE_QUALITIES`), one table per mode. Learned from the chorales' Roman-numeral labels
(music21's ``chordify`` + ``romanNumeralFromChord``, :mod:`composer_app.generation.chorales`),
counted relative to each chorale's key, which is the same as training on every transposition:

- ``transition``: P(next chord | chord) over chord *changes* (counts + add-k smoothing);
- ``initial`` / ``final``: where progressions start and end (cadences);
- ``emission``: P(melody pitch class above the tonic | chord): the soprano over each beat against
  the beat's chord (so passing notes count), by duration, backed off to P(pitch class above the
  root | quality) for chords seldom seen;
- ``stay``: P(the chord is held over the next span) for spans of 1, 2 and 4 beats.

- ``clf_weight`` / ``clf_bias``: a per-beat chord classifier (multinomial logistic regression on
  the melody around the beat, key-relative: :mod:`composer_app.arrange.chord_classifier`), fitted
  on the training chorales' sopranos against the same labels. Where it is present it replaces the
  emissions: the HMM alone agreed with Bach less often than a per-degree lookup did.

Suggesting (:func:`suggest_chords`): the melody's key (Krumhansl–Schmuckler; valence breaks the
tie between a scale's major and relative-minor reading), spans of the harmonic rhythm arousal
asks for (a bar when calm, half a bar, a beat when excited), each span scored by the classifier's
log-posteriors of its beats (strong beats count :data:`CLASSIFIER_STRONG_WEIGHT` times; without a
classifier: its notes by length through the emissions, strong beats :data:`STRONG_BEAT_WEIGHT`
times), the HMM's transitions weighted :data:`TRANSITION_WEIGHT`, then Viterbi for the best
progression and forward-filtering backward-sampling for alternatives (warmer until they differ).
Valence adds chord colour: major chords gain, minor chords lose ``COLOUR_PER_VALENCE × valence``
(log units).

Weights: ``models/chord-suggester.safetensors`` (fp16 log-probabilities, config in metadata).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from composer_app.core.chords import Chord, ChordEvent, ChordTrack, QUALITIES
from composer_app.core.note import Note

MODEL_KIND = "chord-suggester"
STATE_QUALITIES = ("maj", "m", "dim", "aug", "7", "maj7", "m7", "m7b5", "dim7")
TRIAD_QUALITIES = ("maj", "m", "dim")
N_STATES = 12 * len(STATE_QUALITIES)
SPAN_BEATS = (1, 2, 4)  # harmonic rhythms the model has a hold probability for
SMOOTHING = 0.1  # add-k for transition, start and end counts
EMISSION_SMOOTHING = 0.5  # add-k for the root-relative emission counts (in beats)
EMISSION_PRIOR_BEATS = 5.0  # strength of the root-relative back-off behind the key-relative emissions
# Decoding settings (tuned on the dev chorales and dev folk melodies, never on held-out ones):
STRONG_BEAT_WEIGHT = 2.0  # a note sounding on a strong beat counts this many times its length
EMISSION_SCALE = 0.5  # weight of the melody's evidence against the progression's prior
COLOUR_PER_VALENCE = 0.6  # log-bonus for major (malus for minor) chords per unit of valence
MODE_TIE_MARGIN = 0.15  # key-correlation gap within which valence picks major or relative minor
CLASSIFIER_C = 1.0  # inverse L2 strength of the per-beat classifier (dev: 1.0 and 3.0 within 0.7 points)
TRANSITION_WEIGHT = 0.25  # weight of the HMM's transitions, starts and ends against the classifier's log-posteriors
ALTERNATIVE_WARMING = 1.25  # alternatives: the sampling temperature grows this much per round without a new one
CLASSIFIER_STRONG_WEIGHT = 4.0  # a strong beat's log-posterior counts this many times a weak beat's in a span
CALM_AROUSAL = -0.2  # below: one chord per bar
BUSY_AROUSAL = 0.5  # above: one chord per beat; between: half a bar when the bar divides evenly


def state_chord(state: int, tonic_pc: int) -> Chord:
    interval, quality = divmod(int(state), len(STATE_QUALITIES))
    return Chord((tonic_pc + interval) % 12, STATE_QUALITIES[quality])


def chord_state(root_interval: int, quality: str) -> int | None:
    if quality not in STATE_QUALITIES:
        return None
    return root_interval % 12 * len(STATE_QUALITIES) + STATE_QUALITIES.index(quality)


def _quality_intervals(quality: str) -> tuple[int, ...]:
    from composer_app.core.chords import QUALITY_INTERVALS

    return QUALITY_INTERVALS[quality]


# ----------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class ChordModel:
    """Log-probability tables, index 0 = major keys, 1 = minor keys."""

    transition: np.ndarray  # (2, S, S) log P(next | current), changes only (diagonal -inf)
    initial: np.ndarray  # (2, S)
    final: np.ndarray  # (2, S)
    emission: np.ndarray  # (2, S, 12) log P(melody pc - tonic | chord state)
    stay: np.ndarray  # (2, len(SPAN_BEATS)) P(same chord over the next span)
    # The per-beat chord classifier (:mod:`composer_app.arrange.chord_classifier`); None: emissions only.
    clf_weight: np.ndarray | None = None  # (N_FEATURES, S)
    clf_bias: np.ndarray | None = None  # (S,)

    @property
    def has_classifier(self) -> bool:
        return self.clf_weight is not None and self.clf_bias is not None

    def save(self, path: Path, metadata: dict | None = None) -> None:
        from safetensors.numpy import save_file

        names = ("transition", "initial", "final", "emission", "stay") + (("clf_weight", "clf_bias") if self.has_classifier else ())
        tensors = {name: getattr(self, name).astype(np.float16) for name in names}
        for name, value in tensors.items():  # -inf does not survive fp16 arithmetic well: floor it
            tensors[name] = np.maximum(value, -60.0).astype(np.float16)
        meta = {"kind": MODEL_KIND, "config": json.dumps({"qualities": STATE_QUALITIES, "span_beats": SPAN_BEATS})}
        meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()})
        path = Path(path)
        tmp = path.with_suffix(".tmp")
        save_file(tensors, str(tmp), metadata=meta)
        tmp.chmod(0o644)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ChordModel:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            if meta.get("kind") != MODEL_KIND:
                raise ValueError(f"{path}: not chord-suggester weights")
            config = json.loads(meta["config"])
            if tuple(config["qualities"]) != STATE_QUALITIES:
                raise ValueError(f"{path}: made for other chord qualities")
            values = {k: f.get_tensor(k).astype(np.float64) for k in f.keys()}
        if "clf_weight" in values:
            from composer_app.arrange.chord_classifier import N_FEATURES

            if values["clf_weight"].shape != (N_FEATURES, N_STATES) or values.get("clf_bias", np.zeros(0)).shape != (N_STATES,):
                raise ValueError(f"{path}: the chord classifier's shape does not match this version")
        return cls(**values)


def train_chord_model(chorales, classifier: bool = True, classifier_c: float | None = None) -> ChordModel:
    """Count the tables from chorales (:class:`~composer_app.generation.chorales.Chorale` values).

    ``classifier``: also fit the per-beat chord classifier (needs scikit-learn) with inverse
    regularisation ``classifier_c`` (default :data:`CLASSIFIER_C`).
    """
    Q = len(STATE_QUALITIES)
    trans = np.full((2, N_STATES, N_STATES), SMOOTHING)
    init = np.full((2, N_STATES), SMOOTHING)
    final = np.full((2, N_STATES), SMOOTHING)
    emit = np.full((2, Q, 12), EMISSION_SMOOTHING)
    emit_key = np.zeros((2, N_STATES, 12))  # soprano pitch class relative to the key, per chord state
    stay_counts = np.zeros((2, len(SPAN_BEATS), 2))
    for c in chorales:
        mode = int(c.minor)
        tpq = c.ticks_per_quarter
        rows = c.chords
        if not len(rows):
            continue
        # One label per beat (the chord sounding at the beat), None where music21's is not ours.
        end = c.end_tick
        labels = []
        r = 0
        for tick in range(0, end, tpq):
            while r + 1 < len(rows) and rows[r + 1][0] <= tick:
                r += 1
            start, dur, root, qidx, _bass, _mask = rows[r]
            if not (start <= tick < start + dur) or qidx < 0:
                labels.append(None)
                continue
            labels.append(chord_state(root - c.tonic_pc, QUALITIES[qidx]))
        known = [s for s in labels if s is not None]
        if not known:
            continue
        init[mode, known[0]] += 1
        final[mode, known[-1]] += 1
        changes = [s for i, s in enumerate(known) if i == 0 or s != known[i - 1]]
        for a, b in zip(changes, changes[1:]):
            trans[mode, a, b] += 1
        for k, span in enumerate(SPAN_BEATS):
            for offset in range(0, len(labels) - span, span):
                a, b = labels[offset], labels[offset + span]
                if a is not None and b is not None:
                    stay_counts[mode, k, int(a == b)] += 1
        # Emission: the soprano over each beat against the beat's chord (passing notes included).
        soprano = c.voice(0)
        for b, state in enumerate(labels):
            if state is None:
                continue
            q = state % Q
            root = (c.tonic_pc + state // Q) % 12
            s0, s1 = b * tpq, (b + 1) * tpq
            for s_start, s_dur, pitch in soprano:
                overlap = min(s1, s_start + s_dur) - max(s0, s_start)
                if overlap > 0:
                    emit[mode, q, (pitch - root) % 12] += overlap / tpq
                    emit_key[mode, state, (pitch - c.tonic_pc) % 12] += overlap / tpq
    for m in range(2):
        np.fill_diagonal(trans[m], 0.0)
    trans /= trans.sum(axis=2, keepdims=True)
    init /= init.sum(axis=1, keepdims=True)
    final /= final.sum(axis=1, keepdims=True)
    emit /= emit.sum(axis=2, keepdims=True)
    # Key-relative emissions, backed off to the quality's root-relative table (a Dirichlet prior of
    # EMISSION_PRIOR_BEATS beats): rare chords borrow the shape every chord of their quality has.
    backoff = np.zeros_like(emit_key)
    for state in range(N_STATES):
        interval, q = divmod(state, Q)
        backoff[:, state] = np.roll(emit[:, q], interval, axis=1)  # index: pc above the tonic
    emit_key = (emit_key + EMISSION_PRIOR_BEATS * backoff) / (emit_key.sum(axis=2, keepdims=True) + EMISSION_PRIOR_BEATS)
    stay = (stay_counts[..., 1] + 1) / (stay_counts.sum(axis=-1) + 2)
    weight = bias = None
    if classifier:
        weight, bias = train_classifier(chorales, CLASSIFIER_C if classifier_c is None else classifier_c)
    with np.errstate(divide="ignore"):
        return ChordModel(np.log(trans), np.log(init), np.log(final), np.log(emit_key), stay, weight, bias)


def chorale_beats(chorale) -> list:
    """The beat grid of a chorale (:class:`~composer_app.arrange.chord_classifier.Beat` values)."""
    from composer_app.core.timing import TimeSignatureChange, TimeSignatureMap

    ts = TimeSignatureMap([TimeSignatureChange(0, chorale.numerator, chorale.denominator)], chorale.ticks_per_quarter)
    return beat_grid(ts, 0, chorale.end_tick)


def beat_grid(time_signatures, start_tick: int, end_tick: int) -> list:
    """Beats (:class:`~composer_app.arrange.chord_classifier.Beat`) starting in ``start_tick..end_tick``."""
    from composer_app.arrange.accompany import _grid
    from composer_app.arrange.chord_classifier import Beat

    beats = []
    for bar_start, per_beat, count in _grid(time_signatures, start_tick, end_tick):
        for k in range(count):
            tick = bar_start + k * per_beat
            if start_tick <= tick < end_tick:
                beats.append(Beat(tick, min(end_tick, tick + per_beat), k, count))
    return beats


def chorale_beat_labels(chorale, beats) -> np.ndarray:
    """The chord state sounding at each beat's start (-1 where music21's label is not one of ours)."""
    rows = chorale.chords
    out = np.full(len(beats), -1, dtype=np.int64)
    for i, beat in enumerate(beats):
        hit = np.nonzero((rows[:, 0] <= beat.start) & (rows[:, 0] + rows[:, 1] > beat.start))[0]
        if not len(hit):
            continue
        _start, _dur, root, qidx, _bass, _mask = (int(v) for v in rows[hit[-1]])
        state = chord_state(root - chorale.tonic_pc, QUALITIES[qidx]) if qidx >= 0 else None
        if state is not None:
            out[i] = state
    return out


def chorale_features(chorale, beats=None) -> np.ndarray:
    """The classifier's features of a chorale's soprano on its beats."""
    from composer_app.arrange.chord_classifier import beat_features

    beats = chorale_beats(chorale) if beats is None else beats
    soprano = chorale.voice(0)
    return beat_features(soprano[:, 2], soprano[:, 0], soprano[:, 0] + soprano[:, 1], beats, chorale.tonic_pc, chorale.minor)


def train_classifier(chorales, c: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Fit the per-beat chord classifier on the chorales' sopranos and music21's labels."""
    from composer_app.arrange.chord_classifier import fit

    xs, ys = [], []
    for chorale in chorales:
        beats = chorale_beats(chorale)
        xs.append(chorale_features(chorale, beats))
        ys.append(chorale_beat_labels(chorale, beats))
    x, y = np.concatenate(xs), np.concatenate(ys)
    keep = y >= 0
    return fit(x[keep], y[keep], N_STATES, c=c)


_MODEL_CACHE: dict[str, ChordModel] = {}


def default_model_path() -> Path:
    from composer_app.paths import models_dir

    return models_dir() / "chord-suggester.safetensors"


def load_default_model() -> ChordModel:
    path = default_model_path()
    key = str(path)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = ChordModel.load(path)
    return _MODEL_CACHE[key]


# ----------------------------------------------------------------------------------------------
# Decoding


@dataclass(frozen=True)
class ChordSuggestion:
    """One proposed progression: chords (project ticks), the key read, a label, its log score."""

    chords: ChordTrack
    tonic_pc: int
    minor: bool
    label: str
    log_score: float
    span_ticks: int

    @property
    def symbols(self) -> list[str]:
        return self.chords.symbols()


def harmonic_rhythm_beats(arousal: float, beats_per_bar: int) -> int:
    """Beats per chord span: a bar when calm, half a bar (when it divides), a beat when excited."""
    if arousal < CALM_AROUSAL:
        return beats_per_bar
    if arousal > BUSY_AROUSAL:
        return 1
    return beats_per_bar // 2 if beats_per_bar % 2 == 0 and beats_per_bar >= 4 else beats_per_bar


def choose_key(notes: Sequence[Note], valence: float = 0.0) -> tuple[int, bool]:
    """(tonic pc, minor?) of the melody; within :data:`MODE_TIE_MARGIN` valence picks the mode."""
    from composer_app.core.theory import key_correlations, pitch_class_histogram

    hist = pitch_class_histogram(notes)
    corr = np.asarray(key_correlations(hist), dtype=float).reshape(-1)  # 24: 12 major then 12 minor
    best = int(np.argmax(corr))
    tonic, minor = best % 12, best >= 12
    # The relative key shares the scale: a happy request leans major, a sad one minor.
    rel = (tonic + 9) % 12 + 12 if not minor else (tonic + 3) % 12
    if abs(corr[best] - corr[rel]) <= MODE_TIE_MARGIN and abs(valence) > 0.15:
        want_minor = valence < 0
        if want_minor != minor:
            tonic, minor = rel % 12, rel >= 12
    return tonic, minor


def _span_scores(model: ChordModel, notes: Sequence[Note], bounds: Sequence[int], strong_ticks: set[int],
                 tpq: int, tonic: int, minor: bool) -> np.ndarray:
    """(spans, S) log-evidence of each span's notes for each chord state."""
    mode = int(minor)
    Q = len(STATE_QUALITIES)
    # Evidence per span: a 12-vector of weighted beats per pitch class.
    weights = np.zeros((len(bounds) - 1, 12))
    strong = sorted(strong_ticks)
    for n in notes:
        for i, (s, e) in enumerate(zip(bounds, bounds[1:])):
            overlap = min(e, n.end_tick) - max(s, n.start_tick)
            if overlap <= 0:
                continue
            w = overlap / tpq
            if any(max(s, n.start_tick) <= t < min(e, n.end_tick) for t in strong if s <= t < e):
                w *= STRONG_BEAT_WEIGHT
            weights[i, n.pitch % 12] += w
    relative = np.roll(weights, -tonic, axis=1)  # pitch classes above the tonic
    scores = relative @ model.emission[mode].T  # (spans, S)
    return EMISSION_SCALE * scores


def _classifier_scores(model: ChordModel, notes: Sequence[Note], bounds: Sequence[int], time_signatures,
                       tonic: int, minor: bool) -> np.ndarray:
    """(spans, S): the per-beat classifier's log-posteriors of the melody line, summed over each span's beats."""
    from composer_app.arrange.chord_classifier import beat_features, log_posteriors

    line = melody_line(notes)
    beats = beat_grid(time_signatures, bounds[0], bounds[-1])
    scores = np.zeros((len(bounds) - 1, N_STATES))
    if not beats or not line:
        return scores
    x = beat_features([n.pitch for n in line], [n.start_tick for n in line], [n.end_tick for n in line], beats, tonic, minor)
    log_post = log_posteriors(x, model.clf_weight, model.clf_bias)
    span = np.searchsorted(np.asarray(bounds), [b.start for b in beats], side="right") - 1
    strong = np.array([b.index_in_bar == 0 or (b.beats_in_bar >= 4 and b.beats_in_bar % 2 == 0
                                                and b.index_in_bar == b.beats_in_bar // 2) for b in beats])
    np.add.at(scores, span, log_post * np.where(strong, CLASSIFIER_STRONG_WEIGHT, 1.0)[:, None])
    return scores


def _state_prior(valence: float, sevenths: bool) -> np.ndarray:
    prior = np.zeros(N_STATES)
    Q = len(STATE_QUALITIES)
    for state in range(N_STATES):
        quality = STATE_QUALITIES[state % Q]
        if not sevenths and quality not in TRIAD_QUALITIES:
            prior[state] = -np.inf
            continue
        if quality in ("maj", "7", "maj7"):
            prior[state] += COLOUR_PER_VALENCE * valence
        elif quality in ("m", "m7", "dim", "m7b5", "dim7"):
            prior[state] -= COLOUR_PER_VALENCE * valence
    return prior


def _transition_matrix(model: ChordModel, minor: bool, span_beats: int) -> np.ndarray:
    """log P(next span's chord | this span's chord): hold with the learned probability, else move."""
    mode = int(minor)
    k = min(range(len(SPAN_BEATS)), key=lambda i: abs(SPAN_BEATS[i] - span_beats))
    stay = float(np.clip(model.stay[mode, k], 0.02, 0.98))
    with np.errstate(divide="ignore"):
        trans = model.transition[mode] + math.log(1 - stay)
    np.fill_diagonal(trans, math.log(stay))
    return trans


def _viterbi(start: np.ndarray, trans: np.ndarray, scores: np.ndarray, end: np.ndarray) -> tuple[list[int], float]:
    n = len(scores)
    delta = start + scores[0]
    back = np.zeros((n, N_STATES), dtype=np.int64)
    for i in range(1, n):
        cand = delta[:, None] + trans
        back[i] = np.argmax(cand, axis=0)
        delta = cand[back[i], np.arange(N_STATES)] + scores[i]
    delta = delta + end
    path = [int(np.argmax(delta))]
    best = float(delta[path[0]])
    for i in range(n - 1, 0, -1):
        path.append(int(back[i][path[-1]]))
    return path[::-1], best


def _logsumexp(a: np.ndarray, axis=None) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else out.item()


def _sample_path(start, trans, scores, end, rng: np.random.Generator, temperature: float) -> tuple[list[int], float]:
    """Forward filtering, backward sampling at ``temperature`` (1 = the model's posterior)."""
    n = len(scores)
    t = 1.0 / temperature
    alphas = [t * (start + scores[0])]
    for i in range(1, n):
        alphas.append(_logsumexp(alphas[-1][:, None] + t * trans, axis=0) + t * scores[i])
    last = alphas[-1] + t * end
    probs = np.exp(last - _logsumexp(last))
    path = [int(rng.choice(N_STATES, p=probs / probs.sum()))]
    for i in range(n - 2, -1, -1):
        w = alphas[i] + t * trans[:, path[-1]]
        p = np.exp(w - _logsumexp(w))
        path.append(int(rng.choice(N_STATES, p=p / p.sum())))
    path = path[::-1]
    score = start[path[0]] + scores[0][path[0]] + end[path[-1]]
    score += sum(trans[a, b] + scores[i + 1][b] for i, (a, b) in enumerate(zip(path, path[1:])))
    return path, float(score)


def _metric(time_signatures, start_tick: int, end_tick: int, span_beats: int | None, arousal: float):
    """Span bounds, strong-beat ticks and the span length in beats over ``start..end``."""
    from composer_app.arrange.accompany import _grid

    bounds, strong = [], set()
    chosen = span_beats
    for bar_start, per_beat, beats in _grid(time_signatures, start_tick, end_tick):
        span = chosen or harmonic_rhythm_beats(arousal, beats)
        span = max(1, min(span, beats))
        for b in range(0, beats, span):
            bounds.append(bar_start + b * per_beat)
        strong.add(bar_start)
        if beats >= 4 and beats % 2 == 0:
            strong.add(bar_start + beats // 2 * per_beat)
        chosen_beats = span
    bounds = [b for b in bounds if start_tick <= b < end_tick]
    if not bounds or bounds[0] != start_tick:
        bounds.insert(0, start_tick)
    bounds.append(end_tick)
    return bounds, {t for t in strong if start_tick <= t < end_tick}, chosen_beats


def suggest_chords(
    project,
    *,
    notes: Sequence[Note] | None = None,
    start_tick: int | None = None,
    end_tick: int | None = None,
    valence: float = 0.0,
    arousal: float = 0.0,
    alternatives: int = 4,
    span_beats: int | None = None,
    sevenths: bool = True,
    seed: int = 0,
    model: ChordModel | None = None,
    key: tuple[int, bool] | None = None,
) -> list[ChordSuggestion]:
    """Up to ``alternatives`` distinct progressions for the melody (best first).

    ``notes`` defaults to the highest line of the project's pitched notes; the span defaults to
    the notes' bars. The first suggestion is the most likely progression (Viterbi); the others are
    sampled from the model's posterior, distinct from those before, ordered by score. ``key``
    (tonic pitch class, minor?) defaults to the project's key when it is major or minor, else the
    key read from the melody (:func:`choose_key`).
    """
    from composer_app.core.chords import MAX_CHORD_EVENTS

    model = model or load_default_model()
    if notes is None:
        notes = melody_line([n for t in project.tracks if not t.is_drums for n in t.notes])
    notes = [n for n in notes if n.channel != 9]
    if not notes:
        return []
    tpq = project.ticks_per_quarter
    ts = project.time_signatures
    if start_tick is None:
        start_tick = ts.bar_to_tick(ts.tick_to_position(min(n.start_tick for n in notes)).bar)
    if end_tick is None:
        end_tick = ts.next_bar_tick(max(n.end_tick for n in notes))
    notes = [n for n in notes if n.start_tick < end_tick and n.end_tick > start_tick]
    if key is None and project.key is not None and project.key.mode in ("major", "minor"):
        key = (project.key.tonic_pc, project.key.mode == "minor")
    tonic, minor = key if key is not None else choose_key(notes, valence)
    bounds, strong, beats = _metric(ts, start_tick, end_tick, span_beats, arousal)
    if len(bounds) - 1 > MAX_CHORD_EVENTS:
        raise ValueError("the selection is too long to harmonize in one request")
    mode = int(minor)
    start = model.initial[mode] * 0.5  # a selection often starts mid-phrase: a weak start prior
    end = model.final[mode] * 0.5
    trans = _transition_matrix(model, minor, beats)
    if model.has_classifier:
        evidence = _classifier_scores(model, notes, bounds, ts, tonic, minor)
        start, end, trans = (TRANSITION_WEIGHT * a for a in (start, end, trans))
    else:
        evidence = _span_scores(model, notes, bounds, strong, tpq, tonic, minor)
    scores = evidence + _state_prior(valence, sevenths)[None]
    results: list[ChordSuggestion] = []
    seen: set[tuple[int, ...]] = set()
    path, score = _viterbi(start, trans, scores, end)
    rng = np.random.default_rng(seed)
    candidates = [(path, score, "most likely")]
    tries = 0

    def shape(p) -> tuple[int, ...]:  # the chords in order, as the composer reads them (repeats merged)
        return tuple(x for i, x in enumerate(p) if i == 0 or x != p[i - 1])

    distinct = {shape(path)}
    while len(distinct) < alternatives and tries < alternatives * 12:
        # the posterior at temperature 1, warmer each round that brings nothing new (a confident
        # classifier often samples the best progression again)
        temperature = ALTERNATIVE_WARMING ** (tries // max(1, alternatives))
        tries += 1
        p, s = _sample_path(start, trans, scores, end, rng, temperature=temperature)
        if shape(p) not in distinct:
            distinct.add(shape(p))
            candidates.append((p, s, "alternative"))
    for p, s, label in candidates:
        key = tuple(p)
        if key in seen:
            continue
        seen.add(key)
        events = []
        for i, state in enumerate(p):
            chord = state_chord(state, tonic)
            s_tick, e_tick = bounds[i], bounds[i + 1]
            if events and events[-1].chord == chord and events[-1].end_tick == s_tick:
                events[-1] = events[-1].with_span(events[-1].start_tick, e_tick - events[-1].start_tick)
            else:
                events.append(ChordEvent(chord, s_tick, e_tick - s_tick))
        results.append(ChordSuggestion(ChordTrack(tuple(events)), tonic, minor, label, s, bounds[1] - bounds[0]))
        if len(results) >= alternatives:
            break
    first, rest = results[:1], sorted(results[1:], key=lambda r: -r.log_score)
    return first + rest


def melody_line(notes: Sequence[Note]) -> list[Note]:
    """The highest sounding line of ``notes`` (a note is kept unless a higher one starts with it)."""
    by_start: dict[int, Note] = {}
    for n in notes:
        if n.channel == 9:
            continue
        current = by_start.get(n.start_tick)
        if current is None or n.pitch > current.pitch:
            by_start[n.start_tick] = n
    line = sorted(by_start.values(), key=lambda n: n.start_tick)
    out = []
    for n in line:
        if out and out[-1].end_tick > n.start_tick:
            if out[-1].pitch >= n.pitch and out[-1].end_tick >= n.end_tick:
                continue  # hidden under a held higher note
        out.append(n)
    return out


# ----------------------------------------------------------------------------------------------
# Measures


def chord_tone_rate(notes: Sequence[Note], chords: ChordTrack, time_signatures) -> tuple[float, int]:
    """(share, count) of melody notes sounding on strong beats whose pitch class is in the chord there.

    Strong beats: every bar's downbeat and, in bars of 4 (6, 8 …) beats, the middle beat.
    """
    from composer_app.arrange.accompany import _grid

    if not notes:
        return 0.0, 0
    start = min(n.start_tick for n in notes)
    end = max(n.end_tick for n in notes)
    hits = total = 0
    ordered = sorted(notes, key=lambda n: n.start_tick)
    for bar_start, per_beat, beats in _grid(time_signatures, start, end):
        ticks = [bar_start] + ([bar_start + beats // 2 * per_beat] if beats >= 4 and beats % 2 == 0 else [])
        for tick in ticks:
            sounding = [n for n in ordered if n.start_tick <= tick < n.end_tick]
            event = chords.at(tick)
            if not sounding or event is None:
                continue
            note = max(sounding, key=lambda n: n.pitch)
            total += 1
            hits += int(note.pitch % 12 in event.chord.pitch_classes)
    return (hits / total if total else 0.0), total
