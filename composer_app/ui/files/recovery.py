"""Crash recovery: find what a session that did not exit cleanly autosaved, and offer it back.

A session folder (see ``autosave``) whose lock can be taken belongs to a process that is gone
without cleaning up: it crashed, was killed, or the machine went down. ``find_recoverable`` takes
each such lock (so that two windows starting at once never offer the same work twice) and
describes the folder; the dialog shows the document's name, where it lives, and when it was
autosaved; the file feature restores, discards, or leaves it for the next launch.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QLockFile, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QStyle, QVBoxLayout, QHBoxLayout, QWidget

from composer_app.core.project import Project
from composer_app.errors import BadInputError
from composer_app.ui.files import formats
from composer_app.ui.files.autosave import LOCK_NAME, META_NAME, autosave_root, copies_in

log = logging.getLogger(__name__)

MAX_META_BYTES = 64 * 1024  # document.json holds two paths and a name


@dataclass(eq=False)
class RecoverableSession:
    """The autosaved copies of one session that ended without a clean exit."""

    folder: Path
    copies: list[Path]  # newest first
    saved_at: float  # when the newest copy was written (seconds since the epoch)
    path: Path | None  # the user's project file, if the document had one
    source: Path | None  # the file it was read from (a project or a MIDI file)
    name: str  # what the window title showed
    lock: QLockFile | None = field(default=None, repr=False)

    def load(self) -> tuple[Project, Path]:
        """The newest copy that can be read, and its file; an older one if the newest is broken."""
        errors = []
        for copy in self.copies:
            try:
                return formats.load(copy), copy
            except BadInputError as error:
                log.warning("autosaved copy %s cannot be read: %s", copy, error)
                errors.append(str(error))
        raise BadInputError(f"none of the autosaved copies of {self.name} can be read ({'; '.join(errors) or 'no copies'})")

    def remove(self) -> None:
        """Delete the folder (restored or discarded)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.lock = None  # its file went with the folder

    def release(self) -> None:
        """Leave the folder for a later launch."""
        if self.lock is not None:
            self.lock.unlock()
            self.lock = None


def find_recoverable(root: Path | None = None) -> list[RecoverableSession]:
    """Sessions under ``root`` whose process is gone and that left copies, newest first.

    Each returned session's lock is held by the caller until ``remove`` or ``release``. Folders of
    dead sessions without copies (it crashed before any change) are deleted, and so are the
    temporary files of a copy that a crash interrupted.
    """
    root = root or autosave_root()
    sessions = []
    try:
        folders = [p for p in root.iterdir() if p.is_dir()]
    except OSError:
        return []
    for folder in folders:
        lock = QLockFile(str(folder / LOCK_NAME))
        lock.setStaleLockTime(0)  # stale only when its process is gone
        if not lock.tryLock(0):
            continue  # a running window owns it
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        copies = copies_in(folder)
        if not copies:
            lock.unlock()
            shutil.rmtree(folder, ignore_errors=True)
            continue
        meta = _read_meta(folder / META_NAME)
        path = Path(meta["path"]) if isinstance(meta.get("path"), str) else None
        source = Path(meta["source"]) if isinstance(meta.get("source"), str) else None
        name = meta.get("name") if isinstance(meta.get("name"), str) else (path or source or Path("Untitled")).name
        try:
            saved_at = copies[0].stat().st_mtime
        except OSError:
            saved_at = 0.0
        sessions.append(RecoverableSession(folder, copies, saved_at, path, source, name, lock))
    sessions.sort(key=lambda s: s.saved_at, reverse=True)
    return sessions


def _read_meta(path: Path) -> dict:
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_META_BYTES + 1)
        meta = json.loads(data) if len(data) <= MAX_META_BYTES else {}
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def describe_time(saved_at: float, now: float | None = None) -> str:
    """"14:02:31 today (3 minutes ago)", "09:15 on 1 Dec 2026 (21 hours ago)"."""
    now = time.time() if now is None else now
    ago_s = max(0.0, now - saved_at)
    if ago_s < 60:
        ago = f"{int(ago_s)} seconds ago"
    elif ago_s < 3600:
        minutes = int(ago_s // 60)
        ago = f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    elif ago_s < 48 * 3600:
        hours = int(ago_s // 3600)
        ago = f"{hours} hour{'s' if hours != 1 else ''} ago"
    else:
        ago = f"{int(ago_s // 86400)} days ago"
    local, today = time.localtime(saved_at), time.localtime(now)
    if local[:3] == today[:3]:
        when = time.strftime("%H:%M:%S today", local)
    else:
        when = time.strftime("%H:%M on %d %b %Y", local).replace(" 0", " ", 1)
    return f"{when} ({ago})"


class RecoveryDialog(QDialog):
    """"Composer's Assistant did not close normally: restore the autosaved work?"""

    def __init__(self, session: RecoverableSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("recovery_dialog")
        self.setWindowTitle("Recover unsaved work")
        self.answer = "later"
        where = session.path or session.source
        where_line = f"<br>File: {_escape(str(where))}" if where else "<br>It had not been saved to a file yet."
        text = QLabel(
            f"<b>The editor did not close normally last time.</b><br><br>"
            f"Unsaved changes to <b>{_escape(session.name)}</b> were autosaved at "
            f"{describe_time(session.saved_at)}.{where_line}<br><br>"
            "Restore them? Your own file is not changed until you save."
        )
        text.setObjectName("recovery_text")
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.setMinimumWidth(420)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion).pixmap(48, 48))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        row = QHBoxLayout()
        row.addWidget(icon)
        row.addWidget(text, 1)
        buttons = QDialogButtonBox()
        self.restore_button = self._button(buttons, "&Restore", "restore", QDialogButtonBox.ButtonRole.AcceptRole)
        self._button(buttons, "&Discard", "discard", QDialogButtonBox.ButtonRole.DestructiveRole)
        self._button(buttons, "Decide &later", "later", QDialogButtonBox.ButtonRole.RejectRole)
        self.restore_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)

    def _button(self, box: QDialogButtonBox, text: str, answer: str, role) -> QPushButton:
        button = box.addButton(text, role)
        button.setObjectName(f"recovery_{answer}")
        button.clicked.connect(lambda: self._finish(answer))
        return button

    def _finish(self, answer: str) -> None:
        self.answer = answer
        self.accept() if answer == "restore" else self.reject()


def ask_recovery(session: RecoverableSession, parent: QWidget | None = None) -> str:
    """Show the dialog; "restore", "discard" or "later"."""
    dialog = RecoveryDialog(session, parent)
    dialog.exec()
    return dialog.answer


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
