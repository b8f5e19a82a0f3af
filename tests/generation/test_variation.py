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


def test_bar_plan_changes_more_bars_as_the_amount_grows_and_frees_rhythms_only_above_half():
    def counts(amount, bars=8):
        plan = variation.bar_plan(bars, amount, np.random.default_rng(0))
        return int((plan != variation.KEEP).sum()), int((plan == variation.FREE).sum())

    assert counts(0.0) == (0, 0)
    assert counts(0.05) == (1, 0)  # any amount > 0 changes a bar
    assert counts(0.1) == (2, 0) and counts(0.3) == (5, 0) and counts(0.5) == (8, 0)
    assert counts(0.75) == (8, 4) and counts(1.0) == (8, 8)
    chosen = {tuple(variation.bar_plan(8, 0.1, np.random.default_rng(seed))) for seed in range(20)}
    assert len(chosen) >= 5  # which bars change depends on the draw


def test_plan_bias_keeps_bars_keeps_rhythms_and_forces_a_change():
    clip = np.concatenate([scale_segment(), scale_segment((72, 71, 69, 67, 65, 64, 62, 60))])  # 4 bars of quarters
    plan = np.array([variation.KEEP, variation.REPITCH, variation.FREE, variation.KEEP])
    bias = variation.plan_bias(clip, plan, np.random.default_rng(1)).reshape(-1, melody.VOCAB_SIZE)
    tokens = clip.reshape(-1)
    allowed = bias == 0
    for step in list(range(0, 16)) + list(range(48, 64)):  # kept bars: only the clip's own token
        assert allowed[step].sum() == 1 and allowed[step, tokens[step]]
    repitched = range(16, 32)
    for step in repitched:
        if tokens[step] >= melody.NOTE_ON:  # an onset: pitches only
            assert not allowed[step, : melody.NOTE_ON].any() and allowed[step, melody.NOTE_ON :].sum() >= melody.VOCAB_SIZE - melody.NOTE_ON - 1
        else:  # a hold or rest: the clip's own
            assert allowed[step].sum() == 1 and allowed[step, tokens[step]]
    assert sum(not allowed[s, tokens[s]] for s in repitched) == 1  # one onset must take another pitch
    assert allowed[32:48].all()  # a free bar: anything
    unforced = variation.plan_bias(clip, plan).reshape(-1, melody.VOCAB_SIZE) == 0
    assert all(unforced[s, tokens[s]] for s in repitched)


def test_pick_distinct_skips_draws_equal_to_the_clip_or_an_earlier_pick():
    clip = scale_segment()
    other = melody.transpose_tokens(clip[0], 2)[None]
    third = melody.transpose_tokens(clip[0], 4)[None]
    tokens = np.stack([[clip, clip], [other, other], [third, clip]])  # (draws 3, candidates 2, k 1, steps)
    cost = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]])
    # candidate 0: draw 0 is the clip -> draw 1; candidate 1: draw 0 the clip, draw 2 the clip, draw 1 taken -> none left: cheapest
    assert variation.pick_distinct(tokens, cost, clip).tolist() == [1, 0]
    tokens[2, 1] = third
    assert variation.pick_distinct(tokens, cost, clip).tolist() == [1, 2]


def test_repitched_bars_lean_to_the_clip_key():
    clip = np.concatenate([scale_segment(), scale_segment((72, 71, 69, 67, 65, 64, 62, 60))])  # C major
    key = variation.clip_key_bias(clip)
    assert key[6] < key[7] and key[1] < key[0] and key[10] < key[11]  # F#, C#, Bb below G, C, B
    plan = np.array([variation.KEEP, variation.REPITCH, variation.FREE, variation.KEEP])
    bias = variation.plan_bias(clip, plan, None, key).reshape(-1, melody.VOCAB_SIZE)
    plain = variation.plan_bias(clip, plan).reshape(-1, melody.VOCAB_SIZE)
    onset = 16 + int(np.flatnonzero(clip.reshape(-1)[16:32] >= melody.NOTE_ON)[0])
    assert np.allclose(bias[onset] - plain[onset], variation.token_bias(key))  # a repitched onset: the key's bias
    assert np.array_equal(bias[32:48], plain[32:48]) and np.array_equal(bias[:16], plain[:16])  # free and kept bars: none
