"""Edits that would take the document past ``core.limits`` are refused with the limit's message, never a crash.

Typed text: a track name or a marker name pasted from a page of text keeps its first
``MAX_NAME_BYTES`` bytes. Moves: a note nudged past the last quarter the app allows stays where it
was, the status bar says why, and the log has a warning, not an "internal error" with a traceback.
"""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit

from composer_app.core import limits
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.track import Track
from composer_app.ui.selection import Selection
from tests.ui.conftest import TPQ, melody_project, show_window

LONG_NAME = "Überleitung € " * 120  # 1,920 bytes of UTF-8, 3-byte characters straddling the cut


def test_a_pasted_track_name_longer_than_the_limit_is_cut_not_refused(qtbot):
    window = show_window(qtbot, melody_project())
    field = window.findChildren(QLineEdit, "track_name")[0]
    field.setFocus()
    field.selectAll()
    field.insert(LONG_NAME)  # what a paste does
    qtbot.keyClick(field, Qt.Key.Key_Return)
    name = window.document.project.tracks[0].name
    assert LONG_NAME.startswith(name.rstrip("…")[:100])
    assert len(name.encode("utf-8")) <= limits.MAX_NAME_BYTES < len(LONG_NAME.encode("utf-8"))
    assert window.document.undo_stack.undoText() == "Rename track"
    window.document.undo_stack.undo()
    assert window.document.project.tracks[0].name == "Melody"


@pytest.mark.qt_no_exception_capture  # the app's own hook must see it, as it does for a user
def test_a_nudge_past_the_last_allowed_quarter_is_refused_with_the_limit_in_the_status_bar(qtbot, log_path):
    last_tick = limits.max_span_ticks(TPQ)
    note = Note(last_tick - TPQ // 4, 60, TPQ // 4, 80, 0)  # ends exactly at the limit
    project = Project(tracks=(Track("Melody", notes=[note]),), ticks_per_quarter=TPQ)
    window = show_window(qtbot, project)
    window.editor.view.set_snap("1/4")
    window.document.set_selection(Selection([note]))
    canvas = window.editor.canvas
    window.activateWindow()
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus, timeout=3000)
    before = window.document.project
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Not done:"), timeout=3000)
    assert "65,536" in window.statusBar().currentMessage()
    assert window.document.project is before and window.document.undo_stack.count() == 0
    qtbot.keyClick(canvas, Qt.Key.Key_Left)  # the window still edits
    assert window.document.project.tracks[0].notes[0].start_tick == note.start_tick - TPQ
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_path.read_text(encoding="utf-8")
    assert "edit refused" in text and "Traceback" not in text


def test_a_pasted_marker_name_longer_than_the_limit_is_cut(qtbot):
    window = show_window(qtbot, melody_project())
    lane = window.editor.marker_lane
    x = round(window.editor.view.tick_to_x(4 * TPQ)) + 1
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(x, 8))
    field = lane.findChild(QLineEdit, "lane_inline_editor")
    field.selectAll()
    field.insert(LONG_NAME)  # what a paste does
    qtbot.keyClick(field, Qt.Key.Key_Return)
    (marker,) = window.document.project.markers
    assert marker.tick == 4 * TPQ and LONG_NAME.startswith(marker.name[:50])
    assert len(marker.name.encode("utf-8")) <= limits.MAX_NAME_BYTES
