"""Autosave: the open document is copied to the app data folder a few seconds after each change.

Layout (``AppDataLocation/autosave/``), one folder per running window::

    20261202-061502-4711-3fa9c2/
        session.lock              QLockFile held while the app runs (PID inside): a live session is never touched
        document.json             {"path": the user's project file or null, "source": …, "name": …}
        autosave-000041.composer  the newest copy (an ordinary project file)
        autosave-000040.composer  older copies, ``KEEP_COPIES`` in all
        autosave-000039.composer

The user's own file is never written: copies go only here. Each copy is written atomically
(temporary file, fsync, rename), so a crash mid-write leaves the previous copies whole. The
first unsaved change starts a ``AUTOSAVE_DELAY_MS`` timer and later changes do not restart it,
so however fast the user edits, at most about that much work is unsaved anywhere. The JSON is
built and written on a writer thread: the window never waits for the disk.

When the document becomes clean (saved, or undone back to the saved state) the copies are
deleted; a clean exit deletes the whole folder. What is left after a crash (its lock is stale:
the process is gone) is what ``recovery`` offers on the next launch.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import queue
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QTimer, Signal

from composer_app.core.fileio import write_bytes_atomically
from composer_app.core.project import Project
from composer_app.ui.app_data import app_data_dir

log = logging.getLogger(__name__)

AUTOSAVE_DELAY_MS = 2000  # a change is copied this long after it (later changes do not postpone it)
KEEP_COPIES = 3  # rotating copies kept per session (an older one is used if the newest cannot be read)
AUTOSAVE_FOLDER = "autosave"
LOCK_NAME = "session.lock"
META_NAME = "document.json"
COPY_PREFIX = "autosave-"
COPY_SUFFIX = ".composer"
WRITER_JOIN_TIMEOUT_S = 5.0  # how long closing waits for a copy being written


@contextlib.contextmanager
def _no_cyclic_gc():
    """Pause the cyclic garbage collector while a copy is built.

    Building the JSON of a big document allocates one list per note; that triggers full
    collections which hold the interpreter lock, and so stall the window, for 100-400 ms at
    100,000 notes (bench/autosave.py). Those lists form no cycles (reference counting frees them),
    so nothing is lost by collecting later.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def autosave_root() -> Path:
    """``AppDataLocation/autosave``: one sub-folder per session."""
    return app_data_dir(AUTOSAVE_FOLDER)


def copy_name(sequence: int) -> str:
    return f"{COPY_PREFIX}{sequence:06d}{COPY_SUFFIX}"


def copies_in(folder: Path) -> list[Path]:
    """The autosaved copies in ``folder``, newest first."""
    copies = [p for p in folder.glob(f"{COPY_PREFIX}*{COPY_SUFFIX}") if p.name[len(COPY_PREFIX):-len(COPY_SUFFIX)].isdigit()]
    return sorted(copies, key=lambda p: int(p.name[len(COPY_PREFIX):-len(COPY_SUFFIX)]), reverse=True)


@dataclass(frozen=True)
class _Snapshot:
    """What one copy holds: the immutable project and where the document lives."""

    project: Project
    path: Path | None
    source: Path | None
    name: str


