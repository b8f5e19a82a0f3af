"""Vary and Interpolate in the main window, with the shipped VAE weights and real widgets.

The generation worker runs the real engine on a thread (``engine_loader``), so the tests share this
process's registry (the broken-weights test swaps the models folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from composer_app.core.midifile import load_midi
from composer_app.generation import registry
from composer_app.ui import clip_drag
from composer_app.ui.generation_jobs import READY, GenerationJobs
from composer_app.ui.selection import Selection
from composer_app.ui.variations import BridgeCandidate, install_variations

REPO = Path(__file__).resolve().parents[2]
BAR = 1920


def install(window, qtbot):
    from composer_app.ui.generation_jobs import _default_engine
    from composer_app.ui.suggestions_panel import install_suggest

    jobs = GenerationJobs(window, engine_loader=lambda: _default_engine(None, None))
    with qtbot.waitSignal(jobs.model_state_changed, timeout=60_000, check_params_cb=lambda s, m: s != "loading"):
        suggest = install_suggest(window, jobs=jobs)
    assert jobs.state == READY, jobs.message
    return suggest, install_variations(window)


@pytest.fixture
def rig(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    suggest, variations = install(window, qtbot)
    yield window, suggest, variations
    suggest.jobs.shutdown()


def test_vary_selection_accept_replaces_it_in_one_undo_step_and_drags_as_midi(rig, qtbot):
    window, suggest, controller = rig
    doc, panel = window.document, suggest.panel
    before = doc.project
    suggest.mood_panel.candidates_spin.setValue(4)
    window.editor.canvas.setFocus()
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all
    assert len(doc.selected_notes()) == 16
    assert controller.toolbar.amount_slider.value() == 30  # "a little"
    with qtbot.waitSignal(suggest.jobs.finished, timeout=60_000):
        qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert panel.list.count() == 4 and panel.owner is controller
    assert "variations of bars 1–2" in panel.status.text() or panel.list.count() == 4
    candidates = panel.candidates()
    assert len({c.notes for c in candidates}) >= 2
    panel.list.setCurrentRow(1)
    chosen = panel.current_candidate()
    # drag to a DAW: the clip is a .mid file holding the variation's notes
    path = clip_drag.write_drag_file(panel.current_spec())
    dragged = load_midi(path)
    assert sorted((n.start_tick, n.pitch) for t in dragged.tracks for n in t.notes) == sorted((n.start_tick, n.pitch) for n in chosen.notes)
    steps_before = doc.undo_stack.count()
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    melody = doc.project.tracks[0].notes
    assert sorted((n.start_tick, n.pitch, n.duration_ticks) for n in melody) == sorted((n.start_tick, n.pitch, n.duration_ticks) for n in chosen.notes)
    assert doc.project.tracks[1] == before.tracks[1]  # the bass is untouched
    assert doc.undo_stack.count() == steps_before + 1
    assert set(doc.selected_notes()) == set(melody)
    doc.undo_stack.undo()
    assert doc.project.tracks == before.tracks


def test_interpolate_from_a_to_the_selection_lists_the_bridge_and_inserts_it(rig, qtbot):
    window, suggest, controller = rig
    doc, panel = window.document, suggest.panel
    before = doc.project
    melody = before.tracks[0].notes
    first, second = [n for n in melody if n.start_tick < BAR], [n for n in melody if n.start_tick >= BAR]
    doc.set_selection(Selection(first))
    controller.actions["mark_start"].trigger()
    assert controller.start is not None and "bar 1" in panel.status.text()
    doc.set_selection(Selection(second))
    controller.toolbar.steps_box.setValue(4)
    window.editor.canvas.setFocus()
    with qtbot.waitSignal(suggest.jobs.finished, timeout=60_000):
        qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert panel.list.count() == 5  # the bridge, then 4 steps
    items = panel.candidates()
    bridge, steps = items[0], items[1:]
    assert isinstance(bridge, BridgeCandidate) and [s.index for s in steps] == [0, 1, 2, 3]
    assert len(bridge.notes) == sum(len(s.notes) for s in steps) and bridge.length_ticks == 4 * BAR
    panel.list.setCurrentRow(0)
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    track = doc.project.tracks[0].notes
    inserted = [n for n in track if n.start_tick >= 2 * BAR]  # after the track's end (bar 3)
    assert len(inserted) == len(bridge.notes) and len(track) == len(melody) + len(bridge.notes)
    assert min(n.start_tick for n in inserted) >= 2 * BAR
    doc.undo_stack.undo()
    assert doc.project.tracks == before.tracks


def test_interpolate_from_the_selection_to_a_suggestion(rig, qtbot):
    window, suggest, controller = rig
    doc, panel = window.document, suggest.panel
    window.editor.canvas.setFocus()
    qtbot.keyClick(window.editor.canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    suggest.mood_panel.candidates_spin.setValue(2)
    with qtbot.waitSignal(suggest.jobs.finished, timeout=60_000):
        controller.actions["vary"].trigger()
    panel.list.setCurrentRow(0)
    controller.toolbar.steps_box.setValue(3)
    with qtbot.waitSignal(suggest.jobs.finished, timeout=60_000):
        controller.actions["interpolate_candidate"].trigger()
    assert panel.list.count() == 4 and isinstance(panel.candidates()[0], BridgeCandidate)


def test_broken_vae_file_is_a_message_and_suggest_still_works(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    models = tmp_path / "models"
    models.mkdir()
    (models / "vae.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}" + bytes(40))
    (models / "transformer.safetensors").symlink_to(REPO / "models" / "transformer.safetensors")
    monkeypatch.setattr(registry, "MODELS_DIR", models)
    registry._CACHE.clear()
    suggest, controller = install(window, qtbot)
    try:
        doc, panel = window.document, suggest.panel
        before = doc.project
        window.editor.canvas.setFocus()
        qtbot.keyClick(window.editor.canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        with qtbot.waitSignal(suggest.jobs.errored, timeout=60_000):
            controller.actions["vary"].trigger()
        assert panel.error.isVisible() and "vae.safetensors" in panel.error.text()
        assert doc.project is before
        suggest.mood_panel.candidates_spin.setValue(1)
        suggest.mood_panel.bars_spin.setValue(1)
        with qtbot.waitSignal(suggest.jobs.finished, timeout=60_000):
            qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
        assert panel.list.count() == 1 and panel.owner is suggest
    finally:
        suggest.jobs.shutdown()
        registry._CACHE.clear()
