"""Arranging a scored story around its melody: chords, accompaniment, bass, instruments, tempo.

Torch-free and Qt-free: plain notes in, plain notes out.

- **Chords** (one per bar): the diatonic triad of the scene's key that holds most of the bar's
  melody (duration-weighted chord tones), with the usual cadence pulls: the tonic on a scene's first
  and last bar, the dominant on its second-to-last, a small cost for repeating the previous bar's
  chord (so the harmony moves). Minor scenes use the harmonic minor's major dominant.
- **Accompaniment style** by the bar's arousal (the mood timeline, blended): ``pad`` (held chords),
  ``arpeggio`` (broken chords in eighths), ``pulse`` (chords on every beat), ``drive`` (repeated
  eighth-note chords); note lengths follow the mood table's articulation target, loudness its
  velocity target (the accompaniment sits ``ACCOMPANIMENT_VELOCITY_DROP`` below the melody).
- **Bass**: the chord's root, held (calm), on beats 1 and 3 (moderate) or in eighths (excited).
- **Instruments** (timbre, the sixth cue of Eerola, Friberg & Bresin 2013: bright, brassy timbres
  read as more energetic and tense, soft ones — flute, horn, strings — as calmer): one
  melody and one accompaniment General MIDI program per mood quadrant (``INSTRUMENTS``).
- **Tempo**: each scene's tempo is the story's base tempo times the mood table's
  ``tempo_bpm_factor``; at a scene boundary the tempo moves in steps over the transition bar.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer_app.core.note import Note

BEATS_PER_BAR = 4
ACCOMPANIMENT_VELOCITY_DROP = 18
BASS_VELOCITY_DROP = 10
CHORD_CENTRE_PITCH = 58  # accompaniment chords sit around B♭3 ...
BASS_CENTRE_PITCH = 40  # ... and the bass around E2
REGISTER_SHIFT_PER_VALENCE = 3  # semitones the accompaniment moves up for a fully positive valence
STYLE_THRESHOLDS = ((-0.35, "pad"), (0.15, "arpeggio"), (0.55, "pulse"), (2.0, "drive"))

MAJOR_TRIADS = {  # degree name -> (root offset from the tonic, chord intervals)
    "I": (0, (0, 4, 7)), "ii": (2, (0, 3, 7)), "iii": (4, (0, 3, 7)), "IV": (5, (0, 4, 7)),
    "V": (7, (0, 4, 7)), "vi": (9, (0, 3, 7)),
}
MINOR_TRIADS = {
    "i": (0, (0, 3, 7)), "III": (3, (0, 4, 7)), "iv": (5, (0, 3, 7)), "V": (7, (0, 4, 7)),
    "VI": (8, (0, 4, 7)), "VII": (10, (0, 4, 7)),
}
CADENCE_BONUS = 1.0  # in quarter notes of melody: tonic at scene ends, dominant before the last bar
REPEAT_COST = 0.6  # in quarter notes of melody: the same chord as the bar before

# (melody program, accompaniment program, bass program) per quadrant, and names for people.
INSTRUMENTS = {
    "+V+A": ((73, "flute"), (0, "piano"), (32, "acoustic bass")),
    "+V-A": ((71, "clarinet"), (46, "harp"), (43, "contrabass")),
    "-V-A": ((42, "cello"), (48, "strings"), (43, "contrabass")),
    "-V+A": ((56, "trumpet"), (44, "tremolo strings"), (43, "contrabass")),
}
# Spectral brightness of those melody instruments on a -1 (dull) .. +1 (bright) scale, for the read-back.
BRIGHTNESS = {73: 0.0, 71: -0.3, 42: -0.6, 56: 0.9, 0: 0.2, 46: -0.2, 48: -0.4, 44: 0.3}


@dataclass(frozen=True)
class Chord:
    """A chord symbol's content: root pitch class, intervals above it, and a name ("Am", "E")."""

    root_pc: int
    intervals: tuple[int, ...]

    @property
    def name(self) -> str:
        names = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
        return names[self.root_pc] + ("m" if self.intervals[1] == 3 else "")

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.root_pc + i) % 12 for i in self.intervals)


def quadrant(valence: float, arousal: float) -> str:
    return f"{'+' if valence >= 0 else '-'}V{'+' if arousal >= 0 else '-'}A"


def instruments_for(valence: float, arousal: float) -> tuple[tuple[int, str], tuple[int, str], tuple[int, str]]:
    """(melody, accompaniment, bass) as (GM program, name) for a mood."""
    return INSTRUMENTS[quadrant(valence, arousal)]


def style_for(arousal: float) -> str:
    """The accompaniment style for a bar's arousal (see ``STYLE_THRESHOLDS``)."""
    return next(name for limit, name in STYLE_THRESHOLDS if arousal < limit)


