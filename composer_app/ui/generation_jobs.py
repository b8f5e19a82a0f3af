"""The ONE place that owns generation: a worker process (or, for injected engines, a thread).

Everything torch-related happens away from the GUI thread, owned by :class:`GenerationJobs`:

* **Where.** The real engine runs in a **worker process** (``multiprocessing``, spawn): it imports
  torch, loads the weights and generates there, so neither the torch import (which holds the
  interpreter lock for long stretches: ~0.5 s stalls when done on a thread) nor the sampling
  loop can stall the GUI's event loop. Requests and candidates cross as pickled plain values
  (core ``Project``/``Note``, ``Mood``, ``AttributeTargets``, the engine's ``Candidate``). An
  engine handed in as ``engine_loader`` (tests, benchmarks of the plumbing) runs on a thread
  of this process instead; both paths share the bookkeeping and the signals below.
* **Model loading.** :meth:`GenerationJobs.start` (called once the main window is shown) starts
  the worker, which loads the default generator's weights first. The state is reported by
  ``model_state_changed(state, message)`` with ``state`` one of ``"loading"``, ``"ready"``,
  ``"error"`` (no model file, a broken file: the message says which and what to do).
* **Generation.** :meth:`submit` hands the worker a :class:`SuggestRequest`. The worker calls
  ``composer_app.generation.engine.suggest`` and reports back through the signals
  ``started(id)``, ``candidate(id, index, Candidate)`` (each one as it finishes),
  ``finished(id, [Candidate])``, ``errored(id, message)`` and ``cancelled(id)``. Slots run on the
  GUI thread (signals are emitted from a reader thread and queued).

**A second request while one runs replaces it**: the running request is cancelled (its
``cancelled`` signal is emitted at once, anything it still produces is dropped) and the new one
starts as soon as the worker has left the old one, which it does at the engine's next
cancellation check (one sampling step, a few milliseconds). A request that was waiting and not yet
started is simply replaced (and reported ``cancelled``). The latest click always wins: this is
what a composer who clicks "Suggest" again after moving the mood point means.

**A worker that dies is restarted.** Killed, crashed, or out of memory (the worker answers a
``MemoryError`` and exits with ``WORKER_OUT_OF_MEMORY_EXIT``, its heap being suspect): the reader
thread, which supervises it, fails every request the dead worker held with one readable line
(``errored``: "The generation process was killed (signal 9, SIGKILL) … click Suggest again"),
reports ``loading`` and starts a new worker; a request made meanwhile waits for the new one. After
``MAX_RESTARTS`` deaths within ``RESTART_WINDOW_S`` it gives up with an ``error`` state, and every
later request fails at once with that message. Tracebacks of failed requests go to the log.

**Cancel** (:meth:`cancel`) raises the cancel mark that the engine polls between sampling steps
(a shared integer: every request with an id up to the mark is cancelled); the GUI is told
``cancelled`` immediately, and ``worker_idle(id, seconds)`` reports how long the worker took to
stop (the tests demand < 100 ms).
"""

from __future__ import annotations

import itertools
import logging
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal

from composer_app.core.project import Project
from composer_app.mood.mood import Mood

LOADING, READY, ERROR, IDLE = "loading", "ready", "error", "idle"
COMPARE_GENERATORS = "compare"  # the generator setting that asks every shipped generator the same request

log = logging.getLogger(__name__)

MAX_RESTARTS = 3  # a worker that dies more often than this within RESTART_WINDOW_S is not restarted
RESTART_WINDOW_S = 60
PROCESS_REAP_TIMEOUT_S = 2.0  # how long to wait for a dead worker's exit status
WORKER_OUT_OF_MEMORY_EXIT = 75  # the worker's exit code after a MemoryError (its heap may be unusable)


