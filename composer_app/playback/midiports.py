"""MIDI ports through python-rtmidi: listing, the output sink, and timestamped input.

The MIDI system ("API") is chosen by a short name — ``alsa``, ``jack``, ``coremidi``, ``winmm`` —
or, when none is given, by ``MIDO_BACKEND`` (e.g. ``mido.backends.rtmidi/UNIX_JACK``, mido's own
convention), or else by the platform: on Linux ALSA first, then JACK when a JACK server runs.

No MIDI system (this is what a machine without ALSA sequencer support gives) and no ports are
normal states: listings come back empty with a ``reason``; opening a port raises
``MidiUnavailableError`` or ``PortNotFoundError`` with a one-line message. A port that disappears
while playing is noticed by ``MidiPortSink.check()`` (cheap: it asks the already-open client).

Messages are ``mido.Message`` values; rtmidi carries the bytes.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from dataclasses import dataclass

import mido

from composer_app.errors import BadInputError
from composer_app.playback.native import quiet_native_stderr
from composer_app.playback.sink import Sink

# Our short names -> rtmidi API names (mido writes them after the slash in MIDO_BACKEND).
MIDI_APIS = {
    "alsa": "LINUX_ALSA",
    "jack": "UNIX_JACK",
    "coremidi": "MACOSX_CORE",
    "winmm": "WINDOWS_MM",
}
MIDO_RTMIDI_BACKEND = "mido.backends.rtmidi"
CLIENT_NAME = "Composer Assistant"  # how our MIDI client shows in port lists
INPUT_CLIENT_NAME = "Composer Assistant input"  # JACK needs a different name for a second client
VIRTUAL_OUTPUT_NAME = "Composer Assistant out"
# A process's first JACK client sometimes fails while another JACK server starts or stops on the
# machine (they share one registry): try again briefly before calling JACK absent (~5 ms each).
JACK_OPEN_ATTEMPTS = 3
JACK_RETRY_PAUSE_S = 0.02


class MidiUnavailableError(OSError):
    """No MIDI system could be opened (for example no ALSA sequencer, no JACK server)."""


class PortNotFoundError(BadInputError):
    """No port matches the name the user gave; the message lists the ports there are."""


def mido_backend_name(api: str) -> str:
    """``"jack"`` -> ``"mido.backends.rtmidi/UNIX_JACK"`` (the value ``MIDO_BACKEND`` takes)."""
    return f"{MIDO_RTMIDI_BACKEND}/{MIDI_APIS[_check_api_name(api)]}"


def _check_api_name(api: str) -> str:
    if not isinstance(api, str):
        raise TypeError("api must be a str")
    if api not in MIDI_APIS:
        raise ValueError(f"api must be one of {', '.join(MIDI_APIS)}")
    return api


def _rtmidi():
    import rtmidi

    return rtmidi


def compiled_apis() -> list[str]:
    """Our names of the MIDI APIs this python-rtmidi was built with."""
    rtmidi = _rtmidi()
    by_constant = {getattr(rtmidi, f"API_{name}"): short for short, name in MIDI_APIS.items()}
    return [by_constant[c] for c in rtmidi.get_compiled_api() if c in by_constant]


def candidate_apis(api: str | None = None) -> tuple[list[str], str]:
    """The APIs to try in order, and where the choice came from ("--midi-api", MIDO_BACKEND, platform).

    Raises ``ValueError`` for an unknown name and ``MidiUnavailableError`` for a ``MIDO_BACKEND``
    this app cannot use.
    """
    if api is not None:
        return [_check_api_name(api)], "requested"
    backend = os.environ.get("MIDO_BACKEND")
    if backend:
        module, _, rt_name = backend.partition("/")
        if module != MIDO_RTMIDI_BACKEND:
            raise MidiUnavailableError(
                f"MIDO_BACKEND={backend} is not supported: composer-app reaches MIDI through python-rtmidi "
                f"({MIDO_RTMIDI_BACKEND})"
            )
        if rt_name:
            for short, name in MIDI_APIS.items():
                if name == rt_name:
                    return [short], "MIDO_BACKEND"
            raise MidiUnavailableError(f"MIDO_BACKEND={backend}: unknown rtmidi API {rt_name!r}")
    if sys.platform == "darwin":
        order = ["coremidi", "jack"]
    elif sys.platform == "win32":
        order = ["winmm"]
    else:
        order = ["alsa", "jack"]
    return order, "platform"


def _new_client(kind: str, api: str, client_name: str):
    """An rtmidi MidiOut/MidiIn client on ``api``, or raise MidiUnavailableError saying why."""
    rtmidi = _rtmidi()
    if api not in compiled_apis():
        raise MidiUnavailableError(f"{api}: python-rtmidi was built without it")
    cls = rtmidi.MidiOut if kind == "output" else rtmidi.MidiIn
    attempts = JACK_OPEN_ATTEMPTS if api == "jack" else 1
    for attempt in range(attempts):
        try:
            with quiet_native_stderr():
                return cls(rtapi=getattr(rtmidi, f"API_{MIDI_APIS[api]}"), name=client_name)
        except (rtmidi.SystemError, RuntimeError, OSError) as error:
            failure = error
            if attempt + 1 < attempts:
                time.sleep(JACK_RETRY_PAUSE_S)
    message = str(failure).strip() or type(failure).__name__
    if api == "jack" and "not running" in message.lower():
        message = "no JACK server is running"
    elif api == "alsa" and "sequencer" in message.lower():
        message = "no ALSA sequencer (this system has no MIDI support in the kernel)"
    raise MidiUnavailableError(f"{api}: {message}") from failure


def _open_client(kind: str, api: str | None, client_name: str):
    """The first API that opens, as (client, api name); or raise with every reason."""
    apis, _ = candidate_apis(api)
    reasons = []
    for name in apis:
        try:
            return _new_client(kind, name, client_name), name
        except MidiUnavailableError as error:
            reasons.append(str(error))
    raise MidiUnavailableError("no MIDI system: " + "; ".join(reasons))


@dataclass(frozen=True, slots=True)
class PortListing:
    """Port names on one MIDI API; when there are none, ``reason`` says why (else None)."""

    names: tuple[str, ...]
    reason: str | None
    api: str | None  # the API the names belong to (None when no MIDI system opened)

    def __bool__(self) -> bool:
        return bool(self.names)


def _list_ports(kind: str, api: str | None) -> PortListing:
    try:
        client, used = _open_client(kind, api, CLIENT_NAME)
    except (MidiUnavailableError, ValueError) as error:
        return PortListing((), str(error), None)
    try:
        names = tuple(client.get_ports())
    finally:
        client.delete()
    reason = None if names else f"no MIDI {kind} ports on {used}"
    return PortListing(names, reason, used)


def list_output_ports(api: str | None = None) -> PortListing:
    """MIDI ports we can send to (synths, DAWs, interfaces), never raising."""
    return _list_ports("output", api)


def list_input_ports(api: str | None = None) -> PortListing:
    """MIDI ports we can receive from (keyboards, controllers), never raising."""
    return _list_ports("input", api)


def match_port(names, wanted: str) -> str | None:
    """The port named ``wanted``: exact, else the only one containing it (case-insensitive), else None.

    ALSA names carry client numbers that change between sessions ("FLUID Synth (123):Synth input
    port (123:0)"), so users may give a part of the name.
    """
    names = list(names)
    if wanted in names:
        return wanted
    lowered = wanted.lower()
    matches = [n for n in names if lowered in n.lower()]
    return matches[0] if len(matches) == 1 else None


def _port_not_found(wanted: str, names, api: str) -> PortNotFoundError:
    listing = ", ".join(repr(n) for n in names) if names else "none"
    return PortNotFoundError(f"no MIDI port matches {wanted!r} on {api} (ports: {listing})")


class _JackServerWatch:
    """Notices the JACK server going away, which rtmidi does not report (its port list goes stale).

    A second, port-less JACK client of ours, opened through libjack with ``ctypes`` only to be told
    of the server's shutdown (``jack_on_shutdown``; it needs no activation, so it never joins the
    audio graph). Where libjack cannot be loaded there is no watch and ``lost`` stays False.
    """

    JACK_NO_START_SERVER = 0x01  # jack_options_t: never spawn a server

    def __init__(self, client_name: str) -> None:
        import ctypes
        import ctypes.util

        self.lost = False
        self.close_stalled = False  # True when the last close left libjack still waiting on the server
        self._client = None
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("jack") or "libjack.so.0")
        except OSError:
            return
        lib.jack_client_open.restype = ctypes.c_void_p
        lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        callback_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
        lib.jack_on_shutdown.argtypes = [ctypes.c_void_p, callback_type, ctypes.c_void_p]
        lib.jack_client_close.argtypes = [ctypes.c_void_p]
        lib.jack_get_buffer_size.argtypes = [ctypes.c_void_p]
        lib.jack_get_buffer_size.restype = ctypes.c_uint32
        lib.jack_get_sample_rate.argtypes = [ctypes.c_void_p]
        lib.jack_get_sample_rate.restype = ctypes.c_uint32
        status = ctypes.c_int()
        with quiet_native_stderr():
            client = lib.jack_client_open(f"{client_name} watch".encode()[:60], self.JACK_NO_START_SERVER,
                                          ctypes.byref(status))
        if not client:
            return
        self._lib, self._client = lib, client
        self._callback = callback_type(self._on_shutdown)  # kept: libjack holds only the pointer
        lib.jack_on_shutdown(client, self._callback, None)

    def _on_shutdown(self, _arg) -> None:  # on a libjack thread
        self.lost = True

    def period_s(self) -> float | None:
        """The server's period (buffer size / sample rate) in seconds; None without a watch client."""
        if not self._client or self.lost:
            return None
        rate_hz = self._lib.jack_get_sample_rate(self._client)
        return self._lib.jack_get_buffer_size(self._client) / rate_hz if rate_hz else None

    CLOSE_WAIT_S = 2.0  # how long closing waits for libjack before leaving it to finish on its own

    def close(self) -> None:
        """Close the watch client; never blocks the caller more than ``CLOSE_WAIT_S``.

        ``jack_client_close`` waits for the server to answer; a server that is stalled (not dead:
        a restarted graph, a machine under load) once held a test's closing thread for minutes. The
        call runs on a daemon thread and whoever closes (the window, the player) goes on after
        ``CLOSE_WAIT_S``.
        """
        client, self._client = self._client, None
        if not client or self.lost:  # a client of a dead server is left as it is
            return
        closing = threading.Thread(target=self._close_client, args=(client,), name="jack-watch-close", daemon=True)
        closing.start()
        closing.join(self.CLOSE_WAIT_S)
        self.close_stalled = closing.is_alive()

    def _close_client(self, client) -> None:
        self._lib.jack_client_close(client)


