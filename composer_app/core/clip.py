"""A clip: notes from tick 0 with the resolution, tempo map and meter they are read in.

The one bundle of "some music" that crosses module boundaries: the prompt a generator continues,
the candidates it returns (``generation.candidate.Candidate`` is a ``Clip`` with facts about how it
was made), a selection to vary or harmonize. Plain, immutable, Qt-free and torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from composer_app.core.note import Note
from composer_app.core.timing import TempoMap, TimeSignatureMap
from composer_app.core.validate import check_int


@dataclass(frozen=True)
class Clip:
    """Sorted notes, ticks per quarter note, and the tempo map and time signatures in force."""

    notes: tuple[Note, ...]
    ticks_per_quarter: int
    tempo_map: TempoMap
    time_signatures: TimeSignatureMap

    def __post_init__(self) -> None:
        check_int("ticks_per_quarter", self.ticks_per_quarter, 1)
        notes = tuple(self.notes)
        for note in notes:
            if not isinstance(note, Note):
                raise TypeError("notes must be Note values")
        object.__setattr__(self, "notes", tuple(sorted(notes)))
        if not isinstance(self.tempo_map, TempoMap):
            raise TypeError("tempo_map must be a TempoMap")
        if not isinstance(self.time_signatures, TimeSignatureMap):
            raise TypeError("time_signatures must be a TimeSignatureMap")

    @classmethod
    def from_notes(cls, notes: Iterable[Note], ticks_per_quarter: int) -> Clip:
        """Notes in 4/4 at the default tempo."""
        return cls(tuple(notes), ticks_per_quarter, TempoMap(ticks_per_quarter=ticks_per_quarter),
                   TimeSignatureMap(ticks_per_quarter=ticks_per_quarter))

    @property
    def end_tick(self) -> int:
        """The end of the last-sounding note (0 for an empty clip)."""
        return max((n.end_tick for n in self.notes), default=0)
