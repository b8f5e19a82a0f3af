"""Story work off the GUI thread: reading a story and scoring it, one job at a time, cancellable.

The job function gets plain data and gives back plain data (a ``Story``, a ``ScoredStory``); it never
touches widgets. ``StoryJobs`` owns the one worker thread and speaks through signals, which Qt
delivers on the GUI thread. Cancelling sets an event the scorer checks between scenes and between
sampling steps.
"""

from __future__ import annotations

import gc
import threading
import traceback
from typing import Callable

from PySide6.QtCore import QObject, Signal


class StoryJobs(QObject):
    """Runs one story job at a time on a worker thread."""

    started = Signal(str)  # (what: "read" or "score")
    progress = Signal(int, int, str)  # (steps done, steps in all, message)
    finished = Signal(str, object)  # (what, result)
    failed = Signal(str, str)  # (what, one-line error)
    cancelled = Signal(str)  # (what)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._what = ""
        self._warm = False

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, what: str, work: Callable[[Callable[[int, int, str], None], threading.Event], object]) -> bool:
        """Run ``work(progress, cancel)`` in the background; False if a job is already running."""
        if self.busy:
            return False
        self._cancel = threading.Event()
        self._what = what
        cancel = self._cancel
        self.started.emit(what)

        def run() -> None:
            try:
                result = work(lambda done, total, message: self.progress.emit(done, total, message), cancel)
            except Exception as error:  # noqa: BLE001 - reported to the user as one line
                from composer_app.scoring.score import ScoringCancelled

                if isinstance(error, ScoringCancelled) or cancel.is_set():
                    self.cancelled.emit(what)
                else:
                    traceback.print_exc()
                    self.failed.emit(what, f"{type(error).__name__}: {error}")
                return
            if not self._warm:
                # torch and the models are now loaded: keep the garbage collector from rescanning
                # their objects on the GUI thread (full collections of them stalled the window).
                gc.collect()
                gc.freeze()
                self._warm = True
            if cancel.is_set():
                self.cancelled.emit(what)
            else:
                self.finished.emit(what, result)

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
