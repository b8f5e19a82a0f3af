"""The app exits cleanly after putting data on the clipboard (no segfault in Qt's exit handlers)."""

import os
import subprocess
import sys

SCRIPT = """
import sys
from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
if sys.argv[1] == "with-ui":
    import composer_app.ui  # registers the clipboard release at exit
mime = QMimeData()
mime.setText("notes")
QApplication.clipboard().setMimeData(mime)
"""


def _exit_code(mode: str) -> int:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, timeout=60).returncode


def test_exit_after_copy_is_clean():
    """Without importing composer_app.ui the same script dies with SIGSEGV (exit -11) on PySide 6.11."""
    assert _exit_code("with-ui") == 0

