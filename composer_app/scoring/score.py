"""Score a story: scenes → one continuous, multi-track piece whose mood turns where the story turns.

``score_story(story)`` builds an ordinary ``Project``:

1. **Melody**, scene after scene, from the generator (``generation.engine.suggest``): each scene
   continues the melody of the bars before it (its last ``PROMPT_BARS`` bars are the prompt; the
   first scene continues the user's motif, or starts from nothing), with the scene's mood as
   attribute targets. So the line never restarts: key, register and motion carry over, and only
   the targets turn. The register target is made absolute (the engine places register relative to
   its prompt, which would make a run of sad scenes sink lower and lower). Where a scene boundary
   would leave the melody silent for more than a beat, the last note before it is held into the
   next scene (a tie across the boundary).
2. **Transitions** follow the mood timeline's blend (``Story.timeline``): each request takes one
   set of targets per bar from the timeline, so over a scene's first bar density, register,
   dynamics and articulation move from the previous scene's values to the new ones, and the tempo
   steps beat by beat.
3. **Chords** (one per bar, chosen to fit the melody: ``scoring.arrangement``) become the project's
   chord track; the **accompaniment and bass** are the harmony feature's (``arrange.accompany``) in
   the style the scene's mood suggests, on the scene's **instruments** (``scoring.arrangement``);
   **tempo** per scene from the mood table.
4. **Measures** per scene: the melody's attributes (``core.attributes``) and the read-back mood
   (``scoring.readback``, which never sees the targets); Spearman across scenes per axis, between
   the reader's valence and arousal and the read-back.

The music follows the story's arc, not the reader's absolute scale: before anything is generated the
scenes' valences are spread over the usable range (``spread_valences``: on each side of neutral, ranked
and spaced evenly from ``SPREAD_MIN`` to 1), so that scenes the reader put close together still differ
in mode, harmony (``arrangement``: graded major/minor triads and modal mixture), register and
instrument. The spread is monotone and keeps signs, so the ranks are the reader's and Spearman against
the reader's values measures what it did; the report gives both (``valence`` and ``valence_in_music``),
and the project's mood timeline keeps the reader's values. Arousal is used as read.

``rescore_scene`` regenerates one scene's melody with a new seed and keeps every other scene's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from composer_app.arrange.accompany import accompany, default_style
from composer_app.core.attributes import compute_attributes
from composer_app.core.chords import ChordEvent, ChordTrack
from composer_app.core.mood_timeline import smoothstep
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.theory import Key
from composer_app.core.timing import (
    DEFAULT_TICKS_PER_QUARTER,
    TempoChange,
    TempoMap,
    TimeSignatureChange,
    TimeSignatureMap,
    bpm_to_microseconds_per_quarter,
)
from composer_app.core.track import Track
from composer_app.mood.mood import Mood
from composer_app.mood.story import BASE_TEMPO_BPM, Story, scene_tempo_bpm
from composer_app.mood.targets import targets_for
from composer_app.scoring import arrangement
from composer_app.scoring.readback import ReadBack, read_back, spearman

TICKS_PER_QUARTER = DEFAULT_TICKS_PER_QUARTER
BAR_TICKS = arrangement.BEATS_PER_BAR * TICKS_PER_QUARTER
PROMPT_BARS = 4  # each scene continues the last this-many bars of melody
MAX_SILENCE_BEATS = 1.0  # a longer silence across a scene boundary is bridged by holding the last note
NEUTRAL_PITCH_MEAN = 69.0  # the engine's neutral register (generation.engine)
EMPTY_PROMPT_PITCH_MEAN = 67.0  # the register the engine assumes for an empty prompt
DRUM_CHANNEL = 9
MODE_VALENCE_DEADBAND = 0.01  # scenes with |valence| below this keep the table's graded mode target
SCENE_MODE_STRENGTH = 0.4  # the major_strength target of a scene of valence +1 (negated: -1); graded below
FULL_MODE_VALENCE = 1.0  # from this |valence| on a scene gets the full SCENE_MODE_STRENGTH; below, a share
TEMPO_VALENCE_LEAK = 0.4  # how much of a scene's arousal its quick tempo and high register add to heard valence
MIN_MODE_SHARE = 0.3  # the share of SCENE_MODE_STRENGTH a scene of valence just past the deadband gets
OVERSAMPLE = 2  # each scene's melody is the best of this many samples (ranked by the targets)
SPREAD_MIN = 0.2  # after spreading, the scene nearest neutral on either side of 0 gets this |valence|

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what is happening)


class ScoringCancelled(Exception):
    """The user cancelled scoring."""


@dataclass(frozen=True)
class SceneScore:
    """One scene of a scored story: where it lies, how it was arranged and what was measured."""

    index: int
    start_bar: int
    end_bar: int
    start_tick: int
    end_tick: int
    start_seconds: float
    end_seconds: float
    tempo_bpm: float
    key: str
    melody_instrument: str
    accompaniment_instrument: str
    styles: tuple[str, ...]
    chords: tuple[str, ...]
    seed: int
    attributes: dict[str, float]
    readback: ReadBack
    music_valence: float  # the valence the music was made for (``spread_valences``), not the reader's


@dataclass(frozen=True)
class ScoredStory:
    """The result: the project, per-scene scores, the raw per-scene melodies (for regenerating one)."""

    story: Story
    project: Project
    scenes: tuple[SceneScore, ...]
    scene_melodies: tuple[tuple[Note, ...], ...]
    seconds: float
    seed: int
    base_bpm: float = BASE_TEMPO_BPM
    motif: tuple[Note, ...] = field(default=())

    def fit(self) -> dict[str, float | None]:
        """Spearman across scenes between intended and read-back valence, and arousal."""
        story_scenes = self.story.scenes
        return {
            "valence": spearman([s.valence for s in story_scenes], [s.readback.valence for s in self.scenes]),
            "arousal": spearman([s.arousal for s in story_scenes], [s.readback.arousal for s in self.scenes]),
        }

    def to_dict(self) -> dict[str, object]:
        """The JSON report: per scene its text span, emotion, moods, position, arrangement and measures."""
        tpq = self.project.ticks_per_quarter
        rows = []
        for scene, score in zip(self.story.scenes, self.scenes):
            rows.append(
                {
                    "index": score.index,
                    "text_span": [scene.start_char, scene.end_char],
                    "text": scene.text if len(scene.text) <= 160 else scene.text[:157] + "...",
                    "emotion": scene.emotion,
                    "valence": round(scene.valence, 3),
                    "arousal": round(scene.arousal, 3),
                    "read_from_text": {"valence": round(scene.read_valence, 3), "arousal": round(scene.read_arousal, 3)},
                    "valence_in_music": round(score.music_valence, 3),
                    "set_by_hand": scene.mood_by_hand,
                    "why": list(scene.evidence),
                    "start_bar": score.start_bar,
                    "end_bar": score.end_bar,
                    "start_beat": score.start_tick / tpq,
                    "end_beat": score.end_tick / tpq,
                    "start_seconds": round(score.start_seconds, 3),
                    "end_seconds": round(score.end_seconds, 3),
                    "tempo_bpm": round(score.tempo_bpm, 1),
                    "key": score.key,
                    "instruments": {"melody": score.melody_instrument, "accompaniment": score.accompaniment_instrument},
                    "accompaniment_styles": list(score.styles),
                    "chords": list(score.chords),
                    "seed": score.seed,
                    "attributes": {k: round(v, 3) for k, v in score.attributes.items()},
                    "read_back": score.readback.to_dict(),
                }
            )
        fit = self.fit()
        return {
            "scenes": rows,
            "bars": self.story.total_bars,
            "seconds_of_music": round(self.project.duration_seconds, 2),
            "notes": self.project.note_count,
            "tracks": [t.name for t in self.project.tracks],
            "seed": self.seed,
            "narrative_fit_spearman": {k: (None if v is None else round(v, 3)) for k, v in fit.items()},
            "max_silence_at_boundaries_beats": round(max_boundary_silence_beats(self), 3),
            "seconds_taken": round(self.seconds, 2),
        }


# ------------------------------------------------------------------------------------------------


def _check_cancel(cancel) -> None:
    if cancel is not None and (cancel.is_set() if isinstance(cancel, threading.Event) else cancel()):
        raise ScoringCancelled("scoring cancelled")


def _prompt_notes(melody: list[Note], start_bar: int, motif: tuple[Note, ...]) -> list[Note]:
    """The notes a scene continues, moved so that the prompt's last bar ends where the scene starts."""
    if start_bar == 0:
        if not motif:
            return []
        bars = max(1, -(-max(n.start_tick for n in motif) // BAR_TICKS) if motif else 1)
        first = max(0, bars - PROMPT_BARS) * BAR_TICKS
        return [n.shifted(-first) for n in motif if n.start_tick >= first]
    first_bar = max(0, start_bar - PROMPT_BARS)
    lo, hi = first_bar * BAR_TICKS, start_bar * BAR_TICKS
    notes = []
    for n in melody:
        if lo <= n.start_tick < hi:
            duration = min(n.duration_ticks, hi - n.start_tick)
            notes.append(Note(n.start_tick - lo, n.pitch, duration, n.velocity))
    return notes  # (if its last bar is silent the engine starts a bar early; the scene is placed at its bar anyway)


def spread_valences(valences: Iterable[float]) -> list[float]:
    """The story's scene valences spread over the usable range, keeping their order and signs.

    The reader places scenes on one absolute scale, and one story often uses a narrow part of it
    (several scenes within ±0.1 of neutral): music made for such values has too little contrast for
    a listener, or the read-back, to rank the scenes. So the music follows each scene's place
    *within its story*: on each side of neutral, the scenes are ranked by |valence| and spaced
    evenly from ``SPREAD_MIN`` (nearest neutral) to 1 (the most extreme of that side), equal values
    sharing a place; scenes within ``MODE_VALENCE_DEADBAND`` of 0 stay neutral. The map is
    monotone and keeps every sign (a scene read as positive stays major), so Spearman between the
    reader's values and what is read back from the music means what it did; only the spacing
    changes.
    """
    values = [float(v) for v in valences]
    spread = [0.0] * len(values)
    for sign in (1.0, -1.0):
        side = sorted({abs(v) for v in values if v * sign >= MODE_VALENCE_DEADBAND})
        for i, v in enumerate(values):
            if v * sign >= MODE_VALENCE_DEADBAND:
                place = side.index(abs(v)) / (len(side) - 1) if len(side) > 1 else 1.0
                spread[i] = sign * (SPREAD_MIN + (1.0 - SPREAD_MIN) * place)
    return spread


def music_story(story: Story) -> Story:
    """``story`` with each scene's valence spread over the usable range (``spread_valences``)."""
    spread = spread_valences(s.valence for s in story.scenes)
    return replace(story, scenes=tuple(replace(s, valence=v) for s, v in zip(story.scenes, spread)))


def mode_valence(valence: float, arousal: float) -> float:
    """The valence mode and harmony still have to carry once tempo and register have spoken.

    Cues add up in what listeners hear (Eerola, Friberg & Bresin 2013), and quick, high music sounds
    happier as well as livelier: an energetic scene's tempo and register (set by its arousal) already
    add ``TEMPO_VALENCE_LEAK`` × arousal to its heard valence, a calm scene's take it away. So a
    mildly happy, lively scene gets a milder major than a serene, very happy one.
    """
    return valence - TEMPO_VALENCE_LEAK * arousal


def _scene_targets(mood: Mood, prompt: list[Note]):
    """The mood's targets for a scene, with two changes for scoring a story.

    Register: rewritten so that the engine lands on it absolutely (it places register relative to
    its prompt). Mode: the scene's valence sign decides it (``MODE_VALENCE_DEADBAND`` around zero
    keeps the table's graded target), because a story turns between scenes and mode is the
    strongest valence cue: a mildly sad scene after a happy one should turn minor, where a single
    suggestion would keep its prompt's mode. How strongly it is major or minor is graded: full
    strength from ``FULL_MODE_VALENCE`` on, less below (down to ``MIN_MODE_SHARE``), so that a mildly sad scene
    sounds less minor than a grieving one (the chords are graded the same way:
    ``arrangement.MODE_COLOUR``).
    """
    targets = targets_for(mood)
    if abs(mood.valence) >= MODE_VALENCE_DEADBAND:
        heard = mode_valence(mood.valence, mood.arousal)
        share = MIN_MODE_SHARE + (1.0 - MIN_MODE_SHARE) * min(1.0, abs(heard) / FULL_MODE_VALENCE)
        strength = SCENE_MODE_STRENGTH * share * (1.0 if heard * mood.valence > 0 else MIN_MODE_SHARE)
        targets = targets.with_overrides({"major_strength": strength if mood.valence > 0 else -strength})
    if prompt:
        recent_from = max(0, max(n.start_tick for n in prompt) // BAR_TICKS - 3) * BAR_TICKS
        recent = [n.pitch for n in prompt if n.start_tick >= recent_from] or [n.pitch for n in prompt]
        prompt_mean = sum(recent) / len(recent)
    else:
        prompt_mean = EMPTY_PROMPT_PITCH_MEAN
    wanted = targets.pitch_mean
    return targets.with_overrides({"pitch_mean": min(127.0, max(0.0, wanted - prompt_mean + NEUTRAL_PITCH_MEAN))})


def _generate_scene_melody(
    melody_before: list[Note], scene, start_bar: int, seed: int, motif, model, cancel, timeline
) -> tuple[list[Note], object]:
    """One scene's melody (in project ticks) and the key the engine used.

    The request takes one set of targets per bar from the mood timeline (read in each bar's middle),
    so the scene's first bar blends from the previous scene's mood into its own.
    """
    from composer_app.generation import engine
    from composer_app.generation.candidate import Prompt

    prompt_notes = _prompt_notes(melody_before, start_bar, motif)
    prompt = Prompt(
        tuple(sorted(prompt_notes)), TICKS_PER_QUARTER, TempoMap(ticks_per_quarter=TICKS_PER_QUARTER),
        TimeSignatureMap(ticks_per_quarter=TICKS_PER_QUARTER),
    )
    targets = [
        _scene_targets(Mood.clamped(*timeline.mood_at(start_bar + i + 0.5)), prompt_notes) for i in range(scene.bars)
    ]
    try:
        candidates = engine.suggest(
            prompt, bars=scene.bars, candidates=1, seed=seed, targets=targets, model=model, cancel=cancel,
            oversample=OVERSAMPLE,
        )
    except engine.Cancelled:
        raise ScoringCancelled("scoring cancelled") from None
    candidate = candidates[0]
    offset = start_bar * BAR_TICKS
    end = (start_bar + scene.bars) * BAR_TICKS
    notes = []
    for n in candidate.notes:
        start = n.start_tick + offset
        if start < end:
            notes.append(Note(start, n.pitch, min(n.duration_ticks, end - start), n.velocity))
    # The candidate reports its first bar's key, which may still be the previous scene's mode (the
    # blend): the scene's own mode is the one its settled bars were given (see _scene_targets).
    key = candidate.key
    if abs(scene.valence) >= MODE_VALENCE_DEADBAND:
        key = Key(key.tonic_pc, "major" if scene.valence > 0 else "minor")
    return notes, key


def _gaps(notes: list[Note]) -> list[tuple[int, int, int]]:
    """Silences of a line: (from tick, to tick, index of the note whose end starts the silence)."""
    gaps = []
    sounding_until, holder = None, None
    for i, note in enumerate(notes):
        if sounding_until is not None and note.start_tick > sounding_until:
            gaps.append((sounding_until, note.start_tick, holder))
        if sounding_until is None or note.end_tick > sounding_until:
            sounding_until, holder = note.end_tick, i
    return gaps


def _near(gap: tuple[int, int, int], boundary: int, window: int) -> bool:
    return gap[0] <= boundary + window and gap[1] >= boundary - window


def bridge_silences(melody: list[Note], boundary_ticks: Iterable[int], max_silence_ticks: int) -> list[Note]:
    """Hold the note before any silence longer than ``max_silence_ticks`` within a beat of a boundary."""
    notes = sorted(melody)
    for boundary in boundary_ticks:
        for start, end, holder in _gaps(notes):
            if end - start > max_silence_ticks and _near((start, end, holder), boundary, max_silence_ticks):
                notes[holder] = notes[holder].with_duration(end - notes[holder].start_tick)
    return sorted(notes)


def max_boundary_silence_beats(scored: ScoredStory) -> float:
    """The longest melody silence within a beat of a scene boundary, in beats (0 when none)."""
    melody = sorted(n for t in scored.project.tracks if t.name.startswith("Melody") for n in t.notes)
    gaps = _gaps(melody)
    worst = 0
    for score in scored.scenes[1:]:
        for gap in gaps:
            if _near(gap, score.start_tick, TICKS_PER_QUARTER):
                worst = max(worst, gap[1] - gap[0])
    return worst / TICKS_PER_QUARTER


def _tempo_map(story: Story, base_bpm: float) -> TempoMap:
    """Each scene's tempo, stepping beat by beat across the first bar of each new scene."""
    changes: list[TempoChange] = []
    previous = None
    for start_bar, scene in zip(story.scene_start_bars(), story.scenes):
        bpm = scene_tempo_bpm(scene.mood, base_bpm)
        if previous is None:
            changes.append(TempoChange(0, bpm_to_microseconds_per_quarter(bpm)))
        else:
            for beat in range(arrangement.BEATS_PER_BAR):
                weight = smoothstep((beat + 1) / arrangement.BEATS_PER_BAR)
                step_bpm = previous + (bpm - previous) * weight
                changes.append(
                    TempoChange(start_bar * BAR_TICKS + beat * TICKS_PER_QUARTER, bpm_to_microseconds_per_quarter(step_bpm))
                )
        previous = bpm
    return TempoMap(changes, TICKS_PER_QUARTER)


def _arrange(story: Story, played: Story, melody: list[Note], keys: list, base_bpm: float, seed: int, scene_melodies, motif, seconds):
    """Build the project and the per-scene measures from the finished melody.

    ``played`` is ``story`` with the valences the music follows (``music_story``); the project keeps
    ``story``'s own moods (its settings, markers and mood timeline) and is measured against them.
    """
    timeline = played.timeline()
    starts = played.scene_start_bars()
    total_bars = played.total_bars
    scene_of_bar = [i for i, scene in enumerate(played.scenes) for _ in range(scene.bars)]
    minor_by_bar = []
    for bar in range(total_bars):  # a blend bar takes the mode its blended valence asked for
        valence = timeline.mood_at(bar + 0.5)[0]
        scene_minor = keys[scene_of_bar[bar]].mode != "major"
        minor_by_bar.append(scene_minor if abs(valence) < MODE_VALENCE_DEADBAND else valence < 0)
    # The engine may move the tonic between scenes (it re-estimates the key from each prompt): use each scene's own.
    chords = []
    for i, scene in enumerate(played.scenes):
        bars = range(starts[i], starts[i] + scene.bars)
        scene_chords = arrangement.choose_chords(
            [n.shifted(-starts[i] * BAR_TICKS) for n in melody if starts[i] * BAR_TICKS <= n.start_tick < (starts[i] + scene.bars) * BAR_TICKS],
            TICKS_PER_QUARTER, keys[i].tonic_pc, [minor_by_bar[b] for b in bars], [0] * scene.bars,
            [mode_valence(*timeline.mood_at(b + 0.5)) for b in bars],
        )
        chords.extend(scene_chords)

    melody_tracks: dict[int, list[Note]] = {}
    acc_tracks: dict[int, list[Note]] = {}
    bass_tracks: dict[int, list[Note]] = {}
    names: dict[tuple[str, int], str] = {}
    styles_by_scene: list[list[str]] = [[] for _ in played.scenes]
    chord_track = ChordTrack(
        tuple(ChordEvent(arrangement.chord_symbol(chord), bar * BAR_TICKS, BAR_TICKS) for bar, chord in enumerate(chords))
    )
    meter = TimeSignatureMap([TimeSignatureChange(0, 4, 4)], TICKS_PER_QUARTER)
    for index, scene in enumerate(played.scenes):
        # The harmony feature's accompaniment (arrange.accompany) in the style the scene's mood suggests,
        # on the scene's instruments, voiced under the scene's melody.
        start_tick, end_tick = starts[index] * BAR_TICKS, (starts[index] + scene.bars) * BAR_TICKS
        melody_program, acc_program, bass_program = arrangement.instruments_for(scene.valence, scene.arousal)
        style = default_style(scene.valence, scene.arousal, arrangement.BEATS_PER_BAR, 4)
        scene_melody = [n.pitch for n in melody if start_tick <= n.start_tick < end_tick]
        result = accompany(
            chord_track, meter, style, valence=scene.valence, arousal=scene.arousal, start_tick=start_tick,
            end_tick=end_tick, channel=0, bass_channel=1, program=acc_program[0], bass_program=bass_program[0],
            ceiling_pitch=(min(scene_melody) - 1) if scene_melody else None,
        )
        pattern, *bass = result.tracks
        styles_by_scene[index].append(result.style)
        acc_tracks.setdefault(acc_program[0], []).extend(pattern.notes)
        for track in bass:
            bass_tracks.setdefault(bass_program[0], []).extend(track.notes)
        names[("acc", acc_program[0])] = acc_program[1]
        names[("bass", bass_program[0])] = bass_program[1]
        names[("melody", melody_program[0])] = melody_program[1]
    for n in melody:
        index = scene_of_bar[min(total_bars - 1, n.start_tick // BAR_TICKS)]
        scene = played.scenes[index]
        program = arrangement.instruments_for(scene.valence, scene.arousal)[0][0]
        melody_tracks.setdefault(program, []).append(n)

    tracks: list[Track] = []
    channels = iter(c for c in range(16) if c != DRUM_CHANNEL)
    for role, title, groups in (("melody", "Melody", melody_tracks), ("acc", "Accompaniment", acc_tracks), ("bass", "Bass", bass_tracks)):
        for program in sorted(groups, key=lambda p: min(n.start_tick for n in groups[p])):
            channel = next(channels)
            notes = [n.with_channel(channel) for n in groups[program]]
            tracks.append(Track(f"{title} · {names[(role, program)]}", program, channel, tuple(notes)))
    tempo_map = _tempo_map(played, base_bpm)
    project = Project(
        tracks=tuple(tracks),
        ticks_per_quarter=TICKS_PER_QUARTER,
        tempo_map=tempo_map,
        time_signatures=TimeSignatureMap([TimeSignatureChange(0, 4, 4)], TICKS_PER_QUARTER),
        title="Scored story",
        settings={"story": story.to_dict(), "scoring": {"seed": seed, "base_bpm": base_bpm}},
        mood_timeline=story.timeline(),
        markers=story.scene_markers(lambda bar: int(bar) * BAR_TICKS),
        chords=chord_track,
    )

    pitched = [n for t in tracks for n in t.notes]
    scenes: list[SceneScore] = []
    for i, scene in enumerate(played.scenes):
        start_tick, end_tick = starts[i] * BAR_TICKS, (starts[i] + scene.bars) * BAR_TICKS
        melody_program, acc_program, _ = arrangement.instruments_for(scene.valence, scene.arousal)
        scene_melody = [n for n in melody if start_tick <= n.start_tick < end_tick]
        tune = compute_attributes(scene_melody, TICKS_PER_QUARTER, start_tick=start_tick, end_tick=end_tick)
        texture = compute_attributes([n for n in pitched if start_tick <= n.start_tick < end_tick], TICKS_PER_QUARTER, start_tick=start_tick, end_tick=end_tick)
        back = read_back(melody, pitched, tempo_map, start_tick, end_tick, arrangement.BRIGHTNESS.get(melody_program[0], 0.0))
        attributes = {
            "melody_note_density": tune.note_density,
            "melody_pitch_mean": tune.pitch_mean,
            "melody_velocity_mean": tune.velocity_mean,
            "melody_articulation": tune.articulation,
            "major_strength": texture.major_strength,
            "consonance": texture.consonance,
            "velocity_mean": texture.velocity_mean,
            "tempo_bpm": back.measures["tempo_bpm"],
            "melody_notes": float(len(scene_melody)),
        }
        scenes.append(
            SceneScore(
                i, starts[i], starts[i] + scene.bars, start_tick, end_tick,
                tempo_map.tick_to_seconds(start_tick), tempo_map.tick_to_seconds(end_tick),
                scene_tempo_bpm(scene.mood, base_bpm), keys[i].name, melody_program[1], acc_program[1],
                tuple(dict.fromkeys(styles_by_scene[i])), tuple(c.name for c in chords[starts[i] : starts[i] + scene.bars]),
                seed + i * SCENE_SEED_STRIDE, attributes, back, scene.valence,
            )
        )
    return ScoredStory(story, project, tuple(scenes), tuple(tuple(m) for m in scene_melodies), seconds, seed, base_bpm, motif)


SCENE_SEED_STRIDE = 101  # scene i's melody is sampled with seed + i * this


def score_story(
    story: Story,
    *,
    seed: int = 0,
    motif: Iterable[Note] = (),
    base_bpm: float = BASE_TEMPO_BPM,
    progress: Progress | None = None,
    cancel: threading.Event | Callable[[], bool] | None = None,
    model=None,
    previous: ScoredStory | None = None,
    regenerate: Iterable[int] | None = None,
    scene_seeds: dict[int, int] | None = None,
    spread_valence: bool = True,
) -> ScoredStory:
    """Score ``story`` (see the module docstring). ``previous`` + ``regenerate``: keep the other scenes.

    ``progress(done, total, message)`` is called before each step; ``cancel`` (an Event or a callable)
    is checked between scenes and between sampling steps (raises ``ScoringCancelled``).
    """
    started = time.perf_counter()
    if not story.scenes:
        raise ValueError("the story has no scenes")
    motif = tuple(sorted(motif))
    keep = None
    if previous is not None:
        if [s.bars for s in previous.story.scenes] != [s.bars for s in story.scenes]:
            raise ValueError("scenes changed length: score the whole story again")
        keep = set(range(len(story.scenes))) - set(regenerate or ())
        motif = previous.motif
    total_steps = len(story.scenes) + 2
    report = progress or (lambda done, total, message: None)
    report(0, total_steps, "loading the generator")
    if model is None:
        from composer_app.generation.registry import DEFAULT_GENERATOR, load_generator

        model = load_generator(DEFAULT_GENERATOR)
    played = music_story(story) if spread_valence else story
    timeline = played.timeline()
    melody: list[Note] = []
    keys = []
    scene_melodies: list[list[Note]] = []
    for i, (start_bar, scene) in enumerate(zip(played.scene_start_bars(), played.scenes)):
        _check_cancel(cancel)
        scene_seed = (scene_seeds or {}).get(i, seed + i * SCENE_SEED_STRIDE)
        if keep is not None and i in keep:
            notes = list(previous.scene_melodies[i])
            key = _key_named(previous.scenes[i].key)
        else:
            report(1 + i, total_steps, f"scene {i + 1} of {len(story.scenes)}: {scene.emotion}")
            notes, key = _generate_scene_melody(melody, scene, start_bar, scene_seed, motif, model, cancel, timeline)
        scene_melodies.append(notes)
        keys.append(key)
        melody.extend(notes)
    _check_cancel(cancel)
    report(total_steps - 1, total_steps, "arranging")
    boundaries = [b * BAR_TICKS for b in story.scene_start_bars()[1:]]
    melody = bridge_silences(melody, boundaries, int(MAX_SILENCE_BEATS * TICKS_PER_QUARTER))
    result = _arrange(story, played, melody, keys, base_bpm, seed, scene_melodies, motif, 0.0)
    if scene_seeds or keep is not None:
        seeds = {i: (scene_seeds or {}).get(i, previous.scenes[i].seed if keep is not None and i in keep else seed + i * SCENE_SEED_STRIDE) for i in range(len(story.scenes))}
        result = replace(result, scenes=tuple(replace(s, seed=seeds[s.index]) for s in result.scenes))
    report(total_steps, total_steps, "done")
    return replace(result, seconds=time.perf_counter() - started)


def rescore_scene(previous: ScoredStory, index: int, seed: int, story: Story | None = None, **kwargs) -> ScoredStory:
    """Regenerate scene ``index``'s melody with ``seed``, keeping every other scene's melody."""
    story = story or previous.story
    if not 0 <= index < len(story.scenes):
        raise ValueError(f"scene must be in range 1..{len(story.scenes)}")
    return score_story(
        story, seed=previous.seed, base_bpm=previous.base_bpm, previous=previous, regenerate={index},
        scene_seeds={index: seed}, **kwargs,
    )


def _key_named(name: str) -> Key:
    return Key.parse(name)
