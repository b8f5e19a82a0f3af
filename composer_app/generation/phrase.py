"""Restatement: a phrase plan that decides, per generated bar, whether it restates an earlier bar.

Real second phrases reuse the first one's bars (in held-out folk tunes 23 % of the next 4 bars
copy a bar of the first 4); a small model sampling note by note almost never does (0.4 %). So the
plan decides it explicitly, the same way for every generator, from statistics of the training
split (``calibrate``, shipped as ``data/phrase_table.json``):

* each bar of a real tune is labelled with the earlier bar it restates, by *lag* (1, 2, 3, 4, 6, 8,
  12 or 16 bars back, the smallest that matches): ``copy`` (the same onsets and pitches), ``rhythm``
  (the same onsets, other pitches: a variation; one-line bars only) or ``free``;
* the table gives the probability of each label given the bar's place in an 8-bar phrase (counted
  from the first full bar: a pickup bar does not count) and the previous bar's label, so that a
  restatement goes on (bar 5 copies bar 1, then bar 6 copies bar 2: an A A' form) and where it is
  likely (a new phrase's first bars, the cadence bar of a repeated phrase);
* ``draw`` samples one label per generated bar for one sample (its own seed: the candidates of a
  request restate differently, and ranking can choose among them). A source may be a prompt bar or
  an earlier generated bar of the same sample.

What a restated bar becomes goes through the same mood adjustments as the generated ones: its
pitches move to the bar's planned mode (the 3rd, 6th and 7th, same tonic: ``pitch_map``); a bar
whose planned density differs from its source's by more than ``MAX_DENSITY_BINS_APART`` bins
(another arousal), a bar under a chord track, and a bar whose restated notes the plan forbids
(strict scale, range) is generated freely instead. The token generators force a ``copy`` bar's
tokens and a ``rhythm`` bar's positions and durations (pitches sampled) and go on sampling after it
with the restated bar in their context; the GAN replaces its bar and conditions the next on it.

Torch-free: numpy and the tokenizer's grid only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from composer_app.core.theory import MODE_INTERVALS, Key

LAGS = (1, 2, 3, 4, 6, 8, 12, 16)  # bars back a restatement may look (the smallest match is its label)
KINDS = ("copy", "rhythm")
PERIOD = 8  # bars per phrase pair (two 4-bar phrases): the place-in-phrase of a bar is its index mod this
MIN_CONTEXT_COUNT = 40  # a (place, previous label) context seen fewer times backs off to the place alone
MAX_DENSITY_BINS_APART = 1  # a restated bar's planned density bin may differ from its source's by at most this
TABLE_PATH = Path(__file__).resolve().parent / "data" / "phrase_table.json"
FREE = "free"
# The degrees that differ between major and minor (same as keys.MODAL_DEGREES): (minor, major) in semitones.
_MODAL_DEGREES = ((3, 4), (8, 9), (10, 11))


def label(kind: str, lag: int) -> str:
    return f"{kind}:{lag}"


def parse_label(text: str) -> tuple[str, int]:
    """``"copy:4"`` -> ("copy", 4); ``"free"`` -> ("free", 0)."""
    if text == FREE:
        return FREE, 0
    kind, lag = text.split(":")
    return kind, int(lag)


@dataclass(frozen=True)
class Restatement:
    """One generated bar restating an earlier one."""

    source: int  # the source bar, counted from the continuation's first bar (negative: a prompt bar, -1 = the last)
    kind: str  # "copy" (onsets and pitches) or "rhythm" (onsets and durations; pitches generated)
    lag: int  # bars back
    pitch_map: tuple[tuple[int, int], ...] = ()  # (from pitch class, to pitch class) moves into the bar's mode


@dataclass(frozen=True)
class PhraseContext:
    """What the phrase plan needs of the prompt (``plan.analyse_prompt`` fills it)."""

    bar_notes: tuple  # per prompt bar: (n, 3) int64 grid notes (start within the bar, duration, pitch)
    bar_length: int  # grid ticks of a continuation bar
    origin: int  # index of the first full bar (1 after a pickup bar, else 0)
    key: Key  # the prompt's modal key (the restated prompt bars are in it)
    density_bins: tuple  # per prompt bar: its density bin (tokenizer)

    @property
    def prompt_bars(self) -> int:
        return len(self.bar_notes)


def bar_shape(notes: np.ndarray) -> tuple[tuple[int, int], ...]:
    """A bar as sorted (onset, pitch) pairs (what ``copy`` compares)."""
    return tuple(sorted((int(s), int(p)) for s, _, p in np.asarray(notes).reshape(-1, 3)))


def is_one_line(notes: np.ndarray) -> bool:
    """One note per onset (a ``rhythm`` restatement keeps onsets and samples one pitch each)."""
    starts = np.asarray(notes).reshape(-1, 3)[:, 0]
    return len(starts) == len(np.unique(starts))


def pickup_origin(first_bar: np.ndarray, bar_length: int) -> int:
    """1 when the first bar is a pickup (its first note in the second half of the bar), else 0."""
    first_bar = np.asarray(first_bar).reshape(-1, 3)
    return int(len(first_bar) > 0 and int(first_bar[:, 0].min()) * 2 >= bar_length)


def bar_labels(bars: Sequence[np.ndarray]) -> list[str]:
    """Each bar's label (``free``, ``copy:L`` or ``rhythm:L``, the smallest lag that matches)."""
    shapes = [bar_shape(b) for b in bars]
    rhythms = [tuple(t for t, _ in s) for s in shapes]
    one_line = [is_one_line(b) for b in bars]
    out = []
    for a, shape in enumerate(shapes):
        found = FREE
        if shape:
            for lag in LAGS:
                if lag <= a and shapes[a - lag] == shape:
                    found = label("copy", lag)
                    break
            if found == FREE and one_line[a]:
                for lag in LAGS:
                    if lag <= a and rhythms[a - lag] == rhythms[a] and one_line[a - lag]:
                        found = label("rhythm", lag)
                        break
        out.append(found)
    return out


