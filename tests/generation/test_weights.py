"""Shipped weights: safetensors only (no pickle), config inside, fast load, clear errors."""

import json
import pickle
import time
from pathlib import Path

import pytest

from composer_app.generation import registry
from composer_app.generation.registry import WeightsError, load_weights

SHIPPED = registry.weights_path("transformer")


def test_shipped_weights_load_without_unpickling(monkeypatch):
    assert SHIPPED.exists(), "models/transformer.safetensors must be shipped"
    assert SHIPPED.stat().st_size < 10_000_000

    def refuse(*args, **kwargs):
        raise AssertionError("loading weights must not unpickle")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    import torch

    monkeypatch.setattr(torch, "load", refuse)
    started = time.perf_counter()
    model = load_weights(SHIPPED)
    assert time.perf_counter() - started < 3.0  # ~0.1 s measured; generous for a busy CI machine
    assert model.config.vocab_size > 0
    assert model.metadata["kind"] == "transformer"
    assert "heldout_loss_per_token" in model.metadata["training"]


def test_model_card_beside_the_weights():
    card = json.loads(SHIPPED.with_name("transformer.json").read_text())
    assert card["weights"] == SHIPPED.name
    for key in ("config", "training", "license_note"):
        assert key in card
    assert SHIPPED.with_name("transformer.md").exists()


def test_broken_weights_raise_a_clear_error(tmp_path, tiny_weights):
    garbage = tmp_path / "broken.safetensors"
    garbage.write_bytes(b"\x00\x01 not a safetensors file")
    with pytest.raises(WeightsError, match="cannot read weights"):
        load_weights(garbage)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(tiny_weights.read_bytes()[:-100])
    with pytest.raises(WeightsError, match="cannot read weights"):
        load_weights(truncated)
    with pytest.raises(WeightsError, match="weights not found"):
        load_weights(tmp_path / "missing.safetensors")


def test_weights_that_do_not_fit_their_config(tmp_path, tiny_weights):
    from safetensors.torch import load_file, save_file

    state = load_file(str(tiny_weights))
    meta = registry.read_metadata(tiny_weights)
    config = json.loads(meta["config"])
    config["d_model"] = 64
    meta["config"] = json.dumps(config)
    bad = tmp_path / "mismatch.safetensors"
    save_file(state, str(bad), metadata=meta)
    with pytest.raises(WeightsError, match="do not fit"):
        load_weights(bad)


def test_unknown_generator_name():
    with pytest.raises(KeyError, match="unknown generator"):
        registry.info("nope")
    assert registry.names()[0] == "transformer"


# -- hostile weights files (issue 9) -------------------------------------------------------------


def _rewritten(tmp_path, source, name, *, config_changes=None, state_change=None):
    from safetensors.torch import load_file, save_file

    state = load_file(str(source))
    meta = registry.read_metadata(source)
    config = json.loads(meta["config"])
    config.update(config_changes or {})
    meta["config"] = json.dumps(config)
    if state_change:
        state_change(state)
    out = tmp_path / name
    save_file(state, str(out), metadata=meta)
    return out


def test_a_fifo_in_place_of_the_weights_is_refused_without_blocking(tmp_path):
    import os
    import subprocess
    import sys

    fifo = tmp_path / "transformer.safetensors"
    os.mkfifo(fifo)
    code = (
        "import sys; from composer_app.generation.registry import load_weights, WeightsError\n"
        f"try: load_weights({str(fifo)!r})\n"
        "except WeightsError as e: print(e)"
    )
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=repo)
    assert result.stdout.strip().endswith("not a regular file"), result.stdout + result.stderr


def test_a_config_claiming_d_model_4096_is_refused_before_the_model_is_built(tmp_path, monkeypatch):
    from composer_app.generation import transformer

    wide = _rewritten(tmp_path, SHIPPED, "wide.safetensors", config_changes={"d_model": 4096, "n_head": 32})

    def build(*args, **kwargs):
        raise AssertionError("the model was built before the shapes were checked")

    monkeypatch.setattr(transformer.MusicTransformer, "__init__", build)
    with pytest.raises(WeightsError, match=r"embed.weight is \[\d+, 192\], the config asks for \[\d+, 4096\]"):
        load_weights(wide)


def test_config_numbers_are_bounded(tmp_path):
    huge = _rewritten(tmp_path, SHIPPED, "huge.safetensors", config_changes={"block_size": 10**9})
    with pytest.raises(WeightsError, match=r"config.block_size = 1000000000 is beyond 65,536"):
        load_weights(huge)


def test_nan_weights_are_refused(tmp_path):
    import torch

    def poison(state):
        state["blocks.1.mlp.0.weight"][3, 5] = float("nan")

    nan = _rewritten(tmp_path, SHIPPED, "nan.safetensors", state_change=poison)
    with pytest.raises(WeightsError, match=r"hold NaN or infinite values \(in blocks.1.mlp.0.weight\)"):
        load_weights(nan)
    assert torch.isnan(torch.tensor(float("nan")))


def test_a_header_claiming_gigabytes_is_refused(tmp_path):
    fake = tmp_path / "fake.safetensors"
    fake.write_bytes((2**40).to_bytes(8, "little") + b"{}")
    with pytest.raises(WeightsError, match="not a safetensors file"):
        load_weights(fake)
