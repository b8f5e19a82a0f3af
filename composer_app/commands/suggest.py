"""`composer-app suggest IN.mid -o OUTDIR`: write candidate continuations of a clip as .mid files.

Each ``OUTDIR/candidate-N.mid`` holds only the generated bars, from its own time 0 (the bar after
the prompt), with the prompt's tempo and time signature. ``--json`` prints one object with the
paths, note counts, generator, seed and seconds. Bad input: one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from composer_app.errors import BadInputError

HELP = "suggest continuations of a MIDI clip (writes OUTDIR/candidate-1.mid …)"
# Below this the logits divided by the temperature overflow float32 (1e-40 gave NaN and empty
# candidates with exit 0); at 0.05 sampling is already all but greedy.
MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="the clip to continue (.mid)")
    parser.add_argument("-o", "--output", required=True, help="folder for candidate-1.mid … candidate-N.mid")
    parser.add_argument("--bars", type=int, default=4, help="bars to generate (default 4)")
    parser.add_argument("--candidates", type=int, default=4, help="how many continuations (default 4)")
    parser.add_argument("--valence", type=float, default=None, help="sad -1 … 1 happy")
    parser.add_argument("--arousal", type=float, default=None, help="calm -1 … 1 excited")
    parser.add_argument("--text", default=None, help="a line of the story: the mood is read from it")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (candidate i samples from a seed mixed from it and i)")
    parser.add_argument("--generator", default=None, help="generator name (default: transformer); A,B or 'all' compares them")
    parser.add_argument("--json", action="store_true", help="print one JSON object describing the result")


def _check_unit(name: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and -1.0 <= value <= 1.0):
        raise BadInputError(f"--{name} must be in range -1..1")


def run(args: argparse.Namespace) -> int:
    from composer_app.generation.engine import MAX_BARS, MAX_CANDIDATES

    _check_unit("valence", args.valence)
    _check_unit("arousal", args.arousal)
    if not 1 <= args.bars <= MAX_BARS:
        raise BadInputError(f"--bars must be in range 1..{MAX_BARS}")
    if not 1 <= args.candidates <= MAX_CANDIDATES:
        raise BadInputError(f"--candidates must be in range 1..{MAX_CANDIDATES}")
    if not (math.isfinite(args.temperature) and MIN_TEMPERATURE <= args.temperature <= MAX_TEMPERATURE):
        raise BadInputError(
            f"--temperature must be in range {MIN_TEMPERATURE:g}..{MAX_TEMPERATURE:g} (lower values overflow the "
            "sampling arithmetic and give no notes)"
        )
    if args.seed is not None and not 0 <= args.seed < 2**31:
        raise BadInputError("--seed must be in range 0..2147483647")
    path = Path(args.input)
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")

    from composer_app.core.midifile import load_midi
    from composer_app.mood.mood import Mood

    project = load_midi(path)  # MidiFileError is a BadInputError
    if project.note_count == 0:
        raise BadInputError(f"{path}: the clip holds no notes to continue")

    valence = args.valence
    arousal = args.arousal
    text_mood = None
    if args.text is not None:
        if not args.text.strip():
            raise BadInputError("--text is empty")
        from composer_app.mood.text import read_mood

        text_mood = read_mood(args.text).mood
    mood = None
    if valence is not None or arousal is not None or text_mood is not None:
        base_v = text_mood.valence if text_mood is not None else 0.0
        base_a = text_mood.arousal if text_mood is not None else 0.0
        mood = Mood(base_v if valence is None else valence, base_a if arousal is None else arousal)

    import torch

    from composer_app.generation import registry
    from composer_app.generation.engine import compare, suggest

    # Generation steps are tiny matrix products: a second thread only adds synchronisation (and
    # on a busy 2-core machine it was measured several times slower).
    torch.set_num_threads(1)

    name = args.generator or registry.DEFAULT_GENERATOR
    names = registry.names(shipped_only=True, capability="continue") if name == "all" else [n.strip() for n in name.split(",") if n.strip()]
    try:
        for each in names:
            registry.info(each)
    except KeyError as error:
        raise BadInputError(str(error.args[0])) from None
    if not names:
        raise BadInputError("--generator names no generator")
    name = ",".join(names)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    started = time.perf_counter()
    try:
        models = {each: registry.load_generator(each) for each in names}  # a WeightsError (hostile, broken) is exit 2
    except registry.WeightsNotFoundError as error:  # not the user's input: exit 1, one clear line
        print(f"composer-app: {error}", file=sys.stderr)
        return 1
    try:
        if len(names) > 1:  # the same request to each, one shared plan: candidates from every generator
            candidates = compare(
                project, names, mood, args.bars, args.candidates, seed, models=models, temperature=args.temperature,
            )
        else:
            candidates = suggest(
                project, mood, bars=args.bars, candidates=args.candidates, temperature=args.temperature,
                seed=seed, generator=name, model=models[name],
            )
    except ValueError as error:  # e.g. a meter the encoding does not cover
        raise BadInputError(f"{path}: {error}") from None
    empty = [number for number, candidate in enumerate(candidates, start=1) if not candidate.notes]
    if len(empty) == len(candidates):
        print(
            f"composer-app: the generator produced no notes for any of the {len(candidates)} candidates "
            f"(generator {name}, seed {seed}); nothing written",
            file=sys.stderr,
        )
        return 1
    paths = write_candidates(candidates, Path(args.output), "candidate",
                             lambda number, c: f"{c.generator} candidate {number} (seed {c.seed})")
    written = list(zip(paths, candidates))
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({
            "input": str(path),
            "generator": name,
            "seed": seed,
            "seconds": round(seconds, 3),
            "bars": args.bars,
            "mood": None if mood is None else {"valence": mood.valence, "arousal": mood.arousal},
            "key": str(candidates[0].key) if candidates else None,
            "candidates": [
                {
                    "path": str(target),
                    "generator": candidate.generator,
                    "notes": len(candidate.notes),
                    "seed": candidate.seed,
                    "seconds": round(candidate.seconds, 3),
                    "finished": candidate.finished,
                    "attributes": {k: round(v, 4) for k, v in candidate.attributes.as_dict().items()},
                }
                for target, candidate in written
            ],
        }))
    else:
        for target, candidate in written:
            print(f"{target}  {len(candidate.notes)} notes  {candidate.generator}  seed {candidate.seed}")
        print(f"{len(written)} candidates by {name} in {seconds:.2f} s (seed {seed})")
    if empty:
        print(f"composer-app: candidate {', '.join(map(str, empty))} holds no notes", file=sys.stderr)
    return 0


def write_candidates(candidates, out_dir: Path, stem: str, name_of) -> list[Path]:
    """Write each candidate as ``OUT_DIR/STEM-N.mid`` (N from 1), its track named ``name_of(N, candidate)``."""
    from composer_app.core.midifile import save_clip

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInputError(f"{out_dir}: cannot create the folder ({error.strerror or error})") from None
    paths = []
    for number, candidate in enumerate(candidates, start=1):
        target = out_dir / f"{stem}-{number}.mid"
        save_clip(
            candidate.notes, target, ticks_per_quarter=candidate.ticks_per_quarter, tempo_map=candidate.tempo_map,
            time_signatures=candidate.time_signatures, name=name_of(number, candidate),
        )
        paths.append(target)
    return paths
