"""Offline render: Project -> WAV through FluidSynth, faster than real time, no audio device needed.

The events are the same ones live playback sends (``schedule.project_events``: same programs,
same tempo map); the synthesizer renders the samples between consecutive events, in blocks of
at most ``BLOCK_FRAMES`` that go to the WAV file as they come, so memory does not grow with the
length of the music. A render is limited to ``core.limits.MAX_RENDER_SECONDS`` of audio
(``RenderTooLongError``, checked before anything is synthesized).
"""

from __future__ import annotations

import io
import os
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from composer_app.core.fileio import atomic_writer, write_bytes_atomically
from composer_app.core.limits import MAX_RENDER_SECONDS
from composer_app.core.project import Project
from composer_app.errors import BadInputError
from composer_app.playback.fluid import DEFAULT_GAIN, DEFAULT_SAMPLE_RATE_HZ, Synthesizer, resolve_soundfont
from composer_app.playback.schedule import project_events
from composer_app.playback.sink import CC_ALL_SOUND_OFF, panic_messages

DEFAULT_TAIL_S = 1.0  # rendered after the last note-off so releases and reverb die away
INT16_MAX = 32767
BLOCK_FRAMES = 65_536  # frames synthesized and written at a time (512 KB of float32 stereo)


class RenderTooLongError(BadInputError):
    """The music is longer than a render may be (``MAX_RENDER_SECONDS``)."""


def check_render_length(project: Project, tail_s: float = DEFAULT_TAIL_S) -> float:
    """The seconds of audio a render of ``project`` writes; ``RenderTooLongError`` beyond the limit."""
    seconds = project.duration_seconds + tail_s
    if seconds > MAX_RENDER_SECONDS:
        raise RenderTooLongError(
            f"the music lasts {_clock(seconds)}; a render is limited to {_clock(MAX_RENDER_SECONDS)}"
        )
    return seconds


def _clock(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d} (h:mm:ss)"


@dataclass(frozen=True, slots=True)
class RenderResult:
    """What ``render_to_wav`` wrote and how long it took."""

    path: Path
    soundfont: Path
    sample_rate_hz: int
    frames: int
    duration_s: float  # length of the audio written
    peak_dbfs: float  # loudest sample (-inf for silence)
    rms_dbfs: float  # average level over the whole file (-inf for silence)
    load_s: float  # wall-clock seconds loading the soundfont took (once per render)
    render_s: float  # wall-clock seconds synthesizing and writing took
    realtime_factor: float  # audio seconds per second of render_s (100.0 = 100x real time)


def _dbfs(value: float) -> float:
    return 20.0 * float(np.log10(value)) if value > 0 else float("-inf")


def render_samples(
    project: Project,
    soundfont: str | os.PathLike | None = None,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    tail_s: float = DEFAULT_TAIL_S,
    gain: float = DEFAULT_GAIN,
) -> tuple[np.ndarray, Path]:
    """Render to a float32 array of shape (frames, 2), full scale 1.0; returns it with the soundfont used.

    Length: the project's duration (to the end of its last note) plus ``tail_s``.
    Raises ``FluidSynthUnavailableError`` (no library, no soundfont found) or ``SoundfontError``.
    """
    synth = _new_synth(soundfont, sample_rate_hz, tail_s, gain)
    try:
        return _synthesize(project, synth, tail_s), synth.soundfont
    finally:
        synth.delete()


def _new_synth(soundfont, sample_rate_hz: int, tail_s: float, gain: float) -> Synthesizer:
    if not isinstance(sample_rate_hz, int) or isinstance(sample_rate_hz, bool):
        raise TypeError("sample_rate_hz must be an int")
    if not 8000 <= sample_rate_hz <= 192000:
        raise ValueError("sample_rate_hz must be in range 8000..192000")
    if tail_s < 0:
        raise ValueError("tail_s must be >= 0")
    return Synthesizer(resolve_soundfont(soundfont), sample_rate_hz, gain)


def _blocks(project: Project, synth: Synthesizer, tail_s: float):
    """The rendered audio as float32 (frames, 2) blocks of at most ``BLOCK_FRAMES``, in order."""
    rate = synth.sample_rate_hz
    total_frames = round(check_render_length(project, tail_s) * rate)
    frame = 0

    def render_to(end_frame: int):
        nonlocal frame
        while frame < end_frame:
            count = min(BLOCK_FRAMES, end_frame - frame)
            yield synth.samples(count)
            frame += count

    for event in project_events(project):
        yield from render_to(min(round(event.seconds * rate), total_frames))
        synth.dispatch(event.message)
    for msg in panic_messages():  # nothing may sound past the end...
        if msg.control != CC_ALL_SOUND_OFF:  # ...but releases ring on into the tail
            synth.dispatch(msg)
    yield from render_to(total_frames)


def _synthesize(project: Project, synth: Synthesizer, tail_s: float) -> np.ndarray:
    blocks = list(_blocks(project, synth, tail_s))
    return np.concatenate(blocks) if blocks else np.zeros((0, 2), dtype=np.float32)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples (full scale 1.0) -> int16, rounded and clipped."""
    scaled = np.multiply(samples, INT16_MAX, dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -INT16_MAX - 1, INT16_MAX, out=scaled)
    return scaled.astype(np.int16)


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate_hz: int) -> None:
    """Write stereo samples (float, full scale 1.0) as a 16-bit PCM WAV, atomically."""
    samples = to_int16(samples)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(samples.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(sample_rate_hz)
        wav.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    write_bytes_atomically(path, buffer.getvalue())


def render_to_wav(
    project: Project,
    path: str | os.PathLike,
    soundfont: str | os.PathLike | None = None,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    tail_s: float = DEFAULT_TAIL_S,
) -> RenderResult:
    """Render ``project`` to a 16-bit stereo WAV at ``path`` through FluidSynth; see ``render_samples``.

    The file is written block by block (memory stays flat however long the music is) and
    replaces ``path`` atomically at the end. Raises ``RenderTooLongError`` beyond ``MAX_RENDER_SECONDS``.
    """
    check_render_length(project, tail_s)  # before the soundfont is even loaded
    started = time.perf_counter()
    synth = _new_synth(soundfont, sample_rate_hz, tail_s, DEFAULT_GAIN)
    loaded = time.perf_counter()
    frames = 0
    peak = 0.0
    sum_of_squares = 0.0
    try:
        with atomic_writer(path) as stream, wave.open(stream, "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate_hz)
            for block in _blocks(project, synth, tail_s):
                as_int16 = to_int16(block)
                wav.writeframes(np.ascontiguousarray(as_int16, dtype="<i2").tobytes())
                as_written = as_int16.astype(np.float64) / (INT16_MAX + 1)
                frames += block.shape[0]
                if block.shape[0]:
                    peak = max(peak, float(np.abs(as_written).max()))
                    sum_of_squares += float(np.square(as_written).sum())
    finally:
        synth.delete()
    finished = time.perf_counter()
    duration_s = frames / sample_rate_hz
    rms = float(np.sqrt(sum_of_squares / (2 * frames))) if frames else 0.0
    render_s = finished - loaded
    return RenderResult(
        path=Path(path),
        soundfont=synth.soundfont,
        sample_rate_hz=sample_rate_hz,
        frames=frames,
        duration_s=duration_s,
        peak_dbfs=_dbfs(peak),
        rms_dbfs=_dbfs(rms),
        load_s=loaded - started,
        render_s=render_s,
        realtime_factor=duration_s / render_s if render_s > 0 else float("inf"),
    )
