"""Training the VAE end to end on a tiny folder: segments, a few steps, checkpoint, resume, weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

from composer_app.core.midifile import save_clip
from composer_app.core.note import Note
from composer_app.generation import melody, registry, training_vae
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


def test_parallel_mode_pairs_teach_the_decoder_through_the_mode_fader():
    import torch

    from composer_app.generation.vae import MelodyVAE

    torch.manual_seed(0)
    scale = melody.notes_to_tokens(range(0, 32, 4), [4] * 8, [60, 62, 64, 65, 67, 69, 71, 72])
    tokens = np.stack([scale, melody.transpose_tokens(scale, 2), melody.notes_to_tokens([0, 8, 16, 24], [8] * 4, [60, 67, 60, 67])])
    pairs = training_vae.build_mode_pairs(tokens)
    assert list(pairs["index"]) == [0, 1]  # the bare fifths have no mode to change
    assert (pairs["attributes"][:, 1] < 0).all()  # the partners read minor
    model = MelodyVAE(VAEConfig(embed_dim=8, encoder_hidden=16, latent_dim=6, decoder_hidden=16))
    batch = torch.from_numpy(tokens.astype(np.int64))
    attributes = torch.from_numpy(melody.attribute_matrix(tokens))
    shift = torch.tensor([0, 1, 0])
    moved, moved_attributes, index = training_vae.with_mode_pairs(
        batch, attributes, shift, torch.from_numpy(pairs["tokens"].astype(np.int64)), torch.from_numpy(pairs["attributes"]),
        torch.tensor([0, 1]),
    )
    assert moved.shape == (5, 32) and index.tolist() == [[0, 3], [1, 4]]
    assert (moved[4] == torch.from_numpy(melody.transpose_tokens(pairs["tokens"][1].astype(np.int64), 1))).all()  # the row's shift
    assert moved_attributes[4, 2] == pytest.approx(float(pairs["attributes"][1, 2]) + 1)  # register moved with it
    terms = model.loss(moved, moved_attributes, index, swap_dim=1)
    assert terms["swap"] > 0 and terms["pair_order"] > 0 and terms["pair_invariance"] > 0
    (terms["swap"] + terms["pair_order"] + terms["pair_invariance"]).backward()
    assert model.decoder.lstm.weight_ih_l0.grad.abs().sum() > 0
    assert model.encoder.to_stats.weight.grad[1].abs().sum() > 0  # the mode fader's row of the encoder moves
    assert model.loss(batch, attributes)["swap"] == 0  # no pairs, no term


def test_measuring_leaves_an_evaluated_model_in_eval_mode():
    from composer_app.generation.vae import MelodyVAE

    model = MelodyVAE(VAEConfig(embed_dim=8, encoder_hidden=16, latent_dim=6, decoder_hidden=16)).eval()
    tokens = np.stack([melody.notes_to_tokens([0, 8, 16, 24], [8] * 4, [60, 64, 67, p]) for p in (64, 72)])
    training_vae.reconstruction(model, tokens)
    training_vae.kl_statistics(model, tokens)
    training_vae.calibrate(model, tokens, melody.attribute_matrix(tokens))
    assert not model.training  # a bench measuring after these must not decode with dropout on
    model.train()
    training_vae.reconstruction(model, tokens)
    assert model.training  # and a training run continues training
