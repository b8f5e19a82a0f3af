"""Project files (``.composer``): the whole document as versioned JSON, saved atomically.

A file looks like this (notes one per line, as ``NOTE_FIELDS``)::

    {
     "format": "composer-app project",
     "version": 1,
     "title": "Sketch",
     "ticks_per_quarter": 480,
     "tempo_map": [[0, 500000]],                  # [tick, microseconds per quarter]
     "time_signatures": [[0, 4, 4]],              # [tick, numerator, denominator]
     "key": "C major",                            # or null
     "loop": [0, 7680],                           # [start tick, end tick] or null
     "markers": [[7680, "Chorus"]],               # [tick, name]; optional (older files have none)
     "note_fields": ["start_tick", "pitch", "duration_ticks", "velocity", "channel"],
     "tracks": [
      {"name": "Melody", "program": 0, "channel": 0, "mute": false, "solo": false,
       "volume": 100, "pan": 64,                  # optional (older files: 100 and 64)
       "notes": [[0, 60, 480, 100, 0], ...]}
     ],
     "settings": {...},                           # any JSON object (mood, generation options)
     "chords": [[0, 1920, "Am7/G"], ...],         # [start tick, duration ticks, symbol]; optional
     "mood_timeline": [[0, -0.5, -0.3, 1, "sad"]] # [bar, valence, arousal, blend bars, label]; optional
    }

Loading validates every field and turns any problem into one ``ProjectFileError`` naming the
file and the field ("song.composer: tracks[1].notes[7]: pitch must be in range 0..127").
A file from a newer version of the format is refused with a message saying so. The size of the
file and the number of JSON items in it are checked before it is parsed, and the document must
stay within ``core.limits`` (tracks, notes, span, note length).

Whatever loads can be saved again: a value no project file can hold is refused with the field
named, namely NaN or Infinity in the settings (strict JSON has neither), text with a lone surrogate
(``"\ud800"``, which UTF-8 cannot hold) and settings nested deeper than
``limits.MAX_SETTINGS_DEPTH``. Only over-long titles and names are repaired: cut to
``limits.MAX_NAME_BYTES``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from composer_app.core.chords import MAX_CHORD_EVENTS, Chord, ChordEvent, ChordTrack
from composer_app.core.fileio import read_bytes_bounded, write_bytes_atomically
from composer_app.core.mood_timeline import MoodTimeline
from composer_app.core import limits
from composer_app.core.limits import check_json_value, cut_text, has_lone_surrogate
from composer_app.core.note import Note
from composer_app.core.project import LoopRegion, Marker, Project
from composer_app.core.track import DEFAULT_VOLUME, PAN_CENTRE
from composer_app.core.theory import Key
from composer_app.core.timing import TempoChange, TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.core.track import Track
from composer_app.core.validate import check_int
from composer_app.errors import BadInputError

PROJECT_SUFFIX = ".composer"
FORMAT_NAME = "composer-app project"
FORMAT_VERSION = 1
NOTE_FIELDS = ("start_tick", "pitch", "duration_ticks", "velocity", "channel")
MAX_TICKS_PER_QUARTER = limits.MAX_TICKS_PER_QUARTER  # what a MIDI file header can hold
MAX_PROJECT_BYTES = limits.MAX_PROJECT_FILE_BYTES  # larger files are refused unread


class ProjectFileError(BadInputError):
    """A project file cannot be read or written; the message names the file and says why in one line."""


# --------------------------------------------------------------------------------------------
# Saving


def project_to_dict(project: Project) -> dict[str, Any]:
    """The JSON-able form of ``project`` (what ``save_project`` writes)."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "title": project.title,
        "ticks_per_quarter": project.ticks_per_quarter,
        "tempo_map": [[c.tick, c.microseconds_per_quarter] for c in project.tempo_map.changes],
        "time_signatures": [[c.tick, c.numerator, c.denominator] for c in project.time_signatures.changes],
        "key": project.key.name if project.key is not None else None,
        "loop": [project.loop.start_tick, project.loop.end_tick] if project.loop is not None else None,
        "markers": [[m.tick, m.name] for m in project.markers],
        "note_fields": list(NOTE_FIELDS),
        "tracks": [
            {
                "name": track.name,
                "program": track.program,
                "channel": track.channel,
                "mute": track.mute,
                "solo": track.solo,
                "volume": track.volume,
                "pan": track.pan,
                "notes": [[n.start_tick, n.pitch, n.duration_ticks, n.velocity, n.channel] for n in track.notes],
            }
            for track in project.tracks
        ],
        "settings": dict(project.settings),
        "chords": [[e.start_tick, e.duration_ticks, e.chord.symbol()] for e in project.chords],
        "mood_timeline": project.mood_timeline.to_list(),
    }


