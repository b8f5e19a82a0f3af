"""`composer-app vary IN.mid -o OUTDIR`: variations of a clip by the VAE (``variation-1.mid`` …).

The clip is cut into 2-bar groups (8 beats), each encoded into the VAE's latent space and sampled
around: ``--amount`` 0 gives the clip back, 1 a free melody. ``--valence``/``--arousal`` move the
mood faders (note density, mode, register) toward the mood. Each file holds one variation from its
own time 0, in the clip's tempo and meter. ``--json`` prints one object with the paths, note counts,
seed and seconds. Bad input: one line on stderr, exit code 2; a missing or broken weights file: exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from composer_app.commands.suggest import _check_unit, write_candidates
from composer_app.errors import BadInputError

HELP = "variations of a MIDI clip by the VAE (writes OUTDIR/variation-1.mid …)"
GENERATOR = "vae"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="the clip to vary (.mid)")
    parser.add_argument("-o", "--output", required=True, help="folder for variation-1.mid … variation-N.mid")
    parser.add_argument("--candidates", type=int, default=8, help="how many variations (default 8)")
    parser.add_argument("--amount", type=float, default=0.3, help="how different: 0 = the clip back … 1 = free (default 0.3)")
    parser.add_argument("--valence", type=float, default=None, help="push toward a mood: sad -1 … 1 happy")
    parser.add_argument("--arousal", type=float, default=None, help="push toward a mood: calm -1 … 1 excited")
    parser.add_argument("--seed", type=int, default=None, help="random seed (same seed, same variations)")
    parser.add_argument("--json", action="store_true", help="print one JSON object describing the result")


def load_clip(path: Path):
    """A .mid file -> the generators' Clip (all its pitched notes), or BadInputError."""
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    from composer_app.core.midifile import load_midi
    from composer_app.generation.engine import prompt_from

    project = load_midi(path)  # MidiFileError is a BadInputError
    if not any(n.channel != 9 for t in project.tracks for n in t.notes):
        raise BadInputError(f"{path}: the clip holds no pitched notes")
    return prompt_from(project)


def load_vae():
    """The shipped VAE generator; a missing or broken file raises registry.WeightsError."""
    import torch

    from composer_app.generation import registry

    torch.set_num_threads(1)  # small batched LSTM steps: one thread is fastest on a busy machine
    return registry.load_generator(GENERATOR)


def candidate_json(path: Path, candidate) -> dict:
    return {
        "path": str(path),
        "notes": len(candidate.notes),
        "bars": candidate.bars,
        "attributes": {k: round(v, 4) for k, v in candidate.attributes.as_dict().items()},
    }


def run(args: argparse.Namespace) -> int:
    import math

    from composer_app.generation.generator import MAX_CANDIDATES

    _check_unit("valence", args.valence)
    _check_unit("arousal", args.arousal)
    if not 1 <= args.candidates <= MAX_CANDIDATES:
        raise BadInputError(f"--candidates must be in range 1..{MAX_CANDIDATES}")
    if not (math.isfinite(args.amount) and 0.0 <= args.amount <= 1.0):
        raise BadInputError("--amount must be in range 0..1")
    if args.seed is not None and not 0 <= args.seed < 2**31:
        raise BadInputError("--seed must be in range 0..2147483647")
    path = Path(args.input)
    clip = load_clip(path)

    from composer_app.generation import registry
    from composer_app.generation.generator import VaryRequest
    from composer_app.mood.mood import Mood

    mood = None
    if args.valence is not None or args.arousal is not None:
        mood = Mood(args.valence or 0.0, args.arousal or 0.0)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    started = time.perf_counter()
    try:
        generator = load_vae()
    except registry.WeightsError as error:  # not the user's input: exit 1, one clear line
        print(f"composer-app: {error}", file=sys.stderr)
        return 1
    request = VaryRequest(clip, candidates=args.candidates, amount=args.amount, moods=(mood,) if mood else (), seed=seed)
    candidates = generator.vary(request)
    paths = write_candidates(candidates, Path(args.output), "variation",
                             lambda number, _c: f"vae variation (amount {args.amount:g}, seed {seed}) {number}")
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({
            "input": str(path),
            "generator": GENERATOR,
            "seed": seed,
            "amount": args.amount,
            "seconds": round(seconds, 3),
            "mood": None if mood is None else {"valence": mood.valence, "arousal": mood.arousal},
            "candidates": [candidate_json(p, c) for p, c in zip(paths, candidates)],
        }))
    else:
        for target, candidate in zip(paths, candidates):
            print(f"{target}  {len(candidate.notes)} notes")
        print(f"{len(paths)} variations (amount {args.amount:g}) in {seconds:.2f} s (seed {seed})")
    return 0
