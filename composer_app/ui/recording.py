"""MIDI recording from an input port into the current track (with count-in), and step entry.

The input's messages arrive on a queue (``composer_app.playback`` ``MidiInput``); a GUI timer
drains it, so nothing here runs on another thread. Recording starts playback after a count-in
of one bar, turns note-on/note-off pairs into notes at the playhead's tick, and applies them as
one undo step when recording stops (optionally quantized to the snap grid). Step entry adds
each played note at the playhead with the last note length and moves the playhead on.

The input port is chosen under Transport ▸ MIDI input (QSettings ``input/port``) on the MIDI
system ``midiports`` picks (ALSA, else JACK; ``MIDO_BACKEND`` forces one). The app's own ports
(its MIDI output, its input client) are never offered or opened: recording them would capture the
app's own playback and metronome. With no input chosen, Record asks for one (the input menu opens)
instead of taking the first port there is. A port that disappears
while open (sender quit, keyboard unplugged) is noticed every ``PORT_CHECK_S``: the input closes,
the status bar says so, and recording goes on (playback too) keeping the notes played so far,
which the Stop commits as usual. Notes struck and released during the count-in are dropped
(they would all pile up at the first tick); one still held when the count-in ends starts there.
"""

from __future__ import annotations

import re
import time

from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtWidgets import QWidget

from composer_app.core.note import Note
from composer_app.ui.selection import Selection

POLL_MS = 10
CHOOSE_INPUT_TEXT = "Choose the MIDI input to record from (Transport ▸ MIDI input), then press Record again."


def is_own_port(name: str) -> bool:
    """Whether a port belongs to this app (its MIDI output or input client): never an input to record."""
    from composer_app.playback.midiports import CLIENT_NAME, INPUT_CLIENT_NAME, VIRTUAL_OUTPUT_NAME

    client = name.split(":", 1)[0]
    base = re.sub(r"-\d+$", "", client)  # JACK names a second client of the same name "…-01"
    return base in (CLIENT_NAME, INPUT_CLIENT_NAME) or name.startswith((VIRTUAL_OUTPUT_NAME, "Composer Assistant in"))


def input_port_choices() -> tuple[list[str], str]:
    """(MIDI input ports a user can record from, why there are none): the app's own ports left out."""
    from composer_app.ui.playback import list_input_ports

    names, reason = list_input_ports()
    mine = [n for n in names if is_own_port(n)]
    names = [n for n in names if not is_own_port(n)]
    if not names and mine:
        reason = "only this app's own ports are there: connect a keyboard or start a MIDI source"
    return names, reason
CHORD_WINDOW_S = 0.08  # step entry: keys struck within this time form one chord
PORT_CHECK_S = 0.5  # how often an open input port is checked for having disappeared


