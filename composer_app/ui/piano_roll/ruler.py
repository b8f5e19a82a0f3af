"""The bar/beat ruler on top of the roll: click to move the playhead, drag to set the loop region.

Double-click clears the loop. The loop is part of the project, so setting it is undoable.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from composer_app.core.project import LoopRegion
from composer_app.ui.piano_roll.view_state import ViewState

RULER_HEIGHT_PX = 26
DRAG_START_PX = 3


class RulerWidget(QWidget):
    def __init__(self, editor, view: ViewState, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        self.view = view
        self.setFixedHeight(RULER_HEIGHT_PX)
        self._press_x: float | None = None
        self._drag_loop: tuple[int, int] | None = None
        view.changed.connect(self.update)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, RULER_HEIGHT_PX)

    def _snapped(self, x: float, modifiers) -> int:
        return self.view.snap_round(self.view.x_to_tick(x), bool(modifiers & Qt.KeyboardModifier.AltModifier))

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_x = event.position().x()
            self._drag_loop = None

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._press_x is None:
            return
        x = event.position().x()
        if self._drag_loop is None and abs(x - self._press_x) < DRAG_START_PX:
            return
        a = self._snapped(self._press_x, event.modifiers())
        b = self._snapped(x, event.modifiers())
        self._drag_loop = (min(a, b), max(a, b))
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._press_x is None:
            return
        press_x, self._press_x = self._press_x, None
        loop, self._drag_loop = self._drag_loop, None
        if loop is None:
            self.editor.seek(self._snapped(press_x, event.modifiers()))
        elif loop[1] > loop[0]:
            document = self.editor.document
            document.apply(replace(document.project, loop=LoopRegion(*loop)), "Set loop")
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        document = self.editor.document
        if document.project.loop is not None:
            document.apply(replace(document.project, loop=None), "Clear loop")

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.editor.handle_wheel(event, self)

    def paintEvent(self, event) -> None:  # noqa: N802
        view = self.view
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(palette.ColorRole.Button))
        text = palette.color(palette.ColorRole.ButtonText)
        project = self.editor.document.project
        loop = self._drag_loop or ((project.loop.start_tick, project.loop.end_tick) if project.loop else None)
        height = self.height()
        if loop is not None:
            x0, x1 = view.tick_to_x(loop[0]), view.tick_to_x(loop[1])
            painter.fillRect(QRectF(x0, 0, x1 - x0, height / 2), QColor(80, 160, 255, 150))
        signatures = project.time_signatures
        tpq = project.ticks_per_quarter
        start_tick, end_tick = view.visible_ticks()
        bar = int(signatures.tick_to_bars(max(0.0, start_tick)))
        font = painter.font()
        font.setPixelSize(11)
        painter.setFont(font)
        label_every = 1
        bar_px = signatures.ticks_per_bar_at(0) * view.px_per_tick
        while bar_px * label_every < 36:
            label_every *= 2
        while True:
            tick = signatures.bar_to_tick(bar)
            if tick > end_tick:
                break
            change = signatures.change_at(tick)
            x = view.tick_to_x(tick)
            painter.setPen(text)
            if bar % label_every == 0:
                painter.drawLine(QPointF(x, height * 0.35), QPointF(x, height))
                painter.drawText(QPointF(x + 3, height * 0.45 + 8), str(bar + 1))
            per_beat = change.ticks_per_beat(tpq)
            if per_beat * view.px_per_tick >= 8:
                painter.setPen(QColor(text.red(), text.green(), text.blue(), 110))
                for b in range(1, change.numerator):
                    bx = view.tick_to_x(tick + b * per_beat)
                    painter.drawLine(QPointF(bx, height * 0.75), QPointF(bx, height))
            bar += 1 if bar_px >= 12 else label_every  # far out: only the labelled bars
        x = view.tick_to_x(self.editor.playhead_tick)
        painter.setPen(QPen(QColor(255, 80, 80), 1))
        painter.setBrush(QColor(255, 80, 80))
        painter.drawPolygon(QPolygonF([QPointF(x - 6, 0), QPointF(x + 6, 0), QPointF(x, 9)]))
        painter.setPen(text)
        painter.drawLine(0, height - 1, self.width(), height - 1)
        painter.end()
