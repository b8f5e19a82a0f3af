"""Text → mood: the affect lexicon, its rules, the required story lines, and the labelled sets."""

import json
from pathlib import Path

import pytest

from composer_app.mood.text import (
    EMOTION_CENTRES,
    MoodReading,
    lemma_of,
    load_lexicon,
    parse_lexicon,
    read_mood,
)

HERE = Path(__file__).parent


def load_lines(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            quadrant, text = line.split("\t")
            rows.append((quadrant, text))
    return rows


def sign_accuracy(rows: list[tuple[str, str]]) -> tuple[float, float]:
    valence_hits = arousal_hits = 0
    for quadrant, text in rows:
        mood = read_mood(text).mood
        valence_hits += (mood.valence > 0) == (quadrant[0] == "+")
        arousal_hits += (mood.arousal > 0) == (quadrant[2] == "+")
    return valence_hits / len(rows), arousal_hits / len(rows)


# --- the lines the brief names ---------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "The ship sinks slowly into the dark water",
        "She wept at her mother's grave",
        "Everything is lost and cold",
    ],
)
def test_clearly_sad_lines_read_negative_valence(text):
    reading = read_mood(text)
    assert reading.mood.valence < -0.1
    assert reading.mood.arousal < 0.1
    assert reading.emotion_label == "sadness"
    assert reading.confidence > 0.3


@pytest.mark.parametrize("text", ["The children laugh and dance in the sunny meadow", "We won! Everyone cheers"])
def test_clearly_happy_lines_read_positive_valence(text):
    reading = read_mood(text)
    assert reading.mood.valence > 0.3
    assert reading.mood.arousal > 0.2
    assert reading.emotion_label == "joy"


def test_tense_line_reads_high_arousal_and_negative_valence():
    reading = read_mood("The monster chases them through the burning city")
    assert reading.mood.arousal > 0.5
    assert reading.mood.valence < -0.2
    assert reading.emotion_label == "fear"
    assert {e.word for e in reading.evidence} >= {"monster", "chases", "burning"}


@pytest.mark.parametrize(
    "text",
    ["The lake lies still and peaceful under the moonlight", "A mother gently rocks her baby to sleep"],
)
def test_calm_lines_read_low_arousal(text):
    reading = read_mood(text)
    assert reading.mood.arousal < -0.3
    assert reading.mood.valence > 0.2
    assert reading.emotion_label == "calm"


def test_evidence_names_the_words_as_written():
    reading = read_mood("She wept at her mother's grave")
    words = [e.word for e in reading.evidence]
    assert "wept" in words and "grave" in words
    wept = next(e for e in reading.evidence if e.word == "wept")
    assert wept.valence < -0.5 and isinstance(wept.arousal, float)
    assert '"wept"' in reading.explanation


# --- rules -----------------------------------------------------------------------------------

def test_negation_flips_and_damps():
    happy, not_happy = read_mood("happy"), read_mood("not happy")
    assert happy.mood.valence > 0.5
    assert -0.7 < not_happy.mood.valence < -0.2
    assert not_happy.negations == ("not happy",)
    assert read_mood("He is not sad").mood.valence > 0
    assert read_mood("She isn't scared").mood.arousal < 0
    assert read_mood("I am not at all calm").mood.arousal > 0  # three words of reach
    assert read_mood("no longer smiling").mood.valence < 0
    assert read_mood("He never smiles").mood.valence < 0
    # "without" reaches only the next word: saying goodbye stays sad.
    assert read_mood("without fear").mood.valence > 0
    assert read_mood("They left without saying goodbye").mood.valence < 0


def test_negation_stops_at_the_clause():
    assert read_mood("It was not over. She was happy").mood.valence > 0.5


def test_intensifiers_diminishers_capitals_and_exclamations():
    plain = read_mood("happy").mood
    assert read_mood("very happy").mood.valence > plain.valence
    assert read_mood("slightly happy").mood.valence < plain.valence
    assert read_mood("a bit sad").mood.valence > read_mood("sad").mood.valence
    assert read_mood("we were HAPPY").mood.valence > read_mood("we were happy").mood.valence
    assert read_mood("We won!!").mood.arousal > read_mood("We won").mood.arousal


def test_contrast_weighs_the_second_clause():
    assert read_mood("He was hopeful, but sad").mood.valence < 0
    assert read_mood("He was sad, but hopeful").mood.valence > 0


