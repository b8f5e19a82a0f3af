"""The note inspector, the key menu's scale highlight and the key estimate, driven by real input events."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from composer_app.core.theory import Key
from composer_app.ui.inspector import parse_pitch, parse_position, pitch_name
from tests.ui.conftest import TPQ, note_point

BAR = 4 * TPQ


def _type(qtbot, field, text: str) -> None:
    line = field.lineEdit() if hasattr(field, "lineEdit") and field.lineEdit() else field
    field.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def _click_note(qtbot, window, tick, pitch, modifier=Qt.KeyboardModifier.NoModifier):
    window.editor.set_tool("select")
    qtbot.mouseClick(window.editor.canvas, Qt.MouseButton.LeftButton, modifier, note_point(window.editor, tick + 60, pitch))


def test_pitch_names_and_positions_parse_as_composers_type_them(window):
    assert [parse_pitch(t) for t in ("C4", "c#4", "Db4", "61", "B-1")] == [60, 61, 61, 61, 11]
    assert pitch_name(61) == "C#4"
    for bad in ("H4", "C#", "200"):
        with pytest.raises(ValueError):
            parse_pitch(bad)
    signatures = window.document.project.time_signatures
    assert parse_position("2:3:120", signatures) == BAR + 2 * TPQ + 120
    assert parse_position("3", signatures) == 2 * BAR
    with pytest.raises(ValueError):
        parse_position("0:1", signatures)


def test_the_selected_note_is_shown_and_edited_by_name(qtbot, window):
    inspector = window.inspector
    _click_note(qtbot, window, TPQ, 64)  # the third melody note, E4 on beat 2
    assert inspector.count.text() == "1 note"
    assert inspector.pitch.text() == "E4" and inspector.start.text() == "1:2:0"
    _type(qtbot, inspector.pitch, "G4")
    note = window.document.selected_notes()[0]
    assert (note.pitch, note.start_tick) == (67, TPQ)
    _type(qtbot, inspector.length, "1.5")
    _type(qtbot, inspector.velocity, "33")
    note = window.document.selected_notes()[0]
    assert (note.duration_ticks, note.velocity) == (720, 33)
    stack = window.document.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == ["Set pitch", "Set length", "Set velocity"]
    _type(qtbot, inspector.pitch, "H9")  # not a note: nothing changes
    assert window.document.selected_notes()[0].pitch == 67


def test_several_notes_move_together_by_start_and_pitch(qtbot, window):
    inspector = window.inspector
    _click_note(qtbot, window, 0, 60)
    _click_note(qtbot, window, TPQ // 2, 62, Qt.KeyboardModifier.ShiftModifier)
    assert inspector.count.text().startswith("2 notes")
    _type(qtbot, inspector.start, "3:1:0")
    selected = sorted(window.document.selected_notes())
    assert [(n.start_tick, n.pitch) for n in selected] == [(2 * BAR, 60), (2 * BAR + TPQ // 2, 62)]
    _type(qtbot, inspector.pitch, "D4")  # the first goes to D4, the other keeps its interval
    assert [n.pitch for n in sorted(window.document.selected_notes())] == [62, 64]
    assert window.document.undo_stack.count() == 2


def test_the_key_is_estimated_for_new_material_and_its_scale_is_highlighted(qtbot, window):
    doc = window.document
    doc.reset(replace(doc.project, key=None))
    inspector = window.inspector
    assert inspector.key_label.text().strip() == "Key: C major?"
    qtbot.waitUntil(inspector.use_key.isVisible, timeout=1000)  # (the toolbar lays out on the next event loop turn)
    assert "sound like C major" in inspector.key_label.toolTip()
    assert window.editor.scale_pitch_classes() is None
    qtbot.mouseClick(inspector.use_key, Qt.MouseButton.LeftButton)
    assert doc.project.key == Key(0, "major")
    assert window.editor.scale_pitch_classes() == Key(0, "major").pitch_classes
    assert not inspector.use_key_action.isVisible()
    qtbot.waitUntil(lambda: not inspector.use_key.isVisible(), timeout=1000)
    # Choose another scale from the key menu with the keyboard: the roll highlights it.
    combo = window.transport_bar.key
    combo.showPopup()
    view = combo.view()
    index = view.model().index(combo.findText("D dorian"), 0)
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())
    assert doc.project.key == Key(2, "dorian")
    assert window.editor.scale_pitch_classes() == Key(2, "dorian").pitch_classes
    row = window.editor.canvas.grab().toImage()
    point_in = note_point(window.editor, 3 * BAR + TPQ // 3, 71)  # B: in D dorian
    point_out = note_point(window.editor, 3 * BAR + TPQ // 3, 70)  # B flat: not in it
    assert row.pixelColor(point_in) != row.pixelColor(point_out)
