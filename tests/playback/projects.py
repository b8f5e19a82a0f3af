"""Small projects for playback tests: short, at high tempo, so real-time tests stay fast."""

from __future__ import annotations

from dataclasses import replace

from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.timing import TempoChange, TempoMap
from composer_app.core.track import Track

TPQ = 480


def melody_project(bpm: float = 480.0, notes: int = 8, program: int = 0, channel: int = 0, velocity_step: int = 5):
    """A short rising melody of eighth notes, velocities 60, 65, 70, … (480 BPM: 8 notes in 0.5 s)."""
    track = Track(
        "melody",
        program=program,
        channel=channel,
        notes=[
            Note(i * TPQ // 2, 60 + i, TPQ // 2, velocity=min(127, 60 + velocity_step * i), channel=channel)
            for i in range(notes)
        ],
    )
    return Project(tracks=(track,), ticks_per_quarter=TPQ, tempo_map=TempoMap.constant(bpm, TPQ))


def two_tempo_project() -> Project:
    """Four quarter notes at 480 BPM (0.125 s each), then four at 960 BPM (0.0625 s each)."""
    notes = [Note(i * TPQ, 60 + i, TPQ, velocity=100) for i in range(8)]
    tempo = TempoMap([TempoChange(0, 125_000), TempoChange(4 * TPQ, 62_500)], TPQ)
    return Project(tracks=(Track("t", notes=notes),), ticks_per_quarter=TPQ, tempo_map=tempo)


def faster(project: Project, factor: float) -> Project:
    """The same project with every tempo multiplied by ``factor`` (real clips, short tests)."""
    changes = [
        TempoChange(c.tick, max(1, round(c.microseconds_per_quarter / factor))) for c in project.tempo_map.changes
    ]
    return replace(project, tempo_map=TempoMap(changes, project.ticks_per_quarter))
