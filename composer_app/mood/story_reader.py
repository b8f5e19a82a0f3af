"""Story text → emotion that generalises to situations: a sentence embedding read by a linear model.

The lexicon reader (``mood.text``) knows emotion *words*; story sentences often carry their emotion
in a *situation* ("the rent was due on Monday and the jar on the shelf held eleven coins"). This
reader runs the sentence through all-mpnet-base-v2 (``mood.mpnet_encoder``: it places a sentence by
what happens in it, to whom, with negation and contrast in context), takes the mean token vector of
four of its layers (6, 8, 10 and 12, each L2-normalised: layer 12 is the usual sentence embedding,
the middle layers keep more of how the sentence ends) and maps the 3072 floats to valence and arousal
with one linear layer per axis (ridge regression, trained by
``composer_app.mood.story_reader_training`` on sentences written for this project,
``resources/text_emotion/*.tsv``, and the development sentences).

The weights are ``models/story_reader.safetensors`` (model card beside it).

A reading explains itself the way a person checks one: each word is left out in turn and the
sentence read again; the words whose absence moves the reading most are the ones that drove it
(occlusion, as in Zeiler & Fergus 2014 for images; gradient × input agreed with it too poorly here:
Spearman 0.15–0.19 over the words of 25 development sentences). The variants are encoded in
bfloat16 where the CPU allows (``encode(fast=True)``), the reading itself in float32. A text of
several sentences is read sentence by sentence and averaged, weighted by how far each reading is
from neutral.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from composer_app.mood.mood import Mood
from composer_app.mood.text import EMOTION_CENTRES, NEUTRAL_LABEL, Evidence, MoodReading, _label, read_mood

WEIGHTS_FILE = "story_reader.safetensors"
EVIDENCE_WORDS = 4  # how many driving words a reading names
MIN_EVIDENCE_SHIFT = 0.02  # a word whose absence moves the reading less than this (|Δvalence| + |Δarousal|) is not named
_STOP_WORDS = frozenset(
    "a an the of to in on at by for with from and or as is was were be been are it its this that "
    "there their they he she his her him we our you your i my me into onto over up down out "
    "had has have did do does would could should will shall can may might must am being then than "
    "when which who whom what that's it's its one".split()
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, split after . ! ? followed by a capital (empty ones dropped)."""
    parts = _SENTENCE_END.split(text.strip())
    return [p.strip() for p in parts if p.strip()]


FEATURE_LAYERS = (6, 8, 10, 12)  # encoder layers pooled for the linear layer (ablation in models/story_reader.md)


def features(encoder, sentences: list[str], layers: tuple[int, ...] = FEATURE_LAYERS, fast: bool = False) -> np.ndarray:
    """The model's input per sentence: the unit mean token vector of each of ``layers``, side by side (768 each)."""
    return encoder.encode(sentences, fast=fast, layers=layers)


@dataclass(frozen=True)
class LinearReader:
    """``[valence, arousal] = clip(features · weights + bias, -1, 1)``; ``weights``: (768 · layers, 2), ``bias``: (2,)."""

    weights: np.ndarray
    bias: np.ndarray
    metadata: dict

    @property
    def layers(self) -> tuple[int, ...]:
        """The encoder layers this layer reads (from the weights' config; older weights: the last only)."""
        return tuple(self.metadata.get("layers", (12,)))

    def predict(self, feature_rows: np.ndarray) -> np.ndarray:
        return np.clip(feature_rows @ self.weights + self.bias, -1.0, 1.0)


def weights_path() -> Path:
    from composer_app.paths import models_dir

    return models_dir() / WEIGHTS_FILE


def load_reader(path: Path | None = None) -> LinearReader:
    """The trained linear reader (fp16 safetensors, config in its metadata)."""
    from safetensors.numpy import load_file
    from safetensors import safe_open

    path = path or weights_path()
    tensors = load_file(str(path))
    with safe_open(str(path), "np") as handle:
        metadata = json.loads((handle.metadata() or {}).get("config", "{}"))
    return LinearReader(tensors["weights"].astype(np.float32), tensors["bias"].astype(np.float32), metadata)