class MidiPortSink(Sink):
    """Send to an external MIDI port (hardware synth, DAW, soft synth) or a virtual output port.

    ``port_name``: a port from ``list_output_ports()`` (or a unique part of one); None with
    ``virtual=True`` creates ``VIRTUAL_OUTPUT_NAME`` that other programs connect to (not on Windows).
    ``channel``: None sends each message on its own channel; 0..15 moves every channel message there.
    Raises ``MidiUnavailableError`` (no MIDI system) or ``PortNotFoundError`` when opening.
    """

    def __init__(
        self,
        port_name: str | None = None,
        api: str | None = None,
        channel: int | None = None,
        *,
        virtual: bool = False,
        client_name: str = CLIENT_NAME,
    ) -> None:
        if channel is not None:
            if not isinstance(channel, int) or isinstance(channel, bool):
                raise TypeError("channel must be an int")
            if not 0 <= channel <= 15:
                raise ValueError("channel must be in range 0..15")
        self.channel = channel
        self.virtual = virtual
        self._rt, self.api = _open_client("output", api, client_name)
        self._jack_watch = _JackServerWatch(client_name) if self.api == "jack" else None
        try:
            if virtual:
                name = port_name or VIRTUAL_OUTPUT_NAME
                try:
                    self._rt.open_virtual_port(name)
                except Exception as error:  # WinMM: not supported
                    raise MidiUnavailableError(f"{self.api}: cannot create a virtual port ({error})") from error
                self.port_name = name
            else:
                names = self._rt.get_ports()
                if not names:
                    raise MidiUnavailableError(f"no MIDI output ports on {self.api}")
                if port_name is None:
                    found = names[0]
                else:
                    found = match_port(names, port_name)
                    if found is None:
                        raise _port_not_found(port_name, names, self.api)
                try:
                    self._rt.open_port(names.index(found), name="out")
                except Exception as error:
                    raise MidiUnavailableError(f"{self.api}: cannot open {found!r} ({error})") from error
                self.port_name = found
        except BaseException:
            self._rt.delete()
            if self._jack_watch is not None:
                self._jack_watch.close()
            raise
        super().__init__(self.port_name)
        where = "virtual port" if virtual else "port"
        on_channel = f", channel {channel + 1}" if channel is not None else ""
        self._status = f"sending to {where} {self.port_name!r} ({self.api}{on_channel})"

    def _send(self, msg: mido.Message) -> None:
        if self.channel is not None and hasattr(msg, "channel"):
            msg = msg.copy(channel=self.channel)
        self._rt.send_message(msg.bytes())

    def _check(self) -> str | None:
        if self._jack_watch is not None and self._jack_watch.lost:
            return f"the JACK server stopped; MIDI port {self.port_name!r} is gone"
        if self.virtual:
            return None
        if self.port_name not in self._rt.get_ports():
            return f"MIDI port {self.port_name!r} disappeared ({self.api}); playback goes on without it"
        return None

    # rtmidi's JACK output queues messages in a ring buffer that its process callback empties once a
    # period. Closing the port at once dropped what was still queued — the panic of ``close()``
    # included, which left notes sounding on the synth. Closing first waits this many periods.
    JACK_DRAIN_PERIODS = 3
    JACK_DRAIN_MAX_S = 0.25  # however long the server's period (the default JACK period is 21 ms)

    def _close(self) -> None:
        if self._jack_watch is not None and self._jack_watch.lost:
            self._jack_watch.close()
            return  # rtmidi's client of a dead server: closing it could block; the process ends soon
        if self._jack_watch is not None:
            period_s = self._jack_watch.period_s()
            drain_s = self.JACK_DRAIN_PERIODS * period_s if period_s else self.JACK_DRAIN_MAX_S
            time.sleep(min(drain_s, self.JACK_DRAIN_MAX_S))
        self._rt.close_port()
        self._rt.delete()
        if self._jack_watch is not None:
            self._jack_watch.close()


