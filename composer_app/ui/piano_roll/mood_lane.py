"""The mood lane under the roll: the document's mood timeline, drawn and edited like an automation lane.

Two curves over the bars: valence (orange, sad at the bottom … happy at the top) and arousal (blue,
calm … excited), as the timeline blends them. Each point has a handle on each curve and its emotion
name (its label, else the nearest preset) written along the top.

- drag a handle: up/down sets that axis, left/right moves the point (whole bars);
- double-click empty space: add a point there with the mood the timeline has at that bar;
- right-click a handle: remove its point.

Each gesture is one undo step (``Document.apply`` on release). It is a ``TimeLane`` in the editor's
bottom lane stack (``editor.mood_lane``); the story's scene markers are the project's markers.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from composer_app.core.mood_timeline import MoodPoint, MoodTimeline
from composer_app.mood.mood import Mood, nearest_preset
from composer_app.ui.piano_roll.lanes import TimeLane

MOOD_LANE_HEIGHT_PX = 90
MARGIN_PX = 14  # top margin holds the emotion names
HANDLE_RADIUS_PX = 5
VALENCE_COLOR = QColor(235, 140, 40)
AROUSAL_COLOR = QColor(60, 140, 230)
CURVE_STEP_PX = 3


class MoodLane(TimeLane):
    title = "Mood"
    height_px = MOOD_LANE_HEIGHT_PX

    def __init__(self, editor, parent: QWidget | None = None):
        super().__init__(editor, parent)
        self.setObjectName("mood_lane")
        self.setMouseTracking(False)
        self.setToolTip(
            "Mood timeline: drag a handle (orange valence, blue arousal) up/down or along the bars, "
            "double-click to add a point, right-click a handle to remove its point."
        )
        self._drag: tuple[int, str] | None = None  # (point index, "valence" | "arousal")
        self._preview: MoodTimeline | None = None

    # --- mapping ------------------------------------------------------------------------------------
    @property
    def timeline(self) -> MoodTimeline:
        return self._preview if self._preview is not None else self.editor.document.project.mood_timeline

    def _bar_ticks(self) -> int:
        return self.editor.document.project.time_signatures.ticks_per_bar_at(0)

    def bar_to_x(self, bar: float) -> float:
        return self.view.tick_to_x(bar * self._bar_ticks())

    def x_to_bar(self, x: float) -> float:
        return self.view.x_to_tick(x) / self._bar_ticks()

    def value_to_y(self, value: float) -> float:
        usable = self.height() - MARGIN_PX - 4
        return MARGIN_PX + usable * (1 - (value + 1) / 2)

    def y_to_value(self, y: float) -> float:
        usable = max(1, self.height() - MARGIN_PX - 4)
        return max(-1.0, min(1.0, round((1 - (y - MARGIN_PX) / usable) * 2 - 1, 2)))

    def handle_at(self, pos: QPointF) -> tuple[int, str] | None:
        """The (point index, axis) of the handle under ``pos``, if any."""
        for index, point in enumerate(self.timeline.points):
            x = self.bar_to_x(point.bar)
            for axis, value in (("valence", point.valence), ("arousal", point.arousal)):
                if abs(pos.x() - x) <= HANDLE_RADIUS_PX + 2 and abs(pos.y() - self.value_to_y(value)) <= HANDLE_RADIUS_PX + 2:
                    return index, axis
        return None

    # --- input ------------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        hit = self.handle_at(event.position())
        if hit is None:
            return
        if event.button() == Qt.MouseButton.RightButton:
            point = self.timeline.points[hit[0]]
            self._apply(self.timeline.without_point(point.bar), "Remove mood point")
            return
        self._drag = hit
        self._preview = self.timeline

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            return
        index, axis = self._drag
        base = self.editor.document.project.mood_timeline
        point = base.points[index]
        value = self.y_to_value(event.position().y())
        moved = point.with_mood(value, point.arousal) if axis == "valence" else point.with_mood(point.valence, value)
        bar = float(max(0, round(self.x_to_bar(event.position().x()))))
        others = [p for i, p in enumerate(base.points) if i != index]
        if all(p.bar != bar for p in others):
            moved = moved.moved(bar)
        self._preview = MoodTimeline(tuple(others) + (moved,))
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            return
        preview, self._drag, self._preview = self._preview, None, None
        if preview is not None and preview != self.editor.document.project.mood_timeline:
            self._apply(preview, "Edit mood timeline")
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if self.handle_at(event.position()) is not None:
            return
        bar = float(max(0, int(self.x_to_bar(event.position().x()))))
        timeline = self.timeline
        if timeline.point_at(bar) is not None:
            return
        valence, arousal = timeline.mood_at(bar) if timeline else (self.y_to_value(event.position().y()), 0.0)
        self._apply(timeline.with_point(MoodPoint(bar, valence, arousal)), "Add mood point")

    def _apply(self, timeline: MoodTimeline, text: str) -> None:
        document = self.editor.document
        document.apply(document.project.with_mood_timeline(timeline), text)
        self.update()

    # --- painting ----------------------------------------------------------------------------------------
    def paint_lane(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colors = self.editor.canvas.colors
        painter.setPen(QPen(colors.beat_line))
        zero = self.value_to_y(0.0)
        painter.drawLine(QPointF(0, zero), QPointF(self.width(), zero))
        font = painter.font()
        font.setPixelSize(10)
        painter.setFont(font)
        timeline = self.timeline
        if not timeline:
            painter.setPen(colors.text)
            painter.drawText(QPointF(4, 12), "No mood timeline: double-click to add a point, or read a story (Story panel)")
            return
        for axis, color in (("valence", VALENCE_COLOR), ("arousal", AROUSAL_COLOR)):
            path = QPainterPath()
            for i, x in enumerate(range(0, self.width() + CURVE_STEP_PX, CURVE_STEP_PX)):
                v, a = timeline.mood_at(max(0.0, self.x_to_bar(x)))
                y = self.value_to_y(v if axis == "valence" else a)
                path.moveTo(x, y) if i == 0 else path.lineTo(x, y)
            painter.setPen(QPen(color, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        for point in timeline.points:
            x = self.bar_to_x(point.bar)
            if x < -40 or x > self.width() + 4:
                continue
            painter.setPen(QPen(colors.beat_line, 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, MARGIN_PX), QPointF(x, self.height()))
            for value, color in ((point.valence, VALENCE_COLOR), (point.arousal, AROUSAL_COLOR)):
                painter.setPen(QPen(color.darker(140), 1))
                painter.setBrush(color)
                painter.drawEllipse(QPointF(x, self.value_to_y(value)), HANDLE_RADIUS_PX, HANDLE_RADIUS_PX)
            painter.setPen(colors.text)
            name = point.label or nearest_preset(Mood(point.valence, point.arousal)).name
            painter.drawText(QPointF(x + 3, 11), name)
        painter.setPen(VALENCE_COLOR.darker(120))
        painter.drawText(QRectF(0, 0, self.width() - 4, 12), Qt.AlignmentFlag.AlignRight, "valence")
        painter.setPen(AROUSAL_COLOR.darker(120))
        painter.drawText(QRectF(0, self.height() - 13, self.width() - 4, 12), Qt.AlignmentFlag.AlignRight, "arousal")
