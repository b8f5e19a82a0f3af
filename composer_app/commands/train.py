"""`composer-app train`: train a generator on the music21 corpus or a folder of .mid files.

Runs as one process, or as several under ``torchrun --nproc_per_node N -m composer_app train …``
(DDP). Fine-tune the shipped model on your own music with ``--data FOLDER --init models/transformer.safetensors``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from composer_app.errors import BadInputError

HELP = "train a generator (corpus or a folder of .mid files); resumable, DDP under torchrun"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="corpus", help="'corpus' (music21 corpus) or a folder of .mid files")
    parser.add_argument("--model", default="transformer", help="generator to train: transformer, lstm, gan (default: transformer)")
    parser.add_argument("--minutes", type=float, default=40.0, help="wall-time budget (default 40)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--out", type=Path, default=None, help="weights to write (default: models/MODEL.safetensors)")
    parser.add_argument("--init", type=Path, default=None, help="start from these weights (fine-tuning)")
    parser.add_argument("--no-resume", action="store_true", help="ignore OUT.ckpt and start afresh")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--layers", type=int, default=None, help="n_layer of the model's config")
    parser.add_argument("--d-model", type=int, default=None, help="d_model (width) of the model's config")
    parser.add_argument("--heads", type=int, default=None, help="n_head (Transformer)")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the model's)")
    parser.add_argument("--phrase-bars", type=int, default=None, help="bar-in-phrase embedding period (Transformer; 0 = none)")
    parser.add_argument("--pack", action="store_true", help="fill windows with further pieces instead of padding")
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--eval-windows", type=int, default=48)
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (faster only with AMX/AVX512-BF16)")
    parser.add_argument("--no-convert", action="store_true", help="use the corpus cache as it is")
    parser.add_argument("--cache-dir", type=Path, default=None, help="converted-corpus cache folder")
    parser.add_argument("--collections", default=None, help="comma-separated corpus collections")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from composer_app.generation import data as corpus_data
    from composer_app.generation import registry
    from composer_app.generation.training import TrainSettings, output_path, train

    try:
        generator_class = registry.generator_class(args.model)
    except KeyError as error:
        raise BadInputError(str(error.args[0])) from None
    if args.data != "corpus" and not Path(args.data).is_dir():
        raise BadInputError(f"--data must be 'corpus' or a folder of .mid files: {args.data}")
    if args.init is not None and not args.init.exists():
        raise BadInputError(f"--init weights not found: {args.init}")
    if args.minutes <= 0:
        raise BadInputError("--minutes must be > 0")
    collections = tuple(args.collections.split(",")) if args.collections else corpus_data.DEFAULT_COLLECTIONS
    if set(collections) & set(corpus_data.RESERVED_COLLECTIONS):
        raise BadInputError("oneills1850 is reserved for independent evaluation and is never trained on")
    config_class = generator_class.config_class
    known = {f.name for f in fields(config_class)}
    if args.phrase_bars is not None and args.phrase_bars < 0:
        raise BadInputError("--phrase-bars must be >= 0")
    overrides = {
        "n_layer": args.layers, "d_model": args.d_model, "n_head": args.heads, "block_size": args.block_size,
        "phrase_bars": args.phrase_bars,
    }
    unknown = [name for name, value in overrides.items() if value is not None and name not in known and name != "block_size"]
    if unknown:
        raise BadInputError(f"{args.model} has no config field {unknown[0]!r}")
    config = config_class(**{k: v for k, v in overrides.items() if v is not None and k in known})
    settings = TrainSettings(
        data=args.data,
        model=args.model,
        minutes=args.minutes,
        max_steps=args.max_steps,
        out=args.out,
        init=args.init,
        resume=not args.no_resume,
        batch_size=args.batch_size,
        block_size=args.block_size,
        learning_rate=args.lr if args.lr is not None else getattr(generator_class, "learning_rate", 1e-3),
        eval_every=args.eval_every,
        eval_windows=args.eval_windows,
        seed=args.seed,
        bf16=args.bf16,
        convert=not args.no_convert,
        threads=args.threads,
        cache_dir=args.cache_dir,
        collections=collections,
        config=config,
        pack=args.pack,
        progress=not args.quiet,
    )
    facts = train(settings)
    if facts:
        summary = {k: facts.get(k) for k in ("steps", "tokens_seen", "training_minutes", "parameters", "heldout_loss_per_token")}
        print(json.dumps({"out": str(output_path(settings)), **summary}))
    return 0
