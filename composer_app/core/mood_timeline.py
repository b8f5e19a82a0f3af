"""The mood timeline: valence/arousal points at bar positions, blended from one to the next.

A point says "from this bar on, the mood is (valence, arousal)"; the change from the previous
point's mood is not a jump but a blend over the point's ``blend_bars`` (a smoothstep starting at
the point, so the new mood is reached ``blend_bars`` after it). Before the first point the first
point's mood holds. ``label`` is an optional name shown on the lane and the ruler (a scene's
emotion, "storm"...).

Qt-free and torch-free; values are immutable and validated with exact messages. Valence and arousal
are plain floats in -1..1 here (``composer_app.mood.Mood`` is built from them by the mood layer:
core depends on nothing of ours).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Iterable

from composer_app.core.validate import check_real

MAX_POINTS = 4096  # a timeline (and a file) holds at most this many points
MAX_BAR = 100_000.0  # points lie in 0 <= bar <= MAX_BAR
MAX_BLEND_BARS = 64.0
MAX_LABEL_CHARS = 80
DEFAULT_BLEND_BARS = 1.0


def _unit(name: str, value: object) -> float:
    return check_real(name, value, -1.0, 1.0)


@dataclass(frozen=True, slots=True)
class MoodPoint:
    """The mood from ``bar`` on (bars from the start of the piece, 0-based, fractional allowed)."""

    bar: float
    valence: float
    arousal: float
    blend_bars: float = DEFAULT_BLEND_BARS
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "bar", check_real("bar", self.bar, 0.0, MAX_BAR))
        object.__setattr__(self, "valence", _unit("valence", self.valence))
        object.__setattr__(self, "arousal", _unit("arousal", self.arousal))
        object.__setattr__(self, "blend_bars", check_real("blend_bars", self.blend_bars, 0.0, MAX_BLEND_BARS))
        if not isinstance(self.label, str):
            raise TypeError("label must be a str")
        if len(self.label) > MAX_LABEL_CHARS:
            raise ValueError(f"label must be at most {MAX_LABEL_CHARS} characters")

    def moved(self, bar: float) -> MoodPoint:
        return replace(self, bar=bar)

    def with_mood(self, valence: float, arousal: float) -> MoodPoint:
        return replace(self, valence=valence, arousal=arousal)

    def to_list(self) -> list:
        """``[bar, valence, arousal, blend_bars, label]`` (the project file's form)."""
        return [self.bar, self.valence, self.arousal, self.blend_bars, self.label]


def smoothstep(x: float) -> float:
    """0 at x <= 0, 1 at x >= 1, 3x² − 2x³ between (no jump in the blend's slope at either end)."""
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True, slots=True)
class MoodTimeline:
    """Points sorted by bar, at most one per bar position; see the module docstring for the blend."""

    points: tuple[MoodPoint, ...] = ()

    def __post_init__(self) -> None:
        points = tuple(self.points)
        if len(points) > MAX_POINTS:
            raise ValueError(f"a mood timeline holds at most {MAX_POINTS} points")
        for point in points:
            if not isinstance(point, MoodPoint):
                raise TypeError("points must be MoodPoint values")
        points = tuple(sorted(points, key=lambda p: p.bar))
        for before, after in zip(points, points[1:]):
            if before.bar == after.bar:
                raise ValueError(f"two points at bar {after.bar:g}")
        object.__setattr__(self, "points", points)

    @classmethod
    def constant(cls, valence: float, arousal: float) -> MoodTimeline:
        return cls((MoodPoint(0.0, valence, arousal, 0.0),))

    def __bool__(self) -> bool:
        return bool(self.points)

    def mood_at(self, bar: float) -> tuple[float, float]:
        """(valence, arousal) at a position in bars; (0, 0) for an empty timeline."""
        if not self.points:
            return 0.0, 0.0
        if not math.isfinite(bar) or bar <= self.points[0].bar:
            first = self.points[0]
            return first.valence, first.arousal
        # Walk the points: ``start`` is the mood each blend starts from (where the previous one had got to).
        start_v, start_a = self.points[0].valence, self.points[0].arousal
        for index, point in enumerate(self.points):
            following = self.points[index + 1].bar if index + 1 < len(self.points) else math.inf
            until = min(bar, following)
            if index == 0 or point.blend_bars <= 0:
                v, a = point.valence, point.arousal
            else:
                weight = smoothstep((until - point.bar) / point.blend_bars)
                v, a = start_v + (point.valence - start_v) * weight, start_a + (point.arousal - start_a) * weight
            if bar < following:
                return v, a
            start_v, start_a = v, a
        return start_v, start_a  # not reached: the last point's ``following`` is infinite

    def per_bar(self, start_bar: int, bars: int) -> tuple[tuple[float, float], ...]:
        """(valence, arousal) for each of ``bars`` bars from ``start_bar``, read at each bar's middle."""
        if bars < 0:
            raise ValueError("bars must be >= 0")
        return tuple(self.mood_at(start_bar + i + 0.5) for i in range(bars))

    def with_point(self, point: MoodPoint) -> MoodTimeline:
        """A copy with ``point`` added (replacing any point at the same bar)."""
        return MoodTimeline(tuple(p for p in self.points if p.bar != point.bar) + (point,))

    def without_point(self, bar: float) -> MoodTimeline:
        return MoodTimeline(tuple(p for p in self.points if p.bar != bar))

    def point_at(self, bar: float) -> MoodPoint | None:
        return next((p for p in self.points if p.bar == bar), None)

    def to_list(self) -> list[list]:
        return [p.to_list() for p in self.points]

    @classmethod
    def from_list(cls, value: Any) -> MoodTimeline:
        """Build from the file form (a list of ``[bar, valence, arousal, blend_bars, label]``).

        Bounded: more than ``MAX_POINTS`` rows are refused before any is built. Raises ``TypeError``
        or ``ValueError`` with a message naming the row (``points[3]: valence must be in range -1..1``).
        """
        if not isinstance(value, list):
            raise TypeError("mood_timeline must be a list")
        if len(value) > MAX_POINTS:
            raise ValueError(f"a mood timeline holds at most {MAX_POINTS} points")
        points = []
        for i, row in enumerate(value):
            if not isinstance(row, list) or not 3 <= len(row) <= 5:
                raise ValueError(f"points[{i}] must be a list [bar, valence, arousal, blend_bars, label]")
            try:
                points.append(MoodPoint(*row))
            except (TypeError, ValueError) as error:
                raise type(error)(f"points[{i}]: {error}") from None
        return cls(tuple(points))


def timeline_from_points(points: Iterable[tuple[float, float, float]], blend_bars: float = DEFAULT_BLEND_BARS) -> MoodTimeline:
    """A timeline from ``(bar, valence, arousal)`` triples, each blending in over ``blend_bars``."""
    return MoodTimeline(tuple(MoodPoint(b, v, a, blend_bars) for b, v, a in points))
