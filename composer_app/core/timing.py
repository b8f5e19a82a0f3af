"""Tempo and time-signature maps: conversions between ticks, beats, bars and seconds.

Ticks count from the start of the project at ``ticks_per_quarter`` per quarter note.
"Beats" in ``ticks_to_beats`` are quarter notes; bars and the beat inside a bar follow the
time-signature map (a 6/8 bar has six eighth-note beats). Both maps are immutable and sorted,
always have an entry at tick 0, and keep one entry per tick (a later change at the same tick wins).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from composer_app.core.limits import check_meter_fits, check_span
from composer_app.core.validate import check_int

DEFAULT_TICKS_PER_QUARTER = 480
DEFAULT_MICROSECONDS_PER_QUARTER = 500_000  # 120 BPM, the MIDI default
MICROSECONDS_PER_MINUTE = 60_000_000


def bpm_to_microseconds_per_quarter(bpm: float) -> int:
    """Tempo in beats (quarters) per minute -> MIDI tempo in microseconds per quarter."""
    if not bpm > 0:
        raise ValueError("bpm must be > 0")
    return round(MICROSECONDS_PER_MINUTE / bpm)


def microseconds_per_quarter_to_bpm(microseconds_per_quarter: int) -> float:
    """MIDI tempo in microseconds per quarter -> beats (quarters) per minute."""
    return MICROSECONDS_PER_MINUTE / microseconds_per_quarter


def ticks_to_beats(tick: int, ticks_per_quarter: int) -> float:
    """Ticks -> quarter-note beats."""
    return tick / ticks_per_quarter


def beats_to_ticks(beats: float, ticks_per_quarter: int) -> int:
    """Quarter-note beats -> ticks (rounded to the nearest tick)."""
    return round(beats * ticks_per_quarter)


@dataclass(frozen=True, slots=True)
class TempoChange:
    """From ``tick`` on, a quarter note lasts ``microseconds_per_quarter``."""

    tick: int
    microseconds_per_quarter: int

    def __post_init__(self) -> None:
        check_int("tick", self.tick, 0)
        check_int("microseconds_per_quarter", self.microseconds_per_quarter, 1, 0xFFFFFF)

    @property
    def bpm(self) -> float:
        return microseconds_per_quarter_to_bpm(self.microseconds_per_quarter)


@dataclass(frozen=True, slots=True)
class TimeSignatureChange:
    """From ``tick`` on, bars hold ``numerator`` beats of a ``1/denominator`` note."""

    tick: int
    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        check_int("tick", self.tick, 0)
        check_int("numerator", self.numerator, 1, 255)
        check_int("denominator", self.denominator, 1, 128)
        if self.denominator & (self.denominator - 1):
            raise ValueError("denominator must be a power of two")

    def ticks_per_beat(self, ticks_per_quarter: int) -> int:
        return ticks_per_quarter * 4 // self.denominator

    def ticks_per_bar(self, ticks_per_quarter: int) -> int:
        return self.numerator * self.ticks_per_beat(ticks_per_quarter)


def _normalised(changes, default):
    """Sort by tick, keep the last change at each tick, and make sure tick 0 is covered."""
    by_tick = {}
    for change in sorted(changes, key=lambda c: c.tick):
        by_tick[change.tick] = change
    if 0 not in by_tick:
        by_tick[0] = default
    return tuple(by_tick[t] for t in sorted(by_tick))


class TempoMap:
    """Immutable list of tempo changes with tick <-> seconds conversion."""

    __slots__ = ("changes", "_ticks", "_seconds_at_change", "_tpq")

    def __init__(self, changes=(), ticks_per_quarter: int = DEFAULT_TICKS_PER_QUARTER):
        check_int("ticks_per_quarter", ticks_per_quarter, 1)
        self.changes: tuple[TempoChange, ...] = _normalised(
            changes, TempoChange(0, DEFAULT_MICROSECONDS_PER_QUARTER)
        )
        check_span("a tempo change", self.changes[-1].tick, ticks_per_quarter)  # before any float of a tick
        self._ticks = [c.tick for c in self.changes]
        seconds = [0.0]
        for previous, change in zip(self.changes, self.changes[1:]):
            span_ticks = change.tick - previous.tick
            seconds.append(seconds[-1] + span_ticks * previous.microseconds_per_quarter / 1e6 / ticks_per_quarter)
        self._seconds_at_change = seconds
        self._tpq = ticks_per_quarter

    @classmethod
    def constant(cls, bpm: float, ticks_per_quarter: int = DEFAULT_TICKS_PER_QUARTER) -> TempoMap:
        return cls([TempoChange(0, bpm_to_microseconds_per_quarter(bpm))], ticks_per_quarter)

    @property
    def ticks_per_quarter(self) -> int:
        return self._tpq

    def change_at(self, tick: int) -> TempoChange:
        """The tempo change in force at ``tick``."""
        return self.changes[bisect.bisect_right(self._ticks, tick) - 1]

    def bpm_at(self, tick: int) -> float:
        return self.change_at(max(tick, 0)).bpm

    def tick_to_seconds(self, tick: float) -> float:
        """Seconds from the project start to ``tick`` (ticks may be fractional)."""
        if tick < 0:
            raise ValueError("tick must be >= 0")
        i = bisect.bisect_right(self._ticks, tick) - 1
        change = self.changes[i]
        return self._seconds_at_change[i] + (tick - change.tick) * change.microseconds_per_quarter / 1e6 / self._tpq

    def seconds_to_tick(self, seconds: float) -> float:
        """Ticks (fractional) reached after ``seconds`` from the project start."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        i = bisect.bisect_right(self._seconds_at_change, seconds) - 1
        change = self.changes[i]
        return change.tick + (seconds - self._seconds_at_change[i]) * 1e6 * self._tpq / change.microseconds_per_quarter

    def with_ticks_per_quarter(self, ticks_per_quarter: int) -> TempoMap:
        """The same tempo map over a different tick resolution (ticks rescaled)."""
        scale = ticks_per_quarter / self._tpq
        return TempoMap(
            [TempoChange(round(c.tick * scale), c.microseconds_per_quarter) for c in self.changes], ticks_per_quarter
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TempoMap) and self.changes == other.changes and self._tpq == other._tpq

    def __hash__(self) -> int:
        return hash((self.changes, self._tpq))

    def __repr__(self) -> str:
        return f"TempoMap({list(self.changes)!r}, ticks_per_quarter={self._tpq})"


