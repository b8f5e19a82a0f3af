"""Train the story reader's linear layer (ridge regression) and write its weights and report.

Run: ``python -m composer_app.mood.story_reader_training --dev tests/mood/story_sentences_dev.tsv``
(needs scikit-learn, the ``eval`` extra). The features are four layers of all-mpnet-base-v2, each
mean-pooled and L2-normalised (``story_reader.features``). One ridge model per axis, each sentence
weighted so that the two signs of that axis weigh the same (the reading's zero is then where the
training sentences split, not where the more frequent sign pulls it). Measurements, then the final fit:

1. *development*: fitted on the training files, scored on the development file (sign accuracy per
   axis), for each ridge strength: once on the files written without reading any development
   sentence (the fair figure) and once on all of them;
2. *grouped cross-validation*: 5 folds over the training and development sentences together, where
   sentences whose embeddings are closer than cosine ``GROUP_COSINE`` (paraphrases, the same story
   told twice) always fall in the same fold; scored only on the sentences of the first training file
   and the development file (not on those written after reading the development errors or the
   card's summary of them).

The ridge strength with the best grouped cross-validated sign accuracy (both axes summed) is kept,
and the shipped layer is fitted on every file (with ``--train-on-dev``, the default, the
development sentences too). Writes ``models/story_reader.safetensors`` (fp16, config in the
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

# Training files and whether they were written after reading development sentences (or a summary of
# the reader's errors on them): those are left out of the fair development figure and are not scored
# in cross-validation.
TRAINING_FILES = {
    "text_emotion/situations_train.tsv": False,  # first batch, before any evaluation sentence was seen
    "text_emotion/situations_after_dev.tsv": True,  # after reading the development errors; some paraphrase them
    "text_emotion/outcomes_and_calm.tsv": True,  # after reading the card's summary of those errors
}
FAIR_FILES = ("text_emotion/situations_train.tsv", "text_emotion/outcomes_and_calm.tsv")  # no paraphrase of a development sentence
ALPHAS = (1.0, 3.0, 10.0)  # ridge strengths tried in cross-validation
FOLDS = 5
SEED = 0
GROUP_COSINE = 0.6  # sentences closer than this (last-layer embeddings) share a cross-validation fold


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


def balanced_weights(signs: np.ndarray) -> np.ndarray:
    """Per-sentence weights under which both signs (``True``: >= 0) weigh half of the total."""
    positive = signs.mean()
    if positive in (0.0, 1.0):
        return np.ones(len(signs))
    return np.where(signs, 0.5 / positive, 0.5 / (1.0 - positive))


def fit(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge weights (features, 2) and bias (2,), one model per axis, signs balanced (``balanced_weights``)."""
    from sklearn.linear_model import Ridge

    weights, bias = [], []
    for axis in range(y.shape[1]):
        model = Ridge(alpha=alpha).fit(x, y[:, axis], sample_weight=balanced_weights(y[:, axis] >= 0))
        weights.append(model.coef_)
        bias.append(model.intercept_)
    return np.stack(weights, axis=1).astype(np.float32), np.array(bias, dtype=np.float32)


def similarity_groups(embeddings: np.ndarray, threshold: float = GROUP_COSINE) -> np.ndarray:
    """A group id per row: rows linked by a chain of unit-vector cosines above ``threshold`` share one."""
    parent = np.arange(len(embeddings))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(embeddings @ embeddings.T, 1) > threshold)):
        parent[root(i)] = root(j)
    return np.array([root(i) for i in range(len(embeddings))])


def cross_validated_predictions(x: np.ndarray, y: np.ndarray, alpha: float, groups: np.ndarray) -> np.ndarray:
    """Each row predicted by a model fitted on the other folds (``FOLDS`` folds of whole groups, fixed seed)."""
    shuffled = np.random.default_rng(SEED).permutation(np.unique(groups))
    fold_of_group = {group: index % FOLDS for index, group in enumerate(shuffled)}
    fold = np.array([fold_of_group[group] for group in groups])
    predicted = np.zeros_like(y)
    for k in range(FOLDS):
        weights, bias = fit(x[fold != k], y[fold != k], alpha)
        predicted[fold == k] = x[fold == k] @ weights + bias
    return predicted


