"""The file feature: new, open, recent, import, save, save as, export, drops, autosave and recovery.

:class:`FileManager` owns the document's life on disk; its :class:`FileActions` collection holds
the File menu's actions (shortcuts user-editable, saved by name) and the main window only places
them. Every failure is shown (a window-modal message and the status bar) and loses nothing: a
save that fails keeps the document dirty, and Quit does not quit after a failed save.

The hooks ``confirm_discard``, ``ask_open_path``, ``ask_save_path`` and ``ask_recovery`` are where a
dialog asks the user; tests replace them with answers.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QStyle

from composer_app.core.project import Project
from composer_app.core.track import Track
from composer_app.errors import BadInputError
from composer_app.ui.actions import ActionCollection
from composer_app.ui.files import formats
from composer_app.ui.files.autosave import Autosaver
from composer_app.ui.files.recovery import RecoverableSession, ask_recovery, find_recoverable

log = logging.getLogger(__name__)

MAX_RECENT_FILES = 10
STATUS_TIMEOUT_MS = 6000
SETTINGS_GROUP = "files"  # recent, last_folder


def empty_project() -> Project:
    return Project(tracks=(Track("Track 1", program=0, channel=0),))


class FileActions(ActionCollection):
    name = "file"
    title = "File"

    def __init__(self, manager: FileManager):
        self.manager = manager
        super().__init__(manager.window)

    def create_actions(self) -> None:
        m = self.manager
        style = m.window.style()
        self.add("new", "&New", m.new_document, QKeySequence.StandardKey.New,
                 icon=style.standardIcon(QStyle.StandardPixmap.SP_FileIcon))
        self.add("open", "&Open…", m.open_dialog, QKeySequence.StandardKey.Open,
                 icon=style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton))
        self.add("import", "&Import MIDI into this project…", m.import_dialog, "Ctrl+Shift+I")
        self.add("save", "&Save", m.save, QKeySequence.StandardKey.Save,
                 icon=style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.add("save_as", "Save &As…", lambda: m.save_as(), QKeySequence.StandardKey.SaveAs)
        self.add("export_project", "Export MIDI: whole &project…", lambda: m.export_midi("project"), "Ctrl+E")
        self.add("export_track", "Export MIDI: current &track…", lambda: m.export_midi("track"))
        self.add("export_selection", "Export MIDI: &selection…", lambda: m.export_midi("selection"))
        self.add("quit", "&Quit", m.window.close, QKeySequence.StandardKey.Quit)


class FileManager(QObject):
    """The document's files for one main window (which only wires this feature in)."""

    def __init__(self, window, *, autosave_root: Path | None = None):
        super().__init__(window)
        self.window = window
        self.document = window.document
        # Hooks: where a dialog asks the user.
        self.confirm_discard: Callable[[], str] = self._ask_save_discard_cancel  # "save" | "discard" | "cancel"
        self.ask_open_path: Callable[[str], str | None] = self._ask_open_path
        self.ask_save_path: Callable[[str, str], str | None] = self._ask_save_path
        self.ask_recovery: Callable[[RecoverableSession], str] = lambda s: ask_recovery(s, self.window)
        self.actions = FileActions(self)
        self.recent_menu = QMenu("Open &recent", window)
        self.recent_menu.setObjectName("menu_recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.autosave = Autosaver(self.document, root=autosave_root, parent=self)
        self.autosave.failed.connect(lambda text: self._status(text, 10000))
        window.installEventFilter(self)  # drops of files onto the window

    def __getitem__(self, name: str):
        return self.actions[name]

    # --- messages -----------------------------------------------------------------------------------
    def _status(self, text: str, timeout_ms: int = STATUS_TIMEOUT_MS) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)

    def _error(self, text: str) -> None:
        log.warning("%s", text)
        self.window.report_error(text)

    # --- dialogs (the default hooks) -----------------------------------------------------------------
    def _ask_save_discard_cancel(self) -> str:
        answer = QMessageBox.question(
            self.window, self.window.windowTitle().replace("[*]", ""), f"Save the changes to {self.document.display_name}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def _last_folder(self) -> str:
        return QSettings().value(f"{SETTINGS_GROUP}/last_folder", str(Path.home()))

    def _remember_folder(self, path: str | Path) -> None:
        QSettings().setValue(f"{SETTINGS_GROUP}/last_folder", str(Path(path).parent))

    def _ask_open_path(self, title: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.window, title, self._last_folder(), formats.OPEN_FILTER)
        return path or None

    def _ask_save_path(self, title: str, suggested: str) -> str | None:
        start = str(Path(self._last_folder()) / suggested)
        name_filter = formats.MIDI_FILTER if suggested.endswith(".mid") else formats.SAVE_FILTER
        path, _ = QFileDialog.getSaveFileName(self.window, title, start, name_filter)
        return path or None

    # --- the document's life -------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, discarded, or clean)."""
        if not self.document.is_dirty:
            return True
        answer = self.confirm_discard()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_document(self) -> None:
        if self.maybe_save():
            self.window.stop()
            self.document.reset(empty_project())
            self.window.editor.fit_to_content()

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path = self.ask_open_path("Open")
        if path:
            self.open_file(path, ask=False)

    def open_file(self, path: str | Path, *, ask: bool = True) -> bool:
        """Open a MIDI or project file; on a bad file say why and keep the current document."""
        if ask and not self.maybe_save():
            return False
        path = Path(path)
        try:
            project = formats.load(path)
        except BadInputError as error:
            self._error(f"Could not open {path.name}: {error}")
            return False
        self.window.stop()
        is_project = path.suffix.lower() == formats.project_suffix()
        if not project.title:
            project = replace(project, title=path.stem)
        # A MIDI file is imported into a new, unsaved project: Save asks where to put the project file.
        self.document.reset(project, path if is_project else None, source=path)
        self._add_recent(path)
        self._remember_folder(path)
        self.window.seek(0)
        self.window.editor.fit_to_content()
        self._status(f"Opened {path.name}: {len(project.tracks)} tracks, {project.note_count} notes")
        return True

    def import_dialog(self) -> None:
        path = self.ask_open_path("Import MIDI")
        if path:
            self.import_file(path)

    def import_file(self, path: str | Path) -> bool:
        """Add the tracks of a MIDI or project file to this project (one undo step)."""
        path = Path(path)
        try:
            other = formats.load(path)
        except BadInputError as error:
            self._error(f"Could not import {path.name}: {error}")
            return False
        project = self.document.project
        scale = project.ticks_per_quarter / other.ticks_per_quarter
        tracks = []
        for track in other.tracks:
            notes = track.notes
            if scale != 1:
                notes = [replace(n, start_tick=round(n.start_tick * scale), duration_ticks=max(1, round(n.duration_ticks * scale))) for n in notes]
            tracks.append(replace(track, notes=tuple(notes)))
        self.document.apply(project.with_tracks([*project.tracks, *tracks]), f"Import {path.name}", current_track=len(project.tracks))
        self._remember_folder(path)
        return True

    def save(self) -> bool:
        """Save to the document's project file (asks where the first time); False if not saved."""
        path = self.document.path
        if path is None or path.suffix.lower() != formats.project_suffix():
            return self.save_as()
        return self._save_to(path)

    def save_as(self, path: str | Path | None = None) -> bool:
        if path is None:
            stem = (self.document.project.title or "untitled").replace("/", "-")
            path = self.ask_save_path("Save project", stem + formats.project_suffix())
            if not path:
                return False
        path = Path(path)
        if path.suffix.lower() not in (formats.project_suffix(), *formats.MIDI_SUFFIXES):
            path = path.with_suffix(formats.project_suffix())
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        try:
            formats.save(self.document.project, path)
        except BadInputError as error:
            self._error(f"Could not save: {error}")
            return False
        except Exception as error:  # never silent: whatever went wrong is shown, the document kept
            log.exception("saving %s failed", path)
            self._error(f"Could not save {path.name}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
            return False
        if path.suffix.lower() == formats.project_suffix():
            self.document.mark_saved(path)
        self._add_recent(path)
        self._remember_folder(path)
        self._status(f"Saved {path.name}")
        return True

    def export_midi(self, what: str, path: str | Path | None = None) -> bool:
        """Export the whole project, the current track or the selection as a .mid file."""
        project = self.document.project
        track = self.document.current_track
        stem = project.title or (Path(self.document.display_name).stem if self.document.path else "untitled")
        if what == "track" and track is not None:
            stem = f"{stem}-{track.name}"
        elif what == "selection":
            stem = f"{stem}-selection"
            if not self.document.selection:
                self._error("Nothing is selected to export.")
                return False
        if path is None:
            name = stem.replace("/", "-") + ".mid"
            folder = self.document.path.parent if self.document.path else None  # beside the project, else the last folder
            path = self.ask_save_path("Export MIDI", str(folder / name) if folder else name)
            if not path:
                return False
        path = Path(path)
        try:
            if what == "project":  # what is heard: mute and solo applied
                formats.save(project.audible_project(), path.with_suffix(".mid") if path.suffix.lower() not in formats.MIDI_SUFFIXES else path)
            elif track is not None:
                notes = track.notes if what == "track" else self.document.selected_notes()
                if what == "selection":
                    origin = min(n.start_tick for n in notes)
                    bar_origin = project.time_signatures.bar_to_tick(int(project.time_signatures.tick_to_bars(origin)))
                    notes = [n.with_start(n.start_tick - bar_origin) for n in notes]
                formats.save_notes(project, notes, path, program=track.program, name=track.name)
        except BadInputError as error:
            self._error(f"Could not export: {error}")
            return False
        self._remember_folder(path)
        self._status(f"Exported {path.name}")
        return True

    # --- recent files ----------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = QSettings().value(f"{SETTINGS_GROUP}/recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if isinstance(v, str) and v]

    def _add_recent(self, path: Path) -> None:
        path_text = str(Path(path).resolve())
        recent = [p for p in self.recent_files() if p != path_text]
        QSettings().setValue(f"{SETTINGS_GROUP}/recent", [path_text, *recent][:MAX_RECENT_FILES])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for path in recent:
            self.recent_menu.addAction(path, lambda p=path: self.open_file(p))

    # --- autosave and recovery ---------------------------------------------------------------------------
    def offer_recovery(self) -> bool:
        """Offer the work of sessions that did not exit cleanly (at launch); True if one was restored."""
        sessions = find_recoverable(self.autosave.root)
        restored = False
        for session in sessions:
            if restored:
                session.release()  # one document per window: the rest waits for the next launch
                continue
            answer = self.ask_recovery(session)
            if answer == "restore":
                restored = self.restore(session)
                if not restored:
                    session.release()
            elif answer == "discard":
                log.info("discarded autosaved %s (%s)", session.name, session.folder)
                session.remove()
            else:
                session.release()
        return restored

    def restore(self, session: RecoverableSession) -> bool:
        """Make the autosaved copy the document: one undo step on top of the user's file (if any)."""
        try:
            recovered, copy = session.load()
        except BadInputError as error:
            self._error(f"Could not restore: {error}")
            return False
        base = empty_project()
        if session.path is not None:
            try:
                base = formats.load(session.path)
            except BadInputError:
                base = replace(empty_project(), title=recovered.title)  # moved or deleted since
        self.window.stop()
        self.document.reset(base, session.path, source=session.source)
        self.document.apply(recovered, "Restore autosaved work")
        self.window.seek(0)
        self.window.editor.fit_to_content()
        session.remove()
        self.autosave.save_now()  # the restored work is this session's now
        log.info("restored %s from %s", session.name, copy)
        self._status(f"Restored {session.name} from the autosave: save to keep it", 10000)
        return True

    def close(self) -> None:
        """A clean exit: the autosave is no longer needed."""
        self.autosave.close()

    # --- drops ------------------------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if watched is self.window and kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if self._dropped_path(event) is not None:
                event.acceptProposedAction()
            else:
                event.ignore()
            return True
        if watched is self.window and kind == QEvent.Type.Drop:
            self._drop(event)
            return True
        return False

    def _dropped_path(self, event) -> Path | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile() and formats.is_openable(url.toLocalFile()):
                return Path(url.toLocalFile())
        return None

    def _drop(self, event) -> None:
        """Drop a file to open it; hold Ctrl (or Shift) to import its tracks into this project."""
        path = self._dropped_path(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        mods = event.modifiers()
        importing = bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        # Open after the drop returns: the file dialog / prompt must not run inside the drag.
        QTimer.singleShot(0, lambda: self.import_file(path) if importing else self.open_file(path))
