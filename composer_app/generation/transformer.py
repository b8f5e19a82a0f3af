"""A small decoder-only Transformer over the shared tokens (nanoGPT-sized, rotary positions, KV cache).

Position in the phrase: with ``phrase_bars`` > 0 every token also gets a learned embedding of its
bar's place in the phrase (the number of BAR tokens since the sequence began or since its last
BOS, minus one, modulo ``phrase_bars``). It is derived from the tokens, so the vocabulary is the
same as every other model's; a sequence must start at a piece's beginning or at a bar whose
number is a multiple of ``phrase_bars`` (the training windows and the engine's prompt cut do).
It lets the model know that bar 9 answers bar 1 in a 16-bar tune (restatement, cadences).

The model is conditioned on the mood through the control tokens in every bar header (see
``tokenizer``): the engine writes the header of each generated bar from the attribute targets.
Its config travels inside the ``.safetensors`` metadata, so ``load_transformer(path)`` rebuilds the
model from the file alone; loading never unpickles anything.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from composer_app.generation.engine import TokenGenerator
from composer_app.generation.token_weights import load_token_state, save_token_model
from composer_app.generation.tokenizer import BAR, BOS, VOCAB_SIZE

MODEL_KIND = "transformer"


@dataclass
class TransformerConfig:
    """Hyper-parameters; stored in the weights file's metadata."""

    vocab_size: int = VOCAB_SIZE  # number of token ids (tokenizer.VOCAB_SIZE)
    block_size: int = 256  # tokens per training window; generation slides its window beyond this
    n_layer: int = 4  # Transformer blocks (4 x d=192: ~1.6 k tokens/s training on one busy CPU core)
    n_head: int = 3  # attention heads (head size = d_model / n_head = 64)
    d_model: int = 192  # width of the residual stream
    mlp_ratio: int = 4  # hidden width of the feed-forward layer = mlp_ratio * d_model
    dropout: float = 0.1  # dropout in training (0 at inference: model.eval())
    rope_base: float = 10000.0  # rotary position embedding base (relative positions: windows can slide)
    phrase_bars: int = 0  # bar-in-phrase embedding period in bars (0 = none; v2: 16 = an AABB tune of 4-bar phrases)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TransformerConfig:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


def _rope_tables(head_size: int, length: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    inv = 1.0 / (base ** (torch.arange(0, head_size, 2, dtype=torch.float32) / head_size))
    angles = torch.outer(torch.arange(length, dtype=torch.float32), inv)  # (T, hs/2)
    return angles.cos(), angles.sin()


def _apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs of channels of x (B, H, T, hs) by position-dependent angles (T, hs/2)."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return out.flatten(-2)


class KVCache:
    """Keys and values of every layer for a batch of sequences that grow in lockstep.

    ``rolling``: a ring buffer of the last ``capacity`` tokens. Once full, each new token's keys and
    values overwrite the oldest slot, so every token attends to exactly the ``capacity`` most recent
    tokens (sliding-window attention, the same as a full forward pass with a banded causal mask:
    ``MusicTransformer.forward(idx, window=...)``) and nothing is ever re-encoded: a step costs the
    same at bar 64 as at bar 4. Rotary positions are absolute, so relative distances stay right.
    """

    def __init__(self, n_layer: int, batch: int, n_head: int, capacity: int, head_size: int, dtype=torch.float32, rolling: bool = False):
        shape = (batch, n_head, capacity, head_size)
        self.keys = [torch.zeros(shape, dtype=dtype) for _ in range(n_layer)]
        self.values = [torch.zeros(shape, dtype=dtype) for _ in range(n_layer)]
        self.length = 0  # positions filled (at most capacity)
        self.position = 0  # tokens read so far (the next token's rotary position)
        self.capacity = capacity
        self.rolling = rolling
        self.bars = torch.zeros(batch, dtype=torch.long)  # BAR tokens read so far per sequence (since its last BOS)

    def select_rows(self, rows: torch.Tensor) -> None:
        """Keep only these sequences of the batch (finished candidates leave it)."""
        self.keys = [k.index_select(0, rows) for k in self.keys]
        self.values = [v.index_select(0, rows) for v in self.values]
        self.bars = self.bars.index_select(0, rows)

    def expand(self, batch: int) -> KVCache:
        """A cache for ``batch`` copies of this cache's single sequence (prompt shared by candidates)."""
        out = KVCache.__new__(KVCache)
        out.keys = [k.expand(batch, -1, -1, -1).clone() for k in self.keys]
        out.values = [v.expand(batch, -1, -1, -1).clone() for v in self.values]
        out.length, out.capacity, out.position, out.rolling = self.length, self.capacity, self.position, self.rolling
        out.bars = self.bars.expand(batch).clone()
        return out


class CausalSelfAttention(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        assert config.d_model % config.n_head == 0
        self.n_head = config.n_head
        self.head_size = config.d_model // config.n_head
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.dropout = config.dropout

    def forward(self, x, cos, sin, cache: KVCache | None = None, layer: int = 0, window: int | None = None):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, self.head_size).transpose(1, 2) for t in (q, k, v))
        q, k = _apply_rope(q, cos, sin), _apply_rope(k, cos, sin)
        if cache is None and window is not None and window < T:  # banded causal mask: the last `window` tokens
            rows = torch.arange(T).view(-1, 1)
            cols = torch.arange(T).view(1, -1)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=(cols <= rows) & (cols > rows - window))
        elif cache is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        elif cache.rolling and T == 1 and cache.position >= cache.capacity:  # full ring: overwrite the oldest slot
            slot = cache.position % cache.capacity
            cache.keys[layer][:, :, slot] = k[:, :, 0]
            cache.values[layer][:, :, slot] = v[:, :, 0]
            scores = (q @ cache.keys[layer].transpose(-2, -1)) * (1.0 / math.sqrt(self.head_size))
            y = torch.softmax(scores, dim=-1) @ cache.values[layer]
        else:
            start = cache.length
            if start + T > cache.capacity:
                raise ValueError("the tokens do not fit the cache: slide the window or use a rolling cache")
            cache.keys[layer][:, :, start : start + T] = k
            cache.values[layer][:, :, start : start + T] = v
            keys = cache.keys[layer][:, :, : start + T]
            values = cache.values[layer][:, :, : start + T]
            if T == 1:  # one new token: plain matmuls beat the fused kernel's overhead at this size
                scores = (q @ keys.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_size))
                y = torch.softmax(scores, dim=-1) @ values
            else:
                mask = torch.ones(T, start + T, dtype=torch.bool).tril(diagonal=start)
                y = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config)
        self.ln2 = nn.LayerNorm(config.d_model)
        hidden = config.mlp_ratio * config.d_model
        self.mlp = nn.Sequential(nn.Linear(config.d_model, hidden), nn.GELU(), nn.Linear(hidden, config.d_model))
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x, cos, sin, cache=None, layer=0, window=None):
        x = x + self.drop(self.attn(self.ln1(x), cos, sin, cache, layer, window))
        return x + self.drop(self.mlp(self.ln2(x)))


