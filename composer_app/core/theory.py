"""Music theory: scales, modes and keys; key estimation; snap grids, quantize and transpose.

Everything here is Qt-free and works on plain :class:`~composer_app.core.note.Note` values
(any iterable of notes in, a tuple of new notes out, in the same order as given). Notes on the
General MIDI drum channel (channel 9) are unpitched: key estimation and pitch-class histograms
skip them and transposition leaves them where they are.

Key estimation (:func:`estimate_key`) is the Krumhansl–Schmuckler algorithm: correlate the
duration-weighted pitch-class histogram with the Krumhansl–Kessler probe-tone profiles rotated to
each of the 12 tonics, for major and minor, and take the best (Krumhansl 1990, *Cognitive
Foundations of Musical Pitch*, Oxford University Press; profiles from Krumhansl & Kessler 1982,
"Tracing the dynamic changes in perceived tonal organization in a spatial representation of
musical keys", *Psychological Review* 89(4):334–368).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable

import numpy as np

from composer_app.core.note import MIDI_PITCH_MAX, Note
from composer_app.core.track import DRUM_CHANNEL
from composer_app.core.validate import check_int, check_real

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Semitone steps above the tonic for each mode. "major" = ionian and "minor" = aeolian (natural minor).
MODE_INTERVALS: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "chromatic": tuple(range(12)),
}


@dataclass(frozen=True, slots=True)
class Key:
    """A tonic pitch class (0 = C … 11 = B) and a mode name from ``MODE_INTERVALS``."""

    tonic_pc: int
    mode: str = "major"

    def __post_init__(self) -> None:
        check_int("tonic_pc", self.tonic_pc, 0, 11)
        if not isinstance(self.mode, str):
            raise TypeError("mode must be a str")
        if self.mode not in MODE_INTERVALS:
            raise ValueError(f"mode must be one of {', '.join(MODE_INTERVALS)}")

    @property
    def pitch_classes(self) -> frozenset[int]:
        """The pitch classes of the key's scale."""
        return frozenset((self.tonic_pc + step) % 12 for step in MODE_INTERVALS[self.mode])

    def contains(self, pitch: int) -> bool:
        return pitch % 12 in self.pitch_classes

    @property
    def name(self) -> str:
        return f"{PITCH_CLASS_NAMES[self.tonic_pc]} {self.mode}"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, text: str) -> Key:
        """Parse "C major", "A minor", "F# dorian", "Bb" (major by default)."""
        parts = text.strip().split()
        if not parts or len(parts) > 2:
            raise ValueError(f"cannot read a key from {text!r}")
        tonic = parts[0][0].upper() + parts[0][1:].replace("♯", "#").replace("♭", "b")
        enharmonic = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E", "E#": "F", "B#": "C"}
        tonic = enharmonic.get(tonic, tonic)
        if tonic not in PITCH_CLASS_NAMES:
            raise ValueError(f"cannot read a key from {text!r}")
        return cls(PITCH_CLASS_NAMES.index(tonic), parts[1].lower() if len(parts) == 2 else "major")


# ---------------------------------------------------------------------------------------------
# Note-list helpers


def _as_notes(notes: Iterable[Note]) -> tuple[Note, ...]:
    """Return ``notes`` as a tuple, raising ``TypeError('notes must be Note values')`` otherwise."""
    result = tuple(notes)
    for note in result:
        if not isinstance(note, Note):
            raise TypeError("notes must be Note values")
    return result


# ---------------------------------------------------------------------------------------------
# Key estimation (Krumhansl–Schmuckler with the Krumhansl–Kessler profiles)

# Probe-tone ratings of the 12 pitch classes above the tonic (Krumhansl & Kessler 1982, as
# tabulated in Krumhansl 1990). Index 0 = tonic, 4 / 3 = major / minor third, 7 = fifth.
KRUMHANSL_KESSLER_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KRUMHANSL_KESSLER_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)

