"""The piano roll driven by real mouse and keyboard events (pytest-qt)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from composer_app.core.note import Note
from composer_app.ui.selection import Selection
from tests.ui.conftest import TPQ, drag, note_point

SIXTEENTH = TPQ // 4


def notes_of(window, track: int = 0):
    return window.document.project.tracks[track].notes


def clear_track(window):
    project = window.document.project
    window.document.reset(project.replace_track(0, project.tracks[0].with_notes([])))
    window.editor.view.show_range(0, 4 * 4 * TPQ, 55, 74)
    window.editor.view.scroll_to(tick=0)


def test_pen_draw_move_resize_with_undo_redo(window, qtbot):
    editor, canvas = window.editor, window.editor.canvas
    clear_track(window)
    editor.set_tool("pen")
    editor.last_note_length_ticks = TPQ
    # 1. Draw: a click slightly after beat 2 lands on the 1/16 grid with the last-used length.
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=note_point(editor, TPQ + 30, 64))
    assert notes_of(window) == (Note(TPQ, 64, TPQ, editor.last_velocity, 0),)
    assert window.document.selection.notes == notes_of(window)
    # 2. Move: drag the body right by ~1.3 sixteenths and up two semitones; it lands on the grid.
    start = note_point(editor, TPQ + TPQ // 2, 64)
    end = note_point(editor, TPQ + TPQ // 2 + SIXTEENTH * 1.3, 66)
    drag(qtbot, canvas, start, end)
    (moved,) = notes_of(window)
    assert moved.pitch == 66
    assert moved.start_tick % SIXTEENTH == 0 and moved.start_tick == TPQ + SIXTEENTH
    # 3. Resize: drag the right edge one beat further; the end snaps to the grid.
    edge = note_point(editor, moved.end_tick - 1, 66)
    drag(qtbot, canvas, edge, edge + QPoint(round(TPQ * 1.1 * editor.view.px_per_tick), 0))
    (resized,) = notes_of(window)
    assert resized.start_tick == moved.start_tick
    assert resized.end_tick % SIXTEENTH == 0 and resized.duration_ticks == 2 * TPQ
    # 4. Undo each step, then redo each step.
    stack = window.document.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == ["Add note", "Move notes", "Resize notes"]
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert notes_of(window) == (moved,)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert notes_of(window) == (Note(TPQ, 64, TPQ, editor.last_velocity, 0),)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert notes_of(window) == ()
    redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(canvas, Qt.Key.Key_Z, redo)
    assert len(notes_of(window)) == 1
    qtbot.keyClick(canvas, Qt.Key.Key_Z, redo)
    assert notes_of(window) == (moved,)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, redo)
    assert notes_of(window) == (resized,)
    assert window.document.selection.notes == (resized,)  # selection survives undo/redo


def test_pen_drag_sets_length_and_eraser_deletes(window, qtbot):
    editor, canvas = window.editor, window.editor.canvas
    clear_track(window)
    editor.set_tool("pen")
    drag(qtbot, canvas, note_point(editor, 0, 60), note_point(editor, 3 * TPQ // 2 + 10, 60))
    assert notes_of(window) == (Note(0, 60, 3 * TPQ // 2, editor.last_velocity, 0),)
    assert editor.last_note_length_ticks == 3 * TPQ // 2
    qtbot.keyClick(canvas, Qt.Key.Key_3)  # eraser tool
    assert editor.active_tool.name == "eraser"
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=note_point(editor, TPQ // 2, 60))
    assert notes_of(window) == ()
    assert window.document.undo_stack.text(window.document.undo_stack.index() - 1) == "Erase note"


def test_box_select_three_notes_and_delete(window, qtbot):
    editor, canvas = window.editor, window.editor.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_1)  # select tool
    assert editor.active_tool.name == "select"
    before = notes_of(window)
    # The first three melody notes: C4, D4, E4 at eighths 0, 1, 2. Box from before the first to the third.
    top_left = note_point(editor, 10, 65) + QPoint(0, -4)
    bottom_right = note_point(editor, 2 * TPQ // 2 + 100, 59)
    drag(qtbot, canvas, top_left + QPoint(-8, 0), bottom_right)
    assert window.document.selection.notes == before[:3]
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert notes_of(window) == before[3:]
    assert window.document.selection.notes == ()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert notes_of(window) == before
    assert window.document.selection.notes == before[:3]
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert notes_of(window) == before[3:]


def test_click_shift_ctrl_selection_and_alt_drag_copies(window, qtbot):
    editor, canvas = window.editor, window.editor.canvas
    editor.set_tool("select")
    notes = notes_of(window)
    first, second = notes[0], notes[1]
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=note_point(editor, first.start_tick + 110, first.pitch))
    assert window.document.selection.notes == (first,)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, note_point(editor, second.start_tick + 110, second.pitch))
    assert window.document.selection.notes == (first, second)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, note_point(editor, first.start_tick + 110, first.pitch))
    assert window.document.selection.notes == (second,)
    # Alt-drag copies the selected note one beat later.
    start = note_point(editor, second.start_tick + 110, second.pitch)
    drag(qtbot, canvas, start, start + QPoint(round(TPQ * editor.view.px_per_tick), 0), Qt.KeyboardModifier.AltModifier)
    after = notes_of(window)
    assert len(after) == len(notes) + 1
    assert second in after and second.with_start(second.start_tick + TPQ) in after
    assert window.document.selection.notes == (second.with_start(second.start_tick + TPQ),)
    assert window.document.undo_stack.text(window.document.undo_stack.index() - 1) == "Copy notes"


def test_nudge_with_arrow_keys(window, qtbot):
    editor, canvas = window.editor, window.editor.canvas
    first = notes_of(window)[0]
    window.document.set_selection(Selection([first]))
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    qtbot.keyClick(canvas, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    moved = first.shifted(SIXTEENTH, 13)
    assert moved in notes_of(window)
    assert window.document.selection.notes == (moved,)
    assert window.document.undo_stack.count() == 3


def test_quantize_with_half_strength_through_the_dialog(window, qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from composer_app.ui.dialogs import QuantizeDialog

    project = window.document.project
    off_grid = [Note(TPQ + 60, 60, 200, 90, 0), Note(2 * TPQ - 100, 62, 200, 90, 0), Note(3 * TPQ + 20, 64, 200, 90, 0)]
    window.document.reset(project.replace_track(0, project.tracks[0].with_notes(off_grid)))
    window.editor.select_all()

    def fill_dialog():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QuantizeDialog)
        dialog.grid.setCurrentText("1/4")
        dialog.strength.setValue(50)
        dialog.accept()

    QTimer.singleShot(50, fill_dialog)
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_Q, Qt.KeyboardModifier.ShiftModifier)
    starts = [n.start_tick for n in notes_of(window)]
    # Half way to the nearest quarter: 540 -> 510, 860 -> 910, 1460 -> 1450.
    assert starts == [TPQ + 30, 2 * TPQ - 50, 3 * TPQ + 10]
    assert window.last_quantize[:2] == ("1/4", 50)
    # Q repeats the last settings on the (still selected) notes: half of the remaining distance.
    window.activateWindow()  # offscreen Qt does not give activation back after a modal dialog
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_Q)
    assert [n.start_tick for n in notes_of(window)] == [TPQ + 15, 2 * TPQ - 25, 3 * TPQ + 5]  # 510->495, 910->935, 1450->1445
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert notes_of(window) == tuple(sorted(off_grid))


def test_velocity_lane_drag_and_ramp(window, qtbot):
    editor, lane = window.editor, window.editor.velocity_lane
    notes = notes_of(window)
    target = notes[2]
    x = round(editor.view.tick_to_x(target.start_tick)) + 2
    top = QPoint(x, round(lane.velocity_to_y(120)))
    drag(qtbot, lane, QPoint(x, round(lane.velocity_to_y(20))), top)
    changed = [n for n in notes_of(window) if n.start_tick == target.start_tick]
    assert abs(changed[0].velocity - 120) <= 2
    assert window.document.undo_stack.count() == 1
    # Shift-drag draws a ramp over the first eight notes: 20 -> 120.
    x0 = round(editor.view.tick_to_x(0))
    x1 = round(editor.view.tick_to_x(notes[7].start_tick))
    drag(qtbot, lane, QPoint(x0, round(lane.velocity_to_y(20))), QPoint(x1 + 1, round(lane.velocity_to_y(120))), Qt.KeyboardModifier.ShiftModifier)
    velocities = [n.velocity for n in notes_of(window)[:8]]
    assert velocities == sorted(velocities) and velocities[0] <= 25 and velocities[-1] >= 110
    assert window.document.undo_stack.count() == 2


def test_copy_paste_at_playhead_and_duplicate(window, qtbot):
    editor, canvas = window.editor, window.editor.canvas
    notes = notes_of(window)
    window.document.set_selection(Selection(notes[:2]))
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    # Click the ruler at bar 3 to move the playhead there.
    bar3 = 8 * TPQ
    qtbot.mouseClick(editor.ruler, Qt.MouseButton.LeftButton, pos=QPoint(round(editor.view.tick_to_x(bar3)), 10))
    assert editor.playhead_tick == bar3
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    pasted = [n.with_start(n.start_tick + bar3) for n in notes[:2]]
    assert all(p in notes_of(window) for p in pasted)
    assert window.document.selection.notes == tuple(pasted)
    qtbot.keyClick(canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    span = pasted[1].end_tick - pasted[0].start_tick
    span = -(-span // SIXTEENTH) * SIXTEENTH
    assert all(p.with_start(p.start_tick + span) in notes_of(window) for p in pasted)
    assert len(notes_of(window)) == len(notes) + 4


def test_ruler_drag_sets_loop_and_zoom_keys(window, qtbot):
    editor = window.editor
    ruler = editor.ruler
    x0 = round(editor.view.tick_to_x(4 * TPQ))
    x1 = round(editor.view.tick_to_x(8 * TPQ))
    drag(qtbot, ruler, QPoint(x0, 10), QPoint(x1, 10))
    loop = window.document.project.loop
    assert (loop.start_tick, loop.end_tick) == (4 * TPQ, 8 * TPQ)
    px = editor.view.px_per_tick
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Plus)
    assert editor.view.px_per_tick > px
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Minus)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Minus)
    assert editor.view.px_per_tick < px
    qtbot.keyClick(editor.canvas, Qt.Key.Key_F)  # fit: every note visible
    start, end = editor.view.visible_ticks()
    assert start <= 0 + 1 and end >= window.document.project.end_tick


def test_selection_of_duplicate_notes_is_counted(window):
    project = window.document.project
    twin = Note(0, 70, 100, 80, 0)
    window.document.reset(project.replace_track(0, project.tracks[0].with_notes([twin, twin])))
    window.document.set_selection(Selection([twin]))
    window.editor.nudge(semitones=1)
    assert notes_of(window) == (twin, twin.with_pitch(71))
    window.document.undo_stack.undo()
    assert notes_of(window) == (twin, twin)
    assert len(window.document.selection) == 1


def wheel(widget, pos: QPoint, delta_y: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    event = QWheelEvent(
        QPointF(pos), QPointF(widget.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, delta_y),
        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False,
    )
    QApplication.sendEvent(widget, event)


def test_ctrl_wheel_zooms_around_the_mouse_and_wheel_scrolls(window):
    editor, canvas = window.editor, window.editor.canvas
    view = editor.view
    pos = QPoint(400, 200)
    tick_under_mouse = view.x_to_tick(pos.x())
    px = view.px_per_tick
    wheel(canvas, pos, 120, Qt.KeyboardModifier.ControlModifier)
    assert view.px_per_tick > px
    assert abs(view.x_to_tick(pos.x()) - tick_under_mouse) < 2
    height = view.key_height_px
    wheel(canvas, pos, 120, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert view.key_height_px > height
    top = view.scroll_y_px
    wheel(canvas, pos, -120)
    assert view.scroll_y_px > top
    left = view.scroll_tick
    wheel(canvas, pos, -120, Qt.KeyboardModifier.ShiftModifier)
    assert view.scroll_tick > left
    assert editor.hscroll.value() == round(view.scroll_tick * view.px_per_tick)


def test_eraser_stroke_is_one_undo_step(window, qtbot):
    editor, canvas = window.editor, window.editor.canvas
    editor.set_tool("eraser")
    notes = notes_of(window)
    # The melody's first three notes climb C-D-E: a stroke through their centres erases all three.
    points = [note_point(editor, n.start_tick + n.duration_ticks // 2, n.pitch) for n in notes[:3]]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=points[0])
    for p in points[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=points[-1])
    assert notes_of(window) == notes[3:]
    window.document.undo_stack.undo()
    assert notes_of(window) == notes


def test_keyboard_click_auditions_and_history_lists_steps(window, qtbot):
    heard = []
    from composer_app.ui.signals import app_signals

    app_signals().note_audition.connect(lambda p, v, c: heard.append(p))
    keyboard = window.editor.keyboard
    y = round(window.editor.view.pitch_to_y(67) + window.editor.view.key_height_px / 2)
    qtbot.mouseClick(keyboard, Qt.MouseButton.LeftButton, pos=QPoint(30, y))
    assert heard[-1] == 67
    window.editor.select_all()
    window.editor.transpose(2)
    window.editor.legato()
    model = window.undo_view.model()
    assert [model.index(i, 0).data() for i in range(model.rowCount())] == ["<original>", "Transpose +2", "Legato"]


def test_playhead_follows_while_playing(window):
    editor = window.editor
    editor.is_playing = True
    far = 40 * 4 * TPQ
    editor.set_playhead(far)
    start, end = editor.view.visible_ticks()
    assert start <= far < end
    editor.is_playing = False


def test_shortcuts_dialog_changes_a_shortcut(window, qtbot):
    from PySide6.QtGui import QKeySequence

    from composer_app.ui.dialogs import ShortcutsDialog

    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    tree = dialog.tree
    target = None
    for i in range(tree.topLevelItemCount()):
        parent = tree.topLevelItem(i)
        for j in range(parent.childCount()):
            item = parent.child(j)
            data = item.data(0, Qt.ItemDataRole.UserRole)
            if data and data[1] == "legato" and data[0] is window.editor_actions:
                target = item
    tree.setCurrentItem(target)
    dialog.editor.setKeySequence(QKeySequence("Ctrl+Alt+L"))
    dialog._set([dialog.editor.keySequence()])
    assert window.editor_actions["legato"].shortcut().toString() == "Ctrl+Alt+L"
    assert target.text(1).replace(" ", "") != ""