class MusicTransformer(nn.Module):
    """Token embedding -> n_layer blocks -> tied output layer. ``forward`` returns logits."""

    kind = MODEL_KIND

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.phrase_embed = nn.Embedding(config.phrase_bars, config.d_model) if config.phrase_bars > 0 else None
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # weight tying (saved once)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
        cos, sin = _rope_tables(config.d_model // config.n_head, 8 * config.block_size, config.rope_base)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    @staticmethod
    def _init(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def new_cache(self, batch: int, capacity: int, rolling: bool = True) -> KVCache:
        """A cache for ``batch`` sequences; ``rolling`` (the default): a ring of the last ``capacity`` tokens."""
        c = self.config
        return KVCache(c.n_layer, batch, c.n_head, capacity, c.d_model // c.n_head, self.embed.weight.dtype, rolling)

    def _rope(self, start: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotary tables for positions start..start+length (grown when a long generation needs more)."""
        if start + length > self.rope_cos.shape[0]:
            cos, sin = _rope_tables(self.config.d_model // self.config.n_head, 2 * (start + length), self.config.rope_base)
            self.rope_cos, self.rope_sin = cos.to(self.rope_cos.device), sin.to(self.rope_sin.device)
        return self.rope_cos[start : start + length], self.rope_sin[start : start + length]

    def forward(self, idx: torch.Tensor, cache: KVCache | None = None, window: int | None = None) -> torch.Tensor:
        """Logits (B, T, vocab) for tokens idx (B, T); with a cache, idx continues the cached sequence.

        ``window`` (no cache): each token attends to at most this many tokens (itself included), as
        with a rolling cache of that capacity.
        """
        B, T = idx.shape
        start = cache.position if cache is not None else 0
        cos, sin = self._rope(start, T)
        x = self.embed(idx)
        if self.phrase_embed is not None:
            x = x + self.phrase_embed(self.bar_in_phrase(idx, cache))
        x = self.drop(x)
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, cache, i, window)
        if cache is not None:
            cache.position += T
            cache.length = min(cache.position, cache.capacity)
        return self.head(self.ln_f(x))

    def bar_in_phrase(self, idx: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """(B, T) index of each token's bar in its phrase; updates ``cache.bars`` when given."""
        is_bar = idx == BAR
        bars = torch.cumsum(is_bar, dim=1)
        if cache is not None:
            bars = bars + cache.bars.view(-1, 1)
        # A BOS restarts the count (pieces packed into one training window).
        is_bos = idx == BOS
        if bool(is_bos.any()):
            at_bos = torch.where(is_bos, bars, torch.zeros_like(bars))
            bars = bars - torch.cummax(at_bos, dim=1).values
        if cache is not None:
            cache.bars = bars[:, -1].clone()
        return (bars - 1).clamp(min=0) % self.config.phrase_bars

    def loss(self, idx: torch.Tensor, targets: torch.Tensor, ignore_index: int = 0) -> torch.Tensor:
        logits = self(idx)
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=ignore_index)

    @torch.no_grad()
    def step(self, tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Sampling interface shared with the other generators: logits (B, vocab) after ``tokens`` (B, T)."""
        return self(tokens, cache)[:, -1, :].float()


def save_transformer(model: MusicTransformer, path: Path, metadata: dict | None = None) -> None:
    """Write fp16 weights + config (and any string metadata) to a .safetensors file."""
    save_token_model(model, path, MODEL_KIND, metadata)


def model_from_state(config: TransformerConfig, state: dict) -> MusicTransformer:
    return load_token_state(MusicTransformer(config), state)


class TransformerGenerator(TokenGenerator):
    """The Transformer on the ``Generator`` interface (sampling is shared by every token model)."""

    kind = MODEL_KIND
    config_class = TransformerConfig
    new_model = staticmethod(MusicTransformer)
    model_from_state = staticmethod(model_from_state)
    save_model = staticmethod(save_transformer)
