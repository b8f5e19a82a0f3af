"""Standard MIDI files <-> ``Project``: a bounded reader and a plain writer, both small and ours.

Reading never trusts the file: its size is checked before it is read, events are counted while
they are decoded (no more than ``MAX_EVENTS``), every length is checked against the bytes that
are really there, and every problem becomes one ``MidiFileError`` with a one-line message. The
reader is ours rather than mido's because mido builds an object for every event of a file
before anything can be checked, and reads tracks past their declared end; the writer is ours
because building mido messages validates every value again (21 s against 1.2 s for 900,000
events here). The tests check both against mido's reader, and MuseScore and FluidSynth read
what we write.

What a file becomes:

- Format 1: the first track is the conductor (tempo, meter, key, title) when it has no channel
  events; every other track with notes becomes one ``Track`` (notes keep their own channels);
  tracks without notes (set-up tracks) are dropped, except empty tracks we wrote. Format 0: the single track is split into one ``Track`` per
  channel. Format 2: the patterns are laid one after the other.
- Notes pair note-on with the next note-off (or note-on with velocity 0) of the same channel and
  pitch, first in, first out; a note never closed ends at the end of its track; a note whose
  on and off fall on the same tick lasts one tick.
- A track's program is the first program change on its channel (in the track, else anywhere), its
  volume and pan the first controller 7 and 10 there; later program changes, other controllers,
  pitch bend and sysex are not kept. Marker meta events become ``Project.markers``.
- Tempo, time-signature and key-signature meta events fill the tempo map, the time-signature
  map and ``Project.key``; the title is the first track's name (the conductor's in format 1),
  else the file name.

What ``save_midi`` writes (format 1): a conductor track (title, time signatures, key signature,
tempi), a "Chords" track of marker events (one per chord symbol, what DAWs show on their
timeline) when the project has a chord track, and one track per ``Track`` (name, the key signature
again for notation programs, program change, volume (CC7) and pan (CC10) on its channel, notes on
each note's channel); markers go on the conductor track. Markers on a track named "Chords" are the
chord track, not project markers (a DAW's chord markers are read as chords when they parse). What MIDI has no event for (mute, solo, the loop, a mode other than major/minor) is
kept in a sequencer-specific meta event that other programs ignore, so that a project survives
a round trip through a .mid file whole (the chord track included) except for ``settings`` (those live in project files).
One limit of MIDI itself: two overlapping notes of the same pitch on the same channel come back
exactly only if the one that starts first also ends first.
"""

from __future__ import annotations

import json
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from composer_app.core.chords import MAX_CHORD_EVENTS, Chord, ChordEvent, ChordTrack
from composer_app.core import limits
from composer_app.core.fileio import read_bytes_bounded, write_bytes_atomically
from composer_app.core.limits import LimitError, cut_text
from composer_app.core.note import Note
from composer_app.core.project import LoopRegion, Marker, Project
from composer_app.core.theory import Key
from composer_app.core.timing import (
    DEFAULT_TICKS_PER_QUARTER,
    TempoChange,
    TempoMap,
    TimeSignatureChange,
    TimeSignatureMap,
)
from composer_app.core.track import CONTROLLER_PAN, CONTROLLER_VOLUME, DEFAULT_VOLUME, DRUM_CHANNEL, PAN_CENTRE, Track
from composer_app.errors import BadInputError

MAX_FILE_BYTES = limits.MAX_MIDI_FILE_BYTES  # larger files are refused before a byte of them is read
MAX_EVENTS = limits.MAX_MIDI_EVENTS  # events of all tracks together; about 3-4 MB of MIDI, far beyond a song
MAX_VARIABLE_LENGTH_BYTES = 4  # the SMF limit for delta times and lengths (0x0FFFFFFF at most)
MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")
MIDI_MAGIC = b"MThd"
RIFF_MAGIC = b"RIFF"  # RIFF-wrapped MIDI (.rmi): "RIFF" size "RMID", then a "data" chunk

# Our sequencer-specific meta event (FF 7F): manufacturer id 0x7D ("non-commercial/educational
# use") followed by this tag and a JSON object. Other programs skip it.
APP_META_PREFIX = bytes([0x7D]) + b"composer-app:"
CHORD_TRACK_NAME = "Chords"  # the track whose markers are chord symbols

