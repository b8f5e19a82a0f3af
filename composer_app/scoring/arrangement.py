"""Arranging a scored story around its melody: chords and instruments.

Torch-free and Qt-free: plain notes in, plain values out. (The accompaniment patterns themselves
are the harmony feature's, ``composer_app.arrange.accompany``.)

- **Chords** (one per bar): the diatonic triad of the scene's key that holds most of the bar's
  melody (duration-weighted chord tones), with the usual cadence pulls: the tonic on a scene's first
  and last bar, the dominant on its second-to-last, a small cost for repeating the previous bar's
  chord (so the harmony moves). Minor scenes use the harmonic minor's major dominant. The bar's
  valence colours the choice (``MODE_COLOUR``): the brighter the mood, the more the major triads of
  the key are preferred (I, IV, V; in minor III, VI, VII), the darker, the minor ones (ii, iii, vi;
  i, iv). So mode is graded within a key, as listeners hear it (Gabrielsson & Lindström 2010: mode
  and harmony carry valence), instead of all major scenes sounding equally major.
- **Modal mixture** (``MIXTURE``): a bar may also borrow a triad from the parallel mode (in C major
  Cm, Eb, Fm, Ab, Bb; in C minor C, Dm, Em, F, Am), worth ``MIXTURE`` at neutral valence and nothing
  at |valence| 1, and only where the bar's melody does not sound the tone the borrowed chord alters
  (no Fm under an A natural); melody a semitone from an altered tone counts against it (in the
  same units as the chord tones count for it). So the nearer a scene is to neutral, the more of the other mode's
  colour its harmony takes: a mildly happy scene sounds less major than an elated one, a mildly sad
  one less minor than a grieving one. Diatonic triads alone cannot do that: ii, iii and vi of a
  major key keep its scale, and the pitch-class content that listeners (and ``major_strength``) hear
  as the mode stays major. The same scale as ``MODE_COLOUR``: a borrowed chord at neutral is worth
  what a major triad is at full valence.
- **Instruments** (timbre, the sixth cue of Eerola, Friberg & Bresin 2013: bright, brassy timbres
  read as more energetic and tense, soft ones — flute, horn, strings — as calmer): one
  melody and one accompaniment General MIDI program per mood quadrant (``INSTRUMENTS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from composer_app.core.note import Note

BEATS_PER_BAR = 4

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
MODE_COLOUR = 3.0  # in quarter notes of melody per unit of valence: bonus of a major triad (minor: the opposite)
MIXTURE = MODE_COLOUR  # in quarter notes of melody: bonus of a borrowed chord at neutral valence, 0 at |valence| 1 (same scale as MODE_COLOUR)
# Where the parallel modes differ (semitones above the tonic): major's 3rd, 6th and 7th against the minor's.
# A borrowed chord's tone at one of these replaces its counterpart in the scene's scale.
PARALLEL_COUNTERPART = {4: 3, 9: 8, 11: 10, 3: 4, 8: 9, 10: 11}

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


def choose_chords(
    melody: list[Note], tpq: int, tonic_pc: int, minor_by_bar: list[bool], scene_of_bar: list[int],
    valence_by_bar: list[float] | None = None,
) -> list[Chord]:
    """One chord per bar (see the module docstring); ``minor_by_bar[b]`` is bar b's mode and
    ``valence_by_bar[b]`` (-1..1, default 0) its mood's valence."""
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
        own = {frozenset((offset + i) % 12 for i in intervals) for offset, intervals in triads.values()}
        scale = {(offset + i) % 12 for offset, intervals in triads.values() for i in intervals}
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
            if valence_by_bar is not None:
                score += MODE_COLOUR * valence_by_bar[bar] * (1 if intervals[1] == 4 else -1)
            if score > best_score:
                best, best_score = chord, score
        if valence_by_bar is not None:  # modal mixture: the parallel mode's other triads
            for offset, intervals in (MAJOR_TRIADS if minor_by_bar[bar] else MINOR_TRIADS).values():
                degrees = frozenset((offset + i) % 12 for i in intervals)
                if degrees in own:
                    continue
                altered = degrees - scale
                if any(weights[bar][(tonic_pc + PARALLEL_COUNTERPART[d]) % 12] > 0 for d in altered):
                    continue  # the melody sounds the tone this chord alters (a cross-relation)
                chord = Chord((tonic_pc + offset) % 12, intervals)
                score = sum(weights[bar][pc] for pc in chord.pitch_classes)
                # melody a semitone from an altered tone clashes with it: it counts against the chord
                score -= sum(weights[bar][(tonic_pc + d + step) % 12] for d in altered for step in (-1, 1))
                if chords and chords[-1] == chord:
                    score -= REPEAT_COST
                score += MIXTURE * (1.0 - min(1.0, abs(valence_by_bar[bar])))
                if score > best_score:
                    best, best_score = chord, score
        chords.append(best)
    return chords


def chord_symbol(chord: Chord):
    """The chord as the document's chord-track value (``core.chords.Chord``)."""
    from composer_app.core.chords import Chord as ChordSymbol

    return ChordSymbol(chord.root_pc, "m" if chord.intervals[1] == 3 else "maj")
