"""Transport bar and hearing-while-editing, through a fake sink (no sound card needed)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import TPQ, note_point


@pytest.fixture
def fake_sink(window):
    from composer_app.playback.sink import FakeSink

    sink = FakeSink()
    window.playback.sink_factory = lambda: [sink]
    yield sink
    window.playback.shutdown()


def test_space_plays_and_the_playhead_follows(window, qtbot, fake_sink):
    window.editor.canvas.setFocus()
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_Space)
    assert window.playback.is_playing
    assert window.transport_actions["play"].isChecked()
    qtbot.waitUntil(lambda: window.editor.playhead_tick > TPQ // 4, timeout=3000)
    assert any(m.type == "note_on" for m in fake_sink.messages)
    assert window.transport_bar.position.text().strip().startswith("1:")
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_Space)
    assert not window.playback.is_playing
    assert not window.transport_actions["play"].isChecked()


def test_placing_a_note_sounds_it(window, qtbot, fake_sink):
    editor = window.editor
    editor.set_tool("pen")
    qtbot.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, pos=note_point(editor, 12 * TPQ, 79))
    qtbot.waitUntil(lambda: any(m.type == "note_on" and m.note == 79 for m in fake_sink.messages), timeout=2000)


def test_metronome_adds_clicks_on_channel_ten(window, qtbot, fake_sink):
    window.transport_actions["metronome"].trigger()
    assert window.playback.metronome
    window.play(0)
    qtbot.waitUntil(lambda: any(m.type == "note_on" and m.channel == 9 for m in fake_sink.messages), timeout=3000)
    window.stop()


def test_tempo_and_meter_edits_are_undoable(window, qtbot):
    bar = window.transport_bar
    bar.tempo.setValue(90.0)
    bar.tempo.setValue(95.0)  # a spin box being scrolled merges into one undo step
    assert round(window.document.project.tempo_map.bpm_at(0)) == 95
    bar.numerator.setValue(3)
    assert window.document.project.time_signatures.change_at(0).numerator == 3
    window.document.undo_stack.undo()
    window.document.undo_stack.undo()
    assert round(window.document.project.tempo_map.bpm_at(0)) == 120
    assert bar.tempo.value() == 120.0


def test_key_chooser_sets_and_estimates_the_key(window):
    from composer_app.core.theory import Key

    bar = window.transport_bar
    assert bar.key.currentText() == "C major"
    index = bar.key.findText("A minor")
    bar.key.setCurrentIndex(index)
    bar.key.activated.emit(index)
    assert window.document.project.key == Key(9, "minor")
    estimate = 1  # "Estimate from notes"
    bar.key.activated.emit(estimate)
    assert window.document.project.key == Key(0, "major")  # the melody is in C major
    assert bar.key.currentText() == "C major"
    window.document.undo_stack.undo()
    assert bar.key.currentText() == "A minor"