def describe_exit(code: int | None) -> str:
    """A worker's exit status in words, to follow "The generation process …"."""
    if code == WORKER_OUT_OF_MEMORY_EXIT:
        return "ran out of memory"
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        reason = f"was killed (signal {-code}, {name})"
        if -code == signal.SIGKILL:
            reason += ": by another program, or by the system when memory ran out"
        return reason
    return f"stopped unexpectedly (exit code {code})"


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
    generators: tuple[str, ...] = ()  # two or more: compare them on this one request (each gives `candidates`)
    targets: Any = None  # AttributeTargets with the advanced overrides applied, or None
    key_constraint: str = "clip"  # "clip" (lean into the clip's key), "strict", "off", or a key such as "D minor"
    label: str = ""  # what the panel shows while it runs
    extra: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class GeneratorTask:
    """A request for one capability of a named generator (``vary``, ``interpolate``, …), as plain data.

    ``request`` is the generator interface's request value (``VaryRequest``, ``InterpolateRequest``);
    the worker calls ``generator.<capability>(request)`` and streams the candidates like a suggestion.
    """

    capability: str  # a Generator method: "vary", "interpolate", "harmonize"
    request: Any
    generator: str  # registry name
    label: str = ""  # what the panel shows while it runs
    candidates: int = 1  # how many results to expect (the panel's progress)


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
    """Owns the generation worker (model loading + one running request at a time)."""

    model_state_changed = Signal(str, str)  # (state: loading|ready|error, message)
    started = Signal(int)  # (request id)
    candidate = Signal(int, int, object)  # (request id, index, Candidate)
    finished = Signal(int, object)  # (request id, list of Candidates)
    errored = Signal(int, str)  # (request id, one-line message)
    cancelled = Signal(int)  # (request id)
    worker_idle = Signal(int, float)  # (request id, seconds from cancel to the worker being free; -1 if not cancelled)
    _fail_later = Signal(int, str)  # (request id, message) internal: errored + worker_idle after submit() returned

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        engine_loader: Callable[[], Any] | None = None,
        generator: str | None = None,
        weights_path: Path | str | None = None,
        use_process: bool | None = None,
    ):
        """``engine_loader()`` returns an object with ``suggest(request, cancel=, on_candidate=)``
        and runs on a worker thread. Without it, the real engine runs in a worker process, loading
        ``generator`` (or the default) from ``weights_path`` (or the shipped models/)."""
        super().__init__(parent)
        self._engine_loader = engine_loader
        self._generator = generator
        self._weights_path = Path(weights_path) if weights_path else None
        self._use_process = engine_loader is None if use_process is None else use_process
        self._engine: Any = None
        self._state = IDLE
        self._message = ""
        self._lock = threading.Condition()
        self._pending: _Job | None = None  # thread path: the next request
        self._running: _Job | None = None  # thread path: the request being generated
        self._outstanding: dict[int, float | None] = {}  # process path: sent, not yet idle -> cancel time
        self._active_id: int | None = None  # the request whose results the GUI still wants
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._process = None
        self._conn = None
        self._cancel_mark = None  # process path: shared int, requests with id <= mark are cancelled
        self._quit = False
        self._spawned = threading.Event()
        self._worker_up = False  # process path: the current worker's pipe is open
        self._supervising = True  # process path: a worker runs or is being (re)started
        self._queued: tuple[int, SuggestRequest] | None = None  # process path: waits for a restarted worker
        self.generators: list[str] = []
        self.default_generator: str | None = None
        self._emit_lock = threading.RLock()  # held while a signal is emitted; shutdown() takes it to end emission
        self._closed = False  # after shutdown(): no signal is emitted any more (the object may be going)
        self._fail_later.connect(self._fail_now, Qt.ConnectionType.QueuedConnection)
        if parent is not None:
            # Stop the worker before the owner deletes this object: a reader thread left running
            # would emit on a deleted object ("Signal source has been deleted"). Qt emits the
            # owner's destroyed() before it deletes its children.
            parent.destroyed.connect(lambda *_: self.shutdown())

    def _emit(self, name: str, *args) -> None:
        """Emit signal ``name`` unless shut down (from any thread)."""
        with self._emit_lock:
            if not self._closed:
                getattr(self, name).emit(*args)

    def _fail_now(self, job_id: int, message: str) -> None:
        if self.is_current(job_id):
            self._emit("errored", job_id, message)
        self._emit("worker_idle", job_id, -1.0)

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
            if self._use_process:
                return bool(self._outstanding)
            return self._running is not None or self._pending is not None

    @property
    def active_id(self) -> int | None:
        return self._active_id

    def is_current(self, request_id: int) -> bool:
        """Whether results of ``request_id`` are still wanted (not cancelled or replaced)."""
        return request_id == self._active_id

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker; it loads the models first (call once the window is shown)."""
        if self._thread is not None or self._closed:
            return  # running, or shut down (a start queued before shutdown() arrives late)
        self._set_state(LOADING, "Loading the generation model…")
        if self._use_process:
            # spawning (imports + fork/exec, ~35 ms) happens on the reader thread, not here
            self._thread = threading.Thread(target=self._spawn_and_read, name="composer-generation-reader", daemon=True)
        else:
            self._thread = threading.Thread(target=self._run, name="composer-generation", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 2.0) -> None:
        """Cancel everything and stop the worker (window closing, or the owner being deleted).

        No signal is emitted after it starts, even by a worker thread that outlives ``timeout``,
        and ``start`` does nothing after it."""
        with self._emit_lock:
            self._closed = True
        with self._lock:
            self._quit = True
            if self._running:
                self._running.cancel.set()
            self._pending = None
            self._lock.notify_all()
        if self._use_process and self._thread is not None:
            self._spawned.wait(5.0)
        if self._cancel_mark is not None:
            self._cancel_mark.value = 2**62
        if self._conn is not None:
            try:
                self._conn.send(("quit",))
            except (OSError, ValueError):
                pass
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(1.0)
        if self._thread is not None:
            self._thread.join(timeout)
        if self._conn is not None:
            self._conn.close()
        self._thread = self._process = self._conn = None

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
        if self._thread is None:
            self.start()
        job = _Job(next(self._ids), request)
        replaced: list[int] = []
        with self._lock:
            if self._use_process:
                replaced = self._mark_outstanding_cancelled()
                self._outstanding[job.id] = None
                if self._cancel_mark is not None:
                    self._cancel_mark.value = job.id - 1
            else:
                if self._running is not None and not self._running.cancel.is_set():
                    self._running.cancel.set()
                    replaced.append(self._running.id)
                if self._pending is not None:
                    replaced.append(self._pending.id)
                self._pending = job
            self._active_id = job.id
            self._lock.notify_all()
        for old in replaced:
            self._emit("cancelled", old)
        if self._use_process:
            self._spawned.wait(5.0)  # only waits in the first moments after start()
            self._send_or_queue(job.id, request)
        return job.id

    def _send_or_queue(self, job_id: int, request: SuggestRequest) -> None:
        """(Process mode) Hand the request to the worker; while it restarts, keep it for the new one."""
        with self._lock:
            conn = self._conn if self._worker_up else None
            if conn is None and self._supervising:
                self._queued = (job_id, request)
                return
        if conn is None:  # no worker and none coming: say so, never leave the request waiting
            with self._lock:
                self._outstanding.pop(job_id, None)
            # queued: the caller of submit() learns the id before the failure arrives
            self._emit("_fail_later", job_id, self._message or "The generation process is not running.")
            return
        try:
            conn.send(("generate", job_id, request))
        except (OSError, ValueError) as exc:  # the worker just died: the supervisor restarts it
            log.info("request %d waits for the restarted worker (%s)", job_id, exc)
            with self._lock:
                self._outstanding.pop(job_id, None)
                self._queued = (job_id, request)

    def cancel(self) -> int | None:
        """Cancel the running (and any waiting) request; returns the id told ``cancelled``."""
        ids: list[int] = []
        with self._lock:
            if self._use_process:
                ids = self._mark_outstanding_cancelled()
                if ids and self._cancel_mark is not None:
                    self._cancel_mark.value = max(self._cancel_mark.value, max(ids))
            else:
                if self._pending is not None:
                    ids.append(self._pending.id)
                    self._pending = None
                if self._running is not None and not self._running.cancel.is_set():
                    self._running.cancel.set()
                    ids.append(self._running.id)
            self._active_id = None
        for request_id in ids:
            self._emit("cancelled", request_id)
        return ids[-1] if ids else None

    def _mark_outstanding_cancelled(self) -> list[int]:
        """(Process mode, lock held) Mark every request still live as cancelled now; return their ids."""
        now = time.monotonic()
        ids = [request_id for request_id, cancelled_at in self._outstanding.items() if cancelled_at is None]
        for request_id in ids:
            self._outstanding[request_id] = now
        return ids

    # --- shared ------------------------------------------------------------------------------------
    def _set_state(self, state: str, message: str) -> None:
        if state in (READY, ERROR) and self._state == LOADING:
            _freeze_startup_heap()
        self._state, self._message = state, message
        self._emit("model_state_changed", state, message)

    # --- process path: the supervisor (reader) thread ----------------------------------------------------
    def _spawn_and_read(self) -> None:
        """Start the worker and read what it sends; when it dies, fail its requests and start another."""
        try:
            self._supervise()
        finally:
            with self._lock:
                self._supervising = False
                queued, self._queued = self._queued, None
            if queued is not None and not self._quit:
                self._send_or_queue(*queued)  # fails it with the state's message

    def _supervise(self) -> None:
        deaths: list[float] = []  # monotonic times of recent unexpected deaths
        while True:
            if not self._spawn():
                return
            self._read_process()
            if self._quit:
                return
            reason = self._death_reason()
            now = time.monotonic()
            deaths = [t for t in deaths if now - t < RESTART_WINDOW_S] + [now]
            self._fail_outstanding(reason)
            if len(deaths) > MAX_RESTARTS:
                log.error("generation worker %s; %d times in %d s: not restarted", reason, len(deaths), RESTART_WINDOW_S)
                self._set_state(ERROR, f"The generation process stopped {len(deaths)} times within a minute (last: it {reason}). "
                                       "Suggestions are off; restart the app (details: Help ▸ Open log folder).")
                return
            log.warning("generation worker %s: restarting it", reason)
            self._set_state(LOADING, f"The generation process {reason}; restarting it…")

    def _spawn(self) -> bool:
        self._spawned.clear()
        try:
            import multiprocessing  # noqa: PLC0415

            context = multiprocessing.get_context("spawn")
            if self._cancel_mark is None:
                self._cancel_mark = context.RawValue("q", 0)
            conn, child = context.Pipe(duplex=True)
            process = context.Process(
                target=_process_main,
                args=(child, self._cancel_mark, self._generator, str(self._weights_path) if self._weights_path else None),
                name="composer-generation",
                daemon=True,
            )
            _start_without_main(process)
            child.close()
        except Exception as exc:  # noqa: BLE001
            log.exception("the generation worker could not start")
            self._set_state(ERROR, f"The generation process could not start: {exc}")
            self._spawned.set()
            return False
        with self._lock:
            old = self._conn
            self._process, self._conn, self._worker_up = process, conn, True
            queued, self._queued = self._queued, None
        if old is not None:
            old.close()
        self._spawned.set()
        if queued is not None and self.is_current(queued[0]):
            with self._lock:
                self._outstanding[queued[0]] = None
            self._send_or_queue(*queued)
        return True

    def _read_process(self) -> None:
        conn = self._conn
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                with self._lock:
                    self._worker_up = False
                return
            except Exception as exc:  # noqa: BLE001 - an unpicklable result: report, keep reading
                log.exception("a message from the generation worker could not be read")
                if self._active_id is not None:
                    self._emit("errored", self._active_id, f"Generation failed: a result could not be read ({exc})")
                continue
            kind = message[0]
            if kind == "state":
                _, state, text, generators, default = message
                self.generators, self.default_generator = list(generators), default
                self._set_state(state, text)
            elif kind == "started":
                if self.is_current(message[1]):
                    self._emit("started", message[1])
            elif kind == "candidate":
                _, job_id, index, candidate = message
                if self.is_current(job_id):
                    self._emit("candidate", job_id, index, candidate)
            elif kind == "finished":
                if self.is_current(message[1]):
                    self._emit("finished", message[1], message[2])
            elif kind == "errored":
                _, job_id, text, details = message
                log.error("generation request %d failed: %s\n%s", job_id, text, details)
                if self.is_current(job_id):
                    self._emit("errored", job_id, text)
            elif kind == "idle":
                job_id = message[1]
                with self._lock:
                    cancelled_at = self._outstanding.pop(job_id, None)
                self._emit("worker_idle", job_id, time.monotonic() - cancelled_at if cancelled_at else -1.0)

    def _death_reason(self) -> str:
        """How the worker ended, in words ("was killed (signal 9, SIGKILL)", "ran out of memory")."""
        process = self._process
        code = None
        if process is not None:
            process.join(PROCESS_REAP_TIMEOUT_S)
            code = process.exitcode
        return describe_exit(code)

    def _fail_outstanding(self, reason: str) -> None:
        """Every request the dead worker held fails with one readable line."""
        with self._lock:
            outstanding = list(self._outstanding)
            self._outstanding.clear()
        text = f"The generation process {reason} and is being restarted: click Suggest again."
        for job_id in outstanding:
            if self.is_current(job_id):
                self._emit("errored", job_id, text)
            self._emit("worker_idle", job_id, -1.0)

    # --- thread path ---------------------------------------------------------------------------------
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
                self._emit("worker_idle", job.id, idle_after)

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
        if job.cancel.is_set():
            return
        if self._engine is None:
            self._emit("errored", job.id, self._message or "The generation model is not loaded.")
            return
        job.started_at = time.perf_counter()
        self._emit("started", job.id)
        count = itertools.count()

        def on_candidate(candidate) -> None:
            if not job.cancel.is_set():
                self._emit("candidate", job.id, next(count), candidate)

        try:
            results = self._engine.suggest(job.request, cancel=job.cancel, on_candidate=on_candidate)
        except BaseException as exc:  # noqa: BLE001
            if job.cancel.is_set() or type(exc).__name__ in ("Cancelled", "CancelledError", "GenerationCancelled"):
                return
            log.error("generation request %d failed", job.id, exc_info=exc)
            self._emit("errored", job.id, _failure_message(exc))
            return
        if job.cancel.is_set():
            return
        self._emit("finished", job.id, list(results or []))


def _freeze_startup_heap() -> None:
    """Move every object alive once the app has started (Qt wrappers, modules, the window) out of
    the cyclic garbage collector's reach (``gc.freeze``).

    Without it, a full collection scans ~190 k objects and holds the interpreter lock for 30-80 ms,
    whichever thread triggers it (often the reader thread unpickling candidates): the GUI stalls
    right after a click or as candidates arrive. Frozen objects are never collected, so this is
    done once, when the model is ready (the app's start-up objects live as long as the app).
    """
    import gc  # noqa: PLC0415

    gc.freeze()


def _start_without_main(process) -> None:
    """Start a spawn-context process without it re-importing the ``__main__`` script.

    A spawned child normally re-runs the parent's main script (as ``__mp_main__``) so that
    functions defined there can be unpickled; the worker's function lives in this module, and a
    main script without an ``if __name__ == "__main__"`` guard (a benchmark, ``python script.py``)
    would otherwise start a second app in the child. The main module is hidden while the child's
    start-up data is prepared (synchronously, inside ``start``).
    """
    import types  # noqa: PLC0415

    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        process.start()
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _failure_message(exc: BaseException) -> str:
    """One line for the panel: what went wrong, without the traceback (that goes to the log)."""
    if type(exc).__name__ == "WeightsError":  # one generator's file is broken; the others still work
        return f"Model unavailable: {exc}"
    if _is_out_of_memory(exc):
        return "Generation ran out of memory: try fewer candidates or bars (the generation process restarts)."
    lines = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return f"Generation failed: {lines[-1] if lines else type(exc).__name__}"


def _is_out_of_memory(exc: BaseException) -> bool:
    """A MemoryError, or torch's allocator failing ("DefaultCPUAllocator: can't allocate memory")."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text)


