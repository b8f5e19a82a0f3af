"""Count the chord suggester's tables from the training chorales and write its weights.

``python -m composer_app.generation.train_chord_suggester [--out models/chord-suggester.safetensors]``

Only the training split is read (dev and held-out chorales are left for tuning and evaluation).
Counting takes about a second, fitting the per-beat chord classifier (scikit-learn) about ten;
the chorales are converted once and cached (:mod:`chorales`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from composer_app.arrange.suggest import CLASSIFIER_C, train_chord_model
from composer_app.generation.chorales import load_chorales, split_chorales


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/chord-suggester.safetensors"))
    args = parser.parse_args(argv)
    train, dev, heldout = split_chorales(load_chorales())
    model = train_chord_model(train)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out, {"training": {"train_chorales": len(train), "dev_chorales": len(dev), "heldout_chorales": len(heldout),
                                       "labels": "music21 chordify + romanNumeralFromChord, relative to music21's key analysis",
                                       "classifier": {"kind": "multinomial logistic regression, per beat", "C": CLASSIFIER_C}}})
    print(f"wrote {args.out} from {len(train)} chorales")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
