"""Torch-free helpers for the VAE's results: a bridge of interpolation steps, and how exactly a result
reproduces a clip.

A *bridge* lays clips one after another (each at the previous one's ``length_ticks``, a whole number
of bars), so an interpolation from A to B becomes one passage that morphs A into B.
"""

from __future__ import annotations

from typing import Sequence

from composer_app.core.clip import Clip
from composer_app.generation import melody


def bridge(clips: Sequence) -> Clip:
    """The clips (candidates with ``length_ticks``) end to end, in the first one's ticks, tempo and meter."""
    if not clips:
        raise ValueError("a bridge needs at least one clip")
    first = clips[0]
    offset, notes = 0, []
    for clip in clips:
        if clip.ticks_per_quarter != first.ticks_per_quarter:
            raise ValueError("the clips of a bridge must share ticks_per_quarter")
        notes.extend(n.with_start(n.start_tick + offset) for n in clip.notes)
        offset += int(getattr(clip, "length_ticks", 0) or clip.end_tick)
    return Clip(tuple(notes), first.ticks_per_quarter, first.tempo_map, first.time_signatures)


def melody_notes(clip) -> set[tuple[int, int, int]]:
    """The clip's notes as the VAE reads them (16th grid, one line): (start step, duration steps, pitch)."""
    segments, _ = melody.clip_to_segments(clip.notes, clip.ticks_per_quarter)
    out = set()
    for k, tokens in enumerate(segments):
        out |= {(s + k * melody.SEGMENT_STEPS, d, p) for s, d, p in melody.note_set(tokens)}
    return out


def reproduced_share(reference, result) -> float:
    """Share of ``reference``'s melody notes that ``result`` holds exactly (onset, duration, pitch)."""
    ref = melody_notes(reference)
    if not ref:
        return 1.0
    return len(ref & melody_notes(result)) / len(ref)