GM_PROGRAM_NAMES = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone",
    "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ",
    "Reed Organ", "Accordion", "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass",
    "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
    "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet",
    "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax",
    "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute",
    "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)",
    "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto",
    "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock",
    "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet",
    "Telephone Ring", "Helicopter", "Applause", "Gunshot",
)  # fmt: skip
assert len(GM_PROGRAM_NAMES) == 128


class MidiFileError(BadInputError):
    """A MIDI file cannot be read or written; the message names the file and says why in one line."""


def program_name(program: int, channel: int = 0) -> str:
    """The General MIDI name of ``program`` ("Drums" on the drum channel)."""
    return "Drums" if channel == DRUM_CHANNEL else GM_PROGRAM_NAMES[program]


# --------------------------------------------------------------------------------------------
# Reading


def load_midi(path: str | os.PathLike) -> Project:
    """Read a standard MIDI file (format 0, 1 or 2) into a ``Project``; raise ``MidiFileError``."""
    path = Path(path)
    label = str(path)
    data = read_bytes_bounded(path, label, MAX_FILE_BYTES, MidiFileError)
    return load_midi_bytes(data, label, title_fallback=path.stem)


def load_midi_bytes(data: bytes, name: str = "", *, title_fallback: str | None = None) -> Project:
    """Read the bytes of a standard MIDI file into a ``Project``; raise ``MidiFileError``.

    ``name`` labels error messages and is the title of last resort (its stem, e.g. "song" for
    "song.mid"); ``title_fallback`` overrides the latter.
    """
    label = name or "MIDI data"
    if title_fallback is None:
        title_fallback = Path(name).stem if name else ""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("data must be bytes")
    data = bytes(data)
    if len(data) > MAX_FILE_BYTES:
        raise MidiFileError(f"{label}: too large for a MIDI file ({len(data):,} bytes; the limit is {MAX_FILE_BYTES:,})")
    try:
        parsed = _Reader(data, label).read()
        return _build_project(parsed, title_fallback)
    except MidiFileError:
        raise
    except LimitError as error:  # beyond core.limits: the notes, tracks or span of the file
        raise MidiFileError(f"{label}: {error}; refusing to load it") from None
    except (IndexError, KeyError, ValueError, TypeError, OverflowError, UnicodeError) as error:
        # The reader checks every bound itself; this is a safety net, not the expected path.
        raise MidiFileError(f"{label}: corrupt MIDI data ({type(error).__name__}: {error})") from error


@dataclass
class _RawTrack:
    """What one track chunk holds, before it becomes ``Track`` values."""

    index: int
    name: str | None = None
    notes: list[tuple[int, int, int, int, int]] = field(default_factory=list)  # start, pitch, dur, vel, ch
    programs: dict[int, int] = field(default_factory=dict)  # channel -> first program
    controllers: dict[tuple[int, int], int] = field(default_factory=dict)  # (channel, CC7 or CC10) -> first value
    has_channel_events: bool = False
    end_tick: int = 0
    app_meta: dict | None = None


@dataclass
class _ParsedFile:
    format: int
    ticks_per_quarter: int
    tracks: list[_RawTrack]
    tempos: list[TempoChange]
    time_signatures: list[TimeSignatureChange]
    key: Key | None
    programs: dict[int, int]  # channel -> first program anywhere in the file
    markers: list[Marker] = field(default_factory=list)
    chord_markers: list[tuple[int, str]] = field(default_factory=list)  # markers of a "Chords" track


