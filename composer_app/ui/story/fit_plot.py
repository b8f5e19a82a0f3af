"""The narrative-fit plot: the story's arc and the music's arc, scene by scene, per axis.

Two panels (valence above, arousal below). Each scene is a column; a solid line joins the intended
values (the story), a dashed line the values read back from the music by the symbolic estimator
(``scoring.readback``). Spearman across scenes is written in each panel's title.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

INTENDED_COLOR = QColor(120, 70, 190)
HEARD_COLOR = QColor(30, 160, 110)
LABEL_GAP_PX = 4  # between the labels of neighbouring columns
MIN_LABEL_CHARACTERS = 3  # a label cut shorter than this is replaced by the scene's number


def column_labels(labels, metrics: QFontMetrics, column_px: float) -> list[str]:
    """Each scene's label cut (with an ellipsis) to its column, or its number where too little would be left:
    nine scenes in a narrow panel used to run "mysterious" into its neighbour."""
    width = max(0, int(column_px) - LABEL_GAP_PX)
    out = []
    for i, label in enumerate(labels):
        cut = metrics.elidedText(label, Qt.TextElideMode.ElideRight, width)
        whole = cut == label
        out.append(cut if whole or len(cut.rstrip("…")) >= MIN_LABEL_CHARACTERS else str(i + 1))
    return out


class FitPlot(QWidget):
    """Shows ``set_fit(rows, spearman)``: rows of (label, intended V, intended A, heard V, heard A)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[tuple[str, float, float, float, float]] = []
        self.spearman: dict[str, float | None] = {}
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(360, 220)

    def set_fit(self, rows, spearman: dict[str, float | None]) -> None:
        self.rows = list(rows)
        self.spearman = dict(spearman)
        self.update()

    def clear(self) -> None:
        self.set_fit([], {})

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(palette.ColorRole.Base))
        text = palette.color(palette.ColorRole.Text)
        font = painter.font()
        font.setPixelSize(11)
        painter.setFont(font)
        if not self.rows:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Score the story to compare its arc with the music's")
            painter.end()
            return
        half = (self.height() - 18) / 2
        for panel, (axis, column_intended, column_heard) in enumerate((("valence", 1, 3), ("arousal", 2, 4))):
            top = panel * half
            area = QRectF(34, top + 18, self.width() - 44, half - 26)
            rho = self.spearman.get(axis)
            title = f"{axis}: story (solid) vs music (dashed)   Spearman {'–' if rho is None else f'{rho:.2f}'}"
            painter.setPen(text)
            painter.drawText(QPointF(area.left(), top + 13), title)
            painter.setPen(QPen(palette.color(palette.ColorRole.Mid), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(area)
            zero = area.top() + area.height() / 2
            painter.drawLine(QPointF(area.left(), zero), QPointF(area.right(), zero))
            painter.setPen(text)
            painter.drawText(QPointF(4, area.top() + 9), "+1")
            painter.drawText(QPointF(4, area.bottom()), "−1")
            n = len(self.rows)
            step = area.width() / max(1, n)

            def point(i: int, value: float) -> QPointF:
                return QPointF(area.left() + step * (i + 0.5), area.top() + area.height() * (1 - (value + 1) / 2))

            for column, color, style in ((column_intended, INTENDED_COLOR, Qt.PenStyle.SolidLine), (column_heard, HEARD_COLOR, Qt.PenStyle.DashLine)):
                painter.setPen(QPen(color, 2, style))
                points = [point(i, row[column]) for i, row in enumerate(self.rows)]
                for a, b in zip(points, points[1:]):
                    painter.drawLine(a, b)
                painter.setBrush(color)
                for p in points:
                    painter.drawEllipse(p, 3, 3)
            if panel == 1:
                painter.setPen(text)
                for i, label in enumerate(column_labels([row[0] for row in self.rows], painter.fontMetrics(), step)):
                    label_rect = QRectF(area.left() + step * i, area.bottom() + 2, step, 14)
                    painter.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, label)
        painter.end()
