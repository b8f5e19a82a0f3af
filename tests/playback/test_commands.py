"""`composer-app render`, `play` and `ports` as a user meets them: outputs, messages, exit codes."""

import json
import subprocess
import sys
import wave

import pytest

from composer_app.cli import main
from composer_app.core.midifile import save_midi
from composer_app.core.project import Project

NO_JACK = "composer-test-no-such-server"


@pytest.fixture
def no_midi_system(monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", NO_JACK)
    monkeypatch.delenv("MIDO_BACKEND", raising=False)


@pytest.fixture
def clip(resources_dir):
    return resources_dir / "examples" / "c_major_melody.mid"


def test_render_writes_a_wav_and_says_what_it_wrote(clip, tmp_path, capsys):
    out = tmp_path / "melody.wav"
    assert main(["render", str(clip), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    assert printed.out.startswith(f"wrote {out}: 19.60 s, 44100 Hz stereo, peak ")
    assert "32 notes, soundfont " in printed.out
    with wave.open(str(out)) as wav:
        assert wav.getnframes() == round(19.6 * 44100) and wav.getnchannels() == 2


def test_render_bad_input_exits_2_with_one_line(clip, tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope.mid"), "-o", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("composer-app: ")
    assert main(["render", str(clip), "-o", str(tmp_path / "x.wav"), "--soundfont", str(tmp_path / "no.sf2")]) == 2
    assert capsys.readouterr().err == f"composer-app: soundfont not found: {tmp_path / 'no.sf2'}\n"
    assert main(["render", str(clip), "-o", str(tmp_path / "no" / "such" / "dir" / "x.wav")]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert main(["render", str(clip), "-o", str(tmp_path / "x.wav"), "--sample-rate", "10"]) == 2
    assert not (tmp_path / "x.wav").exists()


def test_render_without_any_soundfont_exits_1(clip, tmp_path, capsys, monkeypatch):
    from composer_app.playback import fluid

    monkeypatch.setattr(fluid, "system_soundfont_paths", lambda: [])
    monkeypatch.delenv(fluid.SOUNDFONT_ENV_VAR, raising=False)
    assert main(["render", str(clip), "-o", str(tmp_path / "x.wav")]) == 1
    assert "no General MIDI soundfont found" in capsys.readouterr().err


def test_ports_without_a_midi_system_says_why_and_exits_0(no_midi_system, capsys):
    assert main(["ports"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("MIDI outputs: none (no MIDI system: ")
    assert out[1].startswith("MIDI inputs: none (no MIDI system: ")
    if sys.platform.startswith("linux"):
        assert "no ALSA sequencer" in out[0] and "no JACK server is running" in out[0]


def test_ports_json(no_midi_system, capsys):
    assert main(["ports", "--json", "--midi-api", "jack"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["outputs"] == {"api": None, "names": [], "reason": "no MIDI system: jack: no JACK server is running"}


def test_ports_as_a_separate_program_without_a_midi_system():
    """The installed entry point, a fresh process: nothing but the listing on the terminal."""
    env = {"JACK_DEFAULT_SERVER": NO_JACK, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "composer_app", "ports"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0
    assert done.stderr == ""  # ALSA's and JACK's own complaints are kept off the terminal
    assert done.stdout.startswith("MIDI outputs: none (no MIDI system:")


def test_play_with_nothing_to_play_to_exits_1_and_says_what_to_do(clip, no_midi_system, capsys):
    assert main(["play", str(clip)]) == 1  # no audio device here, no port asked for
    err = capsys.readouterr().err
    assert "FluidSynth cannot play: no audio device" in err
    assert "nothing to play to; 'composer-app ports' lists MIDI ports" in err


def test_play_to_a_port_without_a_midi_system(clip, no_midi_system, capsys):
    assert main(["play", str(clip), "--port", "Synth"]) == 1
    assert "cannot open a MIDI port: no MIDI system" in capsys.readouterr().err


def test_play_bad_input_exits_2(clip, tmp_path, capsys, no_midi_system):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd garbage")
    assert main(["play", str(bad)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["play", str(clip), "--port", "x", "--channel", "17"]) == 2
    assert capsys.readouterr().err == "composer-app: --channel must be in range 1..16\n"
    with pytest.raises(SystemExit) as exit_info:  # argparse's choices
        main(["play", str(clip), "--midi-api", "oss"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'oss'" in capsys.readouterr().err


def test_play_an_empty_file(tmp_path, capsys, monkeypatch):
    from composer_app.playback.sink import FakeSink
    from composer_app.commands import play

    empty = tmp_path / "empty.mid"
    save_midi(Project(), empty)
    monkeypatch.setattr(play, "_open_sinks", lambda args, errors: [FakeSink()])
    assert main(["play", str(empty)]) == 0
    assert capsys.readouterr().out == f"{empty}: no notes to play\n"
