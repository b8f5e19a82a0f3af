"""Sad, calm continuations with the shipped weights are melodies, not a drone on the tonic.

Before the frequency penalty and the repeated-note ranking term, a sad request on the C major
example gave candidates of 3-4 distinct pitches within a minor third or so, half their notes on C
(measured over seeds 0-15: per request a mean of 4.0-5.25 distinct pitches and 0.47-0.55 of the
notes on the tonic); with them, 6.25-7.25 distinct pitches and 0.27-0.33 on the tonic, every
candidate at least 5 distinct pitches and at most 0.38 on the tonic. The thresholds sit between.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from composer_app.core.midifile import load_midi
from composer_app.generation import engine, registry
from composer_app.mood.mood import Mood

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
SAD, HAPPY = Mood(-0.8, -0.6), Mood(0.8, 0.6)
SEEDS = (0, 7, 13)
MIN_DISTINCT_PITCHES = 5  # per candidate (the drone: 3-4)
MAX_TONIC_SHARE = 0.45  # per candidate (the drone: 0.5-0.62)
MIN_MEAN_DISTINCT_PITCHES = 5.75  # over one request's 4 candidates (the drone: <= 5.25)
MAX_MEAN_TONIC_SHARE = 0.4  # over one request's 4 candidates (the drone: >= 0.47)


@pytest.fixture(scope="module")
def shipped_model():
    return registry.load_generator("transformer")


@pytest.fixture(scope="module")
def c_major():
    return load_midi(EXAMPLES / "c_major_melody.mid")


def _tonic_share(candidate: engine.Candidate) -> float:
    return float(np.mean([n.pitch % 12 == candidate.key.tonic_pc for n in candidate.notes]))


def _distinct_pitches(candidate: engine.Candidate) -> int:
    return len({n.pitch for n in candidate.notes})


@pytest.mark.parametrize("seed", SEEDS)
def test_sad_continuations_move_between_several_pitches(shipped_model, c_major, seed):
    candidates = engine.suggest(c_major, SAD, bars=4, candidates=4, seed=seed, model=shipped_model)
    assert len(candidates) == 4
    for candidate in candidates:
        assert candidate.key.tonic_pc == 0 and candidate.key.mode == "minor"  # C major turned C minor
        assert len(candidate.notes) >= 8
        assert _distinct_pitches(candidate) >= MIN_DISTINCT_PITCHES, [n.pitch for n in candidate.notes]
        assert _tonic_share(candidate) <= MAX_TONIC_SHARE, [n.pitch for n in candidate.notes]
    assert np.mean([_distinct_pitches(c) for c in candidates]) >= MIN_MEAN_DISTINCT_PITCHES
    assert np.mean([_tonic_share(c) for c in candidates]) <= MAX_MEAN_TONIC_SHARE


@pytest.mark.parametrize("seed", SEEDS)
def test_the_mood_still_separates_sad_from_happy(shipped_model, c_major, seed):
    sad = engine.suggest(c_major, SAD, bars=4, candidates=4, seed=seed, model=shipped_model)
    happy = engine.suggest(c_major, HAPPY, bars=4, candidates=4, seed=seed, model=shipped_model)

    def mean(candidates, name):
        return float(np.mean([getattr(c.attributes, name) for c in candidates]))

    assert mean(sad, "note_density") < mean(happy, "note_density")
    assert mean(sad, "major_strength") < 0 < mean(happy, "major_strength")
    assert mean(sad, "pitch_mean") < mean(happy, "pitch_mean")
    assert mean(sad, "velocity_mean") < mean(happy, "velocity_mean")
