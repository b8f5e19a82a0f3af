"""Chord symbols and the chord track: immutable, validated values (Qt-free).

A :class:`Chord` is a root pitch class, a quality (a triad or seventh chord from :data:`QUALITIES`),
optional extensions (tensions above the quality, in semitones above the root: 14 = 9th, 13 = b9,
15 = #9, 17 = 11th, 18 = #11, 20 = b13, 21 = 13th) and an optional bass pitch class (a slash chord).
``Chord.parse("Am7/G")`` and ``str(chord)`` convert to and from the usual lead-sheet spelling.

A :class:`ChordTrack` is a tuple of :class:`ChordEvent` (chord, start tick, duration ticks) sorted by
start and never overlapping. It lives in the project, is saved in the project file and exported to
MIDI as marker/text events and as an accompaniment.

:func:`estimate_chords` labels existing polyphonic material: per segment (a beat, half bar or bar)
it scores every root and quality against the duration-weighted pitch-class profile, the bass note
weighing most, and merges equal neighbours. The same labeller is checked against music21's
Roman-numeral analysis of the Bach chorales (``bench/harmony_eval.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

from composer_app.core.note import Note
from composer_app.core.validate import check_int

PITCH_CLASS_SHARP = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
PITCH_CLASS_FLAT = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
# Spelling for a root with no key context: the names most lead sheets use.
PITCH_CLASS_DEFAULT = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# Quality name -> semitones above the root. The order is part of the chorale cache format.
QUALITIES: tuple[str, ...] = ("maj", "m", "dim", "aug", "sus2", "sus4", "7", "maj7", "m7", "m7b5", "dim7", "mmaj7", "6", "m6", "7sus4")
QUALITY_INTERVALS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "m": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "mmaj7": (0, 3, 7, 11),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "7sus4": (0, 5, 7, 10),
}
# How each quality is written after the root.
QUALITY_SYMBOLS: dict[str, str] = {
    "maj": "", "m": "m", "dim": "dim", "aug": "aug", "sus2": "sus2", "sus4": "sus4", "7": "7", "maj7": "maj7",
    "m7": "m7", "m7b5": "m7b5", "dim7": "dim7", "mmaj7": "m(maj7)", "6": "6", "m6": "m6", "7sus4": "7sus4",
}
# Accepted spellings -> (quality, extensions). Longest first when matching.
_QUALITY_ALIASES: dict[str, tuple[str, tuple[int, ...]]] = {
    "": ("maj", ()), "M": ("maj", ()), "maj": ("maj", ()), "major": ("maj", ()),
    "m": ("m", ()), "min": ("m", ()), "-": ("m", ()), "minor": ("m", ()),
    "dim": ("dim", ()), "°": ("dim", ()), "o": ("dim", ()),
    "aug": ("aug", ()), "+": ("aug", ()),
    "sus2": ("sus2", ()), "sus4": ("sus4", ()), "sus": ("sus4", ()),
    "7": ("7", ()), "dom7": ("7", ()),
    "maj7": ("maj7", ()), "M7": ("maj7", ()), "Δ": ("maj7", ()), "Δ7": ("maj7", ()), "ma7": ("maj7", ()),
    "m7": ("m7", ()), "min7": ("m7", ()), "-7": ("m7", ()),
    "m7b5": ("m7b5", ()), "ø": ("m7b5", ()), "ø7": ("m7b5", ()), "min7b5": ("m7b5", ()), "-7b5": ("m7b5", ()),
    "dim7": ("dim7", ()), "°7": ("dim7", ()), "o7": ("dim7", ()),
    "m(maj7)": ("mmaj7", ()), "mmaj7": ("mmaj7", ()), "mM7": ("mmaj7", ()), "minmaj7": ("mmaj7", ()),
    "6": ("6", ()), "m6": ("m6", ()), "min6": ("m6", ()),
    "7sus4": ("7sus4", ()), "7sus": ("7sus4", ()),
    "9": ("7", (14,)), "maj9": ("maj7", (14,)), "M9": ("maj7", (14,)), "m9": ("m7", (14,)), "min9": ("m7", (14,)),
    "11": ("7", (14, 17)), "m11": ("m7", (14, 17)), "13": ("7", (14, 21)), "maj13": ("maj7", (14, 21)),
    "m13": ("m7", (14, 21)), "add9": ("maj", (14,)), "madd9": ("m", (14,)), "6/9": ("6", (14,)),
}
_ALIASES_BY_LENGTH = sorted(_QUALITY_ALIASES, key=len, reverse=True)
# Extension semitones (above the root) <-> names.
EXTENSION_NAMES: dict[int, str] = {13: "b9", 14: "9", 15: "#9", 17: "11", 18: "#11", 20: "b13", 21: "13"}
_EXTENSION_BY_NAME = {name: semis for semis, name in EXTENSION_NAMES.items()}
MAX_SYMBOL_CHARS = 40  # longer text is refused before parsing (it cannot be a chord symbol)
_ROOT = re.compile(r"^([A-Ga-g])([#b♯♭]?)")
_FLAT_MAJOR_KEYS = frozenset((5, 10, 3, 8, 1, 0))  # F Bb Eb Ab Db (and C, whose 'black keys' read as flats)
_SEVENTH_QUALITIES = ("7", "maj7", "m7", "m7b5", "dim7", "mmaj7", "7sus4")


def _pc_from_name(text: str) -> tuple[int, int]:
    """(pitch class, characters used) of a note name at the start of ``text``, or raise ValueError."""
    match = _ROOT.match(text)
    if not match:
        raise ValueError(f"cannot read a chord from {text!r}: it must start with a note name A-G")
    letter, accidental = match.group(1).upper(), match.group(2)
    pc = _LETTER_PC[letter] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)
    return pc % 12, match.end()


@dataclass(frozen=True, slots=True)
class Chord:
    """Root pitch class, quality, extensions (semitones above the root), optional bass pitch class."""

    root_pc: int
    quality: str = "maj"
    extensions: tuple[int, ...] = ()
    bass_pc: int | None = None

    def __post_init__(self) -> None:
        check_int("root_pc", self.root_pc, 0, 11)
        if not isinstance(self.quality, str):
            raise TypeError("quality must be a str")
        if self.quality not in QUALITY_INTERVALS:
            raise ValueError(f"quality must be one of {', '.join(QUALITIES)}")
        extensions = tuple(sorted(set(self.extensions)))
        for semis in extensions:
            if semis not in EXTENSION_NAMES:
                raise ValueError(f"extensions must be among {sorted(EXTENSION_NAMES)} (semitones above the root)")
        object.__setattr__(self, "extensions", extensions)
        if self.bass_pc is not None:
            check_int("bass_pc", self.bass_pc, 0, 11)
            if self.bass_pc == self.root_pc:
                object.__setattr__(self, "bass_pc", None)

    # -- spelling ------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Chord:
        """Read a lead-sheet symbol: "C", "Am7/G", "F#m7b5", "Bbmaj9", "G7(b9)", "Dsus4", "Cadd9".

        Raises ``ValueError`` with the reason when ``text`` is not a chord symbol.
        """
        if not isinstance(text, str):
            raise TypeError("chord symbol must be a str")
        text = text.strip()
        if not text:
            raise ValueError("empty chord symbol")
        if len(text) > MAX_SYMBOL_CHARS:
            raise ValueError(f"chord symbol longer than {MAX_SYMBOL_CHARS} characters")
        body, bass_pc = text, None
        head, slash, bass_text = text.rpartition("/")
        if slash and _ROOT.match(bass_text.strip()):  # "6/9" is a quality, "/G" a bass note
            body = head
            bass_pc, used = _pc_from_name(bass_text.strip())
            if used != len(bass_text.strip()):
                raise ValueError(f"cannot read a chord from {text!r}: bad bass note {bass_text!r}")
        root_pc, used = _pc_from_name(body)
        rest = body[used:]
        extensions: list[int] = []
        paren = re.search(r"\(([^)]*)\)$", rest)
        if paren and rest not in _QUALITY_ALIASES:  # "m(maj7)" is a quality, not an extension list
            for name in re.split(r"[,\s]+", paren.group(1).strip()):
                if name == "":
                    continue
                name = name.replace("♯", "#").replace("♭", "b").removeprefix("add")
                if name not in _EXTENSION_BY_NAME:
                    raise ValueError(f"cannot read a chord from {text!r}: unknown extension {name!r}")
                extensions.append(_EXTENSION_BY_NAME[name])
            rest = rest[: paren.start()]
        for alias in _ALIASES_BY_LENGTH:
            if rest == alias:
                quality, extra = _QUALITY_ALIASES[alias]
                return cls(root_pc, quality, tuple(extensions) + extra, bass_pc)
        raise ValueError(f"cannot read a chord from {text!r}: unknown quality {rest!r}")

    def symbol(self, flats: bool | None = None) -> str:
        """The lead-sheet spelling ("Am7/G"); ``flats`` picks the accidental (None: common names)."""
        if flats is None:
            # The bass is spelt like the chord's own key signature (E/G#, Bb/Ab); the root by common usage.
            major_pc = (self.root_pc + (3 if self.is_minor or self.quality in ("dim", "m7b5", "dim7") else 0)) % 12
            bass_names = PITCH_CLASS_FLAT if major_pc in _FLAT_MAJOR_KEYS else PITCH_CLASS_SHARP
            root_name = PITCH_CLASS_DEFAULT[self.root_pc]
        else:
            bass_names = PITCH_CLASS_FLAT if flats else PITCH_CLASS_SHARP
            root_name = bass_names[self.root_pc]
        text = root_name + self._quality_text()
        if self.bass_pc is not None:
            text += "/" + bass_names[self.bass_pc]
        return text

    def _quality_text(self) -> str:
        ext = set(self.extensions)
        q = self.quality
        # Named extended chords first (they read better than a list in parentheses).
        if 14 in ext:
            named = {"7": "9", "maj7": "maj9", "m7": "m9", "maj": "add9", "m": "madd9", "6": "6/9"}.get(q)
            if named is not None:
                ext.discard(14)
                if named in ("9", "m9", "maj9") and 21 in ext:
                    ext.discard(21)
                    named = named.replace("9", "13")
                elif named in ("9", "m9") and 17 in ext:
                    ext.discard(17)
                    named = named.replace("9", "11")
                text = named
            else:
                text = QUALITY_SYMBOLS[q]
        else:
            text = QUALITY_SYMBOLS[q]
        if ext:
            text += "(" + ",".join(EXTENSION_NAMES[s] for s in sorted(ext)) + ")"
        return text

    def __str__(self) -> str:
        return self.symbol()

    # -- content -------------------------------------------------------------------------------

    @property
    def intervals(self) -> tuple[int, ...]:
        """Semitones above the root of the quality and extensions (extensions may exceed 12)."""
        return QUALITY_INTERVALS[self.quality] + self.extensions

    @property
    def pitch_classes(self) -> frozenset[int]:
        """Every pitch class of the chord, the bass included."""
        pcs = {(self.root_pc + i) % 12 for i in self.intervals}
        if self.bass_pc is not None:
            pcs.add(self.bass_pc)
        return frozenset(pcs)

    @property
    def core_pitch_classes(self) -> frozenset[int]:
        """Root, third (or suspension) and fifth: the tones a melody lands on."""
        return frozenset((self.root_pc + i) % 12 for i in QUALITY_INTERVALS[self.quality][:3])

    @property
    def bass(self) -> int:
        """The pitch class in the bass (the slash note, else the root)."""
        return self.root_pc if self.bass_pc is None else self.bass_pc

    @property
    def is_minor(self) -> bool:
        return self.quality in ("m", "m7", "m6", "mmaj7")

    @property
    def is_seventh(self) -> bool:
        return self.quality in _SEVENTH_QUALITIES

    def voicing(self, low: int, high: int) -> tuple[int, ...]:
        """Ascending MIDI pitches of the chord's pitch classes within ``low..high`` (inclusive)."""
        pcs = self.pitch_classes
        return tuple(p for p in range(max(0, low), min(127, high) + 1) if p % 12 in pcs)

    def transposed(self, semitones: int) -> Chord:
        bass = None if self.bass_pc is None else (self.bass_pc + semitones) % 12
        return replace(self, root_pc=(self.root_pc + semitones) % 12, bass_pc=bass)

    def with_bass(self, bass_pc: int | None) -> Chord:
        return replace(self, bass_pc=bass_pc)

    def with_quality(self, quality: str) -> Chord:
        return replace(self, quality=quality)


