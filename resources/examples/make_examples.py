"""Write the example clips that ship with the app (the default document and test material).

    .venv/bin/python resources/examples/make_examples.py      (rewrites the .mid files beside it)

- ``c_major_melody.mid``: 8 bars of 4/4 at 100 BPM, a singable melody in C major on piano
  (a question phrase ending on the dominant, an answer ending on the tonic; range C4-D5).
- ``a_minor_melody.mid``: 8 bars of 4/4 at 84 BPM in A minor (natural minor with the raised
  leading tone G# at the cadences), on piano.
- ``two_track_waltz.mid``: 16 bars of 3/4 in G major, a flute melody over an oom-pah-pah piano
  accompaniment on a second track; 144 BPM for the first eight bars, 120 BPM from bar 9.

The melodies are written out below as (pitch name, length in quarter notes) pairs; ``None`` is
a rest. The files are committed; run this again only to change them.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from composer_app.core.midifile import save_midi  # noqa: E402
from composer_app.core.note import Note  # noqa: E402
from composer_app.core.project import Project  # noqa: E402
from composer_app.core.theory import Key  # noqa: E402
from composer_app.core.timing import TempoChange, TempoMap, TimeSignatureChange, TimeSignatureMap  # noqa: E402
from composer_app.core.track import Track  # noqa: E402

HERE = Path(__file__).resolve().parent
TICKS_PER_QUARTER = 480
PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# fmt: off
C_MAJOR_MELODY = [
    ("C4", 1), ("E4", 0.5), ("F4", 0.5), ("G4", 1), ("C5", 1),        # 1
    ("B4", 1.5), ("A4", 0.5), ("G4", 1), ("F4", 1),                   # 2
    ("E4", 1), ("F4", 0.5), ("G4", 0.5), ("A4", 1), ("F4", 1),        # 3
    ("E4", 1), ("D4", 2), (None, 1),                                  # 4  half cadence (on the dominant)
    ("C4", 1), ("E4", 0.5), ("F4", 0.5), ("G4", 1), ("C5", 1),        # 5
    ("D5", 1.5), ("C5", 0.5), ("B4", 1), ("A4", 1),                   # 6
    ("G4", 0.5), ("A4", 0.5), ("G4", 0.5), ("F4", 0.5), ("E4", 1), ("D4", 1),  # 7
    ("C4", 3), (None, 1),                                             # 8  home on C
]

A_MINOR_MELODY = [
    ("A4", 1), ("C5", 0.5), ("B4", 0.5), ("A4", 1), ("E5", 1),        # 1
    ("D5", 1.5), ("C5", 0.5), ("B4", 1), ("G#4", 1),                  # 2
    ("A4", 1), ("F4", 1), ("E4", 0.5), ("F4", 0.5), ("G#4", 1),       # 3
    ("E4", 3), (None, 1),                                             # 4  half cadence on E
    ("A4", 1), ("C5", 0.5), ("B4", 0.5), ("A4", 1), ("E5", 1),        # 5
    ("F5", 1.5), ("E5", 0.5), ("D5", 1), ("C5", 1),                   # 6
    ("B4", 0.5), ("C5", 0.5), ("D5", 0.5), ("C5", 0.5), ("B4", 1), ("G#4", 1),  # 7
    ("A4", 3), (None, 1),                                             # 8  home on A
]

WALTZ_MELODY = [
    ("B4", 2), ("D5", 1),                  # 1  G
    ("B4", 1), ("A4", 1), ("G4", 1),       # 2  G
    ("A4", 2), ("C5", 1),                  # 3  D7
    ("F#4", 3),                            # 4  D
    ("A4", 2), ("D5", 1),                  # 5  D7
    ("C5", 1), ("B4", 1), ("A4", 1),       # 6  D7
    ("B4", 2), ("G4", 1),                  # 7  G
    ("G4", 3),                             # 8  G
    ("B4", 2), ("D5", 1),                  # 9  G
    ("F5", 2), ("D5", 1),                  # 10 G7
    ("E5", 2), ("C5", 1),                  # 11 C
    ("G4", 2), ("A4", 1),                  # 12 C
    ("B4", 1), ("D5", 1), ("B4", 1),       # 13 G/D
    ("A4", 2), ("F#4", 1),                 # 14 D7
    ("B4", 2), ("A4", 1),                  # 15 G D7
    ("G4", 3),                             # 16 G
]

# One chord per bar: (bass note, the chord tones played on beats 2 and 3).
WALTZ_CHORDS = {
    "G": ("G2", ("G3", "B3", "D4")),
    "D": ("D3", ("F#3", "A3", "D4")),
    "D7": ("D3", ("F#3", "A3", "C4")),
    "G7": ("G2", ("F3", "B3", "D4")),
    "C": ("C3", ("G3", "C4", "E4")),
    "G/D": ("D2", ("G3", "B3", "D4")),
}
WALTZ_HARMONY = ["G", "G", "D7", "D", "D7", "D7", "G", "G", "G", "G7", "C", "C", "G/D", "D7", "G", "G"]
# fmt: on


def pitch(name: str) -> int:
    """Scientific pitch name -> MIDI pitch ("C4" = 60, "F#3" = 54, "Bb2" = 46)."""
    letter, rest = name[0], name[1:]
    accidental = 0
    while rest and rest[0] in "#b":
        accidental += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    return (int(rest) + 1) * 12 + PITCH_CLASSES[letter] + accidental


def melody_notes(phrase, *, channel: int = 0, accent: int = 96, soft: int = 80, beats_per_bar: int = 4) -> list[Note]:
    """Notes from (pitch name, quarters) pairs, louder on the first beat of each bar."""
    notes, quarters = [], 0.0
    for name, length in phrase:
        if name is not None:
            velocity = accent if quarters % beats_per_bar == 0 else soft
            start = round(quarters * TICKS_PER_QUARTER)
            notes.append(Note(start, pitch(name), round(length * TICKS_PER_QUARTER), velocity, channel))
        quarters += length
    return notes


def waltz_accompaniment(channel: int) -> list[Note]:
    """Oom-pah-pah: the bass on beat 1, short chords on beats 2 and 3 of every bar."""
    notes = []
    bar_ticks = 3 * TICKS_PER_QUARTER
    for bar, chord in enumerate(WALTZ_HARMONY):
        bass, tones = WALTZ_CHORDS[chord]
        start = bar * bar_ticks
        notes.append(Note(start, pitch(bass), TICKS_PER_QUARTER, 84, channel))
        for beat in (1, 2):
            for tone in tones:
                notes.append(Note(start + beat * TICKS_PER_QUARTER, pitch(tone), TICKS_PER_QUARTER // 2, 62, channel))
    return notes


def c_major_melody() -> Project:
    return Project(
        tracks=(Track("Melody", program=0, channel=0, notes=melody_notes(C_MAJOR_MELODY)),),
        ticks_per_quarter=TICKS_PER_QUARTER,
        tempo_map=TempoMap.constant(100, TICKS_PER_QUARTER),
        time_signatures=TimeSignatureMap([TimeSignatureChange(0, 4, 4)], TICKS_PER_QUARTER),
        key=Key(0, "major"),
        title="C major melody",
    )


def a_minor_melody() -> Project:
    return Project(
        tracks=(Track("Melody", program=0, channel=0, notes=melody_notes(A_MINOR_MELODY, accent=88, soft=72)),),
        ticks_per_quarter=TICKS_PER_QUARTER,
        tempo_map=TempoMap.constant(84, TICKS_PER_QUARTER),
        time_signatures=TimeSignatureMap([TimeSignatureChange(0, 4, 4)], TICKS_PER_QUARTER),
        key=Key(9, "minor"),
        title="A minor melody",
    )


def two_track_waltz() -> Project:
    halfway = 8 * 3 * TICKS_PER_QUARTER  # the start of bar 9
    tempo = TempoMap([TempoChange(0, 416_667), TempoChange(halfway, 500_000)], TICKS_PER_QUARTER)  # 144, 120 BPM
    return Project(
        tracks=(
            Track("Melody", program=73, channel=0, notes=melody_notes(WALTZ_MELODY, beats_per_bar=3)),  # flute
            Track("Accompaniment", program=0, channel=1, notes=waltz_accompaniment(channel=1)),  # piano
        ),
        ticks_per_quarter=TICKS_PER_QUARTER,
        tempo_map=tempo,
        time_signatures=TimeSignatureMap([TimeSignatureChange(0, 3, 4)], TICKS_PER_QUARTER),
        key=Key(7, "major"),
        title="Two-track waltz",
    )


EXAMPLES = {
    "c_major_melody.mid": c_major_melody,
    "a_minor_melody.mid": a_minor_melody,
    "two_track_waltz.mid": two_track_waltz,
}


def main() -> None:
    for file_name, make in EXAMPLES.items():
        save_midi(make(), HERE / file_name)
        print(f"wrote {HERE / file_name}")


if __name__ == "__main__":
    main()
