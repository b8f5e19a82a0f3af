"""A track: a named, immutable sequence of notes played with one GM program on one channel."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

from composer_app.core.limits import check_name
from composer_app.core.note import MIDI_CHANNEL_MAX, Note
from composer_app.core.validate import check_int

DRUM_CHANNEL = 9  # General MIDI percussion ("channel 10" to musicians)
DEFAULT_VOLUME = 100  # MIDI controller 7 (channel volume), the General MIDI default
PAN_CENTRE = 64  # MIDI controller 10 (pan): 0 hard left, 64 centre, 127 hard right
CONTROLLER_VOLUME = 7
CONTROLLER_PAN = 10


@dataclass(frozen=True, slots=True)
class Track:
    """Name, General MIDI program (0..127), channel (0..15), sorted notes, mute, solo, volume and pan.

    ``notes`` is always a tuple sorted by (start_tick, pitch); pass any iterable to the constructor.
    Each note carries its own channel; ``channel`` is where the track's notes are played by default
    and where new notes go. ``volume`` and ``pan`` (0..127) are sent as controllers 7 and 10 before
    the track plays (pan 64 = centre).
    """

    name: str = "Track"
    program: int = 0
    channel: int = 0
    notes: tuple[Note, ...] = field(default=())
    mute: bool = False
    solo: bool = False
    volume: int = DEFAULT_VOLUME
    pan: int = PAN_CENTRE
    # Measured once when the track is built (the project checks its limits with them).
    _end_tick: int = field(default=0, init=False, repr=False, compare=False)
    _longest_note_ticks: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError("name must be a str")
        check_name("name", self.name)
        check_int("program", self.program, 0, 127)
        check_int("channel", self.channel, 0, MIDI_CHANNEL_MAX)
        check_int("volume", self.volume, 0, 127)
        check_int("pan", self.pan, 0, 127)
        notes = tuple(self.notes)
        end_tick = longest = 0
        for note in notes:
            if not isinstance(note, Note):
                raise TypeError("notes must be Note values")
            if note.duration_ticks > longest:
                longest = note.duration_ticks
            if note.start_tick + note.duration_ticks > end_tick:
                end_tick = note.start_tick + note.duration_ticks
        object.__setattr__(self, "notes", tuple(sorted(notes)))
        object.__setattr__(self, "_end_tick", end_tick)
        object.__setattr__(self, "_longest_note_ticks", longest)

    @property
    def is_drums(self) -> bool:
        return self.channel == DRUM_CHANNEL

    @property
    def end_tick(self) -> int:
        """The end of the last-sounding note (0 for an empty track)."""
        return self._end_tick

    @property
    def longest_note_ticks(self) -> int:
        """The duration of the longest note (0 for an empty track)."""
        return self._longest_note_ticks

    def with_notes(self, notes: Iterable[Note]) -> Track:
        return replace(self, notes=tuple(notes))

    def with_name(self, name: str) -> Track:
        return replace(self, name=name)

    def notes_between(self, start_tick: int, end_tick: int) -> tuple[Note, ...]:
        """Notes that start in ``start_tick <= start < end_tick``."""
        return tuple(n for n in self.notes if start_tick <= n.start_tick < end_tick)
