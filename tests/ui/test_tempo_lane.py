"""The tempo/meter lane, the marker lane and the lane stack, driven by real mouse and keyboard events."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit

from composer_app.core.project import Marker
from composer_app.ui.piano_roll.lanes import TimeLane
from tests.ui.conftest import TPQ

BAR = 4 * TPQ


def _x(window, tick: int) -> int:
    return round(window.editor.view.tick_to_x(tick))


def _type_into_inline_editor(qtbot, lane, text: str) -> None:
    field = lane.findChild(QLineEdit, "lane_inline_editor")
    assert field is not None and field.isVisible()
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def test_double_click_adds_a_tempo_change_typed_in_place_and_undo_takes_it_out(qtbot, window):
    lane = window.editor.tempo_lane
    assert lane.isVisible()
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, 2 * BAR) + 2, lane.height() * 3 // 4))
    _type_into_inline_editor(qtbot, lane, "90")
    changes = window.document.project.tempo_map.changes
    assert [(c.tick, round(c.bpm)) for c in changes] == [(0, 120), (2 * BAR, 90)]
    assert window.document.project.tempo_map.tick_to_seconds(3 * BAR) > 6.0  # the later bars are slower
    window.document.undo_stack.undo()
    assert len(window.document.project.tempo_map.changes) == 1


def test_a_time_signature_change_goes_to_a_bar_line_and_the_ruler_follows(qtbot, window):
    lane = window.editor.tempo_lane
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, BAR + TPQ), 4))  # inside bar 2
    _type_into_inline_editor(qtbot, lane, "3/4")
    signatures = window.document.project.time_signatures
    assert [(c.tick, c.numerator, c.denominator) for c in signatures.changes] == [(0, 4, 4), (BAR, 3, 4)]
    assert signatures.bar_to_tick(3) == BAR + 2 * 3 * TPQ  # bars 2 and 3 hold three beats


def test_a_tempo_that_cannot_be_read_changes_nothing_and_says_why(qtbot, window):
    lane = window.editor.tempo_lane
    before = window.document.project
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, 0) + 4, lane.height() * 3 // 4))
    _type_into_inline_editor(qtbot, lane, "fast")
    assert window.document.project is before
    assert "not a tempo" in window.statusBar().currentMessage()


def test_dragging_a_tempo_change_moves_it_and_delete_removes_it(qtbot, window):
    lane = window.editor.tempo_lane
    lane.set_tempo(BAR, 100.0, "Add tempo change")
    y = lane.height() * 3 // 4
    start = QPoint(_x(window, BAR) + 8, y)
    end = QPoint(_x(window, 2 * BAR) + 8, y)
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(lane, start + (end - start) * i / 5)
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, pos=end)
    assert [c.tick for c in window.document.project.tempo_map.changes] == [0, 2 * BAR]
    qtbot.mouseClick(lane, Qt.MouseButton.LeftButton, pos=end)
    qtbot.keyClick(lane, Qt.Key.Key_Delete)
    assert [c.tick for c in window.document.project.tempo_map.changes] == [0]
    # The tempo at tick 0 stays: Delete on it does nothing.
    qtbot.mouseClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, 0) + 8, y))
    qtbot.keyClick(lane, Qt.Key.Key_Delete)
    assert len(window.document.project.tempo_map.changes) == 1


def test_markers_are_added_by_name_jump_the_playhead_and_save(qtbot, window, tmp_path):
    lane = window.editor.marker_lane
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, 2 * BAR) + 1, 8))
    _type_into_inline_editor(qtbot, lane, "Chorus")
    assert window.document.project.markers == (Marker(2 * BAR, "Chorus"),)
    window.seek(0)
    qtbot.mouseClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(_x(window, 2 * BAR) + 10, 8))
    assert window.editor.playhead_tick == 2 * BAR
    path = tmp_path / "song.composer"
    assert window.files.save_as(path)
    assert window.files.open_file(path)
    assert window.document.project.markers == (Marker(2 * BAR, "Chorus"),)


class _CountLane(TimeLane):
    """A lane another feature could add: paints one mark per bar (the test checks alignment)."""

    title = "Test"
    height_px = 18


def test_other_features_can_stack_lanes_that_scroll_and_zoom_with_the_roll(qtbot, window):
    editor = window.editor
    lane = editor.add_lane(_CountLane(editor), where="bottom")
    qtbot.waitUntil(lane.isVisible)
    assert editor.lanes()[-1] is lane
    editor.view.zoom_x(1.5)
    editor.view.scroll_to(tick=BAR)
    canvas_x = editor.canvas.mapTo(window, QPoint(round(editor.view.tick_to_x(2 * BAR)), 0)).x()
    lane_x = lane.mapTo(window, QPoint(round(lane.x_of(2 * BAR)), 0)).x()
    assert canvas_x == lane_x
    lane.toggle_action.setChecked(False)
    assert editor.bottom_lanes.isVisible()  # the mood lane is still there
    editor.mood_lane.toggle_action.setChecked(False)
    assert not editor.bottom_lanes.isVisible()
