"""The suggestions panel proposes chords for each candidate's new bars (real widgets, shipped chord suggester).

Accept with "Chords for new bars" on adds the candidate's notes and its chords as one undo step;
"Add chords" adds the chords only; bars the chord track already covers are followed, not re-proposed.
The last test generates with the shipped transformer in the real window and saves a screenshot.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from composer_app.arrange.suggest import chord_tone_rate
from composer_app.core.chords import chord_track_from_symbols
from composer_app.ui import clip_drag
from tests.ui.conftest import open_example_sketch
from tests.ui.test_suggestions import BAR, REPO, ScriptedEngine, _install, rig  # noqa: F401  (rig: the fixture)


def _suggest(qtbot, controller, jobs, mood, candidates=2, bars=2):
    mood.candidates_spin.setValue(candidates)
    mood.bars_spin.setValue(bars)
    with qtbot.waitSignal(jobs.finished, timeout=10_000):
        controller.suggest()


def test_accept_adds_the_notes_and_the_proposed_chords_as_one_step(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig(ScriptedEngine())
    assert not panel.chords_toggle.isChecked() and not panel.chords_label.isVisible()
    _suggest(qtbot, controller, jobs, mood)
    assert not panel.chords_label.text()  # off: nothing proposed, Accept leaves the chords alone
    qtbot.mouseClick(panel.chords_toggle, Qt.MouseButton.LeftButton)
    assert panel.chords_toggle.isChecked()
    shown = panel.proposed_chords
    assert shown is not None and shown.proposed
    assert panel.chords_label.isVisible() and shown.text() in panel.chords_label.text()
    assert shown.text().replace("|", " ").split() == shown.symbols
    # the new bars: 4 bars of prompt, then the candidate's 2 bars
    assert shown.chords.events[0].start_tick == 4 * BAR and shown.chords.end_tick == 6 * BAR
    assert shown.chords.covers(4 * BAR, 6 * BAR)
    # another candidate gets its own progression (its own notes)
    panel.list.setCurrentRow(1)
    second = panel.proposed_chords
    assert second is not None and second.chords.covers(4 * BAR, 6 * BAR)
    candidate = panel.current_candidate()
    rate, count = chord_tone_rate(
        [n.with_start(n.start_tick + 4 * BAR) for n in candidate.notes], second.chords, doc.project.time_signatures)
    assert count >= 2 and rate >= 0.5
    before = doc.project
    steps = doc.undo_stack.count()
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    assert doc.undo_stack.count() == steps + 1
    assert "with chords" in doc.undo_stack.text(doc.undo_stack.index() - 1)
    assert len(doc.project.tracks[0].notes) == 16 + len(candidate.notes)
    assert doc.project.chords == second.chords
    assert "2 chords" in panel.status.text() or "chords" in panel.status.text()
    # the chords are now the chord track's: the panel says the candidate follows them
    assert panel.proposed_chords is not None and not panel.proposed_chords.proposed
    assert panel.chords_label.text().startswith("Follows the chord track")
    assert not panel.add_chords_button.isEnabled()
    doc.undo_stack.undo()
    assert doc.project.tracks == before.tracks and not doc.project.chords
    assert panel.proposed_chords.proposed  # undone: proposed again
    doc.undo_stack.redo()
    assert doc.project.chords == second.chords


def test_add_chords_adds_only_the_chords_and_the_switch_is_remembered(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig(ScriptedEngine())
    panel.chords_toggle.setChecked(True)
    _suggest(qtbot, controller, jobs, mood, candidates=1, bars=1)
    before = doc.project
    proposed = panel.proposed_chords
    assert panel.add_chords_button.isVisible() and panel.add_chords_button.isEnabled()
    qtbot.mouseClick(panel.add_chords_button, Qt.MouseButton.LeftButton)
    assert doc.project.tracks == before.tracks and doc.project.chords == proposed.chords
    assert doc.project.chords.covers(4 * BAR, 5 * BAR) and doc.project.chords.end_tick == 5 * BAR
    doc.undo_stack.undo()
    assert doc.project == before
    from composer_app.ui.suggestions_panel import SuggestionsPanel

    again = SuggestionsPanel()
    qtbot.addWidget(again)
    assert again.chords_toggle.isChecked()  # QSettings keeps the composer's choice


def test_bars_with_chords_are_followed_not_proposed(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig(ScriptedEngine())
    chords = chord_track_from_symbols(["C", "G", "Am", "F", "Dm", "G7"], BAR)
    doc.apply(doc.project.with_chords(chords), "chords")
    panel.chords_toggle.setChecked(True)
    _suggest(qtbot, controller, jobs, mood, candidates=1, bars=2)
    assert not panel.proposed_chords.proposed and panel.proposed_chords.symbols == ["Dm", "G7"]
    assert "Follows the chord track: Dm | G7" in panel.chords_label.text()
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    assert doc.project.chords == chords


def test_real_candidates_get_chords_in_the_window(window, qtbot, artifacts_dir, tmp_path, monkeypatch):
    """The shipped transformer continues the example's first 4 bars; the shipped chord suggester proposes
    chords for each candidate's 4 new bars; Accept puts notes and chords in (one step); a screenshot."""
    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    from composer_app.ui.harmony import install_harmony

    bar = open_example_sketch(window)
    sketch = window.document.project.tracks[0].notes
    controller = _install(window, qtbot)
    harmony = install_harmony(window)  # after Suggest, as the app installs them: the lane shows proposed chords
    try:
        panel, mood, doc = controller.panel, controller.mood_panel, window.document
        window.resize(1500, 900)
        mood.apply_preset("happy") if hasattr(mood, "apply_preset") else None
        mood.candidates_spin.setValue(3)
        mood.bars_spin.setValue(4)
        mood.seed_lock.setChecked(True)
        mood.seed_spin.setValue(7)
        panel.chords_toggle.setChecked(True)
        with qtbot.waitSignal(controller.jobs.finished, timeout=120_000):
            qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
        assert panel.list.count() == 3
        progressions = []
        for row in range(3):
            panel.list.setCurrentRow(row)
            got = panel.proposed_chords
            assert got is not None and got.proposed and got.chords.covers(4 * bar, 8 * bar)
            assert got.chords.end_tick == 8 * bar
            placed = [n.with_start(n.start_tick + 4 * bar) for n in panel.current_candidate().notes]
            rate, count = chord_tone_rate(placed, got.chords, doc.project.time_signatures)
            assert count >= 4 and rate >= 0.6, (got.symbols, rate)
            progressions.append(got)
        panel.list.setCurrentRow(1)
        assert panel.chords_label.text().startswith("Chords for the new bars:")
        assert panel.chords_label.text().count("|") == 3  # four bars, apart (a held chord's bar shows "%")
        assert harmony.lane.ghost_chords == progressions[1].chords  # dashed in the chord lane, not yet in the document
        assert not doc.project.chords
        window.editor.view.show_range(0, 8 * bar, 55, 84)
        window.editor.view.scroll_to(tick=0)
        qtbot.wait(50)
        proposed = window.grab()
        proposed.save(str(artifacts_dir / "suggestions-chords-proposed.png"))
        if os.environ.get("COMPOSER_APP_UPDATE_SCREENSHOTS"):  # the README's picture, on request only
            proposed.save(str(REPO / "docs" / "screenshots" / "suggestions-chords.png"))
        steps = doc.undo_stack.count()
        panel.list.setFocus()
        qtbot.keyClick(panel.list, Qt.Key.Key_Return)
        assert doc.undo_stack.count() == steps + 1
        assert doc.project.chords == progressions[1].chords
        assert harmony.lane.isVisible() and harmony.lane.ghost_chords is None
        qtbot.wait(50)
        image = window.grab()
        image.save(str(artifacts_dir / "suggestions-chords-accepted.png"))
        doc.undo_stack.undo()
        assert not doc.project.chords and doc.project.tracks[0].notes == sketch
    finally:
        controller.jobs.shutdown()
