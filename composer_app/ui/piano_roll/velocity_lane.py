"""The velocity lane under the roll: one bar per note; drag to set velocities, Shift-drag for a ramp.

Left-drag paints: every bar the mouse crosses takes the velocity at the mouse height. Shift-drag
(or right-drag) draws a line: the notes between its ends get velocities along it. Both act on
the selected notes when there is a selection, otherwise on all notes, and both apply once on
release (one undo step).
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from composer_app.core.note import MIDI_VELOCITY_MAX
from composer_app.ui.selection import Selection

LANE_HEIGHT_PX = 84
BAR_WIDTH_PX = 5
MARGIN_PX = 4


class VelocityLane(QWidget):
    def __init__(self, editor, view, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        self.view = view
        self.setMinimumHeight(40)
        self.setMouseTracking(False)
        self._changes: dict[int, int] | None = None  # note index in the track -> new velocity
        self._ramp: tuple[QPointF, QPointF] | None = None
        self._last_x: float | None = None
        view.changed.connect(self.update)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, LANE_HEIGHT_PX)

    # --- mapping ----------------------------------------------------------------------------------
    def velocity_to_y(self, velocity: float) -> float:
        usable = self.height() - 2 * MARGIN_PX
        return MARGIN_PX + usable * (1 - velocity / MIDI_VELOCITY_MAX)

    def y_to_velocity(self, y: float) -> int:
        usable = max(1, self.height() - 2 * MARGIN_PX)
        return max(1, min(MIDI_VELOCITY_MAX, round((1 - (y - MARGIN_PX) / usable) * MIDI_VELOCITY_MAX)))

    def _targets(self) -> list[int]:
        """Indices (in the current track) of the notes the lane edits: the selection, or all."""
        track = self.editor.document.current_track
        if track is None:
            return []
        selection = self.editor.document.selection
        if not selection:
            return list(range(len(track.notes)))
        remaining = Counter(selection.notes)
        out = []
        for i, n in enumerate(track.notes):
            if remaining.get(n, 0) > 0:
                remaining[n] -= 1
                out.append(i)
        return out

    # --- input ----------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.editor.document.current_track is None:
            return
        pos = event.position()
        self._changes = {}
        if event.button() == Qt.MouseButton.RightButton or event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._ramp = (pos, pos)
        else:
            self._ramp = None
            self._last_x = pos.x()
            self._paint_between(pos.x(), pos.x(), self.y_to_velocity(pos.y()))
        self.update()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._changes is None:
            return
        pos = event.position()
        if self._ramp is not None:
            self._ramp = (self._ramp[0], pos)
            self._compute_ramp()
        else:
            self._paint_between(self._last_x, pos.x(), self.y_to_velocity(pos.y()))
            self._last_x = pos.x()
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._changes is None:
            return
        changes, self._changes, self._ramp = self._changes, None, None
        self.update()
        document = self.editor.document
        track = document.current_track
        if not changes or track is None:
            return
        if all(track.notes[i].velocity == v for i, v in changes.items()):
            return
        selected_indices = set(self._targets()) if document.selection else set()
        new_notes = [n.with_velocity(changes[i]) if i in changes else n for i, n in enumerate(track.notes)]
        selection = Selection(new_notes[i] for i in selected_indices) if selected_indices else Selection()
        document.apply_track_notes(new_notes, "Change velocity", selection=selection)

    def _paint_between(self, x0: float, x1: float, velocity: int) -> None:
        track = self.editor.document.current_track
        lo_x, hi_x = min(x0, x1) - BAR_WIDTH_PX, max(x0, x1) + 1
        for i in self._targets():
            x = self.view.tick_to_x(track.notes[i].start_tick)
            if lo_x <= x <= hi_x:
                self._changes[i] = velocity

    def _compute_ramp(self) -> None:
        track = self.editor.document.current_track
        a, b = self._ramp
        if a.x() > b.x():
            a, b = b, a
        tick0, tick1 = self.view.x_to_tick(a.x()), self.view.x_to_tick(b.x())
        v0, v1 = self.y_to_velocity(a.y()), self.y_to_velocity(b.y())
        self._changes = {}
        span = max(tick1 - tick0, 1e-9)
        for i in self._targets():
            start = track.notes[i].start_tick
            if tick0 <= start <= tick1:
                t = (start - tick0) / span
                self._changes[i] = max(1, min(MIDI_VELOCITY_MAX, round(v0 + (v1 - v0) * t)))

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.editor.handle_wheel(event, self, vertical=False)

    # --- painting -------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        colors = self.editor.canvas.colors
        painter.fillRect(self.rect(), colors.background.darker(108))
        pen = QPen(colors.beat_line)
        painter.setPen(pen)
        for v in (32, 64, 96, 127):
            y = self.velocity_to_y(v)
            painter.drawLine(QPointF(0, y), QPointF(self.width(), y))
        track = self.editor.document.current_track
        if track is not None:
            index = self.editor.canvas.note_index()
            start, end = self.view.visible_ticks()
            lo, hi = index.range_overlapping(start - BAR_WIDTH_PX / self.view.px_per_tick, end)
            selection = self.editor.document.selection
            changes = self._changes or {}
            bottom = self.height() - MARGIN_PX
            step = max(1, (hi - lo) // max(1, self.width()))  # never more bars than pixels
            for i in range(lo, hi, step):
                n = track.notes[i]
                if n.start_tick < start - 1:
                    continue
                velocity = changes.get(i, n.velocity)
                x = self.view.tick_to_x(n.start_tick)
                y = self.velocity_to_y(velocity)
                color = colors.selected_fill if n in selection else colors.velocity_color(velocity)
                painter.fillRect(QRectF(x, y, BAR_WIDTH_PX, bottom - y), color)
                painter.fillRect(QRectF(x, y, BAR_WIDTH_PX, 2), color.darker(150))
        if self._ramp is not None:
            painter.setPen(QPen(QColor(255, 255, 255) if colors.background.lightness() < 128 else QColor(0, 0, 0), 1.5))
            painter.drawLine(*self._ramp)
        painter.setPen(colors.text)
        font = painter.font()
        font.setPixelSize(10)
        painter.setFont(font)
        painter.drawText(QPointF(4, 12), "Velocity")
        painter.end()
