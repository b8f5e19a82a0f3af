"""The note area of the piano roll: paints grid, every track's notes, loop and playhead; hands input to the active tool.

Every track's notes are shown in the track's colour (``theme.track_color``): the track being
edited in full (pale when soft, deep when loud), the others faded behind it ("ghost notes"; off
in View). Clicking another track's note makes that track the one being edited.

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
from PySide6.QtCore import QLineF, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from composer_app.core.note import Note
from composer_app.core.theory import PITCH_CLASS_NAMES
from composer_app.ui.piano_roll.note_index import NoteIndex
from composer_app.ui.piano_roll.view_state import PITCH_COUNT, ViewState
from composer_app.ui.theme import VELOCITY_BUCKETS, RollColors, roll_colors, track_ghost_fill, track_note_fills

BLACK_KEY_PCS = frozenset((1, 3, 6, 8, 10))
DETAILED_NOTE_LIMIT = 1200  # above this many visible notes, rasterise instead of drawing rectangles
RASTER_MIN_NOTES = 300  # ... or above this many when notes are only a few pixels apart
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
        self.setMinimumSize(160, 80)
        self.setAcceptDrops(True)  # a .mid file (a candidate, a DAW clip) dropped here is inserted where it lands
        self._drop_cache: tuple[str, list] | None = None  # (path, notes from tick 0) of the file being dragged
        self._index: NoteIndex | None = None
        self._ghost_indexes: list[tuple[int, NoteIndex]] = []  # (track index, its notes)
        self._rows_cache: QImage | None = None
        self._rows_cache_key = None
        self._frame_cache: QImage | None = None  # the last frame without playhead (see paintEvent)
        self._frame_cache_key: tuple | None = None
        self._ghost_colour = QColor(0, 0, 0)  # set per track while painting
        self._fills: tuple[QColor, ...] = ()
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

    def ghost_indexes(self) -> list[tuple[int, NoteIndex]]:
        """(track index, note index) of every other track with notes (empty when ghosts are off)."""
        project = self.document.project
        current = self.document.current_track_index
        others = [(i, t.notes) for i, t in enumerate(project.tracks) if i != current and t.notes]
        if len(others) != len(self._ghost_indexes) or any(
            gi != oi or g.notes is not o for (gi, g), (oi, o) in zip(self._ghost_indexes, others)
        ):
            self._ghost_indexes = [(i, NoteIndex(notes)) for i, notes in others]
        return self._ghost_indexes if self.editor.show_ghost_notes else []

    def other_track_note_at(self, pos: QPointF) -> tuple[int, Note] | None:
        """(track index, note) of another track's note under ``pos`` (the topmost track wins)."""
        view = self.view
        pitch = view.y_to_pitch(pos.y())
        tick = view.x_to_tick(pos.x())
        slack = 2 / view.px_per_tick
        for track_index, index in self.ghost_indexes():
            hits = index.overlapping(tick - slack, tick + slack, pitch, pitch)
            if hits:
                return track_index, hits[-1]
        return None

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
        self.editor.viewport_resized()

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

    # --- dropping a clip -------------------------------------------------------------------------
    def _dropped_clip(self, event) -> tuple[str, list] | None:
        """(file name, notes from tick 0) of the first MIDI file in a drag; read once per drag."""
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            path = url.toLocalFile() if url.isLocalFile() else ""
            if not path.lower().endswith((".mid", ".midi")):
                continue
            if self._drop_cache is None or self._drop_cache[0] != path:
                notes = self.editor.clip_notes(path)
                if notes is None:
                    return None
                self._drop_cache = (path, notes)
            return self._drop_cache
        return None

    def _drop_tick(self, event) -> int:
        bypass = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        return self.view.snap_floor(self.view.x_to_tick(event.position().x()), bypass)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        clip = self._dropped_clip(event)
        if clip is None or self.document.current_track is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.set_preview([], self.editor.placed_clip(clip[1], self._drop_tick(event)))

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self.clear_preview()

    def dropEvent(self, event) -> None:  # noqa: N802
        clip = self._dropped_clip(event)
        self.clear_preview()
        self._drop_cache = None
        if clip is None or self.document.current_track is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        path, notes = clip
        self.editor.insert_clip(notes, self._drop_tick(event), f"Drop {path.rsplit('/', 1)[-1]}")

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == event.Type.PaletteChange:
            self.refresh_colors()
        super().changeEvent(event)

    # --- painting --------------------------------------------------------------------------------
    def _frame_key(self) -> tuple:
        """What the cached frame depends on. Objects compare by identity (they are immutable values)."""
        view, document = self.view, self.document
        return (
            document.project, document.selection, self.preview_hidden, self.preview_shown, self.overlay_rect,
            self.colors,
        ), (
            document.current_track_index, view.scroll_tick, view.scroll_y_px, view.px_per_tick,
            view.key_height_px, view.snap_label, self.width(), self.height(), self.editor.show_ghost_notes,
            self.editor.show_scale,
        )

    def paintEvent(self, event) -> None:  # noqa: N802
        """Blit the cached frame when only the playhead moved (30 times a second while playing)."""
        objects, values = self._frame_key()
        cached = self._frame_cache_key
        stale = (
            self._frame_cache is None
            or cached is None
            or any(a is not b for a, b in zip(cached[0], objects))
            or cached[1] != values
        )
        if stale:
            if self._frame_cache is None or self._frame_cache.size() != self.size():
                self._frame_cache = QImage(self.size(), QImage.Format.Format_ARGB32_Premultiplied)
            frame_painter = QPainter(self._frame_cache)
            try:
                self.paint_content(frame_painter)
            finally:
                frame_painter.end()
            self._frame_cache_key = (objects, values)
        painter = QPainter(self)
        try:
            painter.drawImage(event.rect(), self._frame_cache, event.rect())
            self.editor.active_tool.paint(painter)
            self._paint_playhead(painter)
        finally:
            painter.end()

    def paint(self, painter: QPainter, rect: QRect) -> None:
        """Paint one whole frame without the frame cache (the benchmark calls this)."""
        self.paint_content(painter)
        self.editor.active_tool.paint(painter)
        self._paint_playhead(painter)

    def paint_content(self, painter: QPainter) -> None:
        """Everything but the playhead and the tool's overlay."""
        self._paint_rows(painter)
        self._paint_time_grid(painter)
        self._paint_loop(painter)
        tracks = self.document.project.tracks
        for track_index, ghost in self.ghost_indexes():
            self._ghost_colour = track_ghost_fill(track_index, self.colors.background, tracks[track_index].mute)
            self._paint_notes(painter, ghost, ghost=True)
        self._fills = track_note_fills(max(0, self.document.current_track_index), self.colors.background)
        self._paint_notes(painter, self.note_index(), ghost=False)
        if self.preview_shown:
            self._paint_note_list(painter, self.preview_shown, selected=True)
        if self.overlay_rect is not None:
            painter.setPen(QPen(self.colors.selected_border, 1, Qt.PenStyle.DashLine))
            painter.setBrush(self.colors.rubber_band)
            painter.drawRect(self.overlay_rect.normalized())

    def _paint_rows(self, painter: QPainter) -> None:
        view = self.view
        pcs = key_pitch_classes(self.document.project) if self.editor.show_scale else None
        key = (self.width(), view.key_height_px, pcs, self.colors.background.rgb())
        if self._rows_cache is None or self._rows_cache_key != key:
            self._rows_cache = self._build_rows_pixmap(pcs)
            self._rows_cache_key = key
        top = round(view.scroll_y_px)
        painter.drawImage(QPoint(0, 0), self._rows_cache, QRect(0, top, self.width(), self.height()))

    def _build_rows_pixmap(self, pcs) -> QImage:
        """Row backgrounds for all 128 pitches at the current row height (an image: blits fastest)."""
        view, colors = self.view, self.colors
        height = view.key_height_px
        image = QImage(max(1, self.width()), PITCH_COUNT * height, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(colors.background)
        p = QPainter(image)
        width = image.width()
        black_in_scale = _opaque(QColor(0, 0, 0, 25), colors.scale_row)
        octave = _opaque(colors.octave_line, colors.background)
        row = _opaque(colors.row_line, colors.background)
        for pitch in range(PITCH_COUNT):
            y = (PITCH_COUNT - 1 - pitch) * height
            pc = pitch % 12
            if pcs is not None and pc in pcs:
                p.fillRect(0, y, width, height, black_in_scale if pc in BLACK_KEY_PCS else colors.scale_row)
            elif pc in BLACK_KEY_PCS:
                p.fillRect(0, y, width, height, colors.black_key_row)
            p.fillRect(0, y + height - 1, width, 1, octave if pc == 0 else row)
        p.end()
        return image

    def _paint_time_grid(self, painter: QPainter) -> None:
        """Vertical snap, beat and bar lines as opaque 1-px fills (alpha-blended lines cost ~10× more)."""
        view, colors = self.view, self.colors
        project = self.document.project
        signatures = project.time_signatures
        tpq = project.ticks_per_quarter
        start_tick, end_tick = view.visible_ticks()
        height = self.height()
        snap = view.snap_ticks
        fill = painter.fillRect
        if snap * view.px_per_tick >= 8 and view.snap_label != "Off":
            colour = _opaque(colors.snap_line, colors.background)
            first = math.floor(start_tick / snap) * snap
            for t in range(first, int(end_tick) + snap, snap):
                fill(QRect(round(view.tick_to_x(t)), 0, 1, height), colour)
        bar = max(0, int(signatures.tick_to_bars(max(0.0, start_tick))))
        beat_xs, bar_xs = [], []
        while True:
            bar_tick = signatures.bar_to_tick(bar)
            if bar_tick > end_tick:
                break
            change = signatures.change_at(bar_tick)
            per_beat = change.ticks_per_beat(tpq)
            bar_xs.append(round(view.tick_to_x(bar_tick)))
            if per_beat * view.px_per_tick >= 6:
                beat_xs.extend(round(view.tick_to_x(bar_tick + b * per_beat)) for b in range(1, change.numerator))
            step = 1
            bar_px = change.ticks_per_bar(tpq) * view.px_per_tick
            while bar_px * step < 12:  # far out: every 2nd, 4th, 8th … bar line, at least 12 px apart
                step *= 2
            bar += step
        colour = _opaque(colors.beat_line, colors.background)
        for x in beat_xs:
            fill(QRect(x, 0, 1, height), colour)
        colour = _opaque(colors.bar_line, colors.background)
        for x in bar_xs:
            fill(QRect(x, 0, 1, height), colour)

    def _paint_loop(self, painter: QPainter) -> None:
        """The loop region's edges (the ruler shades the region itself)."""
        loop = self.document.project.loop
        if loop is None:
            return
        fill = self.colors.loop_fill
        colour = QColor(fill.red(), fill.green(), fill.blue())  # the highlight colour, opaque
        height = self.height()
        for tick in (loop.start_tick, loop.end_tick):
            x = round(self.view.tick_to_x(tick))
            if -2 <= x <= self.width() + 2:
                painter.fillRect(QRect(x - 1, 0, 2, height), colour)

    def _paint_notes(self, painter: QPainter, index: NoteIndex, *, ghost: bool) -> None:
        view = self.view
        start_tick, end_tick = view.visible_ticks()
        lo, hi = index.range_overlapping(start_tick, end_tick)
        if hi <= lo:
            return
        low_pitch, high_pitch = view.visible_pitches()
        # Rasterise when there are many notes, or when they are too thin for outlines to show.
        thin = (end_tick - start_tick) / max(1, hi - lo) * view.px_per_tick < 3
        if hi - lo > DETAILED_NOTE_LIMIT or (hi - lo > RASTER_MIN_NOTES and thin):
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
            painter.setBrush(self._ghost_colour)
            painter.drawRects(self._rects(notes, 1))
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
        if selection:
            unselected, selected = [], []
            for n in notes:
                (selected if n in selection else unselected).append(n)
        else:
            unselected, selected = notes, []
        self._paint_note_list(painter, unselected, selected=False)
        self._paint_note_list(painter, selected, selected=True)
        if len(notes) <= LABEL_NOTE_LIMIT and view.key_height_px >= 11:
            self._paint_labels(painter, notes)

    def _rects(self, notes, shrink: int) -> list[QRectF]:
        """Note rectangles in widget pixels (the hot loop of painting: kept lean)."""
        view = self.view
        scroll, ppt, height = view.scroll_tick, view.px_per_tick, view.key_height_px
        top = (PITCH_COUNT - 1) * height - view.scroll_y_px + shrink
        inner = height - 2 * shrink
        return [
            QRectF((n.start_tick - scroll) * ppt, top - n.pitch * height, max(n.duration_ticks * ppt, 2.0), inner)
            for n in notes
        ]

    def _paint_note_list(self, painter: QPainter, notes, *, selected: bool) -> None:
        if not notes:
            return
        colors = self.colors
        key_height = self.view.key_height_px
        shrink = 1 if key_height >= 5 else 0
        if selected:
            painter.setPen(QPen(colors.selected_border, 1.5 if key_height >= 8 else 1))
            painter.setBrush(colors.selected_fill)
            painter.drawRects(self._rects(notes, shrink))
            return
        painter.setPen(colors.note_border if key_height >= 5 else Qt.PenStyle.NoPen)
        buckets: dict[int, list] = {}
        for n in notes:
            bucket = buckets.get(n.velocity * VELOCITY_BUCKETS // 128)
            if bucket is None:
                bucket = buckets[n.velocity * VELOCITY_BUCKETS // 128] = []
            bucket.append(n)
        fills = getattr(self, "_fills", None) or colors.velocity_fills
        for bucket, bucket_notes in buckets.items():
            painter.setBrush(fills[bucket])
            painter.drawRects(self._rects(bucket_notes, shrink))

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
        begin, stop = rows * stride + x0, rows * stride + x1
        cover = np.bincount(begin, minlength=size).astype(np.int32) - np.bincount(stop, minlength=size).astype(np.int32)
        cover = np.cumsum(cover.reshape(rows_total, stride)[:, :width], axis=1, dtype=np.int32)
        if ghost:
            lut_index = (cover > 0).astype(np.uint8)
            lut = np.array([0, self._ghost_colour.rgba()], dtype=np.uint32)
        else:
            vel = velocities[keep].astype(np.float32)
            vsum = np.bincount(begin, weights=vel, minlength=size) - np.bincount(stop, weights=vel, minlength=size)
            vsum = np.cumsum(vsum.reshape(rows_total, stride)[:, :width], axis=1, dtype=np.float32)
            buckets = (vsum * (VELOCITY_BUCKETS / 128) / np.maximum(cover, 1)).astype(np.int32)
            lut_index = np.where(cover > 0, 1 + np.minimum(buckets, VELOCITY_BUCKETS - 1), 0)
            fills = getattr(self, "_fills", None) or self.colors.velocity_fills
            lut = np.array([0] + [c.rgba() for c in fills], dtype=np.uint32)
        pixels = np.ascontiguousarray(lut[lut_index])
        image = QImage(pixels.data, width, rows_total, width * 4, QImage.Format.Format_ARGB32_Premultiplied)
        # One image row per pitch, stretched to the row height (no smoothing: crisp rows).
        target = QRectF(0, view.pitch_to_y(high_pitch), width, rows_total * view.key_height_px)
        painter.drawImage(target, image)

    def _paint_playhead(self, painter: QPainter) -> None:
        x = self.view.tick_to_x(self.editor.playhead_tick)
        if 0 <= x <= self.width():
            painter.setPen(QPen(self.colors.playhead, 2))
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))


def _vline(x: float, height: int) -> QLineF:
    return QLineF(x, 0, x, height)


def _opaque(colour: QColor, background: QColor) -> QColor:
    """``colour`` (with alpha) blended onto ``background``: the same look, drawn without blending."""
    a = colour.alphaF()
    return QColor(
        round(background.red() + (colour.red() - background.red()) * a),
        round(background.green() + (colour.green() - background.green()) * a),
        round(background.blue() + (colour.blue() - background.blue()) * a),
    )


def _premultiply(lut: np.ndarray) -> np.ndarray:
    a = (lut >> 24) & 0xFF
    r = ((lut >> 16) & 0xFF) * a // 255
    g = ((lut >> 8) & 0xFF) * a // 255
    b = (lut & 0xFF) * a // 255
    return ((a << 24) | (r << 16) | (g << 8) | b).astype(np.uint32)
