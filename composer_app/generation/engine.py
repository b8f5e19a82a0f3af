"""The engine: a prompt (clip or project) and a mood -> several candidate continuations.

``suggest`` is what the GUI (from a worker thread) and ``composer-app suggest`` call. Steps:

1. The prompt's notes go onto the token grid; the continuation starts at the bar line after the
   prompt's last onset, in the meter and tempo in force there.
2. The prompt's key is estimated (Krumhansl-Kessler, as for the training tokens).
3. The mood becomes attribute targets (``composer_app.mood.targets_for``, or ``targets`` given
   directly) and those become the forced header of every generated bar:
   * note density (arousal): the target in notes per beat for one line, times the prompt's
     number of voices (mean notes per onset), -> a density bin;
   * register (valence, arousal): the prompt's mean pitch shifted by the target's distance from
     the table's neutral register;
   * key (valence): the prompt's tonic, in major or minor as ``major_strength`` says (the parallel
     mode: a sad setting turns C major into C minor, not into A minor).
4. Mode steering while sampling, because a key token alone is learned only weakly: the
   continuation's *minorness* moves from the prompt's mode toward the target mode in proportion
   to the valence target; the other mode's 3rd, 6th and 7th get a logit penalty scaled by it (a
   modal mixture in between, so the measured mode strength is graded along the slider), pitches
   outside both scales get ``OUT_OF_KEY_PENALTY`` (forbidden with ``key_constraint="strict"``), and
   degree weights (``MAJOR_DEGREE_WEIGHTS``) draw the pitch-class histogram toward the target key.
5. The model samples all candidates in one batch, each the best of a small group of samples
   (``SAMPLE_BUDGET``): ranked by the distance of the measured attributes (mode strength, note
   density, pitch-class variety, share of repeated notes) to the targets. While sampling, a pitch
   loses ``FREQUENCY_PENALTY`` logits per time it sounded among the last ``FREQUENCY_WINDOW`` notes
   (and ``REPEAT_PENALTY`` per strike beyond two in a row): without it the small model circles on
   the tonic in sad, slow settings (4.3 distinct pitches per 16-note candidate, half of them on the
   tonic; with it 7.0 and a third, see models/transformer.md). Each is decoded, given velocities (dynamics come
   from the mood: the corpus has none) and articulation, measured with
   ``core.attributes.compute_attributes`` and handed to ``on_candidate`` as its group finishes.
   With ``on_candidate`` (the GUI), the first candidate's group is sampled alone and the rest in
   a second batch (``_chunk_sizes``), so the first arrives in about half the time; each sample's
   seed is the same either way, so the candidates are too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from composer_app.core.attributes import compute_attributes
from composer_app.core.note import Note
from composer_app.core.theory import Key
from composer_app.core.timing import TempoChange, TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.generation import sampling
from composer_app.generation.candidate import Candidate, Prompt
from composer_app.generation import tokenizer as tk
from composer_app.generation.registry import DEFAULT_GENERATOR, load_generator

MAX_BARS = 64  # a request may ask for at most this many bars
MAX_CANDIDATES = 16
PROMPT_SHARE_OF_CONTEXT = 0.5  # the prompt is cut (at a bar line) to this share of the model's context
MODE_THRESHOLD = 0.05  # |major_strength target| above this switches the generated bars' mode
NEUTRAL_PITCH_MEAN = 69.0  # the mood table's register at the neutral mood (mood.targets)
OUT_OF_KEY_PENALTY = 3.0  # logits subtracted from out-of-scale pitches with key_constraint="auto"
MODE_GUIDANCE = 1.0  # logits (times the degree weights below) at full guidance strength
MODE_GUIDANCE_FULL = 0.3  # the |major_strength| target at which mode guidance is at full strength
MODE_SWITCH_GAIN = 1.5  # the mode mixture tips fully at |target| = MODE_GUIDANCE_FULL / this (|valence| 2/3)
# Mode guidance: logit weights per scale degree of the target key, proportional to the log-ratio of
# the pitch-class histogram that maximises |major_strength| (found by random search over in-scale
# histograms against core.theory.key_correlations: major C .29 G .25 F .18 E .17 D .06 A .05 B .01;
# minor C .27 Eb .19 B .16 G .13 Ab .12 D .10 F .03 Bb .01) to a flat one, scaled by 0.7, clipped to
# +-1, the tonic then lowered (the model already favours it: sad candidates circled on the tonic).
# In words: tonic, 3rd and 5th up, and down the degrees that point to the relative key.
# Measured on early checkpoints: boosting the 3rd and 6th of both modes backfired (melodies crowded
# onto the 6th read as its key), and adding the whole z-scored profile crowded them onto the tonic.
MAJOR_DEGREE_WEIGHTS = {0: 0.3, 7: 0.4, 5: 0.15, 4: 0.2, 2: -0.4, 9: -0.7, 11: -0.8}
MINOR_DEGREE_WEIGHTS = {0: 0.3, 3: 0.4, 11: 0.2, 8: 0.1, 2: -0.1, 5: -0.6, 10: -0.8}
REPEAT_PENALTY = 1.0  # logits off the tune's pitch per strike beyond 2 in a row (the small model tolls)
FREQUENCY_PENALTY = 1.0  # logits off a pitch per time it sounds among the last FREQUENCY_WINDOW notes
FREQUENCY_WINDOW = 8
DEFAULT_VELOCITY = 80  # without a mood or a velocity target (and a prompt without dynamics)
ACCENT_DOWNBEAT, ACCENT_BEAT, ACCENT_OFFBEAT = 6, 2, -2  # velocity accents before re-centring on the target
PITCH_RANGE_MARGIN = 12  # candidates stay within the prompt's range widened by this many semitones
OVERSAMPLE_MAX = 4  # each candidate is the best of up to this many samples (ranked by the targets) ...
SAMPLE_BUDGET = 12  # ... within this many sequences per request (4 candidates -> best of 3; 8 -> 1)
STREAM_FIRST_FROM = 2  # with on_candidate, requests of this many candidates or more sample the first one alone
RANK_SCALE_MAJOR_STRENGTH = 0.15  # ranking: this much mode-strength error ...
RANK_SCALE_DENSITY_OCTAVES = 0.5  # ... weighs as much as this many octaves of note-density error
RANK_MIN_PITCH_CLASS_BITS = 1.8  # ranking: candidates with a flatter pitch-class histogram than this ...
RANK_SCALE_PITCH_CLASS_BITS = 0.5  # ... lose one unit per this many bits below it (folk tunes: ~2.2)
RANK_FREE_REPEAT_SHARE = 0.15  # ranking: a tune repeating more of its notes than this (or than its prompt) ...
RANK_SCALE_REPEAT_SHARE = 0.1  # ... loses one unit per this share of extra repeats
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor plus the leading tone (harmonic minor)
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)


class Cancelled(Exception):
    """The request was cancelled between two sampling steps."""


def prompt_from(clip_or_project, ticks_per_quarter: int | None = None) -> Prompt:
    """A Project (its audible, non-drum tracks), a Track, a Prompt, or notes (+ ticks_per_quarter)."""
    if isinstance(clip_or_project, Prompt):
        return clip_or_project
    tracks = getattr(clip_or_project, "tracks", None)
    if tracks is not None:  # a Project
        project = clip_or_project
        chosen = [t for t in project.audible_tracks if not t.is_drums]
        notes = tuple(sorted(n for t in chosen for n in t.notes if n.channel != 9))
        return Prompt(notes, project.ticks_per_quarter, project.tempo_map, project.time_signatures)
    notes_attr = getattr(clip_or_project, "notes", None)
    notes = tuple(sorted(notes_attr if notes_attr is not None else clip_or_project))
    tpq = ticks_per_quarter or getattr(clip_or_project, "ticks_per_quarter", None)
    if tpq is None:
        raise ValueError("ticks_per_quarter is needed with a plain list of notes")
    return Prompt(notes, tpq, TempoMap(ticks_per_quarter=tpq), TimeSignatureMap(ticks_per_quarter=tpq))


def _grid_scale(tpq: int) -> float:
    return tk.GRID_TICKS_PER_QUARTER / tpq


def _prompt_arrays(prompt: Prompt) -> tuple[np.ndarray, np.ndarray]:
    rows = np.array([(n.start_tick, n.duration_ticks, n.pitch) for n in prompt.notes], dtype=np.int64).reshape(-1, 3)
    velocities = np.array([n.velocity for n in prompt.notes], dtype=np.int64)
    return tk.to_grid(rows, prompt.ticks_per_quarter), velocities


@dataclass(frozen=True)
class Plan:
    """Everything decided before sampling (exposed for tests and the evaluation)."""

    prompt_tokens: list[int]
    bar_plans: list[sampling.BarPlan]
    constraints: sampling.Constraints
    key: Key
    start_tick: int  # where the continuation starts, in the prompt's ticks
    numerator: int
    denominator: int
    velocity: int
    articulation: float | None
    voices: float
    target_major_strength: float | None = None  # what the candidates are ranked against (None: no target)
    target_density: float | None = None  # notes per quarter, already scaled by the prompt's voices
    prompt_repeat_share: float = 0.0  # share of the prompt tune's notes (top note per onset) that repeat the one before


def _scale_of(key_index: int) -> tuple[int, list[int]]:
    tonic, minor = key_index // 2, key_index % 2
    steps = MINOR_SCALE if minor else MAJOR_SCALE
    return tonic, [(tonic + s) % 12 for s in steps]


def plan_request(prompt: Prompt, bars: int, targets=None, key_constraint="auto", prompt_tokens_max: int = 128) -> Plan:
    """Turn a prompt and attribute targets into forced bar headers and pitch constraints."""
    tpq = prompt.ticks_per_quarter
    grid_notes, velocities = _prompt_arrays(prompt)
    ts_map = prompt.time_signatures
    if len(prompt.notes):
        last_onset = max(n.start_tick for n in prompt.notes)
        start_tick = ts_map.next_bar_tick(last_onset + 1)
    else:
        start_tick = 0
    signature = ts_map.change_at(start_tick)
    numerator, denominator = signature.numerator, signature.denominator
    try:
        tk.time_signature_index(numerator, denominator)
    except ValueError:
        raise ValueError(f"the prompt's time signature {numerator}/{denominator} is not supported") from None

    scale = _grid_scale(tpq)
    grid_signatures = []
    for change in ts_map.changes:
        if change.tick < start_tick:
            grid_signatures.append((int(round(change.tick * scale)), change.numerator, change.denominator))
    grid_signatures = grid_signatures or [(0, numerator, denominator)]
    start_grid = int(round(start_tick * scale))
    prompt_bars = tk.bar_lines(grid_signatures, max(start_grid, 1))
    prompt_bars = [b for b in prompt_bars if b[0] < start_grid]
    if grid_notes.size:
        tokens, bar_index = tk.notes_to_tokens(grid_notes, grid_signatures, n_bars=len(prompt_bars), bos=True, eos=False)
        # Keep the most recent bars within the token budget, cut at a bar line.
        if len(tokens) > prompt_tokens_max:
            cut = next((i for i in bar_index if len(tokens) - i <= prompt_tokens_max), bar_index[-1])
            tokens = tokens[cut:]
        key_index = tk.estimate_key_index(grid_notes)
        onsets = len(np.unique(grid_notes[:, 0]))
        voices = max(1.0, len(grid_notes) / max(onsets, 1))
        recent_start = prompt_bars[-4:][0][0] if prompt_bars else 0  # the last (up to) 4 bars
        recent = grid_notes[grid_notes[:, 0] >= recent_start]
        prompt_pitch_mean = float(recent[:, 2].mean()) if len(recent) else float(grid_notes[:, 2].mean())
        recent_density = len(recent) / max(1.0, (start_grid - recent_start) / tk.GRID_TICKS_PER_QUARTER)
        pitch_lo, pitch_hi = int(grid_notes[:, 2].min()), int(grid_notes[:, 2].max())
        prompt_repeats = _repeat_share(recent[:, 0], recent[:, 2])
    else:
        tokens, key_index, voices, prompt_pitch_mean, recent_density = [tk.BOS], 0, 1.0, 67.0, 1.5
        pitch_lo, pitch_hi = 60, 76
        prompt_repeats = 0.0

    major_strength = getattr(targets, "major_strength", None) if targets is not None else None
    tonic, prompt_minor = key_index // 2, key_index % 2
    # "Minorness" of the continuation, 0 (major) .. 1 (minor): the prompt's mode at the neutral
    # mood, moved toward minor (valence < 0) or major (valence > 0) in proportion to the target.
    # In between, both thirds and sixths stay possible (a modal mixture), so the measured mode
    # strength is graded along the valence slider rather than two-valued.
    strength = 0.0 if major_strength is None else min(1.0, abs(major_strength) / MODE_GUIDANCE_FULL)
    if major_strength is None or abs(major_strength) <= MODE_THRESHOLD:
        minorness = float(prompt_minor)
    elif major_strength < 0:
        minorness = prompt_minor + (1 - prompt_minor) * min(1.0, MODE_SWITCH_GAIN * strength)
    else:
        minorness = prompt_minor * (1 - min(1.0, MODE_SWITCH_GAIN * strength))
    minor = 1 if minorness > 0.5 else 0 if minorness < 0.5 else prompt_minor
    target_key_index = 2 * tonic + minor

    density = getattr(targets, "note_density", None) if targets is not None else None
    density_value = density * voices if density is not None else recent_density
    pitch_mean = getattr(targets, "pitch_mean", None) if targets is not None else None
    register_value = prompt_pitch_mean + (pitch_mean - NEUTRAL_PITCH_MEAN if pitch_mean is not None else 0.0)
    controls = tk.BarControls(target_key_index, tk.density_bin(density_value), tk.register_bin(register_value))
    bar_plans = [sampling.BarPlan(numerator, denominator, controls) for _ in range(bars)]

    shift = int(round(register_value - prompt_pitch_mean))
    lo = max(tk.PITCH_MIN, pitch_lo + min(0, shift) - PITCH_RANGE_MARGIN)
    hi = min(tk.PITCH_MAX, pitch_hi + max(0, shift) + PITCH_RANGE_MARGIN)
    if isinstance(key_constraint, Key):
        key_obj = key_constraint
        allowed, penalty = sorted(key_obj.pitch_classes), float("inf")
        target_key_index = 2 * key_obj.tonic_pc + (1 if key_obj.mode in ("minor", "aeolian", "harmonic_minor", "dorian", "phrygian") else 0)
        bar_plans = [sampling.BarPlan(numerator, denominator, tk.BarControls(target_key_index, controls.density, controls.register)) for _ in range(bars)]
    elif key_constraint in (None, "none", False):
        allowed, penalty = None, 0.0
    elif key_constraint == "strict":
        allowed, penalty = _scale_of(target_key_index)[1], float("inf")
    elif key_constraint == "auto":
        allowed, penalty = None, 0.0  # the soft scale is part of pc_bias below
    else:
        raise ValueError("key_constraint must be 'auto', 'strict', 'none' or a Key")
    pc_bias = np.zeros(12, dtype=np.float32)
    if key_constraint == "auto":
        for degree in (1, 6):  # never in a major or (harmonic/natural) minor scale
            pc_bias[(tonic + degree) % 12] -= OUT_OF_KEY_PENALTY
        for degree in (4, 9):  # major 3rd and 6th: out of place as the music turns minor
            pc_bias[(tonic + degree) % 12] -= OUT_OF_KEY_PENALTY * minorness
        for degree in (3, 8, 10):  # minor 3rd, 6th and 7th: out of place in major
            pc_bias[(tonic + degree) % 12] -= OUT_OF_KEY_PENALTY * (1 - minorness)
    if major_strength is not None and key_constraint in ("auto", "strict"):
        # Guidance toward the target mode, once the mixture has tipped that way.
        toward = max(0.0, 2 * minorness - 1) if major_strength < 0 else max(0.0, 1 - 2 * minorness)
        weights = MINOR_DEGREE_WEIGHTS if major_strength < 0 else MAJOR_DEGREE_WEIGHTS
        for degree, weight in weights.items():
            pc_bias[(tonic + degree) % 12] += MODE_GUIDANCE * strength * toward * weight
    constraints = sampling.Constraints.build(lo, hi, allowed, penalty if allowed is not None else 0.0, pc_bias)
    constraints.repeat_penalty = REPEAT_PENALTY
    constraints.frequency_penalty, constraints.frequency_window = FREQUENCY_PENALTY, FREQUENCY_WINDOW

    velocity = getattr(targets, "velocity_mean", None) if targets is not None else None
    if velocity is None:
        velocity = float(np.mean(velocities)) if len(velocities) and len(set(velocities.tolist())) > 1 else DEFAULT_VELOCITY
    articulation = getattr(targets, "articulation", None) if targets is not None else None
    mode_name = "minor" if target_key_index % 2 else "major"
    return Plan(
        tokens, bar_plans, constraints, Key(target_key_index // 2, mode_name), start_tick,
        numerator, denominator, int(round(velocity)), articulation, voices,
        major_strength,
        density_value if density is not None else None,
        prompt_repeats,
    )


def _decode(
    tokens: Sequence[int], plan: Plan, prompt: Prompt, generator: str, seed: int, seconds: float, finished: bool, index: int
) -> Candidate:
    tpq = prompt.ticks_per_quarter
    decoded = tk.tokens_to_notes(tokens)
    bar_ticks = round(tk.bar_grid_length(plan.numerator, plan.denominator) * tpq / tk.GRID_TICKS_PER_QUARTER)
    n_bars = len(plan.bar_plans)
    length_ticks = bar_ticks * n_bars
    scale = tpq / tk.GRID_TICKS_PER_QUARTER
    notes, placed, accents = [], [], []
    rows = decoded.notes
    for k, (start, duration, pitch) in enumerate(rows):
        start_tick = int(round(start * scale))
        if start_tick >= length_ticks:
            continue
        duration_ticks = max(1, int(round(duration * scale)))
        if plan.articulation is not None and plan.articulation < 0.98:
            # Shorten toward the next onset's distance (how core.attributes measures articulation).
            later = rows[rows[:, 0] > start]
            ioi_ticks = int(round((later[:, 0].min() - start) * scale)) if len(later) else length_ticks - start_tick
            duration_ticks = max(1, min(duration_ticks, int(round(ioi_ticks * plan.articulation))))
        duration_ticks = min(duration_ticks, length_ticks - start_tick)
        in_bar = start_tick % bar_ticks
        accents.append(ACCENT_DOWNBEAT if in_bar == 0 else (ACCENT_BEAT if in_bar % tpq == 0 else ACCENT_OFFBEAT))
        placed.append((start_tick, int(pitch), duration_ticks))
    # Light metric accents, shifted so that the mean velocity is the target whatever the rhythm.
    offset = -float(np.mean(accents)) if accents else 0.0
    for (start_tick, pitch, duration_ticks), accent in zip(placed, accents):
        velocity = int(np.clip(round(plan.velocity + accent + offset), 1, 127))
        notes.append(Note(start_tick, pitch, duration_ticks, velocity))
    notes.sort()
    tempo = prompt.tempo_map.change_at(plan.start_tick)
    tempo_map = TempoMap([TempoChange(0, tempo.microseconds_per_quarter)], tpq)
    ts_map = TimeSignatureMap([TimeSignatureChange(0, plan.numerator, plan.denominator)], tpq)
    attributes = compute_attributes(notes, tpq, start_tick=0, end_tick=length_ticks)
    return Candidate(
        tuple(notes), tpq, tempo_map, ts_map, plan.key, n_bars, length_ticks, generator, seed, attributes,
        seconds, finished, index,
    )


def suggest(
    clip_or_project,
    mood=None,
    bars: int = 4,
    candidates: int = 4,
    temperature: float = 1.0,
    seed: int | None = None,
    generator: str = DEFAULT_GENERATOR,
    *,
    targets=None,
    key_constraint="auto",
    cancel: threading.Event | Callable[[], bool] | None = None,
    on_candidate: Callable[[Candidate], None] | None = None,
    model=None,
    ticks_per_quarter: int | None = None,
    top_p: float = 0.95,
    max_seconds: float = 30.0,
    batch_size: int | None = None,
    oversample: int | None = None,
) -> list[Candidate]:
    """Continue a clip or project with ``candidates`` suggestions of ``bars`` bars each.

    ``mood`` (a ``Mood``) gives the attribute targets through the mood table; ``targets`` (an
    ``AttributeTargets``) replaces them. ``seed`` None picks one (reported in each candidate);
    sample i draws from ``sampling.sample_seed(seed, i)`` and every candidate reports the request's seed. ``cancel``: a ``threading.Event`` or a callable, checked between
    steps (raises ``Cancelled``). ``on_candidate`` is called with each candidate as it finishes.
    ``batch_size`` splits the candidates into batches (smaller batches stream sooner); without it,
    a streaming call (``on_candidate``) samples the first candidate alone, then the rest together.
    ``oversample`` (default: ``SAMPLE_BUDGET // candidates``, at most ``OVERSAMPLE_MAX``): each
    candidate is the best of this many samples, ranked
    by the distance of their measured attributes to the targets (mode strength, note density);
    the pool is sampled in the same batch. Without targets (no mood) there is no ranking.
    Reproducible per request: the same arguments and seed give the same candidates.
    ``key_constraint``: ``"auto"`` (soft scale guidance), ``"strict"``, ``"none"`` or a ``Key``.
    """
    if not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
        raise ValueError(f"bars must be in range 1..{MAX_BARS}")
    if not isinstance(candidates, int) or not 1 <= candidates <= MAX_CANDIDATES:
        raise ValueError(f"candidates must be in range 1..{MAX_CANDIDATES}")
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    started = time.perf_counter()
    prompt = prompt_from(clip_or_project, ticks_per_quarter)
    if targets is None and mood is not None:
        from composer_app.mood.targets import targets_for

        targets = targets_for(mood)
    if seed is None:
        seed = int.from_bytes(np.random.default_rng().bytes(3), "big")
    if model is None:
        model = load_generator(generator)
    name = getattr(model, "generator_name", generator)
    context = getattr(getattr(model, "config", None), "block_size", 256)
    plan = plan_request(prompt, bars, targets, key_constraint, int(context * PROMPT_SHARE_OF_CONTEXT))
    is_cancelled = cancel.is_set if isinstance(cancel, threading.Event) else cancel
    pool = max(1, min(OVERSAMPLE_MAX, SAMPLE_BUDGET // candidates)) if oversample is None else max(1, int(oversample))
    if plan.target_major_strength is None and plan.target_density is None:
        pool = 1  # nothing to rank against
    out: list[Candidate] = []
    first = 0
    for count in _chunk_sizes(candidates, batch_size, streaming=on_candidate is not None):
        settings = sampling.SamplingSettings(
            temperature=temperature, top_p=top_p, seed=seed, first_sample=first * pool,
            max_seconds=max(0.5, max_seconds - (time.perf_counter() - started)),
            max_new_tokens=bars * 6 * sampling.MAX_NOTES_PER_BAR,
        )
        groups: dict[int, list[Candidate]] = {}

        def finished(result: sampling.CandidateTokens, offset=first, groups=groups) -> None:
            group = offset + result.index // pool
            candidate = _decode(
                result.tokens, plan, prompt, name, seed, time.perf_counter() - started, result.finished, group
            )
            members = groups.setdefault(group, [])
            members.append(candidate)
            if len(members) == pool:  # the group is complete: keep its best member
                best = min(members, key=lambda c: _target_distance(c, plan))  # ties: the first sample
                out.append(best)
                if on_candidate is not None:
                    on_candidate(best)

        try:
            sampling.generate(
                model, plan.prompt_tokens, plan.bar_plans, count * pool, settings, plan.constraints,
                cancel=is_cancelled, on_candidate=finished,
            )
        except sampling.GenerationCancelled:
            raise Cancelled("suggestion cancelled") from None
        first += count
    out.sort(key=lambda c: c.index)
    return out


def _chunk_sizes(candidates: int, batch_size: int | None, streaming: bool) -> list[int]:
    """How many candidates (groups of samples) each sampling batch holds, in order.

    ``batch_size`` given: batches of that many. Otherwise one batch for all, except when the caller
    streams (``on_candidate``) and there are at least ``STREAM_FIRST_FROM`` candidates: the first
    candidate (with its oversampled siblings) is sampled alone, the rest in one batch, so that it
    arrives in about half the time of the whole request (a batch step costs ~1.7 ms + ~0.3 ms per
    row on one core: 8 x 8 bars, first 0.7 s instead of 1.5 s, all ~2.1 s instead of 1.5 s, see
    bench/results/suggest_latency.json). The samples' seeds do not depend on the batches.
    """
    if batch_size:
        size = max(1, int(batch_size))
        return [min(size, candidates - first) for first in range(0, candidates, size)]
    if streaming and candidates >= STREAM_FIRST_FROM:
        return [1, candidates - 1]
    return [candidates]


def _target_distance(candidate: Candidate, plan: Plan) -> float:
    """How far a candidate's measured attributes are from the request's targets (0 = on target)."""
    distance = 0.0
    attributes = candidate.attributes
    if plan.target_major_strength is not None:
        distance += abs(attributes.major_strength - plan.target_major_strength) / RANK_SCALE_MAJOR_STRENGTH
    if plan.target_density is not None:
        measured = max(attributes.note_density, 0.05)
        distance += abs(np.log2(measured / max(plan.target_density, 0.05))) / RANK_SCALE_DENSITY_OCTAVES
    if not candidate.notes:
        distance += 10.0  # an empty continuation is never the best suggestion
    else:  # and one circling on one or two pitch classes is a poor one, whatever its attributes
        counts = np.bincount([n.pitch % 12 for n in candidate.notes], minlength=12)
        p = counts[counts > 0] / counts.sum()
        entropy_bits = float(-(p * np.log2(p)).sum())
        distance += max(0.0, RANK_MIN_PITCH_CLASS_BITS - entropy_bits) / RANK_SCALE_PITCH_CLASS_BITS
        repeats = _repeat_share([n.start_tick for n in candidate.notes], [n.pitch for n in candidate.notes])
        free = max(plan.prompt_repeat_share, RANK_FREE_REPEAT_SHARE)
        distance += max(0.0, repeats - free) / RANK_SCALE_REPEAT_SHARE
    return float(distance)


def _repeat_share(onsets, pitches) -> float:
    """Share of a tune's notes (the top note of each onset) that repeat the pitch of the one before."""
    top: dict[int, int] = {}
    for onset, pitch in zip(onsets, pitches):
        top[int(onset)] = max(top.get(int(onset), -1), int(pitch))
    tune = [top[k] for k in sorted(top)]
    if len(tune) < 2:
        return 0.0
    return float(np.mean(np.diff(tune) == 0))


def candidate_notes_in_project_time(candidate: Candidate, start_tick: int) -> Iterable[Note]:
    """The candidate's notes moved to start at ``start_tick`` (to paste it after the prompt)."""
    return (n.with_start(n.start_tick + start_tick) for n in candidate.notes)
