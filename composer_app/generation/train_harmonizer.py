"""Train the chorale harmonizer on the Bach chorales in all 12 keys (one process, resumable).

``python -m composer_app.generation.train_harmonizer --minutes 45 [--resume] [--out models/harmonizer.safetensors]``

Data: the four-part chorales of ``music21.corpus.chorales.Iterator`` (:mod:`chorales`), split
train / dev / held-out (the held-out chorales are the corpus's own held-out works, never seen
here; dev picks the checkpoint). Each batch holds random 8-bar windows, each transposed by a
random interval of -6..+5 semitones that keeps every voice inside the grid. Half the examples
use Coconet's masks (each cell masked with a probability drawn uniformly from (0, 1]); the other
half keep the soprano and mask most of the lower voices (the harmonization task itself).

Checkpoints (model, optimizer, step, elapsed time, best dev loss) go to
``cache/checkpoints/harmonizer/`` every ``--checkpoint-minutes``; ``--resume`` continues from the
last one; ``--init WEIGHTS`` starts a further run from earlier weights (a fresh optimizer and schedule). The learning-rate schedule follows elapsed time over ``--minutes`` (cosine), so a
resumed run ends where an uninterrupted one would.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from composer_app.generation import harmonizer as hz
from composer_app.generation.chorales import load_chorales, split_chorales

WINDOW_STEPS = 64  # 8 bars of 4/4 in 8th notes
TRANSPOSE_SEMITONES = tuple(range(-6, 6))  # every key
SOPRANO_TASK_SHARE = 0.5  # share of examples that keep the soprano and mask the lower voices


def prepare(chorales):
    """Grids, metric, mode per chorale: list of (grid (4, T), steps per bar, minor)."""
    out = []
    for c in chorales:
        grid, spb = hz.chorale_grid(c)
        out.append((grid, spb, int(c.minor)))
    return out


def _transpose(grid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pitched = grid != hz.REST
    low, high = grid[pitched].min(), grid[pitched].max()
    options = [k for k in TRANSPOSE_SEMITONES if low + k >= 0 and high + k < hz.REST]
    k = int(rng.choice(options)) if options else 0
    return np.where(pitched, grid + k, grid)


def make_batch(data, batch_size: int, rng: np.random.Generator):
    """Targets (B, 4, W), loss masks (B, 4, W), metric (B, W), minor (B,), as tensors."""
    lengths = np.array([g.shape[1] for g, _, _ in data], dtype=float)
    picks = rng.choice(len(data), size=batch_size, p=lengths / lengths.sum())
    targets = np.full((batch_size, hz.N_VOICES, WINDOW_STEPS), hz.REST, dtype=np.int64)
    valid = np.zeros((batch_size, hz.N_VOICES, WINDOW_STEPS), dtype=bool)
    metric = np.zeros((batch_size, WINDOW_STEPS), dtype=np.int64)
    minor = np.zeros(batch_size, dtype=np.int64)
    for b, i in enumerate(picks):
        grid, spb, is_minor = data[i]
        T = grid.shape[1]
        start = 0 if T <= WINDOW_STEPS else int(rng.integers(0, (T - WINDOW_STEPS) // 2 + 1)) * 2  # on a beat
        window = _transpose(grid[:, start : start + WINDOW_STEPS], rng)
        n = window.shape[1]
        targets[b, :, :n] = window
        valid[b, :, :n] = True
        metric[b] = hz.metric_positions(WINDOW_STEPS, spb, start)
        minor[b] = is_minor
    rate = rng.uniform(0.0, 1.0, size=(batch_size, 1, 1))
    mask = rng.uniform(size=targets.shape) < np.maximum(rate, 1e-3)
    task = rng.uniform(size=batch_size) < SOPRANO_TASK_SHARE
    lower_rate = rng.uniform(0.5, 1.0, size=(batch_size, 1))
    lower = rng.uniform(size=(batch_size, hz.N_VOICES - 1, WINDOW_STEPS)) < lower_rate[:, :, None]
    mask[task, 0] = False
    mask[task, 1:] = lower[task]
    mask &= valid
    for b in range(batch_size):  # never an example without a cell to learn from
        if not mask[b].any():
            mask[b, 1 + b % 3, 0] = True
    return (torch.as_tensor(targets), torch.as_tensor(mask), torch.as_tensor(metric), torch.as_tensor(minor))


def dev_batches(data, seed: int = 0, count: int = 8, batch_size: int = 32):
    """Fixed dev batches for the harmonization task: soprano known, alto/tenor/bass all masked."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        targets, mask, metric, minor = make_batch(data, batch_size, rng)
        valid = targets != -1
        task_mask = torch.zeros_like(mask)
        task_mask[:, 1:] = True
        batches.append((targets, task_mask & valid, metric, minor))
    return batches


