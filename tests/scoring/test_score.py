"""Scoring a story end to end with the real reader and the shipped generator (small stories, 2-bar scenes)."""

import threading

import pytest

from composer_app.core.mood_timeline import MoodTimeline
from composer_app.mood.mood import preset
from composer_app.mood.story import read_story
from composer_app.scoring import arrangement
from composer_app.scoring.score import (
    BAR_TICKS,
    ScoringCancelled,
    max_boundary_silence_beats,
    rescore_scene,
    score_story,
)

STORY = (
    "The whole village danced in the square, and the band played until the lanterns were lit.\n\n"
    "The next winter the old miller died, and his mill stood silent and empty by the frozen stream.\n\n"
    "Soldiers kicked down the doors and dragged the men into the street while the houses burned."
)


@pytest.fixture(scope="module")
def scored():
    story = read_story(STORY, bars_per_scene=3)
    return score_story(story, seed=3)


def _melody(project):
    return sorted(n for t in project.tracks if t.name.startswith("Melody") for n in t.notes)


def test_the_story_becomes_one_multi_track_project_with_its_timeline(scored):
    project = scored.project
    names = [t.name for t in project.tracks]
    assert any(n.startswith("Melody") for n in names)
    assert any(n.startswith("Accompaniment") for n in names)
    assert any(n.startswith("Bass") for n in names)
    assert len({t.channel for t in project.tracks}) == len(project.tracks)
    assert project.mood_timeline == scored.story.timeline()
    assert project.settings["story"]["text"] == STORY
    assert project.end_tick <= 9 * BAR_TICKS + BAR_TICKS  # three scenes of three bars (plus a held last note)


def test_each_scene_has_melody_and_its_mood_sets_tempo_mode_instrument_and_loudness(scored):
    happy, sad, violent = scored.scenes
    melody = _melody(scored.project)
    for scene in scored.scenes:
        assert any(scene.start_tick <= n.start_tick < scene.end_tick for n in melody)
    assert sad.tempo_bpm < happy.tempo_bpm and sad.tempo_bpm < violent.tempo_bpm
    assert "major" in happy.key and "minor" in sad.key
    assert happy.melody_instrument == arrangement.instruments_for(0.8, 0.5)[0][1]
    assert sad.melody_instrument == arrangement.instruments_for(-0.5, -0.5)[0][1]
    assert violent.attributes["velocity_mean"] > sad.attributes["velocity_mean"]
    tempo_changes = scored.project.tempo_map.changes
    assert len(tempo_changes) > 3  # steps across each boundary bar, not one jump


def test_the_melody_continues_across_scene_boundaries(scored):
    assert max_boundary_silence_beats(scored) <= 1.0


def test_read_back_follows_the_story_on_both_axes(scored):
    story = scored.story.scenes
    heard = scored.scenes
    assert heard[0].readback.valence > heard[1].readback.valence  # happy above grief
    assert heard[2].readback.arousal > heard[1].readback.arousal  # violence above grief
    assert story[2].arousal > story[1].arousal


def test_json_report_lists_each_scene_with_span_emotion_position_and_measures(scored):
    report = scored.to_dict()
    assert len(report["scenes"]) == 3
    row = report["scenes"][1]
    assert STORY[row["text_span"][0] : row["text_span"][1]].startswith("The next winter")
    assert row["start_bar"] == 3 and row["end_bar"] == 6 and row["start_beat"] == 12.0 and row["end_beat"] == 24.0
    assert {"melody_note_density", "melody_pitch_mean", "major_strength", "tempo_bpm"} <= set(row["attributes"])
    assert {"valence", "arousal", "cues"} <= set(row["read_back"])
    assert set(report["narrative_fit_spearman"]) == {"valence", "arousal"}


def test_regenerating_one_scene_keeps_the_others(scored):
    again = rescore_scene(scored, 1, seed=999)
    for index in (0, 2):
        assert again.scene_melodies[index] == scored.scene_melodies[index]
    assert again.scene_melodies[1] != scored.scene_melodies[1]
    assert again.scenes[1].seed == 999 and again.scenes[0].seed == scored.scenes[0].seed


