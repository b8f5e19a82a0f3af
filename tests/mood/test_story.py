import pytest

from composer_app.mood.story import AUTO_BARS_RANGE, Story, StoryError, read_story, split_scenes
from composer_app.mood.mood import preset

THREE_SCENES = (
    "The children ran laughing into the square, where the band was already playing and the fair had begun.\n\n"
    "That night the old dog did not come home, and the boy sat by the gate until it was dark and cold.\n\n"
    "Smoke poured from the barn; the farmer shouted for water as the flames climbed the walls."
)


def test_paragraphs_are_scenes_unless_the_text_marks_its_breaks():
    text = "One.\nStill one.\n\nTwo.\n\n\nThree."
    assert [text[a:b] for a, b in split_scenes(text)] == ["One.\nStill one.", "Two.", "Three."]
    marked = "# Title\n\nA first paragraph.\n\nStill the first scene.\n---\nThe second scene.\n* * *\nThird."
    assert [marked[a:b] for a, b in split_scenes(marked)] == [
        "A first paragraph.\n\nStill the first scene.", "The second scene.", "Third."
    ]


def test_bad_text_is_one_clear_error():
    with pytest.raises(StoryError, match="no words"):
        read_story("  \n---\n  ")
    with pytest.raises(StoryError, match="bars per scene must be in range"):
        read_story("Some words.", bars_per_scene=0)


def test_each_scene_gets_an_emotion_its_moods_the_driving_words_and_a_length():
    story = read_story(THREE_SCENES)
    happy, sad, alarm = story.scenes
    assert happy.valence > 0.3 and alarm.valence < 0
    assert sad.valence < happy.valence - 0.5  # (the reader puts it near neutral valence: a known weakness)
    assert sad.arousal < 0 < alarm.arousal
    assert sad.emotion in ("sad", "melancholic", "mysterious", "calm")
    assert all(scene.evidence for scene in story.scenes)
    assert all(AUTO_BARS_RANGE[0] <= scene.bars <= AUTO_BARS_RANGE[1] for scene in story.scenes)
    assert story.text[sad.start_char : sad.end_char] == sad.text
    assert len(happy.sentences) == 1


def test_scenes_become_a_labelled_timeline_and_survive_a_round_trip():
    story = read_story(THREE_SCENES, bars_per_scene=4)
    story = story.with_scene(1, story.scenes[1].with_mood(preset("tender"), "tender"))
    timeline = story.timeline()
    assert [p.bar for p in timeline.points] == [0, 4, 8]
    assert [p.label for p in timeline.points] == [s.emotion for s in story.scenes]
    assert timeline.points[1].valence == preset("tender").valence
    assert story.scenes[1].mood_by_hand and story.scenes[1].emotion == "tender"
    assert Story.from_dict(story.to_dict()) == story
