"""Reading and writing documents for the GUI: MIDI files and project files, by suffix.

Wraps the core's ``document_io`` (when present) so the window has one place that knows file
types. Every failure reaches the caller as a ``BadInputError`` subclass with a one-line message.
"""

from __future__ import annotations

from pathlib import Path

from composer_app.core.project import Project
from composer_app.errors import BadInputError

MIDI_SUFFIXES = (".mid", ".midi", ".smf")
PROJECT_SUFFIX = ".composer"
OPEN_FILTER = "Music files (*.composer *.mid *.midi);;Projects (*.composer);;MIDI files (*.mid *.midi);;All files (*)"
SAVE_FILTER = "Project (*.composer);;MIDI file (*.mid)"
MIDI_FILTER = "MIDI file (*.mid)"


def project_suffix() -> str:
    try:
        from composer_app.core.projectfile import PROJECT_SUFFIX as suffix
    except ImportError:
        return PROJECT_SUFFIX
    return suffix


def is_openable(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (*MIDI_SUFFIXES, project_suffix())


def load(path: str | Path) -> Project:
    """Load a MIDI or project file; raises BadInputError (one-line message) on any problem."""
    path = Path(path)
    try:
        from composer_app.core.document_io import load_document
    except ImportError:
        load_document = None
    try:
        if load_document is not None:
            return load_document(path)
        if path.suffix.lower() == project_suffix():
            from composer_app.core.projectfile import load_project

            return load_project(path)
        from composer_app.core.midifile import load_midi

        return load_midi(path)
    except BadInputError:
        raise
    except ImportError as error:
        raise BadInputError(f"{path.name}: cannot open this kind of file in this build ({error})") from error
    except OSError as error:
        raise BadInputError(f"{path.name}: {error.strerror or error}") from error


def save(project: Project, path: str | Path) -> None:
    """Save as a project file or, for a MIDI suffix, as a standard MIDI file."""
    path = Path(path)
    try:
        if path.suffix.lower() in MIDI_SUFFIXES:
            from composer_app.core.midifile import save_midi

            save_midi(project, path)
            return
        try:
            from composer_app.core.document_io import save_document
        except ImportError:
            from composer_app.core.projectfile import save_project as save_document
        save_document(project, path)
    except BadInputError:
        raise
    except ImportError as error:
        raise BadInputError(f"{path.name}: cannot save this kind of file in this build ({error})") from error
    except OSError as error:
        raise BadInputError(f"cannot write {path}: {error.strerror or error}") from error


def save_notes(project: Project, notes, path: str | Path, *, program: int = 0, name: str = "") -> None:
    """Export some notes (a track or a selection) as a one-track MIDI file with the project's tempo and meter."""
    from composer_app.core.midifile import save_clip

    try:
        save_clip(
            list(notes), Path(path), ticks_per_quarter=project.ticks_per_quarter, tempo_map=project.tempo_map,
            time_signatures=project.time_signatures, program=program, name=name,
        )
    except OSError as error:
        raise BadInputError(f"cannot write {path}: {error.strerror or error}") from error
