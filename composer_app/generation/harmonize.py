"""Harmonize a melody into voices: project in, new voice tracks out (the harmonizer network's front end).

The melody (the highest line of the chosen notes) becomes the soprano row of the harmonizer's grid,
octave-shifted into the soprano's range if needed; notes the user already has in voice tracks
("Alto", "Tenor", "Bass" tracks from an earlier harmonization, or any tracks passed as
``locked``) are locked cells; everything else is filled by Gibbs sampling
(:func:`harmonizer.gibbs_fill`). The melody itself is never changed: the result is new tracks.

Mood: valence picks the mode the network is conditioned on when the melody's key is ambiguous
(major vs relative minor, as the chord suggester does), arousal sets how readily the lower voices
move (calm voices hold their notes; excited ones move and pass). A chord track over the span
steers the lower voices to its chord tones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

from composer_app.core.chords import ChordTrack
from composer_app.core.note import Note
from composer_app.core.track import Track
from composer_app.generation import harmonizer as hz

VOICE_TRACK_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
VOICES_FOR_COUNT = {2: (3,), 3: (1, 3), 4: (1, 2, 3)}  # voices to write under the melody, by --voices
DEFAULT_PROGRAM = 52  # GM "Choir Aahs": a chorale is sung
VOICE_VELOCITY_SHARE = 0.85  # new voices play this share of the mood's melody velocity
STAY_BONUS_PER_AROUSAL = -1.0  # logit for holding a voice's pitch, per unit of arousal (calm: hold)
CHORD_TONE_BONUS = 3.0  # logit added to chord tones where the chord track covers the span
SOPRANO_CENTRE = 70  # the melody is moved by octaves so its median lies nearest to this


@dataclass(frozen=True)
class Harmonization:
    """New voice tracks (alto, tenor, bass as asked), the melody used and what was decided."""

    tracks: tuple[Track, ...]
    melody: tuple[Note, ...]
    minor: bool
    seed: int
    seconds: float
    locked_cells: int = 0
    info: dict = field(default_factory=dict)


_MODEL_CACHE: dict[str, hz.Harmonizer] = {}


def default_weights() -> Path:
    from composer_app.paths import models_dir

    return models_dir() / "harmonizer.safetensors"


def load_default_harmonizer() -> hz.Harmonizer:
    path = default_weights()
    if str(path) not in _MODEL_CACHE:
        _MODEL_CACHE[str(path)] = hz.load_harmonizer(path)
    return _MODEL_CACHE[str(path)]


def _metric(project, start_tick: int, steps: int, ticks_per_step: int) -> np.ndarray:
    ts = project.time_signatures
    out = np.zeros(steps, dtype=np.int64)
    for i in range(steps):
        tick = start_tick + i * ticks_per_step
        bar_tick = ts.bar_to_tick(ts.tick_to_position(tick).bar)
        out[i] = (tick - bar_tick) // ticks_per_step
    return out


def _chord_masks(chords: ChordTrack, start_tick: int, steps: int, ticks_per_step: int) -> np.ndarray | None:
    if not chords:
        return None
    masks = np.zeros(steps, dtype=np.int64)
    for i in range(steps):
        event = chords.at(start_tick + i * ticks_per_step)
        if event is not None:
            masks[i] = sum(1 << pc for pc in event.chord.pitch_classes)
    return masks if masks.any() else None


def _bridge_rests(row: np.ndarray) -> np.ndarray:
    """The melody's rests inside the phrase hold the note before them (as the grid sees it), so the
    harmony carries on through a breath instead of stopping; rests before the first note stay."""
    row = row.copy()
    for t in range(1, len(row)):
        if row[t] == hz.REST and row[t - 1] != hz.REST:
            row[t] = row[t - 1]
    return row


def harmonize(
    project,
    *,
    melody: Sequence[Note] | None = None,
    voices: int = 4,
    start_tick: int | None = None,
    end_tick: int | None = None,
    valence: float = 0.0,
    arousal: float = 0.0,
    seed: int = 0,
    locked: Mapping[int, Sequence[Note]] | None = None,
    model: hz.Harmonizer | None = None,
    iterations: int = 32,
    channels: Sequence[int] | None = None,
    program: int = DEFAULT_PROGRAM,
    no_parallels: bool = True,
) -> Harmonization:
    """Write ``voices - 1`` voices under the melody over ``start_tick..end_tick``.

    ``melody`` defaults to the highest line of the project's pitched notes. ``locked`` maps a voice
    index (1 alto, 2 tenor, 3 bass) to notes that must stay; the others are resampled. Raises
    ``ValueError`` when there is no melody or ``voices`` is not 2..4. ``no_parallels=False`` lets
    the sampler write parallel fifths/octaves (the evaluation measures the network's own rate so).
    """
    from composer_app.arrange.accompany import free_channels
    from composer_app.arrange.suggest import choose_key, melody_line
    from composer_app.mood.mood import Mood
    from composer_app.mood.targets import targets_for

    if voices not in VOICES_FOR_COUNT:
        raise ValueError("voices must be in range 2..4")
    started = time.perf_counter()
    model = model or load_default_harmonizer()
    if melody is None:
        melody = melody_line([n for t in project.tracks if not t.is_drums for n in t.notes])
    melody = sorted(melody, key=lambda n: n.start_tick)
    if start_tick is not None or end_tick is not None:
        lo = start_tick if start_tick is not None else 0
        hi = end_tick if end_tick is not None else 1 << 62
        melody = [n for n in melody if lo <= n.start_tick < hi]
    if not melody:
        raise ValueError("there is no melody to harmonize")
    tpq = project.ticks_per_quarter
    tps = max(1, tpq // hz.STEPS_PER_QUARTER)
    ts = project.time_signatures
    if start_tick is None:
        start_tick = ts.bar_to_tick(ts.tick_to_position(melody[0].start_tick).bar)
    if end_tick is None:
        end_tick = max(n.end_tick for n in melody)
    steps = max(1, -(-(end_tick - start_tick) // tps))
    pitches = sorted(n.pitch for n in melody)
    shift = 12 * round((SOPRANO_CENTRE - pitches[len(pitches) // 2]) / 12)  # octaves into the soprano range

    grid = np.full((hz.N_VOICES, steps), hz.REST, dtype=np.int64)
    lock = np.zeros((hz.N_VOICES, steps), dtype=bool)
    rows = [(n.start_tick, min(n.end_tick, end_tick) - n.start_tick, n.pitch + shift) for n in melody]
    grid[0] = _bridge_rests(hz.notes_to_row(rows, steps, tps, start_tick))
    lock[0] = True
    locked_cells = 0
    for voice, notes in (locked or {}).items():
        if not 1 <= voice <= 3 or not notes:
            continue
        row = hz.notes_to_row([(n.start_tick, n.duration_ticks, n.pitch + shift) for n in notes], steps, tps, start_tick)
        keep = row != hz.REST
        grid[voice][keep] = row[keep]
        lock[voice] |= keep
        locked_cells += int(keep.sum())
    wanted = VOICES_FOR_COUNT[voices]
    metric = _metric(project, start_tick, steps, tps)
    _tonic, minor = choose_key(melody, valence)
    guidance = hz.Guidance(
        chord_pcs=_chord_masks(project.chords, start_tick, steps, tps),  # octave shifts keep pitch classes
        chord_bonus=CHORD_TONE_BONUS,
        stay_bonus=STAY_BONUS_PER_AROUSAL * arousal,
        temperature=0.8,
        no_parallels=no_parallels,
    )
    generator = torch.Generator().manual_seed(int(seed))
    filled = hz.gibbs_fill(model, grid, lock, metric, minor, iterations=iterations, guidance=guidance, generator=generator)

    velocity = targets_for(Mood.clamped(valence, arousal)).velocity_mean or 80.0
    velocity = int(max(1, min(127, round(velocity * VOICE_VELOCITY_SHARE))))
    steps_per_bar = int(metric.max()) + 1 if len(metric) else 0
    channels = tuple(channels) if channels is not None else free_channels(project.tracks, len(wanted))
    tracks = []
    for channel, voice in zip(channels, wanted):
        notes = []
        for start, duration, pitch in hz.row_to_notes(filled[voice], tps, start_tick, split_every=steps_per_bar):
            pitch -= shift
            if 0 <= pitch <= 127:
                notes.append(Note(start, pitch, min(duration, end_tick - start) or 1, velocity, channel))
        tracks.append(Track(VOICE_TRACK_NAMES[voice], program, channel, notes))
    return Harmonization(tuple(tracks), tuple(melody), minor, int(seed), time.perf_counter() - started, locked_cells,
                         {"octave_shift": shift, "steps": steps, "iterations": iterations})
