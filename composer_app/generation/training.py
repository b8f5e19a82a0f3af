"""Training loop for the token models: time-bounded, validated, resumable, DDP-ready.

Run one process (``composer-app train …``) or several under ``torchrun`` (``torch.distributed``
with gloo on CPU, nccl on GPUs): each rank samples its own windows and DDP averages the gradients;
rank 0 validates, writes checkpoints and the final weights. bf16 autocast (``--bf16``) trains 2-3x
faster on CPUs with AMX/AVX512-BF16 but slower without them (measured on this machine: AVX512 only,
fp32 1.9x faster), so it is off by default.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from composer_app.generation import data as corpus_data
from composer_app.generation import tokenizer as tk
from composer_app.generation.dataset import WindowSampler, fixed_windows, tokenize_pieces


@dataclass
class TrainSettings:
    data: str = "corpus"  # "corpus" (music21 collections) or a folder of .mid files
    model: str = "transformer"  # registry name
    minutes: float = 40.0  # wall-time budget for the optimisation steps
    max_steps: int | None = None  # stop earlier after this many steps (tests)
    out: Path | None = None  # weights to write (None: models/<model>.safetensors)
    init: Path | None = None  # start from these weights (fine-tuning)
    resume: bool = True  # continue from OUT.ckpt when it exists
    batch_size: int = 16  # windows per step per process
    block_size: int = 256  # tokens per window
    learning_rate: float = 1e-3  # peak (after warm-up); cosine decay to 10 % over the budget
    warmup_steps: int = 100
    weight_decay: float = 0.05
    eval_every: int = 200  # steps between validations (and checkpoints)
    eval_windows: int = 48  # held-out windows per validation
    seed: int = 0
    bf16: bool = False  # autocast to bfloat16: 2-3x faster only on CPUs with AMX/AVX512-BF16 (slower here)
    threads: int | None = None  # torch intra-op threads per process (None: 1; measured: 2 threads on a
    # busy 2-core machine ran 5x slower than 1; use torchrun for more processes instead)
    cache_dir: Path | None = None
    collections: tuple[str, ...] = corpus_data.DEFAULT_COLLECTIONS
    config: object | None = None  # the model's config dataclass (None: its defaults)
    progress: bool = True
    convert: bool = True  # convert missing corpus files first (False: use what the cache holds)
    pack: bool = False  # fill each window with further pieces instead of PAD (long windows, short tunes)


def _dist_info() -> tuple[int, int]:
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def load_split(settings: TrainSettings):
    """Tokenized (train, held-out) pieces of the settings' data."""
    if settings.data == "corpus":
        cache_dir = Path(settings.cache_dir or corpus_data.default_cache_dir())
        rank, _ = _dist_info()
        if rank == 0 and settings.convert:
            corpus_data.convert_corpus(settings.collections, cache_dir, progress=settings.progress)
        if torch.distributed.is_initialized():
            torch.distributed.barrier()
        pieces = corpus_data.load_corpus(settings.collections, cache_dir)
        token_cache = cache_dir / f"tokens-{'-'.join(settings.collections)}.npz"
    else:
        pieces = corpus_data.load_midi_folder(Path(settings.data))
        token_cache = None
    train_pieces, heldout_pieces = corpus_data.split(pieces)
    if not heldout_pieces and len(train_pieces) > 1:  # tiny folders: hold out one piece anyway
        heldout_pieces = train_pieces[-1:]
        train_pieces = train_pieces[:-1]
    train_items = tokenize_pieces(train_pieces, token_cache.with_name(token_cache.stem + "-train.npz") if token_cache else None)
    heldout_items = tokenize_pieces(heldout_pieces, token_cache.with_name(token_cache.stem + "-heldout.npz") if token_cache else None)
    return train_items, heldout_items


def _lr_at(settings: TrainSettings, step: int, fraction_done: float) -> float:
    if step < settings.warmup_steps:
        return settings.learning_rate * (step + 1) / settings.warmup_steps
    return settings.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, fraction_done))))


