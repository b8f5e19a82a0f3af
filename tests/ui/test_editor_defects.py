"""Issue 10: each defect a composer hit in real use, as a test with real widgets and real input events.

Every test here failed on the main branch before the fix (the defect number is in its name).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from tests.ui.conftest import TPQ

BAR = 4 * TPQ


def test_defect12_every_tempo_is_shown_and_edited_at_the_playhead(qtbot, window):
    window.editor.tempo_lane.set_tempo(2 * BAR, 90.0, "Add tempo change")
    bar = window.transport_bar
    window.seek(2 * BAR + TPQ)
    assert bar.tempo.value() == 90.0
    bar.tempo.lineEdit().selectAll()
    qtbot.keyClicks(bar.tempo.lineEdit(), "72")
    qtbot.keyClick(bar.tempo.lineEdit(), Qt.Key.Key_Return)
    assert [(c.tick, round(c.bpm)) for c in window.document.project.tempo_map.changes] == [(0, 120), (2 * BAR, 72)]
    window.seek(0)
    assert bar.tempo.value() == 120.0


# --- suggestions in the real window ----------------------------------------------------------------
import pytest  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from composer_app.core.note import Note  # noqa: E402
from composer_app.core.project import Project  # noqa: E402
from composer_app.core.track import Track  # noqa: E402
from composer_app.ui import clip_drag  # noqa: E402
from tests.ui.conftest import note_point  # noqa: E402
from tests.ui.test_suggestions import ScriptedEngine, _install  # noqa: E402


@pytest.fixture
def suggest(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    controller = _install(window, qtbot, ScriptedEngine())
    yield controller
    controller.jobs.shutdown()


def _suggest_with_keys(qtbot, window, controller) -> None:
    with qtbot.waitSignal(controller.jobs.finished, timeout=5000):
        qtbot.keyClick(window.editor.canvas, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)


def test_defect2_opening_another_file_clears_candidates_ghosts_and_the_story_reading(qtbot, window, suggest, tmp_path):
    controller = suggest
    mood = controller.mood_panel
    qtbot.keyClicks(mood.story_edit, "The ship sinks slowly into the dark water")
    qtbot.waitUntil(lambda: mood.story_reading is not None, timeout=3000)
    window.editor.canvas.setFocus()
    _suggest_with_keys(qtbot, window, controller)
    assert controller.panel.list.count() > 0 and controller.overlay.notes
    other = tmp_path / "other.composer"
    from composer_app.core.projectfile import save_project

    save_project(Project(tracks=(Track("Tune", notes=(Note(0, 67, 480),)),), title="other"), other)
    assert window.files.open_file(other)
    assert controller.panel.list.count() == 0
    assert controller.overlay.notes == [] and controller.overlay.prompt_notes == []
    assert mood.story_reading is None and "sinks" not in mood.story_result.text()
    assert "reads as" not in mood.uses_label.text()
    assert not controller.accept(None)
    assert controller.prompt is None  # nothing left to insert into the new melody


def test_defect3_dropping_a_candidate_on_the_roll_inserts_it_where_it_lands_as_one_undo_step(qtbot, window, suggest):
    controller = suggest
    window.editor.canvas.setFocus()
    _suggest_with_keys(qtbot, window, controller)
    candidate = controller.panel.current_candidate()
    mime = clip_drag.clip_mime_data(controller.clip_spec(candidate))  # what dragging the row carries
    canvas = window.editor.canvas
    target = note_point(window.editor, 3 * BAR + TPQ + 60, 70)  # bar 4, beat 2 (and a bit): snaps to the 1/16 grid
    before = window.document.project
    opened = []
    window.files.confirm_discard = lambda: opened.append("asked") or "cancel"
    for event in (
        QDragEnterEvent(target, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
        QDragMoveEvent(target, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
    ):
        QApplication.sendEvent(canvas, event)
        assert event.isAccepted()
    assert canvas.preview_shown  # where it will land is shown while dragging
    drop = QDropEvent(QPointF(target), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, drop)
    qtbot.wait(20)
    assert opened == []  # no "save?" question, no other project
    melody = window.document.project.tracks[0].notes
    added = [n for n in melody if n not in before.tracks[0].notes]
    start = window.editor.view.snap_floor(3 * BAR + TPQ + 60)
    assert len(added) == len(candidate.notes)
    assert min(n.start_tick for n in added) == start + min(n.start_tick for n in candidate.notes)
    assert window.document.project.tracks[1] == before.tracks[1]
    window.document.undo_stack.undo()
    assert window.document.project.tracks == before.tracks


def test_defect4_suggest_is_not_an_edit(qtbot, window, suggest):
    assert not window.document.is_dirty
    window.editor.canvas.setFocus()
    _suggest_with_keys(qtbot, window, suggest)
    _suggest_with_keys(qtbot, window, suggest)
    qtbot.wait(600)  # past the mood panel's save delay
    assert window.document.undo_stack.count() == 0
    assert not window.document.is_dirty and not window.isWindowModified()


def test_defect5_the_mood_suggest_uses_is_shown_and_an_unaccepted_story_is_never_silent(qtbot, window, suggest):
    mood = suggest.mood_panel
    mood.apply_preset("happy")
    assert "happy" in mood.uses_label.text()
    y_before = mood.story_accept.mapTo(mood, QPoint(0, 0)).y()
    qtbot.keyClicks(mood.story_edit, "The ship sinks slowly into the dark water")
    qtbot.waitUntil(lambda: mood.story_reading is not None, timeout=3000)
    assert mood.story_accept.mapTo(mood, QPoint(0, 0)).y() == y_before  # the button does not jump
    assert "not used until you press its Accept" in mood.uses_label.text()
    qtbot.mouseClick(mood.story_accept, Qt.MouseButton.LeftButton)
    assert "not used" not in mood.uses_label.text()
    assert mood.mood == mood.story_reading.mood
    viewport = mood.scroll.viewport()
    top = mood.pad.mapTo(viewport, QPoint(0, 0)).y()
    assert 0 <= top and top + 40 <= viewport.height()  # the pad is in view after Accept


def test_defect8_the_prompt_is_outlined_and_accept_replaces_the_notes_in_the_span(qtbot, window, suggest):
    controller = suggest
    doc = window.document
    melody = doc.project.tracks[0].notes
    first_bar = [n for n in melody if n.start_tick < BAR]
    doc.select_notes(first_bar)
    window.editor.canvas.setFocus()
    _suggest_with_keys(qtbot, window, controller)
    overlay = controller.overlay
    assert sorted(overlay.prompt_notes) == sorted(first_bar)
    second_bar = [n for n in melody if BAR <= n.start_tick < 2 * BAR]
    assert sorted(overlay.replaced) == sorted(second_bar)  # bar 2 is under the 2-bar candidate
    assert "replaces" in controller.panel.status.text()
    candidate = controller.panel.current_candidate()
    assert controller.accept(candidate)
    notes = doc.project.tracks[0].notes
    assert not any(n in notes for n in second_bar)
    span_end = BAR + controller.request.bars * BAR
    starts = sorted(n.start_tick for n in notes if BAR <= n.start_tick < span_end)
    assert len(starts) == len(candidate.notes)  # only the candidate's notes there: no overlaps
    doc.undo_stack.undo()
    assert doc.project.tracks[0].notes == melody


def test_defect10_earlier_batches_are_kept_and_the_keyboard_stays_in_the_roll(qtbot, window, suggest):
    controller = suggest
    panel = controller.panel
    doc = window.document
    note = doc.project.tracks[0].notes[0]
    doc.select_notes([note])
    window.editor.canvas.setFocus()
    doc.select_notes([])
    _suggest_with_keys(qtbot, window, controller)
    first = panel.candidates()
    with qtbot.waitSignal(controller.jobs.finished, timeout=5000):
        qtbot.mouseClick(panel.more_button, Qt.MouseButton.LeftButton)
    second = panel.candidates()
    assert second != first
    assert panel.back_button.isVisible() and panel.history_label.text() == "2/2"
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert panel.candidates() == first and panel.history_label.text() == "1/2"
    qtbot.mouseClick(panel.forward_button, Qt.MouseButton.LeftButton)
    assert panel.candidates() == second
    # Ctrl+G from the roll leaves the focus there: the arrow nudges the selected note.
    doc.select_notes([note])
    window.editor.canvas.setFocus()
    _suggest_with_keys(qtbot, window, controller)
    assert QApplication.focusWidget() is window.editor.canvas
    row = panel.list.currentRow()
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_Up)
    assert doc.project.tracks[0].notes[0].pitch == note.pitch + 1 or any(n.pitch == note.pitch + 1 and n.start_tick == note.start_tick for n in doc.project.tracks[0].notes)
    assert panel.list.currentRow() == row
    assert panel.history_label.text() == "3/3"


def test_defect12_counts_are_worded_once_and_right(qtbot, window, suggest):
    controller = suggest
    controller.mood_panel.candidates_spin.setValue(1)
    window.editor.canvas.setFocus()
    _suggest_with_keys(qtbot, window, controller)
    assert controller.panel.status.text().startswith("1 candidate in ")
    assert controller.mood_panel.reroll_button.text() == "" and not controller.mood_panel.reroll_button.icon().isNull()


def test_defect9_scale_steps_without_a_key_use_the_estimated_key_and_say_so(qtbot, window):
    from dataclasses import replace as _replace

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QCheckBox, QDialog, QSpinBox

    doc = window.document
    doc.reset(_replace(doc.project, key=None))  # the C major melody, with Key (none)
    melody = doc.project.tracks[0].notes
    seen = {}

    def drive() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QDialog)
        try:
            box = dialog.findChild(QCheckBox)
            seen["text"], seen["enabled"] = box.text(), box.isEnabled()
            qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(5, box.height() // 2))
            spin = dialog.findChild(QSpinBox)
            spin.selectAll()
            qtbot.keyClicks(spin, "1")
            qtbot.keyClick(spin, Qt.Key.Key_Return)
        finally:
            if dialog.isVisible():  # a broken dialog must fail the test, not leave it waiting
                dialog.reject()

    QTimer.singleShot(100, drive)
    window.editor.canvas.setFocus()
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert seen["enabled"] and "C major" in seen["text"] and "estimated" in seen["text"]
    moved = doc.project.tracks[0].notes
    # One step up the C major scale: E -> F and B -> C (a semitone), C -> D (a tone).
    step = {60: 62, 62: 64, 64: 65, 65: 67, 67: 69, 71: 72, 72: 74}
    assert [n.pitch for n in moved] == [step[n.pitch] for n in melody]


# --- layout: tiled beside a DAW -----------------------------------------------------------------------
def _truncated_buttons(window) -> list[str]:
    from PySide6.QtWidgets import QAbstractButton

    out = []
    for button in window.findChildren(QAbstractButton):
        if button.isVisible() and button.text() and button.width() < button.minimumSizeHint().width():
            out.append(f"{button.text()!r} {button.width()} < {button.minimumSizeHint().width()}")
    return out


def test_defect6_the_window_works_at_800x600_and_gives_the_roll_the_room_at_1280x800(qtbot, window, suggest):
    from composer_app.ui.suggestions_panel import ROW_H

    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800 and window.height() == 600, timeout=2000)
    qtbot.wait(50)
    hint = window.minimumSizeHint()
    assert hint.width() <= 800 and hint.height() <= 600, hint
    assert _truncated_buttons(window) == []
    for name in ("mood", "suggestions", "tracks"):
        assert window.panels[name].isVisible()
    assert window.editor.canvas.width() >= 200
    tracks = window.track_list.list
    for i in range(tracks.count()):  # every track row whole: its solo button and channel inside the list
        row = tracks.itemWidget(tracks.item(i))
        for widget in (row.solo, row.channel):
            assert widget.mapTo(tracks.viewport(), QPoint(widget.width(), 0)).x() <= tracks.viewport().width()
    panel = suggest.panel
    for button in (panel.discard_button, panel.export_button, panel.cancel_button):
        assert button.isVisible() and button.width() >= button.minimumSizeHint().width()

    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280, timeout=2000)
    qtbot.wait(50)
    assert _truncated_buttons(window) == []
    assert window.editor.width() > 0.55 * window.width()  # the piano roll gets most of the width
    mood = suggest.mood_panel
    viewport = mood.scroll.viewport()
    assert mood.scroll.verticalScrollBar().value() == 0
    for widget in (mood.pad, mood.suggest_button):  # no scrolling for the pad and Suggest
        top = widget.mapTo(viewport, QPoint(0, 0)).y()
        assert 0 <= top and top + widget.height() <= viewport.height(), widget
    assert panel.list.viewport().height() >= 4 * ROW_H  # at least four candidates in view


def test_defect7_undo_and_redo_have_short_labels_and_the_command_in_the_tooltip(qtbot, window):
    from PySide6.QtWidgets import QToolBar

    window.transport_bar.tempo.setValue(100.0)  # an edit with a long name on the undo stack
    undo = window.edit_actions["undo"]
    assert undo.text().replace("&", "") == "Undo"
    assert undo.toolTip() == "Undo Change tempo"
    toolbar = window.findChild(QToolBar, "toolbar_main")
    hidden = [a.text() for a in toolbar.actions() if not a.isSeparator() and (w := toolbar.widgetForAction(a)) is not None and not w.isVisible()]
    assert hidden == []  # at 1280 px nothing falls into the overflow menu


def test_defect12_a_file_opens_fitted_and_messages_have_room(qtbot, tmp_path):
    from composer_app.core.midifile import save_midi
    from composer_app.ui.main_window import main_window_for

    notes = tuple(Note(i * TPQ, 60 + i % 12, TPQ, 90) for i in range(32))  # 8 bars
    path = tmp_path / "eight.mid"
    save_midi(Project(tracks=(Track("Lead", notes=notes),)), path)
    window = main_window_for(str(path))
    qtbot.addWidget(window)
    window.files.confirm_discard = lambda: "discard"
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    start, end = window.editor.view.visible_ticks()
    assert start <= 0 and end >= 8 * BAR
    assert end < 10 * BAR  # fitted, not just zoomed far out
    window.refresh_port_status()
    assert len(window.midi_label.text()) <= 20
    permanent = sum(w.width() for w in (window.hover_label, window.selection_label, window.output_label,
                                        window.midi_label, window.model_label))
    assert window.statusBar().width() - permanent >= 300  # "Saved …" and the like have room
    window.files.save_as(tmp_path / "eight.composer")
    assert window.statusBar().currentMessage().startswith("Saved")


def test_defect12_export_suggests_the_projects_name_and_folder_after_save_as(qtbot, window, tmp_path):
    from dataclasses import replace as _replace

    window.document.reset(_replace(window.document.project, title=""))
    folder = tmp_path / "songs"
    folder.mkdir()
    assert window.files.save_as(folder / "ballad.composer")
    asked = []
    window.files.ask_save_path = lambda title, suggested: asked.append(suggested) or None
    window.files.export_midi("project")
    assert asked == [str(folder / "ballad.mid")]
