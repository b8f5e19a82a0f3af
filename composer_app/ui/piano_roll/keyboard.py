"""The piano keyboard at the left of the roll: note names (every white key when the rows are tall
enough, else the Cs), the highlighted scale, click a key to hear it."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget

from composer_app.core.theory import PITCH_CLASS_NAMES
from composer_app.ui.piano_roll.canvas import BLACK_KEY_PCS
from composer_app.ui.piano_roll.view_state import ViewState
from composer_app.ui.theme import is_dark

KEYBOARD_WIDTH_PX = 64
NAMES_FROM_ROW_PX = 12  # rows at least this tall show every white key's name


class KeyboardWidget(QWidget):
    def __init__(self, editor, view: ViewState, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        self.view = view
        self.pressed_pitch: int | None = None
        self.setFixedWidth(KEYBOARD_WIDTH_PX)
        view.changed.connect(self.update)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(KEYBOARD_WIDTH_PX, 400)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        pitch = self.view.y_to_pitch(event.position().y())
        self.pressed_pitch = pitch
        self.editor.audition_pitch(pitch)
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self.pressed_pitch = None
        self.update()

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.editor.handle_wheel(event, self)

    def paintEvent(self, event) -> None:  # noqa: N802
        view = self.view
        painter = QPainter(self)
        width = self.width()
        dark = is_dark(self.palette())
        white = QColor(235, 235, 235) if dark else QColor(255, 255, 255)
        black = QColor(30, 30, 32)
        painter.fillRect(self.rect(), white)
        low, high = view.visible_pitches()
        height = view.key_height_px
        font = painter.font()
        font.setPixelSize(max(8, min(11, height)))
        painter.setFont(font)
        scale = self.editor.scale_pitch_classes()
        for pitch in range(low, high + 1):
            y = view.pitch_to_y(pitch)
            pc = pitch % 12
            rect = QRectF(0, y, width, height)
            if pc in BLACK_KEY_PCS:
                painter.fillRect(QRectF(0, y, width * 0.62, height), black)
            if pitch == self.pressed_pitch:
                painter.fillRect(rect, QColor(255, 180, 60))
            if scale is not None and pc in scale:
                painter.fillRect(QRectF(width - 5, y + 1, 4, height - 2), QColor(90, 140, 230))
            if pc in (0, 5):
                painter.setPen(QColor(120, 120, 120))
                painter.drawLine(0, round(y + height), width, round(y + height))
            if (pc == 0 and height >= 6) or (height >= NAMES_FROM_ROW_PX and pc not in BLACK_KEY_PCS):
                painter.setPen(QColor(40, 40, 40) if pc == 0 else QColor(90, 90, 90))
                painter.drawText(rect.adjusted(0, 0, -7, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 f"{PITCH_CLASS_NAMES[pc]}{pitch // 12 - 1}")
        painter.setPen(QColor(120, 120, 120))
        painter.drawLine(width - 1, 0, width - 1, self.height())
        painter.end()
