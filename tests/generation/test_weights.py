"""Shipped weights: safetensors only (no pickle), config inside, fast load, clear errors."""

import json
import pickle
import time

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
