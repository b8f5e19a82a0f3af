"""The engine's plain results: ``Prompt`` and ``Candidate`` (no torch here).

They live apart from ``engine`` (which imports torch through ``sampling``) because candidates
cross from the generation worker process to the GUI as pickles: unpickling a class imports its
module, and importing torch on the GUI process's reader thread held the interpreter lock for
~0.5 s and added ~150 k objects that later full garbage collections had to scan (30-80 ms
stalls). ``engine`` re-exports both names.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer_app.core.attributes import Attributes
from composer_app.core.note import Note
from composer_app.core.theory import Key
from composer_app.core.timing import TempoMap, TimeSignatureMap


@dataclass(frozen=True)
class Prompt:
    """The music to continue, as plain values (what ``prompt_from`` extracts)."""

    notes: tuple[Note, ...]
    ticks_per_quarter: int
    tempo_map: TempoMap
    time_signatures: TimeSignatureMap


@dataclass(frozen=True)
class Candidate:
    """One continuation: notes from tick 0 = the bar after the prompt, in the prompt's tempo/meter."""

    notes: tuple[Note, ...]
    ticks_per_quarter: int
    tempo_map: TempoMap
    time_signatures: TimeSignatureMap
    key: Key
    bars: int
    length_ticks: int
    generator: str
    seed: int
    attributes: Attributes
    seconds: float
    finished: bool  # False when a time/token bound cut it short
    index: int = 0
