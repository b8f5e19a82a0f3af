"""Accompaniment in a style: a chord track -> a bass track and a pattern track (Qt-free, torch-free).

A :class:`Style` names a pattern (how the chord is played in each bar), a General MIDI instrument
for it and one for the bass, and the register its voicings live in. Patterns run on the metric
grid of the time-signature map; at every onset the chord sounding there is voiced close to the
previous voicing (smallest total movement, so the accompaniment moves like a player's hands), and
the bass plays the chord's bass note (the slash note, else the root) near the previous bass note.

The mood sets what the issue and the mood table say it should (``mood/targets.py``):
dynamics (velocity from ``velocity_mean``), articulation (note lengths from ``articulation``) and
rhythmic activity (arousal doubles the pattern's subdivision above :data:`BUSY_AROUSAL`); the
default style comes from :func:`default_style`:

=================================  ==========  =========================================
mood / meter                        style       why
=================================  ==========  =========================================
arousal < -0.35 (calm)              pad         sustained chords: few events, legato
3/4, 6/8, 9/8 … (not calm)          waltz       bass on the downbeat, chords after it
arousal > 0.45 and valence < 0      block       repeated chords in 8ths: agitation
arousal > 0.45 and valence >= 0     alberti     busy broken chords: lively, bright
otherwise                           arpeggio    flowing broken chords
=================================  ==========  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from composer_app.core.chords import Chord, ChordTrack
from composer_app.core.note import Note
from composer_app.core.timing import TimeSignatureMap
from composer_app.core.track import DRUM_CHANNEL, Track

CALM_AROUSAL = -0.35  # below: the default style is a sustained pad
BUSY_AROUSAL = 0.45  # above: patterns double their subdivision; busy default styles
ACCOMPANIMENT_VELOCITY_SHARE = 0.78  # the pattern plays this share of the mood's melody velocity
BASS_VELOCITY_SHARE = 0.85  # the bass, a little louder than the pattern
DOWNBEAT_ACCENT = 8  # velocity added on the first beat of a bar
MAX_VOICES = 4  # notes in a voicing


@dataclass(frozen=True, slots=True)
class Style:
    """How an accompaniment plays: pattern name, GM programs (0-based), voicing register."""

    name: str
    description: str
    program: int  # GM program of the pattern track
    bass_program: int | None  # GM program of the bass track (None: no bass track)
    low_pitch: int  # lowest MIDI pitch of the pattern's voicings
    high_pitch: int  # highest MIDI pitch of the pattern's voicings
    steps_per_beat: int  # pattern onsets per beat at moderate arousal


STYLES: dict[str, Style] = {
    s.name: s
    for s in (
        Style("block", "block chords on every beat (8ths when excited)", 0, 32, 52, 74, 1),
        Style("arpeggio", "broken chord rising and falling in 8ths", 0, 42, 48, 79, 2),
        Style("alberti", "Alberti bass: low-high-middle-high in 8ths", 0, 32, 48, 74, 2),
        Style("waltz", "bass on the downbeat, chords on the other beats", 0, 42, 53, 74, 1),
        Style("pad", "sustained chords, one per chord change", 48, 42, 48, 76, 0),
        Style("bass", "only a bass line (roots and fifths)", 0, 32, 0, 0, 0),
    )
}
STYLE_NAMES = tuple(STYLES)
# Where each instrument family's bass sits (GM program -> lowest, highest MIDI pitch).
BASS_REGISTERS = {32: (28, 50), 33: (28, 50), 34: (28, 50), 35: (28, 50), 42: (36, 57), 43: (28, 48), 58: (28, 50)}
DEFAULT_BASS_REGISTER = (33, 55)


def default_style(valence: float = 0.0, arousal: float = 0.0, beats_per_bar: int = 4, beat_unit: int = 4) -> str:
    """The style the mood and meter suggest (the table in the module docstring)."""
    if arousal < CALM_AROUSAL:
        return "pad"
    if beats_per_bar % 3 == 0:
        return "waltz"
    if arousal > BUSY_AROUSAL:
        return "block" if valence < 0 else "alberti"
    return "arpeggio"


@dataclass(frozen=True, slots=True)
class Accompaniment:
    """The result: the tracks to add (pattern first, then "Bass (style)"), the style and the chords used."""

    tracks: tuple[Track, ...]
    style: str
    chords: ChordTrack


# ----------------------------------------------------------------------------------------------
# Voicing


def _close_voicings(chord: Chord, low: int, high: int, size: int) -> list[tuple[int, ...]]:
    """Every close-position voicing of ``size`` chord tones inside ``low..high``."""
    pcs = [(chord.root_pc + i) % 12 for i in chord.intervals]
    pcs = list(dict.fromkeys(pcs))  # ordered, unique
    if len(pcs) > size:  # drop the fifth first, then extensions beyond the seventh
        fifth = (chord.root_pc + 7) % 12
        if fifth in pcs and len(pcs) > size:
            pcs.remove(fifth)
        pcs = pcs[:size]
    while len(pcs) < size:  # double the root
        pcs.append(chord.root_pc)
    voicings = []
    for bottom in range(low, high + 1):
        if bottom % 12 not in pcs:
            continue
        notes, used = [bottom], [bottom % 12]
        remaining = list(pcs)
        remaining.remove(bottom % 12)
        pitch = bottom
        while remaining:
            pitch += 1
            if pitch > high:
                break
            if pitch % 12 in remaining:
                remaining.remove(pitch % 12)
                notes.append(pitch)
        if not remaining:
            voicings.append(tuple(notes))
    return voicings


def voice_chord(chord: Chord, previous: Sequence[int] | None, low: int, high: int, size: int = 3) -> tuple[int, ...]:
    """A close voicing of ``chord`` in ``low..high`` that moves least from ``previous``."""
    options = _close_voicings(chord, low, high, size) or _close_voicings(chord, low - 12, high + 12, size)
    if not options:
        return tuple(sorted({low + (pc - low) % 12 for pc in chord.pitch_classes}))[:size]
    if not previous:
        centre = (low + high) / 2
        return min(options, key=lambda v: abs(sum(v) / len(v) - centre))
    return min(options, key=lambda v: sum(abs(a - b) for a, b in zip(v, previous)) + abs(len(v) - len(previous)))


def _bass_pitch(chord: Chord, previous: int | None, low: int, high: int, pc: int | None = None) -> int:
    pc = chord.bass if pc is None else pc
    options = [p for p in range(low, high + 1) if p % 12 == pc]
    if previous is None:
        target = low + 7
    else:
        target = previous
    return min(options, key=lambda p: (abs(p - target), p))


# ----------------------------------------------------------------------------------------------
# Patterns


def _grid(time_signatures: TimeSignatureMap, start_tick: int, end_tick: int):
    """Yield (bar start tick, ticks per beat, beats in the bar) for bars overlapping the span."""
    tpq = time_signatures.ticks_per_quarter
    tick = time_signatures.tick_to_position(start_tick)
    bar = tick.bar
    while True:
        bar_start = time_signatures.bar_to_tick(bar)
        if bar_start >= end_tick:
            return
        change = time_signatures.change_at(bar_start)
        per_beat = change.ticks_per_beat(tpq)
        beats = change.ticks_per_bar(tpq) // per_beat
        # Compound meters (6/8, 9/8, 12/8) count in dotted quarters.
        if change.denominator == 8 and change.numerator % 3 == 0 and change.numerator > 3:
            per_beat, beats = per_beat * 3, change.numerator // 3
        yield bar_start, per_beat, beats
        bar += 1


def _onsets(style: Style, per_beat: int, beats: int, busy: bool) -> list[tuple[int, int]]:
    """(tick in bar, step index) of the pattern's onsets in one bar."""
    if style.name == "waltz":
        return [(b * per_beat, b) for b in range(1, beats)] if beats > 1 else [(0, 0)]
    steps = style.steps_per_beat * (2 if busy else 1)
    if style.name == "block" and not busy and beats >= 4 and style.steps_per_beat == 1:
        steps = 1
    step = max(1, per_beat // max(1, steps))
    return [(i * step, i) for i in range(beats * max(1, steps))]


def accompany(
    chords: ChordTrack,
    time_signatures: TimeSignatureMap,
    style: str | Style = "arpeggio",
    *,
    valence: float = 0.0,
    arousal: float = 0.0,
    start_tick: int | None = None,
    end_tick: int | None = None,
    channel: int = 1,
    bass_channel: int = 2,
    program: int | None = None,
    bass_program: int | None = None,
    ceiling_pitch: int | None = None,
) -> Accompaniment:
    """The pattern and bass tracks that play ``chords`` in ``style`` over ``start_tick..end_tick``.

    ``program`` / ``bass_program`` override the style's GM instruments; ``ceiling_pitch`` keeps the
    pattern's voicings at or below it (under the melody), though never below an octave above the
    style's lowest pitch. The ticks are those of ``time_signatures``. Raises ``ValueError`` for an
    unknown style name.
    """
    from composer_app.mood.mood import Mood
    from composer_app.mood.targets import targets_for

    if isinstance(style, str):
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}; expected one of {', '.join(STYLE_NAMES)}")
        style = STYLES[style]
    if program is not None:
        style = replace(style, program=program)
    if bass_program is not None:
        style = replace(style, bass_program=bass_program)
    if ceiling_pitch is not None:
        style = replace(style, high_pitch=max(style.low_pitch + 12, min(style.high_pitch, ceiling_pitch)))
    mood = Mood.clamped(valence, arousal)
    targets = targets_for(mood)
    velocity = targets.velocity_mean or 80.0
    legato = targets.articulation or 0.8
    busy = arousal > BUSY_AROUSAL
    start = chords.events[0].start_tick if start_tick is None and chords else (start_tick or 0)
    end = chords.end_tick if end_tick is None else end_tick
    pattern_notes: list[Note] = []
    bass_notes: list[Note] = []
    voicing: tuple[int, ...] | None = None
    bass_previous: int | None = None
    pattern_velocity = int(max(1, min(127, round(velocity * ACCOMPANIMENT_VELOCITY_SHARE))))
    bass_velocity = int(max(1, min(127, round(velocity * BASS_VELOCITY_SHARE))))
    bass_low, bass_high = BASS_REGISTERS.get(style.bass_program, DEFAULT_BASS_REGISTER)
    size = 4 if style.name in ("pad", "block") else 3

    for bar_start, per_beat, beats in _grid(time_signatures, start, end):
        bar_end = bar_start + per_beat * beats
        # --- pattern
        if style.name == "pad":
            for event in chords.between(max(start, bar_start), min(end, bar_end)):
                s = max(event.start_tick, bar_start, start)
                if s != max(event.start_tick, start):  # a chord held over a bar line is not restruck
                    continue
                e = min(event.end_tick, end)
                voicing = voice_chord(event.chord, voicing, style.low_pitch, style.high_pitch, size)
                for pitch in voicing:
                    pattern_notes.append(Note(s, pitch, max(1, e - s), pattern_velocity, channel))
        elif style.name != "bass":
            onsets = _onsets(style, per_beat, beats, busy)
            for index, (offset, step) in enumerate(onsets):
                tick = bar_start + offset
                if tick < start or tick >= end:
                    continue
                event = chords.at(tick)
                if event is None:
                    continue
                next_tick = bar_start + onsets[index + 1][0] if index + 1 < len(onsets) else bar_end
                if style.name == "waltz":
                    next_tick = tick + per_beat
                length = max(1, min(next_tick, event.end_tick, end) - tick)
                voicing = voice_chord(event.chord, voicing, style.low_pitch, style.high_pitch, size)
                accent = DOWNBEAT_ACCENT if offset == 0 else 0
                v = min(127, pattern_velocity + accent)
                if style.name in ("block", "waltz"):
                    duration = max(1, round(length * legato))
                    for pitch in voicing:
                        pattern_notes.append(Note(tick, pitch, duration, v, channel))
                else:
                    order = _broken_order(style.name, len(voicing), step)
                    # Broken chords ring to the end of their step (a pianist's held fingers).
                    pattern_notes.append(Note(tick, voicing[order], max(1, round(length * max(legato, 0.9))), v, channel))
        # --- bass
        if style.bass_program is None:
            continue
        bass_onsets = _bass_onsets(style.name, per_beat, beats, busy)
        events_in_bar = chords.between(max(start, bar_start), min(end, bar_end))
        change_ticks = {max(e.start_tick, start) for e in events_in_bar if bar_start < e.start_tick < bar_end}
        ticks = sorted({bar_start + o for o in bass_onsets} | change_ticks)
        for index, tick in enumerate(ticks):
            if tick < start or tick >= end:
                continue
            event = chords.at(tick)
            if event is None:
                continue
            next_tick = ticks[index + 1] if index + 1 < len(ticks) else bar_end
            length = max(1, min(next_tick, event.end_tick, end) - tick)
            same_chord_as_before = event.start_tick < tick and tick != bar_start
            pc = None
            if same_chord_as_before and style.name in ("block", "alberti", "arpeggio", "bass") and 7 in event.chord.intervals:
                pc = (event.chord.root_pc + 7) % 12  # the fifth on the weak beats of a held chord
            bass_previous = _bass_pitch(event.chord, bass_previous, bass_low, bass_high, pc)
            duration = max(1, round(length * (legato if style.name != "pad" else 1.0)))
            accent = DOWNBEAT_ACCENT if tick == bar_start else 0
            bass_notes.append(Note(tick, bass_previous, duration, min(127, bass_velocity + accent), bass_channel))

    tracks = []
    if style.name != "bass":
        tracks.append(Track(f"Accompaniment ({style.name})", style.program, channel, pattern_notes))
    if style.bass_program is not None:
        tracks.append(Track(f"Bass ({style.name})", style.bass_program, bass_channel, bass_notes))
    return Accompaniment(tuple(tracks), style.name, chords)


