"""Chords for the new bars of a continuation (Qt-free): the chord suggester over a candidate's bars.

The suggestions panel asks :func:`chords_for_new_bars` for each candidate it shows. Where the
document's chord track already has chords in the candidate's bars the candidate was made to follow
them, so nothing is proposed (the answer says which chords it follows); elsewhere the chord
suggester (:mod:`composer_app.arrange.suggest`) proposes the most likely progression for the
candidate's notes, in the key of the prompt and the candidate together, at the harmonic rhythm
and colour of the request's mood. Adding the chords is the caller's one undo step
(:func:`with_new_bar_chords`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from composer_app.core.chords import ChordTrack
from composer_app.core.note import Note


@dataclass(frozen=True)
class NewBarChords:
    """The chords for a candidate's bars: proposed (``proposed`` True) or already in the chord track."""

    chords: ChordTrack  # document ticks
    start_tick: int
    end_tick: int
    proposed: bool
    tonic_pc: int | None = None
    minor: bool | None = None
    bar_starts: tuple[int, ...] = ()  # the bar lines in the span (document ticks), for :meth:`text`

    @property
    def symbols(self) -> list[str]:
        return self.chords.symbols()

    def text(self) -> str:
        """"C F | G7 | % | Am": one entry per bar, "|" between bars, "%" (the lead-sheet repeat sign) for a bar
        whose chord goes on from the bar before, "–" for a bar without a chord."""
        if not self.bar_starts:
            return " ".join(self.chords.symbols())
        lines = sorted({self.start_tick, *(b for b in self.bar_starts if self.start_tick < b < self.end_tick)})
        bars = []
        for begin, end in zip(lines, [*lines[1:], self.end_tick]):
            starting = [e.chord.symbol() for e in self.chords if begin <= e.start_tick < end]
            if starting:
                bars.append(" ".join(starting))
            else:
                held = any(e.start_tick < begin < e.start_tick + e.duration_ticks for e in self.chords)
                bars.append("%" if held else "–")
        return " | ".join(bars)


def chords_for_new_bars(
    project,
    prompt_notes: Sequence[Note],
    new_notes: Sequence[Note],
    start_tick: int,
    end_tick: int,
    *,
    valence: float = 0.0,
    arousal: float = 0.0,
    key=None,
    seed: int = 0,
    model=None,
) -> NewBarChords | None:
    """Chords for ``start_tick..end_tick`` (document ticks) under ``new_notes``.

    ``prompt_notes`` (document ticks) help read the key when neither the project nor ``key`` (a
    :class:`~composer_app.core.theory.Key`, e.g. the candidate's) is major or minor. None when the
    new bars have no pitched notes.
    """
    from composer_app.arrange.suggest import choose_key, melody_line, suggest_chords

    if end_tick <= start_tick:
        return None
    ts = project.time_signatures
    bar_starts, tick = [], ts.next_bar_tick(start_tick)
    while tick < end_tick and len(bar_starts) < 10_000:
        bar_starts.append(tick)
        tick = ts.bar_to_tick(ts.tick_to_position(tick).bar + 1)
    bar_starts = tuple(bar_starts)
    existing = project.chords.between(start_tick, end_tick)
    if existing:
        return NewBarChords(ChordTrack(existing), start_tick, end_tick, proposed=False, bar_starts=bar_starts)
    melody = melody_line([n for n in new_notes if n.channel != 9 and start_tick <= n.start_tick < end_tick])
    if not melody:
        return None
    tonic_minor = None
    for k in (project.key, key):
        if k is not None and k.mode in ("major", "minor"):
            tonic_minor = (k.tonic_pc, k.mode == "minor")
            break
    if tonic_minor is None:
        context = [n for n in prompt_notes if n.channel != 9] + list(melody)
        tonic_minor = choose_key(context, valence)
    options = suggest_chords(project, notes=melody, start_tick=start_tick, end_tick=end_tick, valence=valence,
                             arousal=arousal, alternatives=1, seed=seed, model=model, key=tonic_minor)
    if not options:
        return None
    best = options[0]
    return NewBarChords(best.chords, start_tick, end_tick, proposed=True, tonic_pc=best.tonic_pc, minor=best.minor,
                        bar_starts=bar_starts)


def with_new_bar_chords(project, chords: NewBarChords):
    """``project`` with the proposed chords in their bars (unchanged when nothing was proposed)."""
    if chords is None or not chords.proposed:
        return project
    return project.with_chords(project.chords.replaced_span(chords.start_tick, chords.end_tick, chords.chords))