# ----------------------------------------------------------------------------------------------
# Diatonic chords and Roman numerals

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")


def diatonic_chords(tonic_pc: int, minor: bool, sevenths: bool = False) -> tuple[Chord, ...]:
    """The seven chords on the scale degrees of a key (in minor: natural minor, with V and vii° raised)."""
    check_int("tonic_pc", tonic_pc, 0, 11)
    if minor:
        table = ((0, "m", "m7"), (2, "dim", "m7b5"), (3, "maj", "maj7"), (5, "m", "m7"), (7, "maj", "7"),
                 (8, "maj", "maj7"), (11, "dim", "dim7"))
    else:
        table = ((0, "maj", "maj7"), (2, "m", "m7"), (4, "m", "m7"), (5, "maj", "maj7"), (7, "maj", "7"),
                 (9, "m", "m7"), (11, "dim", "m7b5"))
    return tuple(Chord((tonic_pc + root) % 12, seventh if sevenths else triad) for root, triad, seventh in table)


def roman_numeral(chord: Chord, tonic_pc: int, minor: bool) -> str:
    """The chord's Roman numeral in a key ("V7", "ii", "bVI", "vii°"), inversions left out."""
    degrees = (0, 2, 3, 5, 7, 8, 10) if minor else (0, 2, 4, 5, 7, 9, 11)
    interval = (chord.root_pc - tonic_pc) % 12
    if minor and interval == 11:  # the leading tone of harmonic minor
        prefix, degree = "", 6
    elif interval in degrees:
        prefix, degree = "", degrees.index(interval)
    elif (interval + 1) % 12 in degrees:
        prefix, degree = "b", degrees.index((interval + 1) % 12)
    else:
        prefix, degree = "#", degrees.index((interval - 1) % 12)
    numeral = _ROMAN[degree]
    lower = chord.quality in ("m", "m7", "m6", "mmaj7", "dim", "m7b5", "dim7")
    if lower:
        numeral = numeral.lower()
    suffix = {"dim": "°", "dim7": "°7", "m7b5": "ø7", "aug": "+", "7": "7", "maj7": "maj7", "m7": "7",
              "mmaj7": "maj7", "6": "6", "m6": "6", "sus2": "sus2", "sus4": "sus4", "7sus4": "7sus4"}.get(chord.quality, "")
    return prefix + numeral + suffix