class _Reader:
    """Decodes SMF bytes in one pass with every bound checked."""

    def __init__(self, data: bytes, label: str):
        self.data = data
        self.label = label
        self.events = 0

    def fail(self, reason: str) -> MidiFileError:
        return MidiFileError(f"{self.label}: {reason}")

    def read(self) -> _ParsedFile:
        data = self.data
        if not data:
            raise self.fail("empty file (0 bytes)")
        start = 0
        if data[:4] == RIFF_MAGIC and data[8:12] == b"RMID":
            data = self.data = self._unwrap_riff(data)
        if data[:4] != MIDI_MAGIC:
            raise self.fail("not a MIDI file (no MThd header)")
        if len(data) < 14:
            raise self.fail(f"truncated (the header needs 14 bytes, the file has {len(data)})")
        header_length = int.from_bytes(data[4:8], "big")
        if header_length < 6:
            raise self.fail(f"corrupt header (length {header_length}, at least 6 expected)")
        file_format = int.from_bytes(data[8:10], "big")
        track_count = int.from_bytes(data[10:12], "big")
        division = int.from_bytes(data[12:14], "big")
        if file_format > 2:
            raise self.fail(f"unknown MIDI format {file_format} (0, 1 or 2 expected)")
        if division & 0x8000:
            raise self.fail("SMPTE time division is not supported (only ticks per quarter note)")
        if division == 0:
            raise self.fail("corrupt header (0 ticks per quarter note)")
        start = 8 + header_length
        if start > len(data):
            raise self.fail(f"truncated (the header claims {header_length} bytes)")

        parsed = _ParsedFile(file_format, division, [], [], [], None, {})
        position = start
        offset_tick = 0
        while len(parsed.tracks) < track_count:
            if position + 8 > len(data):
                raise self.fail(
                    f"truncated (the header announces {track_count} tracks, the file holds {len(parsed.tracks)})"
                )
            chunk_id = data[position : position + 4]
            chunk_length = int.from_bytes(data[position + 4 : position + 8], "big")
            body = position + 8
            if body + chunk_length > len(data):
                raise self.fail(
                    f"truncated (track {len(parsed.tracks) + 1} of {track_count} needs {chunk_length:,} bytes "
                    f"from byte {body:,}, the file ends at byte {len(data):,})"
                )
            if chunk_id == b"MTrk":
                track = self._read_track(parsed, len(parsed.tracks), body, body + chunk_length, offset_tick)
                parsed.tracks.append(track)
                if file_format == 2:  # patterns play one after the other
                    offset_tick = track.end_tick
            elif not all(0x20 <= b < 0x7F for b in chunk_id):
                raise self.fail(f"corrupt (no track chunk at byte {position:,})")
            position = body + chunk_length  # unknown chunks are skipped, as the standard asks
        return parsed

    def _unwrap_riff(self, data: bytes) -> bytes:
        position = 12
        while position + 8 <= len(data):
            chunk_id = data[position : position + 4]
            length = int.from_bytes(data[position + 4 : position + 8], "little")
            if chunk_id == b"data":
                return data[position + 8 : position + 8 + length]
            position += 8 + length + (length & 1)
        raise self.fail("not a MIDI file (a RIFF file without MIDI data)")

    def _read_track(self, parsed: _ParsedFile, index: int, position: int, end: int, tick: int) -> _RawTrack:
        """Decode one track chunk, ``data[position:end]``; the hot loop of the reader."""
        data = self.data
        track = _RawTrack(index)
        notes = track.notes
        open_notes: dict[int, deque] = {}  # (channel << 7 | pitch) -> deque of (start tick, velocity)
        running_status = 0
        has_channel_events = False
        number = index + 1
        events_left = MAX_EVENTS - self.events
        cut_off = "corrupt track {} (an event is cut off at byte {:,})"
        while position < end:
            events_left -= 1
            if events_left < 0:
                raise self.fail(f"too many events (more than {MAX_EVENTS:,}); refusing to load it")
            byte = data[position]
            if byte < 0x80:  # the usual one-byte delta time
                tick += byte
                position += 1
            else:
                delta, position = self._variable_length(position, end, number)
                tick += delta
            if position >= end:
                raise self.fail(cut_off.format(number, position))
            status = data[position]
            if status < 0x80:
                if not running_status:
                    raise self.fail(f"corrupt track {number} (a data byte without a status at byte {position:,})")
                status = running_status
            else:
                position += 1
            if status < 0xF0:  # channel message
                running_status = status
                has_channel_events = True
                kind = status & 0xF0
                if kind == 0xC0 or kind == 0xD0:
                    if position >= end:
                        raise self.fail(cut_off.format(number, position))
                    first, second = data[position], 0
                    position += 1
                else:
                    if position + 2 > end:
                        raise self.fail(cut_off.format(number, position))
                    first, second = data[position], data[position + 1]
                    position += 2
                if first > 0x7F or second > 0x7F:
                    raise self.fail(f"corrupt track {number} (a data byte above 127 before byte {position:,})")
                if kind == 0x90 and second:
                    key = (status & 0x0F) << 7 | first
                    waiting = open_notes.get(key)
                    if waiting is None:
                        waiting = open_notes[key] = deque()
                    waiting.append((tick, second))
                elif kind == 0x80 or kind == 0x90:
                    waiting = open_notes.get((status & 0x0F) << 7 | first)
                    if waiting:  # a note-off with no note sounding is ignored
                        start_tick, velocity = waiting.popleft()
                        notes.append((start_tick, first, max(tick - start_tick, 1), velocity, status & 0x0F))
                elif kind == 0xC0:
                    track.programs.setdefault(status & 0x0F, first)
                    parsed.programs.setdefault(status & 0x0F, first)
                elif kind == 0xB0 and first in (CONTROLLER_VOLUME, CONTROLLER_PAN):
                    track.controllers.setdefault((status & 0x0F, first), second)
            elif status == 0xFF:
                if position >= end:
                    raise self.fail(cut_off.format(number, position))
                meta_type = data[position]
                length, position = self._variable_length(position + 1, end, number)
                if position + length > end:
                    raise self.fail(cut_off.format(number, position))
                payload = data[position : position + length]
                position += length
                if meta_type == 0x2F:  # end of track: anything after it in the chunk is ignored
                    break
                self._meta(parsed, track, meta_type, payload, tick)
            elif status == 0xF0 or status == 0xF7:  # system exclusive: skipped
                length, position = self._variable_length(position, end, number)
                if position + length > end:
                    raise self.fail(cut_off.format(number, position))
                position += length
            else:
                raise self.fail(f"corrupt track {number} (status byte 0x{status:02X} at byte {position - 1:,})")
        self.events = MAX_EVENTS - events_left
        track.has_channel_events = has_channel_events
        track.end_tick = tick
        for channel_pitch, waiting in open_notes.items():  # notes never closed end with the track
            for start_tick, velocity in waiting:
                pitch, channel = channel_pitch & 0x7F, channel_pitch >> 7
                notes.append((start_tick, pitch, max(tick - start_tick, 1), velocity, channel))
        return track

    def _variable_length(self, position: int, end: int, number: int) -> tuple[int, int]:
        data = self.data
        value = 0
        for _ in range(MAX_VARIABLE_LENGTH_BYTES):
            if position >= end:
                raise self.fail(f"corrupt track {number} (an event is cut off at byte {position:,})")
            byte = data[position]
            position += 1
            value = value << 7 | (byte & 0x7F)
            if byte < 0x80:
                return value, position
        raise self.fail(f"corrupt track {number} (a number longer than 4 bytes at byte {position:,})")

    def _meta(self, parsed: _ParsedFile, track: _RawTrack, meta_type: int, payload: bytes, tick: int) -> None:
        """Keep the meta events the model holds; a malformed one is skipped, not fatal."""
        if meta_type == 0x03:
            if track.name is None:
                track.name = _decode_text(payload)
        elif meta_type == 0x06:
            if track.name == CHORD_TRACK_NAME:  # chord symbols, not project markers
                parsed.chord_markers.append((tick, _decode_text(payload)))
            else:
                parsed.markers.append(Marker(tick, _decode_text(payload)))
        elif meta_type == 0x51 and len(payload) == 3:
            microseconds = int.from_bytes(payload, "big")
            if microseconds > 0:
                parsed.tempos.append(TempoChange(tick, microseconds))
        elif meta_type == 0x58 and len(payload) >= 2:
            numerator, power = payload[0], payload[1]
            if 1 <= numerator and power <= 7:
                parsed.time_signatures.append(TimeSignatureChange(tick, numerator, 1 << power))
        elif meta_type == 0x59 and len(payload) == 2:
            sharps = payload[0] - 256 if payload[0] > 127 else payload[0]
            if parsed.key is None and -7 <= sharps <= 7 and payload[1] in (0, 1):
                parsed.key = _key_from_signature(sharps, payload[1] == 1)
        elif meta_type == 0x7F and payload.startswith(APP_META_PREFIX) and track.app_meta is None:
            try:
                meta = json.loads(payload[len(APP_META_PREFIX) :].decode("utf-8"))
            except (ValueError, UnicodeError, RecursionError):
                return
            if isinstance(meta, dict):
                track.app_meta = meta


