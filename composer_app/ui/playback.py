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

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)

AUDITION_MS = 250  # how long a note sounds when placed, moved or clicked on the keyboard


class PlaybackController(QObject):
    position_changed = Signal(int)  # (tick) emitted from the scheduler thread, delivered queued
    state_changed = Signal(bool)  # (is_playing)
    status_changed = Signal(str)  # (one line: what the outputs can do)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.use_synth = True
        self.port_name: str | None = None
        self.port_channel: int | None = None  # None = each track's own channel
        self._transport = None
        self._sinks: list = []
        self._status = "Output: not started (opens on first play)"
        self._failed: str | None = None
        self._playing = False
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._check_finished)

    # --- outputs -----------------------------------------------------------------------------------
    def status_text(self) -> str:
        return self._status

    def _set_status(self, text: str) -> None:
        if text != self._status:
            self._status = text
            self.status_changed.emit(text)

    def configure(self, use_synth: bool, port_name: str | None, port_channel: int | None) -> None:
        """Choose the outputs; they are (re)opened on the next play or audition."""
        self.stop()
        self.use_synth, self.port_name, self.port_channel = use_synth, port_name or None, port_channel
        self._close_sinks()

    def _ensure_transport(self) -> bool:
        if self._transport is not None:
            return True
        try:
            from composer_app import playback as playback_package  # noqa: F401  (Qt-free, imported on first use)
            from composer_app.playback.transport import Transport
        except ImportError as error:
            self._set_status(f"Playback unavailable: {error}")
            return False
        sinks, problems = [], []
        if self.use_synth:
            try:
                from composer_app.playback.fluid import FluidSynthSink

                sinks.append(FluidSynthSink())
            except Exception as error:  # no library, no soundfont, no audio device: say so, keep editing
                problems.append(f"synth: {error}")
        if self.port_name:
            try:
                from composer_app.playback.midiports import MidiPortSink

                sinks.append(MidiPortSink(self.port_name, channel=self.port_channel))
            except Exception as error:
                problems.append(f"MIDI port {self.port_name}: {error}")
        try:
            self._transport = Transport(sinks)
        except Exception as error:
            self._set_status(f"Playback unavailable: {error}")
            return False
        self._sinks = sinks
        if hasattr(self._transport, "add_position_listener"):
            self._transport.add_position_listener(lambda tick: self.position_changed.emit(int(tick)))
        parts = [f"{getattr(s, 'name', 'output')}: {getattr(s, 'status', 'ok')}" for s in sinks]
        parts += problems
        self._set_status("; ".join(parts) if parts else "No output chosen (Transport ▸ Output)")
        return True

    def _close_sinks(self) -> None:
        for sink in self._sinks:
            try:
                sink.close()
            except Exception:  # closing a broken device must not stop the app
                log.exception("closing sink")
        self._sinks = []
        self._transport = None

    # --- transport ----------------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._playing

    def play(self, project, start_tick: int) -> bool:
        if not self._ensure_transport():
            return False
        try:
            self._transport.set_loop(
                (project.loop.start_tick, project.loop.end_tick) if project.loop is not None else None
            ) if hasattr(self._transport, "set_loop") else None
            self._transport.play(project, start_tick)
        except Exception as error:
            self._set_status(f"Playback failed: {error}")
            return False
        self._playing = True
        self._poll.start()
        self.state_changed.emit(True)
        return True

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
        if self._transport is not None and self._playing and hasattr(self._transport, "seek"):
            self._transport.seek(tick)

    def _check_finished(self) -> None:
        transport = self._transport
        if transport is not None and hasattr(transport, "is_playing"):
            playing = transport.is_playing() if callable(transport.is_playing) else transport.is_playing
            if not playing:
                self.stop()

    def audition(self, pitch: int, velocity: int, channel: int) -> None:
        """Sound one note briefly through the current outputs (not while playing)."""
        if self._playing or not self._ensure_transport():
            return
        import mido

        for sink in self._sinks:
            try:
                sink.send(mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
            except Exception:
                return
        QTimer.singleShot(AUDITION_MS, lambda: self._note_off(pitch, channel))

    def _note_off(self, pitch: int, channel: int) -> None:
        import mido

        for sink in self._sinks:
            try:
                sink.send(mido.Message("note_off", channel=channel, note=pitch, velocity=0))
            except Exception:
                pass

    def shutdown(self) -> None:
        self.stop()
        for sink in self._sinks:
            try:
                sink.panic()
            except Exception:
                pass
        self._close_sinks()


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
