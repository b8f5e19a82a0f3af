"""A recurrent continuation model: an LSTM over the shared tokens (the classic sequence model).

The same tokens and per-bar control tokens as the Transformer (``tokenizer``): the engine forces
every generated bar's header (key, density, register) from the mood plan, so the LSTM is steered
exactly like the Transformer and answers the same requests through ``engine.TokenGenerator``.
Its recurrent state replaces the Transformer's KV cache: a step costs the same however long the
sequence is, so generation never needs a sliding window. Config in the ``.safetensors`` metadata;
loading never unpickles anything.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from composer_app.generation.engine import TokenGenerator
from composer_app.generation.token_weights import load_token_state, save_token_model
from composer_app.generation.tokenizer import VOCAB_SIZE

MODEL_KIND = "lstm"
UNBOUNDED_CAPACITY = 1 << 30  # an LSTM state has no length limit: the sampler never slides its window


@dataclass
class LstmConfig:
    """Hyper-parameters; stored in the weights file's metadata."""

    vocab_size: int = VOCAB_SIZE  # number of token ids (tokenizer.VOCAB_SIZE)
    block_size: int = 256  # tokens per training window (truncated back-propagation length); prompts keep half
    n_layer: int = 2  # stacked LSTM layers
    d_model: int = 384  # embedding width = LSTM hidden width (tied input/output embeddings)
    dropout: float = 0.1  # between layers and before the output layer, in training only

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LstmConfig:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


class LstmState:
    """The (h, c) state of every layer for a batch of sequences that grow in lockstep."""

    def __init__(self, h: torch.Tensor, c: torch.Tensor, capacity: int = UNBOUNDED_CAPACITY):
        self.h, self.c = h, c  # (n_layer, batch, d_model) each
        self.length = 0
        self.capacity = capacity

    def select_rows(self, rows: torch.Tensor) -> None:
        """Keep only these sequences of the batch (finished candidates leave it)."""
        self.h, self.c = self.h.index_select(1, rows), self.c.index_select(1, rows)

    def expand(self, batch: int) -> LstmState:
        """A state for ``batch`` copies of this state's single sequence (prompt shared by candidates)."""
        out = LstmState(self.h.expand(-1, batch, -1).contiguous(), self.c.expand(-1, batch, -1).contiguous(), self.capacity)
        out.length = self.length
        return out


class MusicLstm(nn.Module):
    """Token embedding -> n_layer LSTM -> LayerNorm -> tied output layer. ``forward`` returns logits."""

    kind = MODEL_KIND

    def __init__(self, config: LstmConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(config.d_model, config.d_model, config.n_layer, batch_first=True,
                            dropout=config.dropout if config.n_layer > 1 else 0.0)
        self.ln_f = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # weight tying (saved once)
        nn.init.normal_(self.embed.weight, mean=0.0, std=0.02)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def new_cache(self, batch: int, capacity: int = UNBOUNDED_CAPACITY) -> LstmState:
        c = self.config
        zeros = torch.zeros(c.n_layer, batch, c.d_model, dtype=self.embed.weight.dtype)
        return LstmState(zeros, zeros.clone())

    def forward(self, idx: torch.Tensor, cache: LstmState | None = None) -> torch.Tensor:
        """Logits (B, T, vocab) for tokens idx (B, T); with a state, idx continues its sequence."""
        x = self.drop(self.embed(idx))
        if cache is None:
            y, _ = self.lstm(x)
        else:
            y, (cache.h, cache.c) = self.lstm(x, (cache.h, cache.c))
            cache.length += idx.shape[1]
        return self.head(self.ln_f(self.drop(y)))

    def loss(self, idx: torch.Tensor, targets: torch.Tensor, ignore_index: int = 0) -> torch.Tensor:
        logits = self(idx)
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=ignore_index)

    @torch.no_grad()
    def step(self, tokens: torch.Tensor, cache: LstmState) -> torch.Tensor:
        """Sampling interface shared with the other token models: logits (B, vocab) after ``tokens`` (B, T)."""
        return self(tokens, cache)[:, -1, :].float()


def save_lstm(model: MusicLstm, path: Path, metadata: dict | None = None) -> None:
    """Write fp16 weights + config (and any string metadata) to a .safetensors file."""
    save_token_model(model, path, MODEL_KIND, metadata)


def lstm_from_state(config: LstmConfig, state: dict) -> MusicLstm:
    return load_token_state(MusicLstm(config), state)


class LstmGenerator(TokenGenerator):
    """The LSTM on the ``Generator`` interface (sampling, plan and ranking shared with the Transformer)."""

    kind = MODEL_KIND
    sampler_calibrated = False  # engine.TokenGenerator: the sampler as before the Transformer-tuned interval bias
    config_class = LstmConfig
    learning_rate = 2e-3  # LSTMs take a larger step than the Transformer's 1e-3
    new_model = staticmethod(MusicLstm)
    model_from_state = staticmethod(lstm_from_state)
    save_model = staticmethod(save_lstm)
