"""Where the piano roll looks: zoom, scroll and snap, and the tick/pitch <-> pixel mapping.

Shared by the canvas, keyboard, ruler and velocity lane so they always line up. Rows run from
pitch 127 at the top to pitch 0 at the bottom; ``scroll_y_px`` is the content pixel at the top
edge and ``scroll_tick`` the tick at the left edge.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

from composer_app.core.theory import GRID_LABELS
from composer_app.core.theory import grid_ticks as core_grid_ticks

PITCH_COUNT = 128
MIN_KEY_HEIGHT_PX = 3
MAX_KEY_HEIGHT_PX = 40
MIN_PX_PER_QUARTER = 0.02  # far enough out to fit ~25,000 quarters (6,000 bars) in 500 px
MAX_PX_PER_QUARTER = 1600.0
DEFAULT_PX_PER_QUARTER = 80.0
DEFAULT_KEY_HEIGHT_PX = 14

# Snap grid labels as DAWs show them ("T" = triplet), from the core; "Off" snaps to single ticks.
SNAP_LABELS = (*GRID_LABELS, "Off")


def grid_ticks(label: str, ticks_per_quarter: int) -> int:
    """Ticks in one step of the snap grid ``label`` ("1/16", "1/8T", "Off" -> 1)."""
    if label == "Off":
        return 1
    return core_grid_ticks(label, ticks_per_quarter)


class ViewState(QObject):
    """Zoom, scroll and snap of one piano roll."""

    changed = Signal()  # () zoom or scroll changed: repaint and update scroll bars
    snap_changed = Signal(str)  # (snap label)

    def __init__(self, ticks_per_quarter: int = 480, parent: QObject | None = None):
        super().__init__(parent)
        self.ticks_per_quarter = ticks_per_quarter
        self.px_per_tick = DEFAULT_PX_PER_QUARTER / ticks_per_quarter
        self.key_height_px = DEFAULT_KEY_HEIGHT_PX
        self.scroll_tick = 0.0
        self.scroll_y_px = (PITCH_COUNT - 84) * DEFAULT_KEY_HEIGHT_PX  # C6 near the top
        self.viewport_width_px = 800
        self.viewport_height_px = 400
        self.content_end_tick = 32 * 4 * ticks_per_quarter
        self.snap_label = "1/16"

    # --- mapping ---------------------------------------------------------------------------
    def tick_to_x(self, tick: float) -> float:
        return (tick - self.scroll_tick) * self.px_per_tick

    def x_to_tick(self, x: float) -> float:
        return self.scroll_tick + x / self.px_per_tick

    def pitch_to_y(self, pitch: int) -> float:
        """Top edge of the row of ``pitch``."""
        return (PITCH_COUNT - 1 - pitch) * self.key_height_px - self.scroll_y_px

    def y_to_pitch(self, y: float) -> int:
        row = math.floor((y + self.scroll_y_px) / self.key_height_px)
        return max(0, min(PITCH_COUNT - 1, PITCH_COUNT - 1 - row))

    @property
    def content_height_px(self) -> int:
        return PITCH_COUNT * self.key_height_px

    def visible_ticks(self) -> tuple[float, float]:
        return self.scroll_tick, self.x_to_tick(self.viewport_width_px)

    def visible_pitches(self) -> tuple[int, int]:
        """(lowest, highest) pitch with a row at least partly visible."""
        return self.y_to_pitch(self.viewport_height_px - 1), self.y_to_pitch(0)

    # --- snap ------------------------------------------------------------------------------
    @property
    def snap_ticks(self) -> int:
        return grid_ticks(self.snap_label, self.ticks_per_quarter)

    def set_snap(self, label: str) -> None:
        if label not in SNAP_LABELS:
            raise ValueError(f"snap must be one of {', '.join(SNAP_LABELS)}")
        if label != self.snap_label:
            self.snap_label = label
            self.snap_changed.emit(label)
            self.changed.emit()

    def snap_floor(self, tick: float, bypass: bool = False) -> int:
        if bypass:
            return max(0, round(tick))
        step = self.snap_ticks
        return max(0, math.floor(tick / step) * step)

    def snap_round(self, tick: float, bypass: bool = False) -> int:
        if bypass:
            return max(0, round(tick))
        step = self.snap_ticks
        return max(0, round(tick / step) * step)

    # --- zoom and scroll ---------------------------------------------------------------------
    def set_viewport(self, width_px: int, height_px: int) -> None:
        self.viewport_width_px = max(1, width_px)
        self.viewport_height_px = max(1, height_px)
        self._clamp()
        self.changed.emit()

    def set_ticks_per_quarter(self, tpq: int) -> None:
        if tpq != self.ticks_per_quarter:
            px_per_quarter = self.px_per_tick * self.ticks_per_quarter
            self.scroll_tick = self.scroll_tick * tpq / self.ticks_per_quarter
            self.ticks_per_quarter = tpq
            self.px_per_tick = px_per_quarter / tpq
            self.changed.emit()

    def set_content_end(self, end_tick: int) -> None:
        """The song's length; scrolling reaches a few bars past it."""
        self.content_end_tick = max(end_tick + 8 * 4 * self.ticks_per_quarter, 32 * 4 * self.ticks_per_quarter)
        self._clamp()
        self.changed.emit()

    @property
    def max_scroll_tick(self) -> float:
        return max(0.0, self.content_end_tick - self.viewport_width_px / self.px_per_tick)

    @property
    def max_scroll_y_px(self) -> float:
        return max(0.0, self.content_height_px - self.viewport_height_px)

    def _clamp(self) -> None:
        self.scroll_tick = min(max(0.0, self.scroll_tick), self.max_scroll_tick)
        self.scroll_y_px = min(max(0.0, self.scroll_y_px), self.max_scroll_y_px)

    def scroll_to(self, tick: float | None = None, y_px: float | None = None) -> None:
        if tick is not None:
            self.scroll_tick = tick
        if y_px is not None:
            self.scroll_y_px = y_px
        self._clamp()
        self.changed.emit()

    def scroll_by(self, dx_px: float = 0.0, dy_px: float = 0.0) -> None:
        self.scroll_to(self.scroll_tick + dx_px / self.px_per_tick, self.scroll_y_px + dy_px)

    def zoom_x(self, factor: float, anchor_x: float | None = None) -> None:
        """Zoom time by ``factor`` (>1 = in), keeping the tick under ``anchor_x`` in place."""
        anchor_x = self.viewport_width_px / 2 if anchor_x is None else anchor_x
        anchor_tick = self.x_to_tick(anchor_x)
        px_per_quarter = self.px_per_tick * self.ticks_per_quarter * factor
        px_per_quarter = min(max(px_per_quarter, MIN_PX_PER_QUARTER), MAX_PX_PER_QUARTER)
        self.px_per_tick = px_per_quarter / self.ticks_per_quarter
        self.scroll_tick = anchor_tick - anchor_x / self.px_per_tick
        self._clamp()
        self.changed.emit()

    def zoom_y(self, factor: float, anchor_y: float | None = None) -> None:
        """Zoom pitch (row height) by ``factor``, keeping the pitch under ``anchor_y`` in place."""
        anchor_y = self.viewport_height_px / 2 if anchor_y is None else anchor_y
        content_y = (anchor_y + self.scroll_y_px) / self.key_height_px
        new_height = round(self.key_height_px * factor)
        if new_height == self.key_height_px:
            new_height += 1 if factor > 1 else -1
        self.key_height_px = min(max(new_height, MIN_KEY_HEIGHT_PX), MAX_KEY_HEIGHT_PX)
        self.scroll_y_px = content_y * self.key_height_px - anchor_y
        self._clamp()
        self.changed.emit()

    def show_range(self, start_tick: int, end_tick: int, low_pitch: int, high_pitch: int, margin: float = 0.05) -> None:
        """Zoom and scroll so that the given ticks and pitches fill the view (with a margin)."""
        span = max(end_tick - start_tick, self.ticks_per_quarter)
        width = self.viewport_width_px * (1 - 2 * margin)
        px_per_quarter = width / span * self.ticks_per_quarter
        self.px_per_tick = min(max(px_per_quarter, MIN_PX_PER_QUARTER), MAX_PX_PER_QUARTER) / self.ticks_per_quarter
        rows = max(high_pitch - low_pitch + 1, 12) + 4
        self.key_height_px = min(max(int(self.viewport_height_px / rows), MIN_KEY_HEIGHT_PX), MAX_KEY_HEIGHT_PX)
        self.scroll_tick = start_tick - self.viewport_width_px * margin / self.px_per_tick
        middle_row = PITCH_COUNT - 1 - (low_pitch + high_pitch) / 2
        self.scroll_y_px = (middle_row + 0.5) * self.key_height_px - self.viewport_height_px / 2
        self._clamp()
        self.changed.emit()

    def ensure_tick_visible(self, tick: float, page: bool = True) -> None:
        """Scroll so ``tick`` is on screen (a page at a time, as DAWs follow the playhead)."""
        start, end = self.visible_ticks()
        if start <= tick < end:
            return
        if page:
            self.scroll_to(tick - (end - start) * 0.05)
        else:
            self.scroll_to(tick - (end - start) / 2)