class Autosaver(QObject):
    """Copies the document into its session folder a few seconds after each change."""

    saved = Signal(str, float)  # (path of the copy written, seconds the write took)
    failed = Signal(str)  # (one line: why the copy could not be written)

    def __init__(self, document, *, root: Path | None = None, delay_ms: int = AUTOSAVE_DELAY_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self._root = root
        self.folder: Path | None = None  # created with the first copy
        self._lock: QLockFile | None = None
        self._sequence = 0
        self._last_failure = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.save_now)
        self._jobs: queue.Queue = queue.Queue()  # ("write" | "clear" | "mark" | "remove" | "stop", payload)
        self._latest_lock = threading.Lock()
        self._latest: tuple[int, _Snapshot] | None = None  # the newest snapshot not yet written
        self._writer = threading.Thread(target=self._write_loop, name="composer-autosave", daemon=True)
        self._writer.start()
        self._closed = False
        document.project_changed.connect(lambda _old, _new: self._on_changed())
        document.file_changed.connect(self._on_changed)

    @property
    def root(self) -> Path:
        return self._root or autosave_root()

    @property
    def pending(self) -> bool:
        """A change waits for its copy (the timer runs)."""
        return self._timer.isActive()

    # --- on the GUI thread ---------------------------------------------------------------------
    def _on_changed(self) -> None:
        if self._closed:
            return
        if self.document.is_dirty:
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
            if self.folder is not None:
                self._jobs.put(("clear", None))

    def save_now(self) -> None:
        """Copy the document now (the timer calls this; Save and the tests may too)."""
        self._timer.stop()
        if self._closed or not self.document.is_dirty:
            return
        if not self._ensure_session():
            return
        doc = self.document
        self._sequence += 1
        snapshot = _Snapshot(doc.project, doc.path, doc.source, doc.display_name)
        with self._latest_lock:
            self._latest = (self._sequence, snapshot)
        self._jobs.put(("write", None))

    def flush(self, timeout_s: float = WRITER_JOIN_TIMEOUT_S) -> bool:
        """Wait until every queued copy is on disk (tests, closing)."""
        done = threading.Event()
        self._jobs.put(("mark", done))
        return done.wait(timeout_s)

    def close(self, *, keep: bool = False) -> None:
        """Stop autosaving; unless ``keep``, delete this session's folder (a clean exit)."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self._jobs.put(("remove" if not keep else "stop", None))
        self._writer.join(WRITER_JOIN_TIMEOUT_S)
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        if not keep and self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _ensure_session(self) -> bool:
        if self.folder is not None:
            return True
        folder = self.root / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self._report(f"Autosave is off: cannot create {folder} ({error.strerror or error})")
            return False
        lock = QLockFile(str(folder / LOCK_NAME))
        lock.setStaleLockTime(0)  # never "stale by age": only a dead process frees it
        if not lock.tryLock(0):
            self._report(f"Autosave is off: cannot lock {folder}")
            return False
        self.folder, self._lock = folder, lock
        return True

    def _report(self, text: str) -> None:
        if text != self._last_failure:  # say each distinct problem once, not every few seconds
            self._last_failure = text
            log.warning("%s", text)
            self.failed.emit(text)

    # --- on the writer thread --------------------------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            kind, payload = self._jobs.get()
            if kind == "write":
                with self._latest_lock:
                    latest, self._latest = self._latest, None
                if latest is not None:  # None: an earlier token already wrote the newest snapshot
                    self._write(*latest)
            elif kind == "mark":
                payload.set()
            elif kind == "clear":
                self._clear_copies()
            elif kind in ("remove", "stop"):
                return

    def _write(self, sequence: int, snapshot: _Snapshot) -> None:
        from composer_app.core.projectfile import project_to_json  # noqa: PLC0415

        folder = self.folder
        started = time.perf_counter()
        try:
            with _no_cyclic_gc():
                data = project_to_json(snapshot.project).encode("utf-8")
        except (ValueError, TypeError, RecursionError) as error:
            self._report(f"Autosave failed: the document holds a value a project file cannot hold ({error})")
            return
        meta = {
            "path": str(snapshot.path) if snapshot.path else None,
            "source": str(snapshot.source) if snapshot.source else None,
            "name": snapshot.name,
            "pid": os.getpid(),
        }
        target = folder / copy_name(sequence)
        try:
            write_bytes_atomically(folder / META_NAME, json.dumps(meta, ensure_ascii=False).encode("utf-8"))
            write_bytes_atomically(target, data)
            for old in copies_in(folder)[KEEP_COPIES:]:
                old.unlink(missing_ok=True)
        except OSError as error:
            self._report(f"Autosave failed: cannot write {target} ({error.strerror or error})")
            return
        self._last_failure = ""
        self.saved.emit(str(target), time.perf_counter() - started)

    def _clear_copies(self) -> None:
        if self.folder is None:
            return
        for copy in copies_in(self.folder):
            copy.unlink(missing_ok=True)
