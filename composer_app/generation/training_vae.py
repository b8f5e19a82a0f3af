"""Training the melody VAE: 2-bar segments of the corpus, KL annealing with free bits, attribute faders.

``python -m composer_app.generation.training_vae --minutes 45 [--resume]`` (or ``composer-app train
--model vae``) cuts the converted corpus into segments (``melody.segments_from_piece``), trains on the
training split with random transpositions (±6 semitones), checks a dev set carved from the training
pieces, and never reads the held-out split (``data.split``) except in the final report. Checkpoints
(every few minutes) make it resumable; the end writes fp16 weights with the config, the fader
calibration and the training facts in the metadata.

Loss per segment = reconstruction cross-entropy (nats) + beta * sum_i max(KL_i, free_bits)
+ gamma * attribute-regularisation loss. Beta rises linearly from 0 to ``beta_max`` over
``anneal_fraction`` of the budget (Bowman et al. 2016); the per-dimension free bits (Kingma et al.
2016) stop the optimiser from pushing a dimension's KL below ``free_bits`` nats, which keeps
dimensions alive instead of collapsing the posterior onto the prior.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from composer_app.generation import data as corpus_data
from composer_app.generation import melody
from composer_app.generation.vae import MelodyVAE, VAEConfig, model_from_state, save_vae

DEV_PERCENT = 3  # share of training pieces (by a second hash) kept out of training for tuning


@dataclass
class VAETrainSettings:
    data: str = "corpus"  # "corpus" (the converted music21 collections) or a folder of .mid files
    minutes: float = 45.0  # wall-time budget for the optimisation steps
    max_steps: int | None = None  # stop earlier after this many steps (tests)
    out: Path = Path("models/vae.safetensors")
    checkpoint_dir: Path = Path("cache/checkpoints/vae")
    resume: bool = True  # continue from the checkpoint when it exists
    batch_size: int = 128  # segments per step
    learning_rate: float = 2e-3  # peak; cosine decay to 5 % over the budget
    beta_max: float = 0.2  # final KL weight (low: 2-bar reconstruction matters more than prior samples)
    anneal_fraction: float = 0.3  # share of the budget over which beta rises from 0 to beta_max
    free_bits: float = 0.5  # nats per latent dimension below which KL is not penalised
    fader_weight: float = 1.0  # gamma: weight of the attribute-regularisation loss
    mode_pair_weight: float = 1.0  # weight of the parallel-mode swap loss that teaches the mode fader (0: off)
    mode_pairs_per_step: int = 32  # segments of each batch that also bring their parallel-mode version
    init_weights: Path | None = None  # start from these weights (fine-tuning) instead of a fresh model
    transpose_semitones: int = 6  # random transposition range for augmentation
    checkpoint_minutes: float = 3.0
    seed: int = 0
    cache_dir: Path | None = None  # converted corpus (data.default_cache_dir())
    segment_cache: Path = Path("cache/vae-segments.npz")
    mode_pair_cache: Path | None = Path("cache/vae-mode-pairs.npz")
    config: VAEConfig = field(default_factory=VAEConfig)


def is_dev(source_id: str) -> bool:
    """A deterministic dev subset of the training pieces (a second hash, independent of the held-out one)."""
    digest = hashlib.sha1(("dev:" + source_id).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < DEV_PERCENT


def build_segments(cache_dir: Path | None = None, segment_cache: Path | None = None, data: str = "corpus") -> dict[str, np.ndarray]:
    """Segments and attributes of the train / dev / held-out splits (cached as one .npz, no pickle).

    ``data``: "corpus" (the converted corpus in ``cache_dir``) or a folder of .mid files.
    """
    if segment_cache is not None and Path(segment_cache).exists():
        with np.load(segment_cache, allow_pickle=False) as cached:
            return {k: cached[k] for k in cached.files}
    if data == "corpus":
        pieces = corpus_data.load_corpus(cache_dir=cache_dir)
    else:
        pieces = corpus_data.load_midi_folder(Path(data))
    train_pieces, heldout_pieces = corpus_data.split(pieces)
    groups = {"train": [], "dev": [], "heldout": []}
    for piece in train_pieces:
        groups["dev" if is_dev(piece.source_id) else "train"].append(melody.segments_from_piece(piece))
    for piece in heldout_pieces:
        groups["heldout"].append(melody.segments_from_piece(piece))
    out = {}
    for name, parts in groups.items():
        tokens = np.concatenate(parts) if parts else np.zeros((0, melody.SEGMENT_STEPS), np.int64)
        out[name] = tokens.astype(np.int8)
        out[name + "_attributes"] = melody.attribute_matrix(tokens)
    if segment_cache is not None:
        Path(segment_cache).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(segment_cache, **out)
    return out


def build_mode_pairs(tokens: np.ndarray, cache: Path | None = None) -> dict[str, np.ndarray]:
    """Each segment's parallel-mode version (``melody.parallel_mode``) and its attributes, where one exists.

    Returns ``index`` (rows that have a partner), ``tokens`` (their partners) and ``attributes``;
    cached as one .npz (no pickle) next to the segment cache.
    """
    if cache is not None and Path(cache).exists():
        with np.load(cache, allow_pickle=False) as cached:
            if int(cached["rows"]) == len(tokens):
                return {k: cached[k] for k in ("index", "tokens", "attributes")}
    index, partners = [], []
    for i, row in enumerate(np.asarray(tokens, dtype=np.int64)):
        partner = melody.parallel_mode(row)
        if partner is not None:
            index.append(i)
            partners.append(partner)
    partners = np.stack(partners) if partners else np.zeros((0, melody.SEGMENT_STEPS), np.int64)
    out = {"index": np.asarray(index, dtype=np.int64), "tokens": partners.astype(np.int8), "attributes": melody.attribute_matrix(partners)}
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, rows=np.int64(len(tokens)), **out)
    return out


def with_mode_pairs(batch: torch.Tensor, attributes: torch.Tensor, shift: torch.Tensor, partners: torch.Tensor,
                    partner_attributes: torch.Tensor, slots: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The batch with the partners of rows ``slots`` appended (moved by those rows' shifts) and the (row, partner row) pairs.

    A partner that the shift would move out of the pitch range is left out.
    """
    moved = torch.where(partners >= melody.NOTE_ON, partners + shift[slots, None], partners)
    on = partners >= melody.NOTE_ON
    ok = ~(on & ((moved < melody.NOTE_ON) | (moved >= melody.VOCAB_SIZE))).any(dim=1)
    moved, slots = moved[ok], slots[ok]
    moved_attributes = transposed_attributes(partner_attributes[ok], shift[slots])
    pairs = torch.stack([slots, len(batch) + torch.arange(len(slots))], dim=1)
    return torch.cat([batch, moved]), torch.cat([attributes, moved_attributes]), pairs


