"""Fixtures for GUI tests: isolated settings, a main window with a known clip, mouse helpers."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import QCoreApplication, QPoint, QSettings, Qt

from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.theory import Key
from composer_app.core.track import Track

TPQ = 480


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, qapp, monkeypatch):
    """Every test gets its own empty QSettings (INI files under tmp_path) and app data folder
    (autosaved copies, the log: QStandardPaths reads XDG_DATA_HOME on every call)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    QCoreApplication.setOrganizationName("composer-app-tests")
    QCoreApplication.setApplicationName("composer-app-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings().clear()
    yield


def melody_project() -> Project:
    """Two bars of a C-major melody plus a bass track (ghost notes)."""
    pitches = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 71, 67, 64, 60]
    melody = [Note(i * TPQ // 2, p, TPQ // 2 - 20, 60 + (i * 7) % 60, 0) for i, p in enumerate(pitches)]
    bass = [Note(i * 2 * TPQ, p, 2 * TPQ - 40, 90, 1) for i, p in enumerate([48, 43, 45, 41])]
    return Project(
        tracks=(Track("Melody", program=0, channel=0, notes=melody), Track("Bass", program=32, channel=1, notes=bass)),
        ticks_per_quarter=TPQ,
        key=Key(0, "major"),
        title="melody",
    )


@pytest.fixture
def window(qtbot):
    return show_window(qtbot, melody_project())


def show_window(qtbot, project: Project):
    """The real main window on ``project``, shown at a known size and zoom (4 bars, pitches 55..74)."""
    from composer_app.ui.document import Document
    from composer_app.ui.main_window import MainWindow

    win = MainWindow(Document(project))
    win.files.confirm_discard = lambda: "discard"
    qtbot.addWidget(win)
    win.resize(1200, 760)
    win.show()
    qtbot.waitExposed(win)
    win.editor.view.set_snap("1/16")
    win.editor.view.show_range(0, 4 * 4 * TPQ, 55, 74)  # 4 bars, a known zoom
    win.editor.view.scroll_to(tick=0)
    return win


def note_point(editor, tick: float, pitch: int) -> QPoint:
    """Canvas pixel at ``tick`` in the middle of ``pitch``'s row."""
    view = editor.view
    return QPoint(round(view.tick_to_x(tick)), round(view.pitch_to_y(pitch) + view.key_height_px / 2))


def drag(qtbot, widget, start: QPoint, end: QPoint, modifier=Qt.KeyboardModifier.NoModifier, steps: int = 5) -> None:
    """Press at ``start``, move in steps, release at ``end`` (real mouse events)."""
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, modifier, start)
    for i in range(1, steps + 1):
        point = start + (end - start) * i / steps
        qtbot.mouseMove(widget, QPoint(round(point.x()), round(point.y())))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, end)


@pytest.fixture
def log_path():
    """The app's log started as the app starts it (file in the test's app data folder, hooks installed)."""
    from composer_app import logs
    from composer_app.ui import diagnostics

    path = diagnostics.start_logging()
    yield path
    logging.getLogger().removeHandler(logs._handler)
    logs._handler = None


def open_example_sketch(window) -> int:
    """The composer's sketch: the first four bars of the example clip `make run` opens. Returns ticks per bar."""
    from composer_app.core.midifile import load_midi
    from composer_app.paths import example_clip

    example = load_midi(example_clip())
    bar = example.time_signatures.ticks_per_bar_at(0)
    track = example.tracks[0]
    window.document.reset(example.replace_track(0, track.with_notes(n for n in track.notes if n.start_tick < 4 * bar)))
    return bar