def test_a_scene_set_by_hand_changes_its_music(scored):
    story = scored.story.with_scene(1, scored.story.scenes[1].with_mood(preset("tender"), "tender"))
    tender = rescore_scene(scored, 1, seed=scored.scenes[1].seed, story=story)
    assert "major" in tender.scenes[1].key
    assert tender.project.mood_timeline.points[1].label == "tender"


def test_cancel_stops_scoring():
    story = read_story(STORY, bars_per_scene=2)
    event = threading.Event()
    event.set()
    with pytest.raises(ScoringCancelled):
        score_story(story, seed=1, cancel=event)


def test_progress_is_reported_scene_by_scene():
    story = read_story(STORY, bars_per_scene=1)
    calls = []
    score_story(story, seed=2, progress=lambda done, total, message: calls.append((done, total, message)))
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert calls[-1][0] == calls[-1][1]
    assert sum("scene" in c[2] for c in calls) == 3
    assert MoodTimeline is not None


def test_a_silence_across_a_boundary_is_bridged_and_others_are_kept():
    from composer_app.core.note import Note
    from composer_app.scoring.score import bridge_silences

    beat = 480
    boundary = 8 * beat
    notes = [Note(0, 60, beat), Note(2 * beat, 62, beat), Note(6 * beat, 64, beat), Note(10 * beat, 65, beat)]
    bridged = bridge_silences(notes, [boundary], beat)
    held = next(n for n in bridged if n.pitch == 64)
    assert held.end_tick == 10 * beat  # held into the next scene's first note
    assert next(n for n in bridged if n.pitch == 60).end_tick == beat  # a silence away from the boundary stays
    assert bridge_silences(notes, [], beat) == sorted(notes)


def test_a_motif_the_user_wrote_sets_the_key_the_story_is_scored_in():
    from composer_app.core.note import Note

    g_major = [67, 71, 74, 79, 78, 74, 71, 67, 69, 72, 76, 74, 71, 67, 66, 67]
    motif = [Note(i * 480, p, 440, 90) for i, p in enumerate(g_major)]
    story = read_story(
        "The children sang in the meadow and the sun was warm on the hay.\n\n"
        "The storm came over the hills and the barn roof tore away in the wind.",
        bars_per_scene=2,
    )
    scored = score_story(story, seed=1, motif=motif)
    assert [s.key for s in scored.scenes] == ["G major", "G minor"]
    assert not any(n.start_tick < 0 for t in scored.project.tracks for n in t.notes)
    assert scored.motif == tuple(sorted(motif))


def test_chords_grow_more_major_with_valence_in_either_mode():
    from composer_app.core.note import Note

    tpq = 480
    # a melody on C, E, G and A: tones that major and minor triads of both keys share
    pitches = [60, 64, 67, 69, 60, 64, 67, 69] * 4
    melody = [Note(i * tpq, p, tpq) for i, p in enumerate(pitches)]
    bars = 8
    for minor in (False, True):
        counts = []
        for valence in (-0.8, 0.0, 0.8):
            chords = arrangement.choose_chords(melody, tpq, 0, [minor] * bars, [0] * bars, [valence] * bars)
            counts.append(sum(1 for c in chords if c.intervals[1] == 4))
        assert counts[0] < counts[1] < counts[2], counts  # measured [0, 4, 8] in major, [0, 4, 7] in minor (borrowed C at 0)


def test_mode_strength_is_graded_by_the_valence_that_tempo_and_register_leave():
    from composer_app.mood.mood import Mood
    from composer_app.scoring.score import _scene_targets, mode_valence

    strengths = [_scene_targets(Mood(v, 0.0), []).major_strength for v in (-0.9, -0.4, -0.1, 0.1, 0.4, 0.9)]
    assert strengths == sorted(strengths) and strengths[0] < 0 < strengths[-1]
    assert abs(strengths[2]) < abs(strengths[0]) and abs(strengths[3]) < abs(strengths[-1])
    # a lively mildly happy scene needs less major than a calm one of the same valence
    assert _scene_targets(Mood(0.4, 0.8), []).major_strength < _scene_targets(Mood(0.4, -0.6), []).major_strength
    assert mode_valence(0.3, 0.5) < 0.3 < mode_valence(0.3, -0.5)


