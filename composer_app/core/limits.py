"""The limits on everything read from outside (MIDI files, project files, weights, settings), in one place.

Every reader checks these before it allocates anything whose size comes from the file, so that a
hostile or corrupt input of a few bytes is one clear error in bounded time and memory (the bound
the project promises: no command uses more than about 1 GB or 30 s on any file). The value types
check the same bounds where they are built (``Project``, ``Track``), so the editor cannot build a
document the readers would refuse, and every ``Project`` can be saved and read back.

Each name says its unit. The figures are far beyond music people write: a symphony movement is
a few thousand quarters and tens of thousands of notes.
"""

from __future__ import annotations

import math
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str every surrogate code point is a lone one

# -- files ---------------------------------------------------------------------------------------
MAX_MIDI_FILE_BYTES = 32 * 1024 * 1024  # a MIDI file larger than this is refused before a byte is read
MAX_PROJECT_FILE_BYTES = 32 * 1024 * 1024  # likewise a project file (200,000 notes take about 6 MB)
MAX_WEIGHTS_FILE_BYTES = 64 * 1024 * 1024  # likewise a .safetensors file (shipped ones are < 50 MB; fp32 copies x2)
MAX_WEIGHTS_HEADER_BYTES = 1024 * 1024  # the JSON header of a .safetensors file (names, shapes, config)
MAX_WEIGHTS_CONFIG_VALUE = 65_536  # any number in a model's config (widths, layers, context length)
MAX_MIDI_EVENTS = 1_000_000  # events of all tracks of a MIDI file together (about 3-4 MB of MIDI)
# JSON items (commas and brackets) a project file may hold: json.loads builds a Python object for
# each (up to ~60 bytes), so they are counted in the raw bytes before parsing. 200,000 notes of 5
# numbers need about 1.4 million.
MAX_PROJECT_JSON_ITEMS = 2_000_000

# -- documents -----------------------------------------------------------------------------------
MAX_TRACKS = 256  # tracks in a document (the editor shows one row per track)
MAX_NOTES = 200_000  # notes in a document, all tracks together (loading, scheduling, saving stay within seconds)
MAX_TEMPO_CHANGES = 10_000  # entries in a tempo map
MAX_METER_CHANGES = 10_000  # entries in a time-signature map
MAX_MARKERS = 10_000  # named positions (sections) in a document
MAX_TICKS_PER_QUARTER = 0x7FFF  # what a MIDI file header can hold
# The end of a document (its last note-off, tempo or meter change, loop end), in quarter notes:
# 16,384 bars of 4/4, over two hours at 120 BPM. Scrollbars, rulers and the suggestion engine's
# bar grid scale with it.
MAX_SPAN_QUARTERS = 65_536
MAX_NOTE_QUARTERS = 4_096  # one note's length in quarter notes (1,024 bars of 4/4)
MAX_NAME_BYTES = 1_024  # a title or a track name, in bytes of UTF-8 text (longer ones are cut on reading)
MAX_SETTINGS_BYTES = 1024 * 1024  # a document's settings as JSON text
MAX_SETTINGS_DEPTH = 32  # objects and lists nested in the settings (deeper values are dropped on reading)

# -- rendering -----------------------------------------------------------------------------------
MAX_RENDER_SECONDS = 3_600  # seconds of music an offline render writes (one hour: about 20 s to render)


class LimitError(ValueError):
    """A value is beyond one of the limits above; the message names the limit and the value."""


def max_span_ticks(ticks_per_quarter: int) -> int:
    """``MAX_SPAN_QUARTERS`` in ticks at ``ticks_per_quarter``."""
    return MAX_SPAN_QUARTERS * ticks_per_quarter


def max_note_ticks(ticks_per_quarter: int) -> int:
    """``MAX_NOTE_QUARTERS`` in ticks at ``ticks_per_quarter``."""
    return MAX_NOTE_QUARTERS * ticks_per_quarter


def check_span(what: str, tick: int, ticks_per_quarter: int) -> None:
    """Raise ``LimitError`` if ``tick`` lies beyond ``MAX_SPAN_QUARTERS``."""
    if tick > max_span_ticks(ticks_per_quarter):
        raise LimitError(
            f"{what} at quarter {quarters_text(tick, ticks_per_quarter)} lies beyond the limit of "
            f"{MAX_SPAN_QUARTERS:,} quarter notes from the start"
        )


def quarters_text(ticks: int, ticks_per_quarter: int) -> str:
    """``ticks`` as a short count of quarter notes for a message (no 4,000-digit numbers)."""
    quarters = ticks // ticks_per_quarter
    return f"{quarters:,}" if quarters < 10**15 else f"~10^{int(quarters.bit_length() * 0.30103)}"


def check_meter_fits(numerator: int, denominator: int, ticks_per_quarter: int) -> None:
    """Raise ``LimitError`` if a ``numerator/denominator`` beat is not a whole number of ticks.

    At 1 tick per quarter an eighth-note beat (4/8) would be half a tick: bars and beats cannot be
    counted at that resolution.
    """
    if (4 * ticks_per_quarter) % denominator:
        needed = denominator // math.gcd(4 * ticks_per_quarter, denominator)
        raise LimitError(
            f"a {numerator}/{denominator} meter needs a resolution that splits a quarter note into 1/"
            f"{denominator} notes; {ticks_per_quarter} tick{'s' if ticks_per_quarter > 1 else ''} per quarter cannot (use a multiple of {needed})"
        )


def cut_text(text: str, limit_bytes: int = MAX_NAME_BYTES) -> str:
    """``text`` cut to at most ``limit_bytes`` of UTF-8, ending with "…", never splitting a character."""
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    if len(text) * 4 <= limit_bytes or _utf8_length(text) <= limit_bytes:
        return text
    data = text.encode("utf-8", "surrogatepass")[: limit_bytes - 3]
    return data.decode("utf-8", "ignore") + "…"


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def has_lone_surrogate(text: str) -> bool:
    """True if ``text`` holds a surrogate code point (``"\ud800"``): UTF-8 cannot hold it, so neither can a file."""
    return _SURROGATE.search(text) is not None


def check_name(what: str, text: str) -> None:
    """Raise ``LimitError`` if ``text`` is longer than ``MAX_NAME_BYTES`` of UTF-8."""
    if len(text) * 4 > MAX_NAME_BYTES and _utf8_length(text) > MAX_NAME_BYTES:
        raise LimitError(f"{what} is longer than {MAX_NAME_BYTES:,} bytes")


def check_json_value(value: Any, path: str, depth: int = 0) -> None:
    """Raise ``ValueError`` naming the place if a parsed JSON value could not be written again.

    Strict JSON holds no NaN or Infinity, UTF-8 no lone surrogate; and nesting is limited to
    ``MAX_SETTINGS_DEPTH`` (deeper values would exhaust the recursion of whatever walks them).
    """
    if depth > MAX_SETTINGS_DEPTH:
        raise ValueError(f"{path}: nested deeper than {MAX_SETTINGS_DEPTH}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value} (NaN and Infinity cannot be saved again)")
    elif isinstance(value, str):
        if has_lone_surrogate(value):
            raise ValueError(f"{path}: text with a lone surrogate (not valid text; it cannot be saved again)")
    elif isinstance(value, dict):
        for key, item in value.items():
            if has_lone_surrogate(str(key)):
                raise ValueError(f"{path}: a key with a lone surrogate (it cannot be saved again)")
            check_json_value(item, f"{path}.{cut_text(str(key), 40)}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json_value(item, f"{path}[{index}]", depth + 1)
