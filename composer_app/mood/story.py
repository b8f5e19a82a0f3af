"""A story: text split into scenes, each with an emotion, valence/arousal, the words that led there and
a length in bars; the scenes make the mood timeline.

Splitting: a line holding only a scene break (``---``, ``***``, ``* * *``, ``#``, or a Markdown
heading) separates scenes; without any such line, every paragraph (text between blank lines) is a
scene. Each scene is read by the story reader (``mood.story_reader``: situations, not only emotion
words) and named after the nearest preset ("sad", "tender"...). Its length comes from reading time
(``READING_WORDS_PER_SECOND``) at the scene's tempo, unless set by hand.

Everything here is a plain immutable value; ``Story.to_dict``/``from_dict`` are what a project
stores in ``settings["story"]`` (bounded when read back).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Callable

from composer_app.core.mood_timeline import MoodPoint, MoodTimeline
from composer_app.core.project import Marker
from composer_app.mood.mood import Mood, nearest_preset
from composer_app.mood.targets import targets_for

MAX_STORY_CHARS = 200_000  # about a novella's chapter; longer texts are refused
MAX_SCENES = 200
MIN_SCENE_BARS, MAX_SCENE_BARS = 1, 64
READING_WORDS_PER_SECOND = 3.5  # ~210 words a minute, a relaxed silent-reading pace
BASE_TEMPO_BPM = 96.0  # the story's tempo at the neutral mood; each scene scales it by its mood
BEATS_PER_BAR = 4
AUTO_BARS_RANGE = (2, 16)  # reading-time lengths are kept in this range
TRANSITION_BARS = 1.0  # a scene's mood blends in over this many bars from the previous one
SCENE_MARKER_PREFIX = "Scene "  # project markers named like this belong to the story (replaced on each read)

_BREAK_LINE = re.compile(r"^\s*(?:-{3,}|\*{3,}|(?:\*\s*){3,}|#+(?:\s.*)?|_{3,})\s*$")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)*")


class StoryError(ValueError):
    """The text cannot be made into a story (empty, too long...): one line saying why."""


@dataclass(frozen=True, slots=True)
class Scene:
    """One scene: its span of the story text, what was read from it and what is used.

    ``valence``/``arousal``/``emotion`` are what the music follows (the reading, or the user's
    choice when ``mood_by_hand``); ``read_valence``/``read_arousal`` keep the reading.
    ``evidence``: the words that drove the reading, strongest first.
    """

    start_char: int
    end_char: int
    text: str
    sentences: tuple[str, ...]
    valence: float
    arousal: float
    emotion: str
    evidence: tuple[str, ...]
    bars: int
    read_valence: float
    read_arousal: float
    explanation: str = ""
    mood_by_hand: bool = False
    bars_by_hand: bool = False

    def __post_init__(self) -> None:
        Mood(self.valence, self.arousal)  # validates both
        if not isinstance(self.bars, int) or isinstance(self.bars, bool):
            raise TypeError("bars must be an int")
        if not MIN_SCENE_BARS <= self.bars <= MAX_SCENE_BARS:
            raise ValueError(f"bars must be in range {MIN_SCENE_BARS}..{MAX_SCENE_BARS}")

    @property
    def mood(self) -> Mood:
        return Mood(self.valence, self.arousal)

    @property
    def words(self) -> int:
        return len(_WORD.findall(self.text))

    def with_mood(self, mood: Mood, emotion: str | None = None) -> Scene:
        """The scene set by hand to ``mood`` (named ``emotion``, else after the nearest preset)."""
        return replace(
            self, valence=mood.valence, arousal=mood.arousal,
            emotion=emotion or nearest_preset(mood).name, mood_by_hand=True,
        )

    def with_bars(self, bars: int) -> Scene:
        return replace(self, bars=bars, bars_by_hand=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_char": self.start_char, "end_char": self.end_char,
            "valence": round(self.valence, 4), "arousal": round(self.arousal, 4), "emotion": self.emotion,
            "evidence": list(self.evidence), "bars": self.bars,
            "read_valence": round(self.read_valence, 4), "read_arousal": round(self.read_arousal, 4),
            "explanation": self.explanation, "mood_by_hand": self.mood_by_hand, "bars_by_hand": self.bars_by_hand,
        }


@dataclass(frozen=True, slots=True)
class Story:
    """The text and its scenes, in order."""

    text: str
    scenes: tuple[Scene, ...]

    @property
    def total_bars(self) -> int:
        return sum(s.bars for s in self.scenes)

    def scene_start_bars(self) -> list[int]:
        """The bar (0-based) at which each scene starts."""
        starts, bar = [], 0
        for scene in self.scenes:
            starts.append(bar)
            bar += scene.bars
        return starts

    def timeline(self, transition_bars: float = TRANSITION_BARS) -> MoodTimeline:
        """One point per scene at its first bar, labelled with its emotion, blending in."""
        return MoodTimeline(
            tuple(
                MoodPoint(float(start), scene.valence, scene.arousal, 0.0 if i == 0 else transition_bars, scene.emotion)
                for i, (start, scene) in enumerate(zip(self.scene_start_bars(), self.scenes))
            )
        )

    def scene_markers(self, bar_to_tick: Callable[[float], int]) -> tuple[Marker, ...]:
        """One marker per scene at its first bar ("Scene 2: sad"); ``bar_to_tick`` maps bars to ticks."""
        return tuple(
            Marker(bar_to_tick(start), f"{SCENE_MARKER_PREFIX}{i + 1}: {scene.emotion}")
            for i, (start, scene) in enumerate(zip(self.scene_start_bars(), self.scenes))
        )

    def with_scene(self, index: int, scene: Scene) -> Story:
        scenes = list(self.scenes)
        scenes[index] = scene
        return replace(self, scenes=tuple(scenes))

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "scenes": [s.to_dict() for s in self.scenes]}

    @classmethod
    def from_dict(cls, value: Any) -> Story:
        """Rebuild a stored story; raises ``ValueError``/``TypeError`` naming the field at fault."""
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            raise ValueError("story must be an object with a text")
        text = value["text"]
        if len(text) > MAX_STORY_CHARS:
            raise ValueError(f"story text must be at most {MAX_STORY_CHARS} characters")
        rows = value.get("scenes")
        if not isinstance(rows, list) or len(rows) > MAX_SCENES:
            raise ValueError(f"story scenes must be a list of at most {MAX_SCENES}")
        scenes = []
        for i, row in enumerate(rows):
            try:
                start, end = int(row["start_char"]), int(row["end_char"])
                if not 0 <= start <= end <= len(text):
                    raise ValueError("text span out of range")
                scene_text = text[start:end]
                scenes.append(
                    Scene(
                        start, end, scene_text, tuple(split_sentences(scene_text)),
                        float(row["valence"]), float(row["arousal"]), str(row["emotion"])[:40],
                        tuple(str(w)[:40] for w in row.get("evidence", [])[:8]), int(row["bars"]),
                        float(row.get("read_valence", row["valence"])), float(row.get("read_arousal", row["arousal"])),
                        str(row.get("explanation", ""))[:300], bool(row.get("mood_by_hand", False)),
                        bool(row.get("bars_by_hand", False)),
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"scenes[{i}]: {error}") from None
        return cls(text, tuple(scenes))


def split_scenes(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the scenes of ``text`` (trimmed, empty ones dropped)."""
    lines = text.splitlines(keepends=True)
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line)
    has_breaks = any(_BREAK_LINE.match(line) for line in lines)
    spans: list[tuple[int, int]] = []
    start = None
    for offset, line in zip(offsets, lines):
        is_break = bool(_BREAK_LINE.match(line)) if has_breaks else not line.strip()
        if is_break:
            if start is not None:
                spans.append((start, offset))
                start = None
        elif start is None and line.strip():
            start = offset
    if start is not None:
        spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        chunk = text[s:e]
        s2 = s + (len(chunk) - len(chunk.lstrip()))
        e2 = e - (len(chunk) - len(chunk.rstrip()))
        if e2 > s2 and _WORD.search(text[s2:e2]):
            trimmed.append((s2, e2))
    return trimmed


