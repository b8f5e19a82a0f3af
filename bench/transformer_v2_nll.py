"""Held-out NLL of the shipped Transformer against a v2 checkpoint (1024-token context, bar-in-phrase embedding).

Ablation rows for the structure: the v2 weights with their phrase embedding switched off (every
bar reads as bar 0 of its phrase) and with the context cut to the shipped model's 256 tokens.
Same held-out pieces (the deterministic hash split), same scoring as ``composer-app evaluate``
(``evaluation.model_nll``: every token scored once, windows of the model's context, half stride).

    python bench/transformer_v2_nll.py CHECKPOINT.ckpt [--pieces 120]

Writes bench/results/transformer_v2_nll.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--pieces", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    from composer_app.generation.evaluation import model_nll
    from composer_app.generation.registry import load_weights
    from composer_app.generation.training import TrainSettings, load_split
    from composer_app.generation.transformer import MusicTransformer, TransformerConfig

    torch.set_num_threads(1)
    started = time.perf_counter()
    _, heldout = load_split(TrainSettings(convert=False, progress=False))
    rng = np.random.default_rng(args.seed)
    items = [heldout[i] for i in sorted(rng.choice(len(heldout), min(args.pieces, len(heldout)), replace=False))]
    shipped = load_weights(ROOT / "models" / "transformer.safetensors").model
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    meta = json.loads(state["meta"])
    config = TransformerConfig(**meta["config"])
    v2 = MusicTransformer(config)
    v2.load_state_dict(state["model"])
    v2.eval()
    no_phrase = MusicTransformer(config)
    no_phrase.load_state_dict(state["model"])
    no_phrase.eval()
    no_phrase.bar_in_phrase = lambda idx, cache=None: torch.zeros_like(idx)  # every bar reads as bar 0
    short = MusicTransformer(replace(config, block_size=256))
    short.load_state_dict(state["model"])
    short.eval()
    rows = {}
    for name, model in (("shipped (256 tokens, no phrase embedding)", shipped), ("v2 checkpoint (1024 tokens, phrase embedding)", v2),
                        ("v2 without its phrase embedding", no_phrase), ("v2 with a 256-token context", short)):
        total, tokens, notes = model_nll(model, items)
        rows[name] = {"nll_per_token": total / tokens, "nll_per_note": total / notes}
        print(f"{name}: {total / tokens:.4f} nats/token, {total / notes:.4f} nats/note", file=sys.stderr, flush=True)
    result = {
        "checkpoint_step": meta["step"], "checkpoint_training_minutes": round(meta["elapsed"] / 60, 1),
        "checkpoint_tokens_seen": meta["tokens"], "heldout_pieces": len(items), "rows": rows,
        "load_average": os.getloadavg(), "seconds": time.perf_counter() - started,
    }
    (ROOT / "bench" / "results" / "transformer_v2_nll.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
