"""Every feature the app installs is there, and no two of its actions share a shortcut.

Qt fires neither action of an ambiguous shortcut ("Ambiguous shortcut overload"), so a clash
silently disables both: features written in parallel (variations, harmony, story) once all took
Ctrl+Shift+G.
"""

from __future__ import annotations

import importlib
from collections import defaultdict

from PySide6.QtGui import QAction

from composer_app.ui.app import WINDOW_EXTENSIONS, install_extensions


def test_every_window_extension_imports():
    for name in WINDOW_EXTENSIONS:
        module_name, _, function_name = name.partition(":")
        assert callable(getattr(importlib.import_module(module_name), function_name)), name


def test_no_two_actions_share_a_shortcut(window, qtbot):
    install_extensions(window)
    try:
        owners: dict[str, list[str]] = defaultdict(list)
        for action in window.findChildren(QAction):
            for sequence in action.shortcuts():
                if not sequence.isEmpty():
                    owners[sequence.toString()].append(action.text().replace("&", ""))
        names = {text for texts in owners.values() for text in texts}
        # the features that define shortcuts are all installed
        assert {"Vary selection", "Harmonize into four voices", "Score Story"} <= names
        clashes = {key: texts for key, texts in owners.items() if len(texts) > 1}
        assert clashes == {}
    finally:
        jobs = getattr(window, "suggest_controller", None)
        if jobs is not None and hasattr(jobs, "jobs"):
            jobs.jobs.shutdown()
