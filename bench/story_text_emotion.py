"""Scorer: sign accuracy per axis of the story reader on a labelled file of story sentences.

Prints only the totals (sentence count, valence and arousal sign accuracy), never the sentences or
per-sentence readings, so it can be run on the held-out file without looking inside it. The
development file is what the reader was tuned on; the held-out file was written by the same
separate person and is never opened for anything else. Writes bench/results/story_text_emotion.json
when run for both.

Run: .venv/bin/python bench/story_text_emotion.py [FILE.tsv ...]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEV = ROOT / "tests" / "mood" / "story_sentences_dev.tsv"
HELD_OUT = ROOT / "tests" / "mood" / "story_sentences_holdout.tsv"
RESULTS = ROOT / "bench" / "results" / "story_text_emotion.json"


def score_file(path: Path, reader=None, lexicon_only: bool = False) -> dict[str, float]:
    """{"sentences": n, "valence": share, "arousal": share} for one labelled file (totals only)."""
    import numpy as np

    from composer_app.mood.story_reader_training import load_labelled, sign_accuracy

    sentences, labels = load_labelled(path)
    if lexicon_only:
        from composer_app.mood.text import read_mood

        predicted = np.array([[read_mood(s).mood.valence, read_mood(s).mood.arousal] for s in sentences])
    else:
        if reader is None:
            from composer_app.mood.story_reader import shared_reader

            reader = shared_reader()
        predicted = reader.predict(sentences)
    valence, arousal = sign_accuracy(predicted, labels)
    return {"sentences": len(sentences), "valence": round(valence, 4), "arousal": round(arousal, 4)}


def main(argv: list[str]) -> int:
    import torch

    torch.set_num_threads(1)
    files = [Path(a) for a in argv] or [DEV, HELD_OUT]
    result = {}
    started = time.perf_counter()
    for path in files:
        result[path.name] = {"story_reader": score_file(path), "lexicon_reader": score_file(path, lexicon_only=True)}
        print(path.name, json.dumps(result[path.name]))
    result["seconds"] = round(time.perf_counter() - started, 1)
    if not argv:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
