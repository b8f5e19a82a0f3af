"""Pure edit operations on a track's notes: (notes, selection, …) -> (new notes, new selection).

Nothing here touches Qt widgets or the undo stack: callers pass the result to
``Document.apply_track_notes`` (the one mutation path). Each function returns the full new note
list and the notes that should be selected afterwards (the edited ones), so the selection
follows the notes through the edit even when two notes are identical.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from composer_app.core.note import MIDI_PITCH_MAX, MIDI_VELOCITY_MAX, Note
from composer_app.core.theory import quantize as core_quantize
from composer_app.ui.selection import Selection

EditResult = tuple[list[Note], list[Note]]  # (all notes of the track, notes selected afterwards)


def clamp_move(notes: Iterable[Note], delta_ticks: int, delta_pitch: int) -> tuple[int, int]:
    """Limit a move so that no note starts before tick 0 or leaves the pitch range."""
    notes = list(notes)
    if not notes:
        return 0, 0
    earliest = min(n.start_tick for n in notes)
    low = min(n.pitch for n in notes)
    high = max(n.pitch for n in notes)
    delta_ticks = max(delta_ticks, -earliest)
    delta_pitch = max(-low, min(delta_pitch, MIDI_PITCH_MAX - high))
    return delta_ticks, delta_pitch


def move(notes: Sequence[Note], selection: Selection, delta_ticks: int, delta_pitch: int, *, copy: bool = False) -> EditResult:
    """Move (or, with ``copy``, duplicate and move) the selected notes."""
    selected, rest = selection.split(notes)
    delta_ticks, delta_pitch = clamp_move(selected, delta_ticks, delta_pitch)
    moved = [n.shifted(delta_ticks, delta_pitch) for n in selected]
    kept = list(notes) if copy else rest
    return kept + moved, moved


def resize(notes: Sequence[Note], selection: Selection, delta_ticks: int, *, edge: str = "end", min_ticks: int = 1) -> EditResult:
    """Lengthen/shorten the selected notes at their ``end`` (or move their ``start`` edge)."""
    selected, rest = selection.split(notes)
    changed = []
    for n in selected:
        if edge == "end":
            changed.append(n.with_duration(max(min_ticks, n.duration_ticks + delta_ticks)))
        else:
            start = max(0, min(n.start_tick + delta_ticks, n.end_tick - min_ticks))
            changed.append(Note(start, n.pitch, n.end_tick - start, n.velocity, n.channel))
    return rest + changed, changed


def delete(notes: Sequence[Note], selection: Selection) -> EditResult:
    _selected, rest = selection.split(notes)
    return rest, []


def transpose(notes: Sequence[Note], selection: Selection, semitones: int) -> EditResult:
    return move(notes, selection, 0, semitones)


def set_velocity(notes: Sequence[Note], selection: Selection, velocity: int | None = None, *, delta: int = 0) -> EditResult:
    """Set the selected notes' velocity to ``velocity`` or change it by ``delta`` (clamped to 1..127)."""
    selected, rest = selection.split(notes)
    changed = [
        n.with_velocity(max(1, min(MIDI_VELOCITY_MAX, (velocity if velocity is not None else n.velocity + delta))))
        for n in selected
    ]
    return rest + changed, changed


def velocity_ramp(notes: Sequence[Note], targets: Iterable[Note], tick0: float, vel0: float, tick1: float, vel1: float) -> EditResult:
    """Give ``targets`` velocities on the line from (tick0, vel0) to (tick1, vel1) by their start tick."""
    selection = Selection(targets)
    selected, rest = selection.split(notes)
    if tick1 < tick0:
        tick0, vel0, tick1, vel1 = tick1, vel1, tick0, vel0
    span = max(tick1 - tick0, 1e-9)
    changed = []
    for n in selected:
        t = min(max((n.start_tick - tick0) / span, 0.0), 1.0)
        changed.append(n.with_velocity(max(1, min(MIDI_VELOCITY_MAX, round(vel0 + (vel1 - vel0) * t)))))
    return rest + changed, changed


def legato(notes: Sequence[Note], selection: Selection) -> EditResult:
    """Stretch each selected note to the start of the next later-starting selected note (the last keeps its length)."""
    selected, rest = selection.split(notes)
    starts = sorted({n.start_tick for n in selected})
    next_start = {s: starts[i + 1] for i, s in enumerate(starts[:-1])}
    changed = [n.with_duration(next_start[n.start_tick] - n.start_tick) if n.start_tick in next_start else n for n in selected]
    return rest + changed, changed


def quantize(notes: Sequence[Note], selection: Selection, grid_ticks: int, *, strength: float = 1.0, swing: float = 0.0, quantize_ends: bool = False) -> EditResult:
    """Quantize the selected notes' starts toward the grid (``strength`` 0..1, ``swing`` 0..1)."""
    selected, rest = selection.split(notes)
    changed = list(core_quantize(selected, grid_ticks, strength=strength, swing=swing, quantize_ends=quantize_ends))
    return rest + changed, changed


def duplicate(notes: Sequence[Note], selection: Selection, *, snap_ticks: int = 1) -> EditResult:
    """Copy the selection right after itself (the copy starts at the selection's end, rounded up to the grid)."""
    selected, _rest = selection.split(notes)
    if not selected:
        return list(notes), []
    start = min(n.start_tick for n in selected)
    end = max(n.end_tick for n in selected)
    span = end - start
    if snap_ticks > 1:
        span = -(-span // snap_ticks) * snap_ticks
    copies = [n.shifted(span, 0) for n in selected]
    return list(notes) + copies, copies


def paste(notes: Sequence[Note], clip: Sequence[Note], at_tick: int, *, channel: int | None = None) -> EditResult:
    """Insert ``clip`` (notes relative to its own first start) starting at ``at_tick``."""
    if not clip:
        return list(notes), []
    origin = min(n.start_tick for n in clip)
    pasted = [
        Note(n.start_tick - origin + at_tick, n.pitch, n.duration_ticks, n.velocity, n.channel if channel is None else channel)
        for n in clip
    ]
    return list(notes) + pasted, pasted


def notes_in_rect(notes: Iterable[Note], tick0: float, tick1: float, pitch_low: int, pitch_high: int) -> list[Note]:
    """Notes that overlap the time span and pitch span (a box selection)."""
    return [n for n in notes if n.start_tick < tick1 and n.end_tick > tick0 and pitch_low <= n.pitch <= pitch_high]
