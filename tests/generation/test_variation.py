"""Pure helpers of the VAE's latent operations (``generation.variation``): no weights needed."""

from __future__ import annotations

import numpy as np

from composer_app.generation import melody, variation


def scale_segment(pitches=(60, 62, 64, 65, 67, 69, 71, 72), step: int = 4) -> np.ndarray:
    return melody.notes_to_tokens(range(0, step * len(pitches), step), [step] * len(pitches), pitches)[None]


def test_token_bias_gives_every_pitch_token_its_class_bias():
    pitch_class_bias = np.arange(12, dtype=np.float32)
    bias = variation.token_bias(pitch_class_bias[None])[0]
    assert bias.shape == (melody.VOCAB_SIZE,)
    assert bias[melody.NOTE_OFF] == 0 and bias[melody.HOLD] == 0
    for pitch in (melody.MIN_PITCH, 60, 61, 71, melody.MAX_PITCH):
        assert bias[melody.NOTE_ON + pitch - melody.MIN_PITCH] == pitch % 12


def test_mode_bias_lowers_the_major_third_toward_minor_and_raises_it_toward_major():
    c_major = scale_segment()[0]
    minor, major = variation.mode_bias(c_major, -0.3), variation.mode_bias(c_major, 0.3)
    assert minor[4] < minor[3] and minor[9] < minor[8] and minor[11] < minor[10]  # E, A, B below Eb, Ab, Bb
    assert major[4] > major[3] and major[9] > major[8]


def test_attribute_distance_ignores_missing_targets_and_weighs_on_the_ranking_scales():
    attributes = np.array([1.0, 0.2, 70.0])
    assert variation.attribute_distance(attributes, attributes) == 0
    assert variation.attribute_distance(attributes, [np.nan, np.nan, np.nan]) == 0
    # twice the density is one octave: two units at 0.5 octave per unit; 0.15 of mode strength is one unit
    assert np.isclose(variation.attribute_distance(attributes, [2.0, np.nan, np.nan]), 2.0)
    assert np.isclose(variation.attribute_distance(attributes, [np.nan, 0.05, np.nan]), 1.0)
    assert np.isclose(variation.attribute_distance(attributes, [np.nan, np.nan, 73.0]), 1.0)


def test_departure_cost_is_zero_for_the_clip_and_grows_with_rhythm_and_pitch_changes():
    clip = np.concatenate([scale_segment(), scale_segment((72, 71, 69, 67, 65, 64, 62, 60))])
    assert variation.departure_cost(clip, clip) == 0
    new_rhythm = np.concatenate([scale_segment((60, 62, 64, 65, 67, 69, 71, 72, 74, 72, 71, 69, 67, 65, 64, 62), step=2)] * 2)
    foreign = np.stack([melody.transpose_tokens(row, 6) for row in clip])  # a tritone away: other pitch classes
    assert variation.departure_cost(new_rhythm, clip) > 0.9  # no bar keeps a rhythm of the clip
    assert variation.departure_cost(foreign, clip) > 1.0
    assert variation.departure_cost(foreign, clip, pitch_classes=False) == 0  # same rhythm and intervals


def test_key_shift_finds_the_transposition_back():
    scale = scale_segment()
    for shift in (-5, -1, 2, 5):
        moved = melody.transpose_tokens(scale[0], shift)[None]
        assert variation.key_shift(moved, scale) == -shift
