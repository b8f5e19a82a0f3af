"""Qt-free mood model: Mood, presets, mood -> musical attribute targets, text -> mood.

- ``mood``: ``Mood(valence, arousal)``, ``PRESETS``, ``preset(name)``, ``nearest_preset(mood)``;
- ``targets``: ``ATTRIBUTE_TABLE`` (the one documented mood → attribute table), ``AttributeTargets``,
  ``targets_for(mood, overrides)``, ``table_markdown()``;
- ``text``: ``read_mood(text) -> MoodReading`` (offline affect lexicon; imported on first use).
"""

from composer_app.mood.mood import NEUTRAL, PRESETS, Mood, Preset, nearest_preset, preset
from composer_app.mood.targets import (
    ATTRIBUTE_TABLE,
    CONTROLLED_ATTRIBUTES,
    TARGET_NAMES,
    AttributeRule,
    AttributeTargets,
    table_markdown,
    targets_for,
)

__all__ = [
    "ATTRIBUTE_TABLE",
    "CONTROLLED_ATTRIBUTES",
    "NEUTRAL",
    "PRESETS",
    "TARGET_NAMES",
    "AttributeRule",
    "AttributeTargets",
    "Mood",
    "Preset",
    "nearest_preset",
    "preset",
    "table_markdown",
    "targets_for",
]
