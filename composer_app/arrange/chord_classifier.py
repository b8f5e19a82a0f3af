"""A per-beat chord classifier for the chord suggester: P(chord | the melody around the beat).

The hidden Markov model of :mod:`composer_app.arrange.suggest` scored a chord by the melody's pitch
classes alone (a generative emission), which lost to a lookup of the chord most often under the
beat's soprano degree. This classifier sees more of the melody, relative to the key:

- the pitch class sounding at the beat, the pitch classes over the beat (by duration), those at
  the beats before and after, and the one half a beat in;
- whether the beat's note was struck on it or is held from before (a suspension), its length;
- the melodic steps into and out of the beat (clipped to a fifth);
- the metric position (downbeat, the middle of a bar of 4, a weak beat) and the distance to the
  melody's first and last beats (cadences);
- every feature once more multiplied by "the key is minor", so each mode has its own weights.

It is a multinomial logistic regression (scikit-learn at training time only; inference is one
numpy matrix product). :func:`hybrid_scores` turns its posteriors into HMM emissions the usual
hybrid way, ``log P(chord | x) - PRIOR_WEIGHT × log P(chord)``, so the HMM's transitions,
starts and cadences still shape the progression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

INTERVAL_CLIP = 7  # melodic steps beyond a fifth count as a fifth
N_BASE_FEATURES = 12 * 5 + 2 + 2 * (2 * INTERVAL_CLIP + 1) + 3 + 4 + 1  # see :func:`beat_features`
N_FEATURES = 2 * N_BASE_FEATURES + 1  # each feature, the same times "minor", and "minor"


@dataclass(frozen=True)
class Beat:
    """One beat of the grid: its ticks, its place in the bar and the bar's beat count."""

    start: int
    end: int
    index_in_bar: int
    beats_in_bar: int


def _sounding(starts: np.ndarray, ends: np.ndarray, tick: int) -> int:
    """Index of the last note sounding at ``tick`` (-1 when none)."""
    hit = np.nonzero((starts <= tick) & (ends > tick))[0]
    return int(hit[-1]) if len(hit) else -1


def beat_features(pitches: Sequence[int], starts: Sequence[int], ends: Sequence[int], beats: Sequence[Beat],
                  tonic_pc: int, minor: bool) -> np.ndarray:
    """(len(beats), N_FEATURES) features of a melody line (notes sorted by start) on a beat grid."""
    pitches = np.asarray(pitches, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    n = len(beats)
    base = np.zeros((n, N_BASE_FEATURES))
    onset_note = []
    for b in beats:
        i = _sounding(starts, ends, b.start)
        if i < 0:  # a rest at the beat: the first note struck inside it stands for it
            inside = np.nonzero((starts > b.start) & (starts < b.end))[0]
            i = int(inside[0]) if len(inside) else -1
        onset_note.append(i)
    for k, b in enumerate(beats):
        col = 0
        i = onset_note[k]
        if i >= 0:
            base[k, col + (pitches[i] - tonic_pc) % 12] = 1.0
        col += 12
        length = max(1, b.end - b.start)
        over = np.nonzero((starts < b.end) & (ends > b.start))[0]
        for j in over:
            base[k, col + (pitches[j] - tonic_pc) % 12] += (min(b.end, ends[j]) - max(b.start, starts[j])) / length
        col += 12
        for other in (k - 1, k + 1):
            if 0 <= other < n and onset_note[other] >= 0:
                base[k, col + (pitches[onset_note[other]] - tonic_pc) % 12] = 1.0
            col += 12
        half = _sounding(starts, ends, b.start + length // 2)
        if half >= 0:
            base[k, col + (pitches[half] - tonic_pc) % 12] = 1.0
        col += 12
        if i >= 0:
            base[k, col] = float(starts[i] < b.start)  # held over the beat (tied, suspended)
            base[k, col + 1] = min(4.0, (ends[i] - max(starts[i], b.start)) / length) / 4.0
        col += 2
        for other, sign in ((k - 1, 1), (k + 1, -1)):
            j = onset_note[other] if 0 <= other < n else -1
            if i >= 0 and j >= 0:
                step = int(np.clip(sign * (pitches[i] - pitches[j]), -INTERVAL_CLIP, INTERVAL_CLIP))
                base[k, col + step + INTERVAL_CLIP] = 1.0
            col += 2 * INTERVAL_CLIP + 1
        strong = b.index_in_bar == 0
        middle = b.beats_in_bar >= 4 and b.beats_in_bar % 2 == 0 and b.index_in_bar == b.beats_in_bar // 2
        base[k, col + (0 if strong else 1 if middle else 2)] = 1.0
        col += 3
        from_end = n - 1 - k
        if from_end < 3:
            base[k, col + from_end] = 1.0
        if k == 0:
            base[k, col + 3] = 1.0
        col += 4
        base[k, col] = 1.0  # bias inside the block (the minor copy makes a mode bias)
        col += 1
        assert col == N_BASE_FEATURES
    m = float(minor)
    return np.concatenate([base, m * base, np.full((n, 1), m)], axis=1)


def log_posteriors(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """(beats, states) log P(state | features) of the logistic regression."""
    logits = x @ weight + bias
    logits -= logits.max(axis=1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def hybrid_scores(log_post: np.ndarray, log_prior: np.ndarray, prior_weight: float) -> np.ndarray:
    """Scaled likelihoods for the HMM: log P(s | x) - prior_weight × log P(s)."""
    return log_post - prior_weight * log_prior[None, :]


def fit(x: np.ndarray, y: np.ndarray, n_states: int, c: float = 1.0, max_iter: int = 400, seed: int = 0):
    """(weight (F, S), bias (S,)) of a multinomial logistic regression (scikit-learn, training only).

    States never seen in ``y`` get a bias of -30 (never chosen).
    """
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=max_iter, random_state=seed)
    clf.fit(x, y)
    weight = np.zeros((x.shape[1], n_states))
    bias = np.full(n_states, -30.0)
    weight[:, clf.classes_] = clf.coef_.T
    bias[clf.classes_] = clf.intercept_
    return weight, bias
