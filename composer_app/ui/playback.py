"""The Qt side of playback: owns the transport and the output sinks, marshals positions to the GUI.

Playback itself is Qt-free (``composer_app.playback``): a scheduler thread sends events to sinks.
This adapter creates the sinks the user chose (the FluidSynth synth and/or a MIDI port with a
channel), turns the scheduler thread's position callbacks into a Qt signal (queued onto the GUI
thread), and says honestly in ``status_text`` what can be heard: no sound card and no MIDI ports
are normal states here. Every import of the playback package happens on first use, after the
window is shown.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal

log = logging.getLogger(__name__)

AUDITION_MS = 250  # how long a note sounds when placed, moved or clicked on the keyboard
PORT_WATCH_INTERVAL_MS = 500  # while a MIDI port is chosen, ports are listed this often (off the GUI thread)
# While a MIDI port is open its name is kept here (written to disk at once). A clean close removes
# it; if the app is killed (kill -9, a power cut) with notes sounding, nothing can be sent at that
# moment, so the next launch finds the name and sends all-notes-off to that port.
OPEN_PORT_KEY = "output/open_port"
OPEN_PORT_API_KEY = "output/open_port_api"


METRONOME_CHANNEL = 9  # General MIDI percussion
METRONOME_ACCENT_PITCH = 76  # Hi Wood Block on the first beat of a bar
METRONOME_PITCH = 77  # Low Wood Block on the other beats
METRONOME_TICKS = 60  # length of a click


def with_metronome(project):
    """``project`` plus a click track (wood blocks on channel 10) over its length and loop."""
    from dataclasses import replace

    from composer_app.core.note import Note
    from composer_app.core.track import Track

    signatures = project.time_signatures
    end = max(project.end_tick, project.loop.end_tick if project.loop else 0) + signatures.ticks_per_bar_at(0)
    clicks = []
    bar = 0
    while (bar_tick := signatures.bar_to_tick(bar)) < end:
        change = signatures.change_at(bar_tick)
        per_beat = change.ticks_per_beat(project.ticks_per_quarter)
        for beat in range(change.numerator):
            pitch = METRONOME_ACCENT_PITCH if beat == 0 else METRONOME_PITCH
            clicks.append(Note(bar_tick + beat * per_beat, pitch, METRONOME_TICKS, 110 if beat == 0 else 80, METRONOME_CHANNEL))
        bar += 1
    click = Track("Metronome", program=0, channel=METRONOME_CHANNEL, notes=clicks)
    tracks = [t for t in project.audible_tracks]
    return replace(project, tracks=(*[replace(t, solo=False, mute=False) for t in tracks], click))


class PlaybackController(QObject):
    """Owns the ``Transport`` and its sinks; all methods are called on the GUI thread."""

    position_changed = Signal(int)  # (tick) emitted from the scheduler thread, delivered queued
    state_changed = Signal(bool)  # (is_playing)
    status_changed = Signal(str)  # (one line: what the outputs can do)
    port_lost = Signal(str, str)  # (port name, why) the chosen MIDI port went away
    port_back = Signal(str)  # (port name) it came back and is used again
    ports_changed = Signal(object, str)  # (output port names, why none) the watcher saw the list change
    _sink_changed = Signal()  # internal: a sink's ok/status changed (from the scheduler thread)
    _ports_listed = Signal(object, str)  # internal: (port names, why none) from the watcher thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.use_synth = True
        self.port_name: str | None = None
        self.port_channel: int | None = None  # None = each track's own channel
        self.metronome = False
        self.clicks_to_port = False  # metronome clicks go to the built-in synth only unless the user chooses the port too
        self.counting_in = False  # the recorder's count-in clicks are playing
        self.sink_factory = None  # tests: a callable returning the sinks to use instead of the chosen outputs
        self._transport = None
        self._sinks: list = []
        self._status = "Output: opens on first play or note"
        self._playing = False
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._check_finished)
        self.lost_port: str | None = None  # the chosen port while it is gone
        self._last_listing: tuple[list, str] | None = None
        self._system_lost = False  # a listing found no MIDI system (a JACK server died) since the port opened
        self._lost_reason = ""
        self._watch = QTimer(self)  # lists the ports now and then while a MIDI port is chosen
        self._watch.setInterval(PORT_WATCH_INTERVAL_MS)
        self._watch.timeout.connect(self._list_ports_in_background)
        self._listing = threading.Lock()  # held while a listing runs: never two at once
        self._sink_changed.connect(self._refresh_status, Qt.ConnectionType.QueuedConnection)
        self._ports_listed.connect(self._on_ports_listed, Qt.ConnectionType.QueuedConnection)

    # --- outputs -----------------------------------------------------------------------------------
    def status_text(self) -> str:
        return self._status

    def _set_status(self, text: str) -> None:
        if text != self._status:
            self._status = text
            self.status_changed.emit(text)

    def configure(self, use_synth: bool, port_name: str | None, port_channel: int | None) -> None:
        """Choose the outputs; they are (re)opened on the next play or audition."""
        changed = (use_synth, port_name or None, port_channel) != (self.use_synth, self.port_name, self.port_channel)
        self.use_synth, self.port_name, self.port_channel = use_synth, port_name or None, port_channel
        if changed or self.lost_port:
            self.lost_port = None
            if self._transport is not None:
                self.stop()
                self._close_transport()
        if self.port_name and self.sink_factory is None:
            self._watch.start()
        else:
            self._watch.stop()

    def _ensure_transport(self) -> bool:
        if self._transport is not None:
            return True
        try:
            from composer_app.playback.transport import Transport  # Qt-free, imported on first use
        except ImportError as error:
            self._set_status(f"Playback unavailable: {error}")
            return False
        sinks, parts = [], []
        if self.sink_factory is not None:
            sinks = list(self.sink_factory())
            parts = [f"{s.name}: {s.status}" for s in sinks]
        elif self.use_synth:
            try:
                from composer_app.playback.fluid import FluidSynthSink

                sink = FluidSynthSink()
                sinks.append(sink)
                parts.append(f"Synth: {sink.status}")
            except Exception as error:  # no library, no soundfont, no audio device: say so, keep editing
                parts.append(f"Synth: unavailable ({error})")
        if self.port_name and self.sink_factory is None:
            try:
                sink = self._open_port_sink()
                sinks.append(sink)
                parts.append(f"MIDI out: {sink.status}")
            except Exception as error:
                parts.append(f"MIDI out {self.port_name}: unavailable ({error})")
        try:
            self._transport = Transport(sinks)
        except Exception as error:
            self._set_status(f"Playback unavailable: {error}")
            return False
        self._sinks = sinks
        for sink in sinks:
            sink.add_status_listener(lambda _sink: self._sink_changed.emit())  # queued onto the GUI thread
        self._transport.add_position_listener(self.position_changed.emit)  # queued onto the GUI thread
        if not any(getattr(s, "ok", False) for s in sinks):
            parts.append("nothing audible: notes are scheduled but no device hears them")
        self._set_status("; ".join(parts) if parts else "No output chosen (Transport ▸ Output)")
        return True

    def _open_port_sink(self):
        from composer_app.playback.midiports import MidiPortSink

        sink = _port_sink_class(MidiPortSink)(self.port_name, channel=self.port_channel)
        sink.drops_clicks = lambda: (self.metronome or self.counting_in) and not self.clicks_to_port
        _remember_open_port(sink.port_name, sink.api)
        return sink

    def _retire(self, failed_sinks) -> None:
        """Let go of failed sinks: closed, unless their MIDI system died (see ``_abandoned_sinks``)."""
        for sink in failed_sinks:
            if self._system_lost:
                _abandoned_sinks.append(sink)
                continue
            try:
                sink.close()  # a port that went away on a live server: closing the client is safe
            except Exception:  # noqa: BLE001
                log.exception("closing %s", sink.name)

    def _close_transport(self) -> None:
        transport, self._transport = self._transport, None
        sinks, self._sinks = self._sinks, []
        if transport is not None:
            failed = [s for s in sinks if s.failed]
            try:
                transport.set_sinks([s for s in sinks if not s.failed])
                transport.close()  # every sink gets all-notes-off before it closes
            except Exception:  # closing a broken device must not stop the app
                log.exception("closing transport")
            self._retire(failed)
        self._system_lost = False
        _forget_open_port()

    # --- losing and finding the MIDI port -------------------------------------------------------------
    def _port_sink(self):
        from composer_app.playback.midiports import MidiPortSink

        return next((s for s in self._sinks if isinstance(s, MidiPortSink)), None)

    def _refresh_status(self) -> None:
        """A sink failed or recovered: say so (status bar, output menu) and remember a lost port."""
        if self._transport is None:
            return
        parts = []
        for sink in self._sinks:
            if sink.failed and sink is self._port_sink():
                self._mark_lost(sink.port_name, sink.status)
                parts.append(lost_port_text(sink.port_name, sink.status))
            else:
                label = "Synth" if type(sink).__name__ == "FluidSynthSink" else "MIDI out" if sink is self._port_sink() else sink.name
                parts.append(f"{label}: {sink.status}")
        self._set_status("; ".join(parts))

    def _mark_lost(self, name: str, reason: str) -> None:
        if self.lost_port != name:
            self.lost_port, self._lost_reason = name, reason
            self.port_lost.emit(name, reason)

    def _list_ports_in_background(self) -> None:
        if not self._listing.acquire(blocking=False):
            return  # the last listing still runs (a MIDI system that is slow to answer)

        def run() -> None:
            try:
                names, reason = list_output_ports()
                self._ports_listed.emit(names, reason)
            finally:
                self._listing.release()

        threading.Thread(target=run, name="composer-port-watch", daemon=True).start()

    def _on_ports_listed(self, names, reason: str) -> None:
        """Fail the port sink when its port is gone (also while stopped); reopen it when it is back."""
        names = list(names)
        if (names, reason) != self._last_listing:
            self._last_listing = (names, reason)
            self.ports_changed.emit(names, reason)
        if not self.port_name:
            return
        from composer_app.playback.midiports import match_port

        present = match_port(names, self.port_name) is not None
        if not names and reason.startswith("no MIDI system"):
            self._system_lost = True
        sink = self._port_sink()
        if not present:
            why = reason or "no longer listed"
            if sink is not None and sink.ok:
                sink.fail(f"MIDI port {sink.port_name!r} is gone ({why})")  # the listener refreshes the status
            elif sink is None and self._transport is not None and self.lost_port is None:
                self._mark_lost(self.port_name, why)
                self._set_status(lost_port_text(self.port_name, why))
            return
        if self.lost_port is None or self._transport is None:
            if self.lost_port is not None:  # lost while nothing was open: just offer it again
                self.lost_port = None
                self.port_back.emit(self.port_name)
            return
        self._reconnect()

    def _reconnect(self) -> None:
        name = self.lost_port
        try:
            sink = self._open_port_sink()
        except Exception as error:  # listed but not yet openable: try at the next listing
            log.info("port %s is listed again but cannot be opened yet: %s", name, error)
            return
        sink.panic()  # a synth that stayed up may still hold notes from before the loss
        old = [s for s in self._sinks if s.failed and s is self._port_sink()]
        sinks = [s for s in self._sinks if s not in old] + [sink]
        sink.add_status_listener(lambda _sink: self._sink_changed.emit())
        self._transport.set_sinks(sinks)
        self._sinks = sinks
        self._retire(old)
        self._system_lost = False
        self.lost_port = None
        log.warning("MIDI port %s is back: playing to it again", name)
        self.port_back.emit(name)
        self._refresh_status()

    def silence_port_left_playing(self) -> str | None:
        """Send all-notes-off to the MIDI port a session that was killed left open; returns its name.

        Called once just after launch. A port that is gone, or no MIDI system, is not an error:
        there is nothing left to silence then.
        """
        settings = QSettings()
        name = settings.value(OPEN_PORT_KEY, "") or None
        api = settings.value(OPEN_PORT_API_KEY, "") or None
        if not name:
            return None
        _forget_open_port()
        try:
            from composer_app.playback.midiports import MidiPortSink

            sink = MidiPortSink(name, api=api)
        except Exception as error:  # gone since, or no MIDI system: nothing hangs there now
            log.info("could not reopen %s to silence it: %s", name, error)
            return None
        try:
            sink.panic()
        finally:
            sink.close()
        log.warning("sent all-notes-off to %s, left open by a session that did not close normally", name)
        self._set_status(f"Sent all-notes-off to {name} (the last session ended while it was open)")
        return name

    # --- transport ----------------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._playing

    def _prepared(self, project, metronome: bool = True):
        return with_metronome(project) if self.metronome and metronome else project

    def play(self, project, start_tick: int, *, metronome: bool = True) -> bool:
        """Play ``project`` from ``start_tick``; ``metronome=False`` for auditions (never clicks)."""
        if not self._ensure_transport():
            return False
        self._with_clicks = metronome
        try:
            self._transport.set_loop(project.loop)
            self._transport.play(self._prepared(project, metronome), int(start_tick))
        except Exception as error:
            self._set_status(f"Playback failed: {error}")
            return False
        self._playing = True
        self._poll.start()
        self.state_changed.emit(True)
        return True

    def update_project(self, project) -> None:
        """The document changed while playing: play the edited version from here on."""
        if self._playing and self._transport is not None:
            self._transport.set_loop(project.loop)
            self._transport.update_project(self._prepared(project, getattr(self, "_with_clicks", True)))

    def stop(self) -> None:
        if self._transport is not None:
            try:
                self._transport.stop()
            except Exception:
                log.exception("stopping transport")
        self._poll.stop()
        if self._playing:
            self._playing = False
            self.state_changed.emit(False)

    def seek(self, tick: int) -> None:
        if self._transport is not None and self._playing:
            self._transport.seek(int(tick))

    def _check_finished(self) -> None:
        transport = self._transport
        if transport is None:
            return
        thread = getattr(transport, "_thread", None)
        if thread is not None and not thread.is_alive():
            self._scheduler_died()
        elif not transport.is_playing:
            self.stop()

    def _scheduler_died(self) -> None:
        """The playback thread ended while playing (a bug, a backend raising): silence every output."""
        log.error("the playback thread stopped unexpectedly: sending all-notes-off to every output")
        transport, self._transport = self._transport, None
        for sink in self._sinks:
            try:
                sink.panic()
            except Exception:  # noqa: BLE001 - silence the others whatever this one does
                log.exception("panic failed on %s", sink.name)
        self._poll.stop()
        self._playing = False
        self.state_changed.emit(False)
        self._set_status("Playback stopped: an internal error (details: Help ▸ Open log folder); all notes were silenced")
        self._close_sinks_after_death(transport)

    def _close_sinks_after_death(self, transport) -> None:
        self._retire([s for s in self._sinks if s.failed])
        for sink in self._sinks:
            if not sink.failed:
                try:
                    sink.close()
                except Exception:  # noqa: BLE001
                    log.exception("closing %s", sink.name)
        self._sinks = []
        self._system_lost = False
        _forget_open_port()

    def audition(self, pitch: int, velocity: int, channel: int, program: int = 0) -> None:
        """Sound one note briefly through the current outputs (hearing while editing)."""
        if not self._ensure_transport():
            return
        try:
            self._transport.audition_note(pitch, velocity, channel, program, AUDITION_MS)
        except Exception as error:
            self._set_status(f"Could not sound a note: {error}")

    def shutdown(self) -> None:
        """Stop, panic and close everything (on window close)."""
        self._watch.stop()
        self.stop()
        self._close_transport()


def is_click(message) -> bool:
    """A metronome click (what ``with_metronome`` and the count-in sound)."""
    return (
        message.type in ("note_on", "note_off")
        and message.channel == METRONOME_CHANNEL
        and message.note in (METRONOME_ACCENT_PITCH, METRONOME_PITCH)
    )


def _port_sink_class(base):
    """``MidiPortSink`` that leaves the metronome's clicks out while ``drops_clicks()`` says so.

    (Clicks belong to the built-in synth: a DAW or hardware synth on the port would otherwise play
    and record them.)
    """

    class PortSinkWithoutClicks(base):
        drops_clicks = staticmethod(lambda: False)

        def _send(self, msg) -> None:
            if self.drops_clicks() and is_click(msg):
                return
            super()._send(msg)

    return PortSinkWithoutClicks


# Port sinks whose MIDI system went away are never closed: closing a JACK client whose server
# died (and was perhaps restarted) crashes libjack (measured: SIGSEGV in close_port). They are kept
# here, failed and unused, for the life of the process. A port lost on a live server is closed.
_abandoned_sinks: list = []


def _short_reason(status: str) -> str:
    """"JACK server gone", "port gone", or the sink's own words (shortened) for the status bar."""
    if "no JACK server is running" in status:
        return "JACK server gone"
    if "disappeared" in status or "is gone" in status or "no longer listed" in status:
        return "port gone"
    return status if len(status) <= 60 else status[:57] + "…"


