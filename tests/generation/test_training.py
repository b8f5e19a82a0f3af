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
