"""The mood panel with real widgets and real mouse events (pytest-qt)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt

from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.track import Track
from composer_app.mood.mood import PRESETS, Mood
from composer_app.ui.document import Document
from composer_app.ui.mood_panel import SETTINGS_KEY, MoodPanel


@pytest.fixture
def qsettings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def panel(qtbot, qsettings):
    p = MoodPanel(qsettings=qsettings)
    qtbot.addWidget(p)
    p.resize(380, 900)
    p.show()
    qtbot.waitExposed(p)
    return p


def pad_point(panel, valence, arousal) -> QPoint:
    return panel.pad.mood_to_point(Mood(valence, arousal)).toPoint()


def test_click_on_pad_moves_mood_and_targets(panel, qtbot):
    before = panel.targets()
    with qtbot.waitSignal(panel.targets_changed, timeout=1000):
        qtbot.mouseClick(panel.pad, Qt.MouseButton.LeftButton, pos=pad_point(panel, 0.95, 0.95))
    assert panel.mood.valence > 0.85 and panel.mood.arousal > 0.85
    after = panel.targets()
    # arousal drives density and dynamics up, valence drives the mode towards major
    assert after.note_density > before.note_density
    assert after.velocity_mean > before.velocity_mean
    assert after.major_strength > before.major_strength
    # the numeric sliders follow the pad
    assert panel.valence_slider.value() > 85 and panel.arousal_slider.value() > 85


def test_drag_on_pad_to_sad_corner(panel, qtbot):
    start = pad_point(panel, 0.1, 0.1)
    end = pad_point(panel, -0.95, -0.95)
    qtbot.mousePress(panel.pad, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(panel.pad, start + (end - start) * i / 5)
    qtbot.mouseRelease(panel.pad, Qt.MouseButton.LeftButton, pos=end)
    assert panel.mood.valence < -0.85 and panel.mood.arousal < -0.85
    calm_sad = panel.targets()
    assert calm_sad.major_strength < 0  # minor
    assert calm_sad.note_density < 1.0  # sparse


def test_click_on_a_preset_point_selects_it(panel, qtbot):
    qtbot.mouseClick(panel.pad, Qt.MouseButton.LeftButton, pos=pad_point(panel, *PRESETS["tense"].mood.to_dict().values()))
    assert panel.mood == PRESETS["tense"].mood
    assert panel.preset_combo.currentData() == "tense"


def test_override_slider_and_reset(panel, qtbot):
    panel.advanced_toggle.click()
    row = panel.rows["note_density"]
    assert row.slider.isVisible()
    implied = panel.targets().note_density
    row.slider.setFocus()
    qtbot.keyClick(row.slider, Qt.Key.Key_End)  # the slider's maximum
    assert panel.targets().note_density > implied
    assert "note_density" in panel.overrides and row.reset.isEnabled()
    # moving the mood does not move an overridden target, but moves the others
    overridden = panel.targets().note_density
    panel.set_mood(Mood(-0.9, -0.9))
    assert panel.targets().note_density == pytest.approx(overridden)
    qtbot.mouseClick(row.reset, Qt.MouseButton.LeftButton)
    assert "note_density" not in panel.overrides
    assert panel.targets().note_density < implied  # back to what the (now calm) mood implies


def test_user_presets_live_in_qsettings(panel, qsettings, qtbot):
    panel.set_mood(Mood(0.33, -0.11))
    panel.save_user_preset("my scene")
    assert "my scene" in panel.user_presets()
    again = MoodPanel(qsettings=qsettings)
    qtbot.addWidget(again)
    assert again.user_presets()["my scene"] == Mood(0.33, -0.11)
    again.apply_preset("user:my scene")
    assert again.mood == Mood(0.33, -0.11)
    again.delete_user_preset("my scene")
    assert "my scene" not in again.user_presets()


def test_generation_settings_ranges(panel):
    assert (panel.bars_spin.minimum(), panel.bars_spin.maximum()) == (1, 32)
    assert (panel.candidates_spin.minimum(), panel.candidates_spin.maximum()) == (1, 16)
    assert (panel.temperature_spin.minimum(), panel.temperature_spin.maximum()) == (0.0, 2.0)
    panel.seed_spin.setValue(1234)
    panel.seed_lock.setChecked(True)
    assert panel.next_seed() == 1234 and panel.next_seed() == 1234
    panel.seed_lock.setChecked(False)
    seeds = {panel.next_seed() for _ in range(5)}
    assert len(seeds) > 1


def test_mood_and_settings_are_saved_in_the_project_and_undo(qtbot, qsettings):
    doc = Document(Project(tracks=(Track("Melody", notes=(Note(0, 60, 480),)),)))
    panel = MoodPanel(doc, qsettings=qsettings)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.mouseClick(panel.pad, Qt.MouseButton.LeftButton, pos=pad_point(panel, 0.9, -0.9))
    panel.bars_spin.setValue(8)
    qtbot.waitUntil(lambda: SETTINGS_KEY in doc.project.settings, timeout=2000)
    stored = doc.project.settings[SETTINGS_KEY]
    assert stored["bars"] == 8 and stored["mood"]["valence"] > 0.8
    assert doc.undo_stack.count() == 1  # the burst of changes is one undo step
    # another panel on the same document shows the stored state (a project being opened)
    other = MoodPanel(doc, qsettings=qsettings)
    qtbot.addWidget(other)
    assert other.mood == panel.mood and other.bars_spin.value() == 8
    doc.undo_stack.undo()
    assert SETTINGS_KEY not in doc.project.settings
    assert panel.bars_spin.value() == 4 and panel.mood == Mood()


def test_story_text_sad_and_happy(panel, qtbot):
    panel.story_edit.setFocus()
    qtbot.keyClicks(panel.story_edit, "She cried alone at the funeral, grieving her dead brother.")
    qtbot.waitUntil(lambda: panel.story_reading is not None, timeout=3000)
    sad = panel.story_reading
    assert sad.mood.valence < 0
    assert "because of" in panel.story_result.text()
    qtbot.mouseClick(panel.story_accept, Qt.MouseButton.LeftButton)
    assert panel.mood.valence < 0
    panel.story_edit.clear()
    qtbot.keyClicks(panel.story_edit, "A joyful wedding party: everyone laughs, dances and celebrates in the sunshine.")
    qtbot.waitUntil(lambda: panel.story_reading is not None and panel.story_reading.mood.valence > 0, timeout=3000)
    qtbot.mouseClick(panel.story_adjust, Qt.MouseButton.LeftButton)
    assert panel.mood.valence > 0
    assert panel.pad.hasFocus()
    qtbot.keyClick(panel.pad, Qt.Key.Key_Up)  # adjust from there
    assert panel.mood.arousal == pytest.approx(min(1.0, panel.story_reading.mood.arousal + 0.05), abs=1e-6)


def test_mood_and_settings_survive_save_and_reopen(qtbot, qsettings, tmp_path):
    from composer_app.core.projectfile import load_project, save_project

    doc = Document(Project(tracks=(Track("Melody", notes=(Note(0, 60, 480),)),)))
    panel = MoodPanel(doc, qsettings=qsettings)
    qtbot.addWidget(panel)
    panel.apply_preset("mysterious")
    panel.set_override("velocity_mean", 40.0)
    panel.candidates_spin.setValue(6)
    panel.temperature_spin.setValue(1.25)
    panel.key_combo.setCurrentIndex(panel.key_combo.findData("D minor"))
    panel.story_edit.setPlainText("Fog creeps over the silent moor.")
    panel.flush()
    path = tmp_path / "song.composer"
    save_project(doc.project, path)
    reopened = MoodPanel(Document(load_project(path)), qsettings=qsettings)
    qtbot.addWidget(reopened)
    assert reopened.mood == PRESETS["mysterious"].mood
    assert reopened.overrides == {"velocity_mean": 40.0}
    assert reopened.targets().velocity_mean == 40.0
    assert reopened.candidates_spin.value() == 6 and reopened.temperature_spin.value() == 1.25
    assert reopened.key_combo.currentData() == "D minor"
    assert reopened.story_edit.toPlainText() == "Fog creeps over the silent moor."