@torch.no_grad()
def dev_loss(model, batches) -> float:
    model.eval()
    losses = [float(model.masked_loss(t, m, mt, mi)) for t, m, mt, mi in batches]
    model.train()
    return float(np.mean(losses))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=45.0, help="training time budget")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--checkpoint-dir", type=Path, default=Path("/work/main/cache/checkpoints/harmonizer"))
    parser.add_argument("--checkpoint-minutes", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=Path("models/harmonizer.safetensors"))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init", type=Path, default=None,
                        help="start from these weights (e.g. the shipped ones) instead of random ones: a further run")
    parser.add_argument("--note", default=None, help="a line about this run for the weights' metadata")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    chorales = load_chorales()
    train, dev, heldout = split_chorales(chorales)
    train_data, dev_data = prepare(train), prepare(dev)
    print(f"chorales: {len(train)} train, {len(dev)} dev, {len(heldout)} held out (never read here)", flush=True)
    config = hz.HarmonizerConfig()
    model = hz.Harmonizer(config)
    if args.init is not None:  # continue from earlier weights (fp16 on disk, trained further in fp32)
        earlier = hz.load_harmonizer(args.init)
        config = earlier.config
        model = hz.Harmonizer(config)
        model.load_state_dict(earlier.state_dict())
        model.train()
        print(f"starting from {args.init.name}", flush=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    step, elapsed, best = 0, 0.0, float("inf")
    args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    last = args.checkpoint_dir / "last.pt"
    best_path = args.checkpoint_dir / "best.pt"
    rng = np.random.default_rng(args.seed)
    if args.resume and last.exists():
        state = torch.load(last, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed, best = int(state["step"]), float(state["elapsed"]), float(state["best"])
        rng = np.random.default_rng(args.seed + step)
        print(f"resumed at step {step}, {elapsed / 60:.1f} min, best dev {best:.4f}", flush=True)
    print(f"parameters: {model.parameter_count():,}", flush=True)
    dev_set = dev_batches(dev_data)
    budget = args.minutes * 60
    started = time.perf_counter() - elapsed
    last_checkpoint = time.perf_counter()
    history = []
    model.train()
    while True:
        elapsed = time.perf_counter() - started
        if elapsed >= budget:
            break
        for group in optimizer.param_groups:
            group["lr"] = hz.cosine_rate(int(elapsed), int(budget), args.lr, warmup=60)
        targets, mask, metric, minor = make_batch(train_data, args.batch_size, rng)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model.masked_loss(targets, mask, metric, minor)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 50 == 0:
            print(f"step {step} {elapsed / 60:.1f} min loss {float(loss):.4f}", flush=True)
        if time.perf_counter() - last_checkpoint >= args.checkpoint_minutes * 60:
            d = dev_loss(model, dev_set)
            history.append({"step": step, "minutes": round(elapsed / 60, 2), "train_loss": round(float(loss), 4), "dev_loss": round(d, 4)})
            if d < best:
                best = d
                torch.save({"model": model.state_dict()}, best_path)
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                        "elapsed": time.perf_counter() - started, "best": best}, last)
            with open(args.checkpoint_dir / "history.jsonl", "a") as f:
                f.write(json.dumps(history[-1]) + "\n")
            print(f"checkpoint: step {step}, dev loss {d:.4f} (best {best:.4f})", flush=True)
            last_checkpoint = time.perf_counter()
    d = dev_loss(model, dev_set)
    if d < best or not best_path.exists():
        best = d
        torch.save({"model": model.state_dict()}, best_path)
    model.load_state_dict(torch.load(best_path, weights_only=True)["model"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    hz.save_harmonizer(model, args.out, {
        "training": {"steps": step, "minutes": round((time.perf_counter() - started) / 60, 1), "batch_size": args.batch_size,
                     "dev_loss_nats_per_cell": round(best, 4), "train_chorales": len(train), "dev_chorales": len(dev),
                     "heldout_chorales": len(heldout), "window_steps": WINDOW_STEPS, "seed": args.seed,
                     "init": args.init.name if args.init is not None else None, "note": args.note},
    })
    print(f"wrote {args.out} (dev loss {best:.4f} after {step} steps)", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
