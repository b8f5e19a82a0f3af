"""Mood → target values of the musical attributes: the one table, and ``targets_for``.

Every controllable attribute of ``composer_app.core.attributes`` gets a target computed from the
mood by one row of ``ATTRIBUTE_TABLE``. The model is additive, as Eerola, Friberg & Bresin (2013)
found for listeners' ratings: each cue adds its own contribution with hardly any interaction, and
cue strength ranks mode > tempo > register > dynamics > articulation. Valence is carried mostly by
mode (``major_strength``) and register; arousal mostly by tempo / event rate (``note_density``,
``rhythmic_activity``), then dynamics (``velocity_mean``) and articulation.

A row is ``value = clamp(base + k_v·valence + k_a·arousal)`` ("linear"), or, for rates, the same sum
in octaves: ``value = clamp(base · 2^(k_v·valence + k_a·arousal))`` ("log2"), because tempo and
event rate are perceived on a ratio scale (twice as fast is one step, whatever the start).
All coefficients are ≥ 0 except where the sign is the finding (staccato and dissonance go with
arousal), so raising arousal never lowers density or loudness, and raising valence always raises
the major-mode target.

Calibration. Ranges and neutral values were set against ``compute_attributes`` on real pieces of
the music21 corpus (whole pieces; 5th–95th percentiles, median in brackets), measured 2026-11-21:

==================  =========================  =========================  ==========================
attribute           Essen folk songs (108)     Bach chorales, soprano (40) Bach chorales, 4 voices (40)
==================  =========================  =========================  ==========================
note_density        0.36 – 1.85  (1.12)        0.72 – 1.23  (0.95)        3.5 – 6.9  (4.3)
rhythmic_activity   0.09 – 0.46  (0.28)        0.18 – 0.31  (0.24)        0.27 – 0.49  (0.37)
pitch_mean          61.2 – 72.4  (69.4)        67.9 – 73.4  (70.3)        58.9 – 62.8  (60.9)
articulation        0.95 – 1.00  (0.99)        0.97 – 1.00  (1.00)        0.98 – 1.00  (1.00)
major_strength      −0.20 – 0.30  (0.10)       −0.24 – 0.22  (0.02)       −0.25 – 0.32  (0.13)
consonance          1.0 (one line)             1.0 (one line)             0.87 – 0.93  (0.90)
==================  =========================  =========================  ==========================

Reels and hornpipes (Ryan's Mammoth) reach about 2–3.5 onsets per beat. So the targets are for one
melodic line: density 0.7–2.8 onsets per beat around a neutral 1.4 (for a polyphonic texture the
engine scales density by its number of voices), rhythmic activity ≈ density / 4 (a single line on
the 16th grid), register 61–77 around 69, major strength ±0.3 (the corpus's minor and major pieces
sit near −0.2 and +0.2; the raw −1..1 scale is never reached), consonance 0.80–0.96 (it only
means anything where notes overlap: a single line always measures 1.0). The corpus is notated, so
its articulation is ~1.0 and its velocity constant: those two targets (0.5–1.0 and 45–115) are
not learnable from it and are meant to be applied when a candidate is rendered (durations shortened,
velocities set), with this table as their only source.

Sources:
- Eerola, T., Friberg, A. & Bresin, R. (2013). Emotional expression in music: contribution, linearity,
  and additivity of primary musical cues. *Frontiers in Psychology* 4:487.
- Gabrielsson, A. & Lindström, E. (2010). The role of structure in the musical expression of emotions.
  In Juslin & Sloboda (eds.), *Handbook of Music and Emotion*, 367–400. Oxford University Press.
- Juslin, P. N. & Laukka, P. (2003). Communication of emotions in vocal expression and music
  performance: different channels, same code? *Psychological Bulletin* 129(5), 770–814.
- Schubert, E. (2004). Modeling perceived emotion with continuous musical features.
  *Music Perception* 21(4), 561–585.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from composer_app.mood.mood import Mood

# The attributes of composer_app.core.attributes that a mood sets a target for (same names and
# units), in the order of core's ATTRIBUTE_NAMES; pitch_min/pitch_max are not targeted (register
# is pitch_mean). ``tempo_bpm_factor`` is not a measured attribute: it scales a tempo the user has
# not fixed (a continuation keeps its prompt's tempo, so the engine may ignore it).
CONTROLLED_ATTRIBUTES = (
    "note_density",
    "rhythmic_activity",
    "pitch_mean",
    "velocity_mean",
    "articulation",
    "major_strength",
    "consonance",
)
TARGET_NAMES = (*CONTROLLED_ATTRIBUTES, "tempo_bpm_factor")

EEROLA_2013 = "Eerola, Friberg & Bresin 2013"
GABRIELSSON_2010 = "Gabrielsson & Lindström 2010"
JUSLIN_2003 = "Juslin & Laukka 2003"
SCHUBERT_2004 = "Schubert 2004"


@dataclass(frozen=True, slots=True)
class AttributeRule:
    """One row of the table: how a mood sets one attribute's target.

    ``value = clamp(base + valence_coef·v + arousal_coef·a, low, high)`` when ``scale == "linear"``;
    ``value = clamp(base · 2^(valence_coef·v + arousal_coef·a), low, high)`` when ``scale == "log2"``.
    ``valid_low..valid_high`` is what an override (an advanced slider) may set.
    """

    attribute: str
    unit: str
    driven_by: str  # which axis drives it, strongest first, with the sign of the effect
    scale: str  # "linear" or "log2"
    base: float  # the value at the neutral mood (0, 0)
    valence_coef: float
    arousal_coef: float
    low: float  # the range the mood mapping stays in
    high: float
    valid_low: float  # the range an override may use
    valid_high: float
    sources: tuple[str, ...]
    finding: str  # the finding the row encodes, in one line

    def value(self, mood: Mood) -> float:
        """The target this row gives for ``mood`` (clamped into ``low..high``)."""
        exponent_or_sum = self.valence_coef * mood.valence + self.arousal_coef * mood.arousal
        raw = self.base * 2.0**exponent_or_sum if self.scale == "log2" else self.base + exponent_or_sum
        return min(self.high, max(self.low, raw))

    def mapping_text(self) -> str:
        """The formula as a person reads it, e.g. ``67 + 5·V + 3·A`` or ``1.5 · 2^(0.1·V + 0.9·A)``."""
        terms = [(coef, axis) for coef, axis in ((self.valence_coef, "V"), (self.arousal_coef, "A")) if coef]
        signed = " ".join(
            f"{'−' if c < 0 else '+'} {'' if abs(c) == 1 else _fmt(abs(c)) + '·'}{axis}" for c, axis in terms
        )
        if self.scale == "log2":
            inner = signed[2:] if signed.startswith("+ ") else signed.replace("− ", "−", 1)
            return f"{'' if self.base == 1 else _fmt(self.base) + ' · '}2^({inner})"
        if self.base == 0:
            return signed[2:] if signed.startswith("+ ") else signed.replace("− ", "−", 1)
        return f"{_fmt(self.base)} {signed}".strip()

    def reachable(self) -> tuple[float, float]:
        """The lowest and highest target any mood gives (the row is monotonic in each axis)."""
        corners = [self.value(Mood(v, a)) for v in (-1.0, 1.0) for a in (-1.0, 1.0)]
        return min(corners), max(corners)

def _fmt(x: float) -> str:
    return f"{x:g}".replace("-", "−")


# THE table. Change a mapping here and only here; the README renders it with table_markdown().
ATTRIBUTE_TABLE: tuple[AttributeRule, ...] = (
    AttributeRule(
        "major_strength", "−1 minor … +1 major", "valence (+)", "linear",
        base=0.0, valence_coef=0.30, arousal_coef=0.0, low=-0.30, high=0.30, valid_low=-1.0, valid_high=1.0,
        sources=(EEROLA_2013, GABRIELSSON_2010, JUSLIN_2003),
        finding="mode is the strongest cue of all and acts on valence: major → happy, minor → sad",
    ),
    AttributeRule(
        "note_density", "onsets per beat", "arousal (+), valence (+, weak)", "log2",
        base=1.4, valence_coef=0.10, arousal_coef=1.00, low=0.7, high=3.0, valid_low=0.0, valid_high=16.0,
        sources=(EEROLA_2013, GABRIELSSON_2010, SCHUBERT_2004),
        finding="tempo / event rate is the second cue and drives arousal; fast also reads happier than slow",
    ),
    AttributeRule(
        "rhythmic_activity", "share of 16th slots with an onset", "arousal (+), valence (+, weak)", "log2",
        base=0.35, valence_coef=0.10, arousal_coef=1.00, low=0.15, high=0.75, valid_low=0.0, valid_high=1.0,
        sources=(GABRIELSSON_2010, JUSLIN_2003),
        finding="many short, busy rhythmic events → activity, excitement; sparse long notes → calm, sadness",
    ),
    AttributeRule(
        "pitch_mean", "MIDI pitch", "valence (+), arousal (+)", "linear",
        base=69.0, valence_coef=5.0, arousal_coef=3.0, low=55.0, high=79.0, valid_low=0.0, valid_high=127.0,
        sources=(EEROLA_2013, GABRIELSSON_2010, JUSLIN_2003),
        finding="register is the third cue: high → happy, bright, active; low → sad, solemn, threatening",
    ),
    AttributeRule(
        "velocity_mean", "MIDI velocity", "arousal (+), valence (+, weak)", "linear",
        base=80.0, valence_coef=5.0, arousal_coef=30.0, low=45.0, high=115.0, valid_low=1.0, valid_high=127.0,
        sources=(EEROLA_2013, SCHUBERT_2004, JUSLIN_2003),
        finding="dynamics is the fourth cue and the best single predictor of arousal: loud → excited, angry; soft → calm, sad, tender",
    ),
    AttributeRule(
        "articulation", "0 staccato … 1 legato", "arousal (−), valence (−, weak)", "linear",
        base=0.80, valence_coef=-0.05, arousal_coef=-0.25, low=0.45, high=1.0, valid_low=0.0, valid_high=1.0,
        sources=(EEROLA_2013, JUSLIN_2003, GABRIELSSON_2010),
        finding="articulation is the weakest cue: staccato → happy, angry, active; legato → sad, tender, calm",
    ),
    AttributeRule(
        "consonance", "0 … 1", "valence (+), arousal (−)", "linear",
        base=0.88, valence_coef=0.05, arousal_coef=-0.03, low=0.75, high=1.0, valid_low=0.0, valid_high=1.0,
        sources=(GABRIELSSON_2010,),
        finding="dissonance → tension, agitation, unpleasantness; consonance → calm, pleasant (only where notes overlap)",
    ),
    AttributeRule(
        "tempo_bpm_factor", "× the tempo", "arousal (+), valence (+, weak)", "log2",
        base=1.0, valence_coef=0.05, arousal_coef=0.35, low=0.75, high=1.33, valid_low=0.25, valid_high=4.0,
        sources=(EEROLA_2013, GABRIELSSON_2010, SCHUBERT_2004),
        finding="tempo drives arousal (second cue); applies only where the user has not fixed the tempo",
    ),
)

RULES: dict[str, AttributeRule] = {rule.attribute: rule for rule in ATTRIBUTE_TABLE}
assert set(RULES) == set(TARGET_NAMES), "every target has exactly one row"


@dataclass(frozen=True, slots=True)
class AttributeTargets:
    """Target values for the controllable attributes; ``None`` means "no target, let it be".

    Units are those of ``composer_app.core.attributes`` (see ``ATTRIBUTE_TABLE``). Each value is
    validated: ``TypeError('NAME must be a number or None')`` or
    ``ValueError('NAME must be in range LOW..HIGH')`` with the row's override range.
    """

    note_density: float | None = None
    rhythmic_activity: float | None = None
    pitch_mean: float | None = None
    velocity_mean: float | None = None
    articulation: float | None = None
    major_strength: float | None = None
    consonance: float | None = None
    tempo_bpm_factor: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _check_target(f.name, getattr(self, f.name)))

    def to_dict(self) -> dict[str, float | None]:
        """All targets by name, in ``TARGET_NAMES`` order (``None`` where there is none)."""
        return {name: getattr(self, name) for name in TARGET_NAMES}

    def items(self) -> list[tuple[str, float]]:
        """The targets that are set, as ``(name, value)`` pairs in ``TARGET_NAMES`` order."""
        return [(name, value) for name, value in self.to_dict().items() if value is not None]

    def with_overrides(self, overrides: Mapping[str, float | None] | None) -> AttributeTargets:
        """Return a copy with single targets replaced (``None`` clears one).

        Raises ``ValueError("unknown attribute 'NAME'; expected one of …")`` for a name that has no
        row, and the usual validation errors for a bad value.
        """
        if not overrides:
            return self
        values = self.to_dict()
        for name, value in overrides.items():
            if name not in RULES:
                raise ValueError(f"unknown attribute {name!r}; expected one of {', '.join(TARGET_NAMES)}")
            values[name] = value
        return AttributeTargets(**values)


def _check_target(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number or None")
    rule = RULES[name]
    number = float(value)
    if not (rule.valid_low <= number <= rule.valid_high):  # also rejects NaN
        raise ValueError(f"{name} must be in range {rule.valid_low:g}..{rule.valid_high:g}")
    return number


def targets_for(mood: Mood, overrides: Mapping[str, float | None] | None = None) -> AttributeTargets:
    """The attribute targets ``ATTRIBUTE_TABLE`` gives for ``mood``, then ``overrides`` applied.

    ``overrides`` (the advanced sliders) replace single targets by name; a ``None`` value clears
    that target. Raises ``TypeError('mood must be a Mood')`` for anything but a ``Mood``.
    """
    if not isinstance(mood, Mood):
        raise TypeError("mood must be a Mood")
    targets = AttributeTargets(**{rule.attribute: rule.value(mood) for rule in ATTRIBUTE_TABLE})
    return targets.with_overrides(overrides)


def table_markdown() -> str:
    """``ATTRIBUTE_TABLE`` as a Markdown table (for the README), with a line on how to read it."""
    lines = [
        "V = valence, A = arousal, both −1..1. Each target is the sum of independent contributions "
        "(cues act additively, Eerola, Friberg & Bresin 2013), clamped into its range; rows in order "
        "of cue strength. Advanced sliders override single targets. Rates (log2 rows) add in octaves.",
        "",
        "| attribute | unit | driven by | mapping | range reached | finding | sources |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule in ATTRIBUTE_TABLE:
        low, high = rule.reachable()
        lines.append(
            f"| `{rule.attribute}` | {rule.unit} | {rule.driven_by} | {rule.mapping_text()} "
            f"| {_fmt(round(low, 2))} … {_fmt(round(high, 2))} | {rule.finding} | {'; '.join(rule.sources)} |"
        )
    return "\n".join(lines) + "\n"