def split_sentences(text: str) -> list[str]:
    from composer_app.mood.story_reader import split_sentences as split

    return split(" ".join(text.split()))


def scene_tempo_bpm(mood: Mood, base_bpm: float = BASE_TEMPO_BPM) -> float:
    """The scene's tempo: the base tempo times the mood table's tempo factor."""
    return base_bpm * (targets_for(mood).tempo_bpm_factor or 1.0)


def reading_bars(words: int, mood: Mood, base_bpm: float = BASE_TEMPO_BPM) -> int:
    """How many bars the scene lasts if the music takes as long as reading it (kept in ``AUTO_BARS_RANGE``)."""
    seconds = words / READING_WORDS_PER_SECOND
    bar_seconds = BEATS_PER_BAR * 60.0 / scene_tempo_bpm(mood, base_bpm)
    low, high = AUTO_BARS_RANGE
    return int(min(high, max(low, math.ceil(seconds / bar_seconds))))


def read_story(
    text: str,
    read: Callable[[str], Any] | None = None,
    bars_per_scene: int | None = None,
    base_bpm: float = BASE_TEMPO_BPM,
) -> Story:
    """Split ``text`` into scenes and read each one.

    ``read(text) -> MoodReading`` defaults to the story reader. ``bars_per_scene`` fixes every scene's
    length (else reading time). Raises ``StoryError`` for a text with no words, too long, or with
    more than ``MAX_SCENES`` scenes.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    if len(text) > MAX_STORY_CHARS:
        raise StoryError(f"the story is too long ({len(text)} characters; at most {MAX_STORY_CHARS})")
    if bars_per_scene is not None and not MIN_SCENE_BARS <= bars_per_scene <= MAX_SCENE_BARS:
        raise StoryError(f"bars per scene must be in range {MIN_SCENE_BARS}..{MAX_SCENE_BARS}")
    spans = split_scenes(text)
    if not spans:
        raise StoryError("the story has no words to read")
    if len(spans) > MAX_SCENES:
        raise StoryError(f"the story has {len(spans)} scenes; at most {MAX_SCENES}")
    if read is None:
        from composer_app.mood.story_reader import read_story_mood as read
    scenes = []
    for start, end in spans:
        scene_text = text[start:end]
        reading = read(scene_text)
        mood = Mood(round(reading.mood.valence, 4), round(reading.mood.arousal, 4))  # as stored in a project
        emotion = nearest_preset(mood).name
        words = len(_WORD.findall(scene_text))
        bars = bars_per_scene if bars_per_scene is not None else reading_bars(words, mood, base_bpm)
        scenes.append(
            Scene(
                start, end, scene_text, tuple(split_sentences(scene_text)), mood.valence, mood.arousal, emotion,
                tuple(e.word for e in reading.evidence), bars, mood.valence, mood.arousal,
                reading.explanation.replace(f"read as {reading.emotion_label}", f"read as {emotion}", 1),
                False, bars_per_scene is not None,
            )
        )
    return Story(text, tuple(scenes))
