"""The engine: a prompt (clip or project) and a mood -> candidate continuations, from any generator.

``suggest`` is what ``composer-app suggest``, the worker process and the evaluation call: it builds a
``ContinueRequest``, loads the named generator (``registry``) and asks it through the ``Generator``
interface. ``compare`` asks several generators the same request with one shared per-bar plan.

``TokenGenerator`` is the shared implementation for the generators over the tokens of
``tokenizer`` (the Transformer, the LSTM): the plan's bars become forced bar headers, the plan's
pitch-class bias a per-bar logit bias, and ``sampling.generate`` samples every candidate in one
batch, each the best of a small group of samples (``SAMPLE_BUDGET``) ranked by
``plan.target_distance`` (mode strength, note density, pitch-class variety, share of repeated notes).
While sampling, a pitch loses ``Heuristics.frequency_penalty`` logits per time it sounded among the last
``frequency_window`` notes (and ``repeat_penalty`` per strike beyond two in a row; ``plan.Heuristics``): without it the
small model circles on the tonic in sad, slow settings (4.3 distinct pitches per 16-note candidate,
half of them on the tonic; with it 7.0 and a third, see models/transformer.md). With ``on_candidate``
(the GUI), the first candidate's group is sampled alone and the rest in a second batch
(``_chunk_sizes``), so the first arrives in about half the time; each sample's seed is the same
either way, so the candidates are too. Each sample draws its own phrase plan from its seed
(``restatements_for``, ``generation.phrase``): the bars it restates are forced while sampling.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Callable, ClassVar, Iterable, Sequence

import numpy as np

from composer_app.core.note import Note
from composer_app.core.timing import TempoMap, TimeSignatureMap
from composer_app.generation import sampling
from composer_app.generation import tokenizer as tk
from composer_app.generation.candidate import Candidate, Prompt
from composer_app.generation.generator import (  # noqa: F401 - re-exported for callers
    MAX_BARS,
    MAX_CANDIDATES,
    Cancelled,
    ContinueRequest,
    Generator,
)
from composer_app.generation.plan import (  # noqa: F401 - re-exported for callers and tests
    INTERVAL_BINS,
    MAJOR_SCALE,
    MINOR_SCALE,
    NO_INTERVAL_BIAS,
    Plan,
    has_targets,
    make_plan,
    render_candidate,
    repeat_share as _repeat_share,
    target_distance as _target_distance,
)
from composer_app.generation.registry import DEFAULT_GENERATOR, load_generator

PROMPT_SHARE_OF_CONTEXT = 0.5  # the prompt is cut (at a bar line) to this share of the model's context
# Each sampling step attends to at most this many recent tokens (a rolling KV cache), also for a model trained on
# longer windows: the 1024-token Transformer loses 0.2 % of held-out NLL at 256 tokens (0.880 vs 0.878 nats per
# token, bench/results/transformer_v2_nll.json) and steps as fast as a 256-token model.
CONTEXT_TOKENS_MAX = 256
OVERSAMPLE_MAX = 4  # each candidate is the best of up to this many samples (ranked by the targets) ...
SAMPLE_BUDGET = 12  # ... within this many sequences per request (4 candidates -> best of 3; 8 -> 1) ...
SAMPLE_BAR_BUDGET = 128  # ... and this many generated bars in all (4 x 16 bars -> best of 2; 1 x 64 -> 2)
SINGLE_LINE_VOICES = 1.1  # the interval bias applies to prompts of fewer notes per onset than this (a tune, not chords)
STREAM_FIRST_FROM = 2  # with on_candidate, requests of this many candidates or more sample the first one alone


def prompt_from(clip_or_project, ticks_per_quarter: int | None = None) -> Prompt:
    """A Project (its audible, non-drum tracks), a Track, a Clip, or notes (+ ticks_per_quarter)."""
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


def plan_request(prompt: Prompt, bars: int, targets=None, key_constraint="auto", prompt_tokens_max: int = 128) -> Plan:
    """The per-bar plan (``generation.plan.make_plan``; ``targets`` one AttributeTargets or one per bar)."""
    return make_plan(prompt, bars, targets, _key_constraint(key_constraint), prompt_tokens_max)


def _key_constraint(value):
    return "none" if value in (None, False, "none") else value


# ----------------------------------------------------------------------------------------------
# The generators over the shared tokens


def bar_plans(plan: Plan) -> list[sampling.BarPlan]:
    """The plan's bars as forced headers with their pitch bias (over the PITCH tokens)."""
    pitches = np.arange(tk.PITCH_MIN, tk.PITCH_MAX + 1)
    half = tk.bar_grid_length(plan.numerator, plan.denominator) // 2
    return [
        sampling.BarPlan(
            plan.numerator, plan.denominator, bar.controls, bar.pitch_class_bias[pitches % 12],
            None if bar.cadence_bias is None else bar.cadence_bias[pitches % 12], half,
            np.isin(pitches % 12, list(bar.key.pitch_classes)),
        )
        for bar in plan.bars
    ]


