"""`composer-app suggest` end to end with the shipped weights, and `composer-app evaluate --quick`."""

import json

import pytest

from composer_app.cli import main
from composer_app.core.midifile import load_midi, save_clip
from composer_app.core.timing import TempoChange, TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.generation import registry

from .conftest import TPQ, melody


@pytest.fixture
def prompt_file(tmp_path):
    path = tmp_path / "prompt.mid"
    save_clip(
        melody(62, bars=4, numerator=3), path, ticks_per_quarter=TPQ,
        tempo_map=TempoMap([TempoChange(0, 600_000)], TPQ), time_signatures=TimeSignatureMap([TimeSignatureChange(0, 3, 4)], TPQ),
    )
    return path


def test_suggest_writes_candidates_with_the_prompts_tempo_and_meter(prompt_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["suggest", str(prompt_file), "-o", str(out), "--bars", "2", "--candidates", "3", "--arousal", "0.8", "--seed", "9", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["generator"] == "transformer" and report["seed"] == 9
    assert [c["path"] for c in report["candidates"]] == [str(out / f"candidate-{i}.mid") for i in (1, 2, 3)]
    for entry in report["candidates"]:
        project = load_midi(entry["path"])
        assert project.note_count == entry["notes"]
        assert project.time_signatures.changes[0].numerator == 3
        assert project.tempo_map.changes[0].microseconds_per_quarter == 600_000
        notes = [n for t in project.tracks for n in t.notes]
        bar = 3 * project.ticks_per_quarter
        assert all(0 <= n.start_tick < 2 * bar for n in notes)
    assert report["seconds"] > 0


def test_suggest_with_text_and_plain_output(prompt_file, tmp_path, capsys):
    assert main(["suggest", str(prompt_file), "-o", str(tmp_path / "o"), "--bars", "1", "--candidates", "1", "--text", "the ship sinks into the dark water"]) == 0
    assert "candidate-1.mid" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--valence", "2"], "--valence must be in range -1..1"),
        (["--bars", "0"], "--bars must be in range"),
        (["--candidates", "0"], "--candidates must be in range"),
        (["--temperature", "0"], "--temperature"),
        (["--generator", "nope"], "unknown generator"),
    ],
)
def test_suggest_bad_arguments_exit_2_with_one_line(prompt_file, tmp_path, capsys, args, message):
    assert main(["suggest", str(prompt_file), "-o", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_suggest_bad_files_exit_2(tmp_path, capsys):
    assert main(["suggest", str(tmp_path / "missing.mid"), "-o", str(tmp_path / "o")]) == 2
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd garbage")
    assert main(["suggest", str(broken), "-o", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.count("\n") == 2


def test_suggest_missing_weights_is_a_clear_error(prompt_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(registry, "MODELS_DIR", tmp_path / "empty")
    registry._CACHE.clear()
    assert main(["suggest", str(prompt_file), "-o", str(tmp_path / "o")]) == 1
    assert "weights not found" in capsys.readouterr().err


def test_evaluate_quick(midi_folder, tmp_path, tiny_weights, capsys):
    out = tmp_path / "report"
    assert main(["evaluate", "--data", str(midi_folder), "--weights", str(tiny_weights), "--quick", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    result = json.loads(out.with_suffix(".json").read_text())
    assert result["likelihood"]["ngram_nll_per_note"] > 0
    assert set(result["control"]) == {"arousal", "valence"}
    assert "Spearman" in out.with_suffix(".md").read_text()
    assert summary["nll_per_note"] > 0


def test_suggest_compares_generators(prompt_file, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["suggest", str(prompt_file), "-o", str(out), "--bars", "1", "--candidates", "2", "--generator", "transformer,gan", "--seed", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["generator"] == "transformer,gan"
    assert [c["generator"] for c in report["candidates"]] == ["transformer", "transformer", "gan", "gan"]
    assert sorted(p.name for p in out.iterdir()) == [f"candidate-{i}.mid" for i in range(1, 5)]
    assert main(["suggest", str(prompt_file), "-o", str(out), "--generator", "transformer,nope"]) == 2


def test_suggest_all_asks_every_shipped_generator_that_continues(prompt_file, tmp_path, capsys):
    from composer_app.generation import registry

    assert main(["suggest", str(prompt_file), "-o", str(tmp_path / "all"), "--bars", "1", "--candidates", "1", "--generator", "all", "--seed", "1", "--json"]) == 0
    makers = [c["generator"] for c in json.loads(capsys.readouterr().out)["candidates"]]
    assert makers == registry.names(shipped_only=True, capability="continue") and "gan" in makers
