"""Training the VAE end to end on a tiny folder: segments, a few steps, checkpoint, resume, weights."""

from __future__ import annotations

import json

import numpy as np

from composer_app.core.midifile import save_clip
from composer_app.core.note import Note
from composer_app.generation import registry, training_vae
from composer_app.generation.vae import VAEConfig, VAEGenerator

TPQ = 480


def _folder(tmp_path):
    folder = tmp_path / "midi"
    folder.mkdir()
    for k in range(12):
        notes = [Note(i * TPQ // 2, 60 + (k + (0, 2, 4, 5, 7, 5, 4, 2)[i % 8]) % 24, TPQ // 2, 90) for i in range(64)]
        save_clip(notes, folder / f"tune-{k}.mid", ticks_per_quarter=TPQ)
    return folder


def test_train_a_few_steps_resume_and_load(tmp_path):
    settings = training_vae.VAETrainSettings(
        data=str(_folder(tmp_path)), max_steps=3, minutes=5, out=tmp_path / "vae.safetensors",
        checkpoint_dir=tmp_path / "ckpt", segment_cache=None, batch_size=8,
        config=VAEConfig(embed_dim=8, encoder_hidden=16, latent_dim=6, decoder_hidden=16),
    )
    facts = training_vae.train(settings, log=lambda _: None)
    assert facts["steps"] == 3 and facts["train_segments"] > 0
    assert (tmp_path / "ckpt" / "vae.ckpt").exists()
    settings.max_steps = 5
    assert training_vae.train(settings, log=lambda _: None)["steps"] == 5  # resumed from step 3
    generator = registry.load_weights(tmp_path / "vae.safetensors")
    assert isinstance(generator, VAEGenerator)
    calibration = json.loads(registry.read_metadata(tmp_path / "vae.safetensors")["calibration"])
    z = calibration["faders"]["note_density"]["z"]
    assert len(z) > 1 and np.all(np.diff(calibration["faders"]["note_density"]["attribute"]) >= 0)
