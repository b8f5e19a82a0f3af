"""Key and mode of a continuation: the prompt's own mode, moved by the valence target, as soft guidance.

The prompt's key is read from the whole prompt and, when the file has one, its key signature
(``core.theory.estimate_modal_key``): a dorian tune stays dorian, a mixolydian one keeps its flat
seventh. The continuation keeps the prompt's tonic. The valence target (``major_strength``) moves
the three degrees that make a mode sound major or minor (the 3rd, 6th and 7th) from the prompt's
variant toward the major or the minor one, in proportion to the target (a modal mixture in
between). Everything becomes a logit bias per pitch class, never a mask:

* a pitch class outside the target scale loses ``SCALE_PENALTY`` logits at the neutral mood (soft:
  real tunes hold ~2-3 % such notes, and they survive), growing to ``MODE_PENALTY`` for the
  contradicting 3rd/6th/7th as |valence| rises;
* past the mixture's tipping point, degree weights (``MAJOR_DEGREE_WEIGHTS``/``MINOR_...``) draw the
  pitch-class histogram toward the target mode's profile.

The KEY control token of generated bars is major or minor (the tokenizer's vocabulary): the
target's third decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer_app.core.theory import MODE_INTERVALS, Key, estimate_modal_key

SCALE_PENALTY = 1.0  # logits off a pitch class outside the target scale at the neutral mood
# The same when the file's key signature gives the collection (not a guess from the prompt): at 1.0 the
# continuations of dev prompts with their key signature held 0.7 % of notes against it (real 2.6 %), at 0.5
# 1.3 %, with realism LR/GB 71.4/77.1 -> 69.5/76.8 % (bench/results/realism_ablation-s19ks-dev.md).
SCALE_PENALTY_NOTATED_KEY = 0.5
MODE_PENALTY = 3.0  # logits off the contradicting 3rd/6th/7th at full valence strength
MODE_GUIDANCE = 1.0  # logits (times the degree weights below) at full guidance strength
MODE_GUIDANCE_FULL = 0.3  # the |major_strength| target at which mode guidance is at full strength
MODE_SWITCH_GAIN = 1.5  # the mixture tips fully at |target| = MODE_GUIDANCE_FULL / this (|valence| 2/3)
MODE_THRESHOLD = 0.05  # |major_strength target| at or below this keeps the prompt's mode
# Degree weights toward a mode, from the histogram maximising |major_strength| (see engine history):
# tonic, 3rd and 5th up, and down the degrees that point to the relative key.
MAJOR_DEGREE_WEIGHTS = {0: 0.3, 7: 0.4, 5: 0.15, 4: 0.2, 2: -0.4, 9: -0.7, 11: -0.8}
MINOR_DEGREE_WEIGHTS = {0: 0.3, 3: 0.4, 11: 0.2, 8: 0.1, 2: -0.1, 5: -0.6, 10: -0.8}
# The degrees that differ between major and minor: (minor variant, major variant) in semitones.
MODAL_DEGREES = ((3, 4), (8, 9), (10, 11))


@dataclass(frozen=True)
class KeyPlan:
    """What the sampler needs about key and mode."""

    prompt_key: Key  # the prompt's key and mode (modal)
    key: Key  # the continuation's key and mode after the valence target (same tonic)
    key_index: int  # the KEY control token's index: 2 * tonic + (1 if the target's 3rd is minor)
    pitch_class_bias: np.ndarray  # (12,) float32 logits added to every pitch of that class
    majorness: tuple[float, float, float]  # 0 (minor variant) .. 1 (major variant) for the 3rd, 6th, 7th


def prompt_key(histogram: np.ndarray, key_signature: int | None = None) -> Key:
    """The prompt's modal key (C major for an empty prompt)."""
    return estimate_modal_key(histogram, key_signature) or Key(0, "major")


def _mode_with(tonic: int, majorness: tuple[float, float, float], base: Key) -> Key:
    """The named mode closest to the base mode with each modal degree rounded to its side."""
    steps = set(MODE_INTERVALS[base.mode])
    for (minor, major), m in zip(MODAL_DEGREES, majorness):
        steps.discard(minor)
        steps.discard(major)
        steps.add(major if m >= 0.5 else minor)
    for name in ("major", "minor", "dorian", "mixolydian", "phrygian", "lydian", "harmonic_minor"):
        if set(MODE_INTERVALS[name]) == steps:
            return Key(tonic, name)
    return Key(tonic, "major" if majorness[0] >= 0.5 else "minor")


def plan_key(
    histogram: np.ndarray,
    major_strength: float | None = None,
    key_signature: int | None = None,
    scale_penalty: float = SCALE_PENALTY,
    mode_penalty: float = MODE_PENALTY,
    guidance: float = MODE_GUIDANCE,
) -> KeyPlan:
    """The key plan for a prompt's duration-weighted pitch-class ``histogram`` and a valence target.

    ``scale_penalty`` 0 and ``mode_penalty`` 0 switch the scale guidance off (an ablation);
    ``guidance`` 0 switches off the degree weights.
    """
    base = prompt_key(np.asarray(histogram, dtype=np.float64), key_signature)
    tonic = base.tonic_pc
    steps = MODE_INTERVALS[base.mode]
    prompt_major = tuple(1.0 if major in steps else 0.0 for _, major in MODAL_DEGREES)
    strength = 0.0 if major_strength is None else min(1.0, abs(major_strength) / MODE_GUIDANCE_FULL)
    tip = min(1.0, MODE_SWITCH_GAIN * strength)
    if major_strength is None or abs(major_strength) <= MODE_THRESHOLD:
        majorness = prompt_major
    elif major_strength > 0:
        majorness = tuple(p + (1 - p) * tip for p in prompt_major)
    else:
        majorness = tuple(p * (1 - tip) for p in prompt_major)
    bias = np.zeros(12, dtype=np.float32)
    modal = {v for pair in MODAL_DEGREES for v in pair}
    for degree in range(12):  # the 2nd, 4th and 5th (and the tonic) are the mode's own
        if degree not in modal and degree not in steps:
            bias[(tonic + degree) % 12] -= scale_penalty
    contradiction = scale_penalty + (mode_penalty - scale_penalty) * strength if (scale_penalty or mode_penalty) else 0.0
    for (minor, major), m in zip(MODAL_DEGREES, majorness):
        bias[(tonic + major) % 12] -= contradiction * (1 - m)
        bias[(tonic + minor) % 12] -= contradiction * m
    if major_strength is not None and abs(major_strength) > MODE_THRESHOLD and guidance:
        mean_majorness = float(np.mean(majorness))
        toward = max(0.0, 2 * mean_majorness - 1) if major_strength > 0 else max(0.0, 1 - 2 * mean_majorness)
        weights = MAJOR_DEGREE_WEIGHTS if major_strength > 0 else MINOR_DEGREE_WEIGHTS
        for degree, weight in weights.items():
            bias[(tonic + degree) % 12] += guidance * strength * toward * weight
    key = _mode_with(tonic, majorness, base)
    minor_third = majorness[0] < 0.5
    return KeyPlan(base, key, 2 * tonic + int(minor_third), bias, majorness)
