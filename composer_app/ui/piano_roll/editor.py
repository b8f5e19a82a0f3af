"""The piano-roll editor widget: keyboard, ruler, note canvas, velocity lane, scroll bars, tools.

Editing commands (delete, nudge, quantize, …) are methods here that compute new notes with
``edits`` and hand them to ``Document.apply_track_notes``. ``EditorActions`` binds them to
actions and shortcuts.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollBar, QVBoxLayout, QWidget

from composer_app.core.note import Note
from composer_app.ui.document import Document
from composer_app.ui.piano_roll import edits
from composer_app.ui.piano_roll.canvas import NoteCanvas, key_pitch_classes
from composer_app.ui.piano_roll.keyboard import KEYBOARD_WIDTH_PX, KeyboardWidget
from composer_app.ui.piano_roll.lanes import LaneStack, TimeLane
from composer_app.ui.piano_roll.mood_lane import MoodLane
from composer_app.ui.piano_roll.ruler import RulerWidget
from composer_app.ui.piano_roll.tempo_lane import MarkerLane, TempoMeterLane
from composer_app.ui.piano_roll.tools import EraserTool, PenTool, SelectTool, Tool
from composer_app.ui.piano_roll.velocity_lane import LANE_HEIGHT_PX, VelocityLane
from composer_app.ui.piano_roll.view_state import ViewState
from composer_app.ui.selection import Selection
from composer_app.ui.signals import app_signals

NOTES_MIME_TYPE = "application/x-composer-app-notes"  # JSON list of [start, pitch, duration, velocity, channel]
AUDITION_VELOCITY = 90


class PianoRollEditor(QWidget):
    """Edits the document's current track."""

    tool_changed = Signal(str)  # (tool name)
    seek_requested = Signal(int)  # (tick) the user clicked the ruler

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.view = ViewState(document.project.ticks_per_quarter, self)
        self.last_note_length_ticks = document.project.ticks_per_quarter // 2
        self.last_velocity = 100
        self.show_ghost_notes = True
        self.show_scale = True
        self.follow_playhead = True
        self.playhead_tick = 0
        self.is_playing = False
        self._clipboard_notes: list[Note] = []
        self._keep_fitted = False  # after "fit": stay fitted while the roll is resized, until the user zooms or scrolls

        self.canvas = NoteCanvas(self, self.view)
        self.keyboard = KeyboardWidget(self, self.view)
        self.ruler = RulerWidget(self, self.view)
        self.velocity_lane = VelocityLane(self, self.view)
        self.velocity_lane.setFixedHeight(LANE_HEIGHT_PX)
        self.hscroll = QScrollBar(Qt.Orientation.Horizontal)
        self.vscroll = QScrollBar(Qt.Orientation.Vertical)
        lane_label = QLabel("Vel")
        lane_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lane_label.setFixedWidth(KEYBOARD_WIDTH_PX)
        corner = QWidget()
        corner.setFixedWidth(KEYBOARD_WIDTH_PX)

        # Time lanes share the roll's time axis: tempo/meter and markers above the notes; other
        # features (chords, the mood timeline) add theirs with add_lane.
        self.top_lanes = LaneStack()
        self.top_lanes.setObjectName("top_lanes")
        self.bottom_lanes = LaneStack()
        self.bottom_lanes.setObjectName("bottom_lanes")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self._headers = outer  # rows above the roll (the note inspector): add_header
        grid = QWidget()
        outer.addWidget(grid, 1)
        layout = QGridLayout(grid)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(corner, 0, 0)
        layout.addWidget(self.ruler, 0, 1)
        layout.addWidget(self.top_lanes, 1, 0, 1, 2)
        layout.addWidget(self.keyboard, 2, 0)
        layout.addWidget(self.canvas, 2, 1)
        layout.addWidget(self.vscroll, 2, 2)
        layout.addWidget(lane_label, 3, 0)
        layout.addWidget(self.velocity_lane, 3, 1)
        layout.addWidget(self.bottom_lanes, 4, 0, 1, 2)
        layout.addWidget(self.hscroll, 5, 1)
        layout.setRowStretch(2, 1)
        layout.setColumnStretch(1, 1)
        self.tempo_lane = self.add_lane(TempoMeterLane(self))
        self.marker_lane = self.add_lane(MarkerLane(self))
        self.mood_lane = self.add_lane(MoodLane(self), "bottom")

        self.tools: dict[str, Tool] = {t.name: t for t in (SelectTool(self), PenTool(self), EraserTool(self))}
        self.active_tool: Tool = self.tools["pen"]
        self.active_tool.activate()

        self.view.changed.connect(self._sync_scrollbars)
        self.hscroll.valueChanged.connect(lambda v: self._user_view(self.view.scroll_to, tick=v / self.view.px_per_tick))
        self.vscroll.valueChanged.connect(lambda v: self._user_view(self.view.scroll_to, y_px=v))
        document.project_changed.connect(self._on_project_changed)
        document.selection_changed.connect(self._repaint)
        document.current_track_changed.connect(lambda _i: self._repaint())
        self.view.set_content_end(document.project.end_tick)

    def add_header(self, widget: QWidget) -> None:
        """Put ``widget`` in a row above the ruler (a toolbar folds into its » menu when narrow)."""
        self._headers.insertWidget(self._headers.count() - 1, widget)

    # --- lanes -------------------------------------------------------------------------------------
    def add_lane(self, lane: TimeLane, where: str = "top", index: int | None = None) -> TimeLane:
        """Stack ``lane`` above the notes (``"top"``, under the ruler) or under the velocity lane (``"bottom"``)."""
        if where not in ("top", "bottom"):
            raise ValueError('where must be "top" or "bottom"')
        return (self.top_lanes if where == "top" else self.bottom_lanes).add_lane(lane, index)

    def lanes(self) -> list[TimeLane]:
        """Every lane, top to bottom."""
        return [*self.top_lanes.lanes, *self.bottom_lanes.lanes]

    # --- state ------------------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        if self.active_tool.name == name:
            return
        self.active_tool.deactivate()
        self.active_tool = self.tools[name]
        self.active_tool.activate()
        self.tool_changed.emit(name)

    def scale_pitch_classes(self):
        return key_pitch_classes(self.document.project) if self.show_scale else None

    def _repaint(self) -> None:
        self.canvas.update()
        self.velocity_lane.update()
        self.keyboard.update()
        self.ruler.update()

    def _on_project_changed(self, old, new) -> None:
        self.active_tool.cancel()
        if new.ticks_per_quarter != self.view.ticks_per_quarter:
            self.view.set_ticks_per_quarter(new.ticks_per_quarter)
        if old.end_tick != new.end_tick or old.ticks_per_quarter != new.ticks_per_quarter:
            self.view.set_content_end(new.end_tick)
        self._repaint()

    def _sync_scrollbars(self) -> None:
        view = self.view
        for bar, maximum, value, page in (
            (self.hscroll, view.max_scroll_tick * view.px_per_tick, view.scroll_tick * view.px_per_tick, view.viewport_width_px),
            (self.vscroll, view.max_scroll_y_px, view.scroll_y_px, view.viewport_height_px),
        ):
            bar.blockSignals(True)
            bar.setRange(0, round(maximum))
            bar.setPageStep(max(1, round(page)))
            bar.setSingleStep(max(1, round(page / 20)))
            bar.setValue(round(value))
            bar.blockSignals(False)

    def set_playhead(self, tick: int) -> None:
        """Move the playhead line (and follow it while playing, when enabled)."""
        old_x = self.view.tick_to_x(self.playhead_tick)
        self.playhead_tick = max(0, int(tick))
        if self.playhead_tick > self.view.content_end_tick - 4 * self.view.ticks_per_quarter:
            self.view.set_content_end(max(self.document.project.end_tick, self.playhead_tick))
        if self.follow_playhead and self.is_playing:
            start, end = self.view.visible_ticks()
            if not start <= self.playhead_tick < end:
                self._keep_fitted = False
            self.view.ensure_tick_visible(self.playhead_tick)
        new_x = self.view.tick_to_x(self.playhead_tick)
        for widget in (self.canvas, self.ruler):
            left = int(min(old_x, new_x)) - 8
            widget.update(left, 0, int(abs(new_x - old_x)) + 17, widget.height())

    def seek(self, tick: int) -> None:
        self.set_playhead(tick)
        self.seek_requested.emit(self.playhead_tick)

    # --- hearing while editing ---------------------------------------------------------------------
    def audition(self, note: Note) -> None:
        app_signals().note_audition.emit(note.pitch, note.velocity, note.channel)

    def audition_pitch(self, pitch: int) -> None:
        track = self.document.current_track
        app_signals().note_audition.emit(pitch, AUDITION_VELOCITY, track.channel if track else 0)

    # --- wheel: scroll and zoom ---------------------------------------------------------------------
    def _user_view(self, change, *args, **kwargs) -> None:
        """A zoom or scroll the user asked for: the view no longer follows "fit"."""
        self._keep_fitted = False
        change(*args, **kwargs)

    def viewport_resized(self) -> None:
        """The note area changed size (window shown, docks moved): keep a fitted view fitted."""
        if self._keep_fitted:
            self.fit_to_content()

    def handle_wheel(self, event, widget: QWidget, vertical: bool = True) -> None:
        self._keep_fitted = False
        delta = event.angleDelta()
        steps = (delta.y() or delta.x()) / 120
        mods = event.modifiers()
        pos = event.position()
        if mods & Qt.KeyboardModifier.ControlModifier:
            factor = 1.25 ** steps
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.view.zoom_y(factor, pos.y() if widget in (self.canvas, self.keyboard) else None)
            else:
                self.view.zoom_x(factor, pos.x() if widget is not self.keyboard else None)
        elif mods & Qt.KeyboardModifier.ShiftModifier or delta.x() or not vertical:
            self.view.scroll_by(dx_px=-steps * self.view.viewport_width_px / 8)
        else:
            self.view.scroll_by(dy_px=-steps * 3 * self.view.key_height_px)
        event.accept()

    # --- editing commands (all end in Document.apply) ----------------------------------------------------
    def _notes(self) -> tuple[Note, ...]:
        track = self.document.current_track
        return track.notes if track is not None else ()

    def _targets(self) -> Selection:
        """The selection, or every note of the track when nothing is selected."""
        selection = self.document.selection
        return selection if selection else Selection(self._notes())

    def _apply(self, result: edits.EditResult, text: str) -> None:
        notes, selected = result
        self.document.apply_track_notes(notes, text, selection=Selection(selected))

    def select_all(self) -> None:
        self.document.set_selection(Selection(self._notes()))

    def select_none(self) -> None:
        self.document.set_selection(Selection())

    def invert_selection(self) -> None:
        _selected, unselected = self.document.selection.split(self._notes())
        self.document.set_selection(Selection(unselected))

    def delete_selection(self) -> None:
        if self.document.selection:
            self._apply(edits.delete(self._notes(), self.document.selection), "Delete notes")

    def nudge(self, grid_steps: int = 0, semitones: int = 0) -> None:
        selection = self.document.selection
        if not selection:
            return
        result = edits.move(self._notes(), selection, grid_steps * self.view.snap_ticks, semitones)
        self._apply(result, "Transpose notes" if semitones else "Nudge notes")  # a no-op move adds no undo step
        if semitones and result[1]:
            self.audition(result[1][0])

    def transpose(self, semitones: int) -> None:
        targets = self._targets()
        if targets:
            self._apply(edits.transpose(self._notes(), targets, semitones), f"Transpose {semitones:+d}")

    def quantize(self, grid_ticks: int | None = None, strength: float = 1.0, swing: float = 0.0, quantize_ends: bool = False) -> None:
        targets = self._targets()
        if not targets:
            return
        grid = grid_ticks or max(1, self.view.snap_ticks)
        result = edits.quantize(self._notes(), targets, grid, strength=strength, swing=swing, quantize_ends=quantize_ends)
        self._apply(result, f"Quantize {round(strength * 100)} %")

    def set_velocity(self, velocity: int | None = None, delta: int = 0) -> None:
        targets = self._targets()
        if targets:
            self._apply(edits.set_velocity(self._notes(), targets, velocity, delta=delta), "Set velocity")

    def legato(self) -> None:
        targets = self._targets()
        if targets:
            self._apply(edits.legato(self._notes(), targets), "Legato")

    def duplicate(self) -> None:
        if self.document.selection:
            self._apply(edits.duplicate(self._notes(), self.document.selection, snap_ticks=self.view.snap_ticks), "Duplicate notes")

    def copy(self) -> None:
        notes = list(self.document.selection)
        if not notes:
            return
        self._clipboard_notes = notes
        mime = QMimeData()
        mime.setData(NOTES_MIME_TYPE, json.dumps([[n.start_tick, n.pitch, n.duration_ticks, n.velocity, n.channel] for n in notes]).encode())
        mime.setText(f"{len(notes)} notes")
        QGuiApplication.clipboard().setMimeData(mime)

    def cut(self) -> None:
        if self.document.selection:
            self.copy()
            self._apply(edits.delete(self._notes(), self.document.selection), "Cut notes")

    def clipboard_notes(self) -> list[Note]:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasFormat(NOTES_MIME_TYPE):
            try:
                return [Note(*values) for values in json.loads(bytes(mime.data(NOTES_MIME_TYPE)).decode())]
            except (ValueError, TypeError):
                pass
        return list(self._clipboard_notes)

    def clip_notes(self, path: str) -> list[Note] | None:
        """The notes of a MIDI file (every track), at this project's resolution; None if it cannot be read."""
        from composer_app.core.midifile import load_midi
        from composer_app.errors import BadInputError

        try:
            clip = load_midi(path)
        except (BadInputError, OSError) as error:
            app_signals().status_message.emit(f"Cannot drop that file: {error}", 6000)
            return None
        scale = self.document.project.ticks_per_quarter / clip.ticks_per_quarter
        notes = [n for t in clip.tracks for n in t.notes]
        if scale != 1:
            notes = [
                Note(round(n.start_tick * scale), n.pitch, max(1, round(n.duration_ticks * scale)), n.velocity, n.channel)
                for n in notes
            ]
        return notes

    def placed_clip(self, notes, tick: int) -> list[Note]:
        """``notes`` (a clip from its tick 0) moved to ``tick`` on the edited track's channel."""
        track = self.document.current_track
        channel = track.channel if track is not None else 0
        return [Note(n.start_tick + tick, n.pitch, n.duration_ticks, n.velocity, channel) for n in notes]

    def insert_clip(self, notes, tick: int, text: str) -> None:
        """Insert a clip into the edited track at ``tick``: one undo step, the new notes selected."""
        placed = self.placed_clip(notes, tick)
        if placed:
            self._apply((list(self._notes()) + placed, placed), text)
            app_signals().status_message.emit(f"{text}: {len(placed)} notes at bar {self.document.project.time_signatures.tick_to_position(tick)}", 5000)

    def paste(self) -> None:
        """Paste the clipboard's notes starting at the playhead."""
        clip = self.clipboard_notes()
        track = self.document.current_track
        if not clip or track is None:
            return
        self._apply(edits.paste(self._notes(), clip, self.playhead_tick, channel=track.channel), "Paste notes")

    # --- zoom ------------------------------------------------------------------------------------------
    def zoom_in(self) -> None:
        self._user_view(self.view.zoom_x, 1.25)

    def zoom_out(self) -> None:
        self._user_view(self.view.zoom_x, 0.8)

    def zoom_in_vertically(self) -> None:
        self._user_view(self.view.zoom_y, 1.2)

    def zoom_out_vertically(self) -> None:
        self._user_view(self.view.zoom_y, 1 / 1.2)

    def _show_notes(self, notes) -> None:
        notes = list(notes)
        if not notes:
            return
        self.view.show_range(
            min(n.start_tick for n in notes), max(n.end_tick for n in notes),
            min(n.pitch for n in notes), max(n.pitch for n in notes),
        )

    def zoom_to_selection(self) -> None:
        self._keep_fitted = False
        self._show_notes(self.document.selection or self._notes())

    def fit_to_content(self) -> None:
        """Show every note of every track, from the first bar to the last note's bar line.

        The view stays fitted while the roll changes size (the window being shown, docks added)
        until the user zooms or scrolls.
        """
        notes = [n for t in self.document.project.tracks for n in t.notes]
        if notes:
            meter = self.document.project.time_signatures
            end = meter.next_bar_tick(max(n.end_tick for n in notes))
            self.view.show_range(0, end, min(n.pitch for n in notes), max(n.pitch for n in notes), margin=0.01)
        else:
            self.view.show_range(0, 4 * 4 * self.view.ticks_per_quarter, 60, 72)
        self.view.scroll_to(tick=0)
        self._keep_fitted = True
