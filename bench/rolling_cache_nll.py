"""Held-out NLL past the Transformer's context: a rolling KV cache against re-reading the window.

Generation past ``block_size`` tokens used to slide by re-encoding the most recent 3/4 of the window
(every ~64 tokens: a prefill of 192 tokens for every candidate); the rolling cache keeps the last
``block_size`` tokens' keys and values in a ring and never re-reads anything. This scores held-out
pieces token by token both ways (teacher forcing, the same prompt of 128 tokens as the engine keeps)
and reports the NLL per token of the tokens past the first window, where the two differ.
Writes bench/results/rolling_cache_nll.json.

    python bench/rolling_cache_nll.py [--pieces 48] [--tokens 768]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def score(model, batch, window: int, rolling: bool, prompt: int) -> np.ndarray:
    """(B, T - 1) NLL of every next token, stepping one token at a time after the prompt."""
    import torch

    B, T = batch.shape
    out = np.zeros((B, T - 1))
    cache = model.new_cache(B, window, rolling=rolling)
    logits = model(batch[:, :prompt], cache)
    for t in range(prompt - 1, T - 1):
        if t >= prompt:
            if not rolling and cache.length + 1 > cache.capacity:
                keep = window * 3 // 4
                cache = model.new_cache(B, window, rolling=False)
                logits = model(batch[:, t - keep + 1 : t + 1], cache)
            else:
                logits = model(batch[:, t : t + 1], cache)
        last = torch.log_softmax(logits[:, -1, :].float(), dim=-1)
        out[:, t] = -last.gather(1, batch[:, t + 1 : t + 2]).squeeze(1).numpy()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=48)
    parser.add_argument("--tokens", type=int, default=768)
    parser.add_argument("--weights", type=Path, default=ROOT / "models" / "transformer.safetensors")
    args = parser.parse_args(argv)

    import torch

    from composer_app.generation.registry import load_weights
    from composer_app.generation.training import TrainSettings, load_split

    torch.set_num_threads(1)
    model = load_weights(args.weights).model
    window = model.config.block_size
    _, heldout = load_split(TrainSettings(convert=False, progress=False))
    long_items = [item for item in heldout if len(item.tokens) >= args.tokens]
    rng = np.random.default_rng(0)
    picked = [long_items[i] for i in sorted(rng.choice(len(long_items), min(args.pieces, len(long_items)), replace=False))]
    batch = torch.tensor(np.stack([item.tokens[: args.tokens].astype(np.int64) for item in picked]))
    prompt = window // 2
    result = {"pieces": len(picked), "tokens_per_piece": args.tokens, "window": window, "load_average": os.getloadavg()}
    with torch.no_grad():
        for name, rolling in (("re-read window (before)", False), ("rolling cache (now)", True)):
            started = time.perf_counter()
            nll = score(model, batch, window, rolling, prompt)
            result[name] = {
                "nll_per_token_past_window": float(nll[:, window - 1 :].mean()),
                "nll_per_token_all": float(nll[:, prompt - 1 :].mean()),
                "seconds": time.perf_counter() - started,
            }
            print(name, result[name], flush=True)
    (ROOT / "bench" / "results" / "rolling_cache_nll.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