def _axes(pair: tuple[float, float]) -> dict[str, float]:
    return {"valence": round(pair[0], 4), "arousal": round(pair[1], 4)}


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
    files = {name: load_labelled(resources_dir() / name) for name in TRAINING_FILES}
    dev_sentences, dev_labels = load_labelled(args.dev)
    x_of = {name: story_reader.features(encoder, sentences) for name, (sentences, _) in files.items()}
    dev_x = story_reader.features(encoder, dev_sentences)
    y_of = {name: labels for name, (_, labels) in files.items()}
    x, labels = np.concatenate(list(x_of.values())), np.concatenate(list(y_of.values()))
    fair_x, fair_labels = np.concatenate([x_of[n] for n in FAIR_FILES]), np.concatenate([y_of[n] for n in FAIR_FILES])

    def dev_score(train_x, train_y, alpha):
        w, b = fit(train_x, train_y, alpha)
        return sign_accuracy(np.clip(dev_x @ w + b, -1, 1), dev_labels)

    dev_fair = {a: dev_score(fair_x, fair_labels, a) for a in ALPHAS}
    dev_all = {a: dev_score(x, labels, a) for a in ALPHAS}
    pooled_x, pooled_labels = np.concatenate([x, dev_x]), np.concatenate([labels, dev_labels])
    scored = np.concatenate([np.full(len(y_of[n]), not after) for n, after in TRAINING_FILES.items()] + [np.ones(len(dev_labels), bool)])
    is_dev = np.r_[np.zeros(len(labels), bool), np.ones(len(dev_labels), bool)]
    last = story_reader.FEATURE_LAYERS.index(12)
    groups = similarity_groups(pooled_x[:, last * 768 : (last + 1) * 768])
    cv_predicted = {a: cross_validated_predictions(pooled_x, pooled_labels, a, groups) for a in ALPHAS}
    cv_scored = {a: sign_accuracy(p[scored], pooled_labels[scored]) for a, p in cv_predicted.items()}
    cv_dev = {a: sign_accuracy(p[is_dev], pooled_labels[is_dev]) for a, p in cv_predicted.items()}
    alpha = max(ALPHAS, key=lambda a: (sum(cv_scored[a]), -a))
    fit_x, fit_labels = (pooled_x, pooled_labels) if args.train_on_dev else (x, labels)
    weights, bias = fit(fit_x, fit_labels, alpha)
    # Ridge shrinks its outputs toward the mean: scale each axis so that cross-validated predictions
    # spread as widely as the labels do (signs, and so sign accuracy, are unchanged).
    fit_groups = groups if args.train_on_dev else groups[: len(labels)]
    spread = cross_validated_predictions(fit_x, fit_labels, alpha, fit_groups)
    gain = np.clip(fit_labels.std(axis=0) / np.maximum(spread.std(axis=0), 1e-6), 1.0, 3.0).astype(np.float32)
    weights, bias = weights * gain, bias * gain
    report = {
        "training_sentences": {name: len(y_of[name]) for name in TRAINING_FILES},
        "dev_sentences": len(dev_sentences),
        "trained_on_dev": bool(args.train_on_dev),
        "alpha": alpha,
        "dev_sign_accuracy_by_alpha (fitted on the files written without reading development sentences)": {
            str(a): _axes(v) for a, v in dev_fair.items()
        },
        "dev_sign_accuracy_by_alpha (fitted on every training file)": {str(a): _axes(v) for a, v in dev_all.items()},
        "grouped_cross_validation_groups": int(len(np.unique(groups))),
        f"grouped_cross_validation_sign_accuracy ({FOLDS} folds, first training file + dev scored)": {
            str(a): _axes(v) for a, v in cv_scored.items()
        },
        f"grouped_cross_validation_sign_accuracy ({FOLDS} folds, dev scored)": {str(a): _axes(v) for a, v in cv_dev.items()},
        "fitted_sign_accuracy": _axes(sign_accuracy(np.clip(fit_x @ weights + bias, -1, 1), fit_labels)),
    }
    config = {
        "model": "ridge regression (signs balanced per axis) on all-mpnet-base-v2 layer means",
        "features": [f"layer {n} mean, unit length [0..767]" for n in story_reader.FEATURE_LAYERS],
        "layers": list(story_reader.FEATURE_LAYERS),
        "encoder": "all-mpnet-base-v2 (mood/mpnet_encoder.py)",
        "outputs": ["valence", "arousal"],
        "alpha": alpha,
        "output_gain": [round(float(g), 3) for g in gain],
        "training_files": list(TRAINING_FILES),
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