# ----------------------------------------------------------------------------------------------
# Calibration on the training split


def tune_bars(notes: np.ndarray, bar_length: int) -> list[np.ndarray]:
    """A one-meter tune's notes (grid) -> per bar, notes with starts within the bar."""
    notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    if not len(notes):
        return []
    n_bars = int(notes[:, 0].max()) // bar_length + 1
    index = notes[:, 0] // bar_length
    out = []
    for b in range(n_bars):
        bar = notes[index == b].copy()
        bar[:, 0] -= b * bar_length
        out.append(bar)
    return out


def calibrate(tunes: Sequence[tuple[np.ndarray, int]]) -> dict:
    """The phrase table from ``(grid notes, bar length)`` tunes (one meter each).

    Counts every bar's label (``bar_labels``) by its place in the phrase (``(bar - origin) % PERIOD``)
    and the previous bar's label; probabilities with the place's marginal where a context is rare.
    """
    counts: dict[int, dict[str, dict[str, int]]] = {p: {} for p in range(PERIOD)}
    marginal: dict[int, dict[str, int]] = {p: {} for p in range(PERIOD)}
    bars_seen = 0
    for notes, bar_length in tunes:
        bars = tune_bars(notes, bar_length)
        if len(bars) < 2:
            continue
        origin = pickup_origin(bars[0], bar_length)
        labels = bar_labels(bars)
        for a in range(origin + 1, len(bars)):
            place = (a - origin) % PERIOD
            previous = labels[a - 1] if a - 1 >= origin else FREE
            ctx = counts[place].setdefault(previous, {})
            ctx[labels[a]] = ctx.get(labels[a], 0) + 1
            marginal[place][labels[a]] = marginal[place].get(labels[a], 0) + 1
            bars_seen += 1

    def normalise(c: dict[str, int]) -> dict[str, float]:
        total = sum(c.values())
        return {k: round(v / total, 5) for k, v in sorted(c.items(), key=lambda kv: -kv[1]) if v / total >= 1e-4}

    table = {
        "period": PERIOD,
        "lags": list(LAGS),
        "bars": bars_seen,
        "tunes": len(tunes),
        "marginal": {str(p): normalise(marginal[p]) for p in range(PERIOD) if marginal[p]},
        "context": {
            str(p): {prev: normalise(c) for prev, c in counts[p].items() if sum(c.values()) >= MIN_CONTEXT_COUNT}
            for p in range(PERIOD)
        },
    }
    every = {}
    for p in range(PERIOD):
        for k, v in marginal[p].items():
            every[k] = every.get(k, 0) + v
    table["share"] = normalise(every)
    return table