# The 24 candidate keys, in the order of ``KeyEstimate.correlations``: C major … B major, then
# C minor … B minor ("minor" = natural minor in ``MODE_INTERVALS``).
KEY_CANDIDATES: tuple[Key, ...] = tuple(Key(t, "major") for t in range(12)) + tuple(
    Key(t, "minor") for t in range(12)
)


def _standardized_profile_matrix() -> np.ndarray:
    """24 × 12 matrix: row k is candidate key k's profile over absolute pitch classes, z-scored."""
    rows = []
    for profile in (KRUMHANSL_KESSLER_MAJOR, KRUMHANSL_KESSLER_MINOR):
        base = np.asarray(profile, dtype=np.float64)
        for tonic in range(12):
            rows.append(np.roll(base, tonic))  # rows[t][pc] = rating of pc relative to tonic t
    matrix = np.vstack(rows)
    matrix -= matrix.mean(axis=1, keepdims=True)
    matrix /= matrix.std(axis=1, keepdims=True)
    return matrix


_PROFILES_Z = _standardized_profile_matrix()
_PROFILES_Z.setflags(write=False)


def key_correlations(histogram: np.ndarray) -> np.ndarray:
    """Pearson correlation of a 12-bin pitch-class histogram with each of the 24 key profiles.

    Returns a float64 array of 24 values ordered like ``KEY_CANDIDATES``. A flat histogram
    (all bins equal, including all zero) has no defined correlation: the result is all zeros.
    """
    hist = np.asarray(histogram, dtype=np.float64)
    if hist.shape != (12,):
        raise ValueError("histogram must have 12 bins")
    centred = hist - hist.sum() / 12.0
    spread = float(centred @ centred)  # 12 × the population variance
    if not spread > 1e-12 * float(hist @ hist):
        return np.zeros(24)
    # r_k = mean(z_profile_k · z_hist) = (z_profile_k · centred) / (12 · std) = … / sqrt(12 · spread)
    return _PROFILES_Z @ centred / math.sqrt(12.0 * spread)


def pitch_class_histogram(notes: Iterable[Note], weight: str = "duration") -> np.ndarray:
    """Total duration in ticks (``weight="duration"``) or number of notes (``"count"``) per pitch class.

    Returns a float64 array of 12 values, index 0 = C. Drum-channel notes are skipped.
    """
    if weight not in ("duration", "count"):
        raise ValueError('weight must be "duration" or "count"')
    notes = _as_notes(notes)
    hist = np.zeros(12)
    pitched = [n for n in notes if n.channel != DRUM_CHANNEL]
    if not pitched:
        return hist
    pcs = np.fromiter((n.pitch % 12 for n in pitched), dtype=np.int64, count=len(pitched))
    if weight == "duration":
        weights = np.fromiter((n.duration_ticks for n in pitched), dtype=np.float64, count=len(pitched))
    else:
        weights = np.ones(len(pitched))
    return np.bincount(pcs, weights=weights, minlength=12).astype(np.float64)


@dataclass(frozen=True, slots=True)
class KeyEstimate:
    """The best-matching key, its correlation (−1..1) and all 24 correlations.

    ``correlations[i]`` belongs to ``KEY_CANDIDATES[i]`` (C major … B major, C minor … B minor).
    """

    key: Key
    correlation: float
    correlations: tuple[float, ...]

    def correlation_of(self, key: Key) -> float:
        """The correlation of one of the 24 candidate keys (``ValueError`` for other modes)."""
        if key.mode not in ("major", "minor"):
            raise ValueError("key must be a major or minor key")
        return self.correlations[key.tonic_pc + (12 if key.mode == "minor" else 0)]

    def ranked(self) -> tuple[tuple[Key, float], ...]:
        """All 24 keys with their correlations, best first (ties keep ``KEY_CANDIDATES`` order)."""
        order = sorted(range(24), key=lambda i: -self.correlations[i])
        return tuple((KEY_CANDIDATES[i], self.correlations[i]) for i in order)