@pytest.mark.parametrize(
    ("word", "lemma"),
    [
        ("sinks", "sink"), ("sinking", "sink"), ("sank", "sink"), ("sunk", "sink"),
        ("gently", "gentle"), ("happily", "happy"), ("happier", "happy"), ("happiest", "happy"),
        ("sadness", "sad"), ("happiness", "happy"), ("peacefully", "peaceful"), ("running", "run"),
        ("cried", "cry"), ("cries", "cry"), ("terrified", "terrify"), ("stared", "stare"),
        ("staring", "stare"), ("wept", "weep"), ("wolves", "wolf"), ("children", "child"),
        ("mother's", "mother"), ("darker", "dark"), ("celebrations", "celebration"), ("Laughed", "laugh"),
    ],
)
def test_morphology(word, lemma):
    assert lemma_of(word) == lemma


def test_multi_word_expressions():
    reading = read_mood("She gave up hope")
    assert [e.word for e in reading.evidence] == ["gave up hope"]
    assert reading.mood.valence < -0.5
    assert [e.word for e in read_mood("The baby fell asleep").evidence] == ["baby", "fell asleep"]
    assert read_mood("She fell asleep").mood.arousal < -0.8
    assert read_mood("The trapped man has nowhere to hide").mood.valence < -0.5


def test_unknown_and_empty_text_read_neutral_with_zero_confidence():
    for text in ("", "   ", "The table is on the floor", "qwerty zxcv", "12345 !!!"):
        reading = read_mood(text)
        assert reading.mood.valence == 0 and reading.mood.arousal == 0
        assert reading.confidence == 0
        assert reading.emotion_label == "neutral"
        assert reading.evidence == ()
        assert reading.explanation.startswith("neutral mood, confidence 0: ")
    assert "affect lexicon" in read_mood("The table is on the floor").explanation


def test_confidence_grows_with_evidence_and_agreement():
    one = read_mood("sad").confidence
    many = read_mood("The widow wept alone at the grave, grieving and lonely").confidence
    mixed = read_mood("happy sad").confidence
    assert 0 < one < many <= 1
    assert mixed < read_mood("happy glad").confidence


def test_reading_is_plain_json_data():
    reading = read_mood("We won! Everyone cheers")
    assert isinstance(reading, MoodReading)
    data = json.loads(json.dumps(reading.to_dict()))
    assert set(data) == {"valence", "arousal", "emotion", "confidence", "evidence", "negations", "explanation"}
    assert data["evidence"][0] == {"word": "won", "valence": 0.85, "arousal": 0.7}


def test_type_error():
    with pytest.raises(TypeError, match="^text must be a str$"):
        read_mood(None)  # type: ignore[arg-type]


# --- the lexicon -----------------------------------------------------------------------------

def test_lexicon_is_substantial_and_valid():
    lexicon = load_lexicon()
    assert len(lexicon) >= 800
    for word, entry in lexicon.items():
        assert word == word.lower() and " " not in word
        assert -1 <= entry.valence <= 1 and -1 <= entry.arousal <= 1
        assert entry.emotion is None or entry.emotion in EMOTION_CENTRES
    # Every family is represented, on its side of the plane.
    for family, centre in EMOTION_CENTRES.items():
        members = [e for e in lexicon.values() if e.emotion == family]
        assert len(members) >= 5, family
        mean_valence = sum(e.valence for e in members) / len(members)
        assert (mean_valence > 0) == (centre.valence > 0), family


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("happy 0.8", "lexicon line 1: expected 4 columns, got 2"),
        ("happy 1.8 0.2 joy", "lexicon line 1: values must be in range -1..1"),
        ("happy 0.8 0.2 glee", "lexicon line 1: unknown emotion 'glee'"),
        ("# c\nhappy 0.8 0.2 joy\nhappy 0.7 0.2 joy", "lexicon line 3: duplicate entry 'happy'"),
    ],
)
def test_lexicon_parse_errors(text, message):
    with pytest.raises(ValueError) as info:
        parse_lexicon(text)
    assert str(info.value) == message


# --- labelled story lines (written for this project; see the files' headers) -----------------

def test_labelled_lines_are_balanced():
    rows = load_lines("story_lines.tsv")
    assert len(rows) == 60
    for quadrant in ("+V+A", "+V-A", "-V+A", "-V-A"):
        assert sum(q == quadrant for q, _ in rows) == 15


def test_sign_accuracy_on_labelled_lines():
    valence, arousal = sign_accuracy(load_lines("story_lines.tsv"))
    assert valence >= 0.9 and arousal >= 0.9, (valence, arousal)


def test_sign_accuracy_on_held_out_lines():
    rows = load_lines("story_lines_holdout.tsv")
    assert len(rows) == 40
    valence, arousal = sign_accuracy(rows)
    assert valence >= 0.85 and arousal >= 0.85, (valence, arousal)
