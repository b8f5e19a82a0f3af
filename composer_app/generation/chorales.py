"""The Bach chorales as four separate voices plus music21's chord labels, cached once.

The general corpus cache (:mod:`composer_app.generation.data`) merges all parts of a work into one
note list; harmony work needs the voices apart (soprano, alto, tenor, bass) and a chord label for
every harmonic segment. This module reads the chorales with ``music21.corpus.chorales.Iterator``
(the way DeepBach reads them), keeps those written in exactly four parts, and stores per chorale:

- ``voices``: int32 (n, 4) rows of voice index (0 soprano … 3 bass), start tick, duration ticks, pitch;
- ``chords``: int32 (m, 6) rows of start tick, duration ticks, root pitch class, quality index
  (:data:`composer_app.core.chords.QUALITIES` order, -1 when music21's label is not one of ours;
  loading upgrades a triad to a seventh chord when the segment holds the seventh above the root),
  bass pitch class, pitch-class bitmask — one row per ``chordify()`` segment, root and quality from
  ``music21.roman.romanNumeralFromChord`` in the key music21 analyses;
- ``key``: tonic pitch class and mode (0 major, 1 minor); ``time_signature``: numerator, denominator;
- ``figures``: the Roman-numeral figure of each chord row (JSON text, for reports).

Ticks are :data:`CHORALE_TICKS_PER_QUARTER` per quarter; a pickup bar is padded so bar lines fall
on whole bars. The held-out split is the corpus's own (:func:`data.is_heldout` on the same source id
``bach/<file>#0``), so no model of this project trains on a held-out chorale. Converted data is a
cache, never committed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import numpy as np

from composer_app.generation.data import is_heldout

CHORALES_CACHE_VERSION = "chorales-v1"  # bump when the extraction changes
CHORALE_TICKS_PER_QUARTER = 12  # 16th = 3, 8th = 6; chorales hold nothing finer than 16ths
VOICE_NAMES = ("soprano", "alto", "tenor", "bass")
# Seventh chords by the intervals above the root they hold (checked in this order; a triad otherwise).
_SEVENTHS = (((3, 6, 9), "dim7"), ((3, 6, 10), "m7b5"), ((4, 10), "7"), ((4, 11), "maj7"), ((3, 10), "m7"))


def default_chorale_cache() -> Path:
    root = os.environ.get("COMPOSER_APP_CACHE") or Path.home() / ".cache" / "composer-app"
    return Path(root) / CHORALES_CACHE_VERSION


@dataclass(frozen=True)
class Chorale:
    """One four-part chorale as plain arrays (see the module docstring for the columns)."""

    source_id: str
    voices: np.ndarray
    chords: np.ndarray
    tonic_pc: int
    minor: bool
    numerator: int
    denominator: int
    figures: tuple[str, ...] = ()
    ticks_per_quarter: int = CHORALE_TICKS_PER_QUARTER

    @property
    def heldout(self) -> bool:
        return is_heldout(self.source_id)

    @property
    def end_tick(self) -> int:
        return int((self.voices[:, 1] + self.voices[:, 2]).max()) if len(self.voices) else 0

    def voice(self, index: int) -> np.ndarray:
        """(start, duration, pitch) rows of one voice, sorted by start."""
        rows = self.voices[self.voices[:, 0] == index][:, 1:]
        return rows[np.argsort(rows[:, 0], kind="stable")]


def _ticks(quarters) -> int:
    return int(round(Fraction(quarters) * CHORALE_TICKS_PER_QUARTER))


def _pickup_shift(part) -> int:
    from music21 import meter

    try:
        first = part.getElementsByClass("Measure")[0]
        ts = first.timeSignature or first.getContextByClass(meter.TimeSignature)
        bar_q = ts.barDuration.quarterLength
        got_q = first.duration.quarterLength
        if first.paddingLeft:
            return _ticks(first.paddingLeft)
        if 0 < got_q < bar_q:
            return _ticks(bar_q - got_q)
    except (IndexError, AttributeError):
        pass
    return 0


def _chord_row(chord, key, start: int, duration: int) -> tuple[list[int], str]:
    from music21 import roman

    from composer_app.core.chords import QUALITIES

    pcs = sorted({p.pitchClass for p in chord.pitches})
    mask = sum(1 << pc for pc in pcs)
    bass_pc = chord.bass().pitchClass
    try:
        rn = roman.romanNumeralFromChord(chord, key)
        root_pc = rn.root().pitchClass
        figure = rn.figure
        quality = {"major": "maj", "minor": "m", "diminished": "dim", "augmented": "aug"}.get(rn.quality)
        quality_index = QUALITIES.index(quality) if quality in QUALITIES else -1
    except Exception:  # music21 cannot name some clusters
        root_pc, figure, quality_index = bass_pc, "?", -1
    return [start, duration, root_pc, quality_index, bass_pc, mask], figure


def convert_chorale(score, source_id: str) -> Chorale | None:
    """A music21 score -> a Chorale, or None unless it has exactly four parts with notes."""
    from music21 import meter

    parts = list(score.parts)
    if len(parts) != 4:
        return None
    shift = _pickup_shift(parts[0])
    rows = []
    for index, part in enumerate(parts):
        for note in part.stripTies().flatten().notes:
            if note.duration.isGrace or note.quarterLength <= 0 or note.isChord:
                continue
            rows.append((index, _ticks(note.offset) + shift, max(1, _ticks(note.quarterLength)), int(note.pitch.midi)))
    if not rows or len({r[0] for r in rows}) != 4:
        return None
    ts = parts[0].flatten().getElementsByClass(meter.TimeSignature)
    numerator, denominator = (int(ts[0].numerator), int(ts[0].denominator)) if ts else (4, 4)
    key = score.analyze("key")
    chords, figures = [], []
    for chord in score.chordify().flatten().getElementsByClass("Chord"):
        if not chord.pitches or chord.quarterLength <= 0:
            continue
        row, figure = _chord_row(chord, key, _ticks(chord.offset) + shift, max(1, _ticks(chord.quarterLength)))
        chords.append(row)
        figures.append(figure)
    return Chorale(
        source_id=source_id,
        voices=np.array(sorted(rows, key=lambda r: (r[1], r[0])), dtype=np.int32),
        chords=np.array(chords, dtype=np.int32).reshape(-1, 6),
        tonic_pc=int(key.tonic.pitchClass),
        minor=key.mode == "minor",
        numerator=numerator,
        denominator=denominator,
        figures=tuple(figures),
    )


def _save(chorale: Chorale, path: Path) -> None:
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        source_id=np.array(chorale.source_id),
        voices=chorale.voices,
        chords=chorale.chords,
        info=np.array([chorale.tonic_pc, int(chorale.minor), chorale.numerator, chorale.denominator, chorale.ticks_per_quarter]),
        figures=np.array(json.dumps(list(chorale.figures))),
    )
    tmp.replace(path)


def seventh_qualities(chords: np.ndarray) -> np.ndarray:
    """Chord rows with each triad upgraded to the seventh chord its pitch-class mask holds."""
    from composer_app.core.chords import QUALITIES

    chords = chords.copy()
    for row in chords:
        if row[3] < 0:
            continue
        intervals = {(pc - row[2]) % 12 for pc in range(12) if row[5] >> pc & 1}
        name = next((q for needed, q in _SEVENTHS if set(needed) <= intervals), None)
        if name is not None:
            row[3] = QUALITIES.index(name)
    return chords


def _load(path: Path) -> Chorale:
    with np.load(path, allow_pickle=False) as data:
        tonic, minor, num, den, tpq = (int(v) for v in data["info"])
        return Chorale(
            source_id=str(data["source_id"]),
            voices=data["voices"],
            chords=seventh_qualities(data["chords"]),
            tonic_pc=tonic,
            minor=bool(minor),
            numerator=num,
            denominator=den,
            figures=tuple(json.loads(str(data["figures"]))),
            ticks_per_quarter=tpq,
        )


def convert_chorales(cache_dir: Path | None = None, progress: bool = True) -> Path:
    """Convert every chorale of ``music21.corpus.chorales.Iterator`` into the cache (once)."""
    from music21 import corpus

    from composer_app.generation.data import corpus_root

    cache_dir = Path(cache_dir or default_chorale_cache())
    cache_dir.mkdir(parents=True, exist_ok=True)
    if (cache_dir / "VERSION").exists():
        return cache_dir
    root = corpus_root().resolve()
    names = list(corpus.chorales.Iterator(returnType="filename"))
    skipped = 0
    for number, name in enumerate(names):
        work = corpus.getWork(name)
        if isinstance(work, list):  # several encodings of one work: take the first, as corpus.parse does
            work = work[0]
        path = Path(work).resolve()
        source_id = f"{path.relative_to(root).as_posix()}#0"
        out = cache_dir / (path.name + ".npz")
        if out.exists():
            continue
        try:
            chorale = convert_chorale(corpus.parse(str(path)), source_id)
        except Exception:  # an unreadable chorale: leave it out
            chorale = None
        if chorale is None:
            skipped += 1
            continue
        _save(chorale, out)
        if progress and number % 25 == 0:
            print(f"chorales: {number + 1}/{len(names)}", flush=True)
    (cache_dir / "VERSION").write_text(json.dumps({"version": CHORALES_CACHE_VERSION, "skipped": skipped}))
    return cache_dir


def load_chorales(cache_dir: Path | None = None, convert: bool = True) -> list[Chorale]:
    """All cached chorales, sorted by source id (converting first when the cache is incomplete)."""
    cache_dir = Path(cache_dir or default_chorale_cache())
    if convert and not (cache_dir / "VERSION").exists():
        convert_chorales(cache_dir)
    return sorted((_load(p) for p in cache_dir.glob("*.npz") if not p.name.endswith(".tmp.npz")), key=lambda c: c.source_id)


def split_chorales(chorales: Sequence[Chorale]) -> tuple[list[Chorale], list[Chorale], list[Chorale]]:
    """(train, dev, held-out): held-out by the corpus split; dev is a further hashed 10 % of the rest."""
    import hashlib

    heldout = [c for c in chorales if c.heldout]
    rest = [c for c in chorales if not c.heldout]
    dev = [c for c in rest if hashlib.sha1(("dev:" + c.source_id).encode()).digest()[0] < 26]
    train = [c for c in rest if c not in dev]
    return train, dev, heldout


if __name__ == "__main__":
    chorales = load_chorales()
    train, dev, held = split_chorales(chorales)
    print(f"{len(chorales)} chorales: {len(train)} train, {len(dev)} dev, {len(held)} held out")
