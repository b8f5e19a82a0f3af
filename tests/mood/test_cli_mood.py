"""`composer-app mood "TEXT"` through a real subprocess."""

import json
import subprocess
import sys

from composer_app.mood import TARGET_NAMES


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "composer_app", "mood", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


def test_mood_prints_one_json_object():
    result = run_cli("The ship sinks slowly into the dark water")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    data = json.loads(result.stdout)
    assert data["valence"] < 0 and data["arousal"] < 0
    assert data["emotion"] == "sadness"
    assert 0 < data["confidence"] <= 1
    assert {e["word"] for e in data["evidence"]} >= {"sinks", "slowly", "dark"}
    assert data["nearest_preset"] in ("sad", "melancholic", "mysterious")
    assert list(data["targets"]) == list(TARGET_NAMES)
    assert data["targets"]["major_strength"] < 0


def test_mood_happy_line_and_unquoted_words():
    data = json.loads(run_cli("We", "won!", "Everyone", "cheers").stdout)
    assert data["valence"] > 0.3 and data["arousal"] > 0.3
    assert data["emotion"] == "joy"
    assert data["nearest_preset"] in ("happy", "playful", "triumphant")
    assert data["targets"]["major_strength"] > 0


def test_mood_reads_stdin_and_pretty_prints():
    result = run_cli("-", "--indent", "2", stdin="The monster chases them through the burning city\n")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["arousal"] > 0.5 and data["emotion"] == "fear"


def test_unknown_words_are_not_an_error():
    result = run_cli("xyzzy plugh")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["confidence"] == 0 and data["emotion"] == "neutral" and data["nearest_preset"] is None
    assert "affect lexicon" in data["explanation"]


def test_empty_text_exits_2_with_one_line():
    for args in (("",), ("   ",), ()):
        result = run_cli(*args)
        assert result.returncode == 2
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "no text given" in lines[0]
        assert "Traceback" not in result.stderr
