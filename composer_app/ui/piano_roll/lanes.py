"""Time lanes: strips that share the piano roll's time axis (tempo and meter, markers, chords, mood).

A lane is a :class:`TimeLane`: it maps ticks to x through the roll's ``ViewState`` (so it scrolls
and zooms with the roll), scrolls and zooms on the wheel like the roll, and repaints when the view
or the document changes. The editor holds two :class:`LaneStack` containers, one between the
ruler and the notes (``editor.top_lanes``) and one under the velocity lane
(``editor.bottom_lanes``); a feature adds its lane with ``editor.add_lane(lane, where="top")``.
Each row of a stack shows the lane's title at the left (aligned with the keyboard) and can be
hidden with the lane's ``toggle_action`` (put it in a menu).

Lanes edit through ``Document.apply`` like everything else. :class:`InlineEditor` is the small
text field a lane opens in place (double-click a tempo, a meter, a marker): Enter applies, Esc or
leaving it cancels.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAction, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

LANE_TITLE_WIDTH_PX = 64  # the keyboard's width: lane titles sit where the keys are


class InlineEditor(QLineEdit):
    """A one-line editor placed over a lane; ``on_commit(text)`` on Enter, nothing on Esc or focus loss."""

    def __init__(self, parent: QWidget, text: str, on_commit: Callable[[str], None]):
        super().__init__(text, parent)
        self.setObjectName("lane_inline_editor")
        self._on_commit = on_commit
        self._done = False
        self.returnPressed.connect(self._commit)
        self.selectAll()

    def _commit(self) -> None:
        if self._done:
            return
        self._done = True
        text = self.text()
        self.hide()
        self.deleteLater()
        self._on_commit(text)

    def cancel(self) -> None:
        if not self._done:
            self._done = True
            self.hide()
            self.deleteLater()

    _OWN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_Delete, Qt.Key.Key_Backspace,
                 Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Space)

    def event(self, event) -> bool:  # noqa: D102
        # Enter is the window's "play from start", Space "play": while typing they belong here.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in self._OWN_KEYS:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.cancel()


class TimeLane(QWidget):
    """Base of every lane: time mapping, wheel, repaint on view and document changes.

    Subclasses set ``title`` and ``height_px`` and override ``paint_lane`` (and the mouse handlers
    they need). ``status`` is emitted with a short hint for the status bar.
    """

    title = "Lane"
    height_px = 22
    status = Signal(str)  # (a short hint or error for the status bar)

    def __init__(self, editor, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        self.view = editor.view
        self.setFixedHeight(self.height_px)
        self.setMouseTracking(True)
        self.editor_widget: InlineEditor | None = None
        self.toggle_action = QAction(f"Show the {self.title.lower()} lane", self)
        self.toggle_action.setCheckable(True)
        self.toggle_action.setChecked(True)
        self.view.changed.connect(self.update)
        editor.document.project_changed.connect(lambda _old, _new: self.update())

    @property
    def document(self):
        return self.editor.document

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, self.height_px)

    # --- mapping ----------------------------------------------------------------------------------
    def tick_at(self, x: float) -> float:
        return self.view.x_to_tick(x)

    def x_of(self, tick: float) -> float:
        return self.view.tick_to_x(tick)

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.editor.handle_wheel(event, self, vertical=False)

    # --- inline editing ---------------------------------------------------------------------------
    def open_editor(self, x: float, text: str, on_commit: Callable[[str], None], width_px: int = 90) -> InlineEditor:
        """Show an :class:`InlineEditor` at ``x`` holding ``text``; ``on_commit(text)`` on Enter."""
        if self.editor_widget is not None:
            self.editor_widget.cancel()
        field = InlineEditor(self, text, on_commit)
        left = int(max(0, min(x, self.width() - width_px)))
        field.setGeometry(left, 0, width_px, self.height())
        field.show()
        field.setFocus(Qt.FocusReason.MouseFocusReason)
        field.destroyed.connect(lambda *_: setattr(self, "editor_widget", None))
        self.editor_widget = field
        return field

    # --- painting ---------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        try:
            palette = self.palette()
            painter.fillRect(self.rect(), palette.color(palette.ColorRole.AlternateBase))
            self.paint_lane(painter)
            x = self.x_of(self.editor.playhead_tick)
            if 0 <= x <= self.width():
                painter.setPen(self.editor.canvas.colors.playhead)
                painter.drawLine(round(x), 0, round(x), self.height())
            painter.setPen(palette.color(palette.ColorRole.Mid))
            painter.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        finally:
            painter.end()

    def paint_lane(self, painter: QPainter) -> None: ...


class LaneStack(QWidget):
    """Lanes stacked one above the other, each with its title at the left."""

    lanes_changed = Signal()  # () a lane was added, removed, shown or hidden

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self.lanes: list[TimeLane] = []
        self._rows: dict[TimeLane, QWidget] = {}
        self.setVisible(False)

    def add_lane(self, lane: TimeLane, index: int | None = None) -> TimeLane:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        label = QLabel(lane.title)
        label.setObjectName("lane_title")
        label.setFixedWidth(LANE_TITLE_WIDTH_PX)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setToolTip(lane.toolTip())
        font = label.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        label.setFont(font)
        layout.addWidget(label)
        layout.addWidget(lane, 1)
        index = len(self.lanes) if index is None else max(0, min(index, len(self.lanes)))
        self.lanes.insert(index, lane)
        self._rows[lane] = row
        self._layout.insertWidget(index, row)
        lane.toggle_action.toggled.connect(lambda on, r=row: (r.setVisible(on), self._update_visibility()))
        row.setVisible(lane.toggle_action.isChecked())
        self._update_visibility()
        return lane

    def remove_lane(self, lane: TimeLane) -> None:
        row = self._rows.pop(lane, None)
        if row is not None:
            self.lanes.remove(lane)
            self._layout.removeWidget(row)
            row.deleteLater()
            self._update_visibility()

    def _update_visibility(self) -> None:
        self.setVisible(any(lane.toggle_action.isChecked() for lane in self.lanes))
        self.lanes_changed.emit()
