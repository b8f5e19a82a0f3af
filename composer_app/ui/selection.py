"""The note selection: a multiset of note values in the current track.

Notes are immutable values without ids, so the selection identifies notes by value and counts
duplicates: selecting one of two identical notes selects exactly one of them (``Counter``
semantics). Every edit returns the selection it leaves behind (the moved notes, the pasted
notes, …) and the undo command stores the selection before and after, so selection survives
edit, undo and redo. After an edit that does not say, the old selection is intersected with
the new notes (notes that still exist stay selected).
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Iterator

from composer_app.core.note import Note


class Selection:
    """An immutable multiset of notes."""

    __slots__ = ("_counts", "_size")

    def __init__(self, notes: Iterable[Note] = ()):
        self._counts: Counter[Note] = Counter(notes)
        self._size = sum(self._counts.values())

    def __contains__(self, note: object) -> bool:
        return note in self._counts

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def __iter__(self) -> Iterator[Note]:
        return iter(sorted(self._counts.elements()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Selection) and self._counts == other._counts

    def __hash__(self) -> int:
        return hash(frozenset(self._counts.items()))

    def __repr__(self) -> str:
        return f"Selection({list(self)!r})"

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(self)

    def count(self, note: Note) -> int:
        return self._counts.get(note, 0)

    def union(self, notes: Iterable[Note]) -> Selection:
        """Add notes (a note already selected is not added twice)."""
        counts = Counter(self._counts)
        for note, n in Counter(notes).items():
            counts[note] = max(counts[note], n)
        return Selection(counts.elements())

    def toggled(self, notes: Iterable[Note]) -> Selection:
        """Select the given notes that are unselected and unselect those that are selected."""
        counts = Counter(self._counts)
        for note in set(notes):
            if counts.get(note):
                del counts[note]
            else:
                counts[note] = 1
        return Selection(counts.elements())

    def restricted_to(self, notes: Iterable[Note]) -> Selection:
        """The part of this selection that still exists among ``notes`` (multiset intersection)."""
        return Selection((self._counts & Counter(notes)).elements())

    def split(self, notes: Iterable[Note]) -> tuple[list[Note], list[Note]]:
        """Split ``notes`` into (selected, unselected), honouring duplicate counts."""
        remaining = Counter(self._counts)
        selected: list[Note] = []
        unselected: list[Note] = []
        for note in notes:
            if remaining.get(note, 0) > 0:
                remaining[note] -= 1
                selected.append(note)
            else:
                unselected.append(note)
        return selected, unselected
