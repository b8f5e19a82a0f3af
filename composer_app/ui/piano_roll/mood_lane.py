"""The mood lane under the roll: the document's mood timeline, drawn and edited like an automation lane.

Two curves over the bars: valence (orange, sad at the bottom … happy at the top) and arousal (blue,
calm … excited), as the timeline blends them. Each point has a handle on each curve. Along the top
runs a strip of the presets' emotion names: the timeline is split into stretches whose blended mood
has the same nearest preset (``name_spans``), each tinted and named ("sad", then "melancholic" for
part of a blend, then "happy"; cut short as "melan…" where the stretch is narrow); a point whose own label differs from its preset ("storm") has that
label written at the bottom beside its handle line.

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
MARGIN_PX = 14  # top margin holds the strip of preset names
HANDLE_RADIUS_PX = 5
VALENCE_COLOR = QColor(235, 140, 40)
AROUSAL_COLOR = QColor(60, 140, 230)
CURVE_STEP_PX = 3
NAME_GAP_PX = 4  # a preset name is written only where its stretch is this much wider than the text
MIN_NAME_LETTERS = 3  # a name cut short to fit keeps at least this many letters ("mys…"), else it is left out


def name_that_fits(name: str, width_px: float, metrics) -> str:
    """``name``, or its start and "…" ("melan…") if only that fits in ``width_px``, or "" if not even that."""
    if metrics.horizontalAdvance(name) <= width_px:
        return name
    for letters in range(len(name) - 1, MIN_NAME_LETTERS - 1, -1):
        short = name[:letters] + "…"
        if metrics.horizontalAdvance(short) <= width_px:
            return short
    return ""


# A tint per preset around the circumplex: warm for pleasant-lively, green for pleasant-calm,
# blue-grey for sad-calm, red-purple for unpleasant-lively (only a background for the name).
PRESET_TINTS = {
    "happy": QColor(240, 190, 40),
    "playful": QColor(250, 160, 60),
    "triumphant": QColor(240, 120, 30),
    "epic": QColor(220, 80, 60),
    "tense": QColor(170, 60, 140),
    "angry": QColor(200, 30, 40),
    "mysterious": QColor(100, 80, 170),
    "melancholic": QColor(90, 110, 170),
    "sad": QColor(60, 80, 140),
    "calm": QColor(80, 160, 170),
    "peaceful": QColor(90, 180, 110),
    "tender": QColor(200, 130, 160),
}


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

    def name_spans(self) -> list[tuple[float, float, str]]:
        """Visible stretches ``(x_start_px, x_end_px, preset name)`` of the blended timeline, left to right.

        Sampled every ``CURVE_STEP_PX`` pixels (as the curves are drawn): each stretch is where the
        nearest preset (``mood.nearest_preset``) of the timeline's mood stays the same. Empty without
        points.
        """
        timeline = self.timeline
        if not timeline:
            return []
        spans: list[list] = []
        for x in range(0, self.width() + CURVE_STEP_PX, CURVE_STEP_PX):
            valence, arousal = timeline.mood_at(max(0.0, self.x_to_bar(x)))
            name = nearest_preset(Mood(valence, arousal)).name
            if spans and spans[-1][2] == name:
                spans[-1][1] = float(x)
            else:
                if spans:
                    spans[-1][1] = float(x)  # stretches meet: each ends where the next begins
                spans.append([float(x), float(x), name])
        return [(start, min(end, float(self.width())), name) for start, end, name in spans]

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
        self._paint_names(painter, colors)
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
            preset_name = nearest_preset(Mood(point.valence, point.arousal)).name
            if point.label and point.label.lower() != preset_name:
                painter.setPen(colors.text)
                painter.drawText(QPointF(x + 3, self.height() - 4), point.label)
        painter.setPen(VALENCE_COLOR.darker(120))
        painter.drawText(QRectF(0, MARGIN_PX, self.width() - 4, 12), Qt.AlignmentFlag.AlignRight, "valence")
        painter.setPen(AROUSAL_COLOR.darker(120))
        painter.drawText(QRectF(0, self.height() - 13, self.width() - 4, 12), Qt.AlignmentFlag.AlignRight, "arousal")

    def _paint_names(self, painter: QPainter, colors) -> None:
        """The strip of preset names along the top: a tint per stretch, its name where it fits."""
        metrics = painter.fontMetrics()
        for index, (start, end, name) in enumerate(self.name_spans()):
            tint = QColor(PRESET_TINTS.get(name, colors.text))
            tint.setAlpha(45)
            painter.fillRect(QRectF(start, 0, end - start, MARGIN_PX - 1), tint)
            if index:
                painter.setPen(QPen(colors.beat_line, 1))
                painter.drawLine(QPointF(start, 0), QPointF(start, MARGIN_PX - 1))
            shown = name_that_fits(name, end - start - NAME_GAP_PX, metrics)
            if shown:
                painter.setPen(colors.text)
                painter.drawText(QRectF(start + 2, 0, end - start - 4, MARGIN_PX - 1), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)

