"""Generators by name: their class, their shipped weights and their model card.

One ``register(GeneratorInfo(...))`` line per generator. The class is named by a dotted path and
imported on first use (as mido picks backends by name), so listing the generators imports no torch.
Loading reads a ``.safetensors`` file (never a pickle) whose metadata holds ``kind`` and ``config``;
the class registered for that kind rebuilds the generator (``Generator.from_state``).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

from composer_app.paths import models_dir

MODELS_DIR = models_dir()  # the shipped models/ folder ($COMPOSER_APP_MODELS, a bundle, or the source tree)
DEFAULT_GENERATOR = "transformer"


class WeightsError(Exception):
    """Weights are missing, unreadable or do not fit their model; the message says which file."""


@dataclass(frozen=True)
class GeneratorInfo:
    name: str  # what the GUI and the CLI call it
    weights_file: str  # file name under models/
    class_path: str  # "package.module:Class", a Generator subclass, imported on first use
    description: str = ""  # one line, used until the model card has a "summary"
    kind: str = ""  # the "kind" in its weights' metadata (default: the name)

    @property
    def weights_kind(self) -> str:
        return self.kind or self.name

    def generator_class(self):
        module, _, attribute = self.class_path.partition(":")
        return getattr(importlib.import_module(module), attribute)


_REGISTRY: dict[str, GeneratorInfo] = {}


def register(info: GeneratorInfo) -> None:
    _REGISTRY[info.name] = info


register(GeneratorInfo(
    "transformer", "transformer.safetensors", "composer_app.generation.transformer:TransformerGenerator",
    "decoder-only Transformer over the shared tokens (the default continuation model)",
))
register(GeneratorInfo(
    "lstm", "lstm.safetensors", "composer_app.generation.lstm:LstmGenerator",
    "2-layer LSTM over the shared tokens with the same per-bar mood controls",
))
register(GeneratorInfo(
    "vae", "vae.safetensors", "composer_app.generation.vae:VAEGenerator",
    "MusicVAE-style melody VAE over 2-bar groups: variations and interpolations, with mood faders",
))
register(GeneratorInfo(
    "gan", "gan.safetensors", "composer_app.generation.gan:GanGenerator",
    "convolutional conditional GAN (MidiNet-style): one bar of piano roll at a time",
))
register(GeneratorInfo(
    "harmonizer", "harmonizer.safetensors", "composer_app.generation.harmonizer:HarmonizerGenerator",
    "chorale harmonizer (Coconet-style masked Transformer, Gibbs sampling): alto, tenor, bass under a melody",
))


def names(shipped_only: bool = False, capability: str | None = None) -> list[str]:
    """Registered generators, the default first, those with shipped weights before the others (then in
    registration order).

    ``capability`` ("continue", "harmonize", …) keeps only the generators that have it (this
    imports their model files, so torch).
    """
    shipped = [n for n in _REGISTRY if weights_path(n).exists()]
    pool = shipped if shipped_only else list(_REGISTRY)
    if capability is not None:
        pool = [n for n in pool if capability in capabilities(n)]
    order = list(_REGISTRY)
    return sorted(pool, key=lambda n: (n not in shipped, n != DEFAULT_GENERATOR, order.index(n)))


def info(name: str) -> GeneratorInfo:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown generator {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def generator_class(name: str):
    """The Generator subclass registered under ``name`` (imports its model file)."""
    return info(name).generator_class()


def weights_path(name: str, models_dir: Path | None = None) -> Path:
    return Path(models_dir or MODELS_DIR) / info(name).weights_file


def card(name: str, models_dir: Path | None = None) -> dict:
    """The model card's JSON (models/NAME.json), or {} when there is none."""
    path = weights_path(name, models_dir).with_suffix(".json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def describe(name: str, models_dir: Path | None = None) -> str:
    """One line for the GUI: the model card's ``summary``, else the registration's description."""
    return str(card(name, models_dir).get("summary") or info(name).description)


def capabilities(name: str) -> frozenset[str]:
    return frozenset(generator_class(name).capabilities)


def read_metadata(path: Path) -> dict:
    """The string metadata of a .safetensors file (kind, config, training facts)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return dict(handle.metadata() or {})


def load_weights(path: Path):
    """A Generator rebuilt from a .safetensors file (eval mode); ``WeightsError`` says what is wrong."""
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
    match = next((i for i in _REGISTRY.values() if i.weights_kind == kind), None)
    if match is None:
        raise WeightsError(f"weights {path} are of unknown kind {kind!r}")
    try:
        generator = match.generator_class().from_state(metadata, state)
    except Exception as error:
        raise WeightsError(f"weights {path} do not fit their model: {error}") from None
    generator.metadata = {k: _maybe_json(v) for k, v in metadata.items()}
    generator.name = match.name
    return generator


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
    generator = load_weights(path)
    generator.name = name
    if cached:
        _CACHE[path] = generator
    return generator
