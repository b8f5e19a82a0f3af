"""Diagnostics: the log file in the app data folder, unhandled errors as one line, Help ▸ Open log folder.

``start_logging()`` (called by the app before the window is built) sends the log to
``AppDataLocation/logs/composer-app.log`` (rotating; see ``composer_app.logs``) and turns every
unhandled exception into a traceback in that file plus one line in the status bar.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from composer_app import logs
from composer_app.ui.actions import ActionCollection
from composer_app.ui.app_data import app_data_dir
from composer_app.ui.signals import app_signals

log = logging.getLogger(__name__)

LOG_FOLDER = "logs"
ERROR_STATUS_MS = 15000


def log_folder() -> Path:
    return app_data_dir(LOG_FOLDER)


def start_logging() -> Path:
    """Log to the app data folder; unhandled errors also reach the status bar as one line."""
    path = logs.setup_logging(log_folder())
    logs.remove_error_listener(_show_error)
    logs.add_error_listener(_show_error)
    return path


def _show_error(line: str, internal: bool) -> None:
    # May run on any thread: the signal is queued to the GUI thread.
    text = f"Internal error: {line} (details: Help ▸ Open log folder)" if internal else line
    app_signals().status_message.emit(text, ERROR_STATUS_MS)


class DiagnosticsActions(ActionCollection):
    name = "help"
    title = "Help"

    def __init__(self, window):
        self.window = window
        super().__init__(window)

    def create_actions(self) -> None:
        self.add("open_log_folder", "Open &log folder", self.open_log_folder,
                 tip="Show the folder with the log file (attach it when reporting a problem)")

    def open_log_folder(self) -> bool:
        folder = log_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.window.report_error(f"Cannot create the log folder {folder}: {error.strerror or error}")
            return False
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.window.report_error(f"No file manager could be opened. The log is in {folder}")
            return False
        return True
