"""The chord lane above the piano roll: the project's chord track, shown and edited in place.

- Double-click empty space: type a chord ("Am7/G") at that grid position; it lasts to the next
  chord or one bar, whichever comes first.
- Double-click a chord: type a new symbol. Drag a chord's body to move it, its right edge to
  resize it (on the snap grid; chords it runs into are trimmed).
- Right-click: the key's diatonic chords (triads and sevenths) to put there or to replace the
  chord with, Delete, and the Harmony actions. Click a chord and press Delete to remove it.

Every change is one ``Document.apply`` (one undo step); text that is not a chord changes nothing
and says why in the status bar.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QMenu

from composer_app.core.chords import Chord, ChordEvent, diatonic_chords, roman_numeral
from composer_app.core.theory import estimate_key
from composer_app.ui.piano_roll.lanes import TimeLane
from composer_app.ui.signals import app_signals

CHORD_COLOR = QColor(60, 150, 110)
EDGE_GRAB_PX = 5  # a press this close to a chord's right edge resizes it
DRAG_START_PX = 3
STATUS_MS = 5000


def _say(text: str) -> None:
    app_signals().status_message.emit(text, STATUS_MS)


def project_key(project) -> tuple[int, bool]:
    """(tonic pc, minor?) of the project: its key when set, else the key of its notes (C major when empty)."""
    if project.key is not None and project.key.mode in ("major", "minor"):
        return project.key.tonic_pc, project.key.mode == "minor"
    estimate = estimate_key([n for t in project.tracks for n in t.notes])
    if estimate is None:
        return 0, False
    key = estimate.key
    return key.tonic_pc, key.mode == "minor"


class ChordLane(TimeLane):
    """The project's chord track as labelled boxes along the time axis."""

    title = "Chords"
    height_px = 26

    def __init__(self, editor, parent=None):
        super().__init__(editor, parent)
        self.setObjectName("chord_lane")
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setToolTip("Chords. Double-click to type one (Am7/G), drag to move, drag the right edge to resize,\n"
                        "right-click for the key's chords, Delete to remove.")
        self.selected: int | None = None  # start tick of the selected chord
        self._press: tuple[QPointF, int, str] | None = None  # (position, chord start, "move" | "resize")
        self._preview: tuple[int, int] | None = None  # (start, end) while dragging
        self.extra_menu_actions = []  # the Harmony actions, added by the feature
        self.context_menu: QMenu | None = None
        self.ghost_chords = None  # a ChordTrack proposed elsewhere (the suggestions panel), drawn dashed

    def set_ghost_chords(self, chords) -> None:
        """Show ``chords`` (a ChordTrack, or None to clear) as dashed proposals, not yet in the document."""
        self.ghost_chords = chords if chords else None
        self.update()

    # --- model access ----------------------------------------------------------------------------
    @property
    def chords(self):
        return self.document.project.chords

    def event_at(self, x: float) -> ChordEvent | None:
        tick = self.tick_at(x)
        return self.chords.at(int(tick)) if tick >= 0 else None

    def _apply(self, chords, text: str) -> None:
        project = self.document.project
        self.document.apply(project.with_chords(chords), text)

    def _bar_ticks(self, tick: int) -> int:
        return self.document.project.time_signatures.ticks_per_bar_at(tick)

    def default_length(self, tick: int) -> int:
        """One bar, or up to the next chord if that comes sooner."""
        after = [e.start_tick for e in self.chords if e.start_tick > tick]
        length = self._bar_ticks(tick)
        return min(length, after[0] - tick) if after else length

    # --- edits -----------------------------------------------------------------------------------
    def put_chord(self, tick: int, chord: Chord, length: int | None = None, text: str | None = None) -> None:
        """Place ``chord`` at ``tick`` (replacing what sounds there) as one undo step."""
        existing = self.chords.at(tick)
        if existing is not None and existing.start_tick == tick and length is None:
            event = existing.with_chord(chord)
            text = text or f"Change chord to {chord.symbol()}"
        else:
            event = ChordEvent(chord, tick, max(1, length or self.default_length(tick)))
            text = text or f"Add chord {chord.symbol()}"
        self._apply(self.chords.placed(event), text)
        self.selected = event.start_tick

    def commit_text(self, tick: int, text: str) -> None:
        try:
            chord = Chord.parse(text)
        except ValueError as error:
            _say(f"Chord unchanged: {error}")
            return
        self.put_chord(tick, chord)

    def delete_chord(self, start_tick: int) -> None:
        event = self.chords.at(start_tick)
        if event is None:
            return
        self._apply(self.chords.without_span(event.start_tick, event.end_tick), f"Delete chord {event.chord.symbol()}")
        self.selected = None

    def move_chord(self, start_tick: int, new_start: int, new_end: int) -> None:
        event = self.chords.at(start_tick)
        if event is None or new_end <= new_start:
            return
        rest = self.chords.without_span(event.start_tick, event.end_tick)
        moved = event.with_span(new_start, new_end - new_start)
        verb = "Resize" if new_start == event.start_tick else "Move"
        self._apply(rest.placed(moved), f"{verb} chord {event.chord.symbol()}")
        self.selected = new_start

    # --- mouse -----------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        hit = self.event_at(pos.x())
        if event.button() == Qt.MouseButton.RightButton:
            self._context_menu(event, hit)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self.selected = hit.start_tick if hit is not None else None
        if hit is not None:
            near_edge = abs(pos.x() - self.x_of(hit.end_tick)) <= EDGE_GRAB_PX
            self._press = (pos, hit.start_tick, "resize" if near_edge else "move")
        self.update()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if self._press is None:
            hit = self.event_at(pos.x())
            edge = hit is not None and abs(pos.x() - self.x_of(hit.end_tick)) <= EDGE_GRAB_PX
            self.setCursor(Qt.CursorShape.SizeHorCursor if edge else Qt.CursorShape.ArrowCursor)
            return
        press_pos, start, mode = self._press
        if self._preview is None and abs(pos.x() - press_pos.x()) < DRAG_START_PX:
            return
        chord = self.chords.at(start)
        if chord is None:
            return
        bypass = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        if mode == "resize":
            end = max(start + 1, self.view.snap_round(self.tick_at(pos.x()), bypass))
            self._preview = (start, end)
        else:
            delta = self.tick_at(pos.x()) - self.tick_at(press_pos.x())
            new_start = max(0, self.view.snap_round(start + delta, bypass))
            self._preview = (new_start, new_start + chord.duration_ticks)
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        press, self._press = self._press, None
        preview, self._preview = self._preview, None
        if press is not None and preview is not None:
            chord = self.chords.at(press[1])
            if chord is not None and preview != (chord.start_tick, chord.end_tick):
                self.move_chord(press[1], *preview)
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._press = None
        hit = self.event_at(event.position().x())
        if hit is not None:
            self.selected = hit.start_tick
            self.open_editor(self.x_of(hit.start_tick), hit.chord.symbol(), lambda text, t=hit.start_tick: self.commit_text(t, text))
            return
        tick = self.view.snap_floor(self.tick_at(event.position().x()), bool(event.modifiers() & Qt.KeyboardModifier.AltModifier))
        self.open_editor(self.x_of(tick), "", lambda text, t=tick: self.commit_text(t, text))

    def event(self, event) -> bool:  # noqa: D102
        if (event.type() == QEvent.Type.ShortcutOverride and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
                and self.selected is not None):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected is not None:
            self.delete_chord(self.selected)
            event.accept()
            return
        super().keyPressEvent(event)

    def _context_menu(self, event, hit: ChordEvent | None) -> None:
        menu = QMenu(self)
        tick = hit.start_tick if hit is not None else max(0, self.view.snap_round(self.tick_at(event.position().x())))
        tonic, minor = project_key(self.document.project)
        from composer_app.core.chords import PITCH_CLASS_DEFAULT

        key_name = f"{PITCH_CLASS_DEFAULT[tonic]} {'minor' if minor else 'major'}"
        verb = "Replace with" if hit is not None else "Put here"
        for sevenths in (False, True):
            sub = menu.addMenu(f"{verb}: {key_name} {'sevenths' if sevenths else 'triads'}")
            for chord in diatonic_chords(tonic, minor, sevenths):
                action = sub.addAction(f"{chord.symbol()}\t{roman_numeral(chord, tonic, minor)}")
                action.setObjectName(f"chord_{chord.symbol()}")
                action.triggered.connect(lambda _c=False, c=chord, t=tick: self.put_chord(t, c))
        if hit is not None:
            delete = menu.addAction(f"Delete {hit.chord.symbol()}")
            delete.setObjectName("delete_chord")
            delete.triggered.connect(lambda _c=False, t=hit.start_tick: self.delete_chord(t))
        if self.extra_menu_actions:
            menu.addSeparator()
            for action in self.extra_menu_actions:
                menu.addAction(action)
        menu.popup(event.globalPosition().toPoint())
        self.context_menu = menu  # tests trigger its actions

    # --- painting --------------------------------------------------------------------------------
    def paint_lane(self, painter: QPainter) -> None:
        palette = self.palette()
        text_color = palette.color(palette.ColorRole.Text)
        for event in self.ghost_chords or ():
            left, right = self.x_of(event.start_tick), self.x_of(event.end_tick)
            if right < 0 or left > self.width():
                continue
            rect = QRectF(left, 2, max(3.0, right - left - 1), self.height() - 5)
            fill = QColor(CHORD_COLOR)
            fill.setAlpha(45)
            painter.fillRect(rect, fill)
            painter.setPen(QPen(CHORD_COLOR.darker(140), 1, Qt.PenStyle.DashLine))
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
            painter.setPen(QPen(text_color))
            painter.drawText(rect.adjusted(5, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             event.chord.symbol() + "?")
        tonic, minor = project_key(self.document.project) if self.chords else (0, False)
        for event in self.chords:
            start, end = event.start_tick, event.end_tick
            dragged = self._preview is not None and self._press is not None and self._press[1] == event.start_tick
            if dragged:
                start, end = self._preview
            left, right = self.x_of(start), self.x_of(end)
            if right < 0 or left > self.width():
                continue
            rect = QRectF(left, 2, max(3.0, right - left - 1), self.height() - 5)
            selected = self.selected == event.start_tick
            fill = QColor(CHORD_COLOR)
            fill.setAlpha(235 if selected else 120)
            painter.fillRect(rect, fill)
            painter.fillRect(QRectF(rect.left(), rect.top(), 2, rect.height()), CHORD_COLOR.darker(150))
            painter.setPen(QPen(QColor(255, 255, 255) if selected else text_color))
            label = event.chord.symbol()
            if rect.width() > 70:
                label += f"  {roman_numeral(event.chord, tonic, minor)}"
            painter.drawText(rect.adjusted(5, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
            if selected:
                painter.setPen(QPen(QColor(0, 0, 0), 1))
                painter.drawRect(rect.adjusted(0, 0, -1, -1))
