"""Training data: the music21 corpus (or a folder of .mid files) as cached note lists.

Each work becomes a :class:`Piece`: notes as integer arrays on a grid of ``CORPUS_TICKS_PER_QUARTER``
(fine enough for 16ths, triplets and 32nds), plus its time-signature changes. Converting the corpus
with music21 is slow (~15 min for all of it on 2 cores), so it runs once, in worker processes, and
each source file's works are cached as one compressed ``.npz`` (no pickle) under a versioned folder.

The held-out split is deterministic: a work is held out when a hash of its source id falls in the
last ``HELDOUT_PERCENT`` of the range, so training never sees it, whichever machine converts it.

music21 is a training-time extra: nothing here imports it until a conversion runs.
The converted data is never committed (some corpus encodings are licensed for non-commercial use).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

CACHE_VERSION = "corpus-v1"  # bump when the conversion changes: old caches are then ignored
CORPUS_TICKS_PER_QUARTER = 24  # 16th = 6, 8th triplet = 8, 16th triplet = 4, 32nd = 3
HELDOUT_PERCENT = 5  # share of works (by hash of the source id) that training never sees
DEFAULT_VELOCITY = 90  # the corpus has no dynamics: every converted note gets this velocity

# Collections of the music21 corpus used by default (cheap to parse and musically useful).
# ``oneills1850`` is reserved for independent evaluation and is refused everywhere here.
DEFAULT_COLLECTIONS = ("bach", "essenFolksong", "ryansMammoth", "airdsAirs", "miscFolk")
RESERVED_COLLECTIONS = ("oneills1850",)


def default_cache_dir() -> Path:
    """Where converted data lives: ``$COMPOSER_APP_CACHE`` or ``~/.cache/composer-app``."""
    root = os.environ.get("COMPOSER_APP_CACHE") or Path.home() / ".cache" / "composer-app"
    return Path(root) / CACHE_VERSION


@dataclass(frozen=True)
class Piece:
    """One work as plain arrays.

    ``notes``: int32 array (n, 3) of start tick, duration ticks, pitch, sorted by start then pitch,
    at ``ticks_per_quarter``. ``time_signatures``: int32 array (k, 3) of tick, numerator,
    denominator (first row at tick 0). ``velocities``: optional int array (n,) (None = no dynamics).
    """

    source_id: str
    notes: np.ndarray
    time_signatures: np.ndarray
    ticks_per_quarter: int = CORPUS_TICKS_PER_QUARTER
    velocities: np.ndarray | None = None

    @property
    def heldout(self) -> bool:
        return is_heldout(self.source_id)


def is_heldout(source_id: str) -> bool:
    """True for works in the deterministic held-out split (hash of the source id)."""
    digest = hashlib.sha1(source_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 >= 100 - HELDOUT_PERCENT


# ----------------------------------------------------------------------------------------------
# music21 conversion (runs in worker processes)


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def corpus_files(collections: Sequence[str] = DEFAULT_COLLECTIONS) -> list[Path]:
    """Source files of the given corpus collections (folders under music21/corpus), sorted."""
    root = corpus_root()
    files: list[Path] = []
    for name in collections:
        if name in RESERVED_COLLECTIONS:
            raise ValueError(f"{name} is reserved for independent evaluation and never used for training")
        folder = root / name
        if not folder.is_dir():
            raise ValueError(f"no corpus collection named {name!r}")
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in (".abc", ".mxl", ".xml", ".krn", ".musicxml", ".mid") and path.is_file():
                files.append(path)
    return files


def _quarters_to_ticks(value) -> int:
    return int(round(Fraction(value) * CORPUS_TICKS_PER_QUARTER))


def score_to_arrays(score) -> tuple[np.ndarray, np.ndarray] | None:
    """A music21 Score -> (notes, time_signatures) arrays, or None when it holds no notes.

    Ties are merged, chords split into notes, grace notes dropped, repeats left unexpanded.
    A pickup bar is padded so that bar lines fall on whole bars of the first time signature.
    """
    from music21 import meter

    parts = list(score.parts) or [score]
    pickup_shift = 0
    try:
        first_measure = parts[0].getElementsByClass("Measure")[0]
        ts0 = first_measure.timeSignature or first_measure.getContextByClass(meter.TimeSignature)
        if ts0 is not None:
            bar_q = ts0.barDuration.quarterLength
            got_q = first_measure.duration.quarterLength
            if first_measure.paddingLeft:
                pickup_shift = _quarters_to_ticks(first_measure.paddingLeft)
            elif 0 < got_q < bar_q:
                pickup_shift = _quarters_to_ticks(bar_q - got_q)
    except (IndexError, AttributeError):
        pass
    rows = []
    for part in parts:
        flat = part.stripTies().flatten()
        for element in flat.notes:
            if element.duration.isGrace or element.quarterLength <= 0:
                continue
            start = _quarters_to_ticks(element.offset) + pickup_shift
            duration = max(1, _quarters_to_ticks(element.quarterLength))
            pitches = element.pitches if element.isChord else (element.pitch,)
            for pitch in pitches:
                midi = int(pitch.midi)
                if 0 <= midi <= 127:
                    rows.append((start, duration, midi))
    if not rows:
        return None
    notes = np.array(sorted(set(rows), key=lambda r: (r[0], r[2], r[1])), dtype=np.int32)
    signatures = {}
    for ts in parts[0].flatten().getElementsByClass(meter.TimeSignature):
        tick = 0 if ts.offset == 0 else _quarters_to_ticks(ts.offset) + pickup_shift
        signatures[tick] = (int(ts.numerator), int(ts.denominator))
    if 0 not in signatures:
        first = min(signatures) if signatures else None
        signatures[0] = signatures.pop(first) if first is not None else (4, 4)
    ts_rows = [(t, n, d) for t, (n, d) in sorted(signatures.items()) if d & (d - 1) == 0 and n > 0]
    if not ts_rows or ts_rows[0][0] != 0:
        ts_rows.insert(0, (0, 4, 4))
    return notes, np.array(ts_rows, dtype=np.int32)


def convert_file(path: str, relative_id: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Parse one corpus file (an opus of many tunes or one score) into (source_id, notes, ts) rows."""
    from music21 import converter, stream

    parsed = converter.parse(path)
    if isinstance(parsed, stream.Opus):
        scores = list(parsed.scores)
    else:
        scores = [parsed]
    out = []
    for index, score in enumerate(scores):
        number = getattr(score.metadata, "number", None) if score.metadata else None
        source_id = f"{relative_id}#{number if number not in (None, '') else index}"
        try:
            arrays = score_to_arrays(score)
        except Exception:  # a broken tune in an opus: skip it, keep the rest
            continue
        if arrays is not None:
            out.append((source_id, *arrays))
    return out