# ----------------------------------------------------------------------------------------------
# The chord track


@dataclass(frozen=True, slots=True)
class ChordEvent:
    """A chord sounding over ``start_tick <= t < start_tick + duration_ticks``."""

    chord: Chord
    start_tick: int
    duration_ticks: int

    def __post_init__(self) -> None:
        if not isinstance(self.chord, Chord):
            raise TypeError("chord must be a Chord")
        check_int("start_tick", self.start_tick, 0)
        check_int("duration_ticks", self.duration_ticks, 1)

    @property
    def end_tick(self) -> int:
        return self.start_tick + self.duration_ticks

    def with_chord(self, chord: Chord) -> ChordEvent:
        return replace(self, chord=chord)

    def with_span(self, start_tick: int, duration_ticks: int) -> ChordEvent:
        return replace(self, start_tick=start_tick, duration_ticks=duration_ticks)


MAX_CHORD_EVENTS = 100_000  # a chord track longer than this is refused (a song has a few hundred)


@dataclass(frozen=True, slots=True)
class ChordTrack:
    """Chord events sorted by start tick, never overlapping (a later event cuts the one before)."""

    events: tuple[ChordEvent, ...] = field(default=())

    def __post_init__(self) -> None:
        events = tuple(self.events)
        if len(events) > MAX_CHORD_EVENTS:
            raise ValueError(f"a chord track holds at most {MAX_CHORD_EVENTS} chords")
        for event in events:
            if not isinstance(event, ChordEvent):
                raise TypeError("events must be ChordEvent values")
        events = tuple(sorted(events, key=lambda e: e.start_tick))
        for before, after in zip(events, events[1:]):
            if before.end_tick > after.start_tick:
                raise ValueError(f"chords overlap at tick {after.start_tick}")
        object.__setattr__(self, "events", events)

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self):
        return iter(self.events)

    def __bool__(self) -> bool:
        return bool(self.events)

    @property
    def end_tick(self) -> int:
        return self.events[-1].end_tick if self.events else 0

    def at(self, tick: int) -> ChordEvent | None:
        """The event sounding at ``tick`` (None between chords)."""
        for event in self.events:
            if event.start_tick <= tick < event.end_tick:
                return event
            if event.start_tick > tick:
                break
        return None

    def between(self, start_tick: int, end_tick: int) -> tuple[ChordEvent, ...]:
        """Events that sound somewhere in ``start_tick <= t < end_tick``."""
        return tuple(e for e in self.events if e.start_tick < end_tick and e.end_tick > start_tick)

    def covers(self, start_tick: int, end_tick: int) -> bool:
        """True when chords sound over the whole span (no gap)."""
        tick = start_tick
        for event in self.between(start_tick, end_tick):
            if event.start_tick > tick:
                return False
            tick = max(tick, event.end_tick)
        return tick >= end_tick

    def placed(self, event: ChordEvent) -> ChordTrack:
        """This track with ``event`` added; chords it overlaps are trimmed or removed."""
        return self.without_span(event.start_tick, event.end_tick).with_events(
            tuple(self.without_span(event.start_tick, event.end_tick).events) + (event,)
        )

    def without_span(self, start_tick: int, end_tick: int) -> ChordTrack:
        """This track with ``start_tick <= t < end_tick`` emptied (overlapping chords are cut)."""
        kept = []
        for e in self.events:
            if e.end_tick <= start_tick or e.start_tick >= end_tick:
                kept.append(e)
                continue
            if e.start_tick < start_tick:
                kept.append(e.with_span(e.start_tick, start_tick - e.start_tick))
            if e.end_tick > end_tick:
                kept.append(e.with_span(end_tick, e.end_tick - end_tick))
        return ChordTrack(tuple(kept))

    def with_events(self, events: Iterable[ChordEvent]) -> ChordTrack:
        return ChordTrack(tuple(events))

    def replaced_span(self, start_tick: int, end_tick: int, events: Iterable[ChordEvent]) -> ChordTrack:
        """The span emptied, then ``events`` (clipped to it) put in."""
        kept = list(self.without_span(start_tick, end_tick).events)
        for e in events:
            s, t = max(e.start_tick, start_tick), min(e.end_tick, end_tick)
            if t > s:
                kept.append(e.with_span(s, t - s))
        return ChordTrack(tuple(kept))

    def shifted(self, delta_ticks: int) -> ChordTrack:
        """Every chord moved in time; chords that would start before 0 are dropped."""
        return ChordTrack(tuple(e.with_span(e.start_tick + delta_ticks, e.duration_ticks)
                                for e in self.events if e.start_tick + delta_ticks >= 0))

    def rescaled(self, ticks_per_quarter_from: int, ticks_per_quarter_to: int) -> ChordTrack:
        """The same chords at another resolution (events that would vanish keep one tick)."""
        scale = ticks_per_quarter_to / ticks_per_quarter_from
        out, last_end = [], 0
        for e in self.events:
            start = max(last_end, round(e.start_tick * scale))
            end = max(start + 1, round(e.end_tick * scale))
            out.append(e.with_span(start, end - start))
            last_end = end
        return ChordTrack(tuple(out))

    def transposed(self, semitones: int) -> ChordTrack:
        return ChordTrack(tuple(e.with_chord(e.chord.transposed(semitones)) for e in self.events))

    def symbols(self) -> list[str]:
        return [e.chord.symbol() for e in self.events]


