"""The transport: play, pause, stop, seek and loop a project, sending its events on time to every sink.

One scheduler thread owns the sinks and all playback state. The public methods put a command on a
``queue.Queue`` and wait (briefly) until the scheduler has carried it out; readers of
``position_tick``/``is_playing`` see an immutable snapshot the scheduler publishes under a lock.

Timing: event times come from the project's tempo map, anchored to ``time.perf_counter()`` (a
monotonic clock). The scheduler always knows the next due time; it blocks on its command queue
until ``LOOKAHEAD_S`` before it, then waits out the rest in short sleeps, so that a command (stop,
seek) is handled at once and the send happens within a fraction of a millisecond of its due time
instead of after one long, imprecise sleep. Events due within ``BATCH_WINDOW_S`` of each other go
out together.

Python threads: the scheduler thread asks for real-time scheduling (``SCHED_RR``, else a better
nice value), and while playing the interpreter's GIL switch interval is lowered to
``GIL_SWITCH_INTERVAL_S`` (restored when playback stops), so that a generation job computing on
another thread of the same process delays a send by at most about that much instead of 5 ms.

Cutting notes: the scheduler remembers which keys it struck. On stop, pause, seek, loop wrap and
project update it sends their note-offs; on stop and close it also sends ``panic()`` to every sink.
"""

from __future__ import annotations

import heapq
import logging
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from collections.abc import Callable

import mido

from composer_app.core.project import LoopRegion, Project
from composer_app.core.timing import TempoMap
from composer_app.playback.schedule import (
    NOTE_OFF_VELOCITY,
    TimedEvent,
    first_index_at_or_after,
    program_messages,
    project_events,
)
from composer_app.playback.sink import Sink

log = logging.getLogger(__name__)

LOOKAHEAD_S = 0.0015  # lookahead: wake this long before the next event is due, then wait it out precisely
SPIN_SLEEP_S = 0.0002  # then sleep in slices of at most this long until it is due
BATCH_WINDOW_S = 0.0002  # events due this close together are sent in one go
START_DELAY_S = 0.005  # play() anchors the first tick this far ahead so it is not already late
POSITION_INTERVAL_S = 1 / 30  # how often position listeners hear the playhead while playing
HEALTH_INTERVAL_S = 0.25  # how often sinks are asked whether their device is still there
QUIET_MARGIN_S = 0.002  # position reports and health checks wait if an event is due sooner than this
COMMAND_TIMEOUT_S = 2.0  # how long a public method waits for the scheduler to carry it out
GIL_SWITCH_INTERVAL_S = 0.0005  # while playing: how soon a busy Python thread must hand the GIL over
REALTIME_PRIORITY = 5  # SCHED_RR priority for the scheduler thread (Linux, where allowed): above normal
# tasks, below audio servers (JACK runs its threads at 10 and above by default)

PositionListener = Callable[[int], None]  # called with the playhead tick, on the scheduler thread

