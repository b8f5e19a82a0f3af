"""Reading and writing documents for the GUI: MIDI files and project files, by suffix.

Wraps the core's ``document_io`` so the file feature has one place that knows file types.
Every failure, whatever raised it, reaches the caller as a ``BadInputError`` with a one-line
message: a save that cannot happen must be said on screen, never lost in a traceback.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from composer_app.core.project import Project
from composer_app.errors import BadInputError

log = logging.getLogger(__name__)

MIDI_SUFFIXES = (".mid", ".midi", ".smf")
PROJECT_SUFFIX = ".composer"
OPEN_FILTER = "Music files (*.composer *.mid *.midi);;Projects (*.composer);;MIDI files (*.mid *.midi);;All files (*)"
SAVE_FILTER = "Project (*.composer);;MIDI file (*.mid)"
MIDI_FILTER = "MIDI file (*.mid)"


def project_suffix() -> str:
    from composer_app.core.projectfile import PROJECT_SUFFIX as suffix

    return suffix


def is_openable(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (*MIDI_SUFFIXES, project_suffix())


def unsaveable_reason(project: Project) -> str | None:
    """Why ``project`` could not be written as a project file (None when it can).

    A title, track name or setting that JSON cannot hold (NaN, Infinity, a lone surrogate such as
    ``\\ud800``) would make every later save fail: such a document is refused when it is opened,
    so that the user learns it before editing, not when saving.
    """
    texts = [("title", project.title), *((f"track {i + 1} name", t.name) for i, t in enumerate(project.tracks))]
    for label, text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            return f"the {label} holds a character that cannot be written ({error.reason} at position {error.start})"
    try:
        json.dumps(dict(project.settings), allow_nan=False, ensure_ascii=False).encode("utf-8")
    except ValueError as error:  # NaN/Infinity; UnicodeEncodeError is a ValueError too
        return f"its settings hold a value a project file cannot hold ({_first_line(error)})"
    except (TypeError, RecursionError) as error:
        return f"its settings hold something a project file cannot hold ({_first_line(error)})"
    return None


def load(path: str | Path) -> Project:
    """Load a MIDI or project file; raises BadInputError (one-line message) on any problem."""
    path = Path(path)
    try:
        from composer_app.core.document_io import load_document

        project = load_document(path)
    except BadInputError:
        raise
    except OSError as error:
        raise BadInputError(f"{path.name}: {error.strerror or error}") from error
    except Exception as error:  # a reader's bug must not take the window (and the open document) down
        log.exception("reading %s failed", path)
        raise BadInputError(f"{path.name}: cannot be read ({_first_line(error)})") from error
    reason = unsaveable_reason(project)
    if reason is not None:
        raise BadInputError(f"{path.name}: {reason}")
    return project


def save(project: Project, path: str | Path) -> None:
    """Save as a project file or, for a MIDI suffix, as a standard MIDI file."""
    path = Path(path)
    if path.suffix.lower() not in MIDI_SUFFIXES:
        reason = unsaveable_reason(project)
        if reason is not None:
            raise BadInputError(f"{path.name}: {reason}")
    try:
        from composer_app.core.document_io import save_document

        save_document(project, path)
    except BadInputError:
        raise
    except OSError as error:
        raise BadInputError(f"cannot write {path}: {error.strerror or error}") from error
    except Exception as error:  # anything else: say it, keep the document
        log.exception("saving %s failed", path)
        raise BadInputError(f"{path.name}: cannot be written ({_first_line(error)})") from error


def save_notes(project: Project, notes, path: str | Path, *, program: int = 0, name: str = "") -> None:
    """Export some notes (a track or a selection) as a one-track MIDI file with the project's tempo and meter."""
    from composer_app.core.midifile import save_clip

    try:
        save_clip(
            list(notes), Path(path), ticks_per_quarter=project.ticks_per_quarter, tempo_map=project.tempo_map,
            time_signatures=project.time_signatures, program=program, name=name,
        )
    except BadInputError:
        raise
    except OSError as error:
        raise BadInputError(f"cannot write {path}: {error.strerror or error}") from error
    except Exception as error:
        log.exception("exporting %s failed", path)
        raise BadInputError(f"{Path(path).name}: cannot be written ({_first_line(error)})") from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]