# An array of numbers only that json.dumps spread over several lines. Its "[" is followed by a
# real newline, which cannot occur inside a JSON string, so the pattern never touches text.
_NUMBER_ARRAY = re.compile(r"\[\n\s*(-?[\d.eE+-]+(?:,\n\s*-?[\d.eE+-]+)*)\n\s*\]")
_CHORD_ROW = re.compile(r'\[\n\s*(\d+),\n\s*(\d+),\n\s*("[^"\\\n]*")\n\s*\]')  # [start, duration, "symbol"]


def project_to_json(project: Project) -> str:
    """The text of a project file: indented JSON with each note (and tempo, meter) on one line.

    Raises ``ValueError`` naming the setting if ``settings`` holds something JSON cannot hold
    (NaN, Infinity, an object that is not JSON, text with a lone surrogate).
    """
    _check_settings_saveable(project.settings)
    text = json.dumps(project_to_dict(project), indent=1, ensure_ascii=False, allow_nan=False)
    text = _NUMBER_ARRAY.sub(lambda m: "[" + ", ".join(part.strip() for part in m.group(1).split(",")) + "]", text)
    return _CHORD_ROW.sub(lambda m: f"[{m.group(1)}, {m.group(2)}, {m.group(3)}]", text) + "\n"


def _check_settings_saveable(settings) -> None:
    for key, value in settings.items():
        try:
            json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
            str(key).encode("utf-8")
        except (TypeError, ValueError) as error:  # UnicodeEncodeError is a ValueError
            reason = "NaN or Infinity" if "Out of range float" in str(error) else type(error).__name__
            raise ValueError(
                f"cannot save: setting {cut_text(str(key), 80)!r} holds a value a project file cannot hold ({reason})"
            ) from None


def save_project(project: Project, path: str | os.PathLike) -> None:
    """Write ``project`` to ``path`` atomically: a crash mid-write leaves the old file whole.

    The text is built in full before the file is touched; it goes to a temporary file in the same
    folder, is fsync'ed and renamed over ``path``. Raises ``ProjectFileError`` if the file cannot
    be written (the temporary file is removed, the old file kept).
    """
    try:
        data = project_to_json(project).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in the title or a name
        raise ProjectFileError(
            f"{os.fspath(path)}: cannot save: the title or a name holds a lone surrogate (not valid text)"
        ) from None
    except (TypeError, ValueError) as error:
        raise ProjectFileError(f"{os.fspath(path)}: {error}") from None
    try:
        write_bytes_atomically(path, data)
    except OSError as error:
        raise ProjectFileError(f"{os.fspath(path)}: cannot write ({error.strerror or error})") from None


# --------------------------------------------------------------------------------------------
# Loading


class _Invalid(Exception):
    """A field is wrong: ``path`` says which (``tracks[1].notes[7]``), the message says why."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file; raise ``ProjectFileError`` with the file and field for any problem."""
    path = Path(path)
    label = str(path)
    data = read_bytes_bounded(path, label, MAX_PROJECT_BYTES, ProjectFileError)
    return load_project_bytes(data, label)