def constraints_for(plan: Plan) -> sampling.Constraints:
    """The pitch range, and the penalties on repeated and frequent pitches (the scale is per bar)."""
    constraints = sampling.Constraints.build(plan.pitch_low, plan.pitch_high)
    heuristics = plan.heuristics
    constraints.repeat_penalty = heuristics.repeat_penalty
    constraints.frequency_penalty, constraints.frequency_window = heuristics.frequency_penalty, heuristics.frequency_window
    notated = plan.key_signature is not None  # the collection is known, not guessed: real tunes stray from it more often
    constraints.frequency_keeps_key = heuristics.frequency_keeps_notated_key if notated else heuristics.frequency_keeps_key
    constraints.frequency_free = heuristics.frequency_free
    if any(heuristics.interval_bias) and plan.voices < SINGLE_LINE_VOICES:
        constraints.interval_bias = interval_bias_table(heuristics.interval_bias)
    return constraints


def interval_bias_table(bias_by_bin: Sequence[float]) -> np.ndarray:
    """Logits per interval -(N_PITCH-1)..N_PITCH-1 semitones from the tune's last pitch, from one
    value per bin of ``plan.INTERVAL_BINS`` (the realism test's interval bins)."""
    intervals = np.arange(-(tk.N_PITCH - 1), tk.N_PITCH)
    return np.asarray(bias_by_bin, dtype=np.float32)[np.digitize(intervals, INTERVAL_BINS)]


def restatements_for(plan: Plan, request_seed: int, samples: Iterable[int]) -> list | None:
    """Per sample (its index within the request), per bar a ``sampling.BarRestatement`` or None:
    the phrase plan (``generation.phrase.draw``, drawn from each sample's own seed) in tokens."""
    from composer_app.generation import phrase

    if plan.phrase is None or plan.heuristics.restatement <= 0:
        return None
    bodies: dict[int, tuple] = {}

    def body(source: int) -> tuple:
        if source not in bodies:
            notes = plan.phrase.bar_notes[plan.phrase.prompt_bars + source]
            tokens, _ = tk.notes_to_tokens(notes, [(0, plan.numerator, plan.denominator)], n_bars=1, bos=False, eos=False)
            bodies[source] = tuple(tokens[5:])  # after BAR TS KEY DENS REG
        return bodies[source]

    out = []
    for index in samples:
        drawn = phrase.draw(plan, sampling.sample_seed(request_seed, index), plan.heuristics.restatement, plan.heuristics.restatement_kinds)
        out.append([
            None if r is None else sampling.BarRestatement(r.source, r.kind == "rhythm", r.pitch_map, body(r.source) if r.source < 0 else ())
            for r in drawn
        ])
    return out