def _broken_order(name: str, size: int, step: int) -> int:
    """Which voicing note (0 = lowest) a broken-chord pattern plays at ``step``."""
    if name == "alberti":  # low, high, middle, high
        return (0, size - 1, size // 2, size - 1)[step % 4]
    cycle = list(range(size)) + list(range(size - 2, 0, -1))  # up and down: 0 1 2 1 0 1 2 1 …
    return cycle[step % len(cycle)]


def _bass_onsets(name: str, per_beat: int, beats: int, busy: bool) -> list[int]:
    """Ticks in a bar where the bass plays."""
    if name in ("pad", "waltz") or beats < 2:
        return [0]
    if busy:
        return [b * per_beat for b in range(beats)]
    if beats % 2 == 0:
        return [0, beats // 2 * per_beat]
    return [0]


# ----------------------------------------------------------------------------------------------
# Projects


def free_channels(tracks: Iterable[Track], count: int) -> tuple[int, ...]:
    """``count`` MIDI channels no track uses (the drum channel never), lowest first."""
    used = {t.channel for t in tracks} | {n.channel for t in tracks for n in t.notes}
    free = [c for c in range(16) if c != DRUM_CHANNEL and c not in used]
    if len(free) < count:  # every channel taken: share the highest ones
        free += [c for c in range(15, -1, -1) if c != DRUM_CHANNEL and c not in free]
    return tuple(free[:count])


def is_polyphonic(notes: Sequence[Note], min_share: float = 0.25) -> bool:
    """True when at least ``min_share`` of the sounding time has two or more notes at once."""
    edges = sorted([(n.start_tick, 1) for n in notes] + [(n.end_tick, -1) for n in notes])
    sounding = both = 0
    count, last = 0, None
    for tick, delta in edges:
        if last is not None and count > 0:
            sounding += tick - last
            if count > 1:
                both += tick - last
        count += delta
        last = tick
    return sounding > 0 and both / sounding >= min_share


def chords_for_project(project, valence: float = 0.0, arousal: float = 0.0) -> ChordTrack:
    """The project's chord track, or chords estimated from its notes when it has none.

    Polyphonic material is labelled span by span at the mood's harmonic rhythm (a bar, half a bar
    or a beat: :func:`~composer_app.arrange.suggest.harmonic_rhythm_beats`, :func:`estimate_chords`); a single line gets
    the progression the chord suggester proposes for it (:mod:`composer_app.arrange.suggest`).
    """
    from composer_app.core.chords import estimate_chords

    if project.chords:
        return project.chords
    notes = [n for t in project.tracks if not t.is_drums for n in t.notes]
    if not notes:
        return ChordTrack()
    if is_polyphonic(notes):
        from composer_app.arrange.suggest import harmonic_rhythm_beats

        bounds = []
        end = max(n.end_tick for n in notes)
        for bar_start, per_beat, beats in _grid(project.time_signatures, 0, end):
            span = harmonic_rhythm_beats(arousal, beats)
            bounds += [bar_start + b * per_beat for b in range(0, beats, span)]
        return estimate_chords(notes, [b for b in bounds if b < end] + [end])
    from composer_app.arrange.suggest import suggest_chords

    return suggest_chords(project, valence=valence, arousal=arousal, alternatives=1)[0].chords


def accompany_project(project, style: str | None = None, *, valence: float = 0.0, arousal: float = 0.0,
                      program: int | None = None, bass_program: int | None = None,
                      start_tick: int | None = None, end_tick: int | None = None) -> Accompaniment:
    """Accompaniment tracks for a project: its chords (or estimated ones), on free channels.

    ``style`` None picks :func:`default_style` from the mood and the first time signature.
    """
    chords = chords_for_project(project, valence, arousal)
    if not chords:
        return Accompaniment((), style or "", chords)
    first = project.time_signatures.changes[0]
    name = style or default_style(valence, arousal, first.numerator, first.denominator)
    channel, bass_channel = free_channels(project.tracks, 2)
    pitches = sorted(n.pitch for t in project.tracks if not t.is_drums for n in t.notes)
    ceiling = pitches[len(pitches) // 10] - 1 if pitches and not is_polyphonic([n for t in project.tracks for n in t.notes]) else None
    return accompany(chords, project.time_signatures, name, valence=valence, arousal=arousal,
                     channel=channel, bass_channel=bass_channel, program=program, bass_program=bass_program,
                     start_tick=start_tick, end_tick=end_tick, ceiling_pitch=ceiling)
