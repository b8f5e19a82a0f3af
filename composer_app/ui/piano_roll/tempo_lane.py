"""The tempo and meter lane and the marker lane, under the ruler.

Tempo and meter (:class:`TempoMeterLane`): the upper row shows each time-signature change
("3/4"), the lower row each tempo change ("♩ 96"). Double-click empty space to add a change there
(a meter change goes to the bar line at or before the click), double-click a change to type a
new value, drag a change along the time axis to move it (tempo: on the snap grid; meter: bar
lines), right-click for Add / Delete, or select one with a click and press Delete. The change at
tick 0 is always there: it can be edited, not moved or deleted.

Markers (:class:`MarkerLane`): named positions ("Verse", "Chorus"). Double-click empty space to
add one, double-click one to rename it, click one to move the playhead there, drag to move it,
right-click or Delete to remove it.

Every change is one ``Document.apply`` (one undo step); a value that cannot be read ("fast",
"3/5") changes nothing and says why in the status bar.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QMenu

from composer_app.core.limits import cut_text
from composer_app.core.project import Marker
from composer_app.core.timing import (
    TempoChange,
    TempoMap,
    TimeSignatureChange,
    TimeSignatureMap,
    bpm_to_microseconds_per_quarter,
)
from composer_app.ui.piano_roll.lanes import TimeLane
from composer_app.ui.signals import app_signals

MIN_BPM, MAX_BPM = 20.0, 400.0
DRAG_START_PX = 3
STATUS_MS = 5000
TEMPO_COLOR = QColor(214, 120, 40)
METER_COLOR = QColor(70, 130, 200)
MARKER_COLOR = QColor(150, 90, 190)


def parse_bpm(text: str) -> float:
    """"96", "96.5", "96 bpm" -> 96.0; raises ValueError with a message a person can act on."""
    cleaned = text.strip().lower().removesuffix("bpm").strip().replace(",", ".")
    try:
        bpm = float(cleaned)
    except ValueError:
        raise ValueError(f"“{text.strip()}” is not a tempo: type beats per minute, e.g. 96") from None
    if not MIN_BPM <= bpm <= MAX_BPM:
        raise ValueError(f"tempo must be between {MIN_BPM:g} and {MAX_BPM:g} BPM")
    return bpm


def parse_meter(text: str) -> tuple[int, int]:
    """"3/4" -> (3, 4); raises ValueError with a message a person can act on."""
    parts = text.replace(" ", "").split("/")
    try:
        numerator, denominator = int(parts[0]), int(parts[1])
        if len(parts) != 2:
            raise ValueError
    except (ValueError, IndexError):
        raise ValueError(f"“{text.strip()}” is not a time signature: type e.g. 3/4 or 6/8") from None
    if not 1 <= numerator <= 32:
        raise ValueError("the time signature's upper number must be 1..32")
    if denominator not in (1, 2, 4, 8, 16, 32):
        raise ValueError("the time signature's lower number must be 1, 2, 4, 8, 16 or 32")
    return numerator, denominator


def format_bpm(bpm: float) -> str:
    return f"{bpm:.1f}".removesuffix(".0")


def _say(text: str) -> None:
    app_signals().status_message.emit(text, STATUS_MS)


class _ItemLane(TimeLane):
    """A lane of labelled items at ticks: hit-testing, selection, drag to move, delete."""

    def __init__(self, editor, parent=None):
        super().__init__(editor, parent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.selected: tuple[str, int] | None = None  # (kind, tick) of the selected item
        self._press: tuple[QPointF, tuple[str, int]] | None = None
        self._drag_tick: int | None = None

    # subclasses: items() -> [(kind, tick, text, row_rect)], and the edits
    def items(self) -> list[tuple[str, int, str, QRectF]]:
        return []

    def item_rect(self, tick: int, text: str, row: QRectF) -> QRectF:
        width = QFontMetricsF(self.font()).horizontalAdvance(text) + 10
        return QRectF(self.x_of(tick), row.top(), width, row.height())

    def item_at(self, pos: QPointF) -> tuple[str, int] | None:
        for kind, tick, text, row in reversed(self.items()):
            if self.item_rect(tick, text, row).adjusted(-3, 0, 0, 0).contains(pos):
                return kind, tick
        return None

    def row_kind_at(self, y: float) -> str:
        for kind, _tick, _text, row in self.items():
            if row.top() <= y < row.bottom():
                return kind
        return self.default_kind

    default_kind = ""

    def snapped_tick(self, kind: str, x: float, modifiers=Qt.KeyboardModifier.NoModifier) -> int:
        return self.view.snap_round(self.tick_at(x), bool(modifiers & Qt.KeyboardModifier.AltModifier))

    def movable(self, kind: str, tick: int) -> bool:
        return tick > 0

    def move_item(self, kind: str, tick: int, new_tick: int) -> None: ...

    def delete_item(self, kind: str, tick: int) -> None: ...

    def edit_item(self, kind: str, tick: int) -> None: ...

    def add_item(self, kind: str, tick: int) -> None: ...

    def click_item(self, kind: str, tick: int) -> None: ...

    # --- mouse and keys ---------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        hit = self.item_at(pos)
        if event.button() == Qt.MouseButton.RightButton:
            self._context_menu(event, hit)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self.selected = hit
        self._press = (pos, hit) if hit is not None else None
        self._drag_tick = None
        self.update()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._press is None:
            return
        press_pos, (kind, tick) = self._press
        if self._drag_tick is None and abs(event.position().x() - press_pos.x()) < DRAG_START_PX:
            return
        if not self.movable(kind, tick):
            return
        delta = event.position().x() - press_pos.x()
        self._drag_tick = max(1, self.snapped_tick(kind, self.x_of(tick) + delta, event.modifiers()))
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        press, self._press = self._press, None
        drag_tick, self._drag_tick = self._drag_tick, None
        if press is None:
            return
        kind, tick = press[1]
        if drag_tick is not None and drag_tick != tick:
            self.move_item(kind, tick, drag_tick)
            self.selected = (kind, drag_tick)
        elif drag_tick is None:
            self.click_item(kind, tick)
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._press = None
        hit = self.item_at(event.position())
        if hit is not None:
            self.edit_item(*hit)
        else:
            kind = self.row_kind_at(event.position().y())
            self.add_item(kind, self.snapped_tick(kind, event.position().x(), event.modifiers()))

    def event(self, event) -> bool:  # noqa: D102
        # Delete is also the window's "delete notes": with an item selected here it deletes the item.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
            and self.selected is not None
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected is not None:
            kind, tick = self.selected
            if self.movable(kind, tick):
                self.delete_item(kind, tick)
                self.selected = None
            event.accept()
            return
        super().keyPressEvent(event)

    def _context_menu(self, event, hit) -> None:
        menu = QMenu(self)
        self.fill_menu(menu, event.position(), hit)
        if not menu.isEmpty():
            menu.popup(event.globalPosition().toPoint())
        self.context_menu = menu  # tests trigger its actions

    def fill_menu(self, menu: QMenu, pos: QPointF, hit) -> None: ...

    # --- painting ---------------------------------------------------------------------------------
    def paint_items(self, painter: QPainter, color: QColor, only_kind: str | None = None) -> None:
        palette = self.palette()
        text_color = palette.color(palette.ColorRole.Text)
        for kind, tick, text, row in self.items():
            if only_kind is not None and kind != only_kind:
                continue
            shown_tick = self._drag_tick if self._drag_tick is not None and self._press and self._press[1] == (kind, tick) else tick
            rect = self.item_rect(shown_tick, text, row)
            if rect.right() < 0 or rect.left() > self.width():
                continue
            selected = self.selected == (kind, tick)
            fill = QColor(color)
            fill.setAlpha(230 if selected else 150)
            painter.fillRect(rect.adjusted(0, 1, 0, -1), fill)
            painter.fillRect(QRectF(rect.left(), row.top(), 2, row.height()), color.darker(140))
            painter.setPen(QPen(text_color if not selected else QColor(255, 255, 255)))
            painter.drawText(rect.adjusted(5, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            if selected:
                painter.setPen(QPen(QColor(0, 0, 0), 1))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(rect.adjusted(0, 1, -1, -2))


class TempoMeterLane(_ItemLane):
    """Tempo changes (lower row) and time-signature changes (upper row)."""

    title = "Tempo\nMeter"
    height_px = 34
    default_kind = "tempo"

    def __init__(self, editor, parent=None):
        super().__init__(editor, parent)
        self.setObjectName("tempo_meter_lane")
        self.setToolTip(
            "Tempo and time-signature changes. Double-click to add or edit one, drag to move it,\n"
            "right-click or Delete to remove it."
        )

    def _rows(self) -> tuple[QRectF, QRectF]:
        half = self.height() / 2
        return QRectF(0, 0, self.width(), half), QRectF(0, half, self.width(), self.height() - half)

    def items(self):
        project = self.document.project
        meter_row, tempo_row = self._rows()
        out = [("meter", c.tick, f"{c.numerator}/{c.denominator}", meter_row) for c in project.time_signatures.changes]
        out += [("tempo", c.tick, f"♩ {format_bpm(c.bpm)}", tempo_row) for c in project.tempo_map.changes]
        return out

    def row_kind_at(self, y: float) -> str:
        return "meter" if y < self.height() / 2 else "tempo"

    def snapped_tick(self, kind, x, modifiers=Qt.KeyboardModifier.NoModifier) -> int:
        if kind != "meter":
            return super().snapped_tick(kind, x, modifiers)
        signatures = self.document.project.time_signatures
        bars = signatures.tick_to_bars(max(0.0, self.tick_at(x)))
        return signatures.bar_to_tick(round(bars))

    def paint_lane(self, painter: QPainter) -> None:
        meter_row, _tempo_row = self._rows()
        palette = self.palette()
        painter.setPen(QPen(palette.color(palette.ColorRole.Midlight), 1))
        painter.drawLine(0, round(meter_row.bottom()), self.width(), round(meter_row.bottom()))
        self.paint_items(painter, METER_COLOR, "meter")
        self.paint_items(painter, TEMPO_COLOR, "tempo")

    # --- edits --------------------------------------------------------------------------------------
    def _apply_tempo(self, changes, text: str) -> None:
        project = self.document.project
        self.document.apply(replace(project, tempo_map=TempoMap(changes, project.ticks_per_quarter)), text)

    def _apply_meter(self, changes, text: str) -> None:
        project = self.document.project
        self.document.apply(replace(project, time_signatures=TimeSignatureMap(changes, project.ticks_per_quarter)), text)

    def set_tempo(self, tick: int, bpm: float, text: str = "Change tempo") -> None:
        changes = [c for c in self.document.project.tempo_map.changes if c.tick != tick]
        self._apply_tempo([*changes, TempoChange(tick, bpm_to_microseconds_per_quarter(bpm))], text)

    def set_meter(self, tick: int, numerator: int, denominator: int, text: str = "Change time signature") -> None:
        changes = [c for c in self.document.project.time_signatures.changes if c.tick != tick]
        self._apply_meter([*changes, TimeSignatureChange(tick, numerator, denominator)], text)

    def add_item(self, kind: str, tick: int) -> None:
        project = self.document.project
        if kind == "meter":
            current = project.time_signatures.change_at(tick)
            self.open_editor(self.x_of(tick), f"{current.numerator}/{current.denominator}",
                             lambda text: self._commit_meter(tick, text, "Add time signature"))
        else:
            self.open_editor(self.x_of(tick), format_bpm(project.tempo_map.bpm_at(tick)),
                             lambda text: self._commit_tempo(tick, text, "Add tempo change"))

    def edit_item(self, kind: str, tick: int) -> None:
        self.selected = (kind, tick)
        if kind == "meter":
            change = self.document.project.time_signatures.change_at(tick)
            self.open_editor(self.x_of(tick), f"{change.numerator}/{change.denominator}",
                             lambda text: self._commit_meter(tick, text, "Change time signature"))
        else:
            bpm = self.document.project.tempo_map.bpm_at(tick)
            self.open_editor(self.x_of(tick), format_bpm(bpm), lambda text: self._commit_tempo(tick, text, "Change tempo"))

    def _commit_tempo(self, tick: int, text: str, undo_text: str) -> None:
        try:
            bpm = parse_bpm(text)
        except ValueError as error:
            _say(f"Tempo unchanged: {error}")
            return
        self.set_tempo(tick, bpm, undo_text)

    def _commit_meter(self, tick: int, text: str, undo_text: str) -> None:
        try:
            numerator, denominator = parse_meter(text)
        except ValueError as error:
            _say(f"Time signature unchanged: {error}")
            return
        self.set_meter(tick, numerator, denominator, undo_text)

    def move_item(self, kind: str, tick: int, new_tick: int) -> None:
        project = self.document.project
        if kind == "meter":
            moved = [c if c.tick != tick else replace(c, tick=new_tick) for c in project.time_signatures.changes
                     if c.tick != new_tick or c.tick == tick]
            self._apply_meter(moved, "Move time signature")
        else:
            moved = [c if c.tick != tick else replace(c, tick=new_tick) for c in project.tempo_map.changes
                     if c.tick != new_tick or c.tick == tick]
            self._apply_tempo(moved, "Move tempo change")

    def delete_item(self, kind: str, tick: int) -> None:
        project = self.document.project
        if kind == "meter":
            self._apply_meter([c for c in project.time_signatures.changes if c.tick != tick], "Delete time signature")
        else:
            self._apply_tempo([c for c in project.tempo_map.changes if c.tick != tick], "Delete tempo change")

    def fill_menu(self, menu, pos, hit) -> None:
        tempo_tick = self.snapped_tick("tempo", pos.x())
        meter_tick = self.snapped_tick("meter", pos.x())
        menu.addAction("Add tempo change here…", lambda: self.add_item("tempo", tempo_tick)).setObjectName("add_tempo")
        menu.addAction("Add time signature here…", lambda: self.add_item("meter", meter_tick)).setObjectName("add_meter")
        if hit is not None:
            kind, tick = hit
            name = "time signature" if kind == "meter" else "tempo change"
            menu.addSeparator()
            menu.addAction(f"Edit {name}…", lambda: self.edit_item(kind, tick)).setObjectName("edit_item")
            delete = menu.addAction(f"Delete {name}", lambda: self.delete_item(kind, tick))
            delete.setObjectName("delete_item")
            delete.setEnabled(self.movable(kind, tick))


class MarkerLane(_ItemLane):
    """Named positions; click one to move the playhead there."""

    title = "Markers"
    height_px = 20
    default_kind = "marker"

    def __init__(self, editor, parent=None):
        super().__init__(editor, parent)
        self.setObjectName("marker_lane")
        self.setToolTip("Markers: double-click to add or rename, click to jump there, drag to move, Delete to remove.")

    def items(self):
        row = QRectF(0, 0, self.width(), self.height() - 1)
        return [("marker", m.tick, m.name, row) for m in self.document.project.markers]

    def movable(self, kind: str, tick: int) -> bool:
        return True

    def paint_lane(self, painter: QPainter) -> None:
        self.paint_items(painter, MARKER_COLOR)

    def _apply(self, markers, text: str) -> None:
        self.document.apply(replace(self.document.project, markers=tuple(markers)), text)

    def click_item(self, kind: str, tick: int) -> None:
        self.editor.seek(tick)

    def add_item(self, kind: str, tick: int) -> None:
        name = f"Marker {len(self.document.project.markers) + 1}"
        self.open_editor(self.x_of(tick), name, lambda text: self._commit(tick, None, text), width_px=120)

    def edit_item(self, kind: str, tick: int) -> None:
        self.selected = (kind, tick)
        marker = next(m for m in self.document.project.markers if m.tick == tick)
        self.open_editor(self.x_of(tick), marker.name, lambda text: self._commit(tick, marker, text), width_px=120)

    def _commit(self, tick: int, old: Marker | None, text: str) -> None:
        name = cut_text(text.strip())  # a pasted page keeps its first MAX_NAME_BYTES
        if not name:
            _say("Marker unchanged: type a name (Delete removes a marker)")
            return
        markers = [m for m in self.document.project.markers if m is not old and m != old]
        markers.append(Marker(tick, name))
        self._apply(markers, "Rename marker" if old is not None else "Add marker")

    def move_item(self, kind: str, tick: int, new_tick: int) -> None:
        markers = [replace(m, tick=new_tick) if m.tick == tick else m for m in self.document.project.markers]
        self._apply(markers, "Move marker")

    def delete_item(self, kind: str, tick: int) -> None:
        self._apply([m for m in self.document.project.markers if m.tick != tick], "Delete marker")

    def fill_menu(self, menu, pos, hit) -> None:
        tick = self.snapped_tick("marker", pos.x())
        menu.addAction("Add marker here…", lambda: self.add_item("marker", tick)).setObjectName("add_marker")
        if hit is not None:
            menu.addAction("Rename marker…", lambda: self.edit_item(*hit)).setObjectName("edit_item")
            menu.addAction("Delete marker", lambda: self.delete_item(*hit)).setObjectName("delete_item")