def lost_port_text(name: str, reason: str) -> str:
    return f"MIDI out: {name} lost ({_short_reason(reason)}); reconnects when it returns"


def _remember_open_port(name: str, api: str | None) -> None:
    settings = QSettings()
    settings.setValue(OPEN_PORT_KEY, name)
    settings.setValue(OPEN_PORT_API_KEY, api or "")
    settings.sync()  # on disk now: a killed process writes nothing later


def _forget_open_port() -> None:
    settings = QSettings()
    if settings.contains(OPEN_PORT_KEY):
        settings.remove(OPEN_PORT_KEY)
        settings.remove(OPEN_PORT_API_KEY)
        settings.sync()


def _listing(function_name: str, what: str) -> tuple[list[str], str]:
    try:
        from composer_app.playback import midiports
    except ImportError as error:
        return [], f"{what} unavailable: {error}"
    try:
        listing = getattr(midiports, function_name)()
    except Exception as error:  # a broken MIDI system is "no ports", never a crash
        return [], f"{what} unavailable: {error}"
    if isinstance(listing, tuple) and len(listing) == 2 and not hasattr(listing, "names"):
        names, reason = listing
    else:
        names, reason = getattr(listing, "names", ()), getattr(listing, "reason", "")
    return list(names), reason or ""


def list_output_ports() -> tuple[list[str], str]:
    """(MIDI output port names, why there are none)."""
    return _listing("list_output_ports", "MIDI output")


def list_input_ports() -> tuple[list[str], str]:
    """(MIDI input port names, why there are none)."""
    return _listing("list_input_ports", "MIDI input")