def chord_track_from_symbols(symbols: Sequence[str], ticks_per_chord: int, start_tick: int = 0) -> ChordTrack:
    """Consecutive chords of equal length from lead-sheet text ("C Am F G"); "-" or "%" repeats."""
    events: list[ChordEvent] = []
    for index, text in enumerate(symbols):
        if text in ("-", "%") and events:
            last = events[-1]
            events[-1] = last.with_span(last.start_tick, last.duration_ticks + ticks_per_chord)
            continue
        events.append(ChordEvent(Chord.parse(text), start_tick + index * ticks_per_chord, ticks_per_chord))
    return ChordTrack(tuple(events))


# ----------------------------------------------------------------------------------------------
# Estimating chords from notes

# Qualities the estimator chooses among, with a prior cost in units of a segment's weight (simpler
# chords win ties; a seventh must be heard to be chosen).
ESTIMATION_QUALITIES: dict[str, float] = {"maj": 0.0, "m": 0.0, "dim": 0.08, "aug": 0.25, "7": 0.04, "m7": 0.06,
                                          "maj7": 0.1, "m7b5": 0.1, "dim7": 0.08, "sus4": 0.2}
NON_CHORD_TONE_COST = 1.0  # a segment's weight outside the chord counts this much against it
MISSING_TONE_COST = 0.12  # each chord tone (of a triad's three or a seventh's four) not heard
BASS_WEIGHT = 1.0  # the lowest note's duration is counted this much more (it usually is the root)
ROOT_IN_BASS_BONUS = 0.15  # a chord whose root is the lowest note gains this share of the weight


