"""Voice-leading checks on four-voice grids (numpy only): what counts as an error, counted the same way
for Bach's own chorales and for generated harmonizations.

A grid is (4, T) MIDI pitches, soprano first, -1 for a rest. A *transition* is a step at which some
voice changes pitch, with all four voices sounding before and after. Per transition:

- parallel fifths / octaves: a pair of voices a perfect fifth (or octave/unison), modulo octaves,
  apart before and after, both voices having moved (contrary fifths count too, as in strict
  counterpoint);
- crossing: a voice below the next lower voice (alto under tenor, …);
- range: a voice outside its usual range (:data:`SATB_RANGES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SATB_RANGES = ((60, 79), (55, 74), (48, 67), (40, 62))  # soprano C4-G5, alto G3-D5, tenor C3-G4, bass E2-D4


@dataclass
class VoiceLeadingCounts:
    transitions: int = 0
    parallel_fifths: int = 0
    parallel_octaves: int = 0
    crossings: int = 0
    range_violations: int = 0

    def add(self, other: "VoiceLeadingCounts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def per_100(self) -> dict[str, float]:
        """Each error count per 100 transitions."""
        n = max(1, self.transitions)
        return {
            "parallel_fifths_octaves": round(100 * (self.parallel_fifths + self.parallel_octaves) / n, 3),
            "parallel_fifths": round(100 * self.parallel_fifths / n, 3),
            "parallel_octaves": round(100 * self.parallel_octaves / n, 3),
            "crossings": round(100 * self.crossings / n, 3),
            "range_violations": round(100 * self.range_violations / n, 3),
        }


def count_errors(grid: np.ndarray) -> VoiceLeadingCounts:
    """Voice-leading errors of one grid (see the module docstring)."""
    grid = np.asarray(grid)
    counts = VoiceLeadingCounts()
    for t in range(1, grid.shape[1]):
        before, after = grid[:, t - 1], grid[:, t]
        if (before < 0).any() or (after < 0).any() or (before == after).all():
            continue
        counts.transitions += 1
        moved = before != after
        for i in range(4):
            for j in range(i + 1, 4):
                if not (moved[i] and moved[j]):
                    continue
                a, b = (before[i] - before[j]) % 12, (after[i] - after[j]) % 12
                if a == b == 7:
                    counts.parallel_fifths += 1
                elif a == b == 0:
                    counts.parallel_octaves += 1
        counts.crossings += int(sum(after[v] < after[v + 1] for v in range(3)))
        counts.range_violations += int(sum(not (lo <= after[v] <= hi) for v, (lo, hi) in enumerate(SATB_RANGES)))
    return counts
