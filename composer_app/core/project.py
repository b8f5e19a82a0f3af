"""The project: the whole document (tracks, resolution, tempo and meter maps, loop, key, chords, settings)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from composer_app.core.chords import ChordTrack
from composer_app.core.mood_timeline import MoodTimeline
from composer_app.core import limits
from composer_app.core.limits import LimitError
from composer_app.core.theory import Key
from composer_app.core.timing import (
    DEFAULT_TICKS_PER_QUARTER,
    TempoMap,
    TimeSignatureMap,
)
from composer_app.core.track import Track
from composer_app.core.validate import check_int


@dataclass(frozen=True, slots=True)
class LoopRegion:
    """Playback loops over ``start_tick <= t < end_tick``."""

    start_tick: int
    end_tick: int

    def __post_init__(self) -> None:
        check_int("start_tick", self.start_tick, 0)
        check_int("end_tick", self.end_tick, 0)
        if self.end_tick <= self.start_tick:
            raise ValueError("end_tick must be > start_tick")


@dataclass(frozen=True, slots=True, order=True)
class Marker:
    """A named position (a section: "Verse", "Chorus") shown on the tempo lane and written to MIDI files."""

    tick: int
    name: str = "Marker"

    def __post_init__(self) -> None:
        check_int("tick", self.tick, 0)
        if not isinstance(self.name, str):
            raise TypeError("name must be a str")
        limits.check_name("name", self.name)


@dataclass(frozen=True, slots=True)
class Project:
    """An immutable document. Edit it by building a new one (``replace_track``, ``dataclasses.replace``).

    Immutability lets the GUI hand the current project to playback and generation threads
    without copying or locking, and makes undo a matter of keeping the previous value.
    ``settings`` holds JSON-able per-document settings (mood, generation options, …).
    ``chords`` is the chord track (chord symbols at tick positions, empty by default).
    ``mood_timeline``: the mood over time (valence/arousal points at bars); every generation request
    takes its per-bar targets from it when it has points.
    """

    tracks: tuple[Track, ...] = ()
    ticks_per_quarter: int = DEFAULT_TICKS_PER_QUARTER
    tempo_map: TempoMap | None = None
    time_signatures: TimeSignatureMap | None = None
    loop: LoopRegion | None = None
    key: Key | None = None
    title: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict, compare=True)
    markers: tuple[Marker, ...] = ()  # sorted by tick
    chords: ChordTrack = field(default_factory=ChordTrack)
    mood_timeline: MoodTimeline = field(default_factory=MoodTimeline)

    def __post_init__(self) -> None:
        check_int("ticks_per_quarter", self.ticks_per_quarter, 1, limits.MAX_TICKS_PER_QUARTER)
        tracks = tuple(self.tracks)
        for track in tracks:
            if not isinstance(track, Track):
                raise TypeError("tracks must be Track values")
        object.__setattr__(self, "tracks", tracks)
        if not isinstance(self.title, str):
            raise TypeError("title must be a str")
        limits.check_name("title", self.title)
        if self.tempo_map is None:
            object.__setattr__(self, "tempo_map", TempoMap(ticks_per_quarter=self.ticks_per_quarter))
        elif self.tempo_map.ticks_per_quarter != self.ticks_per_quarter:
            raise ValueError("tempo_map must use the project's ticks_per_quarter")
        if self.time_signatures is None:
            object.__setattr__(self, "time_signatures", TimeSignatureMap(ticks_per_quarter=self.ticks_per_quarter))
        elif self.time_signatures.ticks_per_quarter != self.ticks_per_quarter:
            raise ValueError("time_signatures must use the project's ticks_per_quarter")
        object.__setattr__(self, "settings", dict(self.settings))
        markers = tuple(self.markers)
        for marker in markers:
            if not isinstance(marker, Marker):
                raise TypeError("markers must be Marker values")
        object.__setattr__(self, "markers", tuple(sorted(markers)))
        if not isinstance(self.chords, ChordTrack):
            raise TypeError("chords must be a ChordTrack")
        if not isinstance(self.mood_timeline, MoodTimeline):
            raise TypeError("mood_timeline must be a MoodTimeline")
        self._check_limits()

    def _check_limits(self) -> None:
        """Raise ``LimitError`` if the document is beyond ``core.limits`` (cheap: O(tracks + changes))."""
        tpq = self.ticks_per_quarter
        if len(self.tracks) > limits.MAX_TRACKS:
            raise LimitError(f"{len(self.tracks):,} tracks (the limit is {limits.MAX_TRACKS:,})")
        notes = sum(len(t.notes) for t in self.tracks)
        if notes > limits.MAX_NOTES:
            raise LimitError(f"{notes:,} notes (the limit is {limits.MAX_NOTES:,})")
        if len(self.tempo_map.changes) > limits.MAX_TEMPO_CHANGES:
            raise LimitError(f"{len(self.tempo_map.changes):,} tempo changes (the limit is {limits.MAX_TEMPO_CHANGES:,})")
        if len(self.time_signatures.changes) > limits.MAX_METER_CHANGES:
            raise LimitError(
                f"{len(self.time_signatures.changes):,} time-signature changes (the limit is {limits.MAX_METER_CHANGES:,})"
            )
        longest_ticks = limits.max_note_ticks(tpq)
        for track in self.tracks:
            if track.longest_note_ticks > longest_ticks:
                raise LimitError(
                    f"a note of {limits.quarters_text(track.longest_note_ticks, tpq)} quarter notes in track {track.name[:40]!r} "
                    f"(the limit is {limits.MAX_NOTE_QUARTERS:,})"
                )
            limits.check_span("a note ending", track.end_tick, tpq)
        limits.check_span("a tempo change", self.tempo_map.changes[-1].tick, tpq)
        limits.check_span("a time-signature change", self.time_signatures.changes[-1].tick, tpq)
        if self.loop is not None:
            limits.check_span("the loop's end", self.loop.end_tick, tpq)
        if len(self.markers) > limits.MAX_MARKERS:
            raise LimitError(f"{len(self.markers):,} markers (the limit is {limits.MAX_MARKERS:,})")
        if self.markers:
            limits.check_span("a marker", self.markers[-1].tick, tpq)
        limits.check_span("a chord ending", self.chords.end_tick, tpq)

    @property
    def end_tick(self) -> int:
        """The end of the last-sounding note of any track (0 when empty)."""
        return max((t.end_tick for t in self.tracks), default=0)

    @property
    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    @property
    def duration_seconds(self) -> float:
        return self.tempo_map.tick_to_seconds(self.end_tick)

    @property
    def audible_tracks(self) -> tuple[Track, ...]:
        """Tracks that play: the soloed ones if any track is soloed, else every unmuted one."""
        soloed = tuple(t for t in self.tracks if t.solo)
        return soloed if soloed else tuple(t for t in self.tracks if not t.mute)

    def audible_project(self) -> Project:
        """The project as it is heard: the audible tracks only, mute and solo cleared (what an export writes)."""
        return replace(self, tracks=tuple(replace(t, mute=False, solo=False) for t in self.audible_tracks))

    def replace_track(self, index: int, track: Track) -> Project:
        tracks = list(self.tracks)
        tracks[index] = track
        return replace(self, tracks=tuple(tracks))

    def with_tracks(self, tracks) -> Project:
        return replace(self, tracks=tuple(tracks))

    def with_chords(self, chords: ChordTrack) -> Project:
        return replace(self, chords=chords)
    def with_mood_timeline(self, timeline: MoodTimeline) -> Project:
        return replace(self, mood_timeline=timeline)

    def with_settings(self, **settings: Any) -> Project:
        merged = dict(self.settings)
        merged.update(settings)
        return replace(self, settings=merged)