def _cache_name(relative_id: str) -> str:
    return relative_id.replace("/", "__") + ".npz"


def _save_rows(path: Path, rows) -> None:
    ids = [r[0] for r in rows]
    notes = np.concatenate([r[1] for r in rows]) if rows else np.zeros((0, 3), np.int32)
    note_counts = np.array([len(r[1]) for r in rows], dtype=np.int64)
    ts = np.concatenate([r[2] for r in rows]) if rows else np.zeros((0, 3), np.int32)
    ts_counts = np.array([len(r[2]) for r in rows], dtype=np.int64)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        ids=np.array(json.dumps(ids)),
        notes=notes,
        note_counts=note_counts,
        time_signatures=ts,
        ts_counts=ts_counts,
        ticks_per_quarter=np.array(CORPUS_TICKS_PER_QUARTER),
    )
    tmp.replace(path)


def load_cache_file(path: Path) -> list[Piece]:
    """Pieces stored in one cache file (``allow_pickle=False``: nothing is unpickled)."""
    with np.load(path, allow_pickle=False) as data:
        ids = json.loads(str(data["ids"]))
        notes = data["notes"]
        ts = data["time_signatures"]
        tpq = int(data["ticks_per_quarter"])
        note_ends = np.cumsum(data["note_counts"])
        ts_ends = np.cumsum(data["ts_counts"])
    pieces = []
    n0 = t0 = 0
    for source_id, n1, t1 in zip(ids, note_ends, ts_ends):
        pieces.append(Piece(source_id, notes[n0:n1], ts[t0:t1], tpq))
        n0, t0 = n1, t1
    return pieces


def _convert_job(job: tuple[str, str, str]) -> tuple[str, int, str]:
    path, relative_id, out = job
    try:
        rows = convert_file(path, relative_id)
    except Exception as error:  # unreadable file: record an empty cache so it is not retried
        rows = []
        message = f"{type(error).__name__}: {error}"
    else:
        message = ""
    _save_rows(Path(out), rows)
    return relative_id, len(rows), message


