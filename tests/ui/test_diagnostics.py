"""The log: a rotating file in the app data folder; worker failures logged with tracebacks, shown as one line.

Help ▸ Open log folder is checked through Qt's own URL handler hook (``QDesktopServices.setUrlHandler``),
the way a desktop opens a folder, without needing a file manager on the test machine.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from composer_app import logs
from composer_app.ui.generation_jobs import SuggestRequest
from tests.ui.conftest import melody_project, show_window
from tests.ui.test_suggestions import rig  # noqa: F401 - panel + real worker process


def _log_text(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_the_log_is_a_rotating_file_in_the_app_data_folder(log_path):
    assert log_path == Path(os.environ["XDG_DATA_HOME"]) / "composer-app-tests" / "composer-app-tests" / "logs" / "composer-app.log"
    big = "x" * 10_000
    for _ in range(logs.LOG_MAX_BYTES * (logs.LOG_BACKUP_COUNT + 2) // 10_000):
        logging.getLogger("composer_app.test").info(big)
    files = sorted(p.name for p in log_path.parent.iterdir())
    assert files == ["composer-app.log", *(f"composer-app.log.{i}" for i in range(1, logs.LOG_BACKUP_COUNT + 1))]
    assert all(p.stat().st_size <= logs.LOG_MAX_BYTES + 20_000 for p in log_path.parent.iterdir())


def test_worker_exception_is_logged_with_its_traceback_and_shown_as_one_line(rig, qtbot, log_path):
    doc, mood, panel, jobs, controller, *_ = rig()
    qtbot.waitUntil(lambda: jobs.state == "ready", timeout=90_000)
    melody = doc.project.tracks[0]
    request = SuggestRequest(prompt=doc.project.with_tracks([melody]), generator="no-such-generator", candidates=1, bars=1)
    with qtbot.waitSignal(jobs.errored, timeout=30_000) as failed:
        jobs.submit(request)
    message = failed.args[1]
    assert message.startswith("Generation failed: KeyError") and "no-such-generator" in message and "\n" not in message
    qtbot.waitUntil(lambda: "Traceback (most recent call last)" in _log_text(log_path), timeout=5000)
    text = _log_text(log_path)
    assert "generation request" in text and "no-such-generator" in text and 'File "' in text


@pytest.mark.qt_no_exception_capture  # the app's own hook must see it, not pytest-qt's
def test_unhandled_exception_in_a_slot_goes_to_the_log_and_the_status_bar(qtbot, log_path):
    window = show_window(qtbot, melody_project())

    def broken() -> None:
        raise ZeroDivisionError("a bug in a slot")

    QTimer.singleShot(0, broken)
    qtbot.waitUntil(lambda: "Internal error" in window.statusBar().currentMessage(), timeout=3000)
    assert window.statusBar().currentMessage().startswith("Internal error: ZeroDivisionError: a bug in a slot")
    text = _log_text(log_path)
    assert "unhandled exception" in text and "ZeroDivisionError: a bug in a slot" in text and "Traceback" in text


class _UrlCatcher(QObject):
    def __init__(self):
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:  # noqa: A003 - the name Qt calls
        self.urls.append(url)


def test_help_open_log_folder(qtbot, log_path):
    window = show_window(qtbot, melody_project())
    action = window.diagnostics["open_log_folder"]
    assert action in window.menus["help"].actions()
    catcher = _UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        action.trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(u.toLocalFile()) for u in catcher.urls] == [log_path.parent]
    assert log_path.parent.is_dir()
