"""The mood: a point on the valence/arousal plane, and the named presets.

The plane is Russell's (1980) circumplex of affect: valence runs from unpleasant (-1, sad) to
pleasant (+1, happy), arousal from deactivated (-1, calm) to activated (+1, excited). Both axes
are the ones the affective-norms literature rates words on (Bradley & Lang 1999; Warriner,
Kuperman & Brysbaert 2013: 9-point scales, which map onto -1..1 as ``(rating - 5) / 4``).

The presets are placed where those sources put the emotion words that name them: happy and
triumphant high on both axes, angry and tense unpleasant and activated, sad and melancholic
unpleasant and deactivated, calm, peaceful and tender pleasant and deactivated. Coordinates are
this project's placements in that style (rounded to 0.05), not values copied from a norms table.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

VALENCE_MIN, VALENCE_MAX = -1.0, 1.0
AROUSAL_MIN, AROUSAL_MAX = -1.0, 1.0


def check_unit_float(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a real number in -1..1, else raise.

    Raises ``TypeError('NAME must be a number')`` (``bool`` and strings are not numbers here) or
    ``ValueError('NAME must be in range -1..1')`` (NaN included).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number")
    number = float(value)
    if not (-1.0 <= number <= 1.0):  # also rejects NaN
        raise ValueError(f"{name} must be in range -1..1")
    return number


@dataclass(frozen=True, slots=True)
class Mood:
    """A mood: valence (sad -1 … happy +1) and arousal (calm -1 … excited +1), both floats.

    Ints are accepted and stored as floats; anything else raises ``TypeError``; a value outside
    -1..1 raises ``ValueError('valence must be in range -1..1')`` (or ``arousal …``).
    """

    valence: float = 0.0
    arousal: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "valence", check_unit_float("valence", self.valence))
        object.__setattr__(self, "arousal", check_unit_float("arousal", self.arousal))

    @classmethod
    def clamped(cls, valence: float, arousal: float) -> Mood:
        """Build a mood from any finite numbers, clamping each axis into -1..1."""
        return cls(min(1.0, max(-1.0, float(valence))), min(1.0, max(-1.0, float(arousal))))

    def distance(self, other: Mood) -> float:
        """Euclidean distance on the valence/arousal plane (0 … 2√2)."""
        return math.hypot(self.valence - other.valence, self.arousal - other.arousal)

    def with_valence(self, valence: float) -> Mood:
        return Mood(valence, self.arousal)

    def with_arousal(self, arousal: float) -> Mood:
        return Mood(self.valence, arousal)

    @property
    def quadrant(self) -> str:
        """Which quadrant of the circumplex: ``"+V+A"``, ``"+V-A"``, ``"-V+A"`` or ``"-V-A"``.

        Zero counts as positive (the neutral mood is ``"+V+A"``).
        """
        return f"{'+' if self.valence >= 0 else '-'}V{'+' if self.arousal >= 0 else '-'}A"

    def to_dict(self) -> dict[str, float]:
        return {"valence": self.valence, "arousal": self.arousal}


NEUTRAL = Mood(0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Preset:
    """A named mood with a one-line description (what it sounds like)."""

    name: str
    mood: Mood
    description: str


def _preset(name: str, valence: float, arousal: float, description: str) -> tuple[str, Preset]:
    return name, Preset(name, Mood(valence, arousal), description)


# Ordered around the circumplex, counter-clockwise from "happy" (the order a GUI lists them in).
PRESETS: OrderedDict[str, Preset] = OrderedDict(
    [
        _preset("happy", 0.80, 0.50, "bright and lively: major mode, quick, mid-high register, fairly loud"),
        _preset("playful", 0.60, 0.65, "light and bouncy: major, busy rhythms, short detached notes"),
        _preset("triumphant", 0.85, 0.75, "victorious: major, strong, loud and bright, marching rhythms"),
        _preset("epic", 0.40, 0.90, "grand and driving: full dynamics, energetic rhythm, broad gestures"),
        _preset("tense", -0.45, 0.65, "suspense: minor, restless rhythm, dissonant, growing louder"),
        _preset("angry", -0.75, 0.80, "aggressive: minor, loud, fast, harsh and detached"),
        _preset("mysterious", -0.30, -0.20, "uncertain: minor, sparse, soft, low and a little dissonant"),
        _preset("melancholic", -0.45, -0.35, "wistful: minor, slow-moving, legato, soft"),
        _preset("sad", -0.80, -0.50, "grief: minor, slow, low register, quiet and legato"),
        _preset("calm", 0.35, -0.80, "still: few notes, soft, smooth and consonant"),
        _preset("peaceful", 0.70, -0.60, "serene: major, slow, soft, consonant and flowing"),
        _preset("tender", 0.60, -0.35, "warm and intimate: major, gentle pace, soft, legato"),
    ]
)


def preset(name: str) -> Mood:
    """Return the mood of the preset called ``name`` (case-insensitive).

    Raises ``TypeError('preset name must be a str')`` or
    ``ValueError("unknown preset 'NAME'; expected one of happy, playful, …")``.
    """
    if not isinstance(name, str):
        raise TypeError("preset name must be a str")
    key = name.strip().lower()
    if key not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}")
    return PRESETS[key].mood


def nearest_preset(mood: Mood) -> Preset:
    """The preset closest to ``mood`` on the valence/arousal plane (ties: the first listed)."""
    return min(PRESETS.values(), key=lambda p: mood.distance(p.mood))
