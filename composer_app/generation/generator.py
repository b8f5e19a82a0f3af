"""The ``Generator`` interface every network implements (Transformer, LSTM, GAN, VAE, harmonizer).

What a generator can do is a set of *capabilities*: ``continue`` (bars after a prompt), ``vary``
(variations of a clip), ``interpolate`` (steps between two clips), ``harmonize`` (voices under a
melody). Requests and results are plain values (``core.clip.Clip`` in, ``Candidate`` out; no torch),
so they cross to the worker process and back as small pickles.

The base class follows mido's ports: the public methods (``continue_clip``, ``vary``,
``interpolate``, ``harmonize``) check the capability and the request, compute what every generator
shares (the per-bar ``plan``), wrap cancellation and streaming, and call the subclass's
``_continue`` / ``_vary`` / ``_interpolate`` / ``_harmonize``, which only generate. Weights are
``.safetensors`` files whose metadata holds ``kind`` and ``config`` (JSON); ``from_state`` rebuilds a
generator from them without unpickling anything (``registry.load_weights``).

Adding a generator: one model file with a config dataclass, the ``nn.Module`` and a ``Generator``
subclass; one ``registry.register(...)`` line; one model card (models/NAME.md + .json, whose
``summary`` is the line the GUI shows). See /work/notes/generator-interface.md.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, ClassVar, Sequence

from composer_app.core.clip import Clip
from composer_app.core.theory import Key
from composer_app.generation.candidate import Candidate

CONTINUE, VARY, INTERPOLATE, HARMONIZE = "continue", "vary", "interpolate", "harmonize"
CAPABILITIES = (CONTINUE, VARY, INTERPOLATE, HARMONIZE)
MAX_BARS = 64  # a request may ask for at most this many bars
MAX_CANDIDATES = 16
KEY_CONSTRAINT_NAMES = ("auto", "strict", "none")


class Cancelled(Exception):
    """The request was cancelled between two generation steps."""


class UnsupportedRequest(ValueError):
    """The generator lacks the capability a request needs (the message names both)."""


def _check_count(name: str, value: object, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if not 1 <= value <= high:
        raise ValueError(f"{name} must be in range 1..{high}")


def _check_moods(moods, targets) -> tuple[tuple, tuple]:
    from composer_app.mood.mood import Mood

    moods = (moods,) if isinstance(moods, Mood) else tuple(moods or ())
    if any(not isinstance(m, Mood) for m in moods):
        raise TypeError("moods must be Mood values")
    targets = tuple(targets) if isinstance(targets, (list, tuple)) else ((targets,) if targets is not None else ())
    return moods, targets


@dataclass(frozen=True)
class ContinueRequest:
    """Continue ``prompt`` with ``candidates`` clips of ``bars`` bars.

    The mood is per bar: ``moods`` holds one ``Mood`` for every bar or one per bar (a mood timeline);
    ``targets`` (``AttributeTargets``, one or one per bar) replaces the mood table's targets (the
    advanced sliders). Neither: no mood, the continuation follows the prompt.
    """

    prompt: Clip
    bars: int = 4
    candidates: int = 4
    moods: tuple = ()  # Mood per bar (or one for all)
    targets: tuple = ()  # AttributeTargets per bar (or one for all); wins over moods
    temperature: float = 1.0  # > 0; lower = safer, higher = wilder
    seed: int = 0  # the request's seed (each sample's is mixed from it and the sample's index)
    key_constraint: object = "auto"  # "auto" (soft scale), "strict", "none", or a core.theory.Key
    top_p: float = 0.95  # nucleus sampling, for the generators that sample tokens
    max_seconds: float = 30.0  # hard bound on generation time
    oversample: int | None = None  # each candidate is the best of this many samples (None: the generator's default)
    batch_size: int | None = None  # candidates per batch (None: the generator decides)
    chords: object = None  # a core.chords.ChordTrack in the prompt's ticks to follow (None: no chords)
    key_signature: int | None = None  # the prompt file's key signature (sharps > 0, flats < 0), None: none
    heuristics: object | None = None  # plan.Heuristics: the sampling heuristics' switches (None: defaults)

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, Clip):
            raise TypeError("prompt must be a Clip")
        if self.chords is not None:
            from composer_app.core.chords import ChordTrack

            if not isinstance(self.chords, ChordTrack):
                raise TypeError("chords must be a ChordTrack or None")
        _check_count("bars", self.bars, MAX_BARS)
        _check_count("candidates", self.candidates, MAX_CANDIDATES)
        moods, targets = _check_moods(self.moods, self.targets)
        for name, values in (("moods", moods), ("targets", targets)):
            if len(values) not in (0, 1, self.bars):
                raise ValueError(f"{name} must hold 1 or {self.bars} values (one per bar)")
        object.__setattr__(self, "moods", moods)
        object.__setattr__(self, "targets", targets)
        if not self.temperature > 0:
            raise ValueError("temperature must be > 0")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in range (0, 1]")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError("seed must be an int >= 0")
        if not (self.key_constraint in KEY_CONSTRAINT_NAMES or isinstance(self.key_constraint, Key)):
            raise ValueError("key_constraint must be 'auto', 'strict', 'none' or a Key")

    def bar_targets(self) -> tuple:
        """The AttributeTargets of every bar (None where there is no mood)."""
        from composer_app.generation.plan import bar_targets_for

        if self.targets:
            return self.targets * self.bars if len(self.targets) == 1 else self.targets
        return bar_targets_for(self.moods, self.bars)


@dataclass(frozen=True)
class VaryRequest:
    """Variations of ``clip``: ``amount`` 0 = the clip back, 1 = free; optionally toward a mood."""

    clip: Clip
    candidates: int = 4
    amount: float = 0.5
    moods: tuple = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.clip, Clip):
            raise TypeError("clip must be a Clip")
        _check_count("candidates", self.candidates, MAX_CANDIDATES)
        if not 0.0 <= float(self.amount) <= 1.0:
            raise ValueError("amount must be in range 0..1")
        object.__setattr__(self, "moods", _check_moods(self.moods, None)[0])


@dataclass(frozen=True)
class InterpolateRequest:
    """``steps`` clips leading from ``start`` to ``end``."""

    start: Clip
    end: Clip
    steps: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.start, Clip) or not isinstance(self.end, Clip):
            raise TypeError("start and end must be Clips")
        _check_count("steps", self.steps, MAX_CANDIDATES)


@dataclass(frozen=True)
class HarmonizeRequest:
    """Voices under (the highest line of) ``melody``; each candidate holds the new voices only."""

    melody: Clip
    voices: int = 4
    candidates: int = 1
    moods: tuple = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.melody, Clip):
            raise TypeError("melody must be a Clip")
        _check_count("voices", self.voices, 8)
        _check_count("candidates", self.candidates, MAX_CANDIDATES)
        object.__setattr__(self, "moods", _check_moods(self.moods, None)[0])


CancelCheck = Callable[[], bool]
Emit = Callable[[Candidate], None]


def as_cancel_check(cancel) -> CancelCheck:
    """A ``threading.Event``, a callable or None -> a callable that says whether to stop."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event) or hasattr(cancel, "is_set"):
        return cancel.is_set
    return cancel