def estimate_key(notes: Iterable[Note]) -> KeyEstimate | None:
    """Krumhansl–Schmuckler key estimate from the duration-weighted pitch-class histogram.

    Returns ``None`` when there are no pitched notes. Ties (e.g. a perfectly flat histogram, where
    every correlation is 0) go to the first key in ``KEY_CANDIDATES`` order.
    """
    hist = pitch_class_histogram(notes, "duration")
    if not hist.any():
        return None
    corr = key_correlations(hist)
    best = int(np.argmax(corr))
    return KeyEstimate(KEY_CANDIDATES[best], float(corr[best]), tuple(float(c) for c in corr))



# ---------------------------------------------------------------------------------------------
# Key signatures and modal keys (folk tunes are often dorian or mixolydian, not major or minor)

# The modes a tune is read in, by the degree of the key signature's major scale its tonic sits on.
# Lydian and locrian are left out: rare in the corpus, and a wrong guess of either is costly.
MODE_OF_DEGREE: dict[int, str] = {0: "major", 2: "dorian", 4: "phrygian", 7: "mixolydian", 9: "minor"}
# A tonal hierarchy for any diatonic mode (in the spirit of Krumhansl & Kessler's probe-tone
# ratings, which rank tonic > fifth > third > other scale degrees > chromatic notes).
MODAL_RATING_TONIC, MODAL_RATING_FIFTH, MODAL_RATING_THIRD = 6.35, 5.2, 4.4
MODAL_RATING_SCALE, MODAL_RATING_CHROMATIC = 3.6, 2.4


def key_signature_pitch_classes(fifths: int) -> frozenset[int]:
    """The 7 pitch classes a key signature of ``fifths`` sharps (> 0) or flats (< 0) leaves natural."""
    check_int("fifths", fifths, -7, 7)
    do = (7 * fifths) % 12
    return frozenset((do + step) % 12 for step in MODE_INTERVALS["major"])


