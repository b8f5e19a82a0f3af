"""A real editor process killed with SIGKILL mid-edit, then a second launch that restores the work.

The first process opens the user's project file and adds a note with a real mouse click every
``EDIT_INTERVAL_S`` (the edits are driven inside the child, through its own event loop, as a person
would make them). The test kills it with ``kill -9`` at an arbitrary moment. The second process is
a fresh launch: its recovery dialog is found, photographed, and its Restore button clicked. The work
lost is the time between the last edit that came back and the kill; the README quotes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.projectfile import save_project
from composer_app.core.track import Track

REPO = Path(__file__).resolve().parents[3]
EDIT_INTERVAL_S = 0.25
KILL_AFTER_S = 8.3  # seconds of editing before the kill (not a multiple of the autosave delay)
MAX_LOST_S = 5.0  # the bound: at most ~5 s of work lost
TPQ = 480

EDITOR = r"""
import sys, time
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from composer_app.ui.app import ensure_application, create_main_window

app = ensure_application()
window = create_main_window(sys.argv[1])
window.resize(1200, 760)
editor = window.editor
editor.set_tool("pen")
editor.view.show_range(0, 16 * 480, 55, 76)
editor.view.scroll_to(tick=0)
count = [0]

def edit():
    i = count[0]
    count[0] += 1
    tick, pitch = i * 120 + 10, 56 + i % 18
    view = editor.view
    point = QPoint(round(view.tick_to_x(tick)), round(view.pitch_to_y(pitch) + view.key_height_px / 2))
    QTest.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    notes = window.document.project.tracks[0].notes
    print("EDIT", i, repr(time.time()), len(notes), flush=True)

timer = QTimer()
timer.timeout.connect(edit)
QTimer.singleShot(300, lambda: (print("READY", flush=True), timer.start(int(float(sys.argv[2]) * 1000))))
app.exec()
"""

RESTORER = r"""
import os, sys, json
from PySide6.QtCore import QTimer, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton
from composer_app.ui.app import ensure_application, create_main_window

app = ensure_application()
window = None

def look():
    dialog = QApplication.activeModalWidget()
    if dialog is None or dialog.objectName() != "recovery_dialog":
        return
    poll.stop()
    dialog.grab().save(sys.argv[1])
    text = dialog.findChild(QLabel, "recovery_text").text()
    QTest.mouseClick(dialog.findChild(QPushButton, "recovery_restore"), Qt.MouseButton.LeftButton)
    QTimer.singleShot(200, lambda: report(text))

def report(text):
    doc = window.document
    notes = [[n.start_tick, n.pitch] for n in doc.project.tracks[0].notes]
    print("RESTORED", json.dumps({"text": text, "notes": notes, "path": str(doc.path), "dirty": doc.is_dirty}), flush=True)
    os._exit(0)

poll = QTimer()
poll.timeout.connect(look)
poll.start(50)
QTimer.singleShot(60000, lambda: (print("NO DIALOG", flush=True), os._exit(3)))
window = create_main_window(None)
app.exec()
"""


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen", JACK_NO_START_SERVER="1")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    return env


def test_kill_9_mid_edit_then_restore_loses_at_most_a_few_seconds(tmp_path, artifacts_dir):
    user_file = tmp_path / "song.composer"
    bass = tuple(Note(i * 4 * TPQ, 40, 4 * TPQ, 90) for i in range(4))  # below the edited rows
    save_project(Project(tracks=(Track("Piano", notes=bass),), ticks_per_quarter=TPQ, title="song"), user_file)
    original = user_file.read_bytes()
    env = _env(tmp_path)

    editor = subprocess.Popen(
        [sys.executable, "-c", EDITOR, str(user_file), str(EDIT_INTERVAL_S)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO,
    )
    edits: list[tuple[int, float, int]] = []  # (edit index, time, note count after it)
    try:
        assert editor.stdout.readline().strip() == "READY"
        first = editor.stdout.readline().split()
        edits.append((int(first[1]), float(first[2]), int(first[3])))
        deadline = edits[0][1] + KILL_AFTER_S
        while time.time() < deadline:
            line = editor.stdout.readline().split()
            if line and line[0] == "EDIT":
                edits.append((int(line[1]), float(line[2]), int(line[3])))
        os.kill(editor.pid, signal.SIGKILL)
        killed_at = time.time()
    finally:
        editor.kill()
        editor.wait(10)
    assert editor.returncode == -signal.SIGKILL
    assert len(edits) >= KILL_AFTER_S / EDIT_INTERVAL_S * 0.5, f"the child made too few edits: {edits}"
    assert user_file.read_bytes() == original, "the user's file was written without Save"

    screenshot = artifacts_dir / "recovery-dialog.png"
    restorer = subprocess.run(
        [sys.executable, "-c", RESTORER, str(screenshot)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )
    lines = [line for line in restorer.stdout.splitlines() if line.startswith("RESTORED")]
    assert lines, f"no recovery offered: {restorer.stdout}{restorer.stderr[-2000:]}"
    restored = json.loads(lines[0][len("RESTORED "):])
    assert "song.composer" in restored["text"] and "autosaved at" in restored["text"]
    assert restored["path"] == str(user_file) and restored["dirty"]

    added = sorted((tick, pitch) for tick, pitch in restored["notes"] if pitch != 40)
    count = len(restored["notes"])
    made = [(index, at) for index, at, notes in edits if notes == count]
    assert made, f"the restored document ({count} notes) matches no state the editor was in: {edits}"
    index, saved_state_at = made[-1]
    assert added == sorted((i * 120, 56 + i % 18) for i in range(index + 1))  # clicks snap to the 1/16 grid
    lost_s = killed_at - saved_state_at
    report = {
        "edits_made": len(edits),
        "edits_restored": index + 1,
        "seconds_of_work_lost": round(lost_s, 2),
        "edit_interval_s": EDIT_INTERVAL_S,
    }
    (artifacts_dir / "crash-recovery.json").write_text(json.dumps(report, indent=1))
    assert lost_s <= MAX_LOST_S, report
