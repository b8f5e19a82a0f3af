"""An index over a track's notes for painting and hit-testing only what is visible.

Notes are sorted by start tick (``Track`` keeps them so). A note overlaps ``[t0, t1)`` when it
starts before ``t1`` and ends after ``t0``. Starts give the upper bound by bisection; a running
maximum of end ticks (non-decreasing) gives the lower bound by bisection, so a query costs
O(log n + k) even with long notes, where k is the number of notes in the window.
"""

from __future__ import annotations

import bisect
from itertools import accumulate

import numpy as np

from composer_app.core.note import Note


class NoteIndex:
    """Immutable index over a sorted tuple of notes."""

    __slots__ = ("notes", "starts", "_max_end_prefix", "_arrays")

    def __init__(self, notes: tuple[Note, ...]):
        self.notes = notes
        self.starts = [n.start_tick for n in notes]
        self._max_end_prefix = list(accumulate((n.start_tick + n.duration_ticks for n in notes), max))
        self._arrays = None

    def range_overlapping(self, start_tick: float, end_tick: float) -> tuple[int, int]:
        """Index range [lo, hi) that holds every note overlapping the window (and maybe a few more)."""
        lo = bisect.bisect_right(self._max_end_prefix, start_tick)
        hi = bisect.bisect_left(self.starts, end_tick)
        return lo, max(lo, hi)

    def overlapping(self, start_tick: float, end_tick: float, low_pitch: int = 0, high_pitch: int = 127) -> list[Note]:
        """Notes sounding somewhere in ``[start_tick, end_tick)`` with pitch in ``low..high``."""
        lo, hi = self.range_overlapping(start_tick, end_tick)
        return [
            n
            for n in self.notes[lo:hi]
            if n.start_tick + n.duration_ticks > start_tick and low_pitch <= n.pitch <= high_pitch
        ]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, pitches, velocities) as int arrays, built on first use."""
        if self._arrays is None:
            count = len(self.notes)
            data = np.fromiter(
                (v for n in self.notes for v in (n.start_tick, n.duration_ticks, n.pitch, n.velocity)),
                dtype=np.int64,
                count=4 * count,
            ).reshape(count, 4)
            self._arrays = (data[:, 0], data[:, 0] + data[:, 1], data[:, 2], data[:, 3])
        return self._arrays
