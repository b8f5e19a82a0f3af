"""Suggest continuation: the panel, the background jobs and the document, with real widgets.

The first group runs a scripted engine (fast, deterministic, slow when asked to) so that
streaming, cancelling, replacing, accepting and undoing are tested exactly; the second group
loads the shipped weights and generates for real with small settings.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from composer_app.core.midifile import load_midi
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.track import Track
from composer_app.mood.mood import PRESETS
from composer_app.ui import clip_drag
from composer_app.ui.document import Document
from composer_app.ui.generation_jobs import ERROR, READY, GenerationJobs
from composer_app.ui.mood_panel import MoodPanel
from composer_app.ui.suggestions_panel import SuggestController, SuggestionsPanel, build_prompt
from tests.ui.conftest import open_example_sketch

REPO = Path(__file__).resolve().parents[2]
WEIGHTS = REPO / "models" / "transformer.safetensors"
BAR = 1920


@dataclass(frozen=True)
class FakeCandidate:
    notes: tuple
    generator: str
    seed: int
    attributes: dict
    seconds: float
    bars: int


class ScriptedEngine:
    """Makes candidates of one note per beat; ``step_s`` per candidate; honours ``cancel``."""

    generators = ["scripted"]

    def __init__(self, step_s: float = 0.0, fail: str | None = None):
        self.step_s = step_s
        self.fail = fail
        self.requests = []
        self.stopped_at: float | None = None

    def generator_names(self):
        return self.generators

    def suggest(self, request, *, cancel, on_candidate):
        self.requests.append(request)
        if self.fail:
            raise RuntimeError(self.fail)
        out = []
        for i in range(request.candidates):
            deadline = time.perf_counter() + self.step_s
            while time.perf_counter() < deadline:  # many small steps, like token sampling
                if cancel():
                    self.stopped_at = time.perf_counter()
                    raise type("GenerationCancelled", (Exception,), {})()
                time.sleep(0.002)
            notes = tuple(Note(b * 480, 60 + (request.seed + i + b) % 12, 400, 90) for b in range(request.bars * 4))
            c = FakeCandidate(notes, "scripted", request.seed + i, {"note_density": 1.0, "major_strength": 0.1}, 0.01, request.bars)
            out.append(c)
            on_candidate(c)
        return out


PROMPT_NOTES = tuple(Note(i * 480, (60, 62, 64, 65, 67, 65, 64, 62)[i % 8], 480, 96) for i in range(16))  # 4 bars


def make_project():
    return Project(tracks=(Track("Melody", 0, 0, PROMPT_NOTES), Track("Bass", 32, 1, (Note(0, 36, 1920, 80, 1),))), title="sketch")


@pytest.fixture
def rig(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))

    def build(engine=None, **jobs_kw):
        doc = Document(make_project())
        mood = MoodPanel(doc, qsettings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
        panel = SuggestionsPanel()
        if engine is not None:
            jobs_kw["engine_loader"] = lambda: engine
        jobs = GenerationJobs(**jobs_kw)
        ghosts = []
        auditions = []
        controller = SuggestController(
            doc, mood, panel, jobs, show_ghosts=lambda notes: ghosts.append(list(notes)), audition=lambda p, t: auditions.append((p, t))
        )
        for w in (mood, panel):
            qtbot.addWidget(w)
            w.show()
        with qtbot.waitSignal(jobs.model_state_changed, timeout=60_000, check_params_cb=lambda s, m: s in (READY, ERROR)):
            jobs.start()
        return doc, mood, panel, jobs, controller, ghosts, auditions

    made = []

    def factory(*a, **k):
        r = build(*a, **k)
        made.append(r)
        return r

    yield factory
    for doc, _mood, _panel, jobs, *_ in made:
        jobs.shutdown()
        doc.undo_stack.cleanChanged.disconnect()  # the stack outlives the document's Python side


def test_prompt_is_the_notes_up_to_the_playhead_or_the_selection():
    project = make_project()
    p = build_prompt(project, 0, playhead=2 * BAR)
    assert len(p.project.tracks[0].notes) == 8 and p.continuation_tick == 2 * BAR and p.offset == 0
    p = build_prompt(project, 0, playhead=0)
    assert len(p.project.tracks[0].notes) == 16 and p.continuation_tick == 4 * BAR
    sel = PROMPT_NOTES[5:7]  # beats 6-7, in bar 2
    p = build_prompt(project, 0, selected=sel)
    assert p.offset == BAR and [n.start_tick for n in p.project.tracks[0].notes] == [480, 960]
    assert p.continuation_tick == 2 * BAR
    with pytest.raises(ValueError):
        build_prompt(Project(tracks=(Track("empty"),)), 0)


def test_click_suggest_streams_candidates_and_shows_ghosts(rig, qtbot):
    doc, mood, panel, jobs, controller, ghosts, _ = rig(ScriptedEngine(step_s=0.02))
    mood.candidates_spin.setValue(3)
    mood.bars_spin.setValue(2)
    mood.apply_preset("tense")
    streamed = []
    jobs.candidate.connect(lambda rid, i, c: streamed.append(c))
    with qtbot.waitSignal(jobs.finished, timeout=5000):
        qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
    assert panel.list.count() == 3 and len(streamed) == 3
    request = controller.request
    assert request.mood == PRESETS["tense"].mood and request.bars == 2 and request.candidates == 3
    assert request.targets.major_strength < 0  # the mood's targets travel with the request
    # the first candidate is selected and shown as ghosts after the prompt (bar 5)
    assert ghosts[-1] and min(n.start_tick for n in ghosts[-1]) == 4 * BAR
    # keyboard navigation
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Down)
    assert panel.list.currentRow() == 1
    assert ghosts[-1][0].pitch == panel.current_candidate().notes[0].pitch
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert panel.list.count() == 2
    assert doc.undo_stack.count() <= 1  # only the mood/settings step, no note was touched


def test_accept_is_one_undo_step(rig, qtbot):
    doc, mood, panel, jobs, controller, ghosts, _ = rig(ScriptedEngine())
    mood.candidates_spin.setValue(2)
    with qtbot.waitSignal(jobs.finished, timeout=5000):
        controller.suggest()
    before = doc.project
    steps = doc.undo_stack.count()
    candidate = panel.current_candidate()
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    track = doc.project.tracks[0]
    assert len(track.notes) == 16 + len(candidate.notes)
    assert min(n.start_tick for n in track.notes[16:]) == 4 * BAR
    assert doc.undo_stack.count() == steps + 1
    assert set(doc.selection) == set(track.notes[16:])  # the inserted notes are selected
    doc.undo_stack.undo()
    assert doc.project.tracks == before.tracks
    doc.undo_stack.redo()
    assert len(doc.project.tracks[0].notes) == 16 + len(candidate.notes)


def test_audition_plays_the_end_of_the_prompt_then_the_candidate(rig, qtbot):
    doc, mood, panel, jobs, controller, ghosts, auditions = rig(ScriptedEngine())
    with qtbot.waitSignal(jobs.finished, timeout=5000):
        controller.suggest()
    qtbot.mouseClick(panel.audition_button, Qt.MouseButton.LeftButton)
    project, start = auditions[-1]
    assert start == 2 * BAR  # two bars before the continuation
    notes = project.tracks[0].notes
    assert notes[0].start_tick == 2 * BAR and max(n.start_tick for n in notes) >= 4 * BAR


def test_cancel_stops_the_worker_quickly(rig, qtbot):
    engine = ScriptedEngine(step_s=10.0)
    doc, mood, panel, jobs, controller, *_ = rig(engine)
    before = doc.project
    with qtbot.waitSignal(jobs.started, timeout=5000):
        controller.suggest()
    time.sleep(0.05)
    idle = []
    jobs.worker_idle.connect(lambda rid, s: idle.append(s))
    with qtbot.waitSignal(jobs.cancelled, timeout=1000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(idle), timeout=1000)
    assert 0 <= idle[0] < 0.1  # from the cancel flag to the worker being free again
    assert not jobs.is_busy
    assert "Cancelled" in panel.status.text() and panel.list.count() == 0
    assert doc.project is before


def test_second_request_replaces_the_running_one(rig, qtbot):
    engine = ScriptedEngine(step_s=0.3)
    doc, mood, panel, jobs, controller, *_ = rig(engine)
    mood.candidates_spin.setValue(4)
    cancelled = []
    jobs.cancelled.connect(cancelled.append)
    with qtbot.waitSignal(jobs.started, timeout=5000):
        first = controller.suggest(seed=100)
    with qtbot.waitSignal(jobs.finished, timeout=10_000):
        second = controller.suggest(seed=200)
    assert cancelled == [first]
    assert [c.seed for c in panel.candidates()] == [200, 201, 202, 203]  # only the latest request's results


def test_failed_generation_is_a_message_and_the_document_is_untouched(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig(ScriptedEngine(fail="out of ideas"))
    before, steps = doc.project, doc.undo_stack.count()
    with qtbot.waitSignal(jobs.errored, timeout=5000):
        controller.suggest()
    assert panel.error.isVisible() and "out of ideas" in panel.error.text()
    assert doc.project is before and doc.undo_stack.count() == steps


def test_more_like_this_keeps_settings_with_a_new_seed(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig(ScriptedEngine())
    mood.seed_lock.setChecked(True)
    mood.seed_spin.setValue(7)
    with qtbot.waitSignal(jobs.finished, timeout=5000):
        controller.suggest()
    first = controller.request
    with qtbot.waitSignal(jobs.finished, timeout=5000):
        qtbot.mouseClick(panel.more_button, Qt.MouseButton.LeftButton)
    second = controller.request
    assert second.seed != first.seed and (second.bars, second.mood, second.candidates) == (first.bars, first.mood, first.candidates)


def test_drag_of_a_candidate_is_a_midi_file_of_its_notes(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig(ScriptedEngine())
    mood.apply_preset("sad")
    mood.bars_spin.setValue(2)
    with qtbot.waitSignal(jobs.finished, timeout=5000):
        controller.suggest()
    candidate = panel.current_candidate()
    spec = panel.current_spec()
    mime = clip_drag.clip_mime_data(spec)
    path = Path(mime.urls()[0].toLocalFile())
    assert path.exists() and path.name == f"sketch-sad-bars2-{candidate.seed}.mid"
    back = load_midi(path)
    got = sorted((n.start_tick, n.pitch, n.duration_ticks, n.velocity) for t in back.tracks for n in t.notes)
    assert got == sorted((n.start_tick, n.pitch, n.duration_ticks, n.velocity) for n in candidate.notes)


# --- the real generator ---------------------------------------------------------------------
def needs_weights(test):
    """Tests of the real, shipped model (models/ is part of the repository: a missing file is a failure)."""
    return test


@needs_weights
def test_real_model_suggests_candidates(rig, qtbot):
    doc, mood, panel, jobs, controller, ghosts, _ = rig()
    assert jobs.state == READY, jobs.message
    mood.candidates_spin.setValue(2)
    mood.bars_spin.setValue(2)
    mood.temperature_spin.setValue(0.9)
    with qtbot.waitSignal(jobs.finished, timeout=60_000) as blocker:
        qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
    results = blocker.args[1]
    assert len(results) == 2 and panel.list.count() == 2
    for c in results:
        assert c.notes and min(n.start_tick for n in c.notes) >= 0
        assert max(n.start_tick for n in c.notes) < 2 * BAR
    assert ghosts[-1] and min(n.start_tick for n in ghosts[-1]) >= 4 * BAR


@needs_weights
def test_real_model_cancel_stops(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig()
    mood.candidates_spin.setValue(16)
    mood.bars_spin.setValue(32)
    idle = []
    jobs.worker_idle.connect(lambda rid, s: idle.append(s))
    with qtbot.waitSignal(jobs.started, timeout=10_000):
        controller.suggest()
    qtbot.wait(300)
    controller.cancel()
    qtbot.waitUntil(lambda: bool(idle), timeout=2000)
    # One sampling step is a few ms on an idle machine (bench/ui_responsiveness.py records the
    # median); the bound here leaves room for a CI machine busy with other work.
    assert idle[0] < 0.5
    assert panel.list.count() < 16
    assert "Cancelled" in panel.status.text()


def test_missing_weights_file_is_a_message(rig, qtbot, tmp_path):
    doc, mood, panel, jobs, controller, *_ = rig(weights_path=tmp_path / "nothing.safetensors")
    assert jobs.state == ERROR
    assert panel.error.isVisible() and "No model file" in panel.error.text()
    before = doc.project
    with qtbot.waitSignal(jobs.errored, timeout=5000):
        controller.suggest()
    assert doc.project is before and panel.error.isVisible()


def test_broken_weights_file_is_a_message_not_an_exception(rig, qtbot, tmp_path):
    broken = tmp_path / "transformer.safetensors"
    broken.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage" + os.urandom(64))
    doc, mood, panel, jobs, controller, *_ = rig(weights_path=broken)
    assert jobs.state == ERROR
    assert panel.error.isVisible() and "Broken model file" in panel.error.text()
    before = doc.project
    with qtbot.waitSignal(jobs.errored, timeout=5000):
        qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
    assert doc.project is before


# --- in the main window ----------------------------------------------------------------------
def _install(window, qtbot, engine=None):
    from composer_app.ui.suggestions_panel import install_suggest

    jobs = GenerationJobs(window, engine_loader=(lambda: engine) if engine is not None else None)
    with qtbot.waitSignal(jobs.model_state_changed, timeout=60_000, check_params_cb=lambda s, m: s in (READY, ERROR)):
        controller = install_suggest(window, jobs=jobs)
    return controller


def test_main_window_shortcut_ghosts_accept_undo(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    controller = _install(window, qtbot, ScriptedEngine())
    try:
        assert window.panels["mood"].isVisible() and window.panels["suggestions"].isVisible()
        assert "Model: ready" in window.model_label.text()
        doc = window.document
        before = doc.project
        window.editor.canvas.setFocus()
        with qtbot.waitSignal(controller.jobs.finished, timeout=5000):
            qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
        panel = controller.panel
        assert panel.list.count() == controller.request.candidates
        # ghost notes after the prompt (2 bars of melody -> bar 3)
        ghosts = controller.overlay.notes
        assert ghosts and min(n.start_tick for n in ghosts) == 2 * BAR
        assert doc.project.tracks == before.tracks
        panel.list.setFocus()
        qtbot.keyClick(panel.list, Qt.Key.Key_Return)
        assert len(doc.project.tracks[0].notes) == len(before.tracks[0].notes) + len(panel.current_candidate().notes)
        assert controller.overlay.notes == []
        window.activateWindow()
        doc.undo_stack.undo()
        assert doc.project.tracks == before.tracks
    finally:
        controller.jobs.shutdown()


@needs_weights
def test_screenshot_of_the_window_with_real_candidates(window, qtbot, artifacts_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    bar = open_example_sketch(window)
    controller = _install(window, qtbot)
    try:
        assert controller.jobs.state == READY, controller.jobs.message
        window.resize(1500, 900)
        mood = controller.mood_panel
        mood.apply_preset("tense")
        mood.candidates_spin.setValue(4)
        mood.bars_spin.setValue(4)
        mood.seed_lock.setChecked(True)
        mood.seed_spin.setValue(2024)
        with qtbot.waitSignal(controller.jobs.finished, timeout=60_000):
            qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
        assert controller.panel.list.count() == 4
        assert min(n.start_tick for n in controller.overlay.notes) >= 4 * bar
        controller.panel.list.setCurrentRow(0)
        window.editor.view.show_range(0, 8 * bar, 55, 84)
        window.editor.view.scroll_to(tick=0)
        qtbot.wait(50)
        image = window.grab()
        image.save(str(artifacts_dir / "suggestions.png"))
        if os.environ.get("COMPOSER_APP_UPDATE_SCREENSHOTS"):  # refresh the README's picture on request only
            image.save(str(REPO / "docs" / "screenshots" / "suggestions.png"))
        assert image.width() >= 1400
    finally:
        controller.jobs.shutdown()


def test_audition_in_the_window_plays_through_the_current_output(window, qtbot, tmp_path, monkeypatch):
    from composer_app.playback.sink import FakeSink

    sink = FakeSink()
    window.playback.sink_factory = lambda: [sink]
    controller = _install(window, qtbot, ScriptedEngine())
    try:
        with qtbot.waitSignal(controller.jobs.finished, timeout=5000):
            controller.suggest()
        candidate = controller.panel.current_candidate()
        made, start = controller.audition_project(candidate)
        assert start == 0  # two bars before the continuation (the melody is two bars long)
        controller.audition_bars = 0  # the test listens to the candidate itself straight away
        controller.panel.list.setFocus()
        qtbot.keyClick(controller.panel.list, Qt.Key.Key_P)
        assert window.playback.is_playing
        first = candidate.notes[0].pitch
        qtbot.waitUntil(lambda: any(m.type == "note_on" and m.note == first for m in sink.messages), timeout=3000)
    finally:
        window.playback.shutdown()
        controller.jobs.shutdown()


def test_compare_asks_every_generator_and_shows_which_made_each(rig, qtbot, tmp_path):
    """The generator list shows each generator's card line and "compare all"; one click brings
    candidates from every generator, each labelled with its maker (real engine, tiny weights)."""
    import torch

    from composer_app.generation import engine as engine_module
    from composer_app.generation import registry
    from composer_app.generation.lstm import LstmConfig, MusicLstm, save_lstm
    from composer_app.generation.transformer import MusicTransformer, TransformerConfig, save_transformer
    from composer_app.ui.generation_jobs import COMPARE_GENERATORS, _EngineAdapter

    torch.manual_seed(0)
    save_transformer(MusicTransformer(TransformerConfig(n_layer=1, d_model=32, n_head=2, block_size=64, dropout=0.0)), tmp_path / "t.safetensors")
    save_lstm(MusicLstm(LstmConfig(n_layer=1, d_model=32, dropout=0.0)), tmp_path / "l.safetensors")
    adapter = _EngineAdapter(engine_module, registry.load_weights(tmp_path / "t.safetensors"), "transformer")
    adapter._models["lstm"] = registry.load_weights(tmp_path / "l.safetensors")
    adapter.generator_names = lambda: ["transformer", "lstm"]
    doc, mood, panel, jobs, controller, *_ = rig(adapter)
    assert jobs.state == READY
    combo = mood.generator_combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert f"lstm — {registry.describe('lstm')}" in texts
    assert texts[-1] == "compare all (transformer, lstm)"
    combo.setCurrentIndex(combo.findData(COMPARE_GENERATORS))
    mood.candidates_spin.setValue(2)
    mood.bars_spin.setValue(1)
    with qtbot.waitSignal(jobs.finished, timeout=60_000) as blocker:
        qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
    assert [c.generator for c in blocker.args[1]] == ["transformer", "transformer", "lstm", "lstm"]
    assert panel.list.count() == 4
    makers = [panel.list.item(i).toolTip().split(",")[0] for i in range(4)]
    assert makers == ["transformer", "transformer", "lstm", "lstm"]