@dataclass(frozen=True, slots=True)
class BarPosition:
    """A musical position: 0-based bar, 0-based beat in that bar, ticks into that beat."""

    bar: int
    beat: int
    tick_in_beat: int

    def __str__(self) -> str:
        """1-based "bar:beat" as DAWs show it (``tick_in_beat`` left out)."""
        return f"{self.bar + 1}:{self.beat + 1}"


class TimeSignatureMap:
    """Immutable list of time-signature changes with tick <-> bar conversion.

    A change that does not fall on a bar line starts a new bar there (as notation programs do).
    Every meter's beat must be a whole number of ticks (``limits.check_meter_fits``: no 4/8 at
    1 tick per quarter), else ``LimitError``.
    """

    __slots__ = ("changes", "_ticks", "_bar_at_change", "_tpq")

    def __init__(self, changes=(), ticks_per_quarter: int = DEFAULT_TICKS_PER_QUARTER):
        check_int("ticks_per_quarter", ticks_per_quarter, 1)
        self._tpq = ticks_per_quarter
        self.changes: tuple[TimeSignatureChange, ...] = _normalised(changes, TimeSignatureChange(0, 4, 4))
        for change in self.changes:  # a beat of half a tick would make bars and beats uncountable
            check_meter_fits(change.numerator, change.denominator, ticks_per_quarter)
        self._ticks = [c.tick for c in self.changes]
        bars = [0]
        for previous, change in zip(self.changes, self.changes[1:]):
            per_bar = previous.ticks_per_bar(ticks_per_quarter)
            bars.append(bars[-1] + -(-(change.tick - previous.tick) // per_bar))  # a partial bar counts as one
        self._bar_at_change = bars

    @property
    def ticks_per_quarter(self) -> int:
        return self._tpq

    def change_at(self, tick: int) -> TimeSignatureChange:
        return self.changes[bisect.bisect_right(self._ticks, tick) - 1]

    def ticks_per_bar_at(self, tick: int) -> int:
        return self.change_at(tick).ticks_per_bar(self._tpq)

    def tick_to_position(self, tick: int) -> BarPosition:
        """Tick -> (bar, beat, tick in beat), all 0-based."""
        check_int("tick", tick, 0)
        i = bisect.bisect_right(self._ticks, tick) - 1
        change = self.changes[i]
        offset = tick - change.tick
        per_bar, per_beat = change.ticks_per_bar(self._tpq), change.ticks_per_beat(self._tpq)
        bar_in_segment, in_bar = divmod(offset, per_bar)
        beat, tick_in_beat = divmod(in_bar, per_beat)
        return BarPosition(self._bar_at_change[i] + bar_in_segment, beat, tick_in_beat)

    def tick_to_bars(self, tick: float) -> float:
        """Tick -> fractional bars from the start (bar 1.5 = halfway through the second bar)."""
        if tick < 0:
            raise ValueError("tick must be >= 0")
        i = bisect.bisect_right(self._ticks, tick) - 1
        change = self.changes[i]
        return self._bar_at_change[i] + (tick - change.tick) / change.ticks_per_bar(self._tpq)

    def bar_to_tick(self, bar: float) -> int:
        """0-based bar number (may be fractional) -> tick of that point."""
        if bar < 0:
            raise ValueError("bar must be >= 0")
        i = bisect.bisect_right(self._bar_at_change, bar) - 1
        change = self.changes[i]
        return change.tick + round((bar - self._bar_at_change[i]) * change.ticks_per_bar(self._tpq))

    def position_to_tick(self, position: BarPosition) -> int:
        start = self.bar_to_tick(position.bar)
        return start + position.beat * self.change_at(start).ticks_per_beat(self._tpq) + position.tick_in_beat

    def next_bar_tick(self, tick: int) -> int:
        """The first bar line at or after ``tick``."""
        position = self.tick_to_position(tick)
        if position.beat == 0 and position.tick_in_beat == 0:
            return tick
        return self.bar_to_tick(position.bar + 1)

    def with_ticks_per_quarter(self, ticks_per_quarter: int) -> TimeSignatureMap:
        scale = ticks_per_quarter / self._tpq
        return TimeSignatureMap(
            [TimeSignatureChange(round(c.tick * scale), c.numerator, c.denominator) for c in self.changes],
            ticks_per_quarter,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeSignatureMap) and self.changes == other.changes and self._tpq == other._tpq

    def __hash__(self) -> int:
        return hash((self.changes, self._tpq))

    def __repr__(self) -> str:
        return f"TimeSignatureMap({list(self.changes)!r}, ticks_per_quarter={self._tpq})"