class TokenGenerator(Generator):
    """A network over the shared tokens with ``new_cache(batch, capacity)`` and ``step(tokens, cache)``.

    Subclasses (one per model file) set ``kind``, ``config_class`` and the model functions
    ``new_model(config)``, ``model_from_state(config, state)`` and ``save_model(model, path, metadata)``.
    """

    capabilities = frozenset({"continue"})
    default_oversample = OVERSAMPLE_MAX
    # False: sample with the sampler as it was before the key keeping and the interval bias (Heuristics), which
    # were calibrated on the Transformer; with them the LSTM's valence control fell to 0.60 on one held-out prompt.
    sampler_calibrated: ClassVar[bool] = True
    new_model: ClassVar[Callable]
    model_from_state: ClassVar[Callable]
    save_model: ClassVar[Callable]

    def __init__(self, model, metadata: dict | None = None, name: str | None = None):
        super().__init__(model.config, metadata, name)
        self.model = model.eval()

    @classmethod
    def from_state(cls, metadata: dict, state: dict) -> TokenGenerator:
        config = cls.config_class.from_json(metadata["config"])
        return cls(cls.model_from_state(config, state), metadata)

    @classmethod
    def wrap(cls, model, name: str | None = None) -> TokenGenerator:
        """A generator around an already built token model (tests, training)."""
        return cls(model, getattr(model, "metadata", None), name or getattr(model, "generator_name", None))

    def save(self, path, metadata: dict | None = None) -> None:
        type(self).save_model(self.model, path, metadata)

    @classmethod
    def train(cls, settings) -> dict:
        from composer_app.generation.training import train_token_model

        return train_token_model(cls, settings)

    @property
    def context_tokens(self) -> int:
        """How many recent tokens each step attends to: the model's context, at most ``CONTEXT_TOKENS_MAX``."""
        return min(int(getattr(self.config, "block_size", CONTEXT_TOKENS_MAX)), CONTEXT_TOKENS_MAX)

    @property
    def prompt_tokens_max(self) -> int:
        return int(self.context_tokens * PROMPT_SHARE_OF_CONTEXT)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # The sampling interface of its network (``sampling.generate`` takes the generator itself).
    def new_cache(self, batch: int, capacity: int):
        return self.model.new_cache(batch, capacity)

    def step(self, tokens, cache):
        return self.model.step(tokens, cache)

    def nll(self, items):
        from composer_app.generation.evaluation import model_nll

        return model_nll(self.model, items)

    def _continue(self, request: ContinueRequest, plan: Plan, cancel, emit) -> None:
        started = time.perf_counter()
        count = request.candidates
        pool = request.oversample or oversample_pool(self.default_oversample, count, request.bars)
        if not has_targets(plan) or not plan.heuristics.ranking:
            pool = 1  # nothing to rank against (or the ranking switched off)
        if not self.sampler_calibrated:  # the key keeping and interval bias were tuned on the Transformer only
            plan = replace(plan, heuristics=replace(plan.heuristics, frequency_keeps_key=False, frequency_keeps_notated_key=False, interval_bias=NO_INTERVAL_BIAS))
        headers, constraints = bar_plans(plan), constraints_for(plan)
        streaming = getattr(emit, "streaming", True)
        first = 0
        for size in _chunk_sizes(count, request.batch_size, streaming=streaming):
            settings = sampling.SamplingSettings(
                temperature=request.temperature, top_p=request.top_p, seed=request.seed, first_sample=first * pool,
                max_seconds=max(0.5, request.max_seconds - (time.perf_counter() - started)),
                max_new_tokens=request.bars * 6 * sampling.MAX_NOTES_PER_BAR,
            )
            groups: dict[int, list[Candidate]] = {}

            def finished(result: sampling.CandidateTokens, offset=first, groups=groups) -> None:
                group = offset + result.index // pool
                decoded = tk.tokens_to_notes(result.tokens)
                candidate = render_candidate(
                    decoded.notes, plan, request.prompt, self.name, request.seed, time.perf_counter() - started,
                    result.finished, group,
                )
                members = groups.setdefault(group, [])
                members.append(candidate)
                if len(members) == pool:  # the group is complete: keep its best member
                    emit(self.best_of(members, plan))

            restatements = restatements_for(plan, request.seed, range(first * pool, (first + size) * pool))
            try:
                sampling.generate(
                    self, plan.prompt_tokens, headers, size * pool, settings, constraints,
                    cancel=cancel, on_candidate=finished, restatements=restatements, context_tokens=self.context_tokens,
                )
            except sampling.GenerationCancelled:
                raise Cancelled("suggestion cancelled") from None
            first += size


