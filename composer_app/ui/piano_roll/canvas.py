"""The note area of the piano roll: paints grid, ghost notes, notes, loop and playhead; hands input to the active tool.

Painting costs O(visible notes): the note index finds the notes in the visible time window, the
row background (black/white keys, scale rows, octave lines) is cached in a pixmap that only
changes with zoom, key or palette, and when more notes are visible than can be drawn one by one
(zoomed far out) they are rasterised with numpy into one image (each pixel column of a pitch row
takes the colour of the mean velocity of the notes covering it).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from composer_app.core.note import Note
from composer_app.core.theory import PITCH_CLASS_NAMES
from composer_app.ui.piano_roll.note_index import NoteIndex
from composer_app.ui.piano_roll.view_state import PITCH_COUNT, ViewState
from composer_app.ui.theme import VELOCITY_BUCKETS, RollColors, roll_colors

BLACK_KEY_PCS = frozenset((1, 3, 6, 8, 10))
DETAILED_NOTE_LIMIT = 1500  # above this many visible notes, rasterise instead of drawing rectangles
LABEL_NOTE_LIMIT = 250  # draw pitch names inside notes when at most this many are visible
EDGE_GRAB_PX = 6  # how close to a note's edge a press resizes instead of moving


def key_pitch_classes(project) -> frozenset[int] | None:
    """The pitch classes to highlight: the project's key, or None when it has none."""
    key = getattr(project, "key", None)
    return key.pitch_classes if key is not None else None


