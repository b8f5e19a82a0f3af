"""BERT's uncased WordPiece tokenizer, written here (no tokenizers package): the story reader's encoder
(``mood.mpnet_encoder``) uses it with MPNet's vocabulary.

Tokenization is BERT's uncased basic tokenizer (lower case, accents stripped, punctuation split)
followed by greedy longest-match WordPiece over the model's ``vocab.txt``. (This module also ran
all-MiniLM-L6-v2 until the story reader moved to all-mpnet-base-v2.)
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

MAX_TOKENS = 128  # sentences are cut to this many WordPiece tokens (story sentences use ~20-40)


class WordPiece:
    """BERT's uncased tokenizer: basic split (lower case, accents, punctuation) then WordPiece."""

    def __init__(self, vocab: dict[str, int]):
        self.vocab = vocab
        self.unk = vocab["[UNK]"]
        self.cls = vocab["[CLS]"]
        self.sep = vocab["[SEP]"]

    @classmethod
    def from_file(cls, path: Path) -> WordPiece:
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls({token: i for i, token in enumerate(lines)})

    @staticmethod
    def basic_words(text: str) -> list[str]:
        """Lower-cased, accent-free words and single punctuation marks, in order."""
        text = unicodedata.normalize("NFD", text.lower())
        out: list[str] = []
        word: list[str] = []
        for ch in text:
            category = unicodedata.category(ch)
            if category == "Mn":
                continue
            if ch.isspace() or category.startswith("C"):
                if word:
                    out.append("".join(word))
                    word = []
            elif _is_punctuation(ch):
                if word:
                    out.append("".join(word))
                    word = []
                out.append(ch)
            else:
                word.append(ch)
        if word:
            out.append("".join(word))
        return out

    def pieces(self, word: str) -> list[int]:
        """Greedy longest-match WordPiece ids of one basic word ([UNK] if it cannot be split)."""
        if len(word) > 100:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str) -> list[int]:
        """[CLS] pieces… [SEP], cut to ``MAX_TOKENS``."""
        ids = [piece for word in self.basic_words(text) for piece in self.pieces(word)]
        return [self.cls, *ids[: MAX_TOKENS - 2], self.sep]


def _is_punctuation(ch: str) -> bool:
    code = ord(ch)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")
