"""The transport bar: play/stop/loop/record, position, tempo, time signature, metronome, output.

Buttons are the transport actions (``TransportActions``) so the toolbar, the menu and the
shortcuts (Space, Enter, L, R) stay in step. Tempo and meter show the values in force at the
playhead and edit the tempo / time-signature change in force there (the tempo lane holds all of
them) through ``Document.apply`` (a spin box being scrolled merges into one undo step).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QSpinBox, QToolBar, QWidget

from composer_app.core.theory import MODE_INTERVALS, PITCH_CLASS_NAMES, Key, estimate_key
from composer_app.core.timing import (
    TempoChange,
    TempoMap,
    TimeSignatureChange,
    TimeSignatureMap,
    bpm_to_microseconds_per_quarter,
)
from composer_app.ui.document import Document


def format_position(project, tick: int) -> str:
    """"bar:beat:tick" (1-based bar and beat) as DAWs show it."""
    position = project.time_signatures.tick_to_position(max(0, int(tick)))
    return f"{position.bar + 1:3d}:{position.beat + 1}:{position.tick_in_beat:03d}"


class KeepTypingKeys(QObject):
    """Enter (the window's "play from start") and Space ("play") go to a field being typed in."""

    KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in self.KEYS:
            event.accept()
            return True
        return False


class TransportBar(QToolBar):
    """The transport toolbar. Its items are separate so that a narrow window folds the last ones
    into the toolbar's » menu instead of widening the window (tiled beside a DAW at 800 px)."""

    def __init__(self, document: Document, actions, parent: QWidget | None = None):
        super().__init__("Transport", parent)
        self.setObjectName("toolbar_transport")
        self.document = document
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in ("to_start", "play", "stop", "loop", "record", "metronome"):
            action = actions[name]
            self.addAction(action)
            button = self.widgetForAction(action)
            button.setObjectName(f"transport_{name}")
            if not action.icon().isNull():  # icon only; the name is in the tooltip
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.position = QLabel()
        self.position.setObjectName("transport_position")
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(font.pointSize() + 2)
        self.position.setFont(font)
        self.position.setMinimumWidth(110)
        self.position.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.position.setToolTip("Position (bar:beat:tick)")
        self.addWidget(self.position)
        self.addWidget(QLabel(" Tempo "))
        self.tempo = QDoubleSpinBox()
        self.tempo.setObjectName("transport_tempo")
        self.tempo.setRange(20.0, 400.0)
        self.tempo.setDecimals(1)
        self.tempo.setSuffix(" BPM")
        self.tempo.setKeyboardTracking(False)
        self.addWidget(self.tempo)
        self.addWidget(QLabel(" Meter "))
        self.numerator = QSpinBox()
        self.numerator.setRange(1, 32)
        self.denominator = QComboBox()
        self.denominator.addItems(["1", "2", "4", "8", "16", "32"])
        self.addWidget(self.numerator)
        self.addWidget(QLabel("/"))
        self.addWidget(self.denominator)
        self.addWidget(QLabel(" Key "))
        self.key = QComboBox()
        self.key.setObjectName("transport_key")
        self.key.setToolTip("The project's key: highlighted in the piano roll, used by in-scale transpose and generation")
        self.key.addItem("(none)", None)
        self.key.addItem("Estimate from notes", "estimate")
        for mode in ("major", "minor", "dorian", "mixolydian", "phrygian", "lydian", "harmonic_minor"):
            if mode in MODE_INTERVALS:
                for tonic in range(12):
                    key = Key(tonic, mode)
                    self.key.addItem(key.name, key)
        self.addWidget(self.key)
        self.tempo.valueChanged.connect(self._tempo_edited)
        self.numerator.valueChanged.connect(self._meter_edited)
        self.denominator.currentTextChanged.connect(self._meter_edited)
        self.key.activated.connect(self._key_chosen)
        self._keys = KeepTypingKeys(self)
        for field in (self.tempo, self.numerator):
            field.installEventFilter(self._keys)
            field.lineEdit().installEventFilter(self._keys)
        self._tick = 0
        document.project_changed.connect(lambda _old, _new: self.refresh())
        self.refresh()
        self.set_position(0)

    def refresh(self) -> None:
        project = self.document.project
        for widget in (self.tempo, self.numerator, self.denominator):
            widget.blockSignals(True)
        self.tempo.setValue(project.tempo_map.bpm_at(self._tick))
        several = len(project.tempo_map.changes) > 1
        self.tempo.setToolTip("Tempo at the playhead (the tempo lane shows every change)" if several else "Tempo")
        signature = project.time_signatures.change_at(self._tick)
        self.numerator.setValue(signature.numerator)
        self.denominator.setCurrentText(str(signature.denominator))
        index = next((i for i in range(self.key.count()) if self.key.itemData(i) == project.key), -1)
        if index < 0 and project.key is not None:  # a mode the list does not offer: add it
            self.key.addItem(project.key.name, project.key)
            index = self.key.count() - 1
        self.key.setCurrentIndex(max(0, index))
        for widget in (self.tempo, self.numerator, self.denominator):
            widget.blockSignals(False)

    def set_position(self, tick: int) -> None:
        self.position.setText(format_position(self.document.project, tick))
        project = self.document.project
        old, self._tick = self._tick, max(0, int(tick))
        if project.tempo_map.change_at(old) is not project.tempo_map.change_at(self._tick) or (
            project.time_signatures.change_at(old) is not project.time_signatures.change_at(self._tick)
        ):
            self.refresh()

    def _key_chosen(self, index: int) -> None:
        project = self.document.project
        key = self.key.itemData(index)
        if key == "estimate":
            estimate = estimate_key(n for t in project.tracks if not t.is_drums for n in t.notes)
            key = estimate.key if estimate is not None else None
        if key != project.key:
            self.document.apply(replace(project, key=key), f"Set key: {key.name if key else 'none'}")
        self.refresh()

    def _tempo_edited(self, bpm: float) -> None:
        project = self.document.project
        at = project.tempo_map.change_at(self._tick).tick
        changes = [c for c in project.tempo_map.changes if c.tick != at]
        edited = TempoChange(at, bpm_to_microseconds_per_quarter(bpm))
        tempo_map = TempoMap([edited, *changes], project.ticks_per_quarter)
        self.document.apply(replace(project, tempo_map=tempo_map), "Change tempo", merge_key=f"tempo-{at}")

    def _meter_edited(self, *_args) -> None:
        project = self.document.project
        at = project.time_signatures.change_at(self._tick).tick
        changes = [c for c in project.time_signatures.changes if c.tick != at]
        edited = TimeSignatureChange(at, self.numerator.value(), int(self.denominator.currentText()))
        signatures = TimeSignatureMap([edited, *changes], project.ticks_per_quarter)
        self.document.apply(replace(project, time_signatures=signatures), "Change time signature", merge_key=f"meter-{at}")
