"""The Story panel and the mood lane, driven like a user: real widgets, real reader and generator."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from composer_app.core.mood_timeline import MoodPoint, MoodTimeline
from composer_app.core.project import Project
from composer_app.core.track import Track
from composer_app.mood.mood import PRESETS
from composer_app.ui.app import install_extensions
from tests.ui.conftest import drag, show_window

STORY = (
    "The bells rang and the whole town danced in the square at the wedding.\n\n"
    "After the funeral the widow sat alone in the cold kitchen, and nobody came.\n\n"
    "Soldiers kicked down the doors and dragged the men out while the houses burned."
)
JOB_TIMEOUT_MS = 240_000


def story_window(qtbot, project=None):
    window = show_window(qtbot, project or Project(tracks=(Track("Track 1"),)))
    install_extensions(window, ("composer_app.ui.story.panel:install_story",))
    window.panels["story"].show()
    panel = window.panel_widget("story")
    panel.bars_spin.setValue(2)
    return window, panel


def wait_for_job(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.jobs.busy, timeout=JOB_TIMEOUT_MS)
    qtbot.wait(50)  # the finished signal is delivered through the event loop


def test_read_shows_scenes_with_emotions_and_why_and_fills_the_timeline(qtbot):
    window, panel = story_window(qtbot)
    panel.text.setPlainText(STORY)
    qtbot.mouseClick(panel.read_button, Qt.MouseButton.LeftButton)
    wait_for_job(qtbot, panel)
    assert panel.table.rowCount() == 3
    emotions = [panel.table.cellWidget(r, 2).currentText() for r in range(3)]
    assert emotions[0] in ("happy", "playful", "triumphant", "epic")
    assert panel.table.item(0, 6).text()  # the words that led there
    project = window.document.project
    assert [p.label for p in project.mood_timeline.points] == emotions
    assert [p.bar for p in project.mood_timeline.points] == [0, 2, 4]
    bar_ticks = project.time_signatures.ticks_per_bar_at(0)
    assert [(m.tick, m.name) for m in project.markers] == [
        (i * 2 * bar_ticks, f"Scene {i + 1}: {emotion}") for i, emotion in enumerate(emotions)
    ]  # the scenes, on the marker lane
    assert window.editor.mood_lane in window.editor.lanes()
    assert window.document.undo_stack.undoText() == "Read story"


def test_nudging_a_scene_to_tender_is_one_undo_step(qtbot):
    window, panel = story_window(qtbot)
    panel.text.setPlainText(STORY)
    panel.read()
    wait_for_job(qtbot, panel)
    combo = panel.table.cellWidget(1, 2)
    combo.setCurrentText("tender")
    story = panel.story
    assert story.scenes[1].emotion == "tender" and story.scenes[1].mood_by_hand
    assert window.document.project.mood_timeline.points[1].valence == PRESETS["tender"].mood.valence
    assert window.document.undo_stack.undoText() == "Scene 2: tender"
    window.document.undo_stack.undo()
    assert panel.story.scenes[1].emotion != "tender"


def test_score_makes_a_multitrack_document_with_progress_and_a_fit_plot(qtbot):
    window, panel = story_window(qtbot)
    panel.text.setPlainText(STORY)
    seen = []
    panel.jobs.progress.connect(lambda done, total, message: seen.append(message))
    qtbot.mouseClick(panel.score_button, Qt.MouseButton.LeftButton)  # reads first, then scores
    qtbot.waitUntil(lambda: panel.scored is not None, timeout=JOB_TIMEOUT_MS)
    wait_for_job(qtbot, panel)
    project = window.document.project
    assert any(t.name.startswith("Accompaniment") for t in project.tracks)
    assert project.note_count > 20
    assert any("scene 3 of 3" in m for m in seen)
    assert len(panel.plot.rows) == 3 and set(panel.plot.spearman) == {"valence", "arousal"}
    assert "Music follows story" in panel.status.text()
    assert window.document.undo_stack.undoText() == "Score story"
    before = panel.scored.scene_melodies
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=panel.table.visualItemRect(panel.table.item(1, 1)).center())
    assert panel.table.currentRow() == 1
    qtbot.mouseClick(panel.regenerate_button, Qt.MouseButton.LeftButton)
    wait_for_job(qtbot, panel)
    after = panel.scored.scene_melodies
    assert after[0] == before[0] and after[2] == before[2] and after[1] != before[1]
    image = panel.grab().toImage()
    assert image.width() > 100


def test_cancel_leaves_the_document_unchanged(qtbot):
    window, panel = story_window(qtbot)
    panel.text.setPlainText(STORY)
    panel.read()
    wait_for_job(qtbot, panel)
    before = window.document.project
    panel.score()
    panel.cancel()
    wait_for_job(qtbot, panel)
    assert window.document.project == before
    assert "Cancelled" in panel.status.text()


def test_a_job_is_busy_until_its_ending_is_delivered_and_the_slot_can_start_the_next(qtbot):
    """Score = read, then score from the read's ``finished`` slot: that second start must never be
    refused because the reading thread is still winding down (it once left Score doing nothing)."""
    from composer_app.ui.story.jobs import StoryJobs

    jobs = StoryJobs()
    results, chained = [], []

    def on_finished(what, result):
        results.append((what, result))
        if what == "read":
            chained.append(jobs.start("score", lambda progress, cancel: "scored"))

    jobs.finished.connect(on_finished)
    assert jobs.start("read", lambda progress, cancel: "story")
    assert jobs.wait(10)  # the thread is over, its ending not yet delivered
    assert jobs.busy and not jobs.start("score", lambda progress, cancel: None)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=10_000)
    assert chained == [True] and results == [("read", "story"), ("score", "scored")]
    assert not jobs.busy


def test_a_text_that_is_not_utf8_is_one_line_in_the_status(qtbot, tmp_path):
    window, panel = story_window(qtbot)
    bad = tmp_path / "story.txt"
    bad.write_bytes(b"\xff\xfe\x81\x00")
    assert not panel.open_text(bad)
    assert "not UTF-8" in panel.status.text()


def test_mood_lane_drag_add_and_remove_with_the_mouse(qtbot):
    project = Project(tracks=(Track("Track 1"),)).with_mood_timeline(
        MoodTimeline((MoodPoint(0, 0.5, 0.0, 0.0, "calm"), MoodPoint(2, -0.5, 0.5)))
    )
    window, _panel = story_window(qtbot, project)
    lane = window.editor.mood_lane
    point = window.document.project.mood_timeline.points[1]
    start = QPoint(round(lane.bar_to_x(point.bar)), round(lane.value_to_y(point.valence)))
    end = QPoint(start.x(), round(lane.value_to_y(0.8)))
    drag(qtbot, lane, start, end)
    moved = window.document.project.mood_timeline.points[1]
    assert abs(moved.valence - 0.8) < 0.05 and moved.arousal == 0.5 and moved.bar == 2
    assert window.document.undo_stack.undoText() == "Edit mood timeline"
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(round(lane.bar_to_x(3.2)), round(lane.value_to_y(-0.9))))
    assert [p.bar for p in window.document.project.mood_timeline.points] == [0, 2, 3]
    third = window.document.project.mood_timeline.points[2]
    qtbot.mouseClick(lane, Qt.MouseButton.RightButton, pos=QPoint(round(lane.bar_to_x(3)), round(lane.value_to_y(third.arousal))))
    assert [p.bar for p in window.document.project.mood_timeline.points] == [0, 2]
    window.document.undo_stack.undo()
    assert len(window.document.project.mood_timeline.points) == 3


def test_mood_lane_names_the_nearest_preset_along_the_timeline(qtbot):
    project = Project(tracks=(Track("Track 1"),)).with_mood_timeline(
        MoodTimeline((MoodPoint(0, -0.8, -0.5, 1.0, "sad"), MoodPoint(2, 0.8, 0.5, 1.0, "storm")))
    )
    window, _panel = story_window(qtbot, project)
    lane = window.editor.mood_lane
    spans = lane.name_spans()
    names = [name for _start, _end, name in spans]
    assert names[0] == "sad" and names[-1] == "happy"  # the second point's label is not a preset's name
    start, end, _ = spans[0]
    assert start == 0 and abs(end - lane.bar_to_x(2)) < 0.6 * (lane.bar_to_x(3) - lane.bar_to_x(2))  # turns in the blend
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # the stretches tile the lane
    image = lane.grab().toImage()
    ratio = image.width() / lane.width()

    def ink(x0: float, x1: float, y0: int, y1: int) -> int:
        """Dark (text) pixels in a lane rectangle."""
        return sum(
            1
            for x in range(int(x0 * ratio), int(x1 * ratio))
            for y in range(int(y0 * ratio), int(y1 * ratio))
            if image.pixelColor(x, y).lightness() < 110
        )

    assert ink(2, 40, 0, 12) > 10  # "sad" written in the strip at the start
    happy_start = next(s for s, _e, name in spans if name == "happy")
    assert ink(happy_start + 1, happy_start + 40, 0, 12) > 10  # "happy" where the blend arrives
    assert ink(lane.bar_to_x(2) + 2, lane.bar_to_x(2) + 40, lane.height() - 14, lane.height() - 1) > 10  # "storm"
    window.document.apply(window.document.project.with_mood_timeline(MoodTimeline(())), "clear")
    assert lane.name_spans() == []


def test_a_preset_name_is_cut_short_to_fit_its_stretch(qtbot):
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import QWidget

    from composer_app.ui.piano_roll.mood_lane import name_that_fits

    metrics = QFontMetrics(QWidget().font())
    full = metrics.horizontalAdvance("melancholic")
    assert name_that_fits("melancholic", full, metrics) == "melancholic"
    short = name_that_fits("melancholic", full * 0.6, metrics)
    assert short.endswith("…") and "melancholic".startswith(short[:-1]) and len(short) >= 4
    assert metrics.horizontalAdvance(short) <= full * 0.6
    assert name_that_fits("melancholic", 3, metrics) == ""


def test_a_continuation_takes_per_bar_targets_from_the_mood_timeline():
    """Suggest continuation: each bar's targets come from the timeline, so the music turns with the story."""
    import torch

    torch.set_num_threads(1)
    from composer_app.core.note import Note
    from composer_app.generation.engine import suggest
    from composer_app.mood.mood import Mood
    from composer_app.mood.targets import targets_for
    from composer_app.ui.suggestions_panel import timeline_targets

    tpq, bar = 480, 4 * 480
    melody = Track("Melody", notes=tuple(Note(i * tpq, p, tpq - 40, 80) for i, p in enumerate([60, 64, 67, 72, 67, 64, 62, 60])))
    timeline = MoodTimeline((MoodPoint(0, 0.8, 0.6, 0.0, "happy"), MoodPoint(4, -0.8, -0.6, 1.0, "sad")))
    project = Project(tracks=(melody,)).with_mood_timeline(timeline)
    targets = timeline_targets(project, 2 * bar, 4, lambda mood: targets_for(mood))
    assert len(targets) == 4
    assert targets[0] == targets_for(Mood(0.8, 0.6)) == targets[1]  # bars 3 and 4: happy
    assert targets[3] == targets_for(Mood(-0.8, -0.6))  # bar 6: sad, after the blend bar 5
    assert targets[1].velocity_mean > targets[2].velocity_mean > targets[3].velocity_mean
    assert timeline_targets(Project(tracks=(melody,)), 2 * bar, 4, targets_for) is None
    (candidate,) = suggest(project, bars=4, candidates=1, seed=4, targets=targets)
    loud = [n.velocity for n in candidate.notes if n.start_tick < 2 * bar]
    soft = [n.velocity for n in candidate.notes if n.start_tick >= 3 * bar]
    assert loud and soft and min(loud) > max(soft)