def _decode_text(payload: bytes) -> str:
    """Text meta events: UTF-8 when they are valid UTF-8 (what we write), else Latin-1."""
    payload = payload[: limits.MAX_NAME_BYTES + 4]  # a 30 MB name is cut, not decoded whole
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = payload.decode("utf-8", "ignore") if len(payload) > limits.MAX_NAME_BYTES else payload.decode("latin-1")
    return cut_text(text.strip("\x00").strip())


def _key_from_signature(sharps: int, minor: bool) -> Key:
    major_tonic = sharps * 7 % 12
    return Key((major_tonic + 9) % 12, "minor") if minor else Key(major_tonic, "major")


def _build_project(parsed: _ParsedFile, title_fallback: str) -> Project:
    tpq = parsed.ticks_per_quarter
    notes = sum(len(raw.notes) for raw in parsed.tracks)
    if notes > limits.MAX_NOTES:  # checked before a Note is built
        raise LimitError(f"{notes:,} notes (the limit is {limits.MAX_NOTES:,})")
    raw_tracks = list(parsed.tracks)
    conductor = None
    if parsed.format == 1 and raw_tracks and not raw_tracks[0].has_channel_events:
        conductor = raw_tracks.pop(0)
    tracks: list[Track] = []
    for raw in raw_tracks:
        if parsed.format == 0:
            tracks.extend(_split_by_channel(raw, parsed.programs))
        elif raw.notes or raw.app_meta is not None:  # a track of ours, even empty, has our meta event
            tracks.append(_track_from_raw(raw, parsed.programs))

    app = (conductor.app_meta if conductor else None) or {}
    key = parsed.key
    if isinstance(app.get("key"), str):
        try:
            key = Key.parse(app["key"])
        except ValueError:
            pass
    loop = None
    if isinstance(app.get("loop"), list) and len(app["loop"]) == 2:
        try:
            loop = LoopRegion(*app["loop"])
        except (TypeError, ValueError):
            pass
    title = cut_text((parsed.tracks[0].name if parsed.tracks else None) or title_fallback)
    return Project(
        chords=_chords_from_app(app.get("chords")) or _chords_from_markers(parsed.chord_markers),
        tracks=tuple(tracks),
        ticks_per_quarter=tpq,
        tempo_map=TempoMap(parsed.tempos, tpq),
        time_signatures=TimeSignatureMap(parsed.time_signatures, tpq),
        loop=loop,
        key=key,
        title=title,
        markers=tuple(parsed.markers),
    )