@lru_cache(maxsize=1)
def load_table(path: str = str(TABLE_PATH)) -> dict:
    return json.loads(Path(path).read_text())


# ----------------------------------------------------------------------------------------------
# Drawing a phrase plan for one sample


def pitch_map(source: Key, target: Key) -> tuple[tuple[int, int], ...]:
    """Pitch-class moves that put a bar in ``source``'s mode into ``target``'s (same tonic assumed):
    each of the 3rd, 6th and 7th that the two modes hold differently moves a semitone."""
    if source.tonic_pc != target.tonic_pc:
        return ()
    have, want = set(MODE_INTERVALS[source.mode]), set(MODE_INTERVALS[target.mode])
    moves = []
    for minor, major in _MODAL_DEGREES:
        if major in have and minor in want and major not in want:
            moves.append(((source.tonic_pc + major) % 12, (source.tonic_pc + minor) % 12))
        elif minor in have and major in want and minor not in want:
            moves.append(((source.tonic_pc + minor) % 12, (source.tonic_pc + major) % 12))
    return tuple(moves)


def apply_pitch_map(pitches: np.ndarray, moves: tuple[tuple[int, int], ...]) -> np.ndarray:
    pitches = np.asarray(pitches, dtype=np.int64).copy()
    if moves:
        pcs = pitches % 12
        shift = np.zeros_like(pitches)
        for src, dst in moves:
            shift[pcs == src] = ((dst - src + 6) % 12) - 6
        pitches += shift
    return pitches


def _distribution(table: dict, place: int, previous: str) -> dict[str, float]:
    context = table["context"].get(str(place), {})
    return context.get(previous) or table["marginal"].get(str(place), {}) or {FREE: 1.0}


def draw(plan, seed: int, strength: float = 1.0, kinds: Sequence[str] = KINDS, table: dict | None = None) -> tuple:
    """One sample's phrase plan: per generated bar a ``Restatement`` or None (generated freely).

    ``plan``: a ``generation.plan.Plan`` with its ``phrase`` context; ``seed``: the sample's own;
    ``strength`` scales the probability of restating (0: never, 1: as in the training tunes);
    ``kinds``: which restatements are allowed (an ablation).
    """
    context: PhraseContext | None = getattr(plan, "phrase", None)
    bars = len(plan.bars)
    if context is None or strength <= 0 or not kinds:
        return (None,) * bars
    table = table or load_table()
    rng = np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFFFFFFFFFF, 0x5EA7]))
    prompt_bars = context.prompt_bars
    previous = FREE
    out: list[Restatement | None] = []
    empty = [len(b) == 0 for b in context.bar_notes]
    for k, bar in enumerate(plan.bars):
        a = prompt_bars + k  # absolute bar index (the prompt's first bar is 0)
        place = (a - context.origin) % PERIOD
        dist = _distribution(table, place, previous)
        names = [n for n in dist if n != FREE]
        p = np.array([dist[n] for n in names], dtype=np.float64) * strength
        total = p.sum()
        if total > 1:  # a strength above 1 cannot restate more than every bar
            p, total = p / total, 1.0
        u = rng.random()
        index = int(np.searchsorted(np.cumsum(p), u, side="right")) if u < total else len(names)
        choice = names[index] if index < len(names) else FREE
        previous = choice
        kind, lag = parse_label(choice)
        if kind == FREE or kind not in kinds or lag > a:
            out.append(None)
            continue
        source = k - lag  # < 0: a prompt bar
        restatement = _restatement(plan, context, k, source, kind, lag, empty)
        out.append(restatement)
        if restatement is None:
            previous = FREE
    return tuple(out)