def _process_main(conn, cancel_mark, generator: str | None, weights_path: str | None) -> None:
    """The worker process: load the engine, then serve requests until "quit" or the pipe closes.

    After running out of memory it answers the request and exits with ``WORKER_OUT_OF_MEMORY_EXIT``
    (its heap may be in no state to go on); the GUI's supervisor starts a fresh worker.
    """
    try:
        out_of_memory = _serve(conn, cancel_mark, generator, weights_path)
    except MemoryError:
        out_of_memory = True
    if out_of_memory:
        sys.exit(WORKER_OUT_OF_MEMORY_EXIT)


def _serve(conn, cancel_mark, generator: str | None, weights_path: str | None) -> bool:
    """Serve requests; returns True when the worker must end because memory ran out."""
    try:
        engine = _default_engine(generator, Path(weights_path) if weights_path else None)
        state = ("state", READY, engine.description, engine.generator_names(), engine.default_generator)
        failure = ""
    except BaseException as exc:  # noqa: BLE001
        engine = None
        failure = classify_load_error(exc, Path(weights_path) if weights_path else None)
        state = ("state", ERROR, failure, [], None)
    try:
        conn.send(state)
    except OSError:  # the app went away while the model loaded
        return False
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return False
        if message[0] != "generate":
            return False
        _, job_id, request = message
        out_of_memory = False

        def cancelled(job_id=job_id) -> bool:
            return cancel_mark.value >= job_id

        try:
            if cancelled():
                continue
            if engine is None:
                conn.send(("errored", job_id, failure or "The generation model is not loaded.", ""))
                continue
            conn.send(("started", job_id))
            count = itertools.count()

            def on_candidate(candidate, job_id=job_id, count=count) -> None:
                if not cancelled():
                    conn.send(("candidate", job_id, next(count), candidate))

            try:
                results = engine.suggest(request, cancel=cancelled, on_candidate=on_candidate)
            except BaseException as exc:  # noqa: BLE001
                out_of_memory = _is_out_of_memory(exc)
                if out_of_memory or (not cancelled() and type(exc).__name__ not in ("Cancelled", "GenerationCancelled")):
                    conn.send(("errored", job_id, _failure_message(exc), traceback.format_exc()))
                continue
            if not cancelled():
                conn.send(("finished", job_id, list(results or [])))
        except (BrokenPipeError, OSError):
            return False
        finally:
            try:
                conn.send(("idle", job_id))
            except (BrokenPipeError, OSError):
                return False
            if out_of_memory:
                return True  # noqa: B012 - leave the loop after the answer went out


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
    """Answers a :class:`SuggestRequest` through the ``Generator`` interface (``generation.engine``).

    The engine streams each candidate through ``on_candidate`` as its batch finishes; the
    preloaded generator is passed in, so a request for it never loads weights (others load once,
    on first use). A request naming several generators compares them on one shared plan.
    """

    def __init__(self, engine_module, model, generator: str | None):
        self._engine = engine_module
        self._models = {generator: model} if generator else {}
        self.default_generator = generator
        self.description = f"Model ready ({generator})" if generator else "Model ready"

    def generator_names(self) -> list[str]:
        try:
            from composer_app.generation import registry  # noqa: PLC0415 (worker)

            return list(registry.names(shipped_only=True, capability="continue"))
        except Exception:  # noqa: BLE001
            return [self.default_generator] if self.default_generator else []

    def _generator(self, name: str):
        if name not in self._models:
            from composer_app.generation import registry  # noqa: PLC0415 (worker)

            self._models[name] = registry.load_generator(name)
        return self._models[name]

    def suggest(self, request: SuggestRequest, *, cancel, on_candidate):
        if isinstance(request, GeneratorTask):
            return self.run_task(request, cancel=cancel, on_candidate=on_candidate)
        names = tuple(request.generators) or (request.generator or self.default_generator,)
        kwargs = dict(
            targets=request.targets,
            key_constraint=engine_key_constraint(request.key_constraint),
            cancel=cancel,
            on_candidate=on_candidate,
            temperature=max(request.temperature, 1e-3),  # 0 on the slider means "nearly greedy"
        )
        try:
            if len(names) > 1:
                models = {name: self._generator(name) for name in names}
                return self._engine.compare(
                    request.prompt, names, request.mood, request.bars, request.candidates, request.seed, models=models, **kwargs
                )
            return self._engine.suggest(
                request.prompt, request.mood, request.bars, request.candidates, seed=request.seed,
                model=self._generator(names[0]), **kwargs,
            )
        except self._engine.Cancelled:
            raise GenerationCancelled() from None

    def run_task(self, task: GeneratorTask, *, cancel, on_candidate):
        """``generator.<capability>(request)`` on the named generator (loaded once per worker)."""
        from composer_app.generation.generator import Cancelled  # noqa: PLC0415 (worker)

        generator = self._generator(task.generator)
        try:
            return getattr(generator, task.capability)(task.request, cancel=cancel, on_candidate=on_candidate)
        except Cancelled:
            raise GenerationCancelled() from None


class GenerationCancelled(Exception):
    """The running request was cancelled (the worker drops it silently)."""


def _default_engine(generator: str | None, weights_path: Path | None):
    """Import torch and the engine, and load the weights (runs on the worker thread)."""
    import torch  # noqa: PLC0415 - imported here, never on the GUI start-up path

    import os  # noqa: PLC0415

    # leave a core to the GUI: 1 thread on a 2-core laptop (also the engine's fastest setting there)
    torch.set_num_threads(max(1, min(4, (os.cpu_count() or 2) - 1)))

    from composer_app.generation import registry  # noqa: PLC0415

    name = generator or registry.DEFAULT_GENERATOR
    if weights_path is not None:
        model = registry.load_weights(Path(weights_path))
        model.name = name
    else:
        model = registry.load_generator(name)
    from composer_app.generation import engine  # noqa: PLC0415

    return _EngineAdapter(engine, model, name)
