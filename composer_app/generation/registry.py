"""Generators by name: their class, their shipped weights and their model card.

One ``register(GeneratorInfo(...))`` line per generator. The class is named by a dotted path and
imported on first use (as mido picks backends by name), so listing the generators imports no torch.
Loading reads a ``.safetensors`` file (never a pickle) whose metadata holds ``kind`` and ``config``;
the class registered for that kind rebuilds the generator (``Generator.from_state``).
"""

from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from composer_app.errors import BadInputError
from composer_app.paths import models_dir

MODELS_DIR = models_dir()  # the shipped models/ folder ($COMPOSER_APP_MODELS, a bundle, or the source tree)
DEFAULT_GENERATOR = "transformer"


class WeightsError(BadInputError):
    """Weights are unreadable, hostile or do not fit their model; the message says which file (exit 2)."""


class WeightsNotFoundError(WeightsError):
    """No weights file where one should be: an installation problem rather than bad input (exit 1)."""


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
    """A Generator rebuilt from a .safetensors file (eval mode); ``WeightsError`` says what is wrong.

    Nothing is allocated from the file's say-so before it is checked (``core.limits``): the path
    must be a regular file (a FIFO would block the read forever) of at most
    ``MAX_WEIGHTS_FILE_BYTES``; the header is read within ``MAX_WEIGHTS_HEADER_BYTES``; every number
    in the config is at most ``MAX_WEIGHTS_CONFIG_VALUE``; the tensor shapes the config implies
    (``_EXPECTED_SHAPES``, per kind) are compared with the header's before a model is built from
    the config; and the loaded weights must be finite (NaN weights would sample nothing).
    """
    from safetensors.torch import load_file

    path = Path(path)
    header = _read_header(path)
    metadata = {k: v for k, v in (header.get("__metadata__") or {}).items() if isinstance(v, str)}
    kind = metadata.get("kind")
    match = next((i for i in _REGISTRY.values() if i.weights_kind == kind), None)
    if match is None:
        raise WeightsError(f"weights {path} are of unknown kind {kind!r}")
    _check_config_values(path, metadata.get("config"))
    _check_shapes(path, match.weights_kind, metadata, header)
    try:
        state = load_file(str(path))
    except Exception as error:  # safetensors raises its own error types for truncated/garbled files
        raise WeightsError(f"cannot read weights {path}: {type(error).__name__}: {error}") from None
    for name, tensor in state.items():
        # A sum is NaN or infinite when any element is (and is far faster than isfinite on fp16).
        if tensor.is_floating_point() and not math.isfinite(float(tensor.double().sum())):
            raise WeightsError(f"weights {path} hold NaN or infinite values (in {name}); they cannot generate")
    try:
        generator = match.generator_class().from_state(metadata, state)
    except Exception as error:
        raise WeightsError(f"weights {path} do not fit their model: {error}") from None
    generator.metadata = {k: _maybe_json(v) for k, v in metadata.items()}
    generator.name = match.name
    return generator


def _read_header(path: Path) -> dict:
    """The JSON header of a .safetensors file (tensor names, dtypes, shapes, metadata), bounded."""
    import stat

    from composer_app.core.limits import MAX_WEIGHTS_FILE_BYTES, MAX_WEIGHTS_HEADER_BYTES

    try:
        status = path.stat()
    except FileNotFoundError:
        raise WeightsNotFoundError(f"weights not found: {path} (train them with 'composer-app train')") from None
    except OSError as error:
        raise WeightsError(f"cannot read weights {path}: {error.strerror or error}") from None
    if not stat.S_ISREG(status.st_mode):  # a FIFO or a device would block or never end
        raise WeightsError(f"cannot read weights {path}: not a regular file")
    if status.st_size > MAX_WEIGHTS_FILE_BYTES:
        raise WeightsError(
            f"cannot read weights {path}: too large ({status.st_size:,} bytes; the limit is {MAX_WEIGHTS_FILE_BYTES:,})"
        )
    try:
        with open(path, "rb") as stream:
            prefix = stream.read(8)
            length = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
            if not 2 <= length <= min(MAX_WEIGHTS_HEADER_BYTES, status.st_size - 8):
                raise WeightsError(f"cannot read weights {path}: not a safetensors file (header length {length:,})")
            header = json.loads(stream.read(length).decode("utf-8"))
    except WeightsError:
        raise
    except (OSError, ValueError, RecursionError) as error:
        raise WeightsError(f"cannot read weights {path}: not a safetensors file ({type(error).__name__})") from None
    if not isinstance(header, dict):
        raise WeightsError(f"cannot read weights {path}: not a safetensors file")
    return header