@torch.no_grad()
def evaluate_loss(model, windows: np.ndarray, bf16: bool = True, batch_size: int = 16) -> float:
    """Mean cross-entropy per (non-PAD) token over fixed windows."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(windows), batch_size):
        batch = torch.from_numpy(windows[i : i + batch_size])
        x, y = batch[:, :-1], batch[:, 1:]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=tk.PAD, reduction="sum"
        )
        total += float(loss)
        count += int((y != tk.PAD).sum())
    model.train()
    return total / max(count, 1)


def train(settings: TrainSettings) -> dict:
    """Train the generator named ``settings.model`` (its class decides how); returns the facts."""
    from composer_app.generation.registry import generator_class

    return generator_class(settings.model).train(settings)


def output_path(settings: TrainSettings) -> Path:
    return Path(settings.out) if settings.out is not None else Path("models") / f"{settings.model}.safetensors"


def train_token_model(generator_class, settings: TrainSettings) -> dict:
    """Train a token model (next-token cross-entropy) and write ``settings.out`` (+ ``.ckpt`` for
    resuming); ``generator_class`` gives ``config_class``, ``new_model``, ``model_from_state`` and
    ``save_model``. Returns the training facts."""
    config_class = generator_class.config_class
    rank, world = _dist_info()
    distributed = world > 1
    torch.set_num_threads(settings.threads or 1)  # 1 thread per process: far faster on a shared CPU
    if distributed and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    torch.manual_seed(settings.seed)
    out = output_path(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    ckpt_path = out.with_suffix(".ckpt")

    train_items, heldout_items = load_split(settings)
    if not train_items:
        raise ValueError(f"no usable music found in {settings.data}")
    phrase_bars = getattr(settings.config, "phrase_bars", 0) or 0
    sampler = WindowSampler(
        train_items, settings.block_size, seed=settings.seed + 1000 * rank, phrase_bars=phrase_bars, pack=settings.pack
    )
    val_windows = fixed_windows(
        heldout_items or train_items, settings.block_size, settings.eval_windows, phrase_bars=phrase_bars, pack=settings.pack
    )

    config = settings.config if settings.config is not None else config_class()
    if settings.init is not None:
        from dataclasses import replace

        from composer_app.generation.registry import load_weights

        initial = load_weights(Path(settings.init))
        if not isinstance(initial, generator_class):
            raise ValueError(f"--init weights are a {initial.kind}, not a {generator_class.kind}")
        config = initial.config
        if hasattr(config, "phrase_bars"):
            # The initial weights' shape with this run's window and phrase embedding: neither adds
            # weights the layers depend on (rotary positions are relative; a new phrase embedding starts at 0).
            config = replace(config, block_size=settings.block_size, phrase_bars=phrase_bars)
        state = initial.model.state_dict()
        if getattr(config, "phrase_bars", 0) and "phrase_embed.weight" not in state:
            state["phrase_embed.weight"] = torch.zeros(config.phrase_bars, config.d_model)
        model = generator_class.model_from_state(config, state)
    else:
        model = generator_class.new_model(config)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, betas=(0.9, 0.95), weight_decay=settings.weight_decay
    )
    step, elapsed_before, tokens_seen, history = 0, 0.0, 0, []
    if settings.resume and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)  # tensors and strings only
        saved_config = json.loads(state["meta"]).get("config")
        if saved_config is not None and config_class(**saved_config) != config:
            config = config_class(**saved_config)  # the checkpoint's shape wins over the flags
            model = generator_class.new_model(config)
            optimizer = torch.optim.AdamW(
                model.parameters(), lr=settings.learning_rate, betas=(0.9, 0.95), weight_decay=settings.weight_decay
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        meta = json.loads(state["meta"])
        step, elapsed_before, tokens_seen, history = meta["step"], meta["elapsed"], meta["tokens"], meta["history"]
    ddp_model = model
    if distributed:
        ddp_model = torch.nn.parallel.DistributedDataParallel(model)
    model.train()

    budget = settings.minutes * 60.0
    started = time.perf_counter()
    bar = None
    if settings.progress and rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=settings.max_steps or None, initial=step, desc="training", unit="step")
    best_val = min((h["val_loss"] for h in history), default=float("inf"))
    rng = np.random.default_rng(settings.seed + 7919 * rank + step)
    steps_this_run = 0
    tokens_this_run = 0
    train_loss_avg = None

    def save_checkpoint():
        if rank != 0:
            return
        meta = {
            "step": step, "elapsed": elapsed_before + time.perf_counter() - started, "tokens": tokens_seen,
            "history": history, "config": json.loads(config.to_json()),
        }
        tmp = ckpt_path.with_suffix(".ckpt.tmp")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "meta": json.dumps(meta)}, tmp)
        tmp.replace(ckpt_path)

    while True:
        elapsed = elapsed_before + time.perf_counter() - started
        if elapsed >= budget or (settings.max_steps is not None and steps_this_run >= settings.max_steps):
            break
        lr = _lr_at(settings, step, elapsed / budget)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = torch.from_numpy(sampler.batch(settings.batch_size, rng))
        x, y = batch[:, :-1], batch[:, 1:]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings.bf16):
            logits = ddp_model(x)
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=tk.PAD)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        steps_this_run += 1
        batch_tokens = int((y != tk.PAD).sum()) * world
        tokens_seen += batch_tokens
        tokens_this_run += batch_tokens
        loss_value = float(loss.detach())
        train_loss_avg = loss_value if train_loss_avg is None else 0.98 * train_loss_avg + 0.02 * loss_value
        if bar is not None:
            bar.update(1)
            run_seconds = time.perf_counter() - started
            bar.set_postfix(loss=f"{train_loss_avg:.3f}", lr=f"{lr:.1e}", tok_s=f"{tokens_this_run / max(run_seconds, 1e-6):.0f}")
        if step % settings.eval_every == 0 and rank == 0:
            val = evaluate_loss(model, val_windows, settings.bf16)
            history.append({"step": step, "minutes": round(elapsed / 60, 2), "train_loss": round(train_loss_avg, 4), "val_loss": round(val, 4)})
            if bar is not None:
                bar.write(f"step {step}: train {train_loss_avg:.3f}  held-out {val:.3f}  ({elapsed / 60:.1f} min)")
            best_val = min(best_val, val)
            save_checkpoint()
    elapsed = elapsed_before + time.perf_counter() - started
    if bar is not None:
        bar.close()
    facts = {}
    if rank == 0:
        val = evaluate_loss(model, val_windows, settings.bf16)
        history.append({"step": step, "minutes": round(elapsed / 60, 2), "train_loss": round(train_loss_avg or 0.0, 4), "val_loss": round(val, 4)})
        save_checkpoint()
        facts = {
            "data": settings.data if settings.data != "corpus" else {"corpus": list(settings.collections)},
            "train_pieces": len(train_items),
            "heldout_pieces": len(heldout_items),
            "train_tokens": int(sum(len(t.tokens) for t in train_items)),
            "tokens_seen": tokens_seen,
            "steps": step,
            "training_minutes": round(elapsed / 60, 2),
            "processes": world,
            "parameters": model.parameter_count(),
            "heldout_loss_per_token": round(val, 4),
            "history": history,
            "init": str(settings.init) if settings.init else None,
            "settings": {k: v for k, v in asdict(settings).items() if k in ("batch_size", "block_size", "learning_rate", "bf16", "seed", "pack")},
        }
        generator_class.save_model(model, out, {"training": facts})
    if distributed:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return facts


def export_checkpoint(ckpt_path: Path, out: Path, config=None, model_name: str = "transformer") -> dict:
    """Write the weights of a token model's training checkpoint (``.ckpt``) as a .safetensors file."""
    from composer_app.generation.registry import generator_class as class_of

    generator_class = class_of(model_name)
    config_class = generator_class.config_class
    state = torch.load(Path(ckpt_path), map_location="cpu", weights_only=True)
    meta = json.loads(state["meta"])
    config = config or (config_class(**meta["config"]) if "config" in meta else config_class())
    model = generator_class.new_model(config)
    model.load_state_dict(state["model"])
    history = meta["history"]
    facts = {
        "steps": meta["step"],
        "tokens_seen": meta["tokens"],
        "training_minutes": round(meta["elapsed"] / 60, 2),
        "parameters": model.parameter_count(),
        "heldout_loss_per_token": history[-1]["val_loss"] if history else None,
        "history": history,
        "exported_from_checkpoint": True,
    }
    generator_class.save_model(model, Path(out), {"training": facts})
    return facts
