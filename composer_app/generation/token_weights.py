"""Saving and rebuilding the token models (Transformer, LSTM): fp16 safetensors, config in the metadata.

Both tie the output head to the token embedding, so ``head.weight`` is not stored and is restored
from ``embed.weight`` on load.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch


def save_token_model(model: torch.nn.Module, path: Path, kind: str, metadata: dict | None = None) -> None:
    """Write fp16 weights + ``kind`` + config (and any metadata, JSON unless a string) atomically."""
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items() if k != "head.weight"}
    meta = {"kind": kind, "config": model.config.to_json()}
    meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()})
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata=meta)
    tmp.replace(path)


def load_token_state(model: torch.nn.Module, state: dict) -> torch.nn.Module:
    """Load ``state`` (any dtype, without the tied head) into ``model``; a mismatch is a ValueError."""
    state = {k: v.float() for k, v in state.items()}
    state.setdefault("head.weight", state["embed.weight"])
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"weights do not match the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model
