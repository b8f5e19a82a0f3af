"""Does the music follow the story? Valence/arousal read back from notes by a symbolic estimator.

The estimator looks only at the music (notes, velocities, tempo map, instruments), never at the
targets the generator was given. It measures six cues over a span and combines them additively,
as listeners do (Eerola, Friberg & Bresin 2013: cues act additively and mostly linearly, ranked
mode > tempo > register > dynamics > articulation > timbre; Gabrielsson & Lindström 2010 and
Juslin & Laukka 2003 for the direction of each cue on valence and arousal):

====================  ==========================================  =============================
cue                   measured as (z: 0 at a neutral reference)   valence / arousal weight
====================  ==========================================  =============================
mode                  major_strength of all pitched notes / 0.2   +0.45 / 0
tempo                 log2(bpm / 100) / 0.4                       +0.15 / +0.30
register              (melody mean pitch − 67) / 6                +0.20 / +0.10
dynamics              (mean velocity − 80) / 25                   −0.05 / +0.25
articulation          (0.75 − melody duration/IOI) / 0.2          +0.05 / +0.10
density (event rate)  log2(melody onsets per second / 2)          +0.05 / +0.20
timbre                brightness of the melody instrument (−1..1) −0.05 / +0.05
====================  ==========================================  =============================

Valence and arousal are ``tanh`` of the weighted sums. The weights follow the rank order and the
signs of those studies (Eerola et al.'s happy/peaceful/sad/scary ratings read as the four
quadrants: mode separates happy and peaceful from sad and scary, tempo and dynamics separate happy
and scary from peaceful and sad, loud and bright go with scary rather than happy); their sizes are
this project's rounding of that order, fixed before any story was scored and not fitted to the
generator's output. References (neutral points) are everyday musical values: 100 bpm, G4, mezzo-forte
(velocity 80), a detached 0.75 duration/IOI, two melody notes a second.

``spearman`` ranks the intended and the read-back values across scenes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from composer_app.core.attributes import compute_attributes
from composer_app.core.note import Note
from composer_app.core.timing import TempoMap

REFERENCE_BPM = 100.0
REFERENCE_PITCH = 67.0
REFERENCE_VELOCITY = 80.0
REFERENCE_ARTICULATION = 0.75
REFERENCE_ONSETS_PER_SECOND = 2.0

CUES = ("mode", "tempo", "register", "dynamics", "articulation", "density", "timbre")
VALENCE_WEIGHTS = {"mode": 0.45, "tempo": 0.15, "register": 0.20, "dynamics": -0.05, "articulation": 0.05, "density": 0.05, "timbre": -0.05}
AROUSAL_WEIGHTS = {"mode": 0.0, "tempo": 0.30, "register": 0.10, "dynamics": 0.25, "articulation": 0.10, "density": 0.20, "timbre": 0.05}


@dataclass(frozen=True)
class ReadBack:
    """What the estimator heard in a span: each cue's raw measure and z value, and the mood."""

    valence: float
    arousal: float
    measures: dict[str, float]  # raw: major_strength, tempo_bpm, melody_pitch_mean, velocity_mean, ...
    cues: dict[str, float]  # z values

    def to_dict(self) -> dict[str, object]:
        return {
            "valence": round(self.valence, 3),
            "arousal": round(self.arousal, 3),
            "measures": {k: round(v, 3) for k, v in self.measures.items()},
            "cues": {k: round(v, 3) for k, v in self.cues.items()},
        }


def mean_tempo_bpm(tempo_map: TempoMap, start_tick: int, end_tick: int) -> float:
    """The span's average tempo: quarter notes per minute of real time."""
    seconds = tempo_map.tick_to_seconds(end_tick) - tempo_map.tick_to_seconds(start_tick)
    beats = (end_tick - start_tick) / tempo_map.ticks_per_quarter
    return 60.0 * beats / seconds if seconds > 0 else REFERENCE_BPM


def read_back(
    melody: list[Note],
    all_pitched: list[Note],
    tempo_map: TempoMap,
    start_tick: int,
    end_tick: int,
    melody_brightness: float = 0.0,
) -> ReadBack:
    """Estimate valence/arousal of ``[start_tick, end_tick)`` from its notes (see the module table)."""
    tpq = tempo_map.ticks_per_quarter
    melody_span = [n for n in melody if start_tick <= n.start_tick < end_tick]
    everything = [n for n in all_pitched if start_tick <= n.start_tick < end_tick]
    whole = compute_attributes(everything, tpq, start_tick=start_tick, end_tick=end_tick)
    tune = compute_attributes(melody_span, tpq, start_tick=start_tick, end_tick=end_tick)
    bpm = mean_tempo_bpm(tempo_map, start_tick, end_tick)
    seconds = tempo_map.tick_to_seconds(end_tick) - tempo_map.tick_to_seconds(start_tick)
    onsets = len({n.start_tick for n in melody_span})
    rate = onsets / seconds if seconds > 0 else 0.0
    measures = {
        "major_strength": whole.major_strength,
        "tempo_bpm": bpm,
        "melody_pitch_mean": tune.pitch_mean if melody_span else REFERENCE_PITCH,
        "velocity_mean": whole.velocity_mean if everything else REFERENCE_VELOCITY,
        "melody_articulation": tune.articulation if melody_span else REFERENCE_ARTICULATION,
        "melody_onsets_per_second": rate,
        "melody_brightness": melody_brightness,
    }
    cues = {
        "mode": measures["major_strength"] / 0.2,
        "tempo": math.log2(bpm / REFERENCE_BPM) / 0.4,
        "register": (measures["melody_pitch_mean"] - REFERENCE_PITCH) / 6.0,
        "dynamics": (measures["velocity_mean"] - REFERENCE_VELOCITY) / 25.0,
        "articulation": (REFERENCE_ARTICULATION - measures["melody_articulation"]) / 0.2,
        "density": math.log2(max(rate, 0.1) / REFERENCE_ONSETS_PER_SECOND),
        "timbre": melody_brightness,
    }
    cues = {k: float(np.clip(v, -2.0, 2.0)) for k, v in cues.items()}
    valence = math.tanh(sum(VALENCE_WEIGHTS[c] * cues[c] for c in CUES))
    arousal = math.tanh(sum(AROUSAL_WEIGHTS[c] * cues[c] for c in CUES))
    return ReadBack(valence, arousal, measures, cues)


def _ranks(values) -> np.ndarray:
    """Ranks 1..n with ties sharing their mean rank."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[order[j + 1]] == values[order[i]]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    return ranks


def spearman(a, b) -> float | None:
    """Spearman's rank correlation of two equally long sequences (None when either is constant or n < 2)."""
    if len(a) != len(b):
        raise ValueError("sequences must have the same length")
    if len(a) < 2:
        return None
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])
