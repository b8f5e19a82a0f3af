"""`composer-app harmonize IN.mid -o OUT.mid`: write chorale voices under the melody of a MIDI file.

The melody is the highest voice of IN.mid; OUT.mid holds IN.mid's tracks unchanged plus one new
track per voice (Alto, Tenor, Bass for ``--voices 4``). ``--json`` prints the paths, voices,
note counts, mode, seed and seconds taken.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from composer_app.errors import BadInputError

HELP = "harmonize the melody of a MIDI file into chorale voices (alto, tenor, bass)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="the melody (.mid; its highest voice is the melody)")
    parser.add_argument("-o", "--output", required=True, help="the .mid file to write")
    parser.add_argument("--voices", type=int, default=4, help="voices in all, the melody included: 2, 3 or 4 (default 4)")
    parser.add_argument("--valence", type=float, default=0.0, help="sad -1 … 1 happy (default 0)")
    parser.add_argument("--arousal", type=float, default=0.0, help="calm -1 … 1 excited (default 0)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one each run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object describing the result")


def run(args: argparse.Namespace) -> int:
    from composer_app.commands.accompany import check_unit, load_input

    check_unit("valence", args.valence)
    check_unit("arousal", args.arousal)
    if args.voices not in (2, 3, 4):
        raise BadInputError("--voices must be 2, 3 or 4")
    if args.seed is not None and not 0 <= args.seed < 2**31:
        raise BadInputError("--seed must be in range 0..2147483647")
    path = Path(args.input)
    project = load_input(path)

    import torch

    from composer_app.core.midifile import save_midi
    from composer_app.generation import harmonize as hm

    torch.set_num_threads(1)  # small matrix products: a second thread only adds synchronisation
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    started = time.perf_counter()
    try:
        model = hm.load_default_harmonizer()
    except (OSError, ValueError) as error:  # missing or damaged weights: not the user's input
        print(f"composer-app: cannot load the harmonizer weights ({error})", file=sys.stderr)
        return 1
    result = hm.harmonize(project, voices=args.voices, valence=args.valence, arousal=args.arousal, seed=seed, model=model)
    out = project.with_tracks(project.tracks + result.tracks)
    target = Path(args.output)
    save_midi(out, target)
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({
            "input": str(path),
            "output": str(target),
            "voices": args.voices,
            "melody_notes": len(result.melody),
            "mode": "minor" if result.minor else "major",
            "tracks": [{"name": t.name, "program": t.program, "channel": t.channel, "notes": len(t.notes)} for t in result.tracks],
            "seed": seed,
            "seconds": round(seconds, 3),
            "harmonize_seconds": round(result.seconds, 3),
            "mood": {"valence": args.valence, "arousal": args.arousal},
        }))
    else:
        print(f"{target}: {', '.join(f'{t.name} {len(t.notes)} notes' for t in result.tracks)} under "
              f"{len(result.melody)} melody notes ({'minor' if result.minor else 'major'}, seed {seed}, {seconds:.2f} s)")
    return 0
