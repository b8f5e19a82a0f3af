"""Offline render through a real soundfont: length, level, pitch, timing, and a second renderer."""

import shutil
import subprocess
import wave

import numpy as np
import pytest

from composer_app.core.document_io import load_document
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.timing import TempoChange, TempoMap
from composer_app.core.track import Track
from composer_app.playback.fluid import FluidSynthUnavailableError, SoundfontError, find_soundfont
from composer_app.playback import fluid
from composer_app.playback.render import DEFAULT_GAIN, DEFAULT_TAIL_S, render_samples, render_to_wav

RATE = 44100
AUDIBLE_RMS_DBFS = -45.0  # a melody through a GM piano at gain 0.5 measures about -30 dBFS


def read_wav(path):
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (2, 2)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
        return frames.astype(np.float64) / 32768.0, wav.getframerate()


def envelope(samples, rate, window_s=0.01):
    """RMS of the mono mix in windows of ``window_s``."""
    n = int(rate * window_s)
    mono = samples.mean(axis=1)
    m = len(mono) // n
    return np.sqrt((mono[: m * n].reshape(m, n) ** 2).mean(axis=1))


@pytest.fixture(scope="module")
def soundfont():
    path = find_soundfont()
    assert path is not None, "the test machine needs a GM soundfont (scripts/setup.sh installs timgm6mb-soundfont)"
    return path


def test_example_clip_renders_with_the_expected_length_and_level(resources_dir, tmp_path, artifacts_dir):
    project = load_document(resources_dir / "examples" / "c_major_melody.mid")
    out = artifacts_dir / "c_major_melody.wav"  # kept for a person to listen to
    result = render_to_wav(project, out)
    samples, rate = read_wav(out)
    assert rate == RATE
    assert len(samples) == result.frames == round((project.duration_seconds + DEFAULT_TAIL_S) * RATE)
    rms_dbfs = 20 * np.log10(np.sqrt((samples**2).mean()))
    assert rms_dbfs > AUDIBLE_RMS_DBFS
    assert result.rms_dbfs == pytest.approx(rms_dbfs, abs=0.01)
    assert -40 < result.peak_dbfs < -0.1  # audible, not clipping
    assert result.realtime_factor > 1  # faster than real time (the benchmark measures how much)


def test_silent_project_renders_silence(tmp_path):
    result = render_to_wav(Project(), tmp_path / "silence.wav", tail_s=0.5)
    samples, _ = read_wav(tmp_path / "silence.wav")
    assert len(samples) == RATE // 2
    assert not samples.any()
    assert result.peak_dbfs == float("-inf")
    # Muted tracks are silence too (FluidSynth's reverb leaves ~1e-8 of DC: zero in 16 bits).
    muted = Project(tracks=(Track(notes=[Note(0, 60, 480)], mute=True),))
    render_to_wav(muted, tmp_path / "muted.wav", tail_s=0.1)
    samples, _ = read_wav(tmp_path / "muted.wav")
    assert len(samples) == round(0.6 * RATE)
    assert not samples.any()


def test_a_single_a4_sounds_at_440_hz():
    project = Project(tracks=(Track(program=0, notes=[Note(0, 69, 960, velocity=110)]),))  # 1 s at 120 BPM
    samples, _ = render_samples(project, tail_s=0.0)
    mono = samples[int(0.1 * RATE) : int(0.9 * RATE)].mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    freqs = np.fft.rfftfreq(len(mono), 1 / RATE)
    assert freqs[np.argmax(spectrum)] == pytest.approx(440.0, abs=3.0)


