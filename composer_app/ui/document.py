"""The open document on the Qt side: the one mutation path, undo stack, selection, file state.

The document holds an immutable core :class:`~composer_app.core.project.Project`. The ONLY way to
change it is :meth:`Document.apply`, which pushes an :class:`EditCommand` onto the
``QUndoStack``; the command stores the project, the selection and the current track before and
after, and its ``redo``/``undo`` call the same private setter. One user gesture makes one call
(drags preview on screen and apply once on release); edits that arrive in a stream (a spin box
being scrolled) pass the same ``merge_key`` and merge into one undo step.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.track import Track
from composer_app.ui.selection import Selection

_MERGE_ID_MASK = 0x3FFFFFFF


class EditCommand(QUndoCommand):
    """One undoable change: before/after values of project, selection and current track."""

    def __init__(self, document: Document, before, after, text: str, merge_key: str | None):
        super().__init__(text)
        self._document = document
        self.before = before  # (Project, Selection, current_track_index)
        self.after = after
        self.merge_key = merge_key

    def id(self) -> int:  # noqa: A003 - Qt API
        return -1 if self.merge_key is None else (hash(self.merge_key) & _MERGE_ID_MASK)

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt API
        if not isinstance(other, EditCommand) or other.merge_key != self.merge_key or self.merge_key is None:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        self._document._set_state(*self.after)

    def undo(self) -> None:
        self._document._set_state(*self.before)


class Document(QObject):
    """The project being edited, with undo/redo, selection, current track and file path."""

    project_changed = Signal(object, object)  # (old Project, new Project)
    selection_changed = Signal()  # () read ``selection``
    current_track_changed = Signal(int)  # (track index, -1 when there are no tracks)
    file_changed = Signal()  # () path, title or dirty state changed: update the window title
    replaced = Signal()  # () New/Open put another project in: per-document state (candidates, readings) goes

    def __init__(self, project: Project | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._project = project if project is not None else Project(tracks=(Track("Track 1"),))
        self._selection = Selection()
        self._current_track = 0 if self._project.tracks else -1
        self._path: Path | None = None  # the project file Save writes to
        self._source: Path | None = None  # the file the document came from (a project or a MIDI file)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _on_clean_changed(self, _clean: bool) -> None:
        self.file_changed.emit()

    # --- reading -------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

    @property
    def selection(self) -> Selection:
        return self._selection

    @property
    def current_track_index(self) -> int:
        return self._current_track

    @property
    def current_track(self) -> Track | None:
        i = self._current_track
        return self._project.tracks[i] if 0 <= i < len(self._project.tracks) else None

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def source(self) -> Path | None:
        """The file the document was read from (a project or a MIDI file), or None."""
        return self._source

    @property
    def is_dirty(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        shown = self._path or self._source
        return shown.name if shown else (self._project.title or "Untitled")

    # --- the one mutation path -----------------------------------------------------------
    def apply(
        self,
        new_project: Project,
        text: str,
        *,
        selection: Selection | None = None,
        current_track: int | None = None,
        merge_key: str | None = None,
    ) -> None:
        """Make ``new_project`` the document (undoable as one step named ``text``).

        ``selection`` is the selection after the edit (default: the old selection restricted
        to the notes that still exist); ``current_track`` the track shown after it.
        """
        if new_project == self._project and current_track in (None, self._current_track):
            if selection is not None:
                self.set_selection(selection)
            return
        track = self._current_track if current_track is None else current_track
        track = max(-1, min(track, len(new_project.tracks) - 1)) if new_project.tracks else -1
        if track < 0 and new_project.tracks:
            track = 0
        if selection is None:
            notes = new_project.tracks[track].notes if track >= 0 else ()
            selection = self._selection.restricted_to(notes) if track == self._current_track else Selection()
        before = (self._project, self._selection, self._current_track)
        after = (new_project, selection, track)
        self.undo_stack.push(EditCommand(self, before, after, text, merge_key))

    def apply_track_notes(self, notes, text: str, *, selection: Selection | None = None, merge_key=None) -> None:
        """Replace the current track's notes (a shortcut over :meth:`apply`)."""
        track = self.current_track
        if track is None:
            return
        self.apply(
            self._project.replace_track(self._current_track, track.with_notes(notes)),
            text,
            selection=selection,
            merge_key=merge_key,
        )

    def _set_state(self, project: Project, selection: Selection, track: int) -> None:
        old = self._project
        track_changed = track != self._current_track
        selection_changed = selection != self._selection
        self._project, self._selection, self._current_track = project, selection, track
        if old is not project:
            self.project_changed.emit(old, project)
        if track_changed:
            self.current_track_changed.emit(track)
        if selection_changed:
            self.selection_changed.emit()

    # --- not undoable: view state --------------------------------------------------------
    def set_selection(self, selection: Selection) -> None:
        if selection != self._selection:
            self._selection = selection
            self.selection_changed.emit()

    def select_notes(self, notes) -> None:
        self.set_selection(Selection(notes))

    def set_current_track(self, index: int) -> None:
        if not self._project.tracks:
            index = -1
        else:
            index = max(0, min(index, len(self._project.tracks) - 1))
        if index != self._current_track:
            self._current_track = index
            self._selection = Selection()
            self.current_track_changed.emit(index)
            self.selection_changed.emit()

    # --- file state ------------------------------------------------------------------------
    def reset(self, project: Project, path: Path | None = None, *, source: Path | None = None) -> None:
        """Replace the whole document (open/new): clears undo history and selection.

        ``path`` is the project file to save to; ``source`` the file it was read from, when that
        is not a project file (an imported MIDI file: Save then asks where to save the project).
        """
        old = self._project
        self.undo_stack.clear()
        self._project = project
        self._path = Path(path) if path else None
        self._source = Path(source) if source else self._path
        self._selection = Selection()
        self._current_track = 0 if project.tracks else -1
        self.project_changed.emit(old, project)
        self.current_track_changed.emit(self._current_track)
        self.selection_changed.emit()
        self.undo_stack.setClean()
        self.file_changed.emit()
        self.replaced.emit()

    def mark_saved(self, path: Path) -> None:
        self._path = self._source = Path(path)
        self.undo_stack.setClean()
        self.file_changed.emit()

    def selected_notes(self) -> list[Note]:
        track = self.current_track
        if track is None:
            return []
        return self._selection.split(track.notes)[0]
