"""Autosave and recovery in the real window: copies in the app data folder, never the user's file.

The crash itself (a real process killed with SIGKILL mid-edit, then a second launch) is in
test_crash_recovery.py; here the copies, their rotation and clean-up, and the restore path, with
the dead session made by a real process that took the session's lock and died without releasing it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from composer_app.core.projectfile import load_project, save_project
from composer_app.ui.files import autosave as autosave_module
from composer_app.ui.files.autosave import KEEP_COPIES, copies_in
from composer_app.ui.files.recovery import describe_time, find_recoverable
from tests.ui.conftest import TPQ, melody_project, note_point, show_window


def _click_note(qtbot, window, beat: int, pitch: int = 70) -> None:
    editor = window.editor
    editor.set_tool("pen")
    qtbot.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, pos=note_point(editor, beat * TPQ + 10, pitch))


def _session_folder(window) -> Path:
    folder = window.files.autosave.folder
    assert folder is not None, "no autosave session was started"
    return folder


@pytest.fixture
def user_file(tmp_path) -> Path:
    path = tmp_path / "song.composer"
    save_project(melody_project(), path)
    return path


def test_a_change_is_copied_to_the_app_data_folder_within_the_delay(qtbot, tmp_path, user_file):
    window = show_window(qtbot, melody_project())
    assert window.files.open_file(user_file)
    original = user_file.read_bytes()
    _click_note(qtbot, window, 6)
    edited = window.document.project
    started = time.monotonic()
    with qtbot.waitSignal(window.files.autosave.saved, timeout=autosave_module.AUTOSAVE_DELAY_MS + 3000) as saved:
        pass
    assert time.monotonic() - started <= autosave_module.AUTOSAVE_DELAY_MS / 1000 + 1.0
    copy = Path(saved.args[0])
    assert copy.parent.parent == Path(os.environ["XDG_DATA_HOME"]) / "composer-app-tests" / "composer-app-tests" / "autosave"
    assert load_project(copy).tracks == edited.tracks
    meta = json.loads((copy.parent / "document.json").read_text())
    assert meta["path"] == str(user_file) and meta["name"] == "song.composer"
    assert user_file.read_bytes() == original, "autosave wrote over the user's file"


def test_copies_rotate_and_go_when_saved_and_on_a_clean_exit(qtbot, tmp_path, user_file):
    window = show_window(qtbot, melody_project())
    window.files.open_file(user_file)
    autosaver = window.files.autosave
    for beat in range(6, 6 + KEEP_COPIES + 2):
        _click_note(qtbot, window, beat)
        autosaver.save_now()
        assert autosaver.flush()
    folder = _session_folder(window)
    copies = copies_in(folder)
    assert len(copies) == KEEP_COPIES
    assert load_project(copies[0]).tracks == window.document.project.tracks
    assert not list(folder.glob(".*.tmp"))
    window.files.save()  # to the user's file: the copies are not needed any more
    assert autosaver.flush()
    assert copies_in(folder) == []
    _click_note(qtbot, window, 3)
    autosaver.save_now()
    assert autosaver.flush() and copies_in(folder)
    window.files.confirm_discard = lambda: "discard"
    window.close()
    assert not folder.exists(), "a clean exit must remove the autosave"


def test_a_document_that_cannot_be_written_says_so_once_and_keeps_working(qtbot):
    window = show_window(qtbot, melody_project().with_settings(mood={"valence": math.nan}))
    failures = []
    window.files.autosave.failed.connect(failures.append)
    _click_note(qtbot, window, 6)
    window.files.autosave.save_now()
    qtbot.waitUntil(lambda: bool(failures), timeout=3000)
    assert "Autosave failed" in failures[0] and "\n" not in failures[0]
    assert "Autosave failed" in window.statusBar().currentMessage()


def _crashed_session(window, qtbot) -> Path:
    """Copy the window's document, then hand its session to a process that dies holding the lock."""
    autosaver = window.files.autosave
    autosaver.save_now()
    assert autosaver.flush()
    folder = _session_folder(window)
    autosaver.close(keep=True)  # this window lets go of the folder, as if it had crashed
    code = (
        "import os, sys; from PySide6.QtCore import QLockFile; "
        "lock = QLockFile(sys.argv[1]); lock.setStaleLockTime(0); assert lock.tryLock(0); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code, str(folder / "session.lock")], check=True, timeout=60)
    return folder


def test_restore_after_a_crash_offers_the_copy_and_keeps_the_users_file(qtbot, tmp_path, user_file):
    first = show_window(qtbot, melody_project())
    first.files.open_file(user_file)
    _click_note(qtbot, first, 6)
    _click_note(qtbot, first, 7)
    edited = first.document.project
    folder = _crashed_session(first, qtbot)
    original = user_file.read_bytes()

    second = show_window(qtbot, melody_project())
    offered = []
    second.files.ask_recovery = lambda session: offered.append(session) or "restore"
    assert second.files.offer_recovery()
    session = offered[0]
    assert session.name == "song.composer" and session.path == user_file
    assert abs(session.saved_at - time.time()) < 60
    assert second.document.project.tracks == edited.tracks
    assert second.document.path == user_file and second.isWindowModified()
    assert user_file.read_bytes() == original
    second.document.undo_stack.undo()  # the restore is one undo step over the user's file
    assert second.document.project.tracks == load_project(user_file).tracks
    assert not folder.exists()


def test_discard_and_later(qtbot, user_file):
    first = show_window(qtbot, melody_project())
    first.files.open_file(user_file)
    _click_note(qtbot, first, 6)
    folder = _crashed_session(first, qtbot)
    second = show_window(qtbot, melody_project())
    second.files.ask_recovery = lambda session: "later"
    assert not second.files.offer_recovery()
    assert folder.exists() and second.document.project.tracks == melody_project().tracks
    second.files.ask_recovery = lambda session: "discard"
    assert not second.files.offer_recovery()
    assert not folder.exists()


def test_a_running_window_is_never_offered(qtbot):
    first = show_window(qtbot, melody_project())
    _click_note(qtbot, first, 6)
    first.files.autosave.save_now()
    assert first.files.autosave.flush()
    assert find_recoverable() == []


def test_saved_time_is_described_for_people():
    now = time.mktime((2026, 12, 2, 14, 5, 0, 0, 0, -1))
    assert describe_time(now - 150, now) == time.strftime("%H:%M:%S today", time.localtime(now - 150)) + " (2 minutes ago)"
    assert describe_time(now - 10, now).endswith("(10 seconds ago)")
    assert "(26 hours ago)" in describe_time(now - 26 * 3600, now)
