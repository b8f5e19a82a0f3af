"""Project -> timed MIDI events: the one conversion that live playback and offline render share.

``project_events(project)`` lists, for the audible tracks (mute/solo applied), one program change
and the track's volume (CC7) and pan (CC10) per channel the track plays on, then every note as a note-on and a note-off, each with its tick and
its time in seconds from the project start through the project's tempo map. Events are sorted by
tick; at the same tick program changes come first, then note-offs, then note-ons, so a note that
ends where the next one on the same key starts is released before it is struck again.

Overlapping notes of the same pitch on the same channel would otherwise be cut short by the first
note's note-off: the key is released only when the last of the overlapping notes ends.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import mido

from composer_app.core.project import Project
from composer_app.core.track import CONTROLLER_PAN, CONTROLLER_VOLUME

NOTE_OFF_VELOCITY = 64  # MIDI 1.0: the release velocity to send when none was recorded

# Order of events that fall on the same tick.
ORDER_PROGRAM = 0
ORDER_NOTE_OFF = 1
ORDER_NOTE_ON = 2


@dataclass(frozen=True, slots=True)
class TimedEvent:
    """One MIDI message at ``tick``, ``seconds`` after the project start (tempo map applied)."""

    tick: int
    seconds: float
    order: int
    message: mido.Message

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.tick, self.order)


def program_messages(project: Project) -> list[mido.Message]:
    """Program change, volume (CC7) and pan (CC10) for each channel an audible track plays on.

    The first track on a channel wins it. Program changes come first, then the controllers.
    """
    tracks: dict[int, object] = {}
    for track in project.audible_tracks:
        for channel in sorted({track.channel, *(n.channel for n in track.notes)}):
            tracks.setdefault(channel, track)
    channels = sorted(tracks)
    messages = [mido.Message("program_change", channel=c, program=tracks[c].program) for c in channels]
    for c in channels:
        messages.append(mido.Message("control_change", channel=c, control=CONTROLLER_VOLUME, value=tracks[c].volume))
        messages.append(mido.Message("control_change", channel=c, control=CONTROLLER_PAN, value=tracks[c].pan))
    return messages


def project_events(project: Project, include_programs: bool = True) -> tuple[TimedEvent, ...]:
    """All events of the audible tracks, sorted; program changes at tick 0 unless left out.

    (The transport leaves them out and sends ``program_messages`` whenever it starts playing,
    wherever it starts.)
    """
    tempo_map = project.tempo_map
    raw: list[tuple[int, int, int, mido.Message]] = []  # (tick, order, sequence, message)
    if include_programs:
        for message in program_messages(project):
            raw.append((0, ORDER_PROGRAM, len(raw), message))
    # Sweep note-ons and note-offs per (channel, pitch) so that overlaps release only at the last end.
    edges: list[tuple[int, int, int, int, int]] = []  # (tick, order, channel, pitch, velocity)
    for track in project.audible_tracks:
        for note in track.notes:
            edges.append((note.start_tick, ORDER_NOTE_ON, note.channel, note.pitch, note.velocity))
            edges.append((note.end_tick, ORDER_NOTE_OFF, note.channel, note.pitch, 0))
    edges.sort()
    depth: dict[tuple[int, int], int] = {}
    for tick, order, channel, pitch, velocity in edges:
        key = (channel, pitch)
        if order == ORDER_NOTE_ON:
            depth[key] = depth.get(key, 0) + 1
            # skip_checks: every value was validated when its Note was built (3x faster for 200,000 notes)
            message = mido.Message("note_on", skip_checks=True, channel=channel, note=pitch, velocity=velocity)
        else:
            depth[key] -= 1
            if depth[key]:
                continue  # another note on this key is still sounding
            message = mido.Message("note_off", skip_checks=True, channel=channel, note=pitch, velocity=NOTE_OFF_VELOCITY)
        raw.append((tick, order, len(raw), message))
    raw.sort(key=lambda item: item[:3])
    return tuple(
        TimedEvent(tick, tempo_map.tick_to_seconds(tick), order, message) for tick, order, _, message in raw
    )


def first_index_at_or_after(events: tuple[TimedEvent, ...], tick: int) -> int:
    """Index of the first event with ``event.tick >= tick`` (``len(events)`` when none)."""
    return bisect.bisect_left(events, (tick, -1), key=lambda e: e.sort_key)
