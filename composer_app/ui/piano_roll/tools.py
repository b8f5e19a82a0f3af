"""Mouse tools of the piano roll: select, pen and eraser.

The canvas hands every press/move/release/double-click/key to the active tool. A drag shows a
preview (the dragged notes hidden, their new places drawn) and ends in exactly one
``Document.apply`` on release: one gesture, one undo step. Moving and resizing are shared by
the select and pen tools (drag a note's body to move it, its edges to resize it, Alt-drag to
copy; Alt while dragging also bypasses the snap grid).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QCursor, QPainter

from composer_app.core.note import MIDI_PITCH_MAX, Note
from composer_app.ui.piano_roll import edits
from composer_app.ui.selection import Selection

DRAG_START_PX = 3  # a press that moves less than this is a click


def _mods(event) -> Qt.KeyboardModifier:
    return event.modifiers()


class Tool:
    """Base tool: does nothing. Subclasses override the handlers they need."""

    name = "tool"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, editor):
        self.editor = editor

    @property
    def canvas(self):
        return self.editor.canvas

    @property
    def view(self):
        return self.editor.view

    @property
    def document(self):
        return self.editor.document

    def activate(self) -> None:
        self.canvas.setCursor(QCursor(self.cursor))

    def deactivate(self) -> None:
        self.cancel()

    def cancel(self) -> None:
        self.canvas.clear_preview()

    def press(self, event) -> None: ...

    def move(self, event) -> None: ...

    def release(self, event) -> None: ...

    def double_click(self, event) -> None: ...

    def key_press(self, event) -> bool:
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
            return True
        return False

    def paint(self, painter: QPainter) -> None: ...


class NoteDrag:
    """A move/copy/resize drag of the selected notes, started on ``anchor``."""

    def __init__(self, tool: Tool, anchor: Note, mode: str, press_pos: QPointF, copy: bool):
        self.tool = tool
        self.anchor = anchor
        self.mode = mode  # "body" (move), "start" or "end" (resize)
        self.press_pos = press_pos
        self.copy = copy
        self.started = False
        self.result: edits.EditResult | None = None
        self.last_pitch = anchor.pitch

    def update(self, pos: QPointF, modifiers) -> None:
        tool = self.tool
        view = tool.view
        if not self.started and (pos - self.press_pos).manhattanLength() < DRAG_START_PX:
            return
        self.started = True
        # Alt bypasses the snap; a copy drag already holds Alt, so it bypasses with Alt+Shift.
        alt = bool(modifiers & Qt.KeyboardModifier.AltModifier)
        bypass = alt and (not self.copy or bool(modifiers & Qt.KeyboardModifier.ShiftModifier))
        raw_delta = (pos.x() - self.press_pos.x()) / view.px_per_tick
        notes = tool.document.current_track.notes
        selection = tool.document.selection
        if self.mode == "body":
            new_start = view.snap_round(self.anchor.start_tick + raw_delta, bypass)
            delta_ticks = new_start - self.anchor.start_tick
            delta_pitch = view.y_to_pitch(pos.y()) - view.y_to_pitch(self.press_pos.y())
            self.result = edits.move(notes, selection, delta_ticks, delta_pitch, copy=self.copy)
            moved_anchor_pitch = min(MIDI_PITCH_MAX, max(0, self.anchor.pitch + delta_pitch))
            if moved_anchor_pitch != self.last_pitch:
                self.last_pitch = moved_anchor_pitch
                tool.editor.audition(self.anchor.with_pitch(moved_anchor_pitch))
        elif self.mode == "end":
            new_end = view.snap_round(self.anchor.end_tick + raw_delta, bypass)
            min_len = 1 if bypass else min(view.snap_ticks, self.anchor.duration_ticks)
            new_end = max(new_end, self.anchor.start_tick + min_len)
            self.result = edits.resize(notes, selection, new_end - self.anchor.end_tick, edge="end", min_ticks=min_len)
        else:
            new_start = view.snap_round(self.anchor.start_tick + raw_delta, bypass)
            self.result = edits.resize(notes, selection, new_start - self.anchor.start_tick, edge="start")
        hidden = [] if self.copy and self.mode == "body" else selection.split(notes)[0]
        tool.canvas.set_preview(hidden, self.result[1])

    def finish(self) -> None:
        tool = self.tool
        tool.canvas.clear_preview()
        if not self.started or self.result is None:
            return
        notes, selected = self.result
        if self.mode == "body":
            text = "Copy notes" if self.copy else "Move notes"
        else:
            text = "Resize notes"
        tool.document.apply_track_notes(notes, text, selection=Selection(selected))
        if self.mode == "end" and len(selected) == 1:
            tool.editor.last_note_length_ticks = selected[0].duration_ticks


class SelectTool(Tool):
    """Click to select (Shift adds, Ctrl toggles), drag empty space to box-select, drag notes to move/resize."""

    name = "select"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, editor):
        super().__init__(editor)
        self.drag: NoteDrag | None = None
        self.band_origin: QPointF | None = None
        self.band_base = Selection()

    def cancel(self) -> None:
        self.drag = None
        self.band_origin = None
        super().cancel()

    def press_on_note(self, event, note: Note, part: str) -> None:
        mods = _mods(event)
        document = self.document
        selection = document.selection
        if mods & Qt.KeyboardModifier.ControlModifier:
            document.set_selection(selection.toggled([note]))
            if note not in document.selection:
                return
        elif mods & Qt.KeyboardModifier.ShiftModifier:
            document.set_selection(selection.union([note]))
        elif note not in selection:
            document.set_selection(Selection([note]))
        copy = bool(mods & Qt.KeyboardModifier.AltModifier) and part == "body"
        self.drag = NoteDrag(self, note, part, event.position(), copy)
        if part == "body":
            self.editor.audition(note)

    def press_on_other_track(self, event) -> bool:
        """A press on another track's note makes that track the edited one and presses on the note."""
        hit = self.canvas.other_track_note_at(event.position())
        if hit is None:
            return False
        track_index, note = hit
        self.document.set_current_track(track_index)
        note, part = self.canvas.note_at(event.position())
        if note is not None:
            self.press_on_note(event, note, part)
        return True

    def press(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        note, part = self.canvas.note_at(event.position())
        if note is not None:
            self.press_on_note(event, note, part)
            return
        if self.press_on_other_track(event):
            return
        mods = _mods(event)
        if mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier):
            self.band_base = self.document.selection
        else:
            self.band_base = Selection()
            self.document.set_selection(Selection())
        self.band_origin = event.position()

    def move(self, event) -> None:
        if self.drag is not None:
            self.drag.update(event.position(), _mods(event))
            return
        if self.band_origin is not None:
            rect = QRectF(self.band_origin, event.position()).normalized()
            self.canvas.overlay_rect = rect
            inside = self.canvas.notes_in_rect(rect)
            if _mods(event) & Qt.KeyboardModifier.ControlModifier:
                self.document.set_selection(self.band_base.toggled(inside))
            else:
                self.document.set_selection(self.band_base.union(inside))
            self.canvas.update()
            return
        note, part = self.canvas.note_at(event.position())
        shape = Qt.CursorShape.SizeHorCursor if part in ("start", "end") else self.cursor
        self.canvas.setCursor(QCursor(shape))

    def release(self, event) -> None:
        if self.drag is not None:
            drag, self.drag = self.drag, None
            drag.finish()
            return
        if self.band_origin is not None:
            self.band_origin = None
            self.canvas.overlay_rect = None
            self.canvas.update()


