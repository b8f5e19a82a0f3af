"""Multi-track editing: every track in its colour, the edited track chosen in the roll or the list,
volume and pan as CC7/CC10, mute and solo in playback and export. Real widgets, real input events."""

from __future__ import annotations

import mido
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from composer_app.ui.theme import track_color
from composer_app.ui.track_list import TrackRow
from tests.ui.conftest import TPQ, note_point


@pytest.fixture
def fake_sink(window):
    from composer_app.playback.sink import FakeSink

    sink = FakeSink()
    window.playback.sink_factory = lambda: [sink]
    yield sink
    window.playback.shutdown()


def _hue_distance(a: QColor, b: QColor) -> int:
    d = abs(a.hsvHue() - b.hsvHue()) % 360
    return min(d, 360 - d)


def _pixel(window, tick: int, pitch: int) -> QColor:
    point = note_point(window.editor, tick, pitch)
    return window.editor.canvas.grab().toImage().pixelColor(point.x() + 6, point.y())


def test_each_track_is_drawn_in_its_own_colour(qtbot, window):
    melody = _pixel(window, 0, 60)  # the melody's first note (edited track)
    bass = _pixel(window, 0, 48)  # the bass's first note (another track)
    assert _hue_distance(melody, track_color(0)) < 20
    assert _hue_distance(bass, track_color(1)) < 35  # faded onto the (bluish) background
    assert _hue_distance(melody, bass) > 60


def test_clicking_another_tracks_note_makes_it_the_edited_track(qtbot, window):
    editor = window.editor
    editor.set_tool("select")
    assert window.document.current_track_index == 0
    qtbot.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, pos=note_point(editor, 2 * TPQ + 100, 43))
    assert window.document.current_track_index == 1
    assert [n.pitch for n in window.document.selection] == [43]
    assert window.track_list.list.currentRow() == 1
    # The pen now adds to the bass.
    editor.set_tool("pen")
    qtbot.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, pos=note_point(editor, 12 * TPQ, 40))
    assert any(n.pitch == 40 for n in window.document.project.tracks[1].notes)
    assert not any(n.pitch == 40 for n in window.document.project.tracks[0].notes)


def test_a_click_on_a_track_rows_name_field_chooses_that_track(qtbot, window):
    row = window.track_list.list.itemWidget(window.track_list.list.item(1))
    assert isinstance(row, TrackRow)
    qtbot.mouseClick(row, Qt.MouseButton.LeftButton, pos=QPoint(2, row.height() // 2))
    assert window.document.current_track_index == 1


def test_volume_and_pan_are_sent_as_cc7_and_cc10_and_muted_tracks_stay_silent(qtbot, window, fake_sink):
    row = window.track_list.list.itemWidget(window.track_list.list.item(1))
    row.volume.setFocus()
    for _ in range(3):
        qtbot.keyClick(row.volume, Qt.Key.Key_PageDown)  # 100 -> 70
    row.pan.setFocus()
    qtbot.keyClick(row.pan, Qt.Key.Key_End)  # hard right
    bass = window.document.project.tracks[1]
    assert (bass.volume, bass.pan) == (70, 127)
    window.document.undo_stack.undo()  # a burst of changes to one control is one undo step
    assert window.document.project.tracks[1].pan == 64
    window.document.undo_stack.redo()
    qtbot.mouseClick(window.track_list.list.itemWidget(window.track_list.list.item(0)).mute, Qt.MouseButton.LeftButton)
    assert window.document.project.tracks[0].mute
    window.play(0)
    qtbot.waitUntil(lambda: any(m.type == "note_on" for m in fake_sink.messages), timeout=3000)
    window.stop()
    sent = fake_sink.messages
    assert mido.Message("control_change", channel=1, control=7, value=70) in sent
    assert mido.Message("control_change", channel=1, control=10, value=127) in sent
    assert {m.channel for m in sent if m.type == "note_on"} == {1}  # the muted melody (channel 0) is silent


def test_export_writes_what_is_heard_solo_and_mute_applied(qtbot, window, tmp_path):
    row = window.track_list.list.itemWidget(window.track_list.list.item(1))
    qtbot.mouseClick(row.solo, Qt.MouseButton.LeftButton)
    path = tmp_path / "heard.mid"
    assert window.files.export_midi("project", path)
    exported = mido.MidiFile(path)
    channels = {m.channel for t in exported.tracks for m in t if m.type == "note_on"}
    assert channels == {1}
    assert any(m.type == "control_change" and m.control == 7 for t in exported.tracks for m in t)