def _chords_from_app(rows) -> ChordTrack:
    """The chord track kept in our meta event; anything malformed there is dropped, not fatal."""
    if not isinstance(rows, list) or len(rows) > MAX_CHORD_EVENTS:
        return ChordTrack()
    try:
        return ChordTrack(tuple(ChordEvent(Chord.parse(symbol), start, duration) for start, duration, symbol in rows))
    except (TypeError, ValueError):
        return ChordTrack()


def _chords_from_markers(markers: list[tuple[int, str]]) -> ChordTrack:
    """Chord symbols written as markers on a "Chords" track (by a DAW): each lasts to the next one.

    Markers that are not chord symbols are skipped; the last chord lasts as long as the one before
    it (one tick when it is alone).
    """
    chords = []
    for tick, text in sorted(markers)[:MAX_CHORD_EVENTS]:
        try:
            chords.append((tick, Chord.parse(text)))
        except ValueError:
            continue
    events = []
    for i, (tick, chord) in enumerate(chords):
        if i + 1 < len(chords):
            end = chords[i + 1][0]
        else:
            end = tick + (events[-1].duration_ticks if events else 1)
        if end > tick:
            events.append(ChordEvent(chord, tick, end - tick))
    return ChordTrack(tuple(events))


def _notes(raw_notes: Iterable[tuple[int, int, int, int, int]]) -> list[Note]:
    return [Note(start, pitch, duration, velocity, channel) for start, pitch, duration, velocity, channel in raw_notes]