def _restatement(plan, context: PhraseContext, k: int, source: int, kind: str, lag: int, empty) -> Restatement | None:
    """The restatement of generated bar ``k`` from ``source``, or None where the plan rules it out."""
    from composer_app.generation import tokenizer as tk

    bar = plan.bars[k]
    if getattr(plan, "chords", None) is not None:
        return None
    if source < 0:
        index = context.prompt_bars + source
        if index < 0 or empty[index]:
            return None
        notes = context.bar_notes[index]
        if kind == "rhythm" and not is_one_line(notes):
            return None
        if len(notes) and int(notes[:, 0].max()) >= context.bar_length:
            return None
        source_key, source_density = context.key, context.density_bins[index]
        moves = pitch_map(source_key, bar.key)
        if kind == "copy":
            pitches = apply_pitch_map(notes[:, 2], moves)
            bias = np.asarray(bar.pitch_class_bias)
            if (pitches < plan.pitch_low).any() or (pitches > plan.pitch_high).any() or not np.isfinite(bias[pitches % 12]).all():
                return None
            if not (tk.PITCH_MIN <= pitches.min() and pitches.max() <= tk.PITCH_MAX):
                return None
    else:  # an earlier generated bar: its notes are known while sampling (the generator checks them then)
        source_key, source_density = plan.bars[source].key, plan.bars[source].controls.density
        moves = pitch_map(source_key, bar.key)
    if abs(int(source_density) - int(bar.controls.density)) > MAX_DENSITY_BINS_APART:
        return None
    return Restatement(source, kind, lag, moves)


def restated_notes(context: PhraseContext, restatement: Restatement, generated_bars: Sequence[np.ndarray]) -> np.ndarray | None:
    """The notes (within the bar) a ``copy`` restatement gives, from the prompt or ``generated_bars``."""
    if restatement.source < 0:
        notes = context.bar_notes[context.prompt_bars + restatement.source]
    else:
        if restatement.source >= len(generated_bars):
            return None
        notes = generated_bars[restatement.source]
    notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3).copy()
    if len(notes):
        notes[:, 2] = apply_pitch_map(notes[:, 2], restatement.pitch_map)
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m composer_app.generation.phrase``: calibrate the table on the training split
    (folk collections, the dev pieces left out) and write ``data/phrase_table.json``."""
    import argparse

    from composer_app.generation import tokenizer as tk
    from composer_app.generation.realism import FOLK_COLLECTIONS
    from composer_app.generation.training import TrainSettings, load_split
    from composer_app.generation.training_vae import is_dev

    parser = argparse.ArgumentParser(description="calibrate the restatement table on the training split")
    parser.add_argument("--out", type=Path, default=TABLE_PATH)
    args = parser.parse_args(argv)
    train, _ = load_split(TrainSettings(convert=False, progress=False))
    tunes = []
    for item in train:
        if item.source_id.split("/", 1)[0] not in FOLK_COLLECTIONS or is_dev(item.source_id):
            continue
        decoded = tk.tokens_to_notes(item.tokens)
        if len(decoded.time_signatures) != 1:
            continue
        _, num, den = decoded.time_signatures[0]
        tunes.append((decoded.notes, tk.bar_grid_length(num, den)))
    table = calibrate(tunes)
    table["source"] = "training split, folk collections " + ", ".join(FOLK_COLLECTIONS) + ", dev pieces (training_vae.is_dev) left out"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"{table['tunes']} tunes, {table['bars']} bars; shares: " + ", ".join(f"{k} {v:.3f}" for k, v in list(table["share"].items())[:12]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
