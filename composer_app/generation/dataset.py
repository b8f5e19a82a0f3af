"""Pieces -> token sequences -> training windows (with random transposition), shared by all models."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from composer_app.generation import tokenizer as tk
from composer_app.generation.data import Piece

TOKENS_VERSION = "tokens-v3"  # bump with any tokenizer change that alters the sequences
TRANSPOSE_SEMITONES = tuple(range(-6, 6))  # augmentation: every key, nearest octave
MODE_FLIP_PROBABILITY = 0.3  # augmentation: share of windows turned into the parallel mode
# Pitch classes above the tonic that change with the mode (3rd, 6th, 7th degrees):
_MAJOR_TO_MINOR = {4: -1, 9: -1, 11: -1}  # major 3rd, 6th, 7th -> natural minor
_MINOR_TO_MAJOR = {3: +1, 8: +1, 10: +1}  # minor 3rd, 6th, 7th -> major (the leading tone 11 stays)


def mode_flip_tokens(tokens: np.ndarray) -> np.ndarray:
    """The window in the parallel mode: every bar's KEY token flips major<->minor, and its pitches on
    the mode-defining degrees move by a semitone (C major -> C minor: E, A, B -> Eb, Ab, Bb).

    Mode-balanced data: the corpus is mostly major (Essen 77 %), and a mode token alone was not
    learned in a short trial; flipped windows tie the KEY token's mode to the 3rd/6th/7th degrees.
    """
    tokens = np.asarray(tokens).copy()
    is_key = (tokens >= tk.KEY_BASE) & (tokens < tk.KEY_BASE + tk.N_KEY)
    if not is_key.any():
        return tokens
    # The key in force at each token (forward fill of the last KEY token; before the first: none).
    idx = np.where(is_key, np.arange(len(tokens)), -1)
    idx = np.maximum.accumulate(idx)
    has_key = idx >= 0
    key = np.where(has_key, tokens[np.maximum(idx, 0)] - tk.KEY_BASE, 0)
    tonic, minor = key // 2, key % 2
    is_pitch = (tokens >= tk.PITCH_BASE) & (tokens < tk.PITCH_BASE + tk.N_PITCH) & has_key
    pitch = tokens - tk.PITCH_BASE + tk.PITCH_MIN
    degree = (pitch - tonic) % 12
    shift = np.zeros(len(tokens), dtype=tokens.dtype)
    for d, delta in _MAJOR_TO_MINOR.items():
        shift[is_pitch & (minor == 0) & (degree == d)] = delta
    for d, delta in _MINOR_TO_MAJOR.items():
        shift[is_pitch & (minor == 1) & (degree == d)] = delta
    tokens = tokens + shift
    tokens = np.clip(tokens, 0, tk.VOCAB_SIZE - 1)
    tokens[is_key] = tk.KEY_BASE + (tokens[is_key] - tk.KEY_BASE) // 2 * 2 + (1 - (tokens[is_key] - tk.KEY_BASE) % 2)
    # A flip can make two voices meet on one pitch at one position: keep the grammar by leaving
    # such windows unflipped.
    if tk.grammar_errors(tokens.tolist()):
        return np.asarray(tokens - shift)
    return tokens


@dataclass
class TokenizedPiece:
    source_id: str
    tokens: np.ndarray  # int16 sequence (BOS ... EOS)
    bar_index: np.ndarray  # int32 index of every BAR token


def tokenize_piece(piece: Piece) -> TokenizedPiece | None:
    """One piece on the tokenizer grid, controls computed from its notes (None if it cannot be encoded)."""
    notes = tk.to_grid(piece.notes, piece.ticks_per_quarter)
    scale = tk.GRID_TICKS_PER_QUARTER / piece.ticks_per_quarter
    signatures = [(int(round(t * scale)), int(n), int(d)) for t, n, d in piece.time_signatures]
    try:
        tokens, bars = tk.notes_to_tokens(notes, signatures, velocities=piece.velocities)
    except ValueError:  # a meter the encoding does not cover
        return None
    if len(bars) < 2:
        return None
    return TokenizedPiece(piece.source_id, np.array(tokens, dtype=np.int16), np.array(bars, dtype=np.int32))


def tokenize_pieces(pieces: Sequence[Piece], cache_file: Path | None = None) -> list[TokenizedPiece]:
    """Tokenize many pieces; with ``cache_file`` the result is stored/reused (keyed by the ids)."""
    key = hashlib.sha1(json.dumps([TOKENS_VERSION] + [p.source_id for p in pieces]).encode()).hexdigest()
    if cache_file is not None and Path(cache_file).exists():
        try:
            with np.load(cache_file, allow_pickle=False) as data:
                if str(data["key"]) == key:
                    return _unpack(data)
        except (OSError, ValueError, KeyError):
            pass
    out = [t for t in (tokenize_piece(p) for p in pieces) if t is not None]
    if cache_file is not None:
        _pack(Path(cache_file), key, out)
    return out


def _pack(path: Path, key: str, items: list[TokenizedPiece]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        key=np.array(key),
        ids=np.array(json.dumps([t.source_id for t in items])),
        tokens=np.concatenate([t.tokens for t in items]) if items else np.zeros(0, np.int16),
        token_counts=np.array([len(t.tokens) for t in items], dtype=np.int64),
        bars=np.concatenate([t.bar_index for t in items]) if items else np.zeros(0, np.int32),
        bar_counts=np.array([len(t.bar_index) for t in items], dtype=np.int64),
    )
    tmp.replace(path)


def _unpack(data) -> list[TokenizedPiece]:
    ids = json.loads(str(data["ids"]))
    tokens, bars = data["tokens"], data["bars"]
    t_ends, b_ends = np.cumsum(data["token_counts"]), np.cumsum(data["bar_counts"])
    out, t0, b0 = [], 0, 0
    for source_id, t1, b1 in zip(ids, t_ends, b_ends):
        out.append(TokenizedPiece(source_id, tokens[t0:t1], bars[b0:b1]))
        t0, b0 = t1, b1
    return out


class WindowSampler:
    """Random training windows: a piece (by length), a bar to start at, a random transposition.

    ``phrase_bars`` > 0: windows start only at bars whose number is a multiple of it (so a model
    counting bars from the window's start knows each bar's place in the phrase). ``pack``: a
    window that reaches the end of its piece goes on with other pieces (each from its BOS) instead
    of padding, so long windows hold music, not PAD.
    """

    def __init__(
        self, items: Sequence[TokenizedPiece], block_size: int, seed: int = 0, transpose: bool = True,
        phrase_bars: int = 0, pack: bool = False,
    ):
        if not items:
            raise ValueError("no tokenized pieces to sample from")
        self.items = list(items)
        self.block_size = block_size
        self.rng = np.random.default_rng(seed)
        lengths = np.array([len(t.tokens) for t in self.items], dtype=np.float64)
        self.weights = lengths / lengths.sum()
        self.transpose = transpose
        self.total_tokens = int(lengths.sum())
        self.phrase_bars = int(phrase_bars)
        self.pack = bool(pack)

    def _segment(self, item: TokenizedPiece, start: int, rng: np.random.Generator) -> np.ndarray:
        piece = item.tokens[start : start + self.block_size + 1].astype(np.int64)
        if self.transpose and rng.random() < MODE_FLIP_PROBABILITY:
            piece = mode_flip_tokens(piece)
        if self.transpose:
            for _ in range(4):
                shifted = tk.transpose_tokens(piece, int(rng.choice(TRANSPOSE_SEMITONES)))
                if shifted is not None:
                    piece = shifted
                    break
        return piece

    def window(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """block_size + 1 tokens (PAD-filled at the end of a piece unless packing)."""
        rng = rng or self.rng
        item = self.items[rng.choice(len(self.items), p=self.weights)]
        bars = item.bar_index[:: self.phrase_bars] if self.phrase_bars > 0 else item.bar_index
        start = 0 if rng.random() < 0.1 or not len(bars) else int(bars[rng.integers(len(bars))])
        segments = [self._segment(item, start, rng)]
        filled = len(segments[0])
        while self.pack and filled < self.block_size + 1:
            other = self.items[rng.choice(len(self.items), p=self.weights)]
            segments.append(self._segment(other, 0, rng))
            filled += len(segments[-1])
        piece = np.concatenate(segments)[: self.block_size + 1]
        out = np.full(self.block_size + 1, tk.PAD, dtype=np.int64)
        out[: len(piece)] = piece
        return out

    def batch(self, batch_size: int, rng: np.random.Generator | None = None) -> np.ndarray:
        return np.stack([self.window(rng) for _ in range(batch_size)])


def fixed_windows(
    items: Sequence[TokenizedPiece], block_size: int, count: int, seed: int = 1234, phrase_bars: int = 0, pack: bool = False
) -> np.ndarray:
    """A reproducible set of untransposed windows (for validation)."""
    sampler = WindowSampler(items, block_size, seed=seed, transpose=False, phrase_bars=phrase_bars, pack=pack)
    return sampler.batch(count)