def convert_corpus(
    collections: Sequence[str] = DEFAULT_COLLECTIONS,
    cache_dir: Path | None = None,
    workers: int = 2,
    progress: bool = True,
) -> Path:
    """Convert the corpus collections into the cache (files already cached are skipped).

    Returns the cache folder. Runs ``workers`` processes (1 = in this process).
    """
    cache_dir = Path(cache_dir or default_cache_dir())
    cache_dir.mkdir(parents=True, exist_ok=True)
    root = corpus_root()
    jobs = []
    for path in corpus_files(collections):
        relative_id = path.relative_to(root).as_posix()
        out = cache_dir / _cache_name(relative_id)
        if not out.exists():
            jobs.append((str(path), relative_id, str(out)))
    # Big opus files first so the workers finish together.
    jobs.sort(key=lambda j: -os.path.getsize(j[0]))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="converting corpus", unit="file")
    if workers <= 1 or len(jobs) <= 1:
        results = map(_convert_job, jobs)
        for _ in results:
            bar and bar.update(1)
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for _ in pool.imap_unordered(_convert_job, jobs):
                bar and bar.update(1)
    if bar:
        bar.close()
    (cache_dir / "VERSION").write_text(json.dumps({"version": CACHE_VERSION, "ticks_per_quarter": CORPUS_TICKS_PER_QUARTER}))
    return cache_dir


def load_corpus(
    collections: Sequence[str] = DEFAULT_COLLECTIONS, cache_dir: Path | None = None
) -> list[Piece]:
    """All cached pieces of the given collections (convert first with :func:`convert_corpus`)."""
    cache_dir = Path(cache_dir or default_cache_dir())
    pieces: list[Piece] = []
    for name in collections:
        if name in RESERVED_COLLECTIONS:
            raise ValueError(f"{name} is reserved for independent evaluation and never used for training")
        for path in sorted(cache_dir.glob(f"{name}__*.npz")):
            try:
                pieces.extend(load_cache_file(path))
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                continue
    return pieces


# ----------------------------------------------------------------------------------------------
# Key signatures of ABC tunes (the note cache keeps none; the realism test and the key estimate
# read them from the source's "K:" fields)

_ABC_MODES = {"": "major", "m": "minor", "min": "minor", "maj": "major", "ion": "major", "aeo": "minor",
              "dor": "dorian", "phr": "phrygian", "lyd": "lydian", "mix": "mixolydian", "loc": "locrian"}


def abc_key_signature(field: str) -> int | None:
    """Sharps (> 0) or flats (< 0) of an ABC ``K:`` field ("G", "A Dorian", "Edor", "Bb", "F#m");
    None for what is not a key ("none", highland pipes "Hp", explicit accidentals)."""
    from composer_app.core.theory import Key, key_signature_of

    text = field.split("%", 1)[0].strip()
    if not text or text[0].upper() not in "ABCDEFG":
        return None
    tonic = text[0].upper()
    rest = text[1:]
    if rest[:1] in ("#", "b"):
        tonic, rest = tonic + rest[0], rest[1:]
    words = rest.strip().split()
    if len(words) > 1:
        return None  # explicit accidentals or another clef term: not a plain key
    mode_word = words[0].lower() if words else ""
    mode = _ABC_MODES.get(mode_word[:3] if len(mode_word) > 1 else mode_word)
    if mode is None:
        return None
    try:
        return key_signature_of(Key.parse(f"{tonic} {mode}"))
    except ValueError:
        return None


def abc_key_signatures(path: Path) -> dict[str, int | None]:
    """Key signature of every tune of an ABC file by its ``X:`` number (the first ``K:`` after it)."""
    out: dict[str, int | None] = {}
    number = None
    for line in Path(path).read_text(encoding="latin-1").splitlines():
        if line.startswith("X:"):
            number = line[2:].strip()
        elif line.startswith("K:") and number is not None and number not in out:
            out[number] = abc_key_signature(line[2:])
    return out