def oversample_pool(most: int, candidates: int, bars: int) -> int:
    """How many samples each candidate is the best of: up to ``most``, within ``SAMPLE_BUDGET``
    sequences and ``SAMPLE_BAR_BUDGET`` generated bars per request (a step costs about the same at
    bar 16 as at bar 1, so long requests rank fewer samples rather than take longer per bar)."""
    return max(1, min(most, SAMPLE_BUDGET // candidates, SAMPLE_BAR_BUDGET // max(1, candidates * bars)))


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


# ----------------------------------------------------------------------------------------------
# The calls


def as_generator(model, name: str | None = None) -> Generator:
    """A Generator as it is, or a bare token model wrapped in one."""
    if isinstance(model, Generator):
        return model
    from composer_app.generation.registry import info

    kind = getattr(model, "kind", None) or DEFAULT_GENERATOR
    return info(kind).generator_class().wrap(model, name)


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
    moods: Sequence | None = None,
    key_constraint="auto",
    cancel: threading.Event | Callable[[], bool] | None = None,
    on_candidate: Callable[[Candidate], None] | None = None,
    model=None,
    ticks_per_quarter: int | None = None,
    top_p: float = 0.95,
    max_seconds: float = 30.0,
    batch_size: int | None = None,
    oversample: int | None = None,
    plan: Plan | None = None,
    chords=None,
    heuristics=None,
    key_signature: int | None = None,
) -> list[Candidate]:
    """Continue a clip or project with ``candidates`` suggestions of ``bars`` bars each.

    ``mood`` (a ``Mood``) gives the attribute targets through the mood table; ``moods`` gives one
    per bar (a mood timeline); ``targets`` (an ``AttributeTargets``, or one per bar) replaces them.
    ``seed`` None picks one; sample i draws from ``sampling.sample_seed(seed, i)`` and every
    candidate reports the request's seed (and its index). ``generator``: a registry name, or
    ``model``: a loaded ``Generator`` (or a bare token model). ``cancel``: an Event or a callable,
    checked between steps (raises ``Cancelled``). ``on_candidate`` is called with each candidate as
    it finishes. ``oversample``: each candidate is the best of this many samples (default: the
    generator's). Reproducible: the same arguments and seed give the same candidates.
    ``key_constraint``: ``"auto"`` (soft scale guidance), ``"strict"``, ``"none"`` or a ``Key``.
    ``chords``: a ``ChordTrack`` (prompt ticks) the continuation follows where it covers it; by
    default a project's own chord track.
    A project's key signature (its ``key``), or ``key_signature`` (sharps > 0, flats < 0) when given,
    informs the key estimate. ``heuristics``: switches of the sampling heuristics (``plan.Heuristics``; ablations).
    """
    if chords is None:
        chords = getattr(clip_or_project, "chords", None) or None
    if not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
        raise ValueError(f"bars must be in range 1..{MAX_BARS}")
    if not isinstance(candidates, int) or not 1 <= candidates <= MAX_CANDIDATES:
        raise ValueError(f"candidates must be in range 1..{MAX_CANDIDATES}")
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    prompt = prompt_from(clip_or_project, ticks_per_quarter)
    if seed is None:
        seed = int.from_bytes(np.random.default_rng().bytes(3), "big")
    gen = as_generator(model) if model is not None else load_generator(generator)
    request = ContinueRequest(
        prompt, bars, candidates,
        moods=tuple(moods) if moods else ((mood,) if mood is not None else ()),
        targets=targets if targets is not None else (),
        temperature=temperature, seed=seed, key_constraint=_key_constraint(key_constraint), top_p=top_p,
        max_seconds=max_seconds, oversample=oversample, batch_size=batch_size, chords=chords,
        key_signature=key_signature if key_signature is not None else _key_signature(getattr(clip_or_project, "key", None)),
        heuristics=heuristics,
    )
    return gen.continue_clip(request, plan=plan, cancel=cancel, on_candidate=on_candidate)


def _key_signature(key) -> int | None:
    """The key signature (sharps > 0, flats < 0) a project's key notates; None without one."""
    from composer_app.core.theory import Key, key_signature_of

    if not isinstance(key, Key):
        return None
    try:
        return key_signature_of(key)
    except ValueError:
        return None


def compare(
    clip_or_project,
    generators: Sequence[str],
    mood=None,
    bars: int = 4,
    candidates: int = 4,
    seed: int | None = None,
    *,
    models: dict | None = None,
    on_candidate: Callable[[Candidate], None] | None = None,
    cancel=None,
    **kwargs,
) -> list[Candidate]:
    """The same request asked of several generators with one plan: ``candidates`` from each.

    Candidates are numbered across generators (the first generator's 0..n-1, then the next's).
    """
    prompt = prompt_from(clip_or_project, kwargs.pop("ticks_per_quarter", None))
    if seed is None:
        seed = int.from_bytes(np.random.default_rng().bytes(3), "big")
    models = models or {}
    out: list[Candidate] = []
    plan = None
    for k, name in enumerate(generators):
        gen = models.get(name) or load_generator(name)
        if plan is None:  # one plan for all (the prompt budget of the first generator)
            request = ContinueRequest(prompt, bars, candidates, moods=(mood,) if mood is not None else (),
                                      targets=kwargs.get("targets") or (), seed=seed,
                                      key_constraint=_key_constraint(kwargs.get("key_constraint", "auto")),
                                      chords=kwargs.get("chords") or getattr(clip_or_project, "chords", None) or None)
            plan = gen.plan(request)

        def renumber(candidate: Candidate, base=k * candidates) -> Candidate:
            moved = replace(candidate, index=base + candidate.index)
            out.append(moved)
            if on_candidate is not None:
                on_candidate(moved)

        suggest(prompt, mood, bars, candidates, seed=seed, model=gen, on_candidate=renumber, cancel=cancel, plan=plan, **kwargs)
    return sorted(out, key=lambda c: c.index)


def candidate_notes_in_project_time(candidate: Candidate, start_tick: int) -> Iterable[Note]:
    """The candidate's notes moved to start at ``start_tick`` (to paste it after the prompt)."""
    return (n.with_start(n.start_tick + start_tick) for n in candidate.notes)