def load_project_bytes(data: bytes, name: str = "") -> Project:
    """Read the bytes of a project file (``name`` labels error messages)."""
    label = name or "project data"
    if len(data) > MAX_PROJECT_BYTES:
        raise ProjectFileError(f"{label}: too large ({len(data):,} bytes; the limit is {MAX_PROJECT_BYTES:,})")
    if not data.strip():
        raise ProjectFileError(f"{label}: empty file")
    # json.loads builds an object per item: count them (commas and brackets bound them) first.
    items = data.count(b",") + data.count(b"[") + data.count(b"{")
    if items > limits.MAX_PROJECT_JSON_ITEMS:
        raise ProjectFileError(
            f"{label}: too many items for a project file ({items:,}; the limit is {limits.MAX_PROJECT_JSON_ITEMS:,})"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProjectFileError(f"{label}: not a project file (not UTF-8 text)") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProjectFileError(f"{label}: not a project file (invalid JSON at line {error.lineno}: {error.msg})") from None
    except (ValueError, RecursionError) as error:  # e.g. an int of 5000 digits, arrays nested 10000 deep
        raise ProjectFileError(f"{label}: not a project file ({error})") from None
    try:
        return project_from_dict(document)
    except _Invalid as error:
        raise ProjectFileError(f"{label}: {error}") from None
    except (TypeError, ValueError) as error:  # the document as a whole: limits.LimitError and the like
        raise ProjectFileError(f"{label}: {error}") from None


def project_from_dict(document: Any) -> Project:
    """Build a ``Project`` from the JSON form; raise ``_Invalid`` naming the field at fault."""
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise _Invalid("", f"not a project file (no \"format\": \"{FORMAT_NAME}\")")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _Invalid("version", "must be an int >= 1")
    if version > FORMAT_VERSION:
        raise _Invalid(
            "",
            f"made by a newer composer-app (format version {version}; this version reads up to {FORMAT_VERSION})",
        )
    tpq = _field(document, "ticks_per_quarter", int)
    _build("", check_int, "ticks_per_quarter", tpq, 1, MAX_TICKS_PER_QUARTER)
    title = _text(document, "title")
    note_fields = document.get("note_fields", list(NOTE_FIELDS))
    if note_fields != list(NOTE_FIELDS):
        raise _Invalid("note_fields", f"must be {list(NOTE_FIELDS)}")
    tempo_map = _build("tempo_map", TempoMap, _changes(document, "tempo_map", TempoChange, 2), tpq)
    time_signatures = _build(
        "time_signatures", TimeSignatureMap, _changes(document, "time_signatures", TimeSignatureChange, 3), tpq
    )
    key = None
    if document.get("key") is not None:
        key = _build("key", Key.parse, _field(document, "key", str))
    loop = None
    if document.get("loop") is not None:
        loop = _build("loop", LoopRegion, *_row(document["loop"], "loop", 2))
    markers = []
    markers_value = document.get("markers", [])
    if not isinstance(markers_value, list):
        raise _Invalid("markers", "must be a list")
    for i, row in enumerate(markers_value):
        tick, name = _row(row, f"markers[{i}]", 2)
        if isinstance(name, str):
            name = _checked_text(name, f"markers[{i}]")
        markers.append(_build(f"markers[{i}]", Marker, tick, name))
    settings = document.get("settings", {})
    if not isinstance(settings, dict):
        raise _Invalid("settings", "must be an object")
    _build("", check_json_value, settings, "settings")
    if len(json.dumps(settings, ensure_ascii=False).encode("utf-8")) > limits.MAX_SETTINGS_BYTES:
        raise _Invalid("settings", f"larger than {limits.MAX_SETTINGS_BYTES:,} bytes")

    mood_timeline = MoodTimeline()
    if document.get("mood_timeline") is not None:  # absent in files written before it existed
        mood_timeline = _build("mood_timeline", MoodTimeline.from_list, document["mood_timeline"])

    tracks_value = _field(document, "tracks", list)
    if len(tracks_value) > limits.MAX_TRACKS:
        raise _Invalid("tracks", f"{len(tracks_value):,} tracks (the limit is {limits.MAX_TRACKS:,})")
    tracks = [_track(value, f"tracks[{i}]") for i, value in enumerate(tracks_value)]
    return Project(
        tracks=tuple(tracks),
        ticks_per_quarter=tpq,
        tempo_map=tempo_map,
        time_signatures=time_signatures,
        loop=loop,
        key=key,
        title=title,
        settings=settings,
        markers=tuple(markers),
        chords=_chords(document),
        mood_timeline=mood_timeline,
    )


def _chords(document: dict) -> ChordTrack:
    """The optional chord track (files before it existed have none)."""
    rows = document.get("chords", [])
    if not isinstance(rows, list):
        raise _Invalid("chords", "must be a list")
    if len(rows) > MAX_CHORD_EVENTS:
        raise _Invalid("chords", f"holds more than {MAX_CHORD_EVENTS} chords")
    events = []
    for i, row in enumerate(rows):
        path = f"chords[{i}]"
        if not isinstance(row, list) or len(row) != 3 or not isinstance(row[2], str):
            raise _Invalid(path, "must be [start tick, duration ticks, chord symbol]")
        events.append(_build(path, ChordEvent, _build(path, Chord.parse, row[2]), row[0], row[1]))
    return _build("chords", ChordTrack, tuple(events))


def _track(value: Any, path: str) -> Track:
    if not isinstance(value, dict):
        raise _Invalid(path, "must be an object")
    name = _text(value, "name", path)
    program = _field(value, "program", int, path)
    channel = _field(value, "channel", int, path)
    mute = _field(value, "mute", bool, path)
    solo = _field(value, "solo", bool, path)
    volume = _field(value, "volume", int, path) if "volume" in value else DEFAULT_VOLUME
    pan = _field(value, "pan", int, path) if "pan" in value else PAN_CENTRE
    notes_value = _field(value, "notes", list, path)
    notes = []
    for i, row in enumerate(notes_value):
        note_path = f"{path}.notes[{i}]"
        notes.append(_build(note_path, Note, *_row(row, note_path, len(NOTE_FIELDS))))
    return _build(path, Track, name, program, channel, tuple(notes), mute, solo, volume, pan)


def _text(document: dict, key: str, parent: str = "") -> str:
    """A string field: refused if UTF-8 cannot hold it (a lone surrogate), cut to ``MAX_NAME_BYTES``."""
    return _checked_text(_field(document, key, str, parent), f"{parent}.{key}" if parent else key)


def _checked_text(text: str, path: str) -> str:
    if has_lone_surrogate(text):
        raise _Invalid(path, "text with a lone surrogate (not valid text; it cannot be saved again)")
    return cut_text(text)


def _field(document: dict, key: str, kind: type, parent: str = "") -> Any:
    path = f"{parent}.{key}" if parent else key
    if key not in document:
        raise _Invalid(path, "missing")
    value = document[key]
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise _Invalid(path, "must be an int")
    if not isinstance(value, kind):
        names = {str: "a string", bool: "true or false", list: "a list", dict: "an object"}
        raise _Invalid(path, f"must be {names.get(kind, kind.__name__)}")
    return value


def _changes(document: dict, key: str, make, width: int) -> list:
    rows = _field(document, key, list)
    return [_build(f"{key}[{i}]", make, *_row(row, f"{key}[{i}]", width)) for i, row in enumerate(rows)]


def _row(value: Any, path: str, width: int) -> list:
    if not isinstance(value, list) or len(value) != width:
        raise _Invalid(path, f"must be a list of {width} numbers")
    return value


def _build(path: str, make, *args):
    """``make(*args)``, with the value types' own TypeError/ValueError turned into ``_Invalid``."""
    try:
        return make(*args)
    except (TypeError, ValueError) as error:
        raise _Invalid(path, str(error)) from None