def _track_from_raw(raw: _RawTrack, file_programs: dict[int, int]) -> Track:
    app = raw.app_meta or {}
    channel = app.get("channel")
    if not (isinstance(channel, int) and not isinstance(channel, bool) and 0 <= channel <= 15):
        # The channel of the track's first program change when notes play there (or there are
        # none), else the channel most of its notes use.
        counts: dict[int, int] = {}
        for note in raw.notes:
            counts[note[4]] = counts.get(note[4], 0) + 1
        channel = next(iter(raw.programs), None)
        if channel is None or (counts and channel not in counts):
            channel = max(sorted(counts), key=counts.__getitem__) if counts else 0
    program = raw.programs.get(channel, file_programs.get(channel, 0))
    name = raw.name if raw.name is not None else program_name(program, channel)
    return Track(
        name=name,
        program=program,
        channel=channel,
        notes=_notes(raw.notes),
        mute=app.get("mute") is True,
        solo=app.get("solo") is True,
        volume=raw.controllers.get((channel, CONTROLLER_VOLUME), DEFAULT_VOLUME),
        pan=raw.controllers.get((channel, CONTROLLER_PAN), PAN_CENTRE),
    )


def _split_by_channel(raw: _RawTrack, file_programs: dict[int, int]) -> list[Track]:
    """A format-0 track: one ``Track`` per channel that has notes."""
    by_channel: dict[int, list] = {}
    for note in raw.notes:
        by_channel.setdefault(note[4], []).append(note)
    tracks = []
    for channel in sorted(by_channel):
        program = raw.programs.get(channel, file_programs.get(channel, 0))
        if len(by_channel) == 1 and raw.name:
            name = raw.name
        elif len(by_channel) == 1:
            name = program_name(program, channel)
        else:
            name = f"{program_name(program, channel)} (ch {channel + 1})"
        tracks.append(Track(
            name=name, program=program, channel=channel, notes=_notes(by_channel[channel]),
            volume=raw.controllers.get((channel, CONTROLLER_VOLUME), DEFAULT_VOLUME),
            pan=raw.controllers.get((channel, CONTROLLER_PAN), PAN_CENTRE),
        ))
    return tracks


# --------------------------------------------------------------------------------------------
# Writing


def project_to_midi_bytes(project: Project) -> bytes:
    """The bytes of a format-1 MIDI file holding ``project`` (see the module docstring)."""
    chunks = [_track_chunk(_conductor_events(project))]
    if project.chords:
        chunks.append(_track_chunk(_chord_marker_events(project.chords)))
    chunks += [_track_chunk(_track_events(track, project.key)) for track in project.tracks]
    return _file_bytes(1, project.ticks_per_quarter, chunks)


def clip_to_midi_bytes(
    notes: Iterable[Note],
    *,
    ticks_per_quarter: int = DEFAULT_TICKS_PER_QUARTER,
    tempo_map: TempoMap | None = None,
    time_signatures: TimeSignatureMap | None = None,
    program: int = 0,
    name: str = "",
) -> bytes:
    """The bytes of a format-0 MIDI file holding one clip (what every DAW takes as one clip).

    The tempo and time-signature maps are rescaled if they use another resolution than
    ``ticks_per_quarter``. A program change goes on every channel the notes use.
    """
    notes = tuple(notes)
    if tempo_map is not None and tempo_map.ticks_per_quarter != ticks_per_quarter:
        tempo_map = tempo_map.with_ticks_per_quarter(ticks_per_quarter)
    if time_signatures is not None and time_signatures.ticks_per_quarter != ticks_per_quarter:
        time_signatures = time_signatures.with_ticks_per_quarter(ticks_per_quarter)
    channels = sorted({n.channel for n in notes}) or [0]
    track = Track(name=name, program=program, channel=channels[0], notes=notes)
    project = Project(
        tracks=(track,),
        ticks_per_quarter=ticks_per_quarter,
        tempo_map=tempo_map,
        time_signatures=time_signatures,
    )
    events = _conductor_events(project) + _track_events(track, extra_program_channels=channels[1:])
    return _file_bytes(0, ticks_per_quarter, [_track_chunk(events)])