def _segment_profile(notes: Sequence[Note], start: int, end: int) -> tuple[list[float], int | None]:
    """Duration-weighted pitch-class profile of ``start..end`` and the pitch class of its lowest note."""
    profile = [0.0] * 12
    lowest = None
    lowest_weight = 0.0
    for note in notes:
        overlap = min(note.end_tick, end) - max(note.start_tick, start)
        if overlap <= 0:
            continue
        profile[note.pitch % 12] += overlap
        if lowest is None or note.pitch < lowest:
            lowest, lowest_weight = note.pitch, overlap
    if lowest is not None:
        profile[lowest % 12] += BASS_WEIGHT * lowest_weight
    return profile, None if lowest is None else lowest % 12


def label_segment(profile: Sequence[float], bass_pc: int | None, previous: Chord | None = None) -> Chord | None:
    """The best chord for one pitch-class profile (None for silence)."""
    total = sum(profile)
    if total <= 0:
        return None
    best, best_score = None, None
    for root in range(12):
        for quality, prior in ESTIMATION_QUALITIES.items():
            pcs = {(root + i) % 12 for i in QUALITY_INTERVALS[quality]}
            inside = sum(profile[pc] for pc in pcs)
            missing = sum(1 for pc in pcs if profile[pc] == 0)
            score = (inside - NON_CHORD_TONE_COST * (total - inside)) / total - MISSING_TONE_COST * missing - prior
            if bass_pc == root:
                score += ROOT_IN_BASS_BONUS
            if previous is not None and previous.root_pc == root and previous.quality == quality:
                score += 0.02  # ties keep the chord that is already sounding
            if best_score is None or score > best_score + 1e-9:
                best, best_score = Chord(root, quality), score
    if best is not None and bass_pc is not None and bass_pc != best.root_pc and bass_pc in best.pitch_classes:
        best = best.with_bass(bass_pc)
    return best


