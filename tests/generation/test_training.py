"""Training: a tiny run, resume, fine-tuning with --init, and DDP with 2 processes under torchrun."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from composer_app.cli import main
from composer_app.generation.registry import load_weights, read_metadata

TINY = ["--layers", "1", "--d-model", "32", "--heads", "2", "--block-size", "64", "--batch-size", "2", "--eval-windows", "2", "--quiet"]


def test_tiny_training_run_resume_and_fine_tune(midi_folder, tmp_path, capsys):
    out = tmp_path / "tiny.safetensors"
    assert main(["train", "--data", str(midi_folder), "--max-steps", "3", "--eval-every", "2", "--out", str(out), *TINY]) == 0
    facts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert facts["steps"] == 3 and facts["parameters"] > 0
    assert out.exists() and out.with_suffix(".ckpt").exists()
    meta = read_metadata(out)
    assert meta["kind"] == "transformer" and json.loads(meta["training"])["steps"] == 3
    # resume continues the step count from the checkpoint
    assert main(["train", "--data", str(midi_folder), "--max-steps", "2", "--eval-every", "100", "--out", str(out), *TINY]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["steps"] == 5
    # fine-tuning starts from given weights (their config wins)
    tuned = tmp_path / "tuned.safetensors"
    assert main(["train", "--data", str(midi_folder), "--init", str(out), "--max-steps", "1", "--out", str(tuned), *TINY]) == 0
    assert load_weights(tuned).config.d_model == 32
    assert json.loads(read_metadata(tuned)["training"])["init"] == str(out)


def test_bad_training_input_is_refused(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nope")]) == 2
    assert main(["train", "--collections", "oneills1850"]) == 2
    assert "reserved" in capsys.readouterr().err


@pytest.mark.slow
def test_ddp_two_processes_under_torchrun(midi_folder, tmp_path):
    out = tmp_path / "ddp.safetensors"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "composer_app", "train", "--data", str(midi_folder), "--max-steps", "2", "--eval-every", "100",
        "--out", str(out), *TINY,
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, cwd=Path(__file__).parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    facts = json.loads(read_metadata(out)["training"])
    assert facts["processes"] == 2 and facts["steps"] == 2


def test_train_model_picks_the_generator_class(midi_folder, tmp_path, capsys):
    out = tmp_path / "lstm.safetensors"
    args = ["--layers", "1", "--d-model", "32", "--block-size", "64", "--batch-size", "2", "--eval-windows", "2", "--quiet"]
    assert main(["train", "--model", "lstm", "--data", str(midi_folder), "--max-steps", "2", "--out", str(out), *args]) == 0
    facts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert facts["steps"] == 2
    generator = load_weights(out)
    assert type(generator).__name__ == "LstmGenerator" and generator.config.d_model == 32
    assert main(["train", "--model", "nope", "--data", str(midi_folder)]) == 2
    assert "unknown generator 'nope'" in capsys.readouterr().err
    assert main(["train", "--model", "lstm", "--heads", "2", "--data", str(midi_folder)]) == 2
    assert "no config field 'n_head'" in capsys.readouterr().err


def test_phrase_embedding_counts_bars_from_each_bos_and_matches_the_cache():
    import torch

    from composer_app.generation import tokenizer as tk

    from composer_app.generation.transformer import MusicTransformer, TransformerConfig

    torch.manual_seed(0)
    model = MusicTransformer(TransformerConfig(n_layer=1, d_model=32, n_head=2, block_size=64, dropout=0.0, phrase_bars=4)).eval()
    bos, eos, bar = tk.BOS, tk.EOS, tk.BAR
    p = tk.PITCH_BASE
    idx = torch.tensor([[bos, bar, p, bar, p, bar, p, bar, p, bar, p, eos, bos, bar, p, bar, p]])
    assert model.bar_in_phrase(idx).tolist() == [[0, 0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 0, 0, 0, 0, 1, 1]]
    full = model(idx)
    cache = model.new_cache(1, 64)
    chunks = [model(idx[:, :6], cache)] + [model(idx[:, t : t + 1], cache) for t in range(6, idx.shape[1])]
    assert torch.allclose(full, torch.cat(chunks, dim=1), atol=1e-5)
    # The embedding matters: another bar count gives other logits.
    shifted = model(torch.tensor([[bos, bar, p, bar, bar, p]]))[0, -1]
    assert not torch.allclose(shifted, model(torch.tensor([[bos, bar, p, bar, p]]))[0, -1])


def test_packed_windows_start_on_phrase_bars_and_hold_no_padding(midi_folder):
    from composer_app.generation import data
    from composer_app.generation import tokenizer as tk
    from composer_app.generation.dataset import WindowSampler, tokenize_pieces

    items = tokenize_pieces(data.load_midi_folder(midi_folder))
    sampler = WindowSampler(items, 512, seed=1, transpose=False, phrase_bars=4, pack=True)
    starts = {tuple(item.tokens[b : b + 8]) for item in items for b in item.bar_index[::4]}
    starts |= {tuple(item.tokens[:8]) for item in items}
    for _ in range(20):
        window = sampler.window()
        assert (window != tk.PAD).all()
        assert tuple(window[:8]) in starts  # a piece's start or a bar 0, 4, 8, ... of it
    unpacked = WindowSampler(items, 512, seed=1, transpose=False)
    assert (unpacked.window() == tk.PAD).any()  # a short piece alone leaves padding