class Generator:
    """Base class: public methods validate and share the plan; subclasses implement ``_continue`` etc.

    A subclass sets ``kind`` (the ``kind`` in its weights' metadata), ``capabilities`` and
    ``config_class``, and implements ``from_state`` (weights -> generator), ``save`` and the
    ``_…`` methods of its capabilities. ``name`` is the registry name it was loaded under.
    """

    kind: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()
    config_class: ClassVar[type | None] = None
    default_oversample: ClassVar[int] = 1  # candidates are the best of this many samples (ranked by the plan's targets)

    def __init__(self, config, metadata: dict | None = None, name: str | None = None):
        self.config = config
        self.metadata = dict(metadata or {})
        self.name = name or self.kind

    # --- loading, saving, training (classmethods: no instance needed) -------------------------
    @classmethod
    def from_state(cls, metadata: dict, state: dict) -> Generator:
        """Rebuild from a .safetensors file's metadata (strings; ``config`` is JSON) and tensors."""
        raise NotImplementedError

    def save(self, path, metadata: dict | None = None) -> None:
        """Write fp16 weights with ``kind``, ``config`` and ``metadata`` (JSON strings) to ``path``."""
        raise NotImplementedError

    @classmethod
    def train(cls, settings) -> dict:
        """Train a new generator of this kind (``composer-app train --model NAME``); returns its facts."""
        raise NotImplementedError(f"training for {cls.kind or cls.__name__} is not available")

    # --- what the evaluation and the GUI ask ------------------------------------------------
    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def nll(self, items) -> tuple[float, int, int] | None:
        """(total NLL in nats, scored tokens, notes) over tokenized pieces; None where undefined (GAN)."""
        return None

    @property
    def prompt_tokens_max(self) -> int:
        """How many prompt tokens the plan keeps (the most recent bars)."""
        return 128

    def parameter_count(self) -> int:
        return 0

    # --- the template methods ---------------------------------------------------------------
    def plan(self, request: ContinueRequest):
        """The request's per-bar plan (``generation.plan``), the same for every generator."""
        from composer_app.generation.plan import make_plan

        return make_plan(
            request.prompt, request.bars, request.bar_targets(), request.key_constraint, self.prompt_tokens_max,
            chords=request.chords, heuristics=request.heuristics,
            phrase_bars=getattr(self.config, "phrase_bars", 0) or 0, key_signature=request.key_signature,
        )

    def continue_clip(self, request: ContinueRequest, *, plan=None, cancel=None, on_candidate: Emit | None = None) -> list[Candidate]:
        """Candidates continuing ``request.prompt``, in index order; ``on_candidate`` as each finishes.

        ``plan``: a plan computed once for several generators (``compare``); ``cancel``: an Event or
        a callable checked between steps (raises ``Cancelled``).
        """
        self._require(CONTINUE, request, ContinueRequest)
        plan = plan if plan is not None else self.plan(request)
        if len(plan.bars) != request.bars:
            raise ValueError("the plan does not match the request's bars")
        return self._collect(lambda check, emit: self._continue(request, plan, check, emit), cancel, on_candidate)

    def vary(self, request: VaryRequest, *, cancel=None, on_candidate: Emit | None = None) -> list[Candidate]:
        self._require(VARY, request, VaryRequest)
        return self._collect(lambda check, emit: self._vary(request, check, emit), cancel, on_candidate)

    def interpolate(self, request: InterpolateRequest, *, cancel=None, on_candidate: Emit | None = None) -> list[Candidate]:
        self._require(INTERPOLATE, request, InterpolateRequest)
        return self._collect(lambda check, emit: self._interpolate(request, check, emit), cancel, on_candidate)

    def harmonize(self, request: HarmonizeRequest, *, cancel=None, on_candidate: Emit | None = None) -> list[Candidate]:
        self._require(HARMONIZE, request, HarmonizeRequest)
        return self._collect(lambda check, emit: self._harmonize(request, check, emit), cancel, on_candidate)

    # --- what subclasses implement -------------------------------------------------------------
    def _continue(self, request: ContinueRequest, plan, cancel: CancelCheck, emit: Emit) -> None:
        """Generate ``request.candidates`` candidates following ``plan``; ``emit`` each (with its index)."""
        raise NotImplementedError

    def _vary(self, request: VaryRequest, cancel: CancelCheck, emit: Emit) -> None:
        raise NotImplementedError

    def _interpolate(self, request: InterpolateRequest, cancel: CancelCheck, emit: Emit) -> None:
        raise NotImplementedError

    def _harmonize(self, request: HarmonizeRequest, cancel: CancelCheck, emit: Emit) -> None:
        raise NotImplementedError

    # --- helpers ---------------------------------------------------------------------------
    def _require(self, capability: str, request, request_type: type) -> None:
        if capability not in self.capabilities:
            raise UnsupportedRequest(f"generator {self.name!r} cannot {capability} (it can: {', '.join(sorted(self.capabilities)) or 'nothing'})")
        if not isinstance(request, request_type):
            raise TypeError(f"request must be a {request_type.__name__}")

    @staticmethod
    def _collect(work, cancel, on_candidate: Emit | None) -> list[Candidate]:
        check = as_cancel_check(cancel)
        out: list[Candidate] = []

        def emit(candidate: Candidate) -> None:
            if check():
                raise Cancelled("generation cancelled")
            out.append(candidate)
            if on_candidate is not None:
                on_candidate(candidate)

        emit.streaming = on_candidate is not None  # someone waits for each candidate as it finishes
        if check():
            raise Cancelled("generation cancelled")
        work(check, emit)
        return sorted(out, key=lambda c: c.index)

    @staticmethod
    def best_of(samples: Sequence[Candidate], plan) -> Candidate:
        """The sample closest to the plan's targets (ties: the first one)."""
        from composer_app.generation.plan import target_distance

        return min(samples, key=lambda c: target_distance(c, plan))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {sorted(self.capabilities)}>"
