"""The VAE's representation: monophonic melody tokens on a 16th-note grid, in 2-bar segments.

Built in one place (this module, numpy only, no torch) and used by training, the VAE generator and
the tests. It is MusicVAE's melody representation (Roberts et al. 2018): one token per 16th-note
step, either

    NOTE_OFF (0)           silence starts here (ends the sounding note, if any)
    HOLD (1)               nothing new: the previous note (or silence) continues
    NOTE_ON + k (2 + k)    a note of pitch MIN_PITCH + k starts here (ending the previous one)

A segment is ``SEGMENT_STEPS`` = 32 steps = 8 quarter-note beats = 2 bars of 4/4. Polyphonic input
becomes one line by the skyline rule (at each onset step the highest starting pitch wins, and a
note starting under a higher one that still sounds is dropped; a note ends where the next kept one
starts). Onsets are rounded to the nearest 16th; pitches outside
``MIN_PITCH..MAX_PITCH`` are moved by octaves into the range.

Conversions are pure function pairs: :func:`notes_to_tokens` / :func:`tokens_to_notes` (arrays of
start step, duration steps, pitch). :func:`segments_from_piece` cuts training segments from a
corpus :class:`~composer_app.generation.data.Piece`, keeping only bar-aligned 4/4 (and 2/4, 2/2)
material whose onsets lie on the 16th grid.
"""

from __future__ import annotations

import numpy as np

from composer_app.core.attributes import compute_attributes_from_arrays

STEPS_PER_QUARTER = 4  # 16th-note grid
SEGMENT_BARS = 2  # bars of 4/4 per segment
SEGMENT_STEPS = SEGMENT_BARS * 4 * STEPS_PER_QUARTER  # 32 grid steps
SEGMENT_QUARTERS = SEGMENT_STEPS // STEPS_PER_QUARTER  # 8 beats
MIN_PITCH = 36  # C2
MAX_PITCH = 96  # C7
NOTE_OFF = 0
HOLD = 1
NOTE_ON = 2  # token of MIN_PITCH; NOTE_ON + k is pitch MIN_PITCH + k
VOCAB_SIZE = NOTE_ON + MAX_PITCH - MIN_PITCH + 1  # 63 tokens
MIN_NOTES_PER_SEGMENT = 2  # training segments with fewer notes teach nothing but silence

# Attributes (core.attributes, measured the same way everywhere) that the VAE's faders control.
FADER_ATTRIBUTES = ("note_density", "major_strength", "pitch_mean")

assert VOCAB_SIZE == 63


def fold_pitch(pitch: int) -> int:
    """``pitch`` moved by whole octaves into MIN_PITCH..MAX_PITCH."""
    while pitch < MIN_PITCH:
        pitch += 12
    while pitch > MAX_PITCH:
        pitch -= 12
    return pitch


def notes_to_tokens(starts_step, durations_step, pitches, steps: int = SEGMENT_STEPS) -> np.ndarray:
    """Notes (start step, duration steps, pitch; any order, may overlap) -> int64 tokens (steps,).

    Onsets outside ``0..steps-1`` are dropped; the skyline rule makes the line monophonic.
    """
    starts = np.asarray(starts_step, dtype=np.int64).reshape(-1)
    durations = np.maximum(1, np.asarray(durations_step, dtype=np.int64).reshape(-1))
    pitches = np.asarray(pitches, dtype=np.int64).reshape(-1)
    tokens = np.full(steps, HOLD, dtype=np.int64)
    tokens[0] = NOTE_OFF
    keep = (starts >= 0) & (starts < steps)
    if not keep.any():
        return tokens
    starts, durations, pitches = starts[keep], durations[keep], pitches[keep]
    # Skyline: per onset step the highest pitch (ties: the longer note).
    order = np.lexsort((-durations, -pitches, starts))
    starts, durations, pitches = starts[order], durations[order], pitches[order]
    kept = []  # skyline: skip a note that starts under a higher one still sounding
    sounding_end, sounding_pitch = -1, -1
    for i in range(len(starts)):
        if kept and starts[kept[-1]] == starts[i]:
            continue
        if starts[i] < sounding_end and pitches[i] < sounding_pitch:
            continue
        kept.append(i)
        sounding_end, sounding_pitch = starts[i] + durations[i], pitches[i]
    starts, durations, pitches = starts[kept], durations[kept], pitches[kept]
    for i, (s, d, p) in enumerate(zip(starts, durations, pitches)):
        tokens[s] = NOTE_ON + fold_pitch(int(p)) - MIN_PITCH
        end = s + d
        next_start = starts[i + 1] if i + 1 < len(starts) else steps
        if end < next_start and end < steps:
            tokens[end] = NOTE_OFF
    return tokens