class Recorder(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.is_recording = False
        self.step_entry = False
        self.quantize_on_input = False
        self._input = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._drain)
        self._open_notes: dict[tuple[int, int], tuple[int, int]] = {}  # (channel, pitch) -> (start tick, velocity)
        self._recorded: list[Note] = []
        self._record_start_tick = 0
        self._record_start_time = 0.0
        self._count_in_s = 0.0
        self._last_step: tuple[float, int, list[Note]] | None = None  # (time, tick, notes) of the last step
        self._next_check_s = 0.0
        self.port_gone_reason: str | None = None  # set when the open input disappeared

    # --- input port -------------------------------------------------------------------------------------
    def _open_input(self) -> bool:
        if self._input is not None:
            return True
        port = QSettings().value("input/port", "") or None
        if port is None or is_own_port(port):
            self.ask_for_input()
            return False
        try:
            from composer_app.playback.midiports import MidiInput
        except ImportError as error:
            self.window.report_error(f"MIDI input is not available in this build ({error}).")
            return False
        try:
            self._input = MidiInput(port)
        except Exception as error:  # no ports, no ALSA/JACK: say so plainly
            self.window.report_error(f"No MIDI input to record from: {error}. Choose one under Transport ▸ MIDI input.")
            return False
        self.port_gone_reason = None
        self._next_check_s = time.perf_counter() + PORT_CHECK_S
        self._timer.start()
        return True

    def ask_for_input(self) -> None:
        """No input chosen: say so and open the MIDI input menu (never guess a port)."""
        window = self.window
        window.statusBar().showMessage(CHOOSE_INPUT_TEXT, 10_000)
        menu = getattr(window, "input_menu", None)
        if menu is None:
            return
        button = window.findChild(QWidget, "transport_record")
        anchor = button.mapToGlobal(button.rect().bottomLeft()) if button is not None else window.mapToGlobal(window.rect().center())
        menu.popup(anchor)

    def _close_input(self) -> None:
        self._timer.stop()
        if self._input is not None:
            try:
                self._input.close()
            except Exception:
                pass
            self._input = None

    # --- recording ----------------------------------------------------------------------------------------
    def start(self) -> bool:
        if not self._open_input():
            return False
        window = self.window
        project = window.document.project
        self._recorded = []
        self._open_notes = {}
        self._record_start_tick = window.editor.playhead_tick
        bar_ticks = project.time_signatures.ticks_per_bar_at(self._record_start_tick)
        self._count_in_s = project.tempo_map.tick_to_seconds(bar_ticks)  # one bar at the opening tempo
        self._record_start_time = time.perf_counter() + self._count_in_s
        self.is_recording = True
        window.statusBar().showMessage("Count-in: one bar…", int(self._count_in_s * 1000))
        self._count_in_clicks(project, bar_ticks)
        window.playback.counting_in = True  # the clicks go to the built-in synth, not out to the MIDI port
        QTimer.singleShot(int(self._count_in_s * 1000), self._count_in_over)
        return True

    def _count_in_over(self) -> None:
        self.window.playback.counting_in = False
        if self.is_recording:
            self.window.play(self._record_start_tick)

    def _count_in_clicks(self, project, bar_ticks: int) -> None:
        """Sound the metronome's wood blocks on each beat of the count-in bar."""
        from composer_app.ui.playback import METRONOME_ACCENT_PITCH, METRONOME_CHANNEL, METRONOME_PITCH

        signature = project.time_signatures.change_at(self._record_start_tick)
        per_beat = signature.ticks_per_beat(project.ticks_per_quarter)
        seconds_per_tick = self._count_in_s / max(1, bar_ticks)
        for beat in range(signature.numerator):
            pitch = METRONOME_ACCENT_PITCH if beat == 0 else METRONOME_PITCH
            QTimer.singleShot(
                round(beat * per_beat * seconds_per_tick * 1000),
                lambda p=pitch: self.is_recording and self.window.playback.audition(p, 110, METRONOME_CHANNEL),
            )

    def _tick_now(self, timestamp_s: float | None = None) -> int:
        project = self.window.document.project
        elapsed = max(0.0, (timestamp_s if timestamp_s is not None else time.perf_counter()) - self._record_start_time)
        start_s = project.tempo_map.tick_to_seconds(self._record_start_tick)
        return round(project.tempo_map.seconds_to_tick(start_s + elapsed))

    def stop(self) -> None:
        if not self.is_recording:
            return
        self.is_recording = False
        self.window.playback.counting_in = False
        end_tick = self._tick_now()
        for (channel, pitch), (start, velocity) in self._open_notes.items():
            self._recorded.append(Note(start, pitch, max(1, end_tick - start), velocity, channel))
        self._open_notes = {}
        if not self.step_entry:
            self._close_input()
        self.commit(self._recorded)

    def commit(self, notes: list[Note]) -> None:
        """Add recorded notes to the current track as one undo step."""
        document = self.window.document
        track = document.current_track
        if not notes or track is None:
            return
        notes = [n.with_channel(track.channel) for n in notes]
        if self.quantize_on_input:
            from composer_app.core.theory import quantize

            notes = list(quantize(notes, self.window.editor.view.snap_ticks))
        document.apply_track_notes([*track.notes, *notes], f"Record {len(notes)} notes", selection=Selection(notes))

    def set_step_entry(self, on: bool) -> bool:
        if on and not self._open_input():
            return False
        self.step_entry = on
        if not on and not self.is_recording:
            self._close_input()
        return True

    def _drain(self) -> None:
        source = self._input
        if source is None:
            return
        queue = getattr(source, "queue", source)
        while True:
            try:
                item = queue.get_nowait()
            except Exception:
                break
            timestamp_s, message = item if isinstance(item, tuple) else (time.perf_counter(), item)
            self.handle_message(message, timestamp_s)
        if time.perf_counter() >= self._next_check_s:
            self._next_check_s = time.perf_counter() + PORT_CHECK_S
            self._check_port()

    def _check_port(self) -> None:
        """Close an input whose port disappeared and say so; what was recorded so far is kept."""
        check = getattr(self._input, "check", None)
        try:
            reason = check() if check is not None else None
        except Exception as error:  # a broken MIDI system is a gone port, never a crash
            reason = f"MIDI input is no longer readable: {error}"
        if reason is None:
            return
        self.port_gone_reason = reason
        self._close_input()
        if self.is_recording:
            reason += "; recording goes on without it (press Stop to keep the notes played so far)"
        elif self.step_entry:
            self.step_entry = False
            self.window.transport_actions["step_entry"].setChecked(False)  # (setChecked does not trigger)
            reason += "; step entry is off"
        self.window.statusBar().showMessage(reason)  # stays until the next message

    def handle_message(self, message, timestamp_s: float | None = None) -> None:
        """Feed one mido message (public so tests and other inputs can call it)."""
        kind = getattr(message, "type", "")
        if kind not in ("note_on", "note_off"):
            return
        note_on = kind == "note_on" and message.velocity > 0
        if self.step_entry and not self.is_recording:
            if note_on:
                self._step_add(message.note, message.velocity, timestamp_s)
            return
        if not self.is_recording:
            return
        tick = self._tick_now(timestamp_s)
        key = (message.channel, message.note)
        if note_on:
            self._open_notes[key] = (max(0, tick), message.velocity)
        elif key in self._open_notes:
            start, velocity = self._open_notes.pop(key)
            released_s = timestamp_s if timestamp_s is not None else time.perf_counter()
            if released_s < self._record_start_time:
                # Struck and released within the count-in: not part of the take. (One held across
                # the count-in's end starts at the first tick.)
                return
            self._recorded.append(Note(start, message.note, max(1, tick - start), velocity, message.channel))

    def _step_add(self, pitch: int, velocity: int, timestamp_s: float | None = None) -> None:
        """Add a note at the step position; keys pressed together (within ``CHORD_WINDOW_S``) form a chord."""
        editor = self.window.editor
        document = self.window.document
        track = document.current_track
        if track is None:
            return
        now = timestamp_s if timestamp_s is not None else time.perf_counter()
        length = max(1, editor.last_note_length_ticks)
        if self._last_step is not None and now - self._last_step[0] <= CHORD_WINDOW_S:
            tick = self._last_step[1]  # same chord: same start, the playhead already moved on
            chord = [*self._last_step[2]]
        else:
            tick = editor.view.snap_round(editor.playhead_tick)
            chord = []
        note = Note(tick, pitch, length, velocity, track.channel)
        chord.append(note)
        self._last_step = (now, tick, chord)
        document.apply_track_notes([*track.notes, note], "Step entry", selection=Selection(chord))
        self.window.seek(tick + length)

    def shutdown(self) -> None:
        self.is_recording = False
        self._close_input()
