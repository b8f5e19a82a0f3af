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

# Features that plug into the main window: "module:function", each called with the window after
# it is built. They add their docks with ``window.add_panel`` and actions with ``window.add_action``
# and must not import torch on this path (models load in the background once the loop runs).
WINDOW_EXTENSIONS = (
    "composer_app.ui.suggestions_panel:install_suggest",
    "composer_app.ui.variations:install_variations",  # after install_suggest: shares its panel and worker
    "composer_app.ui.story.panel:install_story",
    "composer_app.ui.harmony:install_harmony",
)


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
    """The main window with ``file`` (or the example clip) open, shown.

    Just after it shows: MIDI ports are listed, all-notes-off goes to a port that a killed
    session left playing, and work autosaved by a session that crashed is offered back.
    """
    from composer_app.ui.diagnostics import start_logging
    from composer_app.ui.main_window import main_window_for

    start_logging()  # AppDataLocation/logs: unhandled errors become a traceback there + one status line
    window = main_window_for(file)
    install_extensions(window)  # mood + suggestions docks, Ctrl+G; models load once the loop runs
    window.show()
    QTimer.singleShot(0, window.refresh_port_status)
    QTimer.singleShot(0, window.playback.silence_port_left_playing)
    QTimer.singleShot(0, window.files.offer_recovery)
    return window


def install_extensions(window, names=WINDOW_EXTENSIONS) -> None:
    """Call each extension's installer; a missing or failing one is reported, never fatal."""
    import importlib
    import logging

    for name in names:
        module_name, _, function_name = name.partition(":")
        try:
            install = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError):
            continue  # that feature is not part of this build
        try:
            install(window)
        except Exception as error:  # a broken panel must not keep the editor from opening
            logging.getLogger(__name__).exception("extension %s failed", name)
            window.statusBar().showMessage(f"{module_name} could not start: {error}", 10000)


def run_app(file: str | None = None) -> int:
    """Open the editor on ``file`` (a .mid or project file) and run until the window closes."""
    app = ensure_application()
    window = create_main_window(file)
    code = app.exec()
    del window
    return int(code)
