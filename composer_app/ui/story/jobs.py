"""Story work off the GUI thread: reading a story and scoring it, one job at a time, cancellable.

The job function gets plain data and gives back plain data (a ``Story``, a ``ScoredStory``); it never
touches widgets. ``StoryJobs`` owns the one worker thread and speaks through signals, which Qt
delivers on the GUI thread. Cancelling sets an event the scorer checks between scenes and between
sampling steps.

A job is ``busy`` until its ending (``finished``, ``failed`` or ``cancelled``) is delivered on the GUI
thread, and no longer once it is: a slot of ``finished`` can start the next job (Score reads the story
first, then scores it), which it could not while the worker thread was still winding down. When the
owner is deleted, the job is cancelled and nothing more is emitted.
"""

from __future__ import annotations

import gc
import threading
import traceback
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal


class StoryJobs(QObject):
    """Runs one story job at a time on a worker thread."""

    started = Signal(str)  # (what: "read" or "score")
    progress = Signal(int, int, str)  # (steps done, steps in all, message)
    finished = Signal(str, object)  # (what, result)
    failed = Signal(str, str)  # (what, one-line error)
    cancelled = Signal(str)  # (what)
    _ended = Signal(str, str, object)  # internal, worker -> GUI thread: (ending, what, result or message)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._what = ""
        self._warm = False
        self._running = False  # from start() until the job's ending is delivered on the GUI thread
        self._emit_lock = threading.Lock()
        self._closed = False
        self._ended.connect(self._deliver_ending, Qt.ConnectionType.QueuedConnection)
        if parent is not None:
            parent.destroyed.connect(lambda *_: self.close())

    @property
    def busy(self) -> bool:
        return self._running

    def close(self) -> None:
        """Cancel the running job; no signal is emitted any more (the owner is going)."""
        with self._emit_lock:
            self._closed = True
        self._cancel.set()

    def _emit(self, name: str, *args) -> None:
        with self._emit_lock:
            if not self._closed:
                getattr(self, name).emit(*args)

    def _deliver_ending(self, ending: str, what: str, payload: object) -> None:
        self._running = False
        getattr(self, ending).emit(what, *(() if ending == "cancelled" else (payload,)))

    def start(self, what: str, work: Callable[[Callable[[int, int, str], None], threading.Event], object]) -> bool:
        """Run ``work(progress, cancel)`` in the background; False if a job is already running."""
        if self._running or self._closed:
            return False
        self._running = True
        self._cancel = threading.Event()
        self._what = what
        cancel = self._cancel
        self.started.emit(what)

        def run() -> None:
            try:
                result = work(lambda done, total, message: self._emit("progress", done, total, message), cancel)
            except Exception as error:  # noqa: BLE001 - reported to the user as one line
                from composer_app.scoring.score import ScoringCancelled

                if isinstance(error, ScoringCancelled) or cancel.is_set():
                    self._emit("_ended", "cancelled", what, None)
                else:
                    traceback.print_exc()
                    self._emit("_ended", "failed", what, f"{type(error).__name__}: {error}")
                return
            if not self._warm:
                # torch and the models are now loaded: keep the garbage collector from rescanning
                # their objects on the GUI thread (full collections of them stalled the window).
                gc.collect()
                gc.freeze()
                self._warm = True
            self._emit("_ended", "cancelled" if cancel.is_set() else "finished", what, result)

        self._thread = threading.Thread(target=run, name=f"story-{what}", daemon=True)
        self._thread.start()
        return True

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Block until the running job ends (tests and closing the window)."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()