def tokens_to_notes(tokens) -> np.ndarray:
    """Tokens (steps,) -> int64 array (n, 3) of start step, duration steps, pitch."""
    rows = []
    current = None  # [start, pitch]
    tokens = np.asarray(tokens).reshape(-1)
    for step, token in enumerate(tokens.tolist()):
        if token == HOLD:
            continue
        if current is not None:
            rows.append((current[0], step - current[0], current[1]))
            current = None
        if token >= NOTE_ON:
            current = [step, MIN_PITCH + token - NOTE_ON]
    if current is not None:
        rows.append((current[0], len(tokens) - current[0], current[1]))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def note_set(tokens) -> set[tuple[int, int, int]]:
    """The notes of a token row as a set of (start step, duration steps, pitch): for exact-match scores."""
    return {tuple(int(v) for v in row) for row in tokens_to_notes(tokens)}


def exact_note_share(reference, other) -> float:
    """Share of the reference's notes that ``other`` reproduces exactly (onset, duration and pitch).

    Both are token rows; an empty reference counts as reproduced when ``other`` is empty too.
    """
    ref, out = note_set(reference), note_set(other)
    if not ref:
        return 1.0 if not out else 0.0
    return len(ref & out) / len(ref)


def transpose_tokens(tokens: np.ndarray, semitones: int) -> np.ndarray | None:
    """Tokens with every note moved by ``semitones``, or None when a note would leave the range."""
    out = np.array(tokens, copy=True)
    on = out >= NOTE_ON
    if not on.any():
        return out
    shifted = out[on] + semitones
    if shifted.min() < NOTE_ON or shifted.max() >= VOCAB_SIZE:
        return None
    out[on] = shifted
    return out


def segment_attributes(tokens) -> dict[str, float]:
    """``FADER_ATTRIBUTES`` of one segment, by core.attributes over the whole 8-beat span."""
    notes = tokens_to_notes(tokens)
    n = len(notes)
    attrs = compute_attributes_from_arrays(
        notes[:, 0], notes[:, 1], notes[:, 2], np.full(n, 90), None, STEPS_PER_QUARTER,
        start_tick=0, end_tick=len(np.asarray(tokens).reshape(-1)),
    )
    return {name: float(getattr(attrs, name)) for name in FADER_ATTRIBUTES}


def attribute_matrix(token_rows: np.ndarray) -> np.ndarray:
    """float32 (n, len(FADER_ATTRIBUTES)) attributes of many segments."""
    out = np.zeros((len(token_rows), len(FADER_ATTRIBUTES)), dtype=np.float32)
    for i, row in enumerate(token_rows):
        values = segment_attributes(row)
        out[i] = [values[name] for name in FADER_ATTRIBUTES]
    return out


# Degrees (semitones above the tonic) that differ between a major scale and its parallel natural minor.
MAJOR_ONLY_DEGREES = (4, 9, 11)  # the major third, sixth and seventh; minus a semitone in the parallel minor
MINOR_ONLY_DEGREES = (3, 8, 10)  # the minor third, sixth and seventh; plus a semitone in the parallel major


def parallel_mode(tokens) -> np.ndarray | None:
    """The segment in its parallel mode (major -> natural minor, minor -> major), or None if nothing changes.

    The segment is read in the key the Krumhansl-Kessler profiles find best for it (``major_strength``
    >= 0: its best major key, else its best minor key); the third, sixth and seventh of that key move
    by a semitone toward the other mode (E -> Eb, A -> Ab, B -> Bb in C major, and back from C minor).
    Rhythm, contour and every other note stay. Used in training to teach the mode fader
    (``training_vae``): the pair differs in mode and in nothing the other latent dimensions need.
    """
    from composer_app.core.theory import key_correlations

    tokens = np.asarray(tokens, dtype=np.int64)
    notes = tokens_to_notes(tokens)
    if len(notes) == 0:
        return None
    hist = np.bincount(notes[:, 2] % 12, weights=notes[:, 1].astype(np.float64), minlength=12)
    corr = key_correlations(hist)
    if not corr.any():
        return None
    major = corr[:12].max() >= corr[12:].max()
    tonic = int(np.argmax(corr[:12])) if major else int(np.argmax(corr[12:]))
    degrees, move = (MAJOR_ONLY_DEGREES, -1) if major else (MINOR_ONLY_DEGREES, 1)
    out = tokens.copy()
    on = out >= NOTE_ON
    pitch_class = (out - NOTE_ON + MIN_PITCH) % 12
    changed = on & np.isin((pitch_class - tonic) % 12, degrees)
    if not changed.any():
        return None
    out[changed] += move
    if out[on].min() < NOTE_ON or out[on].max() >= VOCAB_SIZE:
        return None
    return out


# ----------------------------------------------------------------------------------------------
# Corpus segments


def _quarters_per_bar(numerator: int, denominator: int) -> float:
    return numerator * 4.0 / denominator