def transpose_batch(tokens: torch.Tensor, max_shift: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row moved by a random number of semitones in ±max_shift (0 where a note would leave the range).

    Returns the moved rows and the shift of each row (B,).
    """
    shift = torch.randint(-max_shift, max_shift + 1, (tokens.shape[0], 1), generator=gen)
    on = tokens >= melody.NOTE_ON
    moved = torch.where(on, tokens + shift, tokens)
    bad = (on & ((moved < melody.NOTE_ON) | (moved >= melody.VOCAB_SIZE))).any(dim=1, keepdim=True)
    shift = torch.where(bad, torch.zeros_like(shift), shift)
    return torch.where(bad, tokens, moved), shift[:, 0]


def transposed_attributes(attributes: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Fader attributes after a transposition: only ``pitch_mean`` moves (by the shift, exactly);
    note density and major-mode strength (best key over all tonics) do not change."""
    out = attributes.clone()
    out[:, melody.FADER_ATTRIBUTES.index("pitch_mean")] += shift.to(out.dtype)
    return out


@torch.no_grad()
def reconstruction(model: MelodyVAE, tokens: np.ndarray, batch_size: int = 512) -> dict[str, float]:
    """Greedy reconstruction from the posterior mean: exact notes and exact token steps."""
    was_training = model.training
    model.eval()
    note_shares, token_hits, whole = [], 0, 0
    for i in range(0, len(tokens), batch_size):
        batch = torch.from_numpy(tokens[i : i + batch_size].astype(np.int64))
        mu, _ = model.encode(batch)
        decoded = model.decode(mu).numpy()
        for ref, out in zip(batch.numpy(), decoded):
            note_shares.append(melody.exact_note_share(ref, out))
        token_hits += int((decoded == batch.numpy()).sum())
        whole += int((decoded == batch.numpy()).all(axis=1).sum())
    model.train(was_training)  # an evaluation after this must not decode with dropout
    return {
        "notes_exact": float(np.mean(note_shares)) if note_shares else 0.0,
        "steps_exact": token_hits / max(1, tokens.size),
        "segments_exact": whole / max(1, len(tokens)),
    }


@torch.no_grad()
def kl_statistics(model: MelodyVAE, tokens: np.ndarray, batch_size: int = 512) -> dict:
    """KL per dimension (nats, mean over segments) and active dimensions (Burda et al.: Var_x E[z_i] > 0.01)."""
    was_training = model.training
    model.eval()
    mus, kls = [], []
    for i in range(0, len(tokens), batch_size):
        batch = torch.from_numpy(tokens[i : i + batch_size].astype(np.int64))
        mu, logvar = model.encoder(batch)
        mus.append(mu)
        kls.append(0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar))
    model.train(was_training)
    mu = torch.cat(mus)
    kl = torch.cat(kls).mean(0)
    activity = mu.var(0)
    return {
        "kl_per_dim": [round(float(v), 3) for v in kl],
        "kl_total": float(kl.sum()),
        "activity_per_dim": [round(float(v), 4) for v in activity],
        "active_dims": int((activity > 0.01).sum()),
        "latent_dim": int(mu.shape[1]),
    }


