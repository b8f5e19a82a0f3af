"""The per-bar plan: a prompt and per-bar moods -> what every generated bar must be (torch-free).

Computed once per request (``make_plan``) and handed to every generator, so that the Transformer,
the LSTM, the GAN and later generators all answer the same targets in the same way:

1. **The prompt** (``analyse_prompt``): its notes on the token grid, the bar line after its last
   onset (where the continuation starts, in the meter and tempo in force there), its key
   (Krumhansl-Kessler, as for the training tokens), its number of voices, register, recent density.
2. **Per bar** (``plan_bar``), from that bar's attribute targets (a mood through the mood table, or
   targets given directly; a story's mood timeline gives one per bar):
   * key and mode (``generation.keys``): the prompt's modal key, from the whole prompt and the file's
     key signature when it has one (a dorian tune stays dorian); the valence target moves its 3rd,
     6th and 7th toward major or minor in proportion to ``major_strength``; the tonic is kept (a sad
     setting turns C major into C minor, not into A minor);
   * note density (arousal): the target for one line times the prompt's number of voices -> a bin;
   * register (valence, arousal): the prompt's mean pitch shifted by the target's distance from the
     table's neutral register -> a bin;
   * a pitch-class bias (``keys.plan_key``): soft (1 logit outside the scale at the neutral mood, so
     real chromatic notes survive), the contradicting 3rd/6th/7th penalised more as |valence| grows,
     degree weights toward the target mode;
   * velocity and articulation, applied when the generated notes are rendered (the corpus has no
     dynamics: ``render_candidate``).
3. **Chords** (``chords=``, a chord track in the prompt's ticks): where it covers a generated bar,
   that bar's pitch-class bias adds ``CHORD_TONE_BIAS`` times each chord's share of the bar to the
   chord's pitch classes (lifting the key penalty from them: a D7 in C major makes F# right), and
   ranking prefers candidates whose melody sounds chord tones on the strong beats at least at
   ``CHORD_TONE_RATE_TARGET`` (the rate of real melodies over their chords).
4. **Ranking** (``target_distance``): a generator may sample several and keep the one closest to
   the targets (mode strength, density, pitch-class variety, repeated notes, chord tones).
5. **Restatement** (``phrase``, ``Heuristics.restatement``): the plan keeps the prompt's bars so that
   each sample can draw its own phrase plan (``phrase.draw``): which generated bars copy an earlier
   bar (moved into the bar's planned mode) or keep its rhythm, at the rates of the training tunes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from composer_app.core.attributes import compute_attributes
from composer_app.core.clip import Clip
from composer_app.core.note import Note
from composer_app.core.theory import MODE_INTERVALS, Key
from composer_app.core.timing import TempoChange, TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.generation import keys
from composer_app.generation import tokenizer as tk
from composer_app.generation.candidate import Candidate

NEUTRAL_PITCH_MEAN = 69.0  # the mood table's register at the neutral mood (mood.targets)
# Key/mode guidance (scale and mode penalties, degree weights): generation/keys.py.
DEFAULT_VELOCITY = 80  # without a mood or a velocity target (and a prompt without dynamics)
ACCENT_DOWNBEAT, ACCENT_BEAT, ACCENT_OFFBEAT = 6, 2, -2  # velocity accents before re-centring on the target
PITCH_RANGE_MARGIN = 12  # candidates stay within the prompt's range widened by this many semitones
RANK_SCALE_MAJOR_STRENGTH = 0.15  # ranking: this much mode-strength error ...
RANK_SCALE_DENSITY_OCTAVES = 0.5  # ... weighs as much as this many octaves of note-density error
RANK_MIN_PITCH_CLASS_BITS = 1.8  # ranking: candidates with a flatter pitch-class histogram than this ...
RANK_SCALE_PITCH_CLASS_BITS = 0.5  # ... lose one unit per this many bits below it (folk tunes: ~2.2)
RANK_FREE_REPEAT_SHARE = 0.15  # ranking: a tune repeating more of its notes than this (or than its prompt) ...
RANK_SCALE_REPEAT_SHARE = 0.1  # ... loses one unit per this share of extra repeats
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor plus the leading tone (harmonic minor)
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
KEY_CONSTRAINTS = ("auto", "strict", "none")
CHORD_TONE_BIAS = 2.0  # logits added to a bar's chord tones (times the chord's share of the bar)
CHORD_TONE_RATE_TARGET = 0.9  # ranking: strong-beat chord-tone rate a melody should reach over chords ...
RANK_SCALE_CHORD_TONES = 0.1  # ... losing one unit per this share below it


INTERVAL_BINS = (-7.5, -4.5, -2.5, -0.5, 0.5, 2.5, 4.5, 7.5)  # down > 7, 5..7, 3..4, 1..2, unison, up 1..2, 3..4, 5..7, > 7
# Logits per bin, calibrated in two rounds on the dev split's folk tunes (the log ratio of the tunes' interval
# shares to the continuations', bench/results/realism_ablation-lead*-dev.md): without it the small model leaps by
# thirds (14 % of intervals up, 14 % down, against 9 / 10 %), steps less and repeats a note less than the tunes.
INTERVAL_BIAS = (-0.4, -0.35, -0.4, 0.2, 0.3, -0.05, -0.55, -0.25, -0.3)
NO_INTERVAL_BIAS = (0.0,) * (len(INTERVAL_BINS) + 1)  # the interval bias switched off


@dataclass(frozen=True)
class Heuristics:
    """The sampling heuristics a plan asks for, each with its switch (0 / False = off).

    Each is kept only where an ablation shows it helps realism and control together (the rows are
    in models/transformer.md; bench/realism_ablation.py and bench/mood_sweep.py measure them).
    """

    frequency_penalty: float = 1.0  # logits off a pitch per time it sounded among the last frequency_window notes (0.5: a tonic drone when sad)
    frequency_window: int = 8
    frequency_free: int = 0  # times a pitch may sound among those notes before the penalty counts
    interval_bias: tuple = INTERVAL_BIAS  # logits per interval bin (INTERVAL_BINS) from the tune's last pitch (all 0: off)
    frequency_keeps_key: bool = True  # the frequency penalty moves probability among in-key pitches only (not to chromatic ones)
    frequency_keeps_notated_key: bool = False  # the same where the file's key signature is known (off: too clean there, see the card)
    repeat_penalty: float = 1.0  # logits off the tune's pitch per strike beyond 2 in a row
    scale_penalty: float = keys.SCALE_PENALTY  # logits off pitch classes outside the target scale
    scale_penalty_notated_key: float = keys.SCALE_PENALTY_NOTATED_KEY  # the same when the file's key signature is known
    mode_penalty: float = keys.MODE_PENALTY  # logits off the contradicting 3rd/6th/7th at full valence
    mode_guidance: float = keys.MODE_GUIDANCE  # strength of the degree weights toward the target mode
    ranking: bool = True  # each candidate the best of several samples, ranked against the targets
    restatement: float = 1.0  # how often a bar restates an earlier one, times the training tunes' rate (0: never; phrase.py)
    restatement_kinds: tuple = ("copy", "rhythm")  # exact copies, and kept rhythms with new pitches
    cadence: float = 0.0  # logits toward the tonic and the fifth in the second half of the last bar (0: off)


@dataclass(frozen=True)
class PromptFacts:
    """What the plan needs to know about the prompt (``analyse_prompt``)."""

    grid_notes: np.ndarray  # (n, 3) start, duration, pitch on the token grid
    tokens: list[int]  # the prompt's tokens (the most recent bars within the budget), from BOS
    start_tick: int  # the bar line after the last onset, in the prompt's ticks
    numerator: int
    denominator: int
    key_index: int  # 2 * tonic + minor (Krumhansl-Kessler, as the training tokens' KEY controls)
    voices: float  # mean notes per onset
    pitch_mean: float  # of the last (up to) 4 bars
    recent_density: float  # notes per quarter over the last (up to) 4 bars
    pitch_low: int
    pitch_high: int
    repeat_share: float  # share of the tune's notes (top note per onset) that repeat the one before
    velocity: float | None  # the prompt's mean velocity, when it has dynamics
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(12))  # duration-weighted pitch classes
    key_signature: int | None = None  # the file's key signature (sharps > 0, flats < 0), None: none
    bar_notes: tuple = ()  # per prompt bar: (n, 3) grid notes, starts within the bar (the phrase plan's sources)
    bar_length: int = 0  # grid ticks of a bar in the continuation's meter


@dataclass(frozen=True)
class BarTarget:
    """Everything decided for one bar to generate."""

    targets: object | None  # the bar's AttributeTargets (None: no mood, follow the prompt)
    controls: tk.BarControls  # key, density bin, register bin (the Transformer/LSTM bar header)
    key: Key
    minorness: float  # 0 major .. 1 minor (a modal mixture in between)
    density: float  # notes per quarter for the whole texture (target x voices, or the prompt's)
    register: float  # target mean pitch
    pitch_class_bias: np.ndarray  # (12,) logits added per pitch class (-inf: forbidden)
    velocity: int
    articulation: float | None  # 0 staccato .. 1 legato; None: as generated
    cadence_bias: np.ndarray | None = None  # (12,) logits per pitch class in the bar's second half (the closing bar)


@dataclass(frozen=True)
class Plan:
    """The per-bar plan of one request (exposed for tests and the evaluation)."""

    prompt_tokens: list[int]
    bars: tuple[BarTarget, ...]
    start_tick: int  # where the continuation starts, in the prompt's ticks
    numerator: int
    denominator: int
    voices: float
    pitch_low: int  # candidates stay within this range
    pitch_high: int
    key_constraint: object = "auto"
    prompt_repeat_share: float = 0.0
    chords: object = None  # ChordTrack in candidate ticks (0 = the continuation's start) or None
    heuristics: Heuristics = Heuristics()
    phrase: object = None  # phrase.PhraseContext: the prompt's bars a generated bar may restate (None: no restatement)
    key_signature: int | None = None  # the file's key signature (sharps > 0, flats < 0) when the request gave one

    @property
    def key(self) -> Key:
        """The key of the first generated bar (what a candidate reports)."""
        return self.bars[0].key

    @property
    def bar_grid_length(self) -> int:
        return tk.bar_grid_length(self.numerator, self.denominator)

    @property
    def target_major_strength(self) -> float | None:
        """Mean mode-strength target over the bars that have one (what candidates are ranked against)."""
        values = [b.targets.major_strength for b in self.bars if b.targets is not None and b.targets.major_strength is not None]
        return float(np.mean(values)) if values else None

    @property
    def target_density(self) -> float | None:
        """Mean density target (notes per quarter, scaled by the prompt's voices), None without targets."""
        values = [b.density for b in self.bars if b.targets is not None and b.targets.note_density is not None]
        return float(np.mean(values)) if values else None

    # Kept for callers of the single-mood plan.
    @property
    def velocity(self) -> int:
        return self.bars[0].velocity

    @property
    def articulation(self) -> float | None:
        return self.bars[0].articulation


def bar_targets_for(moods: Sequence | None, bars: int, overrides=None) -> tuple:
    """Per-bar AttributeTargets from per-bar moods (one mood = every bar; none = no targets).

    ``overrides`` (the advanced sliders: a mapping of attribute -> value) apply to every bar.
    """
    from composer_app.mood.targets import targets_for

    moods = tuple(moods or ())
    if not moods:
        return (None,) * bars
    if len(moods) not in (1, bars):
        raise ValueError(f"moods must hold 1 or {bars} values (one per bar)")
    per_bar = moods * bars if len(moods) == 1 else moods
    return tuple(targets_for(m, overrides) for m in per_bar)


def analyse_prompt(prompt: Clip, prompt_tokens_max: int = 128, phrase_bars: int = 0, key_signature: int | None = None) -> PromptFacts:
    """Where the continuation starts, the prompt's tokens, key, voices, register and density.

    ``phrase_bars`` (a model with a bar-in-phrase embedding): a prompt cut to the token budget
    starts at bar 0, phrase_bars, 2 * phrase_bars, ... so that the model counts its bars right.
    ``key_signature``: the file's, when it has one (see ``keys``).
    """
    tpq = prompt.ticks_per_quarter
    rows = np.array([(n.start_tick, n.duration_ticks, n.pitch) for n in prompt.notes], dtype=np.int64).reshape(-1, 3)
    grid_notes = tk.to_grid(rows, tpq)
    velocities = np.array([n.velocity for n in prompt.notes], dtype=np.int64)
    ts_map = prompt.time_signatures
    start_tick = ts_map.next_bar_tick(max(n.start_tick for n in prompt.notes) + 1) if prompt.notes else 0
    signature = ts_map.change_at(start_tick)
    numerator, denominator = signature.numerator, signature.denominator
    try:
        tk.time_signature_index(numerator, denominator)
    except ValueError:
        raise ValueError(f"the prompt's time signature {numerator}/{denominator} is not supported") from None
    scale = tk.GRID_TICKS_PER_QUARTER / tpq
    grid_signatures = [
        (int(round(c.tick * scale)), c.numerator, c.denominator) for c in ts_map.changes if c.tick < start_tick
    ] or [(0, numerator, denominator)]
    start_grid = int(round(start_tick * scale))
    prompt_bars = [b for b in tk.bar_lines(grid_signatures, max(start_grid, 1)) if b[0] < start_grid]
    velocity = float(np.mean(velocities)) if len(velocities) and len(set(velocities.tolist())) > 1 else None
    if not grid_notes.size:
        return PromptFacts(
            grid_notes, [tk.BOS], start_tick, numerator, denominator, 0, 1.0, 67.0, 1.5, 60, 76, 0.0, velocity,
            key_signature=key_signature,
        )
    tokens, bar_index = tk.notes_to_tokens(grid_notes, grid_signatures, n_bars=len(prompt_bars), bos=True, eos=False)
    if len(tokens) > prompt_tokens_max:  # keep the most recent bars within the budget, cut at a bar line
        starts = [i for k, i in enumerate(bar_index) if phrase_bars <= 0 or k % phrase_bars == 0]
        cut = next((i for i in starts if len(tokens) - i <= prompt_tokens_max), starts[-1])
        tokens = tokens[cut:]
    onsets = len(np.unique(grid_notes[:, 0]))
    bar_notes = []
    for bar_start, bar_len, _, _ in prompt_bars:
        inside = grid_notes[(grid_notes[:, 0] >= bar_start) & (grid_notes[:, 0] < bar_start + bar_len)].copy()
        inside[:, 0] -= bar_start
        bar_notes.append(inside)
    recent_start = prompt_bars[-4:][0][0] if prompt_bars else 0  # the last (up to) 4 bars
    recent = grid_notes[grid_notes[:, 0] >= recent_start]
    return PromptFacts(
        grid_notes, tokens, start_tick, numerator, denominator,
        key_index=tk.estimate_key_index(grid_notes),
        voices=max(1.0, len(grid_notes) / max(onsets, 1)),
        pitch_mean=float(recent[:, 2].mean()) if len(recent) else float(grid_notes[:, 2].mean()),
        recent_density=len(recent) / max(1.0, (start_grid - recent_start) / tk.GRID_TICKS_PER_QUARTER),
        pitch_low=int(grid_notes[:, 2].min()),
        pitch_high=int(grid_notes[:, 2].max()),
        repeat_share=repeat_share(recent[:, 0], recent[:, 2]),
        velocity=velocity,
        histogram=np.bincount(
            grid_notes[:, 2] % 12, weights=np.minimum(grid_notes[:, 1], 2 * tk.GRID_TICKS_PER_QUARTER), minlength=12
        ),
        key_signature=key_signature,
        bar_notes=tuple(bar_notes),
        bar_length=tk.bar_grid_length(numerator, denominator),
    )


def _scale_bias(key_constraint) -> np.ndarray | None:
    """-inf outside a given Key's scale (None: no hard scale)."""
    if not isinstance(key_constraint, Key):
        return None
    bias = np.zeros(12, dtype=np.float32)
    bias[[pc not in key_constraint.pitch_classes for pc in range(12)]] = -np.inf
    return bias


def plan_bar(facts: PromptFacts, targets, key_constraint="auto", heuristics: Heuristics = Heuristics()) -> BarTarget:
    """The key, controls, pitch-class bias, velocity and articulation of one bar from its targets."""
    get = (lambda name: getattr(targets, name, None)) if targets is not None else (lambda name: None)
    major_strength = get("major_strength")
    scale_penalty = heuristics.scale_penalty if facts.key_signature is None else heuristics.scale_penalty_notated_key
    key_plan = keys.plan_key(
        facts.histogram, major_strength, facts.key_signature, scale_penalty, heuristics.mode_penalty, heuristics.mode_guidance,
    )
    key, key_index = key_plan.key, key_plan.key_index
    minorness = 1.0 - key_plan.majorness[0]  # the third decides major or minor
    if key_constraint == "strict":
        bias = np.zeros(12, dtype=np.float32)
        bias[[pc not in key.pitch_classes for pc in range(12)]] = -np.inf
    elif key_constraint == "auto":
        bias = key_plan.pitch_class_bias
    else:
        bias = np.zeros(12, dtype=np.float32)
    if isinstance(key_constraint, Key):
        key, bias = key_constraint, _scale_bias(key_constraint)
        key_index = 2 * key_constraint.tonic_pc + (1 if 3 in MODE_INTERVALS[key_constraint.mode] else 0)
    density = get("note_density") * facts.voices if get("note_density") is not None else facts.recent_density
    register = facts.pitch_mean + (get("pitch_mean") - NEUTRAL_PITCH_MEAN if get("pitch_mean") is not None else 0.0)
    velocity = get("velocity_mean")
    if velocity is None:
        velocity = facts.velocity if facts.velocity is not None else DEFAULT_VELOCITY
    return BarTarget(
        targets=targets,
        controls=tk.BarControls(key_index, tk.density_bin(density), tk.register_bin(register)),
        key=key,
        minorness=float(minorness),
        density=float(density),
        register=float(register),
        pitch_class_bias=bias,
        velocity=int(round(velocity)),
        articulation=get("articulation"),
    )


def make_plan(
    prompt: Clip, bars: int, targets=None, key_constraint="auto", prompt_tokens_max: int = 128,
    chords=None, heuristics: Heuristics | None = None, phrase_bars: int = 0, key_signature: int | None = None,
) -> Plan:
    """The plan for ``bars`` bars after ``prompt``; ``targets``: one AttributeTargets (every bar),
    a sequence of one per bar (a mood timeline), or None (no mood: follow the prompt); ``chords``:
    a ``ChordTrack`` in the prompt's ticks that the continuation should follow where it covers it.
    ``heuristics``: the sampling heuristics' switches; ``phrase_bars``: see ``analyse_prompt``;
    ``key_signature``: the file's (sharps > 0, flats < 0), when it has one."""
    if not (key_constraint in KEY_CONSTRAINTS or key_constraint in (None, False) or isinstance(key_constraint, Key)):
        raise ValueError("key_constraint must be 'auto', 'strict', 'none' or a Key")
    if not isinstance(bars, int) or bars < 1:
        raise ValueError("bars must be >= 1")
    per_bar = tuple(targets) if isinstance(targets, (list, tuple)) else (targets,) * bars
    if len(per_bar) != bars:
        raise ValueError(f"targets must hold one value per bar ({bars}), got {len(per_bar)}")
    heuristics = heuristics or Heuristics()
    facts = analyse_prompt(prompt, prompt_tokens_max, phrase_bars, key_signature)
    bar_targets = tuple(plan_bar(facts, t, key_constraint, heuristics) for t in per_bar)
    if heuristics.cadence:
        from dataclasses import replace

        last = bar_targets[-1]
        bias = np.zeros(12, dtype=np.float32)
        bias[[last.key.tonic_pc, (last.key.tonic_pc + 7) % 12]] = heuristics.cadence
        bar_targets = bar_targets[:-1] + (replace(last, cadence_bias=bias),)
    shifts = [int(round(b.register - facts.pitch_mean)) for b in bar_targets]
    low = max(tk.PITCH_MIN, facts.pitch_low + min(0, min(shifts)) - PITCH_RANGE_MARGIN)
    high = min(tk.PITCH_MAX, facts.pitch_high + max(0, max(shifts)) + PITCH_RANGE_MARGIN)
    plan = Plan(
        facts.tokens, bar_targets, facts.start_tick, facts.numerator, facts.denominator, facts.voices,
        low, high, key_constraint, facts.repeat_share, heuristics=heuristics,
        phrase=phrase_context(facts) if heuristics.restatement > 0 else None, key_signature=facts.key_signature,
    )
    return with_chords(plan, chords, prompt.ticks_per_quarter) if chords else plan


def phrase_context(facts: PromptFacts):
    """The prompt's bars as the phrase plan's sources (``phrase.PhraseContext``); None without bars."""
    from composer_app.generation import phrase

    if not facts.bar_notes or not facts.bar_length:
        return None
    densities = tuple(
        tk.density_bin(len(notes) / (facts.bar_length / tk.GRID_TICKS_PER_QUARTER)) for notes in facts.bar_notes
    )
    return phrase.PhraseContext(
        facts.bar_notes, facts.bar_length, phrase.pickup_origin(facts.bar_notes[0], facts.bar_length),
        keys.prompt_key(facts.histogram, facts.key_signature), densities,
    )


def with_chords(plan: Plan, chords, ticks_per_quarter: int) -> Plan:
    """The plan following ``chords`` (prompt ticks): chord-tone bias per bar, chords kept for ranking."""
    from dataclasses import replace

    relative = chords.shifted(-plan.start_tick)
    bar_ticks = round(plan.bar_grid_length * ticks_per_quarter / tk.GRID_TICKS_PER_QUARTER)
    bars = []
    for index, bar in enumerate(plan.bars):
        start, end = index * bar_ticks, (index + 1) * bar_ticks
        share = np.zeros(12)
        for event in relative.between(start, end):
            overlap = (min(end, event.end_tick) - max(start, event.start_tick)) / bar_ticks
            for pc in event.chord.pitch_classes:
                share[pc] += overlap
        if not share.any():
            bars.append(bar)
            continue
        bias = np.array(bar.pitch_class_bias, dtype=float)
        chord_pcs = (share > 0) & np.isfinite(bias)
        bias[chord_pcs] = np.maximum(bias[chord_pcs], 0.0) + CHORD_TONE_BIAS * share[chord_pcs]
        bars.append(replace(bar, pitch_class_bias=bias))
    covered = relative.between(0, bar_ticks * len(plan.bars))
    return replace(plan, bars=tuple(bars), chords=relative if covered else None)


# ----------------------------------------------------------------------------------------------
# From generated notes to a candidate, and ranking


def render_candidate(
    grid_notes: np.ndarray, plan: Plan, prompt: Clip, generator: str, seed: int, seconds: float,
    finished: bool = True, index: int = 0,
) -> Candidate:
    """Generated notes (n, 3: start, duration, pitch on the token grid, from the continuation's
    start) -> a Candidate in the prompt's ticks, with each bar's velocity and articulation."""
    tpq = prompt.ticks_per_quarter
    scale = tpq / tk.GRID_TICKS_PER_QUARTER
    bar_ticks = round(plan.bar_grid_length * scale)
    n_bars = len(plan.bars)
    length_ticks = bar_ticks * n_bars
    rows = np.asarray(grid_notes, dtype=np.int64).reshape(-1, 3)
    placed, accents = [], []
    for start, duration, pitch in rows:
        start_tick = int(round(start * scale))
        if start_tick >= length_ticks:
            continue
        bar = plan.bars[min(start_tick // bar_ticks, n_bars - 1)]
        duration_ticks = max(1, int(round(duration * scale)))
        if bar.articulation is not None and bar.articulation < 0.98:
            # Shorten toward the next onset's distance (how core.attributes measures articulation).
            later = rows[rows[:, 0] > start]
            ioi_ticks = int(round((later[:, 0].min() - start) * scale)) if len(later) else length_ticks - start_tick
            duration_ticks = max(1, min(duration_ticks, int(round(ioi_ticks * bar.articulation))))
        duration_ticks = min(duration_ticks, length_ticks - start_tick)
        in_bar = start_tick % bar_ticks
        accents.append(ACCENT_DOWNBEAT if in_bar == 0 else (ACCENT_BEAT if in_bar % tpq == 0 else ACCENT_OFFBEAT))
        placed.append((start_tick, int(pitch), duration_ticks, bar.velocity))
    # Light metric accents, shifted so that the mean velocity is each bar's target whatever the rhythm.
    offset = -float(np.mean(accents)) if accents else 0.0
    notes = sorted(
        Note(start_tick, pitch, duration_ticks, int(np.clip(round(velocity + accent + offset), 1, 127)))
        for (start_tick, pitch, duration_ticks, velocity), accent in zip(placed, accents)
    )
    tempo = prompt.tempo_map.change_at(plan.start_tick)
    tempo_map = TempoMap([TempoChange(0, tempo.microseconds_per_quarter)], tpq)
    ts_map = TimeSignatureMap([TimeSignatureChange(0, plan.numerator, plan.denominator)], tpq)
    attributes = compute_attributes(notes, tpq, start_tick=0, end_tick=length_ticks)
    return Candidate(
        tuple(notes), tpq, tempo_map, ts_map, plan.key, n_bars, length_ticks, generator, seed, attributes,
        seconds, finished, index,
    )


def target_distance(candidate: Candidate, plan: Plan) -> float:
    """How far a candidate's measured attributes are from the request's targets (0 = on target)."""
    distance = 0.0
    attributes = candidate.attributes
    target_mode = plan.target_major_strength
    if target_mode is not None:
        distance += abs(attributes.major_strength - target_mode) / RANK_SCALE_MAJOR_STRENGTH
    target_density = plan.target_density
    if target_density is not None:
        measured = max(attributes.note_density, 0.05)
        distance += abs(np.log2(measured / max(target_density, 0.05))) / RANK_SCALE_DENSITY_OCTAVES
    if not candidate.notes:
        return distance + 10.0  # an empty continuation is never the best suggestion
    # one circling on one or two pitch classes is a poor one, whatever its attributes
    counts = np.bincount([n.pitch % 12 for n in candidate.notes], minlength=12)
    p = counts[counts > 0] / counts.sum()
    entropy_bits = float(-(p * np.log2(p)).sum())
    distance += max(0.0, RANK_MIN_PITCH_CLASS_BITS - entropy_bits) / RANK_SCALE_PITCH_CLASS_BITS
    repeats = repeat_share([n.start_tick for n in candidate.notes], [n.pitch for n in candidate.notes])
    free = max(plan.prompt_repeat_share, RANK_FREE_REPEAT_SHARE)
    distance += max(0.0, repeats - free) / RANK_SCALE_REPEAT_SHARE
    if plan.chords is not None:
        from composer_app.arrange.suggest import chord_tone_rate

        rate, count = chord_tone_rate(candidate.notes, plan.chords, candidate.time_signatures)
        if count:
            distance += max(0.0, CHORD_TONE_RATE_TARGET - rate) / RANK_SCALE_CHORD_TONES
    return float(distance)


def has_targets(plan: Plan) -> bool:
    """Whether there is anything to rank samples against."""
    return plan.target_major_strength is not None or plan.target_density is not None or plan.chords is not None


def repeat_share(onsets, pitches) -> float:
    """Share of a tune's notes (the top note of each onset) that repeat the pitch of the one before."""
    top: dict[int, int] = {}
    for onset, pitch in zip(onsets, pitches):
        top[int(onset)] = max(top.get(int(onset), -1), int(pitch))
    tune = [top[k] for k in sorted(top)]
    if len(tune) < 2:
        return 0.0
    return float(np.mean(np.diff(tune) == 0))
