"""The main window: files (drop, open, save, reopen, export), tracks, title, settings, screenshots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mido
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication

from composer_app.core.note import Note
from tests.ui.conftest import TPQ, melody_project, note_point

REPO = Path(__file__).resolve().parents[2]


def write_midi(path: Path, pitches=(60, 64, 67, 72), name: str = "Lead") -> Path:
    """A small type-1 MIDI file written with mido directly (independent of our writer)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TPQ)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=600_000, time=0)])
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0), mido.Message("program_change", program=40, time=0)])
    for p in pitches:
        track.append(mido.Message("note_on", note=p, velocity=80, time=0))
        track.append(mido.Message("note_off", note=p, velocity=0, time=TPQ))
    mid.tracks.extend([conductor, track])
    mid.save(path)
    return path


def drop_file(window, path: Path, modifiers=Qt.KeyboardModifier.NoModifier) -> bool:
    """Simulate dragging ``path`` from a file manager onto the window."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
    QApplication.sendEvent(window, drop)
    return drop.isAccepted()


@pytest.fixture
def midifile():
    import composer_app.core.midifile as midifile_module

    return midifile_module


def test_open_midi_file_by_drop(window, qtbot, tmp_path, midifile):
    path = write_midi(tmp_path / "dropped.mid")
    window.editor.canvas.setFocus()
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_Delete)  # unsaved work: confirm_discard says "discard"
    assert window.isWindowModified()
    assert drop_file(window, path)
    qtbot.waitUntil(lambda: len(window.document.project.tracks) == 1)
    track = window.document.project.tracks[0]
    assert [n.pitch for n in track.notes] == [60, 64, 67, 72]
    assert track.program == 40
    assert round(window.document.project.tempo_map.bpm_at(0)) == 100
    assert not window.isWindowModified()
    assert window.document.undo_stack.count() == 0
    assert "dropped" in window.windowTitle()
    assert window.track_list.list.count() == 1
    assert str(path.resolve()) in window.files.recent_files()


def test_drop_with_ctrl_imports_tracks(window, qtbot, tmp_path, midifile):
    path = write_midi(tmp_path / "extra.mid", name="Extra")
    before = len(window.document.project.tracks)
    assert drop_file(window, path, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(window.document.project.tracks) == before + 1)
    assert window.document.current_track_index == before
    window.document.undo_stack.undo()
    assert len(window.document.project.tracks) == before


def test_drop_ignores_other_files(window, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    assert not drop_file(window, other)


def test_bad_file_gives_a_message_and_keeps_the_document(window, tmp_path, midifile):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x05")  # truncated header
    before = window.document.project
    assert not window.files.open_file(bad, ask=False)
    assert window.document.project is before
    assert "broken.mid" in window.last_error


def test_run_app_with_a_bad_file_opens_an_empty_document(qtbot, tmp_path, midifile):
    from composer_app.ui.main_window import main_window_for

    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    win = main_window_for(str(bad))
    qtbot.addWidget(win)
    assert win.document.project.note_count == 0
    assert "bad.mid" in win.last_error


def test_save_and_reopen_project(window, qtbot, tmp_path):
    editor = window.editor
    editor.set_tool("pen")
    qtbot.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, pos=note_point(editor, 6 * TPQ + 10, 70))
    assert window.isWindowModified()
    path = tmp_path / "song.composer"
    window.files.ask_save_path = lambda title, suggested: str(path)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert path.exists()
    assert not window.isWindowModified()
    assert window.document.path == path
    saved = window.document.project
    window.files.new_document()
    assert window.document.project.note_count == 0
    assert window.files.open_file(path)
    assert window.document.project.tracks == saved.tracks
    assert window.document.project.key == saved.key
    assert "song.composer" in window.windowTitle()


def test_prompt_before_losing_work(window, qtbot):
    editor = window.editor
    editor.select_all()
    editor.delete_selection()
    asked = []
    window.files.confirm_discard = lambda: asked.append(1) or "cancel"
    window.files.new_document()
    assert asked and window.document.project.note_count > 0  # cancelled: nothing lost
    window.files.confirm_discard = lambda: "discard"
    window.files.new_document()
    assert window.document.project.note_count == 0


def test_export_selection_and_track(window, tmp_path, midifile):
    editor = window.editor
    notes = window.document.project.tracks[0].notes
    window.document.select_notes(notes[4:8])
    out = tmp_path / "selection.mid"
    assert window.files.export_midi("selection", out)
    loaded = midifile.load_midi(out)
    got = [n for t in loaded.tracks for n in t.notes]
    assert [n.pitch for n in got] == [n.pitch for n in notes[4:8]]
    assert got[0].start_tick == notes[4].start_tick  # kept its place in the bar (bar 1 here)
    assert window.files.export_midi("track", tmp_path / "track.mid")
    assert window.files.export_midi("project", tmp_path / "project.mid")
    assert len(midifile.load_midi(tmp_path / "project.mid").tracks) == 2


def test_track_list_add_change_reorder_remove(window, qtbot):
    panel = window.track_list
    document = window.document
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert len(document.project.tracks) == 3 and document.current_track_index == 2
    row = panel.list.itemWidget(panel.list.item(2))
    row.program.setCurrentIndex(40)
    row.program.activated.emit(40)
    assert document.project.tracks[2].program == 40
    qtbot.mouseClick(row.mute, Qt.MouseButton.LeftButton)
    assert document.project.tracks[2].mute
    qtbot.mouseClick(panel.up_button, Qt.MouseButton.LeftButton)
    assert document.project.tracks[1].program == 40 and document.current_track_index == 1
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert [t.name for t in document.project.tracks] == ["Melody", "Bass"]
    for _ in range(5):
        document.undo_stack.undo()
    assert len(document.project.tracks) == 2 and document.project == melody_project()


def test_track_selection_switches_the_roll(window, qtbot):
    window.track_list.list.setCurrentRow(1)
    assert window.document.current_track_index == 1
    assert window.editor.canvas.note_index().notes == window.document.project.tracks[1].notes


def test_shortcuts_are_saved_by_action_name(window, qtbot):
    collection = window.editor_actions
    collection.set_shortcuts("duplicate", [QKeySequence("Ctrl+Shift+D")])
    assert QSettings().value("shortcuts/editor/duplicate") in (["Ctrl+Shift+D"], "Ctrl+Shift+D")
    from composer_app.ui.main_window import MainWindow

    second = MainWindow()
    qtbot.addWidget(second)
    assert second.editor_actions["duplicate"].shortcut().toString() == "Ctrl+Shift+D"
    collection.set_shortcuts("duplicate", collection.default_shortcuts["duplicate"])
    assert QSettings().value("shortcuts/editor/duplicate") is None


def test_settings_remember_snap_and_layout(window, qtbot):
    window.snap_combo.setCurrentText("1/8T")
    window.close()
    from composer_app.ui.main_window import MainWindow

    again = MainWindow()
    qtbot.addWidget(again)
    assert again.editor.view.snap_label == "1/8T"


def test_step_entry_adds_notes_at_the_playhead(window):
    from composer_app.ui.recording import Recorder

    recorder = Recorder(window)
    recorder.step_entry = True  # as if an input port were open
    window.seek(4 * TPQ)
    window.editor.last_note_length_ticks = TPQ // 2
    recorder.handle_message(mido.Message("note_on", note=72, velocity=99), 10.0)
    recorder.handle_message(mido.Message("note_off", note=72), 10.2)
    recorder.handle_message(mido.Message("note_on", note=74, velocity=99), 11.0)
    recorder.handle_message(mido.Message("note_on", note=77, velocity=99), 11.03)  # struck together: a chord
    notes = window.document.project.tracks[0].notes
    step2 = 4 * TPQ + TPQ // 2
    assert Note(4 * TPQ, 72, TPQ // 2, 99, 0) in notes
    assert Note(step2, 74, TPQ // 2, 99, 0) in notes and Note(step2, 77, TPQ // 2, 99, 0) in notes
    assert window.editor.playhead_tick == 5 * TPQ
    assert len(window.document.selection) == 2


def test_recording_commits_one_undo_step(window):
    from composer_app.ui.recording import Recorder

    recorder = Recorder(window)
    recorder.is_recording = True
    recorder._record_start_tick = 0
    recorder._record_start_time = 100.0
    recorder.handle_message(mido.Message("note_on", note=80, velocity=70), 100.0)
    recorder.handle_message(mido.Message("note_off", note=80), 100.5)  # 0.5 s at 120 BPM = one quarter
    count = window.document.undo_stack.count()
    recorder.stop()
    assert Note(0, 80, TPQ, 70, 0) in window.document.project.tracks[0].notes
    assert window.document.undo_stack.count() == count + 1


def test_gui_start_up_path_does_not_import_torch():
    code = (
        "import sys, os; os.environ['QT_QPA_PLATFORM']='offscreen';"
        "from composer_app.ui.app import ensure_application, create_main_window;"
        "app = ensure_application(); w = create_main_window(None);"
        "print('torch' in sys.modules, w.isVisible(), w.document.project.note_count > 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False True True"  # shown, example loaded, no torch
