"""The Harmony feature in the real window: the chord lane driven by mouse and keys, the dialogs,
Suggest chords / Accompany / Harmonize as one undo step each, and a screenshot to look at."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit

from composer_app.core.chords import chord_track_from_symbols
from composer_app.ui.harmony import install_harmony
from tests.ui.conftest import TPQ

BAR = 4 * TPQ


def _x(window, tick: int) -> int:
    return round(window.editor.view.tick_to_x(tick))


def _type(qtbot, lane, text: str) -> None:
    fields = [f for f in lane.findChildren(QLineEdit, "lane_inline_editor") if f.isVisible()]
    assert len(fields) == 1
    field = fields[0]
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def _feature(qtbot, window):
    feature = install_harmony(window)
    qtbot.waitUntil(lambda: feature.lane.isVisible())
    return feature


def test_typing_chords_in_the_lane_and_undo(qtbot, window):
    lane = _feature(qtbot, window).lane
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, 0) + 3, lane.height() // 2))
    _type(qtbot, lane, "Am7/G")
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, BAR) + 3, lane.height() // 2))
    _type(qtbot, lane, "D7(b9)")
    chords = window.document.project.chords
    assert [(e.chord.symbol(), e.start_tick, e.duration_ticks) for e in chords] == [("Am7/G", 0, BAR), ("D7(b9)", BAR, BAR)]
    window.document.undo_stack.undo()
    assert window.document.project.chords.symbols() == ["Am7/G"]
    # Text that is not a chord changes nothing and says why.
    before = window.document.project
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, 2 * BAR) + 3, lane.height() // 2))
    _type(qtbot, lane, "Hm7")
    assert window.document.project is before
    assert "must start with a note name" in window.statusBar().currentMessage()


def test_drag_to_move_and_resize_then_delete(qtbot, window):
    lane = _feature(qtbot, window).lane
    window.document.apply(window.document.project.with_chords(chord_track_from_symbols(["C", "G"], BAR)), "chords")
    y = lane.height() // 2
    # Resize C from its right edge to the middle of bar 1: the G is not touched.
    start, end = QPoint(_x(window, BAR) - 2, y), QPoint(_x(window, BAR // 2), y)
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(lane, start + (end - start) * i / 5)
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, pos=end)
    assert [(e.chord.symbol(), e.start_tick, e.end_tick) for e in window.document.project.chords] == [
        ("C", 0, BAR // 2), ("G", BAR, 2 * BAR)]
    # Move the G one bar later by its body.
    start, end = QPoint(_x(window, BAR + TPQ), y), QPoint(_x(window, 2 * BAR + TPQ), y)
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(lane, start + (end - start) * i / 5)
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, pos=end)
    assert [(e.chord.symbol(), e.start_tick) for e in window.document.project.chords] == [("C", 0), ("G", 2 * BAR)]
    assert window.document.undo_stack.undoText() == "Move chord G"
    qtbot.mouseClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, 2 * BAR) + 5, y))
    qtbot.keyClick(lane, Qt.Key.Key_Delete)
    assert window.document.project.chords.symbols() == ["C"]


def test_right_click_offers_the_keys_diatonic_chords(qtbot, window):
    lane = _feature(qtbot, window).lane
    qtbot.mouseClick(lane, Qt.MouseButton.RightButton, pos=QPoint(_x(window, BAR) + 3, lane.height() // 2))
    menu = lane.context_menu
    titles = [a.text() for a in menu.actions() if a.menu() is not None]
    assert titles == ["Put here: C major triads", "Put here: C major sevenths"]
    triads = menu.actions()[0].menu()
    assert [a.text().split("\t")[0] for a in triads.actions()] == ["C", "Dm", "Em", "F", "G", "Am", "Bdim"]
    next(a for a in triads.actions() if a.text().startswith("Am")).trigger()
    assert [(e.chord.symbol(), e.start_tick) for e in window.document.project.chords] == [("Am", BAR)]
    menu.close()


def test_suggest_chords_dialog_accepts_the_second_progression_as_one_step(qtbot, window):
    feature = _feature(qtbot, window)
    window.document.set_current_track(0)
    depth = window.document.undo_stack.count()
    feature.actions["suggest_chords"].trigger()
    dialog = feature.last_dialog
    qtbot.waitUntil(lambda: dialog.isVisible())
    assert dialog.list.count() >= 2
    second = dialog.options[1]
    dialog.list.setCurrentRow(1)
    audition = dialog.audition_project(second)
    assert len(audition.tracks) == len(window.document.project.tracks) + 1  # the chords sound, the document is unchanged
    qtbot.mouseClick(dialog.accept_button, Qt.MouseButton.LeftButton)
    assert window.document.project.chords.symbols() == second.symbols
    assert window.document.undo_stack.count() == depth + 1
    assert window.document.undo_stack.undoText() == "Accept chord progression 2"
    window.grab().save(str(_artifact("harmony-chord-lane.png")))


def test_accompany_waltz_on_piano_with_a_cello_bass(qtbot, window):
    feature = _feature(qtbot, window)
    window.document.apply(window.document.project.with_chords(chord_track_from_symbols(["C", "G7", "C", "F"], BAR // 2)), "chords")
    tracks_before = len(window.document.project.tracks)
    feature.actions["accompany"].trigger()
    dialog = feature.last_dialog
    dialog.set_choice("waltz", 0, 42)
    dialog.apply()
    tracks = window.document.project.tracks
    assert [(t.name, t.program) for t in tracks[tracks_before:]] == [("Accompaniment (waltz)", 0), ("Bass (waltz)", 42)]
    assert window.document.undo_stack.undoText() == "Add waltz accompaniment"
    window.document.undo_stack.undo()
    assert len(window.document.project.tracks) == tracks_before


def test_harmonize_writes_three_voice_tracks_in_the_background_and_keeps_locked_notes(qtbot, window):
    feature = _feature(qtbot, window)
    window.document.set_current_track(0)
    melody_before = window.document.project.tracks[0].notes
    feature.actions["harmonize"].trigger()
    assert feature.worker.busy
    with qtbot.waitSignal(feature.harmonized, timeout=120_000):
        pass
    project = window.document.project
    names = [t.name for t in project.tracks]
    assert names[:2] == ["Melody", "Bass"] and names[2:] == ["Alto", "Tenor"]  # the existing Bass track is a voice
    assert project.tracks[0].notes == melody_before
    assert window.document.undo_stack.undoText() == "Harmonize into four voices"
    bass = next(t for t in project.tracks if t.name == "Bass")
    # The bass notes the project had were locked: they are all still there.
    original_bass = [n for n in melody_project_bass()]
    for n in original_bass:
        assert any(m.pitch == n.pitch and m.start_tick == n.start_tick for m in bass.notes)
    window.document.undo_stack.undo()
    assert [t.name for t in window.document.project.tracks] == ["Melody", "Bass"]


def melody_project_bass():
    from tests.ui.conftest import melody_project

    return melody_project().tracks[1].notes


def _artifact(name: str):
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder / name
