"""The suggestions panel (a dock) and the "Suggest continuation" controller.

:class:`SuggestionsPanel` lists candidates as they stream in: a small piano-roll thumbnail, the
measured attributes, the generator and the seed. Selecting one shows it as ghost notes after the
prompt in the piano roll (with the prompt's notes outlined and the notes Accept would replace
marked); the buttons (and keys) audition it (P), accept it (Enter, one undo step: the candidate
replaces the notes that start in its span), discard it (Delete), regenerate (R: same settings, new
request), more like this (M: same settings, new seed), copy (Ctrl+C) or export it; dragging a row
out of the window drops a .mid file (onto the piano roll: inserted where it is dropped). Every
request keeps its batch: ◀ / ▶ (Alt+Left / Alt+Right) go back to earlier batches. The keyboard
focus stays where the user was (Ctrl+G from the roll leaves the arrows nudging notes). With
"Chords for new bars" on, each selected candidate gets a chord progression for its new bars from
the chord suggester in the request's mood (:mod:`composer_app.arrange.continuation_chords`), shown
under the list and dashed in the chord lane; Accept then adds notes and chords as one undo step,
"Add chords" the chords only. Bars the chord track already covers are followed, not re-proposed.

:class:`SuggestController` ties the mood panel, this panel, the generation thread
(:class:`~composer_app.ui.generation_jobs.GenerationJobs`) and the document together: it builds the
prompt from the current track (the selection, or the notes up to the playhead), submits the request,
and turns an accepted candidate into one ``Document.apply``. Errors (no model, broken weights, a
failed generation) are shown in the panel; the document is never touched by them.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QEvent, QModelIndex, QObject, QRect, QRectF, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QGridLayout,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.track import Track
from composer_app.mood.mood import Mood
from composer_app.ui import clip_drag
from composer_app.ui.generation_jobs import COMPARE_GENERATORS, ERROR, LOADING, READY, GenerationJobs, SuggestRequest

CANDIDATE_ROLE = Qt.ItemDataRole.UserRole + 1
PROMPT_OUTLINE = QColor(40, 170, 90)  # the prompt's notes in the roll
REPLACED_MARK = QColor(210, 50, 50)  # notes that Accept replaces
THUMB_W, THUMB_H = 96, 40
ROW_H = THUMB_H + 10
VISIBLE_ROWS = 4  # the list is never shorter than this many candidates
CHORDS_SETTING = "suggest/chords_for_new_bars"  # QSettings key of the "Chords for new bars" switch


@dataclass(frozen=True)
class Prompt:
    """The prompt of a request and where its continuation goes in the project."""

    project: Project  # one track, the prompt notes, starting in bar 0 (shifted by ``offset``)
    track_index: int
    offset: int  # ticks the prompt was shifted left by (its first bar's start)
    continuation_tick: int  # where candidates' tick 0 lands in the document
    bars: int  # prompt length in bars


# --------------------------------------------------------------------------------------------
def candidate_attributes(candidate) -> dict[str, float]:
    attrs = getattr(candidate, "attributes", None)
    if attrs is None:
        return {}
    if hasattr(attrs, "as_dict"):
        return dict(attrs.as_dict())
    if isinstance(attrs, dict):
        return dict(attrs)
    return {}


def candidates_text(count: int) -> str:
    """"1 candidate", "4 candidates"."""
    return f"{count} candidate" if count == 1 else f"{count} candidates"


def attributes_lines(candidate) -> tuple[str, str]:
    """The measured attributes in two short lines (rhythm and mode; register, dynamics, articulation)."""
    a = candidate_attributes(candidate)
    first, second = [], []
    if "note_density" in a:
        first.append(f"{a['note_density']:.1f} notes/beat")
    if "major_strength" in a:
        first.append(("major " if a["major_strength"] >= 0 else "minor ") + f"{a['major_strength']:+.2f}")
    if "consonance" in a:
        first.append(f"consonance {a['consonance']:.2f}")
    if "pitch_mean" in a:
        second.append(f"pitch {a['pitch_mean']:.0f}")
    if "velocity_mean" in a:
        second.append(f"velocity {a['velocity_mean']:.0f}")
    if "articulation" in a:
        second.append(f"legato {a['articulation']:.2f}")
    return " · ".join(first), " · ".join(second)


def attributes_line(candidate) -> str:
    return " · ".join(part for part in attributes_lines(candidate) if part)


def paint_thumbnail(p: QPainter, rect: QRectF, notes, bar_ticks: int, bars: int, palette) -> None:
    """A miniature piano roll: bar lines and note bars, pitch range fitted to the notes."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    bg = palette.base().color()
    p.fillRect(rect, bg.darker(108) if bg.lightness() > 128 else bg.lighter(125))
    span = max(1, bar_ticks * max(1, bars))
    grid = QColor(palette.text().color())
    grid.setAlpha(40)
    p.setPen(QPen(grid, 1))
    for b in range(1, max(1, bars)):
        x = rect.left() + rect.width() * b / max(1, bars)
        p.drawLine(int(x), int(rect.top()), int(x), int(rect.bottom()))
    notes = list(notes)
    if notes:
        lo = min(n.pitch for n in notes) - 1
        hi = max(n.pitch for n in notes) + 1
        rows = max(12, hi - lo + 1)
        lo = (lo + hi) // 2 - rows // 2
        h = rect.height() / rows
        accent = palette.highlight().color()
        for n in notes:
            x = rect.left() + rect.width() * n.start_tick / span
            w = max(1.5, rect.width() * n.duration_ticks / span - 0.5)
            y = rect.bottom() - (n.pitch - lo + 1) * h
            c = QColor(accent)
            c.setAlpha(110 + int(n.velocity))
            p.fillRect(QRectF(x, y, w, max(1.5, h)), c)
    p.restore()


class CandidateDelegate(QStyledItemDelegate):
    """Draws a candidate row: thumbnail, title (number, generator, seed) and measured attributes."""

    def __init__(self, panel: SuggestionsPanel):
        super().__init__(panel)
        self._panel = panel

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return QSize(THUMB_W + 120, ROW_H)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        widget = option.widget
        style = widget.style() if widget else None
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, p, widget)
        candidate = index.data(CANDIDATE_ROLE)
        if candidate is None:
            return
        r = option.rect
        thumb = QRectF(r.left() + 5, r.top() + 5, THUMB_W, THUMB_H)
        bars = self._panel.bars_of(candidate)
        paint_thumbnail(p, thumb, getattr(candidate, "notes", ()), self._panel.bar_ticks, bars, option.palette)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        color = option.palette.highlightedText().color() if selected else option.palette.text().color()
        p.setPen(color)
        text_rect = QRect(int(thumb.right()) + 8, r.top() + 1, r.width() - THUMB_W - 18, 16)
        font = p.font()
        font.setBold(True)
        p.setFont(font)
        title = p.fontMetrics().elidedText(self._panel.title_of(index.row(), candidate), Qt.TextElideMode.ElideRight, text_rect.width())
        p.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        font.setBold(False)
        p.setFont(font)
        dim = QColor(color)
        dim.setAlpha(190)
        p.setPen(dim)
        metrics = p.fontMetrics()
        for k, line in enumerate(attributes_lines(candidate)):
            line = metrics.elidedText(line, Qt.TextElideMode.ElideRight, text_rect.width())
            p.drawText(text_rect.translated(0, 15 * (k + 1)), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, line)


