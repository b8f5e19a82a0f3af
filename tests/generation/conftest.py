"""Fixtures for the generation tests: a tiny random model and a small folder of .mid files."""

from __future__ import annotations

from pathlib import Path

import pytest

import torch  # noqa: E402,F401

from composer_app.core.midifile import save_clip  # noqa: E402
from composer_app.core.note import Note  # noqa: E402
from composer_app.core.timing import TimeSignatureChange, TimeSignatureMap  # noqa: E402
from composer_app.generation.transformer import MusicTransformer, TransformerConfig, save_transformer  # noqa: E402

TPQ = 480
TINY_CONFIG = dict(n_layer=1, d_model=32, n_head=2, block_size=64, dropout=0.0)


def melody(tonic: int = 60, bars: int = 8, minor: bool = False, numerator: int = 4, eighths: bool = True) -> list[Note]:
    """A scale-wise tune in a key: quarter or eighth notes, with a chord on every downbeat."""
    steps = (0, 2, 3, 5, 7, 8, 10) if minor else (0, 2, 4, 5, 7, 9, 11)
    step_ticks = TPQ // 2 if eighths else TPQ
    per_bar = numerator * TPQ // step_ticks
    notes = []
    for i in range(bars * per_bar):
        degree = [0, 1, 2, 3, 4, 3, 2, 1, 0, 2, 4, 6, 5, 4, 2, 1][i % 16]
        pitch = tonic + 12 + steps[degree % 7]
        notes.append(Note(i * step_ticks, pitch, step_ticks, 90))
        if i % per_bar == 0:
            notes.append(Note(i * step_ticks, tonic, numerator * TPQ, 70))
            notes.append(Note(i * step_ticks, tonic + (3 if minor else 4), numerator * TPQ, 70))
    return notes


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    model = MusicTransformer(TransformerConfig(**TINY_CONFIG))
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_transformer(model, path, {"training": {"note": "random weights for tests"}})
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_weights):
    from composer_app.generation.registry import load_weights

    return load_weights(tiny_weights)


@pytest.fixture(scope="session")
def midi_folder(tmp_path_factory) -> Path:
    """Twelve short .mid files in several keys, modes and meters."""
    folder = tmp_path_factory.mktemp("midi")
    for i, tonic in enumerate((55, 57, 60, 62, 64, 65)):
        for minor in (False, True):
            numerator = 3 if (i + minor) % 3 == 0 else 4
            ts = TimeSignatureMap([TimeSignatureChange(0, numerator, 4)], TPQ)
            save_clip(melody(tonic, 8, minor, numerator), folder / f"tune-{tonic}-{int(minor)}.mid", ticks_per_quarter=TPQ, time_signatures=ts)
    return folder
