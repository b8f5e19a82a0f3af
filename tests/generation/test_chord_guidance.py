"""Continuations that follow a chord track: the plan's chord-tone bias and ranking, end to end."""

from __future__ import annotations

import numpy as np
import pytest

from composer_app.arrange.suggest import chord_tone_rate
from composer_app.core.chords import chord_track_from_symbols
from composer_app.core.clip import Clip
from composer_app.core.midifile import load_midi
from composer_app.generation import engine
from composer_app.generation.generator import ContinueRequest
from composer_app.generation.plan import CHORD_TONE_BIAS, make_plan
from tests.test_cli import EXAMPLES


@pytest.fixture(scope="module")
def melody():
    return load_midi(EXAMPLES / "c_major_melody.mid")


def test_the_plan_lifts_each_bars_chord_tones(melody):
    clip = Clip(melody.tracks[0].notes, melody.ticks_per_quarter, melody.tempo_map, melody.time_signatures)
    bar = melody.time_signatures.bar_to_tick(1)
    chords = chord_track_from_symbols(["D7", "G"], bar, start_tick=8 * bar)  # the two bars after the prompt
    plain = make_plan(clip, 3)
    guided = make_plan(clip, 3, chords=chords)
    d7 = guided.bars[0].pitch_class_bias - plain.bars[0].pitch_class_bias
    assert d7[6] > CHORD_TONE_BIAS  # F#: out of C major, made right by the D7 (penalty lifted, bias added)
    assert d7[2] == pytest.approx(CHORD_TONE_BIAS) and d7[1] == 0  # D lifted; C# untouched
    assert np.allclose(guided.bars[2].pitch_class_bias, plain.bars[2].pitch_class_bias)  # no chord in bar 3
    assert guided.chords.symbols() == ["D7", "G"] and guided.chords.events[0].start_tick == 0
    with pytest.raises(TypeError, match="chords must be a ChordTrack or None"):
        ContinueRequest(clip, chords=["D7"])


def test_continuations_land_on_chord_tones_when_a_chord_track_covers_them(melody):
    bar = melody.time_signatures.bar_to_tick(1)
    chords = chord_track_from_symbols(["Am", "Dm", "G7", "C"], bar, start_tick=8 * bar)
    relative = chords.shifted(-8 * bar)

    def rate(**kwargs):
        rates = []
        for seed in (1,):
            for candidate in engine.suggest(melody, bars=2, candidates=4, seed=seed, **kwargs):
                rates.append(chord_tone_rate(candidate.notes, relative, candidate.time_signatures)[0])
        return float(np.mean(rates))

    free = rate()
    guided = rate(chords=chords)
    assert guided >= 0.85 and guided > free + 0.2
    own = [chord_tone_rate(c.notes, relative, c.time_signatures)[0]
           for c in engine.suggest(melody.with_chords(chords), bars=2, candidates=4, seed=1)]
    assert np.mean(own) >= 0.85  # a project's chord track is followed without being passed