def _chords(pitches, minor, valence, bars=8):
    from composer_app.core.note import Note

    tpq = 480
    melody = [Note(i * tpq, p, tpq) for i, p in enumerate(pitches * bars)][: bars * 4]
    return arrangement.choose_chords(melody, tpq, 0, [minor] * bars, [0] * bars, [valence] * bars)


def _diatonic(minor):
    triads = arrangement.MINOR_TRIADS if minor else arrangement.MAJOR_TRIADS
    return {arrangement.Chord(offset % 12, intervals) for offset, intervals in triads.values()}


def test_mild_scenes_borrow_chords_from_the_parallel_mode_and_extreme_ones_do_not():
    # C, D, F and G: a melody that leaves the 3rd, 6th and 7th (where the modes differ) free
    for minor, valences in ((False, (0.0, 0.3, 0.9)), (True, (0.0, -0.3, -0.9))):
        borrowed = [sum(c not in _diatonic(minor) for c in _chords([60, 62, 65, 67], minor, v)) for v in valences]
        assert borrowed[0] >= borrowed[1] > borrowed[2] == 0, (minor, borrowed)


def test_a_borrowed_chord_never_alters_a_tone_the_melody_sounds():
    # C, E, G, A in C major: Cm (Eb), Fm and Ab (Ab), Eb (Eb) would each sound against the melody
    for valence in (0.0, 0.2):
        chords = _chords([60, 64, 67, 69], False, valence)
        assert not any({3, 8} & c.pitch_classes for c in chords), [c.name for c in chords]
    # in C minor a melody on Eb and Ab keeps C major, F and Am out
    chords = _chords([60, 63, 67, 68], True, 0.0)
    assert not any({4, 9} & c.pitch_classes for c in chords), [c.name for c in chords]


def test_scene_valences_are_spread_over_the_range_keeping_order_and_sign():
    from composer_app.scoring.readback import spearman
    from composer_app.scoring.score import SPREAD_MIN, spread_valences

    read = [0.44, 0.03, 0.01, -0.31, -0.01, 0.28, -0.07, 0.79, 0.0, 0.28]
    spread = spread_valences(read)
    assert spearman(read, spread) == 1.0
    assert [v > 0 for v in spread] == [v > 0 for v in read] and [v < 0 for v in spread] == [v < 0 for v in read]
    assert spread[8] == 0.0  # neutral stays neutral
    assert spread[5] == spread[9]  # equal readings, equal music
    assert min(v for v in spread if v > 0) == SPREAD_MIN and max(spread) == 1.0
    assert max(v for v in spread if v < 0) == -SPREAD_MIN and min(spread) == -1.0
    positives = sorted(v for v in set(spread) if v > 0)
    steps = [b - a for a, b in zip(positives, positives[1:])]
    assert max(steps) - min(steps) < 1e-9  # evenly spaced: 0.01 and 0.03 as far apart as 0.44 and 0.79
    assert spread_valences([-0.5]) == [-1.0]


def test_the_music_follows_the_spread_valences_and_is_measured_against_the_reading(scored):
    from composer_app.scoring.score import spread_valences

    read = [s.valence for s in scored.story.scenes]
    assert read == [s.read_valence for s in scored.story.scenes]  # the story keeps the reader's values
    assert [s.music_valence for s in scored.scenes] == spread_valences(read)
    assert [s.music_valence for s in scored.scenes] != read
    rows = scored.to_dict()["scenes"]
    assert [r["valence"] for r in rows] == [round(v, 3) for v in read]
    assert [r["valence_in_music"] for r in rows] == [round(v, 3) for v in spread_valences(read)]
