"""Music theory: scales, modes and keys.

(Key estimation, quantize and transpose are added to this module next to these definitions.)
"""

from __future__ import annotations

from dataclasses import dataclass

from composer_app.core.validate import check_int

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Semitone steps above the tonic for each mode. "major" = ionian and "minor" = aeolian (natural minor).
MODE_INTERVALS: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "chromatic": tuple(range(12)),
}


@dataclass(frozen=True, slots=True)
class Key:
    """A tonic pitch class (0 = C … 11 = B) and a mode name from ``MODE_INTERVALS``."""

    tonic_pc: int
    mode: str = "major"

    def __post_init__(self) -> None:
        check_int("tonic_pc", self.tonic_pc, 0, 11)
        if not isinstance(self.mode, str):
            raise TypeError("mode must be a str")
        if self.mode not in MODE_INTERVALS:
            raise ValueError(f"mode must be one of {', '.join(MODE_INTERVALS)}")

    @property
    def pitch_classes(self) -> frozenset[int]:
        """The pitch classes of the key's scale."""
        return frozenset((self.tonic_pc + step) % 12 for step in MODE_INTERVALS[self.mode])

    def contains(self, pitch: int) -> bool:
        return pitch % 12 in self.pitch_classes

    @property
    def name(self) -> str:
        return f"{PITCH_CLASS_NAMES[self.tonic_pc]} {self.mode}"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, text: str) -> Key:
        """Parse "C major", "A minor", "F# dorian", "Bb" (major by default)."""
        parts = text.strip().split()
        if not parts or len(parts) > 2:
            raise ValueError(f"cannot read a key from {text!r}")
        tonic = parts[0][0].upper() + parts[0][1:].replace("♯", "#").replace("♭", "b")
        enharmonic = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E", "E#": "F", "B#": "C"}
        tonic = enharmonic.get(tonic, tonic)
        if tonic not in PITCH_CLASS_NAMES:
            raise ValueError(f"cannot read a key from {text!r}")
        return cls(PITCH_CLASS_NAMES.index(tonic), parts[1].lower() if len(parts) == 2 else "major")