@torch.no_grad()
def calibrate(model: MelodyVAE, tokens: np.ndarray, attributes: np.ndarray, bins: int = 24) -> dict:
    """Fader tables: for fader i, posterior-mean quantiles of z_i and the mean attribute in each bin.

    The attribute column is made monotone (running maximum), so a target attribute maps to one
    fader value by linear interpolation (``vary.fader_value``). Also stores each dimension's spread.
    """
    was_training = model.training
    model.eval()
    mus = []
    for i in range(0, len(tokens), 512):
        mus.append(model.encode(torch.from_numpy(tokens[i : i + 512].astype(np.int64)))[0])
    mu = torch.cat(mus).numpy()
    model.train(was_training)
    table = {"faders": {}, "z_std": [round(float(v), 4) for v in mu.std(0)], "z_mean": [round(float(v), 4) for v in mu.mean(0)]}
    for i, name in enumerate(model.config.fader_attributes):
        edges = np.quantile(mu[:, i], np.linspace(0, 1, bins + 1))
        z_values, attr_values = [], []
        for lo, hi in zip(edges[:-1], edges[1:]):
            inside = (mu[:, i] >= lo) & (mu[:, i] <= hi)
            if inside.any():
                z_values.append(float(mu[inside, i].mean()))
                attr_values.append(float(attributes[inside, i].mean()))
        attr_values = list(np.maximum.accumulate(attr_values))
        table["faders"][name] = {"dim": i, "z": [round(v, 4) for v in z_values], "attribute": [round(v, 4) for v in attr_values]}
    return table


def _checkpoint_path(settings: VAETrainSettings) -> Path:
    return Path(settings.checkpoint_dir) / "vae.ckpt"