def key_signature_of_source(source_id: str) -> int | None:
    """The notated key signature of a corpus work (``collection/file.abc#number``); None if unknown."""
    relative, _, number = source_id.partition("#")
    if not relative.lower().endswith(".abc"):
        return None
    try:
        path = corpus_root() / relative
    except ImportError:
        return None
    if not path.is_file():
        return None
    return _abc_keys_cached(str(path)).get(number)


_ABC_KEY_CACHE: dict[str, dict[str, int | None]] = {}


def _abc_keys_cached(path: str) -> dict[str, int | None]:
    if path not in _ABC_KEY_CACHE:
        _ABC_KEY_CACHE[path] = abc_key_signatures(Path(path))
    return _ABC_KEY_CACHE[path]


# ----------------------------------------------------------------------------------------------
# A folder of user .mid files


def piece_from_notes(source_id: str, notes: Iterable, ticks_per_quarter: int, time_signatures=()) -> Piece | None:
    """Core ``Note`` values (any resolution) -> a Piece on the corpus grid (None when empty)."""
    scale = CORPUS_TICKS_PER_QUARTER / ticks_per_quarter
    rows = []
    velocities = []
    for note in notes:
        if getattr(note, "channel", 0) == 9:  # General MIDI drums carry no pitch information
            continue
        start = int(round(note.start_tick * scale))
        duration = max(1, int(round(note.duration_ticks * scale)))
        rows.append((start, duration, note.pitch))
        velocities.append(note.velocity)
    if not rows:
        return None
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][2], rows[i][1]))
    arr = np.array([rows[i] for i in order], dtype=np.int32)
    vel = np.array([velocities[i] for i in order], dtype=np.int32)
    ts_rows = []
    for change in time_signatures:
        ts_rows.append((int(round(change.tick * scale)), change.numerator, change.denominator))
    if not ts_rows or ts_rows[0][0] != 0:
        ts_rows.insert(0, (0, 4, 4))
    return Piece(source_id, arr, np.array(ts_rows, dtype=np.int32), CORPUS_TICKS_PER_QUARTER, vel)


def load_midi_folder(folder: Path) -> list[Piece]:
    """Every readable .mid/.midi file under ``folder`` as a Piece (unreadable files are skipped)."""
    from composer_app.core.midifile import load_midi

    folder = Path(folder)
    pieces = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi")):
        try:
            loaded = load_midi(path)
        except Exception:
            continue
        piece = _piece_from_loaded(path.relative_to(folder).as_posix(), loaded)
        if piece is not None:
            pieces.append(piece)
    return pieces


def _piece_from_loaded(source_id: str, loaded) -> Piece | None:
    """Accept what core.midifile.load_midi returns (a Project, or something with tracks/notes)."""
    tracks = getattr(loaded, "tracks", None)
    if tracks is not None:
        notes = [n for t in tracks for n in t.notes]
    else:
        notes = list(getattr(loaded, "notes", ()))
    tpq = getattr(loaded, "ticks_per_quarter", 480)
    ts_map = getattr(loaded, "time_signatures", None)
    changes = ts_map.changes if ts_map is not None and hasattr(ts_map, "changes") else ()
    return piece_from_notes(source_id, notes, tpq, changes)


def split(pieces: Sequence[Piece]) -> tuple[list[Piece], list[Piece]]:
    """(train, held-out) by the deterministic hash of each source id."""
    train = [p for p in pieces if not is_heldout(p.source_id)]
    heldout = [p for p in pieces if is_heldout(p.source_id)]
    return train, heldout


def iter_pieces(data: str, cache_dir: Path | None = None, collections=DEFAULT_COLLECTIONS) -> Iterator[Piece]:
    """``"corpus"`` -> the cached corpus (converted first if needed); a folder -> its .mid files."""
    if data == "corpus":
        cache_dir = Path(cache_dir or default_cache_dir())
        convert_corpus(collections, cache_dir)
        yield from load_corpus(collections, cache_dir)
    else:
        yield from load_midi_folder(Path(data))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m composer_app.generation.data [--workers N] [COLLECTION ...]``: fill the cache."""
    import argparse

    parser = argparse.ArgumentParser(description="convert the music21 corpus into the note cache")
    parser.add_argument("collections", nargs="*", default=list(DEFAULT_COLLECTIONS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    out = convert_corpus(args.collections, args.cache_dir, args.workers)
    pieces = load_corpus(args.collections, out)
    print(f"{len(pieces)} works, {sum(len(p.notes) for p in pieces)} notes in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
