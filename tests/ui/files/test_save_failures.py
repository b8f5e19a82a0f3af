"""Save failures are always shown and never lose the document; Quit ▸ Save that fails does not quit.

Finding 1 of issue 9: a document whose settings hold NaN (or whose title holds a lone surrogate)
could not be written, and Ctrl+S said nothing on screen; Quit ▸ Save then closed the window with
the edits gone. Driven with real key presses on the real window.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.ui.conftest import TPQ, melody_project, note_point, show_window

BAD_DOCUMENTS = {
    "nan setting": lambda p: p.with_settings(mood={"valence": math.nan}),
    "infinite setting": lambda p: p.with_settings(tempo_factor=math.inf),
    "lone surrogate in the title": lambda p: replace(p, title="song \ud800"),
}


def _error_boxes(window) -> list[QMessageBox]:
    return [w for w in window.findChildren(QMessageBox, "error_box") if w.isVisible()]


def _set_hooks(window, **hooks) -> None:
    """The file feature's hooks (where a dialog would ask the user)."""
    target = getattr(window, "files", window)
    for name, value in hooks.items():
        setattr(target, name, value)


def _edit(qtbot, window) -> None:
    window.activateWindow()  # shortcuts go to the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    editor = window.editor
    editor.set_tool("pen")
    qtbot.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, pos=note_point(editor, 6 * TPQ + 10, 70))
    assert window.isWindowModified()


@pytest.mark.parametrize("bad", list(BAD_DOCUMENTS))
def test_ctrl_s_that_fails_is_shown_and_keeps_the_document(qtbot, tmp_path, bad):
    window = show_window(qtbot, BAD_DOCUMENTS[bad](melody_project()))
    _edit(qtbot, window)
    path = tmp_path / "song.composer"
    _set_hooks(window, ask_save_path=lambda title, suggested: str(path))
    edited = window.document.project
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(_error_boxes(window)), timeout=2000)
    text = _error_boxes(window)[0].text()
    assert text.startswith("Could not save") and "\n" not in text
    assert "Could not save" in window.statusBar().currentMessage()
    assert window.document.project is edited and window.isWindowModified()
    assert not path.exists() and not list(tmp_path.glob(".*tmp"))


def test_quit_with_save_that_fails_does_not_quit(qtbot, tmp_path):
    window = show_window(qtbot, BAD_DOCUMENTS["nan setting"](melody_project()))
    _edit(qtbot, window)
    _set_hooks(window, confirm_discard=lambda: "save", ask_save_path=lambda title, suggested: str(tmp_path / "q.composer"))
    edited = window.document.project
    window.file_actions["quit"].trigger() if hasattr(window, "file_actions") else window.files.actions["quit"].trigger()
    QApplication.processEvents()
    assert window.isVisible(), "the window closed although the save failed"
    assert _error_boxes(window)
    assert window.document.project is edited and window.isWindowModified()


def test_quit_after_a_successful_save_closes(qtbot, tmp_path):
    window = show_window(qtbot, melody_project())
    _edit(qtbot, window)
    path = tmp_path / "ok.composer"
    _set_hooks(window, confirm_discard=lambda: "save", ask_save_path=lambda title, suggested: str(path))
    window.close()
    assert not window.isVisible()
    assert json.loads(path.read_text())["tracks"][0]["notes"]


def _project_text(**changes) -> str:
    from composer_app.core.projectfile import project_to_dict

    document = project_to_dict(melody_project())
    document.update(changes)
    return json.dumps(document)  # json writes NaN and Infinity as bare words; "\ud800" as an escape


@pytest.mark.parametrize("changes, expected", [
    ({"settings": {"mood": {"valence": math.nan}}}, "settings"),
    ({"settings": {"tempo_factor": -math.inf}}, "settings"),
    ({"title": "song \ud800"}, "title"),
])
def test_opening_a_file_with_values_that_cannot_be_saved_is_refused_clearly(qtbot, tmp_path, changes, expected):
    window = show_window(qtbot, melody_project())
    path = tmp_path / "hostile.composer"
    path.write_text(_project_text(**changes), encoding="utf-8")
    before = window.document.project
    assert not window.files.open_file(path, ask=False)
    assert window.document.project is before
    message = window.last_error
    assert message.startswith("Could not open hostile.composer") and expected in message and "\n" not in message
    assert _error_boxes(window)
