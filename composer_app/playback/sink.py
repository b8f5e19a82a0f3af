"""The one sink abstraction every output uses (FluidSynth, MIDI ports, the test fake).

As in mido's ports, the public ``send()`` validates the message and takes the sink's lock, then
calls the backend's ``_send()``; backends override only ``_send`` and ``_close`` (and ``_check`` if
they can notice a lost device). ``panic()`` is built in. A sink never raises into the scheduler
while playing: when its backend fails it marks itself not ``ok``, says why in ``status``, drops
further messages and tells its status listeners; the other sinks keep playing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import mido

log = logging.getLogger(__name__)

MIDI_CHANNELS = 16
CC_SUSTAIN = 64
CC_ALL_SOUND_OFF = 120
CC_ALL_NOTES_OFF = 123


def panic_messages() -> list[mido.Message]:
    """Sustain off, all-sound-off and all-notes-off on every channel."""
    messages = []
    for channel in range(MIDI_CHANNELS):
        messages.append(mido.Message("control_change", channel=channel, control=CC_SUSTAIN, value=0))
        messages.append(mido.Message("control_change", channel=channel, control=CC_ALL_SOUND_OFF, value=0))
        messages.append(mido.Message("control_change", channel=channel, control=CC_ALL_NOTES_OFF, value=0))
    return messages


StatusListener = Callable[["Sink"], None]  # called with the sink whose ok/status changed


class Sink:
    """Base class of every output: validate + lock in ``send``, backend in ``_send``.

    Attributes for the UI: ``name`` (short label), ``ok`` (messages reach a device),
    ``status`` (one line saying what the sink does or why it cannot), ``closed``.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.RLock()
        self._ok = True
        self._status = "ready"
        self._closed = False
        self._status_listeners: list[StatusListener] = []

    # -- state -------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        """True while messages reach a device (or, for the fake, are recorded)."""
        return self._ok and not self._closed

    @property
    def failed(self) -> bool:
        """True once the backend could not open or failed (closing does not count)."""
        return not self._ok

    @property
    def status(self) -> str:
        return self._status

    @property
    def closed(self) -> bool:
        return self._closed

    def add_status_listener(self, callback: StatusListener) -> None:
        """Call ``callback(sink)`` whenever ``ok`` or ``status`` changes (from the changing thread)."""
        self._status_listeners.append(callback)

    def _set_status(self, ok: bool, status: str) -> None:
        with self._lock:
            changed = (ok, status) != (self._ok, self._status)
            self._ok, self._status = ok, status
        if changed:
            if not ok:
                log.warning("%s: %s", self.name, status)
            for callback in list(self._status_listeners):
                try:
                    callback(self)
                except Exception:  # a listener's bug must not stop playback
                    log.exception("status listener failed")

    def fail(self, reason: str) -> None:
        """Mark the sink unusable for ``reason``; further messages are dropped."""
        self._set_status(False, reason)

    # -- sending -----------------------------------------------------------------------------
    def send(self, msg: mido.Message) -> bool:
        """Send one message; return whether it reached the backend.

        Raises ``TypeError`` for something that is not a ``mido.Message`` (meta messages belong
        in files, not on the wire), ``ValueError`` for a closed sink. A backend failure does not raise:
        the sink marks itself failed (see ``ok``/``status``) and returns False.
        """
        if not isinstance(msg, mido.Message):
            raise TypeError("msg must be a mido.Message")
        with self._lock:
            if self._closed:
                raise ValueError("send() called on a closed sink")
            if not self._ok:
                return False
            try:
                self._send(msg)
                return True
            except Exception as error:  # a lost device, a backend bug: report, keep the app alive
                reason = f"{self.name}: sending failed: {error or type(error).__name__}"
        self.fail(reason)  # outside the lock: listeners may call back into the sink
        return False

    def send_many(self, messages) -> None:
        for msg in messages:
            self.send(msg)

    def panic(self) -> None:
        """Silence everything: sustain off, all-sound-off and all-notes-off on all 16 channels."""
        if self._closed:
            return
        self.send_many(panic_messages())

    def check(self) -> bool:
        """Look for a lost device (cheap; the transport calls it a few times a second). Returns ``ok``."""
        with self._lock:
            if not self.ok:
                return False
            try:
                problem = self._check()
            except Exception as error:
                problem = f"{self.name}: {error}"
        if problem:
            self.fail(problem)
        return self.ok

    def close(self) -> None:
        """Send panic, then release the backend. Closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            if self._ok:
                try:
                    for msg in panic_messages():
                        self._send(msg)
                except Exception:
                    log.debug("panic on close failed for %s", self.name, exc_info=True)
            self._closed = True
            try:
                self._close()
            except Exception:
                log.debug("closing %s failed", self.name, exc_info=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ok={self.ok} status={self.status!r}>"

    # -- backend hooks -----------------------------------------------------------------------
    def _send(self, msg: mido.Message) -> None:
        raise NotImplementedError

    def _check(self) -> str | None:
        """Return a reason if the device is gone, else None."""
        return None

    def _close(self) -> None:
        pass


class FakeSink(Sink):
    """Records every message with the ``time.perf_counter()`` at which it was sent (for tests).

    ``fail_after(n, reason)`` makes the n-th next send fail as a vanished device would.
    """

    def __init__(self, name: str = "fake") -> None:
        super().__init__(name)
        self._records: list[tuple[float, mido.Message]] = []
        self._fail_countdown: int | None = None
        self._fail_reason = ""
        self._status = "recording"

    def _send(self, msg: mido.Message) -> None:
        if self._fail_countdown is not None:
            self._fail_countdown -= 1
            if self._fail_countdown <= 0:
                raise OSError(self._fail_reason)
        self._records.append((time.perf_counter(), msg))

    def fail_after(self, sends: int, reason: str = "device disappeared") -> None:
        with self._lock:
            self._fail_countdown = sends
            self._fail_reason = reason

    @property
    def records(self) -> list[tuple[float, mido.Message]]:
        """A copy of what was received: ``(perf_counter seconds, message)`` in order."""
        with self._lock:
            return list(self._records)

    @property
    def messages(self) -> list[mido.Message]:
        with self._lock:
            return [msg for _, msg in self._records]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