class CandidateList(QListWidget):
    """The list; a drag out of it carries the candidate as a .mid file."""

    def __init__(self, panel: SuggestionsPanel):
        super().__init__(panel)
        self._panel = panel
        self.setObjectName("candidate_list")
        self.setItemDelegate(CandidateDelegate(panel))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setUniformItemSizes(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Suggested continuations")

    def startDrag(self, supported_actions) -> None:  # noqa: N802 - Qt API
        self._panel.drag_current()

    OWN_KEYS = (
        Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Delete, Qt.Key.Key_Backspace,
        Qt.Key.Key_P, Qt.Key.Key_M, Qt.Key.Key_R, Qt.Key.Key_Escape,
    )

    def event(self, event) -> bool:  # noqa: D102
        # The window's shortcuts (Enter = go to start, Delete = delete notes, …) would take these
        # keys first; while the list has the focus they act on the candidates.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in self.OWN_KEYS and not (
            event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if self._panel.handle_key(event):
            return
        super().keyPressEvent(event)


class SuggestionsPanel(QWidget):
    """The candidates of the latest request, with audition / accept / discard / regenerate."""

    candidate_selected = Signal(object)  # Candidate or None
    accept_requested = Signal(object)
    audition_requested = Signal(object)
    regenerate_requested = Signal()
    more_like_this_requested = Signal(object)
    cancel_requested = Signal()
    discarded = Signal(object)
    history_requested = Signal(int)  # (-1 back, +1 forward) show an earlier / later batch
    chords_toggled = Signal(bool)  # "Chords for the new bars" switched on or off
    add_chords_requested = Signal(object)  # add the current candidate's proposed chords only
    chords_shown = Signal(object)  # the proposed ChordTrack (document ticks) shown for the candidate, or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("SuggestionsPanel")
        self.bar_ticks = 1920
        self.continuation_bars = 4
        self.spec_factory: Callable[[Any], clip_drag.ClipSpec] | None = None
        self.owner: object | None = None  # the controller whose results show (accept/audition go to it)
        self._total = 0
        self._started_at = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        top = QHBoxLayout()
        self.status = QLabel("Models load in the background…")
        self.status.setObjectName("suggest_status")
        self.status.setWordWrap(True)
        top.addWidget(self.status, 1)
        self.back_button = QToolButton(text="◀")
        self.back_button.setObjectName("history_back")
        self.back_button.setToolTip("The previous batch of candidates (Alt+Left)")
        self.back_button.clicked.connect(lambda: self.history_requested.emit(-1))
        self.history_label = QLabel("")
        self.history_label.setObjectName("history_label")
        self.forward_button = QToolButton(text="▶")
        self.forward_button.setObjectName("history_forward")
        self.forward_button.setToolTip("The next batch of candidates (Alt+Right)")
        self.forward_button.clicked.connect(lambda: self.history_requested.emit(1))
        for w in (self.back_button, self.history_label, self.forward_button):
            top.addWidget(w)
        self.set_history(0, 0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_button")
        self.cancel_button.setToolTip("Stop the running suggestion (Esc)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        top.addWidget(self.cancel_button)
        layout.addLayout(top)
        self.progress = QProgressBar()
        self.progress.setObjectName("suggest_progress")
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.error = QLabel()
        self.error.setObjectName("suggest_error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("QLabel { color: #c0392b; font-weight: bold; }")
        self.error.setVisible(False)
        layout.addWidget(self.error)

        self.list = CandidateList(self)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.itemDoubleClicked.connect(lambda item: self.accept_requested.emit(item.data(CANDIDATE_ROLE)))
        self.list.setMinimumHeight(2 * ROW_H + 2 * self.list.frameWidth() + 2)  # 800 x 600: two rows at least
        self.list.setToolTip(
            "Click a candidate to see it in the roll; P listens, Enter accepts, Delete discards.\n"
            "Drag one onto the piano roll (inserted where you drop it) or into a DAW (a .mid file)."
        )
        layout.addWidget(self.list, 1)

        # Chords for the new bars (issue 14): proposed per candidate, shown here, added on Accept.
        chords_row = QHBoxLayout()
        chords_row.setSpacing(4)
        self.chords_toggle = QToolButton(text="Chords for new bars")
        self.chords_toggle.setObjectName("chords_toggle")
        self.chords_toggle.setCheckable(True)
        self.chords_toggle.setChecked(QSettings().value(CHORDS_SETTING, False, type=bool))
        self.chords_toggle.setToolTip(
            "Propose a chord progression for each candidate's new bars (from the chord suggester, in the mood\n"
            "of the request). Accept then adds the chords to the chord track with the notes, one undo step."
        )
        self.chords_toggle.toggled.connect(self._chords_toggled)
        self.add_chords_button = QToolButton(text="Add chords")
        self.add_chords_button.setObjectName("add_chords_button")
        self.add_chords_button.setToolTip("Add only the proposed chords to the chord track (one undo step)")
        self.add_chords_button.clicked.connect(self._add_chords)
        chords_row.addWidget(self.chords_toggle)
        chords_row.addStretch(1)
        chords_row.addWidget(self.add_chords_button)
        layout.addLayout(chords_row)
        self.chords_label = QLabel("")
        self.chords_label.setObjectName("candidate_chords")
        self.chords_label.setWordWrap(True)
        self.chords_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.chords_label)
        self.proposed_chords = None  # what the label shows (a NewBarChords or None)

        buttons = QGridLayout()
        buttons.setSpacing(4)
        self.audition_button = self._button("▶ Audition", "Play the end of the prompt, then this candidate (P)", self._audition)
        self.accept_button = self._button("Accept", "Insert this candidate after the prompt (Enter); one undo step", self._accept)
        self.discard_button = self._button("Discard", "Remove this candidate from the list (Delete)", self.discard_current)
        self.regenerate_button = self._button("Regenerate", "Ask again with the current mood and settings (R)", self.regenerate_requested.emit)
        self.more_button = self._button("More like this", "Same settings as this candidate, a new seed (M)", self._more_like_this)
        self.copy_button = QToolButton(text="Copy")
        self.copy_button.setToolTip("Copy the candidate as a .mid file (paste into a DAW or file manager)")
        self.copy_button.clicked.connect(self.copy_current)
        self.export_button = QToolButton(text="Export…")
        self.export_button.setToolTip("Write the candidate as a .mid file where you choose")
        self.export_button.clicked.connect(self.export_current)
        self.more_button.setText("More like it")
        for w in (self.copy_button, self.export_button):
            w.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        # Two columns: fits a narrow dock (tiled at 800 px) with every label whole.
        for i, w in enumerate((self.audition_button, self.accept_button, self.discard_button,
                               self.more_button, self.regenerate_button)):
            buttons.addWidget(w, i // 2, i % 2)
        files = QHBoxLayout()
        files.setSpacing(2)
        files.addWidget(self.copy_button)
        files.addWidget(self.export_button)
        buttons.addLayout(files, 2, 1)
        self.buttons = buttons
        layout.addLayout(buttons)
        self._update_buttons()
        self.show_chords(None)

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.setObjectName(text.replace("▶ ", "").lower().replace(" ", "_") + "_button")
        b.clicked.connect(slot)
        return b

    # --- content ---------------------------------------------------------------------------
    def candidates(self) -> list:
        return [self.list.item(i).data(CANDIDATE_ROLE) for i in range(self.list.count())]

    def current_candidate(self):
        item = self.list.currentItem()
        return item.data(CANDIDATE_ROLE) if item is not None else None

    def bars_of(self, candidate) -> int:
        bars = getattr(candidate, "bars", None)
        return int(bars) if isinstance(bars, int) and bars > 0 else self.continuation_bars

    def title_of(self, row: int, candidate) -> str:
        generator = getattr(candidate, "generator", "?")
        seed = getattr(candidate, "seed", "?")
        seconds = getattr(candidate, "seconds", None)
        return f"#{row + 1}  {generator} · seed {seed}"  # the maker first: compare requests mix generators

    def clear(self) -> None:
        self.list.clear()
        self.candidate_selected.emit(None)
        self._update_buttons()

    def set_history(self, position: int, count: int) -> None:
        """Show "batch ``position`` of ``count``" (1-based) and enable ◀ / ▶."""
        self.back_button.setEnabled(position > 1)
        self.forward_button.setEnabled(0 < position < count)
        self.history_label.setText(f"{position}/{count}" if count > 1 else "")
        self.history_label.setToolTip(f"Batch {position} of {count}" if count else "")
        for w in (self.back_button, self.forward_button, self.history_label):
            w.setVisible(count > 1)

    def show_batch(self, candidates, text: str) -> None:
        """Show a kept batch of candidates (going back or forward in the history)."""
        self.list.blockSignals(True)
        self.list.clear()
        self.list.blockSignals(False)
        for c in candidates:
            self._add_item(c)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.candidate_selected.emit(None)
        self.progress.setVisible(False)
        self.status.setText(text)
        self._update_buttons()

    def reset(self) -> None:
        """Forget everything shown (another document was opened)."""
        self.list.clear()
        self.candidate_selected.emit(None)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)
        self.show_error("")
        self.status.setText("New document: set a mood and press Suggest (Ctrl+G).")
        self.set_history(0, 0)
        self._update_buttons()

    def add_candidate(self, candidate) -> None:
        self._add_item(candidate)
        self.progress.setValue(self.list.count())
        self._update_status_running()
        self._update_buttons()

    def _add_item(self, candidate) -> None:
        item = QListWidgetItem()
        item.setData(CANDIDATE_ROLE, candidate)
        item.setSizeHint(QSize(THUMB_W + 120, ROW_H))
        seconds = getattr(candidate, "seconds", None)
        took = f"\nready after {seconds:.2f} s" if isinstance(seconds, (int, float)) else ""
        item.setToolTip(f"{getattr(candidate, 'generator', '?')}, seed {getattr(candidate, 'seed', '?')}{took}\n{attributes_line(candidate)}")
        self.list.addItem(item)
        if self.list.currentItem() is None:
            self.list.setCurrentItem(item)

    def discard_current(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        item = self.list.takeItem(row)
        self.discarded.emit(item.data(CANDIDATE_ROLE))
        if self.list.count() == 0:
            self.candidate_selected.emit(None)
        self._update_buttons()

    # --- running state ------------------------------------------------------------------------
    def set_model_state(self, state: str, message: str) -> None:
        if state == LOADING:
            self.status.setText("Loading the generation model in the background…")
        elif state == READY:
            self.status.setText(f"{message or 'Model ready'}. Set a mood and press Suggest (Ctrl+G).")
            self.show_error("")
        elif state == ERROR:
            self.status.setText("Suggestions are unavailable.")
            self.show_error(message)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def request_started(self, total: int, label: str = "") -> None:
        self.clear()
        self.show_error("")
        self._total = total
        self._started_at = time.perf_counter()
        self._label = label
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.progress.setFormat("%v of %m candidates")
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        self._update_status_running()

    def _update_status_running(self) -> None:
        if self.cancel_button.isEnabled():  # the count is on the progress bar (one place, never two numbers)
            self.status.setText(f"Suggesting {self._label}…")

    def request_finished(self) -> None:
        took = time.perf_counter() - self._started_at
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)
        self.status.setText(f"{candidates_text(self.list.count())} in {took:.1f} s.")

    def request_cancelled(self) -> None:
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)
        self.status.setText(f"Cancelled ({candidates_text(self.list.count())} kept).")

    def request_failed(self, message: str) -> None:
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)
        self.status.setText("The suggestion failed; your clip is unchanged.")
        self.show_error(message)

    # --- actions --------------------------------------------------------------------------------
    def _on_current_changed(self, current, _previous) -> None:
        self.candidate_selected.emit(current.data(CANDIDATE_ROLE) if current is not None else None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None
        for b in (self.audition_button, self.accept_button, self.discard_button, self.more_button, self.copy_button, self.export_button):
            b.setEnabled(has)

    # --- chords for the new bars -----------------------------------------------------------------
    @property
    def chords_wanted(self) -> bool:
        return self.chords_toggle.isChecked()

    def _chords_toggled(self, on: bool) -> None:
        QSettings().setValue(CHORDS_SETTING, on)
        self.chords_toggled.emit(on)

    def show_chords(self, chords, note: str = "") -> None:
        """Show a candidate's chords (a NewBarChords, or None with ``note`` saying why there are none)."""
        self.proposed_chords = chords
        if not self.chords_wanted:
            self.chords_label.setText("")
        elif chords is None:
            self.chords_label.setText(note)
        elif chords.proposed:
            self.chords_label.setText(f"Chords for the new bars: {chords.text()}  (Accept adds them)")
        else:
            self.chords_label.setText(f"Follows the chord track: {chords.text()}")
        self.chords_label.setVisible(self.chords_wanted and bool(self.chords_label.text()))
        self.add_chords_button.setVisible(self.chords_wanted)
        self.add_chords_button.setEnabled(chords is not None and chords.proposed and self.current_candidate() is not None)
        self.chords_shown.emit(chords.chords if self.chords_wanted and chords is not None and chords.proposed else None)

    def _add_chords(self) -> None:
        c = self.current_candidate()
        if c is not None:
            self.add_chords_requested.emit(c)

    def _audition(self) -> None:
        c = self.current_candidate()
        if c is not None:
            self.audition_requested.emit(c)

    def _accept(self) -> None:
        c = self.current_candidate()
        if c is not None:
            self.accept_requested.emit(c)

    def _more_like_this(self) -> None:
        c = self.current_candidate()
        if c is not None:
            self.more_like_this_requested.emit(c)

    def handle_key(self, event) -> bool:
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not mods & Qt.KeyboardModifier.ControlModifier:
            self._accept()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.discard_current()
        elif key == Qt.Key.Key_P:
            self._audition()
        elif key == Qt.Key.Key_M:
            self._more_like_this()
        elif key == Qt.Key.Key_R:
            self.regenerate_requested.emit()
        elif key == Qt.Key.Key_Escape:
            self.cancel_requested.emit()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and mods & Qt.KeyboardModifier.AltModifier:
            self.history_requested.emit(-1 if key == Qt.Key.Key_Left else 1)
        elif event.matches(QKeySequence.StandardKey.Copy):
            self.copy_current()
        else:
            return False
        return True

    def current_spec(self) -> clip_drag.ClipSpec | None:
        c = self.current_candidate()
        if c is None or self.spec_factory is None:
            return None
        return self.spec_factory(c)

    def drag_current(self) -> None:
        spec = self.current_spec()
        if spec is not None:
            try:
                clip_drag.start_drag(self.list, spec)
            except Exception as exc:  # noqa: BLE001
                self.show_error(f"Could not write the clip for the drag: {exc}")

    def copy_current(self) -> None:
        spec = self.current_spec()
        if spec is not None:
            try:
                path = clip_drag.copy_to_clipboard(spec)
                self.status.setText(f"Copied {path.name} to the clipboard.")
            except Exception as exc:  # noqa: BLE001
                self.show_error(f"Could not copy the clip: {exc}")

    def export_current(self) -> None:
        spec = self.current_spec()
        if spec is not None:
            try:
                path = clip_drag.export_clip(self, spec)
                if path:
                    self.status.setText(f"Exported {path}.")
            except Exception as exc:  # noqa: BLE001
                self.show_error(f"Could not export the clip: {exc}")


# --------------------------------------------------------------------------------------------
def timeline_targets(project: Project, continuation_tick: int, bars: int, targets_for_mood) -> tuple | None:
    """Per-bar targets from the document's mood timeline for ``bars`` bars from ``continuation_tick``.

    Each bar takes the timeline's mood in its middle (``targets_for_mood(mood)`` adds the panel's
    advanced overrides), so a continuation that crosses a scene boundary turns with the story.
    None when the document has no timeline (the mood panel's mood then applies to every bar).
    """
    timeline = project.mood_timeline
    if not timeline:
        return None
    start_bar = project.time_signatures.tick_to_bars(continuation_tick)
    return tuple(
        targets_for_mood(Mood.clamped(*timeline.mood_at(start_bar + i + 0.5))) for i in range(bars)
    )


def build_prompt(project: Project, track_index: int, *, playhead: int = 0, selected=()) -> Prompt:
    """The prompt: the selection, or the track's notes that start before the playhead.

    With no selection and the playhead at 0 (or before every note), the whole track is the
    prompt. The prompt is moved to start in bar 0; candidates go at the first bar line after the
    prompt's last onset (``continuation_tick``, in document ticks), as the engine places them.
    """
    track = project.tracks[track_index]
    meter = project.time_signatures
    notes = sorted(selected)
    if not notes:
        notes = [n for n in track.notes if n.start_tick < playhead] if playhead > 0 else []
        if notes:
            notes = [n if n.end_tick <= playhead else n.with_duration(playhead - n.start_tick) for n in notes]
        else:
            notes = list(track.notes)
    if not notes:
        raise ValueError("The track has no notes to continue: sketch a few bars first.")
    first_bar = meter.tick_to_position(notes[0].start_tick).bar
    offset = meter.bar_to_tick(first_bar)
    # the engine's rule: the continuation starts at the bar line after the prompt's last onset
    continuation_tick = meter.next_bar_tick(max(n.start_tick for n in notes) + 1)
    tempo_map, time_signatures = clip_drag.shifted_maps(project.tempo_map, meter, offset, project.ticks_per_quarter)
    shifted = tuple(n.with_start(n.start_tick - offset) for n in notes)
    prompt_project = Project(
        tracks=(Track(track.name, track.program, track.channel, shifted),),
        ticks_per_quarter=project.ticks_per_quarter,
        tempo_map=tempo_map,
        time_signatures=time_signatures,
        key=project.key,
        title=project.title,
        chords=project.chords.shifted(-offset),  # the continuation follows the chords over its bars
    )
    bars = max(1, meter.tick_to_position(continuation_tick).bar - first_bar)
    return Prompt(prompt_project, track_index, offset, continuation_tick, bars)


def _identity(candidate) -> tuple:
    """Candidates of one request share its seed and differ by index."""
    return (getattr(candidate, "generator", None), getattr(candidate, "seed", id(candidate)), getattr(candidate, "index", id(candidate)))


@dataclass
class Batch:
    """One request's candidates, kept so that the composer can go back to them."""

    prompt: Prompt
    request: SuggestRequest
    request_id: int | None = None
    candidates: list = None  # type: ignore[assignment]
    text: str = ""  # what the status line said when it finished

    def __post_init__(self) -> None:
        if self.candidates is None:
            self.candidates = []


MAX_BATCHES = 20  # older batches are forgotten


def candidate_span(candidate, prompt: Prompt, meter) -> tuple[int, int]:
    """(start, end) ticks in the document that ``candidate`` covers once placed."""
    start = prompt.continuation_tick
    length = getattr(candidate, "length_ticks", None)
    if not isinstance(length, int) or length <= 0:
        bars = getattr(candidate, "bars", None) or 1
        length = meter.bar_to_tick(meter.tick_to_bars(start) + int(bars)) - start
    end = max([start + length, *(n.end_tick + prompt.continuation_tick for n in getattr(candidate, "notes", ()))])
    return start, end


def replaced_notes(track_notes, candidate, prompt: Prompt, meter) -> list[Note]:
    """The notes of the track that Accept replaces: those that start inside the candidate's span."""
    start, end = candidate_span(candidate, prompt, meter)
    return [n for n in track_notes if start <= n.start_tick < end]


def placed_notes(candidate, prompt: Prompt, channel: int) -> list[Note]:
    """The candidate's notes moved to where they go in the document, on the track's channel."""
    return [
        Note(n.start_tick + prompt.continuation_tick, n.pitch, n.duration_ticks, n.velocity, channel)
        for n in getattr(candidate, "notes", ())
    ]


class SuggestController:
    """Connects the mood panel, the suggestions panel, the generation thread and the document.

    ``playhead()`` returns the playhead tick; ``show_ghosts(notes)`` shows notes (document ticks)
    as ghosts in the piano roll (``[]`` clears); ``audition(project, start_tick)`` plays a project
    from a tick through the current output. All three are optional.
    """

    def __init__(
        self,
        document,
        mood_panel,
        panel: SuggestionsPanel,
        jobs: GenerationJobs,
        *,
        playhead: Callable[[], int] | None = None,
        show_ghosts: Callable[[list], None] | None = None,
        audition: Callable[[Project, int], None] | None = None,
        audition_bars: int = 2,
    ):
        self.document = document
        self.mood_panel = mood_panel
        self.panel = panel
        self.jobs = jobs
        self._playhead = playhead or (lambda: 0)
        self._show_ghosts = show_ghosts or (lambda notes: None)
        self._audition = audition
        self.audition_bars = audition_bars
        self.prompt: Prompt | None = None
        self.request: SuggestRequest | None = None
        self.request_id: int | None = None
        self.first_candidate_at: float | None = None
        self.submitted_at: float | None = None
        self.last_results: list = []
        self.history: list[Batch] = []  # every request's batch, oldest first
        self.shown = -1  # the batch the panel shows
        self.overlay = None  # the GhostOverlay, when there is a piano roll
        panel.spec_factory = self.clip_spec
        panel.history_requested.connect(self.step_history)
        panel.candidate_selected.connect(self._on_selected)
        panel.accept_requested.connect(self.accept)
        panel.audition_requested.connect(self.audition)
        panel.regenerate_requested.connect(lambda: self.suggest() if self._owns_panel() else None)
        panel.more_like_this_requested.connect(self.more_like_this)
        panel.cancel_requested.connect(self.cancel)
        panel.chords_toggled.connect(lambda _on: self._show_chords(self.panel.current_candidate()))
        panel.add_chords_requested.connect(self.add_chords)
        self._chords_cache: dict = {}
        mood_panel.suggest_requested.connect(self.suggest)
        jobs.model_state_changed.connect(self._on_model_state)
        jobs.started.connect(self._on_started)
        jobs.candidate.connect(self._on_candidate)
        jobs.finished.connect(self._on_finished)
        jobs.errored.connect(self._on_errored)
        jobs.cancelled.connect(self._on_cancelled)
        if jobs.state != "idle":
            self._on_model_state(jobs.state, jobs.message)
        document.project_changed.connect(self._on_project_changed)
        if hasattr(document, "current_track_changed"):
            document.current_track_changed.connect(self._on_track_changed)
        if hasattr(document, "replaced"):
            document.replaced.connect(self.forget)

    # --- requests --------------------------------------------------------------------------------
    def suggest(self, *, seed: int | None = None) -> int | None:
        """Suggest continuations of the current track with the panel's mood and settings."""
        doc = self.document
        track_index = doc.current_track_index
        if track_index < 0:
            self.panel.show_error("There is no track to continue.")
            return None
        try:
            prompt = build_prompt(doc.project, track_index, playhead=self._playhead(), selected=doc.selected_notes())
        except ValueError as exc:
            self.panel.show_error(str(exc))
            return None
        mp = self.mood_panel
        mp.flush()
        settings = mp.generation_settings()
        compare = settings["generator"] == COMPARE_GENERATORS
        names = tuple(getattr(mp, "generator_names", ())) if compare else ()
        targets = timeline_targets(doc.project, prompt.continuation_tick, settings["bars"], mp.targets_for)
        request = SuggestRequest(
            prompt=prompt.project,
            mood=mp.mood,
            bars=settings["bars"],
            candidates=settings["candidates"],
            temperature=settings["temperature"],
            seed=mp.next_seed() if seed is None else seed,
            generator=None if compare else settings["generator"],
            generators=names,
            targets=targets if targets is not None else mp.targets(),
            key_constraint=settings["key_constraint"] or "clip",
            label=f"{settings['candidates']} × {settings['bars']} bars"
            + (f" from each of {', '.join(names)}" if compare else "")
            + (" along the mood timeline" if targets else ""),
        )
        return self._submit(prompt, request)

    def more_like_this(self, candidate) -> int | None:
        """The same request as the one that made ``candidate``, with a new seed."""
        if not self._owns_panel():
            return None
        if self.request is None or self.prompt is None:
            return self.suggest()
        from dataclasses import replace  # noqa: PLC0415

        seed = self.mood_panel.reroll_seed()
        return self._submit(self.prompt, replace(self.request, seed=seed))

    def _owns_panel(self) -> bool:
        """False while another feature's results (ui.variations) show in the panel."""
        return getattr(self.panel, "owner", None) in (None, self)

    def _submit(self, prompt: Prompt, request: SuggestRequest) -> int:
        self.prompt, self.request = prompt, request
        self.panel.owner, self.panel.spec_factory = self, self.clip_spec
        self.panel.continuation_bars = request.bars
        self.panel.bar_ticks = prompt.project.time_signatures.ticks_per_bar_at(0)
        self.submitted_at = time.perf_counter()
        self.first_candidate_at = None
        self.last_results = []
        batch = Batch(prompt, request)
        self.history.append(batch)
        del self.history[:-MAX_BATCHES]
        self.shown = len(self.history) - 1
        self.panel.request_started(request.candidates, request.label)
        self.panel.set_history(self.shown + 1, len(self.history))
        self.request_id = self.jobs.submit(request)
        batch.request_id = self.request_id
        return self.request_id

    def cancel(self) -> None:
        self.jobs.cancel()

    # --- history of batches -------------------------------------------------------------------------
    def _running_batch(self, request_id: int) -> Batch | None:
        return next((b for b in reversed(self.history) if b.request_id == request_id), None)

    def step_history(self, step: int) -> None:
        """Show the batch ``step`` before (-1) or after (+1) the one shown."""
        target = self.shown + step
        if 0 <= target < len(self.history) and target != self.shown:
            self.show_batch(target)

    def show_batch(self, index: int) -> None:
        batch = self.history[index]
        self.shown = index
        self.prompt, self.request = batch.prompt, batch.request
        self.panel.continuation_bars = batch.request.bars
        self.panel.bar_ticks = batch.prompt.project.time_signatures.ticks_per_bar_at(0)
        running = batch.request_id == self.request_id and self.panel.cancel_button.isEnabled()
        text = batch.text or (f"Suggesting {batch.request.label}…" if running else "")
        self.panel.show_batch(batch.candidates, text or f"{candidates_text(len(batch.candidates))} (seed {batch.request.seed})")
        self.panel.set_history(index + 1, len(self.history))

    def forget(self) -> None:
        """Another document was opened or made: its candidates, ghosts and history go."""
        if self.request_id is not None:
            self.jobs.cancel()
        self.history.clear()
        self.shown = -1
        self.prompt = self.request = None
        self.request_id = None
        self.last_results = []
        self.panel.reset()
        self._show_ghosts([])
        if self.overlay is not None:
            self.overlay.set_context([], [])

    # --- results ------------------------------------------------------------------------------------
    def _on_model_state(self, state: str, message: str) -> None:
        self.panel.set_model_state(state, message)
        if state == READY and self.jobs.generators:
            self.mood_panel.set_generators(self.jobs.generators, self.jobs.default_generator)

    def _on_started(self, request_id: int) -> None:
        pass

    def _on_candidate(self, request_id: int, index: int, candidate) -> None:
        if request_id != self.request_id or not self.jobs.is_current(request_id):
            return
        if self.first_candidate_at is None:
            self.first_candidate_at = time.perf_counter()
        batch = self._running_batch(request_id)
        if batch is not None:
            batch.candidates.append(candidate)
            if self.history.index(batch) != self.shown:
                return  # the composer is looking at an earlier batch: this one fills in the background
        self.panel.add_candidate(candidate)

    def _on_finished(self, request_id: int, results) -> None:
        if request_id != self.request_id:
            return
        shown = {_identity(c) for c in self.panel.candidates()}
        for c in results:  # an engine that does not stream gives everything here
            if _identity(c) not in shown:
                self._on_candidate(request_id, -1, c)
        self.last_results = list(results)
        batch = self._running_batch(request_id)
        if batch is not None and self.history.index(batch) != self.shown:
            batch.text = f"{candidates_text(len(batch.candidates))} (seed {batch.request.seed})"
            self.panel.cancel_button.setEnabled(False)
            return
        self.panel.request_finished()
        if batch is not None:
            batch.text = self.panel.status.text()
        if self.overlay is not None:
            self._say_replacement(len(self.overlay.replaced))

    def _on_errored(self, request_id: int, message: str) -> None:
        if request_id == self.request_id:
            self.panel.request_failed(message)

    def _on_cancelled(self, request_id: int) -> None:
        if request_id == self.request_id:
            self.panel.request_cancelled()

    # --- candidate actions ---------------------------------------------------------------------------
    def _on_selected(self, candidate) -> None:
        if not self._owns_panel():
            self.panel.show_chords(None)  # another feature's results (variations): no chords proposed
            return
        self._show_chords(candidate)
        if candidate is None or self.prompt is None:
            self._show_ghosts([])
            if self.overlay is not None:
                self.overlay.set_context([], [])
            return
        project = self.document.project
        track = project.tracks[self.prompt.track_index] if self.prompt.track_index < len(project.tracks) else None
        self._show_ghosts(placed_notes(candidate, self.prompt, track.channel if track else 0))
        replaced = replaced_notes(track.notes, candidate, self.prompt, project.time_signatures) if track else []
        if self.overlay is not None:
            self.overlay.set_context(self.prompt_notes(), replaced)
        self._say_replacement(len(replaced))

    # --- chords for the new bars ---------------------------------------------------------------------
    def new_bars(self, candidate) -> tuple[int, int]:
        """(start, end) document ticks of the candidate's bars."""
        meter = self.document.project.time_signatures
        start = self.prompt.continuation_tick
        bars = getattr(candidate, "bars", None) or (self.request.bars if self.request else 1)
        return start, meter.bar_to_tick(meter.tick_to_position(start).bar + int(bars))

    def chords_for(self, candidate):
        """The candidate's chords for its new bars (:mod:`composer_app.arrange.continuation_chords`), cached."""
        from composer_app.arrange.continuation_chords import chords_for_new_bars  # noqa: PLC0415

        if candidate is None or self.prompt is None:
            return None
        project = self.document.project
        start, end = self.new_bars(candidate)
        mood = self.request.mood if self.request is not None else Mood()
        key = (_identity(candidate), start, end, mood.valence, mood.arousal, project.chords, project.key)
        if key not in self._chords_cache:
            if len(self._chords_cache) > 256:
                self._chords_cache.clear()
            notes = placed_notes(candidate, self.prompt, 0)
            try:
                self._chords_cache[key] = chords_for_new_bars(
                    project, self.prompt_notes(), notes, start, end, valence=mood.valence, arousal=mood.arousal,
                    key=getattr(candidate, "key", None), seed=getattr(candidate, "seed", 0) or 0)
            except (OSError, ValueError) as exc:  # missing or broken chord-suggester weights, too long a span
                self.panel.show_error(f"No chords for the new bars: {exc}")
                self._chords_cache[key] = None
        return self._chords_cache[key]

    def _show_chords(self, candidate) -> None:
        if not self.panel.chords_wanted or candidate is None or not self._owns_panel():
            self.panel.show_chords(None)
            return
        chords = self.chords_for(candidate)
        self.panel.show_chords(chords, "" if chords is not None else "No chords for the new bars (no notes in them).")

    def add_chords(self, candidate) -> bool:
        """Add the candidate's proposed chords (only) to the chord track: one undo step."""
        if candidate is None or not self._owns_panel():
            return False
        from composer_app.arrange.continuation_chords import with_new_bar_chords  # noqa: PLC0415

        chords = self.chords_for(candidate)
        if chords is None or not chords.proposed:
            return False
        self.document.apply(with_new_bar_chords(self.document.project, chords), "Add chords for the new bars")
        self.panel.status.setText(f"Added {len(chords.chords)} chords to the chord track. Ctrl+Z undoes it.")
        self._show_chords(candidate)
        return True

    REPLACES_TEXT = "Accept replaces the {} notes marked in red (Ctrl+Z brings them back)."

    def _say_replacement(self, count: int) -> None:
        """Add (or drop) the "Accept replaces N notes" sentence at the end of the status line."""
        text = self.panel.status.text()
        marker = self.REPLACES_TEXT.split("{}")[0]
        if marker in text:
            text = text[: text.index(marker)].rstrip()
        if count:
            text = f"{text} {self.REPLACES_TEXT.format(count)}".strip()
        self.panel.status.setText(text)

    def prompt_notes(self) -> list[Note]:
        """The prompt's notes where they are in the document (the overlay outlines them)."""
        if self.prompt is None:
            return []
        return [n.with_start(n.start_tick + self.prompt.offset) for n in self.prompt.project.tracks[0].notes]

    def accept(self, candidate) -> bool:
        """Insert ``candidate`` after the prompt into its track: one undo step."""
        if candidate is None or self.prompt is None or not self._owns_panel():
            return False
        doc = self.document
        project = doc.project
        index = self.prompt.track_index
        if index >= len(project.tracks):
            self.panel.show_error("The track of this suggestion no longer exists.")
            return False
        track = project.tracks[index]
        new_notes = placed_notes(candidate, self.prompt, track.channel)
        replaced = replaced_notes(track.notes, candidate, self.prompt, project.time_signatures)
        from composer_app.ui.selection import Selection  # noqa: PLC0415

        gone = Counter(replaced)
        kept = []
        for n in track.notes:
            if gone.get(n, 0) > 0:
                gone[n] -= 1
            else:
                kept.append(n)
        new_project = project.replace_track(index, track.with_notes([*kept, *new_notes]))
        chords = self.chords_for(candidate) if self.panel.chords_wanted else None
        with_chords = chords is not None and chords.proposed
        if with_chords:
            from composer_app.arrange.continuation_chords import with_new_bar_chords  # noqa: PLC0415

            new_project = with_new_bar_chords(new_project, chords)
        doc.apply(
            new_project,
            f"Accept suggestion (seed {getattr(candidate, 'seed', '?')})" + (" with chords" if with_chords else ""),
            selection=Selection(new_notes),
            current_track=index,
        )
        self._show_ghosts([])
        if self.overlay is not None:
            self.overlay.set_context([], [])
        instead = f" in place of {len(replaced)}" if replaced else ""
        added = f" and {len(chords.chords)} chords" if with_chords else ""
        self.panel.status.setText(f"Inserted {len(new_notes)} notes{instead}{added}. Ctrl+Z undoes it.")
        self._show_chords(candidate)
        return True

    def audition_project(self, candidate) -> tuple[Project, int] | None:
        """The last bars of the prompt then the candidate, as a project and its start tick."""
        if candidate is None or self.prompt is None:
            return None
        project = self.document.project
        index = self.prompt.track_index
        track = project.tracks[index] if index < len(project.tracks) else Track()
        meter = project.time_signatures
        cont_bar = meter.tick_to_position(self.prompt.continuation_tick).bar
        start = meter.bar_to_tick(max(0, cont_bar - self.audition_bars))
        prompt_notes = [n for n in self.prompt.project.tracks[0].notes]
        prompt_notes = [n.with_start(n.start_tick + self.prompt.offset) for n in prompt_notes]
        notes = [n for n in prompt_notes if n.start_tick >= start] + placed_notes(candidate, self.prompt, track.channel)
        audition = Project(
            tracks=(Track(track.name, track.program, track.channel, notes),),
            ticks_per_quarter=project.ticks_per_quarter,
            tempo_map=project.tempo_map,
            time_signatures=project.time_signatures,
            key=project.key,
            title=project.title,
        )
        return audition, start

    def audition(self, candidate) -> None:
        if not self._owns_panel():
            return
        made = self.audition_project(candidate)
        if made is None:
            return
        if self._audition is None:
            self.panel.status.setText("No output to audition through.")
            return
        try:
            self._audition(*made)
        except Exception as exc:  # noqa: BLE001
            self.panel.show_error(f"Could not play the candidate: {exc}")

    def clip_spec(self, candidate) -> clip_drag.ClipSpec:
        """The candidate as a clip for drag / copy / export."""
        prompt = self.prompt
        project = self.document.project
        request = self.request
        tpq = project.ticks_per_quarter
        offset = prompt.continuation_tick if prompt else 0
        tempo_map, time_signatures = clip_drag.shifted_maps(project.tempo_map, project.time_signatures, offset, tpq)
        track = project.tracks[prompt.track_index] if prompt and prompt.track_index < len(project.tracks) else Track()
        name = self.document.display_name if hasattr(self.document, "display_name") else (project.title or "untitled")
        return clip_drag.ClipSpec(
            notes=tuple(getattr(candidate, "notes", ())),
            ticks_per_quarter=tpq,
            tempo_map=tempo_map,
            time_signatures=time_signatures,
            program=track.program,
            name=f"{track.name} suggestion",
            project_name=name,
            mood=request.mood if request else Mood(),
            bars=request.bars if request else None,
            seed=getattr(candidate, "seed", None),
        )

    def _on_project_changed(self, old, new) -> None:
        if getattr(old, "chords", None) != getattr(new, "chords", None) and self._owns_panel():
            self._show_chords(self.panel.current_candidate())  # added, undone, edited in the lane

    def _on_track_changed(self, index: int) -> None:
        """Ghosts belong to the prompt's track: hide them on another track, show them again on it."""
        if self.prompt is not None and index != self.prompt.track_index:
            self._show_ghosts([])
            if self.overlay is not None:
                self.overlay.set_context([], [])
        else:
            self._on_selected(self.panel.current_candidate())


# --------------------------------------------------------------------------------------------
class GhostOverlay(QWidget):
    """Draws the selected candidate over the piano roll's note area as ghost notes.

    A transparent child of the canvas (mouse events pass through), so the piano roll needs no
    change: it paints with the canvas's own ``note_rect`` and follows its zoom and scroll.
    """

    def __init__(self, canvas: QWidget):
        super().__init__(canvas)
        self._canvas = canvas
        self.notes: list[Note] = []
        self.start_tick: int | None = None
        self.prompt_notes: list[Note] = []  # outlined: what the suggestion continues
        self.replaced: list[Note] = []  # marked: what Accept replaces
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setObjectName("suggestion_ghosts")
        canvas.installEventFilter(self)
        self.setGeometry(canvas.rect())
        view = getattr(canvas, "view", None)
        if view is not None and hasattr(view, "changed"):
            view.changed.connect(self.update)
        self.show()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self._canvas and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._canvas.rect())
        return False

    def set_notes(self, notes, start_tick: int | None = None) -> None:
        """Show ``notes`` (document ticks); ``start_tick`` marks where the continuation starts."""
        self.notes = list(notes)
        self.start_tick = start_tick if start_tick is not None else min((n.start_tick for n in self.notes), default=None)
        self.raise_()
        self.update()

    def set_context(self, prompt_notes, replaced) -> None:
        """Outline the prompt's notes and mark the notes Accept would replace (document ticks)."""
        self.prompt_notes = list(prompt_notes)
        self.replaced = list(replaced)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        if not self.notes:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        visible = QRectF(self.rect())
        if self.prompt_notes:
            p.setPen(QPen(PROMPT_OUTLINE, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            for n in self.prompt_notes:
                r = self._canvas.note_rect(n)
                if r.intersects(visible):
                    p.drawRoundedRect(r.adjusted(-1, -1, 1, 1), 2, 2)
            first = min(n.start_tick for n in self.prompt_notes)
            x = self._canvas.view.tick_to_x(first)
            p.drawText(int(x) + 4, 14, "prompt")
        if self.replaced:
            p.setPen(QPen(REPLACED_MARK, 1.5))
            for n in self.replaced:
                r = self._canvas.note_rect(n)
                if r.intersects(visible):
                    p.drawLine(r.topLeft(), r.bottomRight())
                    p.drawLine(r.bottomLeft(), r.topRight())
                    p.drawRect(r)
        accent = QColor(self.palette().highlight().color())
        fill = QColor(accent)
        fill.setAlpha(70)
        edge = QColor(accent)
        edge.setAlpha(220)
        p.setPen(QPen(edge, 1.3, Qt.PenStyle.DashLine))
        p.setBrush(fill)
        for n in self.notes:
            r = self._canvas.note_rect(n)
            if r.intersects(visible):
                p.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), 2, 2)
        if self.start_tick is not None:
            x = self._canvas.view.tick_to_x(self.start_tick)
            p.setPen(QPen(edge, 1.5))
            p.drawLine(int(x), 0, int(x), self.height())
            label = f"suggestion (replaces {len(self.replaced)} notes)" if self.replaced else "suggestion"
            p.drawText(int(x) + 4, 28 if self.prompt_notes else 14, label)
        p.end()


class DragHandle(QToolButton):
    """A button to drag from: drags ``spec_factory()`` out as a .mid file (the piano-roll selection)."""

    def __init__(self, text: str, spec_factory: Callable[[], clip_drag.ClipSpec | None], parent: QWidget | None = None):
        super().__init__(parent)
        self.setText(text)
        self._spec_factory = spec_factory
        self._press = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._press = event.position()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._press is not None and (event.position() - self._press).manhattanLength() > 6:
            self._press = None
            self.setDown(False)
            spec = self._spec_factory()
            if spec is not None:
                clip_drag.start_drag(self, spec)
            return
        super().mouseMoveEvent(event)


SUGGEST_SHORTCUTS = ("Ctrl+G", "Ctrl+Return")
SIDE_DOCK_WIDTH_PX = 250  # the tracks/suggestions column and the mood column at the default 1280 px


def _reveal(view, notes) -> None:
    """Scroll the piano roll so the ghost notes show, with the end of the prompt before them."""
    start = min(n.start_tick for n in notes)
    end = max(n.end_tick for n in notes)
    lo, hi = view.visible_ticks()
    if lo <= start and end <= hi:
        return
    if getattr(view, "content_end_tick", end) < end and hasattr(view, "set_content_end"):
        view.set_content_end(end)
    span = hi - lo
    view.scroll_to(max(0.0, start - span * 0.4) if end - start < span * 0.6 else max(0.0, start - span * 0.1))


class _DockWidths(QObject):
    """Give the side columns their share of the width whenever the window crosses into or out of
    "tiled" widths (the default 1280 px: about 260 px each; 800 px beside a DAW: about 190 and 230),
    so that the piano roll keeps most of the width. Between crossings the user's own sizes stay."""

    NARROW_BELOW_PX = 1000

    def __init__(self, window, left_docks, right_dock):
        super().__init__(window)
        self.window, self.left, self.right = window, left_docks, right_dock
        self.narrow: bool | None = None

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self.window and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            narrow = self.window.width() < self.NARROW_BELOW_PX
            if narrow != self.narrow and self.window.isVisible():
                if self.narrow is None and len(self.left) == 2:  # first shown: tracks above, candidates below
                    QTimer.singleShot(0, self._split_left_column)
                self.narrow = narrow
                left, right = (190, 232) if narrow else (SIDE_DOCK_WIDTH_PX, SIDE_DOCK_WIDTH_PX + 20)
                if self.left:
                    self.window.resizeDocks(self.left[:1], [left], Qt.Orientation.Horizontal)
                self.window.resizeDocks([self.right], [right], Qt.Orientation.Horizontal)
        return False


    def _split_left_column(self) -> None:
        """About three track rows above the candidates (the tracks dock shares its place with History)."""
        column = self.left[0].height() + self.left[1].height()
        tracks = max(170, column * 2 // 5)
        self.window.resizeDocks(self.left, [tracks, column - tracks], Qt.Orientation.Vertical)


def install_suggest(window, *, jobs: GenerationJobs | None = None, start_loading: bool = True):
    """Add the mood and suggestions docks and the Suggest action to the main window.

    Uses only the window's plug-in points (``add_panel``, ``add_action``, ``document``,
    ``editor``, ``playback``, ``model_label``); the models load on the background thread once
    the event loop runs (after the window is shown). Returns the :class:`SuggestController`.
    """
    doc = window.document
    mood_panel = _make_mood_panel(doc)
    panel = SuggestionsPanel()
    jobs = jobs or GenerationJobs(window)
    editor = getattr(window, "editor", None)
    overlay = GhostOverlay(editor.canvas) if editor is not None and hasattr(editor, "canvas") else None

    def show_ghosts(notes) -> None:
        if overlay is not None:
            prompt = controller.prompt if notes else None  # the controller exists by the time this runs
            overlay.set_notes(notes, prompt.continuation_tick if prompt is not None else None)
            if notes and editor is not None:
                _reveal(editor.view, notes)

    def audition(project, start_tick) -> None:
        playback = getattr(window, "playback", None)
        if playback is None or not playback.play(project, start_tick, metronome=False):  # auditions never click
            raise RuntimeError(playback.status_text() if playback is not None else "no output")

    controller = SuggestController(
        doc,
        mood_panel,
        panel,
        jobs,
        playhead=lambda: int(getattr(editor, "playhead_tick", 0) or 0),
        show_ghosts=show_ghosts,
        audition=audition,
    )
    controller.overlay = overlay
    # Mood at the right, full height (pad, story and Suggest without scrolling); the candidates at the
    # left under the tracks, so that the piano roll keeps its height and most of the width.
    mood_dock = window.add_panel("mood", "Mood", lambda: mood_panel, Qt.DockWidgetArea.RightDockWidgetArea)
    suggestions_dock = window.add_panel("suggestions", "Suggestions", lambda: panel, Qt.DockWidgetArea.LeftDockWidgetArea)
    tracks_dock = getattr(window, "panels", {}).get("tracks")
    if tracks_dock is not None:  # (added below the tracks: add_panel stacks docks of one area)
        window.resizeDocks([tracks_dock, suggestions_dock], [170, 470], Qt.Orientation.Vertical)
    window.installEventFilter(_DockWidths(window, [d for d in (tracks_dock, suggestions_dock) if d], mood_dock))

    action = QAction("Suggest &continuation", window)
    action.setObjectName("action_suggest")
    action.setShortcuts([QKeySequence(s) for s in SUGGEST_SHORTCUTS])
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip("Suggest continuations of the current track after the playhead (Ctrl+G)")
    action.triggered.connect(lambda: controller.suggest())
    cancel = QAction("Cancel suggestion", window)
    cancel.setObjectName("action_cancel_suggest")
    cancel.triggered.connect(controller.cancel)
    menus = getattr(window, "menus", {})
    menu = menus.get("suggest")
    if menu is None:
        from PySide6.QtWidgets import QMenu  # noqa: PLC0415

        menu = QMenu("&Suggest", window)
        help_menu = menus.get("help")
        if help_menu is not None:
            window.menuBar().insertMenu(help_menu.menuAction(), menu)  # before Help, as apps do
        else:
            window.menuBar().addMenu(menu)
        if hasattr(window, "menus"):
            window.menus["suggest"] = menu
    menu.addAction(action)
    menu.addAction(cancel)
    menu.addSeparator()

    def selection_spec():
        notes = doc.selected_notes()
        if not notes:
            window.statusBar().showMessage("Select notes in the piano roll first.", 3000)
            return None
        return clip_drag.spec_from_selection(doc.project, doc.current_track_index, notes, mood=mood_panel.mood)

    copy_sel = QAction("Copy selection as MIDI file", window)
    copy_sel.triggered.connect(lambda: (s := selection_spec()) and clip_drag.copy_to_clipboard(s))
    export_sel = QAction("Export selection as MIDI…", window)
    export_sel.triggered.connect(lambda: (s := selection_spec()) and clip_drag.export_clip(window, s))
    menu.addAction(copy_sel)
    menu.addAction(export_sel)
    handle = DragHandle("⇲ Drag selection", selection_spec)
    handle.setObjectName("drag_selection")
    handle.setToolTip("Drag the piano-roll selection into a DAW as a .mid file")
    panel.buttons.addWidget(handle, 3, 0, 1, 2)
    toolbar = window.addToolBar("Suggest")
    toolbar.setObjectName("toolbar_suggest")
    toolbar.addAction(action)
    controller.action = action

    model_label = getattr(window, "model_label", None)

    def on_model_state(state: str, message: str) -> None:
        if model_label is not None:
            model_label.setText({LOADING: "Model: loading…", READY: "Model: ready", ERROR: "Model: unavailable"}.get(state, state))
            model_label.setToolTip(message)

    jobs.model_state_changed.connect(on_model_state)
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    QApplication.instance().aboutToQuit.connect(jobs.shutdown)
    if start_loading:
        QTimer.singleShot(0, jobs.start)
    window.suggest_controller = controller
    return controller


def _make_mood_panel(document):
    from composer_app.ui.mood_panel import MoodPanel  # noqa: PLC0415

    return MoodPanel(document)
