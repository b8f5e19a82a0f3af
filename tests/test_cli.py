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
from tests.midi_bytes import END_OF_TRACK, smf, vlq

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


# -- hostile files (issue 9): under 1 GB of address space and 30 s, one line and exit 2 ----------

MEMORY_LIMIT_BYTES = 1_000_000_000  # the promise: no command uses more than about 1 GB on any file
TIME_LIMIT_S = 30


def bounded(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """``composer-app ARGS`` under ``prlimit --as`` (past it allocations fail) and a wall-clock limit."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "JACK_NO_START_SERVER": "1", **(env_extra or {})}
    env.pop("COMPOSER_APP_DEBUG", None)
    return subprocess.run(
        ["prlimit", f"--as={MEMORY_LIMIT_BYTES}", "--", sys.executable, "-m", "composer_app", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=TIME_LIMIT_S,
    )


_SLOWEST_TEMPO = b"\x00\xff\x51\x03\xff\xff\xff"  # 16.7 s per quarter note
HOSTILE_MIDI = {
    # issue 9's files: a note at tick 2^28 - 1 at 1 tick per quarter (7.5 GB in suggest) ...
    "far_note": (smf(0, 1, [vlq(2**28 - 1) + b"\x90\x3c\x64\x01\x80\x3c\x40" + END_OF_TRACK]), "beyond the limit of 65,536 quarter"),
    # ... a one-hour note (render: 33 s, 6 GB, 635 MB written) ...
    "hour_note": (smf(0, 1, [b"\x00\x90\x3c\x64" + vlq(7200) + b"\x80\x3c\x40" + END_OF_TRACK]), "a note of 7,200 quarter notes"),
    # ... the 44-byte variant at the slowest tempo (numpy asked for 1.4 PiB) ...
    "slow_long_note": (smf(0, 1, [_SLOWEST_TEMPO + b"\x00\x90\x3c\x64" + vlq(2**28 - 1) + b"\x80\x3c\x40" + END_OF_TRACK]), "a note of 268,435,455 quarter notes"),
    # ... 1 tick per quarter under 4/8 (ZeroDivisionError) ...
    "meter_4_8": (smf(0, 1, [b"\x00\xff\x58\x04\x04\x03\x18\x08\x00\x90\x3c\x64\x04\x80\x3c\x40" + END_OF_TRACK]), "4/8 meter"),
    # ... 65,535 tracks (1.3 MB) and format-2 patterns laid end to end past the span.
    "tracks": (smf(1, 480, [b"\x00\x90\x3c\x64\x01\x80\x3c\x40" + END_OF_TRACK] * 65535), "65,535 tracks"),
    "format_2": (smf(2, 480, [b"\x00\x90\x3c\x64" + vlq(2**28 - 1) + b"\x80\x3c\x40" + END_OF_TRACK] * 3), "refusing to load it"),
}


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name, (data, _) in HOSTILE_MIDI.items():
        (folder / f"{name}.mid").write_bytes(data)
    # Within every file limit, but 19 hours of music: render refuses it, info describes it.
    slow = smf(0, 1, [_SLOWEST_TEMPO + b"\x00\x90\x3c\x64" + vlq(4096) + b"\x80\x3c\x40" + END_OF_TRACK])
    (folder / "nineteen_hours.mid").write_bytes(slow)
    return folder


@pytest.mark.parametrize("name", sorted(HOSTILE_MIDI))
@pytest.mark.parametrize("command", ["info", "suggest", "render"])
def test_hostile_midi_files_are_one_line_and_exit_2_within_1_gb_and_30_s(hostile_folder, tmp_path, command, name):
    path = str(hostile_folder / f"{name}.mid")
    args = {"info": [path], "suggest": [path, "-o", str(tmp_path / "out")], "render": [path, "-o", str(tmp_path / "x.wav")]}
    result = bounded(command, *args[command])
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert HOSTILE_MIDI[name][1] in result.stderr
    assert not (tmp_path / "x.wav").exists() and not (tmp_path / "out").exists()


def test_render_refuses_nineteen_hours_of_music_before_synthesizing(hostile_folder, tmp_path):
    result = bounded("render", str(hostile_folder / "nineteen_hours.mid"), "-o", str(tmp_path / "x.wav"))
    assert (result.returncode, result.stderr) == (
        2, "composer-app: the music lasts 19:05:20 (h:mm:ss); a render is limited to 1:00:00 (h:mm:ss)\n"
    )
    info = bounded("info", str(hostile_folder / "nineteen_hours.mid"), "--json")
    assert info.returncode == 0 and json.loads(info.stdout)["length_seconds"] > 68_000


def test_a_temperature_that_overflows_sampling_is_refused_with_a_reason(tmp_path):
    result = composer_app("suggest", str(EXAMPLES / "c_major_melody.mid"), "-o", str(tmp_path), "--temperature", "1e-40")
    assert result.returncode == 2
    assert result.stderr == (
        "composer-app: --temperature must be in range 0.05..5 (lower values overflow the sampling arithmetic "
        "and give no notes)\n"
    )


def _models_with(tmp_path: Path, make) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    make(folder / "transformer.safetensors")
    return folder


def test_suggest_with_nan_weights_says_so_and_exits_2(tmp_path):
    from safetensors.torch import load_file, save_file

    from composer_app.generation import registry

    def nan_weights(target):
        shipped = registry.weights_path("transformer")
        state = load_file(str(shipped))
        state["embed.weight"][0, 0] = float("nan")
        save_file(state, str(target), metadata=registry.read_metadata(shipped))

    models = _models_with(tmp_path, nan_weights)
    result = bounded("suggest", str(EXAMPLES / "c_major_melody.mid"), "-o", str(tmp_path / "out"),
                     env_extra={"COMPOSER_APP_MODELS": str(models)})
    assert result.returncode == 2, result.stderr
    assert "hold NaN or infinite values (in embed.weight)" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_suggest_with_a_fifo_for_weights_does_not_hang(tmp_path):
    models = _models_with(tmp_path, os.mkfifo)
    result = bounded("suggest", str(EXAMPLES / "c_major_melody.mid"), "-o", str(tmp_path / "out"),
                     env_extra={"COMPOSER_APP_MODELS": str(models)})
    assert result.returncode == 2 and result.stderr.endswith("not a regular file\n"), result.stderr
