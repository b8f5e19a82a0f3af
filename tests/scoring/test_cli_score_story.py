"""`composer-app score-story` as users run it: the real entry point in a subprocess."""

import json

from tests.test_cli import composer_app

STORY = (
    "At the harvest fair the children ran between the stalls and the fiddlers played until dark.\n\n"
    "---\n\n"
    "In the night the river broke its banks, and the families climbed onto their roofs as the water rose.\n"
)


def test_score_story_writes_midi_wav_and_project_and_reports_each_scene(tmp_path):
    story = tmp_path / "story.md"
    story.write_text(STORY)
    out, wav, project = tmp_path / "story.mid", tmp_path / "story.wav", tmp_path / "story.composer"
    result = composer_app(
        "score-story", str(story), "-o", str(out), "--wav", str(wav), "--project", str(project),
        "--bars-per-scene", "2", "--seed", "5", "--json", timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert out.stat().st_size > 100 and wav.stat().st_size > 44 and project.is_file()
    assert [row["start_bar"] for row in report["scenes"]] == [0, 2]
    first, second = report["scenes"]
    assert STORY[first["text_span"][0] : first["text_span"][1]].startswith("At the harvest fair")
    assert second["start_beat"] == 8.0 and second["end_beat"] == 16.0
    assert first["valence"] > second["valence"]
    assert {"melody_note_density", "major_strength", "tempo_bpm"} <= set(first["attributes"])
    assert set(report["narrative_fit_spearman"]) == {"valence", "arousal"}
    assert report["max_silence_at_boundaries_beats"] <= 1.0
    info = composer_app("info", str(out), "--json")
    assert info.returncode == 0, info.stderr
    assert len(json.loads(info.stdout)["tracks"]) >= 3


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    missing = composer_app("score-story", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "o.mid"))
    assert missing.returncode == 2 and "no such file" in missing.stderr and len(missing.stderr.splitlines()) == 1
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n\n---\n")
    result = composer_app("score-story", str(empty), "-o", str(tmp_path / "o.mid"))
    assert result.returncode == 2 and "no words" in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    binary = tmp_path / "story.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    result = composer_app("score-story", str(binary), "-o", str(tmp_path / "o.mid"))
    assert result.returncode == 2 and "not UTF-8" in result.stderr
    bars = composer_app("score-story", str(binary), "-o", str(tmp_path / "o.mid"), "--bars-per-scene", "0")
    assert bars.returncode == 2 and "--bars-per-scene must be in range" in bars.stderr
