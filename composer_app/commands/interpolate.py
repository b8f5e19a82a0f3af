"""`composer-app interpolate A.mid B.mid -o OUTDIR --steps N`: N clips morphing A into B (the VAE).

Writes ``OUTDIR/step-1.mid`` (A, as the model reproduces it) … ``step-N.mid`` (B) and
``OUTDIR/bridge.mid`` with the steps laid end to end. Clips longer than 2 bars are interpolated
2-bar group by 2-bar group (the shorter clip's groups repeat). ``--json`` prints one object with the
paths, note counts, how many of A's and B's notes the end steps reproduce exactly, and seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from composer_app.commands.suggest import write_candidates
from composer_app.commands.vary import GENERATOR, candidate_json, load_clip, load_vae
from composer_app.errors import BadInputError

HELP = "interpolate between two MIDI clips with the VAE (writes OUTDIR/step-1.mid … and bridge.mid)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("start", help="the clip to start from (.mid)")
    parser.add_argument("end", help="the clip to arrive at (.mid)")
    parser.add_argument("-o", "--output", required=True, help="folder for step-1.mid … step-N.mid and bridge.mid")
    parser.add_argument("--steps", type=int, default=4, help="clips from A to B, both ends included (default 4)")
    parser.add_argument("--json", action="store_true", help="print one JSON object describing the result")


def run(args: argparse.Namespace) -> int:
    from composer_app.generation.generator import MAX_CANDIDATES

    if not 2 <= args.steps <= MAX_CANDIDATES:
        raise BadInputError(f"--steps must be in range 2..{MAX_CANDIDATES}")
    start_path, end_path = Path(args.start), Path(args.end)
    start, end = load_clip(start_path), load_clip(end_path)

    from composer_app.core.midifile import save_clip
    from composer_app.generation import registry
    from composer_app.generation.bridge import bridge, reproduced_share
    from composer_app.generation.generator import InterpolateRequest

    started = time.perf_counter()
    try:
        generator = load_vae()
    except registry.WeightsError as error:
        print(f"composer-app: {error}", file=sys.stderr)
        return 1
    steps = generator.interpolate(InterpolateRequest(start, end, steps=args.steps))
    out_dir = Path(args.output)
    paths = write_candidates(steps, out_dir, "step", lambda number, _c: f"vae interpolation step {number}")
    joined = bridge(steps)
    bridge_path = out_dir / "bridge.mid"
    save_clip(
        joined.notes, bridge_path, ticks_per_quarter=joined.ticks_per_quarter, tempo_map=joined.tempo_map,
        time_signatures=joined.time_signatures, name=f"vae bridge ({args.steps} steps)",
    )
    seconds = time.perf_counter() - started
    ends = {"start": round(reproduced_share(start, steps[0]), 4), "end": round(reproduced_share(end, steps[-1]), 4)}
    if args.json:
        print(json.dumps({
            "start": str(start_path),
            "end": str(end_path),
            "generator": GENERATOR,
            "steps": [candidate_json(p, c) for p, c in zip(paths, steps)],
            "bridge": {"path": str(bridge_path), "notes": len(joined.notes)},
            "endpoints_reproduced": ends,
            "seconds": round(seconds, 3),
        }))
    else:
        for target, candidate in zip(paths, steps):
            print(f"{target}  {len(candidate.notes)} notes")
        print(f"{bridge_path}  {len(joined.notes)} notes (all steps in a row)")
        print(f"{len(steps)} steps in {seconds:.2f} s; the ends reproduce {ends['start']:.0%} of A's and {ends['end']:.0%} of B's notes")
    return 0
