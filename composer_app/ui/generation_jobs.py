"""The ONE place that owns the generation thread.

Everything torch-related happens on a single background thread owned by :class:`GenerationJobs`:

* **Model loading.** :meth:`GenerationJobs.start` (called once the main window is shown) starts the
  thread, which imports torch and the generation engine and loads the default generator's weights.
  ``torch`` is never imported on the GUI thread, so the window appears before the models are ready.
  The state is reported by ``model_state_changed(state, message)`` with ``state`` one of
  ``"loading"``, ``"ready"``, ``"error"``.
* **Generation.** :meth:`submit` hands the thread a :class:`SuggestRequest` (plain, immutable data:
  the prompt as a core ``Project``, the mood, the settings). The thread calls
  ``composer_app.generation.engine.suggest`` and reports back through the signals ``started(id)``,
  ``candidate(id, index, Candidate)``, ``finished(id, [Candidate])``, ``errored(id, message)`` and
  ``cancelled(id)``. Candidates are plain values too; nothing on the worker touches a widget.

**A second request while one runs replaces it**: the running request is cancelled (its
``cancelled`` signal is emitted at once, and anything it still produces is dropped) and the new
one starts as soon as the worker has left the old one, which it does at the engine's next
cancellation check (one sampling step, a few milliseconds). A request that was waiting and not yet
started is simply replaced (and reported ``cancelled``). The latest click always wins: this is what
a composer who clicks "Suggest" again after moving the mood point means.

**Cancel** (:meth:`cancel`) sets the running request's cancel flag, which the engine polls between
sampling steps; the GUI is told ``cancelled`` immediately, the worker stops within one step
(``~ms``; the test demands < 100 ms from the flag to the worker being idle again).

Signals are emitted from the worker thread on a QObject that lives in the GUI thread, so Qt queues
them to the GUI thread (AutoConnection); slots run on the GUI thread.
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from composer_app.core.project import Project
from composer_app.mood.mood import Mood

LOADING, READY, ERROR, IDLE = "loading", "ready", "error", "idle"


class CancelFlag:
    """A cancel flag the engine can poll: ``flag()``, ``flag.is_set()`` or ``bool(flag)``."""

    __slots__ = ("_event", "set_at")

    def __init__(self) -> None:
        self._event = threading.Event()
        self.set_at: float | None = None

    def set(self) -> None:  # noqa: A003 - mirrors threading.Event
        if self.set_at is None:
            self.set_at = time.perf_counter()
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def __call__(self) -> bool:
        return self._event.is_set()

    def __bool__(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)


@dataclass(frozen=True)
class SuggestRequest:
    """Everything one suggestion needs, as plain immutable data (safe to hand to another thread)."""

    prompt: Project  # the prompt clip: one track, notes up to the playhead / the selection
    mood: Mood = Mood()
    bars: int = 4
    candidates: int = 4
    temperature: float = 1.0
    seed: int = 0
    generator: str | None = None  # None: the engine's default
    targets: Any = None  # AttributeTargets with the advanced overrides applied, or None
    key_constraint: str = "clip"  # "clip" (lean into the clip's key), "strict", "off", or a key such as "D minor"
    label: str = ""  # what the panel shows while it runs
    extra: dict = field(default_factory=dict, compare=False)


@dataclass
class _Job:
    id: int
    request: SuggestRequest
    cancel: CancelFlag = field(default_factory=CancelFlag)
    started_at: float = 0.0


def classify_load_error(exc: BaseException, path: Path | None = None) -> str:
    """A one-line message for a model that could not be loaded (shown in the panels)."""
    where = f" ({path})" if path else ""
    text = str(exc)
    if isinstance(exc, FileNotFoundError) or text.startswith("weights not found"):
        missing = getattr(exc, "filename", None) or path or text.split(": ", 1)[-1].split(" (")[0]
        return (
            f"No model file: {missing} is missing. Suggestions are off; train one with "
            "'composer-app train' or reinstall the shipped weights into models/."
        )
    if isinstance(exc, ImportError):
        return f"The generation engine could not be loaded: {exc}. Suggestions are off."
    if type(exc).__name__ == "WeightsError":
        return f"Broken model file: {exc}. Suggestions are off until the weights are replaced."
    return f"The model weights{where} could not be read (a broken or incompatible file?): {exc}"


class GenerationJobs(QObject):
    """Owns the background generation thread (model loading + one running request at a time)."""

    model_state_changed = Signal(str, str)  # (state: loading|ready|error, message)
    started = Signal(int)  # (request id)
    candidate = Signal(int, int, object)  # (request id, index, Candidate)
    finished = Signal(int, object)  # (request id, list of Candidates)
    errored = Signal(int, str)  # (request id, one-line message)
    cancelled = Signal(int)  # (request id)
    worker_idle = Signal(int, float)  # (request id, seconds from cancel flag to idle; -1 when not cancelled)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        engine_loader: Callable[[], Any] | None = None,
        generator: str | None = None,
        weights_path: Path | str | None = None,
    ):
        """``engine_loader()`` runs on the worker and returns an object with ``suggest(...)``.

        Default: import ``composer_app.generation.engine`` there (so torch loads off the GUI thread)
        and load ``generator`` (or the default) from ``weights_path`` (or the shipped models/).
        """
        super().__init__(parent)
        self._engine_loader = engine_loader
        self._generator = generator
        self._weights_path = Path(weights_path) if weights_path else None
        self._engine: Any = None
        self._state = IDLE
        self._message = ""
        self._lock = threading.Condition()
        self._pending: _Job | None = None
        self._running: _Job | None = None
        self._active_id: int | None = None  # the request whose results the GUI still wants
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._quit = False
        self.generators: list[str] = []
        self.default_generator: str | None = None

    # --- state -----------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def message(self) -> str:
        return self._message

    @property
    def is_busy(self) -> bool:
        with self._lock:
            return self._running is not None or self._pending is not None

    @property
    def active_id(self) -> int | None:
        return self._active_id

    def is_current(self, request_id: int) -> bool:
        """Whether results of ``request_id`` are still wanted (not cancelled or replaced)."""
        return request_id == self._active_id

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread; it loads the models first (call once the window is shown)."""
        if self._thread is not None:
            return
        self._set_state(LOADING, "Loading the generation model…")
        self._thread = threading.Thread(target=self._run, name="composer-generation", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 2.0) -> None:
        """Cancel everything and stop the thread (window closing)."""
        with self._lock:
            self._quit = True
            if self._running:
                self._running.cancel.set()
            self._pending = None
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing runs or waits (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_busy:
                return True
            time.sleep(0.002)
        return False

    # --- requests ------------------------------------------------------------------------------
    def submit(self, request: SuggestRequest) -> int:
        """Queue ``request``, replacing (cancelling) whatever runs or waits. Returns its id."""
        job = _Job(next(self._ids), request)
        replaced: list[int] = []
        with self._lock:
            if self._running is not None and not self._running.cancel.is_set():
                self._running.cancel.set()
                replaced.append(self._running.id)
            if self._pending is not None:
                replaced.append(self._pending.id)
            self._pending = job
            self._active_id = job.id
            self._lock.notify_all()
        for old in replaced:
            self.cancelled.emit(old)
        if self._thread is None:
            self.start()
        return job.id

    def cancel(self) -> int | None:
        """Cancel the running (and any waiting) request; returns the id told ``cancelled``."""
        ids: list[int] = []
        with self._lock:
            if self._pending is not None:
                ids.append(self._pending.id)
                self._pending = None
            if self._running is not None and not self._running.cancel.is_set():
                self._running.cancel.set()
                ids.append(self._running.id)
            self._active_id = None
        for request_id in ids:
            self.cancelled.emit(request_id)
        return ids[-1] if ids else None

    # --- worker side -----------------------------------------------------------------------------
    def _set_state(self, state: str, message: str) -> None:
        self._state, self._message = state, message
        self.model_state_changed.emit(state, message)

    def _run(self) -> None:
        self._load()
        while True:
            with self._lock:
                while self._pending is None and not self._quit:
                    self._lock.wait()
                if self._quit:
                    return
                job, self._pending = self._pending, None
                self._running = job
            try:
                self._generate(job)
            finally:
                with self._lock:
                    self._running = None
                    self._lock.notify_all()
                idle_after = time.perf_counter() - job.cancel.set_at if job.cancel.set_at else -1.0
                self.worker_idle.emit(job.id, idle_after)

    def _load(self) -> None:
        try:
            if self._engine_loader is not None:
                self._engine = self._engine_loader()
            else:
                self._engine = _default_engine(self._generator, self._weights_path)
            self.generators = list(getattr(self._engine, "generator_names", lambda: [])() or [])
            self.default_generator = getattr(self._engine, "default_generator", None) or (
                self.generators[0] if self.generators else None
            )
            self._set_state(READY, getattr(self._engine, "description", "Model ready"))
        except BaseException as exc:  # noqa: BLE001 - any failure becomes a message, never a crash
            self._engine = None
            self._set_state(ERROR, classify_load_error(exc, self._weights_path))

    def _generate(self, job: _Job) -> None:
        request = job.request
        if job.cancel.is_set():
            return
        if self._engine is None:
            self.errored.emit(job.id, self._message or "The generation model is not loaded.")
            return
        job.started_at = time.perf_counter()
        self.started.emit(job.id)
        count = itertools.count()

        def on_candidate(candidate) -> None:
            if not job.cancel.is_set():
                self.candidate.emit(job.id, next(count), candidate)

        try:
            results = self._engine.suggest(request, cancel=job.cancel, on_candidate=on_candidate)
        except BaseException as exc:  # noqa: BLE001
            if job.cancel.is_set():
                return
            if type(exc).__name__ in ("Cancelled", "CancelledError", "GenerationCancelled"):
                return
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.errored.emit(job.id, f"Generation failed: {detail}")
            return
        if job.cancel.is_set():
            return
        self.finished.emit(job.id, list(results or []))


def engine_key_constraint(value: str | None):
    """The panel's key setting -> the engine's ``key_constraint`` ("auto", "strict", "none" or a Key)."""
    if value in (None, "", "clip", "auto"):
        return "auto"
    if value in ("strict", "none"):
        return value
    if value == "off":
        return "none"
    from composer_app.core.theory import Key  # noqa: PLC0415

    return Key.parse(value)


class _EngineAdapter:
    """Calls ``composer_app.generation.engine.suggest`` for a :class:`SuggestRequest`.

    Streaming: the engine samples a batch of candidates together, so they all finish at about the
    same time. To show something early, the first candidate is generated on its own and the rest
    in one batch after it (``first_alone``); candidate i still uses ``seed + i``, so the results
    are the same candidates a single call would give for that seed.
    """

    def __init__(self, engine_module, model, generator: str | None, *, first_alone: bool = True):
        self._engine = engine_module
        self._model = model
        self.default_generator = generator
        self.first_alone = first_alone
        self.description = f"Model ready ({generator})" if generator else "Model ready"

    def generator_names(self) -> list[str]:
        try:
            from composer_app.generation import registry  # noqa: PLC0415 (worker thread)

            return list(registry.names())
        except Exception:  # noqa: BLE001
            return [self.default_generator] if self.default_generator else []

    def suggest(self, request: SuggestRequest, *, cancel, on_candidate):
        generator = request.generator or self.default_generator
        model = self._model if generator in (None, self.default_generator) else None
        common = dict(
            targets=request.targets,
            key_constraint=engine_key_constraint(request.key_constraint),
            cancel=cancel,
            model=model,
        )
        if generator is not None:
            common["generator"] = generator
        temperature = max(request.temperature, 1e-3)  # 0 on the slider means "nearly greedy"
        try:
            if not self.first_alone or request.candidates == 1:
                return self._engine.suggest(
                    request.prompt, request.mood, request.bars, request.candidates, temperature, request.seed,
                    on_candidate=on_candidate, **common,
                )
            first = self._engine.suggest(
                request.prompt, request.mood, request.bars, 1, temperature, request.seed, on_candidate=on_candidate, **common
            )

            rest: list = []

            def renumbered(candidate):
                rest.append(replace(candidate, index=candidate.index + 1))
                on_candidate(rest[-1])

            self._engine.suggest(
                request.prompt, request.mood, request.bars, request.candidates - 1, temperature, request.seed + 1,
                on_candidate=renumbered, **common,
            )
            return first + sorted(rest, key=lambda c: c.index)
        except self._engine.Cancelled:
            raise GenerationCancelled() from None


class GenerationCancelled(Exception):
    """The running request was cancelled (the worker drops it silently)."""


def _default_engine(generator: str | None, weights_path: Path | None):
    """Import torch and the engine, and load the weights (runs on the worker thread)."""
    import torch  # noqa: F401, PLC0415 - imported here, never on the GUI start-up path

    from composer_app.generation import registry  # noqa: PLC0415

    name = generator or registry.DEFAULT_GENERATOR
    if weights_path is not None:
        model = registry.load_weights(Path(weights_path))
        model.generator_name = name
    else:
        model = registry.load_generator(name)
    from composer_app.generation import engine  # noqa: PLC0415

    return _EngineAdapter(engine, model, name)