def test_every_note_of_an_example_sounds_at_its_pitch(resources_dir):
    """The strongest partial in each note's window is the note's pitch or its octave (a piano's 2nd
    harmonic often outweighs the fundamental in the low register), in tune within 30 cents."""
    project = load_document(resources_dir / "examples" / "c_major_melody.mid")
    samples, _ = render_samples(project)
    mono = samples.mean(axis=1)
    tempo = project.tempo_map
    heard = []
    for note in project.tracks[0].notes:
        start_s, end_s = tempo.tick_to_seconds(note.start_tick), tempo.tick_to_seconds(note.end_tick)
        a, b = int((start_s + 0.03) * RATE), int(min(end_s, start_s + 0.3) * RATE)
        window = np.pad(mono[a:b] * np.hanning(b - a), (0, max(0, 16384 - (b - a))))
        spectrum = np.abs(np.fft.rfft(window))
        freqs = np.fft.rfftfreq(len(window), 1 / RATE)
        spectrum[freqs < 50] = 0
        heard.append(69 + 12 * np.log2(freqs[np.argmax(spectrum)] / 440.0))
    pitches = [n.pitch for n in project.tracks[0].notes]
    assert len(pitches) == 32
    for pitch, midi in zip(pitches, heard, strict=True):
        assert round(midi) - pitch in (0, 12), (pitch, midi)
        assert abs(midi - round(midi)) < 0.3, (pitch, midi)


def test_notes_sound_where_the_tempo_map_puts_them():
    # Note 1 at beat 0 (120 BPM); the tempo halves at beat 2 (60 BPM); note 2 at beat 3 = 1 s + 1 s.
    tempo = TempoMap([TempoChange(0, 500_000), TempoChange(960, 1_000_000)])
    project = Project(
        tracks=(Track(notes=[Note(0, 72, 240), Note(1440, 72, 240)]),), tempo_map=tempo
    )
    samples, _ = render_samples(project, tail_s=0.3)
    env = envelope(samples, RATE)
    loud = np.concatenate([[False], env > env.max() * 0.1])
    onsets_s = np.flatnonzero(loud[1:] & ~loud[:-1]) * 0.01
    assert list(onsets_s) == pytest.approx([0.0, 2.0], abs=0.015)


def test_matches_fluidsynths_own_rendering_of_the_same_file(resources_dir, tmp_path, soundfont):
    """A second renderer (the fluidsynth program) reading the .mid itself: same notes, programs, tempos."""
    program = shutil.which("fluidsynth")
    assert program, "the fluidsynth program is part of the test tools (scripts/setup.sh --test)"
    clip = resources_dir / "examples" / "two_track_waltz.mid"
    ours = tmp_path / "ours.wav"
    theirs = tmp_path / "theirs.wav"
    render_to_wav(load_document(clip), ours, soundfont=soundfont)
    subprocess.run(
        [program, "-ni", "-g", str(DEFAULT_GAIN), "-r", str(RATE), "-F", str(theirs), str(soundfont), str(clip)],
        check=True, capture_output=True, timeout=60,
    )
    a, _ = read_wav(ours)
    b, _ = read_wav(theirs)
    ea, eb = envelope(a, RATE, 0.02), envelope(b, RATE, 0.02)
    n = min(len(ea), len(eb))
    assert np.corrcoef(ea[:n], eb[:n])[0, 1] > 0.95
    rms = lambda x: 20 * np.log10(np.sqrt((x**2).mean()))  # noqa: E731
    assert rms(a) == pytest.approx(rms(b), abs=2.0)


def test_program_changes_change_the_sound():
    def render(program):
        project = Project(tracks=(Track(program=program, notes=[Note(0, 60, 480)]),))
        return render_samples(project, tail_s=0.1)[0]

    piano, organ = render(0), render(19)
    assert not np.allclose(piano, organ)


def test_missing_soundfont_and_missing_library(tmp_path, monkeypatch):
    with pytest.raises(SoundfontError, match="soundfont not found"):
        render_to_wav(Project(), tmp_path / "x.wav", soundfont=tmp_path / "none.sf2")
    assert not (tmp_path / "x.wav").exists()
    monkeypatch.setattr(fluid, "system_soundfont_paths", lambda: [])
    monkeypatch.delenv(fluid.SOUNDFONT_ENV_VAR, raising=False)
    with pytest.raises(FluidSynthUnavailableError, match="no General MIDI soundfont found"):
        render_to_wav(Project(), tmp_path / "x.wav")


def test_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="sample_rate_hz must be in range 8000..192000"):
        render_samples(Project(), sample_rate_hz=100)
    with pytest.raises(TypeError, match="sample_rate_hz must be an int"):
        render_samples(Project(), sample_rate_hz=44100.0)
