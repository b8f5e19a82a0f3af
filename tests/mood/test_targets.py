"""The mood → attribute table: shape, ranges, monotonicity, overrides, Markdown."""

import itertools

import pytest

from composer_app.mood import (
    ATTRIBUTE_TABLE,
    CONTROLLED_ATTRIBUTES,
    PRESETS,
    TARGET_NAMES,
    AttributeTargets,
    Mood,
    table_markdown,
    targets_for,
)
from composer_app.mood.targets import RULES

GRID = [i / 10 for i in range(-10, 11)]


def test_controlled_attributes_are_core_attributes():
    import composer_app.core.attributes as attributes
    assert set(CONTROLLED_ATTRIBUTES) <= set(attributes.ATTRIBUTE_NAMES)
    order = [n for n in attributes.ATTRIBUTE_NAMES if n in CONTROLLED_ATTRIBUTES]
    assert list(CONTROLLED_ATTRIBUTES) == order


def test_one_row_per_target_each_cited():
    assert [r.attribute for r in ATTRIBUTE_TABLE].count("note_density") == 1
    assert sorted(r.attribute for r in ATTRIBUTE_TABLE) == sorted(TARGET_NAMES)
    for rule in ATTRIBUTE_TABLE:
        assert rule.sources, rule.attribute
        assert rule.scale in ("linear", "log2")
        assert rule.valid_low <= rule.low < rule.high <= rule.valid_high
        assert rule.low <= rule.base <= rule.high


def test_targets_are_complete_and_neutral_is_base():
    targets = targets_for(Mood())
    assert [name for name, _ in targets.items()] == list(TARGET_NAMES)
    for rule in ATTRIBUTE_TABLE:
        assert getattr(targets, rule.attribute) == pytest.approx(rule.base)


# Realistic ranges for melodies (calibrated on the music21 corpus, see targets.py).
REALISTIC = {
    "note_density": (0.7, 3.0),
    "rhythmic_activity": (0.1, 0.8),
    "pitch_mean": (55.0, 79.0),
    "velocity_mean": (45.0, 115.0),
    "articulation": (0.45, 1.0),
    "major_strength": (-0.3, 0.3),
    "consonance": (0.75, 1.0),
    "tempo_bpm_factor": (0.75, 1.34),
}


def test_targets_stay_in_realistic_ranges_and_use_them():
    values = {name: [] for name in TARGET_NAMES}
    for v, a in itertools.product(GRID, GRID):
        for name, value in targets_for(Mood(v, a)).items():
            values[name].append(value)
    for name, (low, high) in REALISTIC.items():
        assert low - 1e-9 <= min(values[name]) and max(values[name]) <= high + 1e-9, name
        # The mood moves each attribute over a good part of its realistic range.
        assert max(values[name]) - min(values[name]) >= 0.4 * (high - low), name
    assert min(values["velocity_mean"]) == pytest.approx(45) and max(values["velocity_mean"]) == pytest.approx(115)


@pytest.mark.parametrize("valence", GRID)
def test_raising_arousal_never_lowers_activity_or_loudness(valence):
    previous = None
    for arousal in GRID:
        targets = targets_for(Mood(valence, arousal))
        if previous is not None:
            for name in ("note_density", "rhythmic_activity", "velocity_mean", "tempo_bpm_factor"):
                assert getattr(targets, name) >= getattr(previous, name), (name, valence, arousal)
            clamped = previous.note_density == RULES["note_density"].low or targets.note_density == RULES["note_density"].high
            assert targets.note_density > previous.note_density or clamped
            assert targets.articulation <= previous.articulation  # more detached when excited
        previous = targets


@pytest.mark.parametrize("arousal", GRID)
def test_raising_valence_raises_major_strength(arousal):
    previous = None
    for valence in GRID:
        targets = targets_for(Mood(valence, arousal))
        if previous is not None:
            assert targets.major_strength > previous.major_strength
            assert targets.pitch_mean > previous.pitch_mean
        previous = targets


def test_presets_differ_where_the_literature_says():
    t = {name: targets_for(p.mood) for name, p in PRESETS.items()}
    assert t["happy"].major_strength > 0 > t["sad"].major_strength
    assert t["happy"].note_density > t["sad"].note_density
    assert t["angry"].velocity_mean > t["tender"].velocity_mean
    assert t["playful"].articulation < t["calm"].articulation
    assert t["peaceful"].consonance > t["tense"].consonance
    assert t["triumphant"].pitch_mean > t["sad"].pitch_mean


def test_overrides_replace_single_targets():
    mood = Mood(-0.8, -0.5)
    base = targets_for(mood)
    over = targets_for(mood, {"note_density": 2.5, "major_strength": 0.4})
    assert over.note_density == 2.5 and over.major_strength == 0.4
    for name in TARGET_NAMES:
        if name not in ("note_density", "major_strength"):
            assert getattr(over, name) == getattr(base, name)
    cleared = targets_for(mood, {"tempo_bpm_factor": None})
    assert cleared.tempo_bpm_factor is None
    assert "tempo_bpm_factor" not in dict(cleared.items())
    assert targets_for(mood, {}) == base == targets_for(mood, None)


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"velocity_mean": 200}, ValueError, "velocity_mean must be in range 1..127"),
        ({"articulation": -0.1}, ValueError, "articulation must be in range 0..1"),
        ({"major_strength": 1.5}, ValueError, "major_strength must be in range -1..1"),
        ({"note_density": "fast"}, TypeError, "note_density must be a number or None"),
    ],
)
def test_override_validation_messages(overrides, error, message):
    with pytest.raises(error) as info:
        targets_for(Mood(), overrides)
    assert str(info.value) == message


def test_unknown_override_and_bad_mood():
    with pytest.raises(ValueError) as info:
        targets_for(Mood(), {"loudness": 1.0})
    assert str(info.value).startswith("unknown attribute 'loudness'; expected one of note_density, ")
    with pytest.raises(TypeError, match="^mood must be a Mood$"):
        targets_for((0.1, 0.2))  # type: ignore[arg-type]


def test_attribute_targets_value_type():
    targets = AttributeTargets(note_density=2, velocity_mean=90)
    assert targets.note_density == 2.0 and isinstance(targets.note_density, float)
    assert targets.pitch_mean is None
    assert targets.items() == [("note_density", 2.0), ("velocity_mean", 90.0)]
    assert targets.to_dict()["consonance"] is None
    with pytest.raises(ValueError, match=r"^pitch_mean must be in range 0\.\.127$"):
        AttributeTargets(pitch_mean=130)


def test_table_markdown_lists_every_row_with_citations():
    text = table_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [rule.attribute for rule in ATTRIBUTE_TABLE]
    for source in ("Eerola, Friberg & Bresin 2013", "Gabrielsson & Lindström 2010", "Juslin & Laukka 2003", "Schubert 2004"):
        assert source in text
    assert "| `velocity_mean` | MIDI velocity | arousal (+), valence (+, weak) | 80 + 5·V + 30·A | 45 … 115 |" in text
    assert RULES["note_density"].mapping_text() == "1.4 · 2^(0.1·V + A)"
