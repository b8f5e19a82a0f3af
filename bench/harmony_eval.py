"""Harmony evaluation, bench wrapper: ``composer-app evaluate --harmony`` plus a drawing and a render.

``python bench/harmony_eval.py [--quick]`` runs :func:`composer_app.generation.harmony_evaluation.evaluate_harmony`
(chord suggester vs Bach and a lookup baseline, harmonizer voice leading next to Bach's and the network's own
rate, NLL vs a Markov baseline, folk chord-tone rate, latency; dev and held-out apart), writes
``models/harmony-evaluation.json`` and ``.md`` (not with ``--quick``), the harmonization latency to
``bench/results/harmony_eval.json``, and a piano-roll PNG plus a FluidSynth render of one held-out
harmonization under ``tests/artifacts/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from composer_app.generation.harmony_evaluation import HarmonySettings, evaluate_harmony, markdown  # noqa: E402


def _draw_and_render(project, out_dir: Path, name: str) -> None:
    from composer_app.core.midifile import save_midi

    sys.path.insert(0, str(ROOT / "bench"))
    from _pianoroll_png import draw

    out_dir.mkdir(parents=True, exist_ok=True)
    mid = out_dir / "harmonized-heldout-chorale.mid"
    save_midi(project, mid)
    draw(project, out_dir / "harmonized-heldout-chorale.png", bars=8, title=f"{name}: Bach's soprano, harmonizer's alto/tenor/bass")
    import subprocess

    wav = out_dir / "harmonized-heldout-chorale.wav"
    subprocess.run([sys.executable, "-m", "composer_app", "render", str(mid), "-o", str(wav)], cwd=ROOT, check=False,
                   capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few chorales and melodies")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folk", type=int, default=300, help="folk melodies per split")
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = HarmonySettings.quick_settings(args.seed) if args.quick else HarmonySettings(folk=args.folk, seed=args.seed)
    out_dir = ROOT / "tests" / "artifacts"
    report = evaluate_harmony(settings, progress=lambda m: print(m, flush=True),
                              on_first=lambda project, name: _draw_and_render(project, out_dir, name))
    print(json.dumps(report, indent=1))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    if "latency" in report:
        (ROOT / "bench" / "results" / "harmony_eval.json").write_text(json.dumps(report["latency"], indent=1) + "\n")
    if not args.quick:
        (ROOT / "models" / "harmony-evaluation.json").write_text(json.dumps(report, indent=1) + "\n")
        (ROOT / "models" / "harmony-evaluation.md").write_text(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
