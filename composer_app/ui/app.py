"""Start the GUI: ``run_app(file)`` creates the QApplication, shows the window and runs the loop.

Start-up stays fast: nothing here imports torch or the playback backends; MIDI port discovery
runs just after the window is shown, and panels build their widgets when first shown.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

ORGANIZATION = "composer-app"
APPLICATION = "composer-app"


def ensure_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once, with the names QSettings uses)."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationDisplayName("Composer's Assistant")
    return app


def create_main_window(file: str | None = None):
    """The main window with ``file`` (or the example clip) open, shown."""
    from composer_app.ui.main_window import main_window_for

    window = main_window_for(file)
    window.show()
    QTimer.singleShot(0, window.refresh_port_status)
    return window


def run_app(file: str | None = None) -> int:
    """Open the editor on ``file`` (a .mid or project file) and run until the window closes."""
    app = ensure_application()
    window = create_main_window(file)
    code = app.exec()
    del window
    return int(code)