def segments_from_piece(piece, stride_bars: int = 1) -> np.ndarray:
    """Training segments (k, SEGMENT_STEPS) of one piece: bar-aligned 2-bar windows of 4/4 material.

    Pieces in 4/4 or 2/2 give windows starting on every ``stride_bars``-th bar; 2/4 pieces give
    windows of four 2/4 bars. Pieces with a meter change, or windows with an onset off the 16th grid
    (triplets, grace-like 32nds) or fewer than ``MIN_NOTES_PER_SEGMENT`` notes, are skipped.
    """
    ts = np.asarray(piece.time_signatures)
    if len(ts) == 0 or len({(int(n), int(d)) for _, n, d in ts}) != 1:
        return np.zeros((0, SEGMENT_STEPS), dtype=np.int64)
    numerator, denominator = int(ts[0, 1]), int(ts[0, 2])
    bar_quarters = _quarters_per_bar(numerator, denominator)
    if bar_quarters not in (2.0, 4.0):
        return np.zeros((0, SEGMENT_STEPS), dtype=np.int64)
    tpq = piece.ticks_per_quarter
    step_ticks = tpq // STEPS_PER_QUARTER
    notes = np.asarray(piece.notes)
    if len(notes) == 0:
        return np.zeros((0, SEGMENT_STEPS), dtype=np.int64)
    bar_ticks = int(bar_quarters * tpq)
    stride_ticks = max(bar_ticks * stride_bars, 4 * tpq * stride_bars if bar_quarters == 2.0 else 0)
    window_ticks = SEGMENT_QUARTERS * tpq
    end_tick = int((notes[:, 0] + notes[:, 1]).max())
    starts = notes[:, 0]
    rows = []
    for w0 in range(0, max(1, end_tick - window_ticks // 2), stride_ticks):
        lo, hi = np.searchsorted(starts, [w0, w0 + window_ticks])
        if hi - lo < MIN_NOTES_PER_SEGMENT:
            continue
        window = notes[lo:hi]
        rel = window[:, 0] - w0
        if (rel % step_ticks).any():
            continue
        tokens = notes_to_tokens(rel // step_ticks, np.maximum(1, np.round(window[:, 1] / step_ticks)), window[:, 2])
        if (tokens >= NOTE_ON).sum() >= MIN_NOTES_PER_SEGMENT:
            rows.append(tokens)
    if not rows:
        return np.zeros((0, SEGMENT_STEPS), dtype=np.int64)
    return np.stack(rows)


# ----------------------------------------------------------------------------------------------
# Clips of any length -> segments and back


def clip_to_segments(notes, ticks_per_quarter: int) -> tuple[np.ndarray, int]:
    """Core ``Note`` values of a clip (time 0 = clip start) -> tokens (k, SEGMENT_STEPS), k >= 1.

    The clip is cut into consecutive 8-beat groups (2 bars of 4/4); the last group is padded with
    silence. Returns the segments and the clip's length in grid steps (before padding).
    """
    rows = [(n.start_tick, n.duration_ticks, n.pitch) for n in notes if getattr(n, "channel", 0) != 9]
    arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
    step_ticks = ticks_per_quarter / STEPS_PER_QUARTER
    starts = np.round(arr[:, 0] / step_ticks).astype(np.int64)
    durations = np.maximum(1, np.round(arr[:, 1] / step_ticks)).astype(np.int64)
    pitches = arr[:, 2].astype(np.int64)
    length_steps = int((starts + durations).max()) if len(rows) else SEGMENT_STEPS
    count = max(1, -(-length_steps // SEGMENT_STEPS))
    segments = np.zeros((count, SEGMENT_STEPS), dtype=np.int64)
    for k in range(count):
        base = k * SEGMENT_STEPS
        inside = (starts >= base) & (starts < base + SEGMENT_STEPS)
        segments[k] = notes_to_tokens(starts[inside] - base, durations[inside], pitches[inside])
    return segments, length_steps


def segments_to_note_rows(segments: np.ndarray, ticks_per_quarter: int) -> list[tuple[int, int, int]]:
    """Token segments laid end to end -> (start tick, duration ticks, pitch) rows at ``ticks_per_quarter``.

    A note held to the end of a segment and continued by HOLD at the start of the next is not
    merged: each segment starts with its own onset or silence, as the model decodes them.
    """
    step_ticks = ticks_per_quarter / STEPS_PER_QUARTER
    out = []
    for k, tokens in enumerate(np.asarray(segments).reshape(-1, SEGMENT_STEPS)):
        for start, duration, pitch in tokens_to_notes(tokens):
            s = int(round((k * SEGMENT_STEPS + start) * step_ticks))
            e = int(round((k * SEGMENT_STEPS + start + duration) * step_ticks))
            out.append((s, max(1, e - s), int(pitch)))
    return out