def estimate_chords(
    notes: Iterable[Note],
    segment_ticks: int | Sequence[int],
    start_tick: int = 0,
    end_tick: int | None = None,
    slash_chords: bool = True,
) -> ChordTrack:
    """Label polyphonic notes with chords, one per segment, equal neighbours merged.

    ``segment_ticks`` is a fixed segment length (e.g. a beat) or a sorted list of segment
    boundaries. Drum-channel notes are ignored. Silent segments get no chord.
    """
    pitched = sorted((n for n in notes if n.channel != 9), key=lambda n: n.start_tick)
    if not pitched:
        return ChordTrack()
    if end_tick is None:
        end_tick = max(n.end_tick for n in pitched)
    if isinstance(segment_ticks, int):
        check_int("segment_ticks", segment_ticks, 1)
        bounds = list(range(start_tick, end_tick, segment_ticks)) + [end_tick]
    else:
        bounds = sorted(set(int(b) for b in segment_ticks if start_tick <= b <= end_tick) | {start_tick, end_tick})
    events: list[ChordEvent] = []
    previous: Chord | None = None
    first = 0
    for start, end in zip(bounds, bounds[1:]):
        while first < len(pitched) and pitched[first].start_tick + 1_000_000 < start:  # cheap skip
            first += 1
        window = [n for n in pitched[first:] if n.start_tick < end and n.end_tick > start]
        profile, bass = _segment_profile(window, start, end)
        chord = label_segment(profile, bass, previous)
        if chord is None:
            previous = None
            continue
        if not slash_chords:
            chord = chord.with_bass(None)
        if events and events[-1].end_tick == start and events[-1].chord == chord:
            last = events[-1]
            events[-1] = last.with_span(last.start_tick, end - last.start_tick)
        else:
            events.append(ChordEvent(chord, start, end - start))
        previous = chord
    return ChordTrack(tuple(events))
