"""The token representation every generator shares: a small, exact REMI-like event encoding.

A piece is a sequence of bars. Each bar opens with a header, then its notes in time order::

    BAR  TS_<n>/<d>  KEY_<tonic><mode>  DENS_<bin>  REG_<bin>   (bar header: controls)
    POS_<p>  [VEL_<bin>]  PITCH_<m>  DUR_<d>   [VEL] PITCH DUR ...   (notes at grid position p)
    POS_<q> ...                                                         (q > p)

* Time is on a grid of ``GRID_TICKS_PER_QUARTER`` = 12 per quarter note (16th = 3, 8th triplet = 4,
  16th triplet = 2). ``POS`` counts grid steps from the bar line; a bar lasts as long as its time
  signature says (a 6/8 bar is 36 steps), so the encoding is normalised per beat, not per bar.
* Chords (polyphony): several PITCH DUR pairs after one POS, in ascending pitch order.
* ``VEL`` (one of ``VELOCITY_BINS`` bins) is written only when the velocity bin changes, so music
  without dynamics (the corpus) costs one token per piece.
* The bar header carries the *control tokens* the generators are conditioned on: the local key
  (tonic and mode, estimated on the bar and the next ones), the note density (onsets per quarter)
  and the register (mean pitch) of the bar. At generation time the engine writes the header from
  the mood's attribute targets instead, so every bar is steered.

``notes_to_tokens`` / ``tokens_to_notes`` are exact inverses for notes on the grid (durations from
``DURATIONS_GRID``, pitches in ``PITCH_MIN..PITCH_MAX``); other values are rounded to the nearest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

GRID_TICKS_PER_QUARTER = 12
MAX_BAR_GRID = 96  # longest bar: 8 quarters (4/2, 8/4)
PITCH_MIN, PITCH_MAX = 21, 108  # the 88 piano keys
VELOCITY_BINS = 8  # bin b covers velocities 16*b .. 16*b+15
DURATIONS_GRID = tuple(range(1, 25)) + (27, 30, 33, 36, 42, 48, 54, 60, 72, 84, 96, 120, 144, 192)
TIME_SIGNATURES = (
    tuple((n, 4) for n in range(1, 9)) + tuple((n, 8) for n in range(1, 13)) + tuple((n, 2) for n in range(1, 5))
)
# Note density (notes per quarter note, the core.attributes definition: a 3-note chord counts 3)
# -> bin: upper edges, about 1/3 octave apart so that the mood table's five arousal levels for one
# line (0.7, 1.0, 1.4, 2.0, 2.8) land in five different bins. Bin 0 = empty bar; four-part
# chorales sit in bins 9-13.
DENSITY_EDGES = (0.01, 0.5, 0.76, 1.01, 1.26, 1.51, 2.01, 2.51, 3.01, 4.01, 5.01, 6.51, 8.51)
# Register (mean MIDI pitch of the bar) -> bin: upper edges.
REGISTER_EDGES = (48, 54, 60, 64, 68, 72, 78)
KEY_PROFILE_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)  # Krumhansl-Kessler
KEY_PROFILE_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
KEY_WINDOW_BARS = 4  # the key of a bar is estimated on it and the next bars (it describes what comes)
PIECE_KEY_WEIGHT = 0.5  # weight of the whole piece's key correlation added to the local window's


def _build_vocabulary() -> tuple[list[str], dict[str, int]]:
    names = ["PAD", "BOS", "EOS", "BAR"]
    names += [f"TS_{n}/{d}" for n, d in TIME_SIGNATURES]
    names += [f"KEY_{tonic}{'m' if minor else 'M'}" for tonic in range(12) for minor in (0, 1)]
    names += [f"DENS_{i}" for i in range(len(DENSITY_EDGES) + 1)]
    names += [f"REG_{i}" for i in range(len(REGISTER_EDGES) + 1)]
    names += [f"POS_{i}" for i in range(MAX_BAR_GRID)]
    names += [f"VEL_{i}" for i in range(VELOCITY_BINS)]
    names += [f"PITCH_{p}" for p in range(PITCH_MIN, PITCH_MAX + 1)]
    names += [f"DUR_{d}" for d in DURATIONS_GRID]
    return names, {name: i for i, name in enumerate(names)}


TOKEN_NAMES, TOKEN_IDS = _build_vocabulary()
VOCAB_SIZE = len(TOKEN_NAMES)
PAD, BOS, EOS, BAR = 0, 1, 2, 3
TS_BASE = TOKEN_IDS[f"TS_{TIME_SIGNATURES[0][0]}/{TIME_SIGNATURES[0][1]}"]
KEY_BASE = TOKEN_IDS["KEY_0M"]  # KEY_BASE + 2 * tonic + (1 if minor)
DENS_BASE = TOKEN_IDS["DENS_0"]
N_DENSITY = len(DENSITY_EDGES) + 1
REG_BASE = TOKEN_IDS["REG_0"]
N_REGISTER = len(REGISTER_EDGES) + 1
POS_BASE = TOKEN_IDS["POS_0"]
VEL_BASE = TOKEN_IDS["VEL_0"]
PITCH_BASE = TOKEN_IDS[f"PITCH_{PITCH_MIN}"]
DUR_BASE = TOKEN_IDS[f"DUR_{DURATIONS_GRID[0]}"]
N_TS, N_KEY, N_POS, N_PITCH, N_DUR = len(TIME_SIGNATURES), 24, MAX_BAR_GRID, PITCH_MAX - PITCH_MIN + 1, len(DURATIONS_GRID)
assert DUR_BASE + N_DUR == VOCAB_SIZE

# Token classes, as (first id, count), for grammar masks.
CLASS_RANGES = {
    "TS": (TS_BASE, N_TS),
    "KEY": (KEY_BASE, N_KEY),
    "DENS": (DENS_BASE, N_DENSITY),
    "REG": (REG_BASE, N_REGISTER),
    "POS": (POS_BASE, N_POS),
    "VEL": (VEL_BASE, VELOCITY_BINS),
    "PITCH": (PITCH_BASE, N_PITCH),
    "DUR": (DUR_BASE, N_DUR),
}
_DUR_ARRAY = np.array(DURATIONS_GRID)


def token_class(token: int) -> str:
    """The class of a token id: PAD/BOS/EOS/BAR or a key of ``CLASS_RANGES``."""
    if token < TS_BASE:
        return TOKEN_NAMES[token]
    for name, (base, count) in CLASS_RANGES.items():
        if base <= token < base + count:
            return name
    raise ValueError(f"token id must be in range 0..{VOCAB_SIZE - 1}")


def describe(tokens: Sequence[int]) -> str:
    """Human-readable token names (for debugging and tests)."""
    return " ".join(TOKEN_NAMES[t] for t in tokens)


# ----------------------------------------------------------------------------------------------
# Bars and controls


@dataclass(frozen=True)
class BarControls:
    """The control tokens of one bar, as class-relative indices."""

    key: int  # 2 * tonic + (1 for minor), 0..23
    density: int  # 0..N_DENSITY-1
    register: int  # 0..N_REGISTER-1


def time_signature_index(numerator: int, denominator: int) -> int:
    """Index into ``TIME_SIGNATURES``; ValueError for a meter the encoding does not cover."""
    try:
        return TIME_SIGNATURES.index((int(numerator), int(denominator)))
    except ValueError:
        raise ValueError(f"unsupported time signature {numerator}/{denominator}") from None


def bar_grid_length(numerator: int, denominator: int) -> int:
    return numerator * 4 * GRID_TICKS_PER_QUARTER // denominator


def bar_lines(time_signatures: Sequence[tuple[int, int, int]], end_tick: int) -> list[tuple[int, int, int, int]]:
    """Bars covering ``0..end_tick`` (grid ticks): (start, length, numerator, denominator) each.

    ``time_signatures`` are (tick, numerator, denominator) in grid ticks, first at tick 0. A change
    that does not fall on a bar line starts a new bar there (the previous bar is cut short).
    """
    changes = sorted((int(t), int(n), int(d)) for t, n, d in time_signatures) or [(0, 4, 4)]
    if changes[0][0] != 0:
        changes.insert(0, (0, 4, 4))
    bars = []
    for i, (tick, n, d) in enumerate(changes):
        stop = changes[i + 1][0] if i + 1 < len(changes) else max(end_tick, tick + 1)
        length = bar_grid_length(n, d)
        if length <= 0 or length > MAX_BAR_GRID:
            raise ValueError(f"unsupported time signature {n}/{d}")
        start = tick
        while start < stop:
            bars.append((start, min(length, stop - start) if i + 1 < len(changes) else length, n, d))
            start += length
    return bars


def density_bin(onsets_per_quarter: float) -> int:
    return int(np.searchsorted(DENSITY_EDGES, onsets_per_quarter, side="left"))


def density_bin_center(index: int) -> float:
    """A representative density (onsets per quarter) of a bin."""
    edges = (0.0,) + DENSITY_EDGES + (DENSITY_EDGES[-1] + 1.0,)
    return 0.0 if index == 0 else (edges[index] + edges[index + 1]) / 2


def register_bin(mean_pitch: float) -> int:
    return int(np.searchsorted(REGISTER_EDGES, mean_pitch, side="right"))


def _profiles() -> np.ndarray:
    """(24, 12) z-scored key profiles, row 2*tonic+minor."""
    rows = []
    for tonic in range(12):
        for profile in (KEY_PROFILE_MAJOR, KEY_PROFILE_MINOR):
            rows.append(np.roll(np.array(profile), tonic))
    rows = np.array(rows)
    rows = rows - rows.mean(axis=1, keepdims=True)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


_KEY_PROFILES = _profiles()


def key_scores(pc_weights: np.ndarray) -> np.ndarray:
    """Correlation of pitch-class weight vectors (..., 12) with the 24 key profiles -> (..., 24)."""
    w = np.asarray(pc_weights, dtype=np.float64)
    w = w - w.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(w, axis=-1, keepdims=True)
    return (w / np.where(norm == 0, 1, norm)) @ _KEY_PROFILES.T


def estimate_key_index(notes: np.ndarray) -> int:
    """Key (2*tonic+minor) of grid notes (n, 3) by duration-weighted Krumhansl-Kessler profiles."""
    if len(notes) == 0:
        return 0
    hist = np.bincount(notes[:, 2] % 12, weights=np.minimum(notes[:, 1], 2 * GRID_TICKS_PER_QUARTER), minlength=12)
    return int(np.argmax(key_scores(hist)))


def compute_bar_controls(notes: np.ndarray, bars: Sequence[tuple[int, int, int, int]]) -> list[BarControls]:
    """Controls of every bar of grid notes (n, 3): local key, density bin, register bin.

    Density is notes per quarter note (``note_density``) and register the mean pitch, as in
    ``core.attributes``; the key of a bar is estimated on it and the next ``KEY_WINDOW_BARS - 1`` bars
    (falling back to the whole piece's key where those bars are too thin).
    """
    n_bars = len(bars)
    starts = np.array([b[0] for b in bars] + [bars[-1][0] + bars[-1][1]]) if bars else np.zeros(1, int)
    bar_of = np.searchsorted(starts, notes[:, 0], side="right") - 1 if len(notes) else np.zeros(0, int)
    hist = np.zeros((n_bars + 1, 12))
    if len(notes):
        np.add.at(hist, (np.clip(bar_of, 0, n_bars), notes[:, 2] % 12), np.minimum(notes[:, 1], 24))
    cumulative = np.vstack([np.zeros(12), np.cumsum(hist[:n_bars], axis=0)])
    piece_scores = key_scores(cumulative[-1])
    piece_key = int(np.argmax(piece_scores)) if len(notes) else 0
    piece_mean = float(notes[:, 2].mean()) if len(notes) else 60.0
    controls = []
    for i, (start, length, _, _) in enumerate(bars):
        window = cumulative[min(i + KEY_WINDOW_BARS, n_bars)] - cumulative[i]
        # Local evidence, steadied by the whole piece (short windows alone flicker between keys).
        key = int(np.argmax(key_scores(window) + PIECE_KEY_WEIGHT * piece_scores)) if np.count_nonzero(window) >= 3 else piece_key
        in_bar = notes[bar_of == i] if len(notes) else notes
        density = len(in_bar) / (length / GRID_TICKS_PER_QUARTER)
        mean_pitch = float(in_bar[:, 2].mean()) if len(in_bar) else piece_mean
        controls.append(BarControls(key, density_bin(density), register_bin(mean_pitch)))
    return controls


# ----------------------------------------------------------------------------------------------
# Notes <-> tokens


def to_grid(notes: np.ndarray, ticks_per_quarter: int) -> np.ndarray:
    """(n, 3) start, duration, pitch at any resolution -> on the tokenizer grid (rounded)."""
    notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    if ticks_per_quarter == GRID_TICKS_PER_QUARTER:
        return notes.copy()
    out = notes.copy()
    scale = GRID_TICKS_PER_QUARTER / ticks_per_quarter
    out[:, 0] = np.floor(notes[:, 0] * scale + 0.5)
    out[:, 1] = np.maximum(1, np.floor(notes[:, 1] * scale + 0.5))
    return out


def duration_index(duration_grid: int) -> int:
    return int(np.argmin(np.abs(_DUR_ARRAY - duration_grid)))


def velocity_bin(velocity: int) -> int:
    return min(VELOCITY_BINS - 1, max(0, int(velocity) // 16))


def velocity_from_bin(index: int) -> int:
    return min(127, max(1, index * 16 + 8))


def notes_to_tokens(
    notes: np.ndarray,
    time_signatures: Sequence[tuple[int, int, int]] = ((0, 4, 4),),
    *,
    velocities: Sequence[int] | None = None,
    controls: Sequence[BarControls] | None = None,
    n_bars: int | None = None,
    bos: bool = True,
    eos: bool = True,
) -> tuple[list[int], list[int]]:
    """Grid notes (n, 3: start, duration, pitch) -> (tokens, index of each BAR token).

    ``time_signatures``: (tick, numerator, denominator) in grid ticks. ``controls``: one per bar
    (computed from the notes when None). ``n_bars``: encode at least this many bars (trailing
    empty bars). Notes outside the pitch range are dropped; pitches at one position are sorted;
    a unison (one pitch twice at one onset) keeps the longer note.
    """
    notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    keep = (notes[:, 2] >= PITCH_MIN) & (notes[:, 2] <= PITCH_MAX)
    vel = None if velocities is None else np.asarray(velocities, dtype=np.int64)[keep]
    notes = notes[keep]
    order = np.lexsort((-notes[:, 1], notes[:, 2], notes[:, 0]))  # by start, pitch, longest first
    notes = notes[order]
    if vel is not None:
        vel = vel[order]
    # Two voices on one pitch at one onset (a unison) become one note, the longer one.
    unique = np.ones(len(notes), dtype=bool)
    unique[1:] = (notes[1:, 0] != notes[:-1, 0]) | (notes[1:, 2] != notes[:-1, 2])
    notes = notes[unique]
    if vel is not None:
        vel = vel[unique]
    end = int(notes[:, 0].max()) + 1 if len(notes) else 1
    bars = bar_lines(time_signatures, end)
    if n_bars is not None:
        while len(bars) < n_bars:
            s, length, n, d = bars[-1]
            bars.append((s + length, bar_grid_length(n, d), n, d))
        bars = bars[: max(n_bars, 1)] if n_bars >= 1 else bars
    if controls is None:
        controls = compute_bar_controls(notes, bars)
    tokens = [BOS] if bos else []
    bar_index = []
    current_vel = -1
    j = 0
    for b, (start, length, num, den) in enumerate(bars):
        c = controls[min(b, len(controls) - 1)]
        bar_index.append(len(tokens))
        tokens += [BAR, TS_BASE + time_signature_index(num, den), KEY_BASE + c.key, DENS_BASE + c.density, REG_BASE + c.register]
        last_pos = -1
        while j < len(notes) and notes[j, 0] < start + length:
            pos = int(notes[j, 0]) - start
            if pos != last_pos:
                tokens.append(POS_BASE + pos)
                last_pos = pos
            if vel is not None:
                vb = velocity_bin(vel[j])
                if vb != current_vel:
                    tokens.append(VEL_BASE + vb)
                    current_vel = vb
            tokens.append(PITCH_BASE + int(notes[j, 2]) - PITCH_MIN)
            tokens.append(DUR_BASE + duration_index(int(notes[j, 1])))
            j += 1
    if eos:
        tokens.append(EOS)
    return tokens, bar_index


@dataclass(frozen=True)
class Decoded:
    """What ``tokens_to_notes`` returns: grid notes, velocities, time signatures and bar starts."""

    notes: np.ndarray  # (n, 3) int64: start grid tick, duration grid ticks, pitch
    velocities: np.ndarray  # (n,) int64 (``default_velocity`` where no VEL token came before)
    time_signatures: list[tuple[int, int, int]]  # (grid tick, numerator, denominator), changes only
    bar_starts: list[int]  # grid tick of every bar
    controls: list[BarControls]


def tokens_to_notes(tokens: Sequence[int], default_velocity: int = 90) -> Decoded:
    """Tokens -> notes, tolerant: tokens out of grammar are skipped, a missing DUR drops its pitch."""
    rows, velocities, signatures, bar_starts, controls = [], [], [], [], []
    bar_start = 0
    bar_length = None
    header = None
    velocity = default_velocity
    pos = 0
    pitch = None
    for token in tokens:
        token = int(token)
        kind = token_class(token)
        if kind == "BAR":
            if bar_length is not None:
                bar_start += bar_length
            bar_length = bar_grid_length(4, 4)
            header = [0, 0, 0]
            bar_starts.append(bar_start)
            controls.append(None)
            pos, pitch = 0, None
        elif bar_length is None:
            continue  # anything before the first bar
        elif kind == "TS":
            n, d = TIME_SIGNATURES[token - TS_BASE]
            bar_length = bar_grid_length(n, d)
            if not signatures or signatures[-1][1:] != (n, d):
                signatures.append((bar_start, n, d))
        elif kind in ("KEY", "DENS", "REG"):
            header[("KEY", "DENS", "REG").index(kind)] = token - CLASS_RANGES[kind][0]
            controls[-1] = BarControls(*header)
        elif kind == "POS":
            pos, pitch = token - POS_BASE, None
        elif kind == "VEL":
            velocity = velocity_from_bin(token - VEL_BASE)
        elif kind == "PITCH":
            pitch = token - PITCH_BASE + PITCH_MIN
        elif kind == "DUR" and pitch is not None:
            rows.append((bar_start + pos, DURATIONS_GRID[token - DUR_BASE], pitch))
            velocities.append(velocity)
            pitch = None
        elif kind == "EOS":
            break
    if not signatures:
        signatures = [(0, 4, 4)]
    notes = np.array(rows, dtype=np.int64).reshape(-1, 3)
    return Decoded(notes, np.array(velocities, dtype=np.int64), signatures, bar_starts, [c or BarControls(0, 0, 0) for c in controls])


def transpose_tokens(tokens: np.ndarray, semitones: int) -> np.ndarray | None:
    """Shift PITCH and KEY tokens by ``semitones``; None when a pitch would leave the range."""
    tokens = np.asarray(tokens)
    out = tokens.copy()
    is_pitch = (tokens >= PITCH_BASE) & (tokens < PITCH_BASE + N_PITCH)
    shifted = tokens[is_pitch] + semitones
    if shifted.size and (shifted.min() < PITCH_BASE or shifted.max() >= PITCH_BASE + N_PITCH):
        return None
    out[is_pitch] = shifted
    is_key = (tokens >= KEY_BASE) & (tokens < KEY_BASE + N_KEY)
    rel = tokens[is_key] - KEY_BASE
    out[is_key] = KEY_BASE + ((rel // 2 + semitones) % 12) * 2 + rel % 2
    return out


def grammar_errors(tokens: Sequence[int]) -> list[str]:
    """Where a token sequence breaks the grammar (empty list = valid), for tests and debugging.

    Rules: a bar opens with BAR TS KEY DENS REG; then POS [VEL] PITCH DUR groups, positions rising
    strictly inside the bar's length, pitches rising at one position, each PITCH followed by a DUR.
    """
    errors = []
    expect_header = []
    state = "start"
    pos, last_pitch, bar_len = -1, -1, 0
    for i, token in enumerate(tokens):
        kind = token_class(int(token))
        if expect_header:
            if kind != expect_header[0]:
                errors.append(f"{i}: {kind} where the bar header needs {expect_header[0]}")
            elif kind == "TS":
                n, d = TIME_SIGNATURES[int(token) - TS_BASE]
                bar_len = bar_grid_length(n, d)
            expect_header.pop(0)
            if not expect_header:
                state, pos, last_pitch = "bar", -1, -1
            continue
        if kind == "BAR":
            if state == "pitch":
                errors.append(f"{i}: BAR after a PITCH without DUR")
            expect_header = ["TS", "KEY", "DENS", "REG"]
        elif kind in ("BOS", "PAD"):
            continue
        elif kind == "EOS":
            break
        elif state == "start":
            errors.append(f"{i}: {kind} before the first BAR")
        elif kind == "POS":
            p = int(token) - POS_BASE
            if state == "pitch":
                errors.append(f"{i}: POS after a PITCH without DUR")
            if p <= pos:
                errors.append(f"{i}: position {p} does not move forward from {pos}")
            if p >= bar_len:
                errors.append(f"{i}: position {p} outside a bar of {bar_len}")
            pos, last_pitch, state = p, -1, "pos"
        elif kind == "VEL":
            if state not in ("pos", "dur"):
                errors.append(f"{i}: VEL in state {state}")
            state = "vel" if state == "pos" else "dur_vel"
        elif kind == "PITCH":
            if state not in ("pos", "dur", "vel", "dur_vel"):
                errors.append(f"{i}: PITCH in state {state}")
            p = int(token) - PITCH_BASE
            if p <= last_pitch:
                errors.append(f"{i}: pitch does not rise at one position")
            last_pitch, state = p, "pitch"
        elif kind == "DUR":
            if state != "pitch":
                errors.append(f"{i}: DUR without a PITCH")
            state = "dur"
        else:
            errors.append(f"{i}: {kind} outside a bar header")
    return errors
