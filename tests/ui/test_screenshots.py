"""Screenshots of the window with a real clip (saved under tests/artifacts/ for a person to look at)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication

from composer_app.core.note import Note
from composer_app.core.project import LoopRegion, Project
from composer_app.core.theory import Key
from composer_app.core.track import Track

TPQ = 480
EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "c_major_melody.mid"


def eight_bar_song() -> Project:
    """Eight bars in A minor: melody, chords and bass, with varied velocities."""
    melody_line = [69, 72, 76, 74, 72, 71, 69, 71, 72, 74, 76, 77, 76, 74, 72, 71]
    melody = []
    for bar in range(8):
        for i in range(4):
            pitch = melody_line[(bar * 4 + i) % len(melody_line)] + (0 if bar < 4 else 0)
            length = TPQ if i % 2 == 0 else TPQ // 2
            start = bar * 4 * TPQ + i * TPQ
            melody.append(Note(start, pitch, length, 70 + (i * 13 + bar * 5) % 50, 0))
        melody.append(Note(bar * 4 * TPQ + 3 * TPQ + TPQ // 2, melody_line[bar % 16] - 2, TPQ // 2, 60, 0))
    chords = {0: (57, 60, 64), 1: (53, 57, 60), 2: (48, 52, 55), 3: (55, 59, 62)}
    pads = [Note(bar * 4 * TPQ, p, 4 * TPQ - 30, 55, 1) for bar in range(8) for p in chords[bar % 4]]
    bass = [Note(bar * 4 * TPQ + b * 2 * TPQ, chords[bar % 4][0] - 12, 2 * TPQ - 60, 95, 2) for bar in range(8) for b in range(2)]
    return Project(
        tracks=(
            Track("Melody", program=73, channel=0, notes=melody),
            Track("Chords", program=48, channel=1, notes=pads),
            Track("Bass", program=32, channel=2, notes=bass),
        ),
        ticks_per_quarter=TPQ,
        key=Key(9, "minor"),
        loop=LoopRegion(0, 4 * 4 * TPQ),
        title="Eight bars",
    )


def assert_not_blank(image: QImage) -> None:
    colours = {image.pixel(x, y) for x in range(0, image.width(), 23) for y in range(0, image.height(), 19)}
    assert len(colours) > 20, "the screenshot looks empty"


def test_main_window_opens_a_file_and_shows_its_tracks(qtbot, tmp_path, artifacts_dir):
    """Issue 2: ``composer-app FILE`` opens a main window that shows the file's tracks."""
    import composer_app.core.midifile as midifile
    from composer_app.ui.main_window import main_window_for

    if EXAMPLE.exists():
        path = EXAMPLE
    else:
        path = tmp_path / "eight_bars.mid"
        midifile.save_midi(eight_bar_song(), path)
    window = main_window_for(str(path))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    project = window.document.project
    assert project.note_count > 0
    names = [window.track_list.list.itemWidget(window.track_list.list.item(i)).name.text() for i in range(window.track_list.list.count())]
    assert names == [t.name for t in project.tracks]
    assert path.name in window.windowTitle()
    image = window.grab().toImage()
    assert_not_blank(image)
    image.save(str(artifacts_dir / "main_window_file.png"))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_editor_screenshot_with_a_real_clip(qtbot, artifacts_dir, theme):
    from composer_app.ui.document import Document
    from composer_app.ui.main_window import MainWindow

    app = QApplication.instance()
    old_palette = app.palette()
    if theme == "dark":
        palette = QPalette()
        for role, colour in (
            (QPalette.ColorRole.Window, QColor(45, 45, 48)), (QPalette.ColorRole.WindowText, QColor(230, 230, 230)),
            (QPalette.ColorRole.Base, QColor(30, 30, 32)), (QPalette.ColorRole.Text, QColor(230, 230, 230)),
            (QPalette.ColorRole.Button, QColor(55, 55, 60)), (QPalette.ColorRole.ButtonText, QColor(230, 230, 230)),
            (QPalette.ColorRole.Highlight, QColor(60, 120, 220)), (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
            (QPalette.ColorRole.AlternateBase, QColor(40, 40, 44)), (QPalette.ColorRole.ToolTipBase, QColor(50, 50, 50)),
        ):
            palette.setColor(role, colour)
        app.setPalette(palette)
    try:
        window = MainWindow(Document(eight_bar_song()))
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        editor = window.editor
        editor.fit_to_content()
        melody = window.document.project.tracks[0].notes
        window.document.select_notes(melody[5:9])
        window.seek(6 * TPQ)
        QApplication.processEvents()
        image = window.grab().toImage()
        assert_not_blank(image)
        image.save(str(artifacts_dir / f"editor_{theme}.png"))
    finally:
        app.setPalette(old_palette)
