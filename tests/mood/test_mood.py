"""Mood values, their validation messages, and the presets' places on the circumplex."""

import dataclasses
import math

import pytest

from composer_app.mood import NEUTRAL, PRESETS, Mood, nearest_preset, preset


def test_mood_holds_floats():
    mood = Mood(1, -1)
    assert mood == Mood(1.0, -1.0)
    assert isinstance(mood.valence, float) and isinstance(mood.arousal, float)
    assert Mood() == NEUTRAL == Mood(0.0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"valence": 1.5}, ValueError, "valence must be in range -1..1"),
        ({"valence": -1.01}, ValueError, "valence must be in range -1..1"),
        ({"arousal": 2}, ValueError, "arousal must be in range -1..1"),
        ({"arousal": math.nan}, ValueError, "arousal must be in range -1..1"),
        ({"valence": math.inf}, ValueError, "valence must be in range -1..1"),
        ({"valence": "0.5"}, TypeError, "valence must be a number"),
        ({"arousal": None}, TypeError, "arousal must be a number"),
        ({"valence": True}, TypeError, "valence must be a number"),
    ],
)
def test_mood_validation_messages(kwargs, error, message):
    with pytest.raises(error) as info:
        Mood(**kwargs)
    assert str(info.value) == message


def test_mood_is_frozen_and_with_methods_copy():
    mood = Mood(0.2, 0.3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mood.valence = 0.5  # type: ignore[misc]
    assert mood.with_valence(-0.5) == Mood(-0.5, 0.3)
    assert mood.with_arousal(0.9) == Mood(0.2, 0.9)
    assert Mood.clamped(3.0, -7.0) == Mood(1.0, -1.0)


EXPECTED_QUADRANTS = {
    "happy": "+V+A",
    "playful": "+V+A",
    "triumphant": "+V+A",
    "epic": "+V+A",
    "tense": "-V+A",
    "angry": "-V+A",
    "mysterious": "-V-A",
    "melancholic": "-V-A",
    "sad": "-V-A",
    "calm": "+V-A",
    "peaceful": "+V-A",
    "tender": "+V-A",
}


def test_presets_cover_the_required_names_in_order():
    assert set(EXPECTED_QUADRANTS) <= set(PRESETS)
    assert list(PRESETS)[0] == "happy"
    for name, p in PRESETS.items():
        assert p.name == name
        assert isinstance(p.mood, Mood)
        assert p.description and "\n" not in p.description


@pytest.mark.parametrize(("name", "quadrant"), sorted(EXPECTED_QUADRANTS.items()))
def test_presets_lie_in_their_quadrant(name, quadrant):
    mood = preset(name)
    assert mood.quadrant == quadrant
    # Clearly inside it, not on an axis.
    assert abs(mood.valence) >= 0.2 and abs(mood.arousal) >= 0.2


def test_circumplex_relations():
    # Russell 1980: these pairs differ mainly along one axis.
    assert preset("angry").arousal > preset("sad").arousal
    assert preset("happy").valence > preset("sad").valence
    assert preset("calm").arousal < preset("tender").arousal < preset("happy").arousal
    assert preset("triumphant").valence > preset("epic").valence
    assert preset("sad").valence < preset("melancholic").valence


def test_preset_lookup_and_errors():
    assert preset("Sad") == preset(" sad ") == PRESETS["sad"].mood
    with pytest.raises(ValueError) as info:
        preset("grumpy")
    assert str(info.value).startswith("unknown preset 'grumpy'; expected one of happy, ")
    with pytest.raises(TypeError, match="^preset name must be a str$"):
        preset(3)  # type: ignore[arg-type]


def test_nearest_preset_of_each_preset_is_itself():
    for name, p in PRESETS.items():
        assert nearest_preset(p.mood).name == name
    assert nearest_preset(Mood(-1.0, -1.0)).name == "sad"
    assert nearest_preset(Mood(1.0, 1.0)).name == "triumphant"