def save_midi(project: Project, path: str | os.PathLike) -> None:
    """Write ``project`` as a format-1 MIDI file, atomically; raise ``MidiFileError`` if it cannot."""
    _write(path, project_to_midi_bytes(project))


def save_clip(
    notes: Iterable[Note],
    path: str | os.PathLike,
    *,
    ticks_per_quarter: int = DEFAULT_TICKS_PER_QUARTER,
    tempo_map: TempoMap | None = None,
    time_signatures: TimeSignatureMap | None = None,
    program: int = 0,
    name: str = "",
) -> None:
    """Write one clip as a format-0 MIDI file, atomically (see ``clip_to_midi_bytes``)."""
    data = clip_to_midi_bytes(
        notes,
        ticks_per_quarter=ticks_per_quarter,
        tempo_map=tempo_map,
        time_signatures=time_signatures,
        program=program,
        name=name,
    )
    _write(path, data)


def _write(path: str | os.PathLike, data: bytes) -> None:
    try:
        write_bytes_atomically(path, data)
    except OSError as error:
        raise MidiFileError(f"{os.fspath(path)}: cannot write ({error.strerror or error})") from None


# The writer: mido spends ~20 us validating each message it writes (21 s for 900,000 events
# here, against 1.2 s for this), and every value of ours was validated when it was built.
#
# An event to write: (absolute tick, order at that tick, bytes after the delta time). At one
# tick, meta events come first, then program changes, then note-offs, then note-ons, so that a
# repeated note is released before it sounds again. Notes of one pitch that start together
# keep the model's order (shorter first), which is the order first-in-first-out pairing needs.
_META, _PROGRAM, _OFF, _ON = 0, 1, 2, 3
_Event = tuple[int, int, bytes]
RELEASE_VELOCITY = 64  # the note-off velocity the MIDI standard asks for when there is none
MAX_DELTA_TICKS = 0x0FFFFFFF  # the largest delta time a MIDI file can hold


def _variable_length_bytes(value: int) -> bytes:
    if value > MAX_DELTA_TICKS:
        raise MidiFileError(f"cannot write a gap of {value:,} ticks (MIDI files allow {MAX_DELTA_TICKS:,})")
    out = bytearray([value & 0x7F])
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _meta_bytes(meta_type: int, payload: bytes) -> bytes:
    return bytes([0xFF, meta_type]) + _variable_length_bytes(len(payload)) + payload


def _track_chunk(events: list[_Event]) -> bytes:
    """One MTrk chunk: the events in time order, with running status, closed by end-of-track."""
    body = bytearray()
    previous_tick = 0
    running_status = 0
    for tick, _order, event in sorted(events, key=lambda e: (e[0], e[1])):  # stable sort
        delta = tick - previous_tick
        body += bytes((delta,)) if delta < 0x80 else _variable_length_bytes(delta)
        previous_tick = tick
        status = event[0]
        if status == running_status:
            body += event[1:]
        else:
            body += event
            running_status = status if status < 0xF0 else 0  # meta and sysex cancel running status
    body += b"\x00\xff\x2f\x00"
    return b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def _file_bytes(file_format: int, ticks_per_quarter: int, chunks: list[bytes]) -> bytes:
    header = file_format.to_bytes(2, "big") + len(chunks).to_bytes(2, "big") + ticks_per_quarter.to_bytes(2, "big")
    return MIDI_MAGIC + (6).to_bytes(4, "big") + header + b"".join(chunks)


