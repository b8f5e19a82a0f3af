"""The command line as users run it: the real entry point in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from composer_app.commands import SUBCOMMANDS

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "resources" / "examples"


def composer_app(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "JACK_NO_START_SERVER": "1"}
    env.pop("COMPOSER_APP_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "composer_app", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=timeout,
    )


def test_info_prints_the_facts_of_the_c_major_example():
    result = composer_app("info", "resources/examples/c_major_melody.mid")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "File:            resources/examples/c_major_melody.mid"
    assert "Title:           C major melody" in lines
    assert "Tracks:          1" in lines
    assert any(
        line.split() == "1. Melody program 0 (Acoustic Grand Piano), channel 1, 32 notes, C4-D5".split() for line in lines
    ), result.stdout
    assert "Notes:           32" in lines
    assert "Tempo:           100 BPM" in lines
    assert "Time signature:  4/4" in lines
    assert "Length:          8 bars (7.75), 18.6 s" in lines
    key_line = next(line for line in lines if line.startswith("Key:"))
    assert key_line.startswith("Key:             C major (estimated from the notes, correlation 0.9")
    assert key_line.endswith("; the file says C major")


def test_info_json_of_the_waltz():
    result = composer_app("info", str(EXAMPLES / "two_track_waltz.mid"), "--json")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert [(t["name"], t["program"], t["channel"]) for t in facts["tracks"]] == [
        ("Melody", 73, 0),
        ("Accompaniment", 0, 1),
    ]
    assert [t["bpm"] for t in facts["tempos"]] == [pytest.approx(144, abs=0.01), 120]
    assert [t["position"] for t in facts["tempos"]] == ["1:1", "9:1"]
    assert [(m["numerator"], m["denominator"]) for m in facts["time_signatures"]] == [(3, 4)]
    assert facts["bars"] == 16 and facts["notes"] == 144
    # 8 bars of 3 quarters at 144 BPM, then 8 at 120: 10 s + 12 s
    assert facts["length_seconds"] == pytest.approx(22.0, abs=0.01)
    assert facts["key_signature"] == "G major" and facts["key_estimate"]["key"] == "G major"


def test_info_of_the_minor_example_finds_minor():
    facts = json.loads(composer_app("info", "--json", str(EXAMPLES / "a_minor_melody.mid")).stdout)
    assert facts["key_estimate"]["key"] == "A minor" and facts["key_signature"] == "A minor"


def test_info_reads_project_files(tmp_path):
    from composer_app.core.midifile import load_midi
    from composer_app.core.projectfile import save_project

    path = tmp_path / "waltz.composer"
    save_project(load_midi(EXAMPLES / "two_track_waltz.mid"), path)
    facts = json.loads(composer_app("info", str(path), "--json").stdout)
    assert facts["notes"] == 144 and facts["title"] == "Two-track waltz"


def test_corrupt_file_gives_one_line_and_exit_2(tmp_path):
    path = tmp_path / "broken.mid"
    path.write_bytes((EXAMPLES / "c_major_melody.mid").read_bytes()[:60])
    result = composer_app("info", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    expected = rf"composer-app: {re.escape(str(path))}: truncated \(track 1 of 2 needs \d+ bytes from byte 22, the file ends at byte 60\)\n"
    assert re.fullmatch(expected, result.stderr), result.stderr


def test_not_a_midi_file_and_missing_file_exit_2(tmp_path):
    text = tmp_path / "song.mid"
    text.write_text("la la la")
    result = composer_app("info", str(text))
    assert (result.returncode, result.stderr) == (2, f"composer-app: {text}: not a MIDI file (no MThd header)\n")
    result = composer_app("info", str(tmp_path / "nothing.mid"))
    assert (result.returncode, result.stderr) == (2, f"composer-app: {tmp_path / 'nothing.mid'}: no such file\n")


def test_usage_errors_exit_2():
    result = composer_app("info")
    assert result.returncode == 2 and "required: file" in result.stderr


def test_gui_without_a_display_says_so_in_one_line():
    """Qt would abort (SIGABRT) with a misleading plugin message; we explain and exit 1 instead."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "-m", "composer_app", str(EXAMPLES / "c_major_melody.mid")],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "no display" in result.stderr and "xvfb-run" in result.stderr


@pytest.mark.parametrize("name", [*SUBCOMMANDS, "gui"])
def test_every_subcommand_has_help(name):
    result = composer_app(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: composer-app ")


def test_top_level_help_and_version():
    result = composer_app("--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout
    version = composer_app("--version")
    assert version.returncode == 0 and version.stdout.startswith("composer-app ")


def test_installed_console_script_runs_info():
    script = Path(sys.executable).with_name("composer-app")
    assert script.exists(), "the composer-app console script is not installed next to this Python (pip install -e .)"
    result = subprocess.run(
        [str(script), "info", "--json", str(EXAMPLES / "c_major_melody.mid")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["notes"] == 32


def test_a_reader_that_leaves_early_gets_no_error_line():
    """``composer-app info X | head -c 1``: the closed pipe is not an "unexpected error"."""
    process = subprocess.Popen(
        [sys.executable, "-m", "composer_app", "info", str(EXAMPLES / "c_major_melody.mid"), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
    )
    process.stdout.close()  # long before the interpreter has started and written anything
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert stderr == ""
