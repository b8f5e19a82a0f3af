"""The generators' plain results: ``Candidate``, a ``Clip`` with facts about how it was made.

``Prompt`` is the same ``core.clip.Clip`` (kept as a name for the engine's callers). No torch
here: candidates cross from the generation worker process to the GUI as pickles, and unpickling
a class imports its module; importing torch on the GUI process's reader thread held the
interpreter lock for ~0.5 s and added ~150 k objects that later full garbage collections had to
scan (30-80 ms stalls).
"""

from __future__ import annotations

from dataclasses import dataclass

from composer_app.core.attributes import Attributes
from composer_app.core.clip import Clip
from composer_app.core.theory import Key

Prompt = Clip  # the music to continue


@dataclass(frozen=True)
class Candidate(Clip):
    """One generated clip: notes from tick 0 = the bar after the prompt, in the prompt's tempo/meter."""

    key: Key
    bars: int
    length_ticks: int
    generator: str  # the registry name of the generator that made it
    seed: int
    attributes: Attributes
    seconds: float
    finished: bool  # False when a time/token bound cut it short
    index: int = 0  # its place in the request (compare requests number across generators)