def choose_chords(
    melody: list[Note], tpq: int, tonic_pc: int, minor_by_bar: list[bool], scene_of_bar: list[int]
) -> list[Chord]:
    """One chord per bar (see the module docstring); ``minor_by_bar[b]`` is bar b's mode."""
    bar_ticks = BEATS_PER_BAR * tpq
    bars = len(minor_by_bar)
    weights = [[0.0] * 12 for _ in range(bars)]
    for note in melody:
        bar = note.start_tick // bar_ticks
        if 0 <= bar < bars:
            end = min(note.end_tick, (bar + 1) * bar_ticks)
            weights[bar][note.pitch % 12] += max(0, end - note.start_tick) / tpq
    chords: list[Chord] = []
    for bar in range(bars):
        triads = MINOR_TRIADS if minor_by_bar[bar] else MAJOR_TRIADS
        tonic_name, dominant_name = ("i" if minor_by_bar[bar] else "I"), "V"
        scene = scene_of_bar[bar]
        first = bar == 0 or scene_of_bar[bar - 1] != scene
        last = bar == bars - 1 or scene_of_bar[bar + 1] != scene
        second_last = not last and (bar + 2 >= bars or scene_of_bar[bar + 2] != scene)
        best, best_score = None, -1e9
        for name, (offset, intervals) in triads.items():
            chord = Chord((tonic_pc + offset) % 12, intervals)
            score = sum(weights[bar][pc] for pc in chord.pitch_classes)
            if name == tonic_name and (first or last):
                score += CADENCE_BONUS
            if name == dominant_name and second_last:
                score += CADENCE_BONUS
            if chords and chords[-1] == chord:
                score -= REPEAT_COST
            if score > best_score:
                best, best_score = chord, score
        chords.append(best)
    return chords


def _voicing(chord: Chord, centre: int) -> list[int]:
    """Close-position triad nearest ``centre`` (root position or an inversion)."""
    best = None
    for low in range(centre - 9, centre + 3):
        if low % 12 in chord.pitch_classes:
            pcs = sorted(chord.pitch_classes, key=lambda pc: (pc - low % 12) % 12)
            pitches = [low + (pc - low % 12) % 12 for pc in pcs]
            cost = abs(sum(pitches) / 3 - centre)
            if best is None or cost < best[0]:
                best = (cost, pitches)
    return best[1]


def _bass_pitch(chord: Chord) -> int:
    return min(range(BASS_CENTRE_PITCH - 6, BASS_CENTRE_PITCH + 6), key=lambda p: (p % 12 != chord.root_pc, abs(p - BASS_CENTRE_PITCH)))


def accompany_bar(
    chord: Chord, bar_start_tick: int, tpq: int, arousal: float, valence: float, velocity: int, articulation: float
) -> tuple[list[Note], list[Note], str]:
    """(accompaniment notes, bass notes, style name) for one bar."""
    style = style_for(arousal)
    shift = int(round(REGISTER_SHIFT_PER_VALENCE * valence))
    chord_pitches = _voicing(chord, CHORD_CENTRE_PITCH + shift)
    bass = _bass_pitch(chord)
    acc_velocity = max(1, min(127, velocity - ACCOMPANIMENT_VELOCITY_DROP))
    bass_velocity = max(1, min(127, velocity - BASS_VELOCITY_DROP))
    bar_ticks = BEATS_PER_BAR * tpq
    eighth = tpq // 2

    def length(span: int) -> int:
        return max(1, int(span * articulation))

    acc: list[Note] = []
    low: list[Note] = []
    if style == "pad":
        acc += [Note(bar_start_tick, p, bar_ticks, acc_velocity) for p in chord_pitches]
        low.append(Note(bar_start_tick, bass, bar_ticks, bass_velocity))
    elif style == "arpeggio":
        order = [chord_pitches[0], chord_pitches[2], chord_pitches[1], chord_pitches[2]] * 2
        for i, pitch in enumerate(order):
            # each note rings on to the end of its half bar: a broken chord that blends
            half_end = (i // 4 + 1) * 4 * eighth
            acc.append(Note(bar_start_tick + i * eighth, pitch, half_end - i * eighth, acc_velocity))
        low += [Note(bar_start_tick + h * 2 * tpq, bass, length(2 * tpq), bass_velocity) for h in range(2)]
    elif style == "pulse":
        for beat in range(BEATS_PER_BAR):
            accent = 6 if beat % 2 == 0 else 0
            acc += [Note(bar_start_tick + beat * tpq, p, length(tpq), min(127, acc_velocity + accent)) for p in chord_pitches]
        low += [Note(bar_start_tick + h * 2 * tpq, bass, length(2 * tpq), bass_velocity) for h in range(2)]
    else:  # drive
        for i in range(2 * BEATS_PER_BAR):
            accent = 8 if i % 2 == 0 else 0
            acc += [Note(bar_start_tick + i * eighth, p, length(eighth), min(127, acc_velocity + accent)) for p in chord_pitches]
            octave = 12 if i % 2 else 0
            low.append(Note(bar_start_tick + i * eighth, bass + octave, length(eighth), min(127, bass_velocity + accent)))
    return acc, low, style
