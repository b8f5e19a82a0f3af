"""Open and save documents by their kind: MIDI files and project files.

``load_document`` picks the reader by suffix (.mid/.midi/.smf/.kar: MIDI; .composer: project);
a file with another suffix is recognised by its first bytes. ``save_document`` picks the writer
by suffix. Every problem is a ``BadInputError`` (``MidiFileError``, ``ProjectFileError``) with one line.
"""

from __future__ import annotations

import os
from pathlib import Path

from composer_app.core.fileio import read_file_start
from composer_app.core.midifile import MIDI_MAGIC, MIDI_SUFFIXES, RIFF_MAGIC, load_midi, save_midi
from composer_app.core.project import Project
from composer_app.core.projectfile import FORMAT_NAME, PROJECT_SUFFIX, load_project, save_project
from composer_app.errors import BadInputError

SNIFF_BYTES = 4096  # how much of the start of a file of unknown suffix tells its kind


def document_kind(path: str | os.PathLike) -> str:
    """"midi" or "project" for ``path``, by suffix, else by content; raise ``BadInputError``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return "midi"
    if suffix == PROJECT_SUFFIX:
        return "project"
    label = str(path)
    head = read_file_start(path, label, SNIFF_BYTES)
    if head.startswith(MIDI_MAGIC) or (head.startswith(RIFF_MAGIC) and head[8:12] == b"RMID"):
        return "midi"
    if head.lstrip().startswith(b"{") and FORMAT_NAME.encode() in head:
        return "project"
    raise BadInputError(f"{label}: not a MIDI file or a project file (use .mid or {PROJECT_SUFFIX})")


def load_document(path: str | os.PathLike) -> Project:
    """Read a MIDI file or a project file into a ``Project``."""
    if document_kind(path) == "midi":
        return load_midi(path)
    return load_project(path)


def save_document(project: Project, path: str | os.PathLike) -> None:
    """Write ``project`` as a MIDI file or a project file, chosen by the suffix of ``path``."""
    suffix = Path(path).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        save_midi(project, path)
    elif suffix == PROJECT_SUFFIX:
        save_project(project, path)
    else:
        raise BadInputError(
            f"{os.fspath(path)}: cannot save as {suffix or 'a file without a suffix'} (use .mid or {PROJECT_SUFFIX})"
        )