class StoryReader:
    """Reads story text into a ``MoodReading`` (mood, emotion label, confidence, driving words)."""

    def __init__(self, encoder=None, reader: LinearReader | None = None):
        if encoder is None:
            from composer_app.mood.mpnet_encoder import shared_encoder

            encoder = shared_encoder()
        self.encoder = encoder
        self.reader = reader or load_reader()
        self._lock = threading.Lock()

    def predict(self, sentences: list[str], fast: bool = False) -> np.ndarray:
        """(n, 2) valence/arousal for each sentence, without explanation (``fast``: see ``encode``)."""
        if not sentences:
            return np.zeros((0, 2), dtype=np.float32)
        return self.reader.predict(features(self.encoder, sentences, self.reader.layers, fast=fast))

    def _evidence(self, sentences: list[str]) -> list[Evidence]:
        """Words whose absence moves their sentence's reading most (occlusion), strongest first."""
        variants: list[str] = []
        owners: list[tuple[int, str]] = []
        for index, sentence in enumerate(sentences):
            for match in _WORD.finditer(sentence):
                word = match.group(0)
                if word.lower() in _STOP_WORDS:
                    continue
                variants.append(sentence[: match.start()] + sentence[match.end() :])
                owners.append((index, word))
        if not variants:
            return []
        readings = self.predict(sentences + variants, fast=True)  # one batch: same precision for both
        values, without = readings[: len(sentences)], readings[len(sentences) :]
        shifts = []
        for (index, word), row in zip(owners, without):
            delta = values[index] - row  # what the word adds to its sentence's reading
            shifts.append((float(np.abs(delta).sum()), word, float(delta[0]), float(delta[1])))
        shifts.sort(key=lambda item: -item[0])
        chosen = []
        seen = set()
        for size, word, dv, da in shifts:
            if size < MIN_EVIDENCE_SHIFT or word.lower() in seen:
                continue
            seen.add(word.lower())
            chosen.append(Evidence(word.lower(), round(dv, 3), round(da, 3)))
            if len(chosen) == EVIDENCE_WORDS:
                break
        return chosen

    def read(self, text: str, explain: bool = True) -> MoodReading:
        """Read a text of one or more sentences. Raises ``TypeError('text must be a str')``."""
        if not isinstance(text, str):
            raise TypeError("text must be a str")
        sentences = split_sentences(text)
        if not sentences or not _WORD.search(text):
            return MoodReading(Mood(), NEUTRAL_LABEL, 0.0, (), (), "neutral mood, confidence 0: no words to read")
        values = self.predict(sentences)
        evidence = self._evidence(sentences) if explain else []
        salience = 0.15 + np.abs(values).max(axis=1)
        valence, arousal = (values * salience[:, None]).sum(axis=0) / salience.sum()
        mood = Mood.clamped(float(valence), float(arousal))
        lexicon = read_mood(text)
        # An emotion word the lexicon is sure of names the family (if it agrees in valence sign).
        families = {}
        if lexicon.emotion_label in EMOTION_CENTRES and lexicon.confidence > 0.3:
            families[lexicon.emotion_label] = lexicon.confidence
        label = _label(mood, families)
        spread = float(np.abs(values).mean())
        agreement = float(abs(values[:, 0].mean()) / (np.abs(values[:, 0]).mean() + 1e-6))
        confidence = min(1.0, spread) * (0.5 + 0.5 * agreement)
        words = ", ".join(f'"{e.word}"' for e in evidence) if evidence else "the sentence as a whole"
        explanation = f"read as {label} from {words}"
        return MoodReading(mood, label, confidence, tuple(evidence), lexicon.negations, explanation)




@lru_cache(maxsize=1)
def shared_reader() -> StoryReader:
    """One reader per process (loads the encoder and weights on first use, ~2 s with torch imported)."""
    return StoryReader()


def read_story_mood(text: str, explain: bool = True) -> MoodReading:
    """Read a story passage with the shared reader (see ``StoryReader.read``)."""
    return shared_reader().read(text, explain=explain)
