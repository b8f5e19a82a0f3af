"""Generators by name: where their shipped weights are and how to load them.

Every generator reads and writes the shared tokens (``tokenizer``) and offers the sampling
interface of ``sampling.generate`` (``new_cache(batch, capacity)`` and ``step(tokens, cache)``).
Loading reads a ``.safetensors`` file (never a pickle) whose metadata holds the model kind and config.
New generators (``lstm``, ``vae``, ``gan``) register a loader here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from composer_app.paths import models_dir

MODELS_DIR = models_dir()  # the shipped models/ folder ($COMPOSER_APP_MODELS, a bundle, or the source tree)
DEFAULT_GENERATOR = "transformer"


class WeightsError(Exception):
    """Weights are missing, unreadable or do not fit their model; the message says which file."""


@dataclass(frozen=True)
class GeneratorInfo:
    name: str  # what the GUI and the CLI call it
    weights_file: str  # file name under models/
    loader: Callable[[dict, dict], object]  # (config+metadata, state dict) -> model in eval mode
    description: str = ""


def _load_transformer(metadata: dict, state: dict):
    from composer_app.generation.transformer import TransformerConfig, model_from_state

    config = TransformerConfig.from_json(metadata["config"])
    return model_from_state(config, state)


_REGISTRY: dict[str, GeneratorInfo] = {}


def register(info: GeneratorInfo) -> None:
    _REGISTRY[info.name] = info


register(GeneratorInfo("transformer", "transformer.safetensors", _load_transformer, "decoder-only Transformer (default)"))


def names() -> list[str]:
    """Registered generators whose weights are shipped (plus the registered ones without, last)."""
    return sorted(_REGISTRY, key=lambda n: (not weights_path(n).exists(), n != DEFAULT_GENERATOR, n))


def info(name: str) -> GeneratorInfo:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown generator {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def weights_path(name: str, models_dir: Path | None = None) -> Path:
    return Path(models_dir or MODELS_DIR) / info(name).weights_file


def read_metadata(path: Path) -> dict:
    """The string metadata of a .safetensors file (kind, config, training facts)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return dict(handle.metadata() or {})


_LOADERS_BY_KIND = {"transformer": "transformer"}


def load_weights(path: Path):
    """Build a model (eval mode) from a .safetensors file; ``WeightsError`` says what is wrong."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.exists():
        raise WeightsError(f"weights not found: {path} (train them with 'composer-app train')")
    try:
        metadata = read_metadata(path)
        state = load_file(str(path))
    except Exception as error:  # safetensors raises its own error types for truncated/garbled files
        raise WeightsError(f"cannot read weights {path}: {type(error).__name__}: {error}") from None
    kind = metadata.get("kind")
    loader_name = _LOADERS_BY_KIND.get(kind, kind)
    if loader_name not in _REGISTRY:
        raise WeightsError(f"weights {path} are of unknown kind {kind!r}")
    try:
        model = _REGISTRY[loader_name].loader(metadata, state)
    except Exception as error:
        raise WeightsError(f"weights {path} do not fit their model: {error}") from None
    model.eval()
    model.metadata = {k: _maybe_json(v) for k, v in metadata.items()}
    return model


def _maybe_json(text: str):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


_CACHE: dict[Path, object] = {}


def load_generator(name: str = DEFAULT_GENERATOR, models_dir: Path | None = None, *, cached: bool = True):
    """The named generator with its shipped weights (loaded once per process when ``cached``)."""
    path = weights_path(name, models_dir)
    if cached and path in _CACHE:
        return _CACHE[path]
    model = load_weights(path)
    model.generator_name = name
    if cached:
        _CACHE[path] = model
    return model