def train(settings: VAETrainSettings, log=print) -> dict:
    """Train and write ``settings.out``; returns the training facts."""
    torch.set_num_threads(1)
    torch.manual_seed(settings.seed)
    segments = build_segments(settings.cache_dir, settings.segment_cache, settings.data)
    if len(segments["train"]) == 0:
        raise ValueError("no 2-bar segments of 4/4 material on the 16th grid in the training data")
    train_tokens = torch.from_numpy(segments["train"].astype(np.int64))
    train_attributes = torch.from_numpy(segments["train_attributes"])
    dev_tokens = segments["dev"][:1024]
    log(f"segments: train {len(segments['train'])}, dev {len(segments['dev'])}, held-out {len(segments['heldout'])}")
    if settings.init_weights is not None:  # fine-tuning: the config comes with the weights
        from composer_app.generation.vae import load_vae

        model = load_vae(settings.init_weights)
        model.calibration = {}
        settings.config = model.config
        log(f"starting from {Path(settings.init_weights).name}")
    else:
        model = MelodyVAE(settings.config)
    swap_dim = None
    if settings.mode_pair_weight > 0 and "major_strength" in settings.config.fader_attributes:
        swap_dim = settings.config.fader_attributes.index("major_strength")
        mode_pairs = build_mode_pairs(segments["train"], settings.mode_pair_cache if settings.segment_cache is not None else None)
        partner_of = torch.full((len(train_tokens),), -1, dtype=torch.long)
        partner_of[torch.from_numpy(mode_pairs["index"])] = torch.arange(len(mode_pairs["index"]))
        partner_tokens = torch.from_numpy(mode_pairs["tokens"].astype(np.int64))
        partner_attributes = torch.from_numpy(mode_pairs["attributes"])
        log(f"parallel-mode partners: {len(mode_pairs['index'])} of {len(train_tokens)} training segments")
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    gen = torch.Generator().manual_seed(settings.seed)
    step, spent_s = 0, 0.0
    history = []
    ckpt = _checkpoint_path(settings)
    if settings.resume and ckpt.exists():
        saved = torch.load(ckpt, weights_only=True)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step, spent_s = int(saved["step"]), float(saved["spent_s"])
        history = json.loads(saved["history"])
        gen.manual_seed(settings.seed + step)
        log(f"resumed at step {step} after {spent_s / 60:.1f} min")
    budget_s = settings.minutes * 60
    last_ckpt = time.monotonic()
    started = time.monotonic() - spent_s
    model.train()
    while True:
        spent_s = time.monotonic() - started
        if spent_s >= budget_s or (settings.max_steps is not None and step >= settings.max_steps):
            break
        fraction = spent_s / budget_s
        lr = settings.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * fraction)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        beta = settings.beta_max * (min(1.0, fraction / settings.anneal_fraction) if settings.anneal_fraction > 0 else 1.0)
        rows = torch.randint(0, len(train_tokens), (settings.batch_size,), generator=gen)
        batch, shift = transpose_batch(train_tokens[rows], settings.transpose_semitones, gen)
        attributes = transposed_attributes(train_attributes[rows], shift)
        pairs = None
        if swap_dim is not None:
            slots = torch.nonzero(partner_of[rows] >= 0)[:, 0][: settings.mode_pairs_per_step]
            partner = partner_of[rows[slots]]
            batch, attributes, pairs = with_mode_pairs(batch, attributes, shift, partner_tokens[partner], partner_attributes[partner], slots)
        terms = model.loss(batch, attributes, pairs, swap_dim)
        kl = terms["kl_per_dim"].clamp(min=settings.free_bits).sum()
        loss = terms["recon"] + beta * kl + settings.fader_weight * terms["fader"] + settings.mode_pair_weight * (terms["swap"] + terms["pair_order"] + terms["pair_invariance"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 50 == 0:
            log(
                f"step {step} {spent_s / 60:.1f} min lr {lr:.2e} beta {beta:.3f} recon {terms['recon'].item():.2f} "
                f"kl {terms['kl_per_dim'].sum().item():.1f} fader {terms['fader'].item():.3f} swap {terms['swap'].item():.2f} order {terms['pair_order'].item():.3f} invariance {terms['pair_invariance'].item():.2f} acc {terms['accuracy'].item():.3f}"
            )
        if time.monotonic() - last_ckpt >= settings.checkpoint_minutes * 60:
            dev = reconstruction(model, dev_tokens)
            history.append({"step": step, "minutes": round(spent_s / 60, 2), "beta": round(beta, 4), **dev})
            log(f"dev reconstruction at step {step}: {dev}")
            _save_checkpoint(model, optimizer, step, time.monotonic() - started, history, ckpt)
            last_ckpt = time.monotonic()
    spent_s = time.monotonic() - started
    _save_checkpoint(model, optimizer, step, spent_s, history, ckpt)
    return finish(model, settings, segments, step, spent_s, history, log)


def _save_checkpoint(model, optimizer, step, spent_s, history, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "spent_s": spent_s, "history": json.dumps(history)},
        tmp,
    )
    tmp.replace(path)


def finish(model: MelodyVAE, settings: VAETrainSettings, segments: dict, step: int, spent_s: float, history: list, log=print) -> dict:
    """Calibrate the faders on training segments, measure dev figures, and write the fp16 weights."""
    model.eval()
    sample = np.random.default_rng(settings.seed).choice(len(segments["train"]), min(20000, len(segments["train"])), replace=False)
    calibration = calibrate(model, segments["train"][sample], segments["train_attributes"][sample])
    dev = reconstruction(model, segments["dev"])
    facts = {
        "data": ("music21 corpus: " + ", ".join(corpus_data.DEFAULT_COLLECTIONS) if settings.data == "corpus" else "the .mid files of a folder")
        + " (4/4, 2/4, 2/2 pieces; 2-bar segments, stride 1 bar)",
        "train_segments": int(len(segments["train"])),
        "dev_segments": int(len(segments["dev"])),
        "heldout_segments": int(len(segments["heldout"])),
        "steps": step,
        "segments_seen": step * settings.batch_size,
        "training_minutes": round(spent_s / 60, 1),
        "parameters": model.parameter_count(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(settings).items() if k != "config"},
        "dev_reconstruction": dev,
        "history": history,
    }
    if settings.init_weights is not None:  # a fine-tuning: keep the facts of the training it started from
        from composer_app.generation.registry import read_metadata

        base = json.loads(read_metadata(settings.init_weights).get("training", "{}"))
        facts["fine_tuned_from"] = base
        facts["settings"]["init_weights"] = Path(settings.init_weights).name
    save_vae(model, settings.out, {"training": facts, "calibration": calibration})
    log(f"wrote {settings.out}: dev reconstruction {dev}")
    model.calibration = calibration
    return facts


def export_checkpoint(settings: VAETrainSettings, log=print) -> dict:
    """Write the weights from the last checkpoint (e.g. after a run was stopped)."""
    saved = torch.load(_checkpoint_path(settings), weights_only=True)
    model = MelodyVAE(settings.config)
    model.load_state_dict(saved["model"])
    segments = build_segments(settings.cache_dir, settings.segment_cache, settings.data)
    return finish(model, settings, segments, int(saved["step"]), float(saved["spent_s"]), json.loads(saved["history"]), log)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="train the melody VAE on the converted corpus")
    parser.add_argument("--minutes", type=float, default=45.0)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("models/vae.safetensors"))
    parser.add_argument("--checkpoint-dir", type=Path, default=Path("cache/checkpoints/vae"))
    parser.add_argument("--segment-cache", type=Path, default=Path("cache/vae-segments.npz"))
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--export", action="store_true", help="only write the weights from the checkpoint")
    parser.add_argument("--beta-max", type=float, default=0.2)
    parser.add_argument("--free-bits", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=VAEConfig.latent_dim)
    parser.add_argument("--learning-rate", type=float, default=VAETrainSettings.learning_rate)
    parser.add_argument("--anneal-fraction", type=float, default=VAETrainSettings.anneal_fraction)
    parser.add_argument("--mode-pair-weight", type=float, default=VAETrainSettings.mode_pair_weight)
    parser.add_argument("--init-weights", type=Path, default=None, help="fine-tune these weights (config from the file)")
    args = parser.parse_args(argv)
    settings = VAETrainSettings(
        minutes=args.minutes, max_steps=args.max_steps, out=args.out, checkpoint_dir=args.checkpoint_dir,
        segment_cache=args.segment_cache, resume=args.resume, beta_max=args.beta_max, free_bits=args.free_bits,
        batch_size=args.batch_size, config=VAEConfig(latent_dim=args.latent_dim), learning_rate=args.learning_rate,
        anneal_fraction=args.anneal_fraction, mode_pair_weight=args.mode_pair_weight, init_weights=args.init_weights,
    )
    log = lambda text: print(text, flush=True)  # noqa: E731
    if args.export:
        export_checkpoint(settings, log)
    else:
        train(settings, log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