class MidiInput:
    """Receive from a MIDI input port (or a virtual input others send to).

    Every message arrives on ``queue`` (a ``queue.Queue``) as ``(timestamp_s, mido.Message)``,
    timestamps on the ``time.perf_counter()`` clock. Clock and active-sensing messages are dropped.
    Raises ``MidiUnavailableError`` or ``PortNotFoundError`` when opening.

    No Python runs on the MIDI system's thread: rtmidi queues messages natively (with the time
    between them), and a reader thread of ours drains that queue every ``POLL_INTERVAL_S``. (A
    Python callback would need the GIL inside JACK's real-time cycle, and a busy interpreter
    then makes the whole JACK graph miss its deadline.) Timestamps follow rtmidi's spacing
    between messages, kept within the window in which each message must have arrived.
    """

    POLL_INTERVAL_S = 0.001

    def __init__(
        self,
        port_name: str | None = None,
        api: str | None = None,
        *,
        virtual: bool = False,
        client_name: str = INPUT_CLIENT_NAME,
        queue_: queue.Queue | None = None,
    ) -> None:
        self.queue: queue.Queue = queue_ if queue_ is not None else queue.Queue()
        self.virtual = virtual
        self._rt, self.api = _open_client("input", api, client_name)
        try:
            if virtual:
                self.port_name = port_name or "Composer Assistant in"
                self._rt.open_virtual_port(self.port_name)
            else:
                names = self._rt.get_ports()
                if not names:
                    raise MidiUnavailableError(f"no MIDI input ports on {self.api}")
                found = names[0] if port_name is None else match_port(names, port_name)
                if found is None:
                    raise _port_not_found(port_name, names, self.api)
                self._rt.open_port(names.index(found), name="in")
                self.port_name = found
            self._rt.ignore_types(sysex=False, timing=True, active_sense=True)
        except BaseException:
            self._rt.delete()
            raise
        self.closed = False
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, name="composer-midi-input", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        last_poll = time.perf_counter()
        last_timestamp = last_poll
        while not self._stop.wait(self.POLL_INTERVAL_S):
            now = time.perf_counter()
            burst_start = True
            while (item := self._rt.get_message()) is not None:
                data, delta_s = item
                timestamp = last_timestamp + delta_s
                if burst_start:  # it arrived after the previous poll found the queue empty
                    timestamp = max(timestamp, last_poll)
                    burst_start = False
                timestamp = min(timestamp, now)
                last_timestamp = timestamp
                try:
                    msg = mido.Message.from_bytes(data)
                except ValueError:
                    continue  # not a complete MIDI message
                self.queue.put((timestamp, msg))
            last_poll = now

    def check(self) -> str | None:
        """None while the port is there; else a one-line reason (cheap: asks the already-open client).

        A sender that goes away (keyboard unplugged, program quit) raises nothing on the input side:
        messages just stop. Callers ask here, as ``MidiPortSink.check()`` does for outputs.
        """
        if self.virtual or self.closed:
            return None
        try:
            present = self.port_name in self._rt.get_ports()
        except Exception as error:  # the MIDI system itself went away
            return f"MIDI input {self.port_name!r} is no longer readable ({self.api}: {error})"
        return None if present else f"MIDI input {self.port_name!r} disappeared ({self.api})"

    def receive(self, timeout: float | None = None) -> tuple[float, mido.Message] | None:
        """The next ``(timestamp_s, message)``, or None after ``timeout`` seconds."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._stop.set()
            self._reader.join(1.0)
            self._rt.close_port()
            self._rt.delete()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
