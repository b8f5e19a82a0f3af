"""Musical attributes of a note list: the measurable targets that moods map to.

The same function, :func:`compute_attributes`, measures training windows, generated candidates and
the user's clip, so that "the arousal slider raises note density" means one number everywhere. It
is Qt-free and vectorised with numpy (see ``bench`` / the report for timings).

Span and notes considered
    ``start_tick``/``end_tick`` give the half-open span ``[start, end)``. Only notes whose onset lies
    in the span count (a note sounding in from before ``start`` does not). Defaults, without a time
    signature: ``start = floor(first onset / tpq) * tpq`` (the first onset's beat) and
    ``end = ceil(last note end / tpq) * tpq`` (the beat at or after the last end), where
    ``tpq = ticks_per_quarter``; so the default span is a whole number of quarter-note beats, at
    least one. (With only ``end_tick`` given and every onset at or after it, the result is
    ``EMPTY_ATTRIBUTES``.) With an explicit span empty beats and bars count, so measure a bar
    window as ``start_tick=bar_start, end_tick=bar_end``. Drum-channel notes (channel 9)
    count for the timing and dynamics attributes but are unpitched: ``pitch_*``,
    ``major_strength`` and ``consonance`` skip them, and ``articulation`` skips them too (drum
    durations are arbitrary).

Formulas (N = notes in the span, P = the pitched ones, ``beats = (end - start) / tpq``)
    note_density       = |N| / beats                 onsets per quarter-note beat; a chord of 3
                                                     notes is 3 onsets.
    rhythmic_activity  = occupied / slots            slots = ceil((end - start) / (tpq / 4)), the
                                                     16th-note cells ``[start + i*tpq/4, …)``;
                                                     occupied = cells holding ≥ 1 onset. 0..1.
    pitch_mean         = mean(pitch over P)          unweighted, MIDI numbers (60 = middle C).
    pitch_min/max      = min/max(pitch over P).
    velocity_mean      = mean(velocity over N)       1..127.
    articulation       = mean over P of min(1, duration / ioi)
                         ioi = (next onset strictly after the note's onset on the same channel,
                         within the span) − onset; for the last onset(s) of a channel the next
                         onset is ``end``. A chord's notes all look to the next chord, and
                         parallel voices on one channel count as one stream (so polyphony reads
                         as more legato). 1 = legato, ~0.5 = detached, ≤ 0.3 = staccato.
    major_strength     = clip(max_t r(h, major_t) − max_t r(h, minor_t), −1, 1)
                         h = pitch-class histogram of P weighted by each note's duration
                         within the span (its end clipped to ``end``), r = Pearson
                         correlation with the Krumhansl–Kessler profile rotated to tonic t
                         (see ``theory.key_correlations``). > 0 reads major, < 0 minor; a flat
                         or empty histogram gives 0. Real music uses a narrow part of −1..1:
                         on 400 Bach chorales (music21 corpus) whole major pieces gave a median
                         of +0.24 (10–90 %: +0.14…+0.32), minor ones −0.16 (−0.25…−0.01), and
                         4-bar windows −0.23…+0.36 (5–95 %); the sign matched the mode implied
                         by key signature and final bass note in 99 % (major) and 91 % (minor)
                         of pieces. Map mood targets onto that range, not onto raw −1..1.
    consonance         = Σ w·c / Σ w over all pairs of notes in P that sound together,
                         w = overlap in ticks (ends clipped to ``end``), c = 1 if the interval
                         class |p1 − p2| mod 12 is in {0, 3, 4, 5, 7, 8, 9} (unison/octave,
                         minor/major third, perfect fourth/fifth, minor/major sixth), else 0
                         (seconds, sevenths, tritone). The fourth counts as consonant: between
                         any two voices (not only against the bass) it is the inversion of the
                         fifth and ranks next to it in sensory consonance (Malmberg 1918,
                         Psychological Monographs 25; Plomp & Levelt 1965, JASA 38; Huron 1994,
                         "Interval-class content of equally tempered pitch-class sets",
                         Music Perception 11(3)). Counterpoint's rule that a fourth above the
                         bass is dissonant (Fux 1725) is about voice leading, not sound, and would
                         make every close-position triad with a doubled root less consonant.
                         With no sounding pairs (monophony, or no pitched notes) consonance is 1.0.

Empty span (no notes): ``EMPTY_ATTRIBUTES``: every attribute 0.0 except consonance 1.0 (no
dissonant pair sounds); ``major_strength`` 0.0 is neutral. Pitched attributes of a span with only
drum notes take the same values (pitch 0.0, articulation 0.0, major_strength 0.0, consonance 1.0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from composer_app.core.note import Note
from composer_app.core.theory import DRUM_CHANNEL, key_correlations
from composer_app.core.validate import check_int

ATTRIBUTE_NAMES = (
    "note_density",
    "rhythmic_activity",
    "pitch_mean",
    "pitch_min",
    "pitch_max",
    "velocity_mean",
    "articulation",
    "major_strength",
    "consonance",
)

# Interval classes (semitones mod 12) counted as consonant: unison/octave, m3, M3, P4, P5, m6, M6.
CONSONANT_INTERVAL_CLASSES = frozenset({0, 3, 4, 5, 7, 8, 9})
_CONSONANT_TABLE = np.array([ic in CONSONANT_INTERVAL_CLASSES for ic in range(12)])

SIXTEENTHS_PER_QUARTER = 4  # rhythmic_activity's cells are 16th notes


@dataclass(frozen=True, slots=True)
class Attributes:
    """One value per name in ``ATTRIBUTE_NAMES``; the formulas are in the module docstring."""

    note_density: float
    rhythmic_activity: float
    pitch_mean: float
    pitch_min: float
    pitch_max: float
    velocity_mean: float
    articulation: float
    major_strength: float
    consonance: float

    def as_dict(self) -> dict[str, float]:
        """The attributes by name, in ``ATTRIBUTE_NAMES`` order."""
        return {name: getattr(self, name) for name in ATTRIBUTE_NAMES}

    def as_array(self) -> np.ndarray:
        """The attributes as a float64 array in ``ATTRIBUTE_NAMES`` order."""
        return np.array([getattr(self, name) for name in ATTRIBUTE_NAMES], dtype=np.float64)


EMPTY_ATTRIBUTES = Attributes(
    note_density=0.0,
    rhythmic_activity=0.0,
    pitch_mean=0.0,
    pitch_min=0.0,
    pitch_max=0.0,
    velocity_mean=0.0,
    articulation=0.0,
    major_strength=0.0,
    consonance=1.0,
)


def compute_attributes(
    notes: Iterable[Note],
    ticks_per_quarter: int,
    *,
    start_tick: int | None = None,
    end_tick: int | None = None,
) -> Attributes:
    """Measure the attributes of the notes whose onsets lie in ``[start_tick, end_tick)``.

    Spans, defaults and formulas are in the module docstring. Never raises for an empty list.
    """
    check_int("ticks_per_quarter", ticks_per_quarter, 1)
    rows = []
    for note in notes:
        if not isinstance(note, Note):
            raise TypeError("notes must be Note values")
        rows.append((note.start_tick, note.duration_ticks, note.pitch, note.velocity, note.channel))
    table = np.array(rows, dtype=np.int64).reshape(-1, 5).T
    return compute_attributes_from_arrays(
        *table, ticks_per_quarter, start_tick=start_tick, end_tick=end_tick
    )


def compute_attributes_from_arrays(
    starts: np.ndarray,
    durations: np.ndarray,
    pitches: np.ndarray,
    velocities: np.ndarray,
    channels: np.ndarray | None,
    ticks_per_quarter: int,
    *,
    start_tick: int | None = None,
    end_tick: int | None = None,
) -> Attributes:
    """:func:`compute_attributes` on parallel integer arrays (one entry per note), for data pipelines.

    ``channels=None`` means every note is on channel 0. The arrays are not validated beyond their
    lengths: pass what ``Note`` would accept (durations ≥ 1).
    """
    check_int("ticks_per_quarter", ticks_per_quarter, 1)
    if start_tick is not None:
        check_int("start_tick", start_tick, 0)
    if end_tick is not None:
        check_int("end_tick", end_tick, 1)
    starts = np.asarray(starts, dtype=np.int64)
    durations = np.asarray(durations, dtype=np.int64)
    pitches = np.asarray(pitches, dtype=np.int64)
    velocities = np.asarray(velocities, dtype=np.int64)
    channels = np.zeros_like(starts) if channels is None else np.asarray(channels, dtype=np.int64)
    if not (len(starts) == len(durations) == len(pitches) == len(velocities) == len(channels)):
        raise ValueError("note arrays must have equal lengths")
    tpq = ticks_per_quarter

    if start_tick is None:
        start_tick = int(starts.min()) // tpq * tpq if len(starts) else 0
        if end_tick is not None and start_tick >= end_tick:
            return EMPTY_ATTRIBUTES  # every onset lies at or after the given end
    elif end_tick is not None and end_tick <= start_tick:
        raise ValueError("end_tick must be > start_tick")
    if end_tick is None:
        last_end = int((starts + durations).max()) if len(starts) else start_tick + tpq
        end_tick = max(-(-last_end // tpq) * tpq, start_tick + tpq)

    inside = (starts >= start_tick) & (starts < end_tick)
    if not inside.all():
        starts, durations, pitches = starts[inside], durations[inside], pitches[inside]
        velocities, channels = velocities[inside], channels[inside]
    count = len(starts)
    if count == 0:
        return EMPTY_ATTRIBUTES
    if count > 1 and (starts[1:] < starts[:-1]).any():  # sort by onset (stable) unless already sorted
        order = np.argsort(starts, kind="stable")
        starts, durations, pitches = starts[order], durations[order], pitches[order]
        velocities, channels = velocities[order], channels[order]

    span = end_tick - start_tick
    note_density = count * tpq / span

    slot = tpq / SIXTEENTHS_PER_QUARTER
    slots = math.ceil(span / slot)
    cells = ((starts - start_tick) / slot).astype(np.int64)  # floor: the values are >= 0
    rhythmic_activity = (1 + int(np.count_nonzero(cells[1:] != cells[:-1]))) / slots  # cells are sorted

    velocity_mean = float(velocities.sum()) / count

    pitched = channels != DRUM_CHANNEL
    if not pitched.all():
        starts, durations, pitches, channels = starts[pitched], durations[pitched], pitches[pitched], channels[pitched]
    count = len(starts)
    if count == 0:
        return Attributes(
            note_density=float(note_density),
            rhythmic_activity=float(rhythmic_activity),
            pitch_mean=0.0,
            pitch_min=0.0,
            pitch_max=0.0,
            velocity_mean=velocity_mean,
            articulation=0.0,
            major_strength=0.0,
            consonance=1.0,
        )

    return Attributes(
        note_density=float(note_density),
        rhythmic_activity=float(rhythmic_activity),
        pitch_mean=float(pitches.sum()) / count,
        pitch_min=float(pitches.min()),
        pitch_max=float(pitches.max()),
        velocity_mean=velocity_mean,
        articulation=_articulation(starts, durations, channels, end_tick),
        major_strength=_major_strength(pitches, np.minimum(durations, end_tick - starts)),
        consonance=_consonance(starts, durations, pitches, end_tick),
    )


def _articulation(starts: np.ndarray, durations: np.ndarray, channels: np.ndarray, end_tick: int) -> float:
    """Mean of min(1, duration / inter-onset interval to the next later onset on the same channel).

    ``starts`` must be sorted.
    """
    # One sortable key per (channel, onset): channel in the high bits, onset below.
    stride = end_tick + 1
    keys = channels * stride + starts
    several_channels = bool(channels.max() != channels.min())
    keys_sorted = np.sort(keys) if several_channels else keys  # one channel: already sorted by onset
    distinct = keys_sorted[np.concatenate(([True], keys_sorted[1:] != keys_sorted[:-1]))]
    nxt = np.searchsorted(distinct, keys, side="right")
    next_keys = distinct[np.minimum(nxt, len(distinct) - 1)]
    same_channel = nxt < len(distinct)
    if several_channels:
        same_channel &= next_keys // stride == channels
    ioi = np.where(same_channel, next_keys - keys, end_tick - starts)  # >= 1: onsets lie before end_tick
    return float(np.minimum(1.0, durations / ioi).sum()) / len(starts)


def _major_strength(pitches: np.ndarray, durations: np.ndarray) -> float:
    """Best major-key correlation minus best minor-key correlation, clipped to −1..1."""
    hist = np.bincount(pitches % 12, weights=durations.astype(np.float64), minlength=12)
    corr = key_correlations(hist)
    return min(1.0, max(-1.0, float(corr[:12].max() - corr[12:].max())))


def _consonance(starts: np.ndarray, durations: np.ndarray, pitches: np.ndarray, end_tick: int) -> float:
    """Overlap-weighted share of consonant interval classes among simultaneously sounding pairs.

    ``starts`` must be sorted.
    """
    count = len(starts)
    if count < 2:
        return 1.0
    ends = np.minimum(starts + durations, end_tick)
    # Note j (> i in start order) overlaps note i iff start_j < end_i; those j form a run.
    first = np.arange(1, count)
    stop = np.searchsorted(starts, ends[:-1], side="left")
    counts = np.maximum(stop - first, 0)
    total = int(counts.sum())
    if total == 0:
        return 1.0
    i_idx = np.repeat(np.arange(count - 1), counts)
    # Pair k of run i has j = first[i] + (k - offset of run i in the concatenation).
    j_idx = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(total)
    overlap = (np.minimum(ends[i_idx], ends[j_idx]) - starts[j_idx]).astype(np.float64)  # > 0
    consonant = _CONSONANT_TABLE[np.abs(pitches[i_idx] - pitches[j_idx]) % 12]
    return float(overlap[consonant].sum() / overlap.sum())
