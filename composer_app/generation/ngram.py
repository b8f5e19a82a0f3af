"""The baseline: an interpolated Witten-Bell n-gram model over the same tokens, vectorised in numpy.

Counts are kept as sorted int64 codes (9 bits per token: the vocabulary has < 512 ids), so
training on millions of tokens takes seconds and scoring is a few ``searchsorted`` calls.

    P_k(w | h) = (c(h, w) + N1+(h .) * P_{k-1}(w | h')) / (c(h) + N1+(h .))

with h' the context shortened by one token, and an add-one unigram at the bottom (Witten & Bell
1991; Chen & Goodman 1999).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from composer_app.generation.tokenizer import VOCAB_SIZE

BITS_PER_TOKEN = 9
assert VOCAB_SIZE <= 1 << BITS_PER_TOKEN


def _codes(seq: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes of the n-grams ending at each position >= order-1, those positions)."""
    n = len(seq)
    if n < order:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    positions = np.arange(order - 1, n)
    code = np.zeros(len(positions), dtype=np.int64)
    for j in range(order - 1, -1, -1):  # oldest token in the highest bits, the predicted token lowest
        code = (code << BITS_PER_TOKEN) | seq[positions - j].astype(np.int64)
    return code, positions


class NGramModel:
    def __init__(self, order: int = 5):
        if order < 1:
            raise ValueError("order must be >= 1")
        self.order = order
        self.unigram = np.ones(VOCAB_SIZE)
        self.tables: dict[int, tuple] = {}

    def fit(self, sequences: Sequence[np.ndarray]) -> NGramModel:
        counts = np.ones(VOCAB_SIZE)
        for seq in sequences:
            counts += np.bincount(np.asarray(seq, dtype=np.int64), minlength=VOCAB_SIZE)
        self.unigram = counts / counts.sum()
        for k in range(2, self.order + 1):
            codes = np.concatenate([_codes(np.asarray(s, dtype=np.int64), k)[0] for s in sequences] or [np.zeros(0, np.int64)])
            grams, gram_counts = np.unique(codes, return_counts=True)
            contexts = grams >> BITS_PER_TOKEN
            ctx, first = np.unique(contexts, return_index=True)
            ctx_total = np.add.reduceat(gram_counts, first) if len(first) else np.zeros(0, np.int64)
            ctx_types = np.diff(np.append(first, len(grams)))
            self.tables[k] = (grams, gram_counts, ctx, ctx_total, ctx_types)
        return self

    def token_log_probs(self, seq: np.ndarray) -> np.ndarray:
        """Natural-log probability of every token after the first (len(seq) - 1 values)."""
        seq = np.asarray(seq, dtype=np.int64)
        targets = seq[1:]
        prob = self.unigram[targets]
        for k in range(2, self.order + 1):
            grams, gram_counts, ctx, ctx_total, ctx_types = self.tables[k]
            codes, positions = _codes(seq, k)
            rows = positions - 1  # index into targets
            if not len(codes):
                continue
            ci = np.searchsorted(ctx, codes >> BITS_PER_TOKEN)
            ci_ok = ci < len(ctx)
            ci_ok[ci_ok] = ctx[ci[ci_ok]] == (codes[ci_ok] >> BITS_PER_TOKEN)
            gi = np.searchsorted(grams, codes)
            gi_ok = gi < len(grams)
            gi_ok[gi_ok] = grams[gi[gi_ok]] == codes[gi_ok]
            c_hw = np.where(gi_ok, gram_counts[np.minimum(gi, len(grams) - 1)] if len(grams) else 0, 0)
            c_h = np.where(ci_ok, ctx_total[np.minimum(ci, len(ctx) - 1)] if len(ctx) else 0, 0)
            n1 = np.where(ci_ok, ctx_types[np.minimum(ci, len(ctx) - 1)] if len(ctx) else 0, 0)
            lower = prob[rows]
            seen = c_h > 0
            prob[rows] = np.where(seen, (c_hw + n1 * lower) / np.maximum(c_h + n1, 1), lower)
        return np.log(prob)