def test_dragging_the_score_out_copes_with_whatever_a_file_holds_under_scoring(qtbot, tmp_path, monkeypatch):
    from composer_app.core.note import Note
    from composer_app.ui import clip_drag

    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    for scoring in ([1, 2], {"seed": [7]}, {"seed": 10**40}, "x", {"seed": 12}):
        project = Project(tracks=(Track("Melody", notes=[Note(0, 60, 480, 90, 0)]),), settings={"scoring": scoring})
        window, panel = story_window(qtbot, project)
        (url,) = panel.drag_mime_data().urls()
        assert url.toLocalFile().endswith("-12.mid" if scoring == {"seed": 12} else "-0.mid")
        window.close()


def test_fit_plot_labels_fit_their_columns(qtbot):
    """Nine scenes in a narrow panel: every label is cut to its column (or becomes the scene's number)."""
    from PySide6.QtGui import QFont, QFontMetrics

    from composer_app.ui.story.fit_plot import LABEL_GAP_PX, column_labels

    font = QFont()
    font.setPixelSize(11)
    metrics = QFontMetrics(font)
    labels = ["happy", "tender", "tense", "epic", "mysterious", "mysterious", "epic", "playful", "tender"]
    column_px = metrics.horizontalAdvance("mysterious") - 8  # too narrow for the longest label
    shown = column_labels(labels, metrics, column_px)
    assert all(metrics.horizontalAdvance(text) <= column_px - LABEL_GAP_PX for text in shown)
    assert shown[0] == "happy" and shown[4] != "mysterious" and shown[4].startswith("myst")
    assert column_labels(labels, metrics, 12) == [str(i + 1) for i in range(9)]  # far too narrow: numbers
    assert column_labels(labels, metrics, 400) == labels
