import json

import pytest

from composer_app.core.mood_timeline import MAX_POINTS, MoodPoint, MoodTimeline, timeline_from_points
from composer_app.core.project import Project
from composer_app.core.projectfile import ProjectFileError, load_project_bytes, project_to_json


def test_a_point_holds_until_the_next_which_blends_in_over_its_bars():
    timeline = timeline_from_points([(0, -0.5, -0.5), (4, 0.5, 0.7)], blend_bars=2.0)
    assert timeline.mood_at(3.9) == (-0.5, -0.5)
    assert timeline.mood_at(4.0) == (-0.5, -0.5)  # the blend starts at the point ...
    valence, arousal = timeline.mood_at(5.0)  # ... is halfway after one of its two bars ...
    assert valence == pytest.approx(0.0) and arousal == pytest.approx(0.1)
    assert timeline.mood_at(6.0) == (0.5, 0.7)  # ... and done after two
    assert timeline.mood_at(100.0) == (0.5, 0.7)


def test_per_bar_reads_each_bar_in_its_middle_and_never_jumps_more_than_the_blend_allows():
    timeline = timeline_from_points([(0, -1, -1), (4, 1, 1)], blend_bars=2.0)
    moods = timeline.per_bar(0, 8)
    assert moods[:4] == ((-1.0, -1.0),) * 4
    assert moods[6:] == ((1.0, 1.0),) * 2
    steps = [abs(b[0] - a[0]) for a, b in zip(moods, moods[1:])]
    assert max(steps) < 2.0  # a jump would be the whole 2.0 in one bar


def test_a_point_interrupting_a_blend_starts_from_where_the_blend_had_got():
    timeline = timeline_from_points([(0, -1, 0), (4, 1, 0), (5, 0, 0)], blend_bars=2.0)
    halfway = timeline.mood_at(5.0)[0]
    assert halfway == pytest.approx(0.0)
    assert timeline.mood_at(5.0 + 1e-6)[0] == pytest.approx(0.0, abs=1e-3)  # no jump back to +1 or -1


def test_values_are_validated_with_exact_messages():
    with pytest.raises(ValueError, match="valence must be in range -1..1"):
        MoodPoint(0, 1.5, 0)
    with pytest.raises(TypeError, match="arousal must be a number"):
        MoodPoint(0, 0, "high")
    with pytest.raises(ValueError, match="bar must be in range"):
        MoodPoint(-1, 0, 0)
    with pytest.raises(ValueError, match="two points at bar 2"):
        MoodTimeline((MoodPoint(2, 0, 0), MoodPoint(2, 1, 1)))


def test_from_list_is_bounded_and_names_the_row():
    with pytest.raises(ValueError, match=f"at most {MAX_POINTS} points"):
        MoodTimeline.from_list([[i, 0, 0, 1, ""] for i in range(MAX_POINTS + 1)])
    with pytest.raises(ValueError, match=r"points\[1\]: valence must be in range -1..1"):
        MoodTimeline.from_list([[0, 0, 0, 1, ""], [4, 9, 0, 1, ""]])


def test_the_timeline_is_saved_in_the_project_file_and_old_files_still_load():
    timeline = timeline_from_points([(0, -0.4, -0.3), (8, 0.6, 0.5)])
    timeline = timeline.with_point(MoodPoint(12, 0.1, 0.2, 1.0, "storm"))
    project = Project().with_mood_timeline(timeline)
    loaded = load_project_bytes(project_to_json(project).encode())
    assert loaded.mood_timeline == timeline
    document = json.loads(project_to_json(Project()))
    del document["mood_timeline"]  # as written before the timeline existed
    assert load_project_bytes(json.dumps(document).encode()).mood_timeline == MoodTimeline()


def test_a_bad_timeline_in_a_file_is_one_error_naming_the_field():
    document = json.loads(project_to_json(Project()))
    document["mood_timeline"] = [[0, 0.5, 3.0, 1, ""]]
    with pytest.raises(ProjectFileError, match=r"mood_timeline: points\[0\]: arousal must be in range -1..1"):
        load_project_bytes(json.dumps(document).encode(), "song.composer")