STOPPED, PLAYING, PAUSED = "stopped", "playing", "paused"


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What other threads may read: replaced whole by the scheduler, never mutated."""

    state: str = STOPPED
    tick: int = 0  # the position while not playing; the anchor tick while playing
    anchor_seconds: float = 0.0  # tempo-map seconds of ``tick``
    anchor_time: float = 0.0  # perf_counter() at which ``tick`` sounds (playing only)
    tempo_map: TempoMap | None = None
    loop: LoopRegion | None = None

    def position_at(self, now: float) -> int:
        if self.state != PLAYING or self.tempo_map is None:
            return self.tick
        elapsed = now - self.anchor_time
        if elapsed <= 0:
            return self.tick
        tick = int(self.tempo_map.seconds_to_tick(self.anchor_seconds + elapsed))
        if self.loop is not None and self.tick < self.loop.end_tick:
            tick = min(tick, self.loop.end_tick - 1)
        return tick


@dataclass(frozen=True, slots=True)
class TimingRecord:
    """One sent event, for measurements: when it was due and when it went out (perf_counter s)."""

    due_s: float
    sent_s: float
    message: mido.Message


class Transport:
    """Real-time playback of a ``Project`` to a set of sinks, from its own high-priority thread.

    ``sinks``: the outputs every event goes to at once (a failed sink is skipped, the others go on).
    ``timing_log``: a ``queue.Queue`` that receives a ``TimingRecord`` per sent event (benchmarks).
    ``realtime_priority``: ask for a real-time scheduler thread and a short GIL switch interval
    while playing (see the module's doc).
    The transport does not close sinks replaced by ``set_sinks``; ``close()`` closes the current ones
    unless ``close_sinks=False``.
    """

    def __init__(self, sinks=(), *, timing_log: queue.Queue | None = None, realtime_priority: bool = True):
        self._commands: queue.Queue = queue.Queue()
        self._snapshot = _Snapshot()
        self._snapshot_lock = threading.Lock()
        self._listeners: list[PositionListener] = []
        self._idle = threading.Event()
        self._idle.set()
        self._closed = False
        self.thread_priority = "normal"  # what the scheduler thread got: "SCHED_RR 10", "nice -10", "normal"
        self._scheduler = _Scheduler(self, tuple(sinks), timing_log, realtime_priority)
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._scheduler.run, name="composer-playback", daemon=True)
        self._thread.start()
        self._started.wait(COMMAND_TIMEOUT_S)  # so that thread_priority is known

    # -- reading --------------------------------------------------------------------------------
    @property
    def position_tick(self) -> int:
        """The playhead: where playback is (playing), holds (paused) or will start (stopped)."""
        with self._snapshot_lock:
            snapshot = self._snapshot
        return snapshot.position_at(time.perf_counter())

    @property
    def is_playing(self) -> bool:
        return self._snapshot.state == PLAYING

    @property
    def state(self) -> str:
        """``"stopped"``, ``"playing"`` or ``"paused"``."""
        return self._snapshot.state

    @property
    def loop(self) -> LoopRegion | None:
        return self._snapshot.loop

    @property
    def sinks(self) -> tuple[Sink, ...]:
        return self._scheduler.sinks

    def add_position_listener(self, callback: PositionListener) -> None:
        """Call ``callback(tick)`` ~30 times a second while playing and once on every stop, pause, seek.

        It runs on the scheduler thread and must return quickly: a GUI posts it to its own thread.
        """
        self._listeners = [*self._listeners, callback]

    def remove_position_listener(self, callback: PositionListener) -> None:
        self._listeners = [c for c in self._listeners if c is not callback]

    def wait(self, timeout: float | None = None) -> bool:
        """Block until playback is not running (ended, stopped or paused); False on timeout."""
        return self._idle.wait(timeout)

    # -- commands -------------------------------------------------------------------------------
    def play(self, project: Project, start_tick: int = 0) -> None:
        """Play ``project`` from ``start_tick`` (program changes first); replaces what was playing."""
        if not isinstance(project, Project):
            raise TypeError("project must be a Project")
        if not isinstance(start_tick, int) or isinstance(start_tick, bool):
            raise TypeError("start_tick must be an int")
        if start_tick < 0:
            raise ValueError("start_tick must be >= 0")
        self._idle.clear()
        self._command("play", project, start_tick)

    def resume(self) -> None:
        """Play the last project on from the playhead (after pause, stop or seek)."""
        self._command("resume")

    def pause(self) -> None:
        """Stop sounding and hold the playhead where it is."""
        self._command("pause")

    def stop(self) -> None:
        """Stop, cut every sounding note, panic every sink; the playhead returns to where play started."""
        self._command("stop")

    def seek(self, tick: int) -> None:
        """Move the playhead; while playing, sounding notes are cut and playback goes on from there."""
        if not isinstance(tick, int) or isinstance(tick, bool):
            raise TypeError("tick must be an int")
        if tick < 0:
            raise ValueError("tick must be >= 0")
        self._command("seek", tick)

    def set_loop(self, loop: LoopRegion | None) -> None:
        """Loop over ``loop`` (None: no loop). Takes effect at once, also while playing."""
        if loop is not None and not isinstance(loop, LoopRegion):
            raise TypeError("loop must be a LoopRegion or None")
        self._command("loop", loop)

    def update_project(self, project: Project) -> None:
        """Use an edited project from now on; while playing, sounding notes are cut and play goes on."""
        if not isinstance(project, Project):
            raise TypeError("project must be a Project")
        self._command("update", project)

    def set_sinks(self, sinks) -> None:
        """Send to ``sinks`` from now on; the old ones get their notes cut and a panic (not closed)."""
        sinks = tuple(sinks)
        for sink in sinks:
            if not isinstance(sink, Sink):
                raise TypeError("sinks must be Sink values")
        self._command("sinks", sinks)

    def audition_note(
        self, pitch: int, velocity: int = 100, channel: int = 0, program: int = 0, duration_ms: int = 300
    ) -> None:
        """Sound one note now on every sink (for hearing a note while editing), playing or not."""
        # Validation by mido gives its exact messages ("note must be in range 0..127").
        on = mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)
        program_change = mido.Message("program_change", channel=channel, program=program)
        if not isinstance(duration_ms, (int, float)) or isinstance(duration_ms, bool):
            raise TypeError("duration_ms must be a number")
        if duration_ms <= 0:
            raise ValueError("duration_ms must be > 0")
        self._command("audition", program_change, on, duration_ms / 1000.0, wait=False)

    def close(self, close_sinks: bool = True) -> None:
        """Stop, panic every sink, end the scheduler thread (and close the sinks unless told not to)."""
        if self._closed:
            return
        self._command("close", close_sinks)
        if threading.current_thread() is not self._thread:
            self._thread.join(COMMAND_TIMEOUT_S)
        self._closed = True
        self._idle.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _command(self, name: str, *args, wait: bool = True) -> None:
        if self._closed:
            raise RuntimeError("the transport is closed")
        done = threading.Event()
        self._commands.put((name, args, done))
        if wait and threading.current_thread() is not self._thread:
            if not done.wait(COMMAND_TIMEOUT_S):
                log.warning("playback thread did not answer %r within %.1f s", name, COMMAND_TIMEOUT_S)

    # -- for the scheduler ----------------------------------------------------------------------
    def _publish(self, snapshot: _Snapshot) -> None:
        with self._snapshot_lock:
            self._snapshot = snapshot
        if snapshot.state == PLAYING:
            self._idle.clear()
        else:
            self._idle.set()

    def _notify_position(self, tick: int) -> None:
        for callback in self._listeners:
            try:
                callback(tick)
            except Exception:
                log.exception("position listener failed")


class _Scheduler:
    """Everything that runs on the playback thread. Only this thread touches these attributes."""

    def __init__(self, transport: Transport, sinks: tuple[Sink, ...], timing_log, realtime_priority: bool):
        self.transport = transport
        self.sinks = sinks
        self.timing_log = timing_log
        self.realtime_priority = realtime_priority
        self.project: Project | None = None
        self.events: tuple[TimedEvent, ...] = ()
        self.index = 0  # next event to send
        self.state = STOPPED
        self.play_start_tick = 0  # where stop() returns the playhead
        self.position = 0  # playhead while not playing
        self.anchor_tick = 0
        self.anchor_seconds = 0.0
        self.anchor_time = 0.0
        self.loop: LoopRegion | None = None
        self.looping = False  # the loop applies to this pass (playback started before its end)
        self.sounding: set[tuple[int, int]] = set()  # (channel, pitch) struck and not yet released
        self.oneshots: list[tuple[float, int, mido.Message]] = []  # audition note-offs: (due, seq, msg)
        self.oneshot_seq = 0
        self.next_position_time = 0.0
        self.next_health_time = 0.0
        self.saved_switch_interval: float | None = None  # the interpreter's, while we lowered it

    # -- thread entry ---------------------------------------------------------------------------
    def run(self) -> None:
        self.transport.thread_priority = _raise_thread_priority() if self.realtime_priority else "normal"
        self.transport._started.set()
        commands = self.transport._commands
        while True:
            due = self.next_due()
            now = time.perf_counter()
            try:
                if due is None:
                    command = commands.get()
                elif due - now > LOOKAHEAD_S:
                    command = commands.get(timeout=due - now - LOOKAHEAD_S)
                else:
                    command = commands.get_nowait()
            except queue.Empty:
                command = None
            if command is not None:
                name, args, done = command
                try:
                    keep_running = self.handle(name, args)
                except Exception:
                    log.exception("playback command %r failed", name)
                    keep_running = True
                done.set()
                if not keep_running:
                    return
                continue
            if due is not None:
                self.wait_until(due)
                self.fire(time.perf_counter())

    @staticmethod
    def wait_until(due: float) -> None:
        while True:
            remaining = due - time.perf_counter()
            if remaining <= 0:
                return
            time.sleep(min(remaining, SPIN_SLEEP_S))

    # -- time -----------------------------------------------------------------------------------
    def due_time(self, seconds: float) -> float:
        return self.anchor_time + (seconds - self.anchor_seconds)

    def loop_wrap_time(self) -> float | None:
        if not (self.looping and self.loop is not None):
            return None
        return self.due_time(self.project.tempo_map.tick_to_seconds(self.loop.end_tick))

    def next_event_time(self) -> float | None:
        """When the next project event or loop wrap is due (playing only)."""
        if self.state != PLAYING:
            return None
        wrap = self.loop_wrap_time()
        if self.index < len(self.events):
            event = self.events[self.index]
            if wrap is None or event.tick < self.loop.end_tick:
                return self.due_time(event.seconds)
            return wrap
        if wrap is not None:
            return wrap
        return self.due_time(self.end_seconds())  # the end of the project

    def end_seconds(self) -> float:
        return self.project.tempo_map.tick_to_seconds(max(self.project.end_tick, self.anchor_tick))

    def next_due(self) -> float | None:
        times = []
        event_time = self.next_event_time()
        if event_time is not None:
            times += [event_time, self.next_position_time, self.next_health_time]
        if self.oneshots:
            times.append(self.oneshots[0][0])
        return min(times) if times else None

    def current_tick(self, now: float) -> int:
        return self.snapshot().position_at(now)

    # -- sending --------------------------------------------------------------------------------
    def send(self, msg: mido.Message, due: float | None = None) -> None:
        for sink in self.sinks:
            if sink.ok:
                try:
                    sink.send(msg)
                except Exception as error:  # a closed sink or a bug: never let it stop playback
                    sink.fail(f"{sink.name}: {error}")
        if msg.type == "note_on" and msg.velocity:
            self.sounding.add((msg.channel, msg.note))
        elif msg.type in ("note_off", "note_on"):
            self.sounding.discard((msg.channel, msg.note))
        if self.timing_log is not None and due is not None:
            self.timing_log.put(TimingRecord(due, time.perf_counter(), msg))

    def cut_sounding(self) -> None:
        """Release every key this transport struck and has not released."""
        for channel, pitch in sorted(self.sounding):
            self.send(mido.Message("note_off", channel=channel, note=pitch, velocity=NOTE_OFF_VELOCITY))
        self.sounding.clear()

    def panic(self, sinks=None) -> None:
        for sink in sinks if sinks is not None else self.sinks:
            try:
                sink.panic()
            except Exception:
                log.debug("panic failed on %s", sink.name, exc_info=True)

    def fire(self, now: float) -> None:
        """Send everything due by ``now`` (plus the batch window); handle wraps, end, reports."""
        horizon = now + BATCH_WINDOW_S
        while self.oneshots and self.oneshots[0][0] <= horizon:
            due, _, msg = heapq.heappop(self.oneshots)
            self.send(msg, due)
        if self.state == PLAYING:
            self.fire_events(horizon)
        if self.state != PLAYING:
            return
        # Housekeeping only when no event is about to be due; otherwise just after that event.
        next_event = self.next_event_time()
        quiet = next_event - time.perf_counter() > QUIET_MARGIN_S
        if now >= self.next_position_time:
            if quiet:
                self.transport._notify_position(self.current_tick(time.perf_counter()))
                self.next_position_time = now + POSITION_INTERVAL_S
            else:
                self.next_position_time = next_event + BATCH_WINDOW_S
        if now >= self.next_health_time:
            if quiet:
                for sink in self.sinks:
                    sink.check()
                self.next_health_time = now + HEALTH_INTERVAL_S
            else:
                self.next_health_time = next_event + BATCH_WINDOW_S

    def fire_events(self, horizon: float) -> None:
        while self.state == PLAYING:
            wrap = self.loop_wrap_time()
            if self.index < len(self.events):
                event = self.events[self.index]
                if wrap is None or event.tick < self.loop.end_tick:
                    due = self.due_time(event.seconds)
                    if due > horizon:
                        return
                    msg = event.message
                    # A note-off for a key not struck (its note began before a seek) is left out.
                    if msg.type != "note_off" or (msg.channel, msg.note) in self.sounding:
                        self.send(msg, due)
                    self.index += 1
                    continue
            if wrap is not None:
                if wrap > horizon:
                    return
                self.wrap_loop(wrap)
                continue
            end = self.due_time(self.end_seconds())
            if end > horizon:
                return
            self.finish()

    def wrap_loop(self, wrap_time: float) -> None:
        self.cut_sounding()
        self.set_anchor(self.loop.start_tick, wrap_time)
        self.index = first_index_at_or_after(self.events, self.loop.start_tick)
        self.transport._notify_position(self.loop.start_tick)

    def finish(self) -> None:
        """The project has played to its end."""
        self.cut_sounding()
        self.state = STOPPED
        self.position = self.play_start_tick
        self.publish()
        self.transport._notify_position(self.position)

    # -- state ----------------------------------------------------------------------------------
    def set_anchor(self, tick: int, at_time: float) -> None:
        self.anchor_tick = tick
        self.anchor_seconds = self.project.tempo_map.tick_to_seconds(tick)
        self.anchor_time = at_time
        self.publish()

    def snapshot(self) -> _Snapshot:
        if self.state == PLAYING:
            return _Snapshot(
                PLAYING,
                self.anchor_tick,
                self.anchor_seconds,
                self.anchor_time,
                self.project.tempo_map,
                self.loop if self.looping else None,
            )
        return _Snapshot(self.state, self.position, loop=self.loop)

    def publish(self) -> None:
        self.keep_gil_switch_interval()
        self.transport._publish(self.snapshot())

    def keep_gil_switch_interval(self) -> None:
        """Lower the GIL switch interval while playing; put the interpreter's back otherwise."""
        if not self.realtime_priority:
            return
        if self.state == PLAYING and self.saved_switch_interval is None:
            self.saved_switch_interval = sys.getswitchinterval()
            if self.saved_switch_interval > GIL_SWITCH_INTERVAL_S:
                sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        elif self.state != PLAYING and self.saved_switch_interval is not None:
            sys.setswitchinterval(self.saved_switch_interval)
            self.saved_switch_interval = None

    def start(self, tick: int, send_programs: bool) -> None:
        """Begin playing the current project at ``tick``."""
        now = time.perf_counter()
        if send_programs:
            for msg in program_messages(self.project):
                self.send(msg)
        self.state = PLAYING
        self.looping = self.loop is not None and tick < self.loop.end_tick
        self.index = first_index_at_or_after(self.events, tick)
        self.next_position_time = now
        self.next_health_time = now + HEALTH_INTERVAL_S
        self.set_anchor(tick, now + START_DELAY_S)

    def handle(self, name: str, args: tuple) -> bool:
        """Carry out one command; False ends the thread."""
        now = time.perf_counter()
        if name == "play":
            project, tick = args
            self.cut_sounding()
            self.project = project
            self.events = project_events(project, include_programs=False)
            self.play_start_tick = tick
            self.start(tick, send_programs=True)
        elif name == "resume":
            if self.project is not None and self.state != PLAYING:
                self.play_start_tick = self.position
                self.start(self.position, send_programs=True)
        elif name == "pause":
            if self.state == PLAYING:
                self.position = self.current_tick(now)
                self.cut_sounding()
                self.state = PAUSED
                self.publish()
                self.transport._notify_position(self.position)
        elif name == "stop":
            was_playing = self.state == PLAYING
            self.cut_sounding()
            self.panic()
            self.oneshots.clear()
            if was_playing or self.state == PAUSED:
                self.position = self.play_start_tick
            self.state = STOPPED
            self.publish()
            self.transport._notify_position(self.position)
        elif name == "seek":
            (tick,) = args
            if self.state == PLAYING:
                self.cut_sounding()
                self.play_start_tick = tick
                self.looping = self.loop is not None and tick < self.loop.end_tick
                self.index = first_index_at_or_after(self.events, tick)
                self.set_anchor(tick, now + START_DELAY_S)
            else:
                self.position = tick
                self.play_start_tick = tick
                self.publish()
            self.transport._notify_position(tick)
        elif name == "loop":
            (loop,) = args
            self.loop = loop
            if self.state == PLAYING:
                tick = self.current_tick(now)
                self.looping = loop is not None and tick < loop.end_tick
            self.publish()
        elif name == "update":
            (project,) = args
            if self.state == PLAYING:
                tick = self.current_tick(now)
                self.cut_sounding()
                self.project = project
                self.events = project_events(project, include_programs=False)
                for msg in program_messages(project):
                    self.send(msg)
                self.index = first_index_at_or_after(self.events, tick)
                self.set_anchor(tick, now)
            else:
                self.project = project
                self.events = project_events(project, include_programs=False)
        elif name == "sinks":
            (sinks,) = args
            old = self.sinks
            self.cut_sounding()
            self.panic([s for s in old if s not in sinks])
            self.sinks = sinks
            if self.state == PLAYING and self.project is not None:
                for msg in program_messages(self.project):
                    self.send(msg)
        elif name == "audition":
            program_change, note_on, duration_s = args
            self.send(program_change)
            self.send(note_on)
            self.oneshot_seq += 1
            off = mido.Message("note_off", channel=note_on.channel, note=note_on.note, velocity=NOTE_OFF_VELOCITY)
            heapq.heappush(self.oneshots, (now + duration_s, self.oneshot_seq, off))
        elif name == "close":
            (close_sinks,) = args
            self.cut_sounding()
            if close_sinks:
                for sink in self.sinks:
                    sink.close()  # closing panics first
            else:
                self.panic()
            self.state = STOPPED
            self.publish()
            return False
        return True


def _raise_thread_priority() -> str:
    """Ask for real-time round-robin scheduling for the calling thread, else a better nice value."""
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_RR"):
        try:
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))
            return f"SCHED_RR {REALTIME_PRIORITY}"
        except (OSError, PermissionError):
            pass
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -10)
            return "nice -10"
        except (OSError, PermissionError):
            pass
    return "normal"
