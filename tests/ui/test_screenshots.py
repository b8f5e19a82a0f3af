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


def test_screenshots_tiled_at_800x600_and_at_1280x800_with_real_candidates(qtbot, artifacts_dir, tmp_path, monkeypatch):
    """Issue 10: the README's pictures of the window beside a DAW (800 x 600) and at its default size.

    Three tracks in their colours, a tempo change and markers on the lanes, the shipped Transformer's
    candidates in the list with one shown as ghost notes. Set COMPOSER_APP_UPDATE_SCREENSHOTS=1 to
    refresh docs/screenshots/.
    """
    import os
    from dataclasses import replace

    from composer_app.core.project import Marker
    from composer_app.ui import clip_drag
    from composer_app.ui.document import Document
    from composer_app.ui.generation_jobs import READY, GenerationJobs
    from composer_app.ui.main_window import MainWindow
    from composer_app.ui.suggestions_panel import install_suggest

    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    bar = 4 * TPQ
    song = eight_bar_song()
    melody = song.tracks[0].with_notes(n for n in song.tracks[0].notes if n.start_tick < 4 * bar)
    song = replace(song.replace_track(0, melody), loop=None, markers=(Marker(0, "Verse"), Marker(4 * bar, "Chorus")))
    window = MainWindow(Document(song))
    window.files.confirm_discard = lambda: "discard"
    qtbot.addWidget(window)
    jobs = GenerationJobs(window)
    with qtbot.waitSignal(jobs.model_state_changed, timeout=60_000, check_params_cb=lambda s, m: s != "loading"):
        controller = install_suggest(window, jobs=jobs)
    try:
        assert jobs.state == READY, jobs.message
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        window.editor.tempo_lane.set_tempo(4 * bar, 132.0, "Add tempo change")
        mood = controller.mood_panel
        mood.apply_preset("tense")
        mood.seed_lock.setChecked(True)
        mood.seed_spin.setValue(2024)
        window.seek(4 * bar)
        with qtbot.waitSignal(jobs.finished, timeout=60_000):
            controller.suggest()
        assert controller.panel.list.count() == 4
        controller.panel.list.setCurrentRow(1)
        shots = {}
        for width, height in ((1280, 800), (800, 600)):
            window.resize(width, height)
            qtbot.waitUntil(lambda w=width: window.width() == w, timeout=2000)
            window.editor.fit_to_content()
            window.editor.view.show_range(0, 8 * bar, 45, 84, margin=0.01)
            window.editor.view.scroll_to(tick=0)
            qtbot.wait(100)
            image = window.grab().toImage()
            assert_not_blank(image)
            assert (image.width(), image.height()) == (width, height)
            name = f"window-{width}x{height}.png"
            image.save(str(artifacts_dir / name))
            shots[name] = image
        if os.environ.get("COMPOSER_APP_UPDATE_SCREENSHOTS"):
            docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
            for name, image in shots.items():
                image.save(str(docs / name))
    finally:
        jobs.shutdown()


def test_compare_all_generators_in_the_window(qtbot, artifacts_dir, tmp_path, monkeypatch):
    """Issue 12: "compare all" in the real window with the shipped weights: Transformer, LSTM and GAN
    candidates side by side in the suggestions panel, each labelled with its maker. Set
    COMPOSER_APP_UPDATE_SCREENSHOTS=1 to refresh docs/screenshots/compare.png."""
    import os
    from dataclasses import replace

    from composer_app.generation import registry
    from composer_app.ui import clip_drag
    from composer_app.ui.document import Document
    from composer_app.ui.generation_jobs import COMPARE_GENERATORS, READY, GenerationJobs
    from composer_app.ui.main_window import MainWindow
    from composer_app.ui.suggestions_panel import install_suggest

    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    bar = 4 * TPQ
    song = eight_bar_song()
    melody = song.tracks[0].with_notes(n for n in song.tracks[0].notes if n.start_tick < 4 * bar)
    song = replace(song.replace_track(0, melody), loop=None)
    window = MainWindow(Document(song))
    window.files.confirm_discard = lambda: "discard"
    qtbot.addWidget(window)
    jobs = GenerationJobs(window)
    with qtbot.waitSignal(jobs.model_state_changed, timeout=60_000, check_params_cb=lambda s, m: s != "loading"):
        controller = install_suggest(window, jobs=jobs)
    try:
        assert jobs.state == READY, jobs.message
        assert jobs.generators == ["transformer", "lstm", "gan"]
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        mood = controller.mood_panel
        combo = mood.generator_combo
        # the controller fills the list from its own (queued) slot of the READY signal the wait above caught
        qtbot.waitUntil(lambda: combo.findData(COMPARE_GENERATORS) >= 0, timeout=10_000)
        assert combo.itemText(combo.findData("gan")) == f"gan — {registry.describe('gan')}"
        combo.setCurrentIndex(combo.findData(COMPARE_GENERATORS))
        mood.apply_preset("tense")
        mood.candidates_spin.setValue(2)
        mood.bars_spin.setValue(2)
        mood.seed_lock.setChecked(True)
        mood.seed_spin.setValue(7)
        window.seek(4 * bar)
        with qtbot.waitSignal(jobs.finished, timeout=120_000) as blocker:
            controller.suggest()
        assert [c.generator for c in blocker.args[1]] == ["transformer", "transformer", "lstm", "lstm", "gan", "gan"]
        panel = controller.panel
        assert panel.list.count() == 6
        assert [panel.list.item(i).toolTip().split(",")[0] for i in range(6)] == ["transformer"] * 2 + ["lstm"] * 2 + ["gan"] * 2
        panel.list.setCurrentRow(4)
        window.editor.fit_to_content()
        window.editor.view.show_range(0, 6 * bar, 45, 84, margin=0.01)
        window.editor.view.scroll_to(tick=0)
        qtbot.wait(100)
        image = window.grab().toImage()
        assert_not_blank(image)
        image.save(str(artifacts_dir / "compare.png"))
        if os.environ.get("COMPOSER_APP_UPDATE_SCREENSHOTS"):
            image.save(str(Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "compare.png"))
    finally:
        jobs.shutdown()
