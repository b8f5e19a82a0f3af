"""Where the app keeps its own files: the per-user application data folder (Qt's AppDataLocation).

On Linux ``$XDG_DATA_HOME/<organization>/<application>`` (``~/.local/share/composer-app/composer-app``),
on macOS ``~/Library/Application Support/…``, on Windows ``%APPDATA%\\…``. Autosaved copies and the
log live here; tests point ``XDG_DATA_HOME`` at a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def app_data_dir(*parts: str) -> Path:
    """``AppDataLocation/parts…`` (not created)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:  # no home folder at all: fall back to the working folder rather than fail
        base = str(Path.cwd() / ".composer-app-data")
    return Path(base).joinpath(*parts)