def key_signature_of(key: Key) -> int:
    """The key signature (sharps > 0, flats < 0, in -6..5) that notates a diatonic ``key``.

    ``ValueError`` for keys that are not one of the seven diatonic modes (harmonic minor, chromatic).
    """
    offsets = {"major": 0, "ionian": 0, "dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7, "minor": 9, "aeolian": 9, "locrian": 11}
    if key.mode not in offsets:
        raise ValueError(f"{key.mode} has no key signature")
    do = (key.tonic_pc - offsets[key.mode]) % 12
    fifths = (7 * do) % 12  # do = 7 * fifths (mod 12), and 7 is its own inverse mod 12
    return fifths - 12 if fifths > 5 else fifths


def _modal_profile(mode: str) -> np.ndarray:
    steps = MODE_INTERVALS[mode]
    profile = np.full(12, MODAL_RATING_CHROMATIC)
    profile[list(steps)] = MODAL_RATING_SCALE
    profile[3 if 3 in steps else 4] = MODAL_RATING_THIRD
    profile[7 if 7 in steps else 6] = MODAL_RATING_FIFTH
    profile[0] = MODAL_RATING_TONIC
    return profile


def estimate_modal_key(histogram, key_signature: int | None = None) -> Key | None:
    """The tonic and mode (major, dorian, phrygian, mixolydian, minor) of a pitch-class histogram.

    Two steps. The diatonic collection: the one ``key_signature`` notates when the file has one,
    otherwise the one holding most of the histogram (ties: the better Krumhansl-Kessler major or
    minor correlation). The tonic: whichever of the collection's mode tonics correlates best with
    a tonal hierarchy (tonic > fifth > third > scale > chromatic) on the histogram. ``None`` for an
    empty histogram. Modes stay modes: A dorian is A dorian, not A minor or G major.
    """
    hist = np.asarray(histogram, dtype=np.float64)
    if hist.shape != (12,):
        raise ValueError("histogram must have 12 bins")
    if not hist.any():
        return None
    if key_signature is None:
        corr = key_correlations(hist)
        best, best_score = 0, (-1.0, -2.0)
        for fifths in range(-6, 6):
            inside = hist[sorted(key_signature_pitch_classes(fifths))].sum() / hist.sum()
            do = (7 * fifths) % 12
            score = (round(inside, 9), max(corr[do], corr[12 + (do + 9) % 12]))
            if score > best_score:
                best, best_score = fifths, score
        key_signature = best
    do = (7 * key_signature) % 12
    best_key, best_r = None, -2.0
    for degree, mode in MODE_OF_DEGREE.items():
        tonic = (do + degree) % 12
        profile = np.roll(_modal_profile(mode), tonic)
        r = float(np.corrcoef(profile, hist)[0, 1]) if hist.std() > 0 else 0.0
        if r > best_r + 1e-12:
            best_key, best_r = Key(tonic, mode), r
    return best_key

# ---------------------------------------------------------------------------------------------
# Snap grids and quantize

# Snap grids as (label, length in quarter notes). "1/4" is a quarter note, "1/8T" an eighth-note
# triplet (three in the time of two eighths = 1/3 quarter), "1/1" a whole note (4 quarters).
GRID_CHOICES: tuple[tuple[str, Fraction], ...] = (
    ("1/1", Fraction(4)),
    ("1/2", Fraction(2)),
    ("1/2T", Fraction(4, 3)),
    ("1/4", Fraction(1)),
    ("1/4T", Fraction(2, 3)),
    ("1/8", Fraction(1, 2)),
    ("1/8T", Fraction(1, 3)),
    ("1/16", Fraction(1, 4)),
    ("1/16T", Fraction(1, 6)),
    ("1/32", Fraction(1, 8)),
    ("1/32T", Fraction(1, 12)),
    ("1/64", Fraction(1, 16)),
    ("1/64T", Fraction(1, 24)),
)
GRID_LABELS: tuple[str, ...] = tuple(label for label, _ in GRID_CHOICES)
_GRID_QUARTERS = dict(GRID_CHOICES)


def grid_ticks(label: str, ticks_per_quarter: int) -> int:
    """Length of the snap grid ``label`` ("1/4", "1/8T", "1/16", "1/64" …) in ticks.

    Exact when ``ticks_per_quarter`` is divisible by the grid's denominator (480 and 960 serve every
    grid); otherwise rounded to the nearest tick, and never below 1 tick.
    """
    check_int("ticks_per_quarter", ticks_per_quarter, 1)
    if label not in _GRID_QUARTERS:
        raise ValueError(f"grid must be one of {', '.join(GRID_LABELS)}")
    return max(1, math.floor(_GRID_QUARTERS[label] * ticks_per_quarter + Fraction(1, 2)))


def _nearest_grid_lines(ticks: np.ndarray, grid: int, delay: int, offset: int, after: np.ndarray | None = None) -> np.ndarray:
    """For each tick, the grid line nearest to it (ties to the earlier line); only lines > ``after``.

    Lines lie at ``offset + k * grid``, odd ``k`` delayed by ``delay`` ticks (``delay <= grid / 2``,
    so lines stay in order). The nearest line to ``t`` is one of ``k0 - 1 … k0 + 2`` with
    ``k0 = floor((t - offset) / grid)``; with ``after`` set to the start's line (itself at most
    ``k0_start + 1``) and ``t`` an end after the start, ``k0 + 2`` is always after it.
    """
    k = (ticks - offset) // grid
    k = k[:, None] + np.arange(-1, 3)
    lines = offset + k * grid + delay * (k % 2)
    distance = np.abs(lines - ticks[:, None])
    if after is not None:
        distance = np.where(lines > after[:, None], distance, np.iinfo(np.int64).max)
    return lines[np.arange(len(ticks)), np.argmin(distance, axis=1)]  # argmin: the first, earlier line


def quantize(
    notes: Iterable[Note],
    grid_ticks: int,
    *,
    strength: float = 1.0,
    swing: float = 0.0,
    quantize_ends: bool = False,
    offset_ticks: int = 0,
) -> tuple[Note, ...]:
    """Move note starts toward the nearest grid line; return new notes in the order given.

    Grid lines lie at ``offset_ticks + k * grid_ticks`` for every integer ``k``. With ``swing`` the
    off-beat lines (odd ``k``, counted from ``offset_ticks``) are delayed by
    ``round(swing * grid_ticks / 2)`` ticks, so a pair of grid cells is split
    ``(1 + swing/2) : (1 - swing/2)``: 0 = straight, 0.5 = light swing (5:3),
    2/3 = triplet feel (2:1, the off-beat on the third triplet), 1 = dotted feel (3:1).

    Each start ``s`` nearest to line ``L`` (ties to the earlier line) becomes
    ``s + round(strength * (L - s))``, rounded half up and clamped at tick 0: strength 1 snaps,
    0.5 goes half way, 0 changes nothing. Durations are kept, so ends move with the starts, unless
    ``quantize_ends``: then each end ``e`` likewise moves toward its nearest grid line after the
    start's line (so a short note keeps at least one grid cell at strength 1). A duration never
    falls below 1 tick. Drum notes are quantized like any other.
    """
    check_int("grid_ticks", grid_ticks, 1)
    strength = check_real("strength", strength, 0.0, 1.0)
    swing = check_real("swing", swing, 0.0, 1.0)
    if not isinstance(quantize_ends, bool):
        raise TypeError("quantize_ends must be a bool")
    check_int("offset_ticks", offset_ticks)
    notes = _as_notes(notes)
    if not notes:
        return notes
    delay = math.floor(swing * grid_ticks / 2 + 0.5)
    starts = np.fromiter((n.start_tick for n in notes), dtype=np.int64, count=len(notes))
    durations = np.fromiter((n.duration_ticks for n in notes), dtype=np.int64, count=len(notes))
    start_lines = _nearest_grid_lines(starts, grid_ticks, delay, offset_ticks)
    # round half up: floor(x + 0.5)
    new_starts = np.maximum(0, starts + np.floor(strength * (start_lines - starts) + 0.5).astype(np.int64))
    if quantize_ends:
        ends = starts + durations
        end_lines = _nearest_grid_lines(ends, grid_ticks, delay, offset_ticks, after=start_lines)
        new_ends = ends + np.floor(strength * (end_lines - ends) + 0.5).astype(np.int64)
        new_durations = np.maximum(1, new_ends - new_starts)
    else:
        new_durations = durations
    result = []
    for note, start, duration in zip(notes, new_starts.tolist(), new_durations.tolist()):
        if start != note.start_tick or duration != note.duration_ticks:
            note = Note(start, note.pitch, duration, note.velocity, note.channel)
        result.append(note)
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# Transpose and scales

_OUT_OF_RANGE = "transposed pitch out of range 0..127"


def transpose(notes: Iterable[Note], semitones: int) -> tuple[Note, ...]:
    """Move every pitched note by ``semitones``; drum-channel notes stay as they are.

    Raises ``ValueError('transposed pitch out of range 0..127')`` (changing nothing) if any note
    would leave the MIDI range.
    """
    check_int("semitones", semitones)
    notes = _as_notes(notes)
    if semitones == 0:
        return notes
    result = []
    for note in notes:
        if note.channel != DRUM_CHANNEL:
            pitch = note.pitch + semitones
            if not 0 <= pitch <= MIDI_PITCH_MAX:
                raise ValueError(_OUT_OF_RANGE)
            note = Note(note.start_tick, pitch, note.duration_ticks, note.velocity, note.channel)
        result.append(note)
    return tuple(result)


def _scale_degree(pitch: int, key: Key) -> tuple[int, int]:
    """(global scale degree, chromatic offset) of ``pitch`` relative to its nearest scale pitch.

    The global degree counts scale steps from the key's tonic in octave 0 (MIDI 0..11), so degree
    ``d`` is the pitch ``tonic + 12 * (d // n) + intervals[d % n]`` for a scale of ``n`` steps.
    A pitch outside the scale takes its nearest scale neighbour (ties: the one below) and keeps its
    distance from it as the offset.
    """
    intervals = MODE_INTERVALS[key.mode]
    n = len(intervals)
    octave, rel = divmod(pitch - key.tonic_pc, 12)
    index = max(i for i, step in enumerate(intervals) if step <= rel)
    offset = rel - intervals[index]
    if offset:
        upper = intervals[index + 1] if index + 1 < n else 12
        if upper - rel < offset:
            return octave * n + index + 1, rel - upper
    return octave * n + index, offset


def _degree_pitch(degree: int, key: Key) -> int:
    intervals = MODE_INTERVALS[key.mode]
    octave, index = divmod(degree, len(intervals))
    return key.tonic_pc + 12 * octave + intervals[index]


def transpose_in_scale(notes: Iterable[Note], steps: int, key: Key) -> tuple[Note, ...]:
    """Move every pitched note ``steps`` scale steps (diatonic transposition) within ``key``'s scale.

    A note in the scale moves to the scale pitch ``steps`` degrees away (C major, +2: E→G, B→D).
    A note outside the scale moves with its nearest scale neighbour (ties: the one below) and keeps
    its chromatic distance from it (C major, +1: C#→D#). Drum-channel notes stay as they are. Raises
    ``ValueError('transposed pitch out of range 0..127')`` if any note would leave the MIDI range.

    Moving up and back down restores every in-scale note; an out-of-scale note can land on a
    scale pitch (C major, +2: C#→F) and then moves back as that scale pitch.
    """
    check_int("steps", steps)
    if not isinstance(key, Key):
        raise TypeError("key must be a Key")
    notes = _as_notes(notes)
    result = []
    for note in notes:
        if note.channel != DRUM_CHANNEL and steps:
            degree, offset = _scale_degree(note.pitch, key)
            pitch = _degree_pitch(degree + steps, key) + offset
            if not 0 <= pitch <= MIDI_PITCH_MAX:
                raise ValueError(_OUT_OF_RANGE)
            note = Note(note.start_tick, pitch, note.duration_ticks, note.velocity, note.channel)
        result.append(note)
    return tuple(result)


def snap_to_scale(pitch: int, key: Key, direction: str = "nearest") -> int:
    """The scale pitch of ``key`` nearest to ``pitch`` ("nearest", ties go down), or the next one
    at or above ("up") or at or below ("down"). A pitch in the scale is returned unchanged.

    Raises ``ValueError('no scale pitch in range 0..127 in that direction')`` when "up" or "down"
    would leave the MIDI range; "nearest" then takes the neighbour on the other side.
    """
    check_int("pitch", pitch, 0, MIDI_PITCH_MAX)
    if not isinstance(key, Key):
        raise TypeError("key must be a Key")
    if direction not in ("nearest", "up", "down"):
        raise ValueError("direction must be one of nearest, up, down")
    pcs = key.pitch_classes
    if pitch % 12 in pcs:
        return pitch
    below = next((p for p in range(pitch - 1, -1, -1) if p % 12 in pcs), None)
    above = next((p for p in range(pitch + 1, MIDI_PITCH_MAX + 1) if p % 12 in pcs), None)
    if direction == "nearest":
        if below is None or (above is not None and above - pitch < pitch - below):
            return above  # type: ignore[return-value]  # a scale has a pitch within any 12 semitones
        return below
    found = above if direction == "up" else below
    if found is None:
        raise ValueError("no scale pitch in range 0..127 in that direction")
    return found


def scale_pitches(key: Key, low: int = 0, high: int = MIDI_PITCH_MAX) -> tuple[int, ...]:
    """The MIDI pitches of ``key``'s scale in ``low..high`` (inclusive), ascending."""
    if not isinstance(key, Key):
        raise TypeError("key must be a Key")
    check_int("low", low, 0, MIDI_PITCH_MAX)
    check_int("high", high, 0, MIDI_PITCH_MAX)
    if high < low:
        raise ValueError("high must be >= low")
    pcs = key.pitch_classes
    return tuple(p for p in range(low, high + 1) if p % 12 in pcs)