def _check_config_values(path: Path, config_text) -> None:
    """Every number in the config (nested too) must be finite and at most ``MAX_WEIGHTS_CONFIG_VALUE``."""
    from composer_app.core.limits import MAX_WEIGHTS_CONFIG_VALUE

    try:
        config = json.loads(config_text) if isinstance(config_text, str) else {}
    except (ValueError, RecursionError):
        raise WeightsError(f"weights {path}: the config in their metadata is not JSON") from None
    stack = [("config", config)]
    while stack:
        name, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{name}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{name}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value) or abs(value) > MAX_WEIGHTS_CONFIG_VALUE:
                raise WeightsError(
                    f"weights {path}: {name} = {value if abs(value) < 1e12 else 'a huge number'} is beyond "
                    f"{MAX_WEIGHTS_CONFIG_VALUE:,}; refusing to build the model"
                )


def _transformer_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """The tensor shapes ``transformer.MusicTransformer`` saves for ``config`` (head.weight is tied)."""
    d, vocab, layers = config["d_model"], config["vocab_size"], config["n_layer"]
    hidden = config.get("mlp_ratio", 4) * d
    if not 1 <= config.get("block_size", 256) <= 8192 or not config.get("n_head", 1) >= 1 or d % config.get("n_head", 1):
        raise ValueError("block_size must be in 1..8192 and n_head must divide d_model")
    shapes = {"embed.weight": (vocab, d), "ln_f.weight": (d,), "ln_f.bias": (d,)}
    for i in range(layers):
        block = f"blocks.{i}."
        shapes.update({
            block + "ln1.weight": (d,), block + "ln1.bias": (d,), block + "ln2.weight": (d,), block + "ln2.bias": (d,),
            block + "attn.qkv.weight": (3 * d, d), block + "attn.qkv.bias": (3 * d,),
            block + "attn.proj.weight": (d, d), block + "attn.proj.bias": (d,),
            block + "mlp.0.weight": (hidden, d), block + "mlp.0.bias": (hidden,),
            block + "mlp.2.weight": (d, hidden), block + "mlp.2.bias": (d,),
        })  # fmt: skip
    return shapes


# kind -> the tensor shapes its config implies, checked against the file's header before a model
# is built from the config (a config claiming d_model 4096 would otherwise allocate gigabytes first).
_EXPECTED_SHAPES = {"transformer": _transformer_shapes}


def _check_shapes(path: Path, kind: str, metadata: dict, header: dict) -> None:
    expected_for = _EXPECTED_SHAPES.get(kind)
    if expected_for is None:
        return
    try:
        expected = expected_for(json.loads(metadata.get("config", "{}")))
    except (KeyError, TypeError, ValueError) as error:
        raise WeightsError(f"weights {path} do not fit their model: bad config ({error})") from None
    found = {name: tuple(entry.get("shape", ())) for name, entry in header.items()
             if name != "__metadata__" and isinstance(entry, dict)}  # fmt: skip
    for name, shape in expected.items():
        if found.get(name) != shape:
            raise WeightsError(
                f"weights {path} do not fit their model: {name} is {list(found[name]) if name in found else 'missing'}, "
                f"the config asks for {list(shape)}"
            )


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]


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