class NoteCanvas(QWidget):
    """The painted note area. Tools receive its mouse and key events."""

    hover_changed = Signal(int, int)  # (tick, pitch) under the mouse, for the status bar

    def __init__(self, editor, view: ViewState, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        self.view = view
        self.colors: RollColors = roll_colors()
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 120)
        self._index: NoteIndex | None = None
        self._ghost_indexes: list[NoteIndex] = []
        self._rows_cache: QPixmap | None = None
        self._rows_cache_key = None
        self.preview_hidden: Counter | None = None  # notes the active tool is dragging (not drawn)
        self.preview_shown: list[Note] = []  # where they would land
        self.overlay_rect: QRectF | None = None  # a rubber band
        view.changed.connect(self.update)

    # --- data ----------------------------------------------------------------------------------
    @property
    def document(self):
        return self.editor.document

    def note_index(self) -> NoteIndex:
        track = self.document.current_track
        notes = track.notes if track is not None else ()
        if self._index is None or self._index.notes is not notes:
            self._index = NoteIndex(notes)
        return self._index

    def ghost_indexes(self) -> list[NoteIndex]:
        project = self.document.project
        current = self.document.current_track_index
        others = [t.notes for i, t in enumerate(project.tracks) if i != current and t.notes]
        if [g.notes for g in self._ghost_indexes] != others or any(
            g.notes is not o for g, o in zip(self._ghost_indexes, others)
        ):
            self._ghost_indexes = [NoteIndex(notes) for notes in others]
        return self._ghost_indexes if self.editor.show_ghost_notes else []

    def refresh_colors(self) -> None:
        self.colors = roll_colors(self.palette())
        self._rows_cache = None
        self.update()

    def set_preview(self, hidden, shown) -> None:
        self.preview_hidden = Counter(hidden) if hidden else None
        self.preview_shown = list(shown)
        self.update()

    def clear_preview(self) -> None:
        self.preview_hidden = None
        self.preview_shown = []
        self.overlay_rect = None
        self.update()

    # --- geometry --------------------------------------------------------------------------------
    def note_rect(self, note: Note) -> QRectF:
        view = self.view
        x0 = view.tick_to_x(note.start_tick)
        width = max(note.duration_ticks * view.px_per_tick, 2.0)
        return QRectF(x0, view.pitch_to_y(note.pitch), width, view.key_height_px)

    def note_at(self, pos: QPointF) -> tuple[Note | None, str]:
        """The topmost note under ``pos`` and which part was hit: "start", "end" or "body"."""
        view = self.view
        pitch = view.y_to_pitch(pos.y())
        tick = view.x_to_tick(pos.x())
        slack = 2 / view.px_per_tick
        candidates = self.note_index().overlapping(tick - slack, tick + slack, pitch, pitch)
        if not candidates:
            return None, ""
        note = candidates[-1]
        rect = self.note_rect(note)
        if pos.x() >= rect.right() - min(EDGE_GRAB_PX, rect.width() / 3):
            return note, "end"
        if rect.width() > 4 * EDGE_GRAB_PX and pos.x() <= rect.left() + EDGE_GRAB_PX / 2:
            return note, "start"
        return note, "body"

    def notes_in_rect(self, rect: QRectF) -> list[Note]:
        view = self.view
        rect = rect.normalized()
        tick0, tick1 = view.x_to_tick(rect.left()), view.x_to_tick(rect.right())
        high, low = view.y_to_pitch(rect.top()), view.y_to_pitch(rect.bottom())
        return self.note_index().overlapping(tick0, tick1, low, high)

    # --- events → tool ---------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.view.set_viewport(self.width(), self.height())
        self._rows_cache = None
        super().resizeEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus()
        self.editor.active_tool.press(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        self.hover_changed.emit(round(self.view.x_to_tick(pos.x())), self.view.y_to_pitch(pos.y()))
        self.editor.active_tool.move(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self.editor.active_tool.release(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.editor.active_tool.double_click(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if not self.editor.active_tool.key_press(event):
            super().keyPressEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.editor.handle_wheel(event, self)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == event.Type.PaletteChange:
            self.refresh_colors()
        super().changeEvent(event)

    # --- painting --------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        try:
            self.paint(painter, self.rect())
        finally:
            painter.end()

    def paint(self, painter: QPainter, rect: QRect) -> None:
        """Paint one frame (also called by the benchmark)."""
        self._paint_rows(painter)
        self._paint_time_grid(painter)
        self._paint_loop(painter)
        for ghost in self.ghost_indexes():
            self._paint_notes(painter, ghost, ghost=True)
        self._paint_notes(painter, self.note_index(), ghost=False)
        if self.preview_shown:
            self._paint_note_list(painter, self.preview_shown, selected=True)
        if self.overlay_rect is not None:
            painter.setPen(QPen(self.colors.selected_border, 1, Qt.PenStyle.DashLine))
            painter.setBrush(self.colors.rubber_band)
            painter.drawRect(self.overlay_rect.normalized())
        self.editor.active_tool.paint(painter)
        self._paint_playhead(painter)

    def _paint_rows(self, painter: QPainter) -> None:
        view = self.view
        pcs = key_pitch_classes(self.document.project) if self.editor.show_scale else None
        key = (self.width(), view.key_height_px, pcs, self.colors.background.rgb())
        if self._rows_cache is None or self._rows_cache_key != key:
            self._rows_cache = self._build_rows_pixmap(pcs)
            self._rows_cache_key = key
        painter.drawPixmap(0, -round(view.scroll_y_px), self._rows_cache)

    def _build_rows_pixmap(self, pcs) -> QPixmap:
        view, colors = self.view, self.colors
        height = view.key_height_px
        pixmap = QPixmap(max(1, self.width()), PITCH_COUNT * height)
        pixmap.fill(colors.background)
        p = QPainter(pixmap)
        width = pixmap.width()
        for pitch in range(PITCH_COUNT):
            y = (PITCH_COUNT - 1 - pitch) * height
            pc = pitch % 12
            if pcs is not None and pc in pcs:
                p.fillRect(0, y, width, height, colors.scale_row)
                if pc in BLACK_KEY_PCS:
                    p.fillRect(0, y, width, height, QColor(0, 0, 0, 25))
            elif pc in BLACK_KEY_PCS:
                p.fillRect(0, y, width, height, colors.black_key_row)
            p.setPen(colors.octave_line if pc == 0 else colors.row_line)
            p.drawLine(0, y + height - 1, width, y + height - 1)
        p.end()
        return pixmap

    def _paint_time_grid(self, painter: QPainter) -> None:
        view, colors = self.view, self.colors
        project = self.document.project
        signatures = project.time_signatures
        tpq = project.ticks_per_quarter
        start_tick, end_tick = view.visible_ticks()
        height = self.height()
        snap = view.snap_ticks
        # Faint snap lines when they are far enough apart to be useful.
        if snap * view.px_per_tick >= 8 and view.snap_label != "Off":
            first = math.floor(start_tick / snap) * snap
            painter.setPen(colors.snap_line)
            painter.drawLines([_vline(view.tick_to_x(t), height) for t in range(first, int(end_tick) + snap, snap)])
        # Beat and bar lines from the time-signature map.
        bar = max(0, int(signatures.tick_to_bars(max(0.0, start_tick))))
        beat_lines, bar_lines = [], []
        while True:
            bar_tick = signatures.bar_to_tick(bar)
            if bar_tick > end_tick:
                break
            change = signatures.change_at(bar_tick)
            per_beat = change.ticks_per_beat(tpq)
            bar_lines.append(_vline(view.tick_to_x(bar_tick), height))
            if per_beat * view.px_per_tick >= 6:
                beat_lines.extend(
                    _vline(view.tick_to_x(bar_tick + b * per_beat), height) for b in range(1, change.numerator)
                )
            step = 1
            bar_px = change.ticks_per_bar(tpq) * view.px_per_tick
            if bar_px < 12:
                step = 4 if bar_px >= 3 else 16
            bar += step
        painter.setPen(colors.beat_line)
        painter.drawLines(beat_lines)
        painter.setPen(colors.bar_line)
        painter.drawLines(bar_lines)

    def _paint_loop(self, painter: QPainter) -> None:
        loop = self.document.project.loop
        if loop is None:
            return
        x0, x1 = self.view.tick_to_x(loop.start_tick), self.view.tick_to_x(loop.end_tick)
        if x1 < 0 or x0 > self.width():
            return
        painter.fillRect(QRectF(x0, 0, x1 - x0, self.height()), self.colors.loop_fill)

    def _paint_notes(self, painter: QPainter, index: NoteIndex, *, ghost: bool) -> None:
        view = self.view
        start_tick, end_tick = view.visible_ticks()
        lo, hi = index.range_overlapping(start_tick, end_tick)
        if hi <= lo:
            return
        low_pitch, high_pitch = view.visible_pitches()
        if hi - lo > DETAILED_NOTE_LIMIT:
            self._paint_notes_raster(painter, index, lo, hi, low_pitch, high_pitch, ghost)
            if not ghost and self.document.selection:
                selected = [n for n in self.document.selection if n.end_tick > start_tick and n.start_tick < end_tick]
                if len(selected) <= 4 * DETAILED_NOTE_LIMIT:
                    self._paint_note_list(painter, selected, selected=True)
            return
        notes = [
            n for n in index.notes[lo:hi] if n.start_tick + n.duration_ticks > start_tick and low_pitch <= n.pitch <= high_pitch
        ]
        if ghost:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.colors.ghost_fill)
            painter.drawRects([self.note_rect(n).adjusted(0, 1, 0, -1) for n in notes])
            return
        hidden = self.preview_hidden
        if hidden:
            remaining = Counter(hidden)
            kept = []
            for n in notes:
                if remaining.get(n, 0) > 0:
                    remaining[n] -= 1
                else:
                    kept.append(n)
            notes = kept
        selection = self.document.selection
        unselected, selected = [], []
        for n in notes:
            (selected if n in selection else unselected).append(n)
        self._paint_note_list(painter, unselected, selected=False)
        self._paint_note_list(painter, selected, selected=True)
        if len(notes) <= LABEL_NOTE_LIMIT and view.key_height_px >= 11:
            self._paint_labels(painter, notes)

    def _paint_note_list(self, painter: QPainter, notes, *, selected: bool) -> None:
        if not notes:
            return
        colors = self.colors
        key_height = self.view.key_height_px
        shrink = 1 if key_height >= 5 else 0
        if selected:
            painter.setPen(QPen(colors.selected_border, 1.5 if key_height >= 8 else 1))
            painter.setBrush(colors.selected_fill)
            painter.drawRects([self.note_rect(n).adjusted(0, shrink, 0, -shrink) for n in notes])
            return
        painter.setPen(colors.note_border if key_height >= 5 else Qt.PenStyle.NoPen)
        buckets: dict[int, list[QRectF]] = {}
        for n in notes:
            buckets.setdefault(n.velocity * VELOCITY_BUCKETS // 128, []).append(
                self.note_rect(n).adjusted(0, shrink, 0, -shrink)
            )
        for bucket, rects in buckets.items():
            painter.setBrush(colors.velocity_fills[bucket])
            painter.drawRects(rects)

    def _paint_labels(self, painter: QPainter, notes) -> None:
        painter.setPen(QColor(0, 0, 0))
        font = painter.font()
        font.setPixelSize(max(8, min(12, self.view.key_height_px - 3)))
        painter.setFont(font)
        for n in notes:
            rect = self.note_rect(n)
            if rect.width() >= 26:
                painter.drawText(
                    rect.adjusted(3, 0, -2, 0),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    f"{PITCH_CLASS_NAMES[n.pitch % 12]}{n.pitch // 12 - 1}",
                )

    def _paint_notes_raster(self, painter, index: NoteIndex, lo, hi, low_pitch, high_pitch, ghost) -> None:
        """Rasterise many notes at once: per pitch row, a coverage and velocity-sum scan line."""
        view = self.view
        width = self.width()
        starts, ends, pitches, velocities = (a[lo:hi] for a in index.arrays())
        in_rows = (pitches >= low_pitch) & (pitches <= high_pitch)
        x0 = np.floor((starts - view.scroll_tick) * view.px_per_tick).astype(np.int64)
        x1 = np.floor((ends - view.scroll_tick) * view.px_per_tick).astype(np.int64)
        x1 = np.maximum(x1, x0 + 1)
        keep = in_rows & (x1 > 0) & (x0 < width)
        if not keep.any():
            return
        x0 = np.clip(x0[keep], 0, width)
        x1 = np.clip(x1[keep], 0, width)
        rows_total = high_pitch - low_pitch + 1
        rows = high_pitch - pitches[keep]
        stride = width + 1
        size = rows_total * stride
        cover = np.bincount(rows * stride + x0, minlength=size) - np.bincount(rows * stride + x1, minlength=size)
        cover = np.cumsum(cover.reshape(rows_total, stride)[:, :width], axis=1)
        if ghost:
            lut_index = np.where(cover > 0, 1, 0)
            lut = np.array([0, self.colors.ghost_fill.rgba()], dtype=np.uint32)
            lut = _premultiply(lut)
        else:
            vel = velocities[keep].astype(np.float64)
            vsum = np.bincount(rows * stride + x0, weights=vel, minlength=size) - np.bincount(
                rows * stride + x1, weights=vel, minlength=size
            )
            vsum = np.cumsum(vsum.reshape(rows_total, stride)[:, :width], axis=1)
            mean = np.divide(vsum, cover, out=np.zeros_like(vsum), where=cover > 0)
            lut_index = np.where(cover > 0, 1 + (mean.astype(np.int64) * VELOCITY_BUCKETS // 128), 0)
            lut = np.array([0] + [c.rgba() for c in self.colors.velocity_fills], dtype=np.uint32)
        key_height = view.key_height_px
        pixels = lut[lut_index]
        pixels = np.repeat(pixels, key_height, axis=0)
        if key_height >= 4:
            pixels[key_height - 1 :: key_height] = 0
        pixels = np.ascontiguousarray(pixels)
        image = QImage(pixels.data, width, pixels.shape[0], width * 4, QImage.Format.Format_ARGB32_Premultiplied)
        painter.drawImage(QPointF(0, view.pitch_to_y(high_pitch)), image)

    def _paint_playhead(self, painter: QPainter) -> None:
        x = self.view.tick_to_x(self.editor.playhead_tick)
        if 0 <= x <= self.width():
            painter.setPen(QPen(self.colors.playhead, 2))
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))


def _vline(x: float, height: int) -> QLineF:
    return QLineF(x, 0, x, height)


def _premultiply(lut: np.ndarray) -> np.ndarray:
    a = (lut >> 24) & 0xFF
    r = ((lut >> 16) & 0xFF) * a // 255
    g = ((lut >> 8) & 0xFF) * a // 255
    b = (lut & 0xFF) * a // 255
    return ((a << 24) | (r << 16) | (g << 8) | b).astype(np.uint32)