class PenTool(SelectTool):
    """Click to add a note of the last-used length, drag to set its length; drag existing notes to edit them.

    Right-click deletes the note under the mouse.
    """

    name = "pen"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, editor):
        super().__init__(editor)
        self.new_note: Note | None = None
        self.press_pos: QPointF | None = None

    def cancel(self) -> None:
        self.new_note = None
        super().cancel()

    def press(self, event) -> None:
        pos = event.position()
        note, part = self.canvas.note_at(pos)
        if event.button() == Qt.MouseButton.RightButton:
            if note is not None:
                notes, _ = edits.delete(self.document.current_track.notes, Selection([note]))
                self.document.apply_track_notes(notes, "Delete note")
            return
        if event.button() != Qt.MouseButton.LeftButton or self.document.current_track is None:
            return
        if note is not None:
            self.press_on_note(event, note, part)
            return
        if self.press_on_other_track(event):
            return
        bypass = bool(_mods(event) & Qt.KeyboardModifier.AltModifier)
        start = self.view.snap_floor(self.view.x_to_tick(pos.x()), bypass)
        track = self.document.current_track
        self.new_note = Note(
            start, self.view.y_to_pitch(pos.y()), max(1, self.editor.last_note_length_ticks),
            self.editor.last_velocity, track.channel,
        )
        self.press_pos = pos
        self.canvas.set_preview([], [self.new_note])
        self.editor.audition(self.new_note)

    def move(self, event) -> None:
        if self.new_note is None:
            super().move(event)
            return
        pos = event.position()
        if (pos - self.press_pos).manhattanLength() < DRAG_START_PX:
            return
        bypass = bool(_mods(event) & Qt.KeyboardModifier.AltModifier)
        step = 1 if bypass else self.view.snap_ticks
        end = self.view.snap_round(self.view.x_to_tick(pos.x()), bypass)
        end = max(end, self.new_note.start_tick + step)
        self.new_note = self.new_note.with_duration(end - self.new_note.start_tick)
        self.canvas.set_preview([], [self.new_note])

    def release(self, event) -> None:
        if self.new_note is None:
            super().release(event)
            return
        note, self.new_note = self.new_note, None
        self.canvas.clear_preview()
        track = self.document.current_track
        self.editor.last_note_length_ticks = note.duration_ticks
        self.document.apply_track_notes(list(track.notes) + [note], "Add note", selection=Selection([note]))


class EraserTool(Tool):
    """Click or drag across notes to delete them (one undo step per stroke)."""

    name = "eraser"
    cursor = Qt.CursorShape.PointingHandCursor

    def __init__(self, editor):
        super().__init__(editor)
        self.erased: list[Note] | None = None

    def cancel(self) -> None:
        self.erased = None
        super().cancel()

    def _erase_at(self, pos: QPointF) -> None:
        note, _part = self.canvas.note_at(pos)
        if note is not None and self.erased is not None:
            # A note already erased is hidden: only count it again if a duplicate remains.
            already = sum(1 for n in self.erased if n == note)
            available = sum(1 for n in self.document.current_track.notes if n == note)
            if already < available:
                self.erased.append(note)
                self.canvas.set_preview(self.erased, [])

    def press(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.document.current_track is not None:
            self.erased = []
            self._erase_at(event.position())

    def move(self, event) -> None:
        if self.erased is not None:
            self._erase_at(event.position())

    def release(self, event) -> None:
        if self.erased is None:
            return
        erased, self.erased = self.erased, None
        self.canvas.clear_preview()
        if erased:
            notes, _ = edits.delete(self.document.current_track.notes, Selection(erased))
            self.document.apply_track_notes(notes, "Erase notes" if len(erased) > 1 else "Erase note")