def _app_meta(values: dict) -> bytes:
    payload = APP_META_PREFIX + json.dumps(values, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return _meta_bytes(0x7F, payload)


def _conductor_events(project: Project) -> list[_Event]:
    """Title, time signatures, key signature, tempi and our meta event (the loop, a mode)."""
    events: list[_Event] = []
    if project.title:
        events.append((0, _META, _meta_bytes(0x03, project.title.encode("utf-8", "replace"))))
    for change in project.time_signatures.changes:
        clocks_per_beat = max(1, 96 // change.denominator)  # MIDI clocks (24 per quarter) per metronome click
        payload = bytes((change.numerator, change.denominator.bit_length() - 1, clocks_per_beat, 8))
        events.append((change.tick, _META, _meta_bytes(0x58, payload)))
    if project.key is not None:
        events.append((0, _META, _key_signature_event(project.key)))
    for change in project.tempo_map.changes:
        events.append((change.tick, _META, _meta_bytes(0x51, change.microseconds_per_quarter.to_bytes(3, "big"))))
    for marker in project.markers:
        events.append((marker.tick, _META, _meta_bytes(0x06, marker.name.encode("utf-8", "replace"))))
    app = {}
    if project.key is not None and project.key.mode not in ("major", "minor"):
        app["key"] = project.key.name
    if project.loop is not None:
        app["loop"] = [project.loop.start_tick, project.loop.end_tick]
    if project.chords:
        app["chords"] = [[e.start_tick, e.duration_ticks, e.chord.symbol()] for e in project.chords]
    if app:
        events.append((0, _META, _app_meta(app)))
    return events


def _chord_marker_events(chords: ChordTrack) -> list[_Event]:
    """A track named "Chords": one marker event per chord symbol at its start."""
    events: list[_Event] = [(0, _META, _meta_bytes(0x03, CHORD_TRACK_NAME.encode("utf-8")))]
    for event in chords:
        events.append((event.start_tick, _META, _meta_bytes(0x06, event.chord.symbol().encode("utf-8"))))
    return events


def _track_events(track: Track, key: Key | None = None, extra_program_channels: Iterable[int] = ()) -> list[_Event]:
    """Name, key signature, our meta event when needed, program change(s), notes.

    The key signature is repeated from the conductor track because notation programs
    (MuseScore 3) read it only from tracks that have notes.
    """
    events: list[_Event] = [(0, _META, _meta_bytes(0x03, track.name.encode("utf-8", "replace")))]
    if key is not None:
        events.append((0, _META, _key_signature_event(key)))
    app: dict = {}
    if all(n.channel != track.channel for n in track.notes):
        # The reader could not tell the channel from the program change, and keeps a track
        # without notes only when it carries our meta event (other programs' empty set-up
        # tracks are dropped).
        app["channel"] = track.channel
    if track.mute:
        app["mute"] = True
    if track.solo:
        app["solo"] = True
    if app:
        events.append((0, _META, _app_meta(app)))
    for channel in (track.channel, *extra_program_channels):
        events.append((0, _PROGRAM, bytes((0xC0 | channel, track.program))))
        events.append((0, _PROGRAM, bytes((0xB0 | channel, CONTROLLER_VOLUME, track.volume))))
        events.append((0, _PROGRAM, bytes((0xB0 | channel, CONTROLLER_PAN, track.pan))))
    for note in track.notes:
        events.append((note.start_tick, _ON, bytes((0x90 | note.channel, note.pitch, note.velocity))))
        events.append((note.end_tick, _OFF, bytes((0x80 | note.channel, note.pitch, RELEASE_VELOCITY))))
    return events


# Semitones from a mode's tonic down to the tonic of the major scale with the same notes
# (D dorian -> C major); the modes whose key signature is written as minor.
_RELATIVE_MAJOR_OFFSET = {"dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7, "aeolian": 9, "minor": 9,
                          "harmonic_minor": 9, "locrian": 11}  # fmt: skip
_MINOR_SIGNATURE_MODES = ("minor", "aeolian", "harmonic_minor")


def _key_signature_event(key: Key) -> bytes:
    sharps, minor = _key_signature(key)
    return _meta_bytes(0x59, bytes((sharps & 0xFF, int(minor))))


def _key_signature(key: Key) -> tuple[int, bool]:
    """(sharps, negative for flats; minor?) of ``key``'s signature; other modes borrow their relative's.

    Spelled as ``PITCH_CLASS_NAMES`` spells tonics: F# major (6 sharps), Eb minor (6 flats).
    """
    major_tonic = (key.tonic_pc - _RELATIVE_MAJOR_OFFSET.get(key.mode, 0)) % 12
    minor = key.mode in _MINOR_SIGNATURE_MODES
    sharps_range = range(-6, 6) if minor else range(-5, 7)
    return next(s for s in sharps_range if s * 7 % 12 == major_tonic), minor
