"""Train the story reader's linear layer (ridge regression) and write its weights and report.

Run: ``python -m composer_app.mood.story_reader_training --dev tests/mood/story_sentences_dev.tsv``
(needs scikit-learn, the ``eval`` extra). The features are all-mpnet-base-v2 sentence embeddings
(``mood.mpnet_encoder``). Two measurements, then the final fit:

1. *development*: fitted on ``resources/text_emotion/situations_train.tsv`` alone, scored on the
   development file (sign accuracy per axis), for each ridge strength;
2. *cross-validation*: 5 folds over the training and development sentences together;

the ridge strength with the best cross-validated sign accuracy (both axes summed) is kept, and the
shipped layer is fitted on all of them (with ``--train-on-dev``, the default; ``--no-train-on-dev``
fits on the training file only). Writes ``models/story_reader.safetensors`` (fp16, config in the
metadata) and ``models/story_reader.json``. The held-out file is never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from composer_app.mood import story_reader
from composer_app.paths import models_dir, resources_dir

TRAINING_FILE = "text_emotion/situations_train.tsv"
ALPHAS = (0.3, 1.0, 3.0, 10.0)  # ridge strengths tried in cross-validation
FOLDS = 5
SEED = 0


def load_labelled(path: Path) -> tuple[list[str], np.ndarray]:
    """Sentences and (valence, arousal) from a labelled TSV file.

    Two layouts: ``valence<TAB>arousal<TAB>sentence`` lines (``#`` comments allowed), or a header
    line naming the columns (``text``, ``valence``, ``arousal``, any others ignored).
    """
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    columns = {"valence": 0, "arousal": 1, "text": 2}
    if lines and "text" in lines[0].split("\t"):
        header = [name.strip().lower() for name in lines.pop(0).split("\t")]
        columns = {name: header.index(name) for name in ("valence", "arousal", "text")}
    sentences, labels = [], []
    for number, line in enumerate(lines, 1):
        fields = line.split("\t")
        try:
            valence, arousal = float(fields[columns["valence"]]), float(fields[columns["arousal"]])
            text = fields[columns["text"]].strip()
        except (ValueError, IndexError):
            raise ValueError(f"{path.name}: line {number}: expected valence, arousal and text") from None
        sentences.append(text)
        labels.append((valence, arousal))
    return sentences, np.array(labels, dtype=np.float32).reshape(-1, 2)


def sign_accuracy(predicted: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Share of rows whose predicted valence (arousal) has the label's sign (zero counts as positive)."""
    agree = (predicted >= 0) == (labels >= 0)
    return float(agree[:, 0].mean()), float(agree[:, 1].mean())


def fit(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import Ridge

    model = Ridge(alpha=alpha).fit(x, y)
    return model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32)


def cross_validated_predictions(x: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """Each row predicted by a model fitted on the other folds (``FOLDS`` folds, fixed seed)."""
    rng = np.random.default_rng(SEED)
    folds = np.array_split(rng.permutation(len(x)), FOLDS)
    predicted = np.zeros_like(y)
    for fold in folds:
        train = np.setdiff1d(np.arange(len(x)), fold)
        weights, bias = fit(x[train], y[train], alpha)
        predicted[fold] = x[fold] @ weights + bias
    return predicted


def cross_validate(x: np.ndarray, y: np.ndarray) -> dict[float, tuple[float, float]]:
    return {alpha: sign_accuracy(cross_validated_predictions(x, y, alpha), y) for alpha in ALPHAS}


def main(argv: list[str] | None = None) -> int:
    from safetensors.numpy import save_file

    from composer_app.mood.mpnet_encoder import shared_encoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, required=True, help="the development TSV (scored; trained on with --train-on-dev)")
    parser.add_argument("--train-on-dev", action=argparse.BooleanOptionalAction, default=True,
                        help="fit the shipped layer on the development sentences too (default: yes)")
    parser.add_argument("--out", type=Path, default=models_dir(), help="folder for the weights and report")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    encoder = shared_encoder()
    sentences, labels = load_labelled(resources_dir() / TRAINING_FILE)
    dev_sentences, dev_labels = load_labelled(args.dev)
    x = story_reader.features(encoder, sentences)
    dev_x = story_reader.features(encoder, dev_sentences)
    dev_scores = {}
    for a in ALPHAS:
        w, b = fit(x, labels, a)
        dev_scores[a] = sign_accuracy(np.clip(dev_x @ w + b, -1, 1), dev_labels)
    pooled_x, pooled_labels = np.concatenate([x, dev_x]), np.concatenate([labels, dev_labels])
    cv_scores = {a: sign_accuracy(cross_validated_predictions(pooled_x, pooled_labels, a), pooled_labels) for a in ALPHAS}
    alpha = max(ALPHAS, key=lambda a: (sum(cv_scores[a]), -a))
    fit_x, fit_labels = (pooled_x, pooled_labels) if args.train_on_dev else (x, labels)
    weights, bias = fit(fit_x, fit_labels, alpha)
    # Ridge shrinks its outputs toward the mean: scale each axis so that cross-validated predictions
    # spread as widely as the labels do (signs, and so sign accuracy, are unchanged).
    cv_predicted = cross_validated_predictions(fit_x, fit_labels, alpha)
    gain = np.clip(fit_labels.std(axis=0) / np.maximum(cv_predicted.std(axis=0), 1e-6), 1.0, 3.0).astype(np.float32)
    weights, bias = weights * gain, bias * gain
    report = {
        "training_sentences": len(sentences),
        "dev_sentences": len(dev_sentences),
        "trained_on_dev": bool(args.train_on_dev),
        "alpha": alpha,
        "dev_sign_accuracy_by_alpha (fitted on the training file only)": {
            str(a): {"valence": v, "arousal": ar} for a, (v, ar) in dev_scores.items()
        },
        "dev_sign_accuracy (fitted on the training file only)": dict(zip(("valence", "arousal"), dev_scores[alpha])),
        "cross_validation_sign_accuracy (training + dev, 5 folds)": {
            str(a): {"valence": v, "arousal": ar} for a, (v, ar) in cv_scores.items()
        },
        "fitted_sign_accuracy": dict(zip(("valence", "arousal"), sign_accuracy(np.clip(fit_x @ weights + bias, -1, 1), fit_labels))),
    }
    config = {
        "model": "ridge regression on all-mpnet-base-v2 sentence embeddings",
        "features": ["embedding[0..767]"],
        "encoder": "all-mpnet-base-v2 (mood/mpnet_encoder.py)",
        "outputs": ["valence", "arousal"],
        "alpha": alpha,
        "output_gain": [round(float(g), 3) for g in gain],
        "training_file": TRAINING_FILE,
        "training_sentences": len(fit_x),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(
        {"weights": weights.astype(np.float16), "bias": bias.astype(np.float16)},
        str(args.out / story_reader.WEIGHTS_FILE),
        metadata={"config": json.dumps(config)},
    )
    report["seconds"] = round(time.perf_counter() - started, 1)
    (args.out / "story_reader.json").write_text(json.dumps({**config, **report}, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
