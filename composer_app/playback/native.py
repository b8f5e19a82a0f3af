"""Taming native libraries (ALSA, JACK, FluidSynth): no surprise servers, no noise on stderr."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

# libjack would otherwise try to start a JACK server for every client (MIDI ports, FluidSynth's
# jack audio driver) and stall for seconds when none runs. Set before any JACK client exists.
os.environ.setdefault("JACK_NO_START_SERVER", "1")

_lock = threading.Lock()
_depth = 0  # how many threads are inside quiet_native_stderr()
_saved_fd: int | None = None  # the real stderr while silenced


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence what C libraries (ALSA, FluidSynth, JACK) print on file descriptor 2 while probing.

    Probing for drivers and MIDI systems that are expected to be missing prints a screen of ALSA
    and JACK errors; the sink's ``status`` or the port listing's ``reason`` says what matters.
    Nested and concurrent uses share one redirection (the last to leave restores stderr).
    ``COMPOSER_APP_DEBUG=1`` keeps the output.
    """
    global _depth, _saved_fd
    if os.environ.get("COMPOSER_APP_DEBUG"):
        yield
        return
    with _lock:
        if _depth == 0:
            try:
                sys.stderr.flush()
                _saved_fd = os.dup(2)
                with open(os.devnull, "wb") as devnull:
                    os.dup2(devnull.fileno(), 2)
            except (OSError, ValueError, AttributeError):
                _saved_fd = None
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved_fd is not None:
                os.dup2(_saved_fd, 2)
                os.close(_saved_fd)
                _saved_fd = None
