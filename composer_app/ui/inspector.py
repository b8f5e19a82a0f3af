"""The note inspector: the selected notes as numbers, typed or scrolled, and the key of the music.

A toolbar row above the piano roll (it folds into its » menu when the roll is narrow) with:

* the selection ("3 notes"); with several notes selected the fields show the first one;
* Pitch, as a name or a number ("C#4", "Db4" and "61" all work); with several notes, every note
  moves by the same interval;
* Start, as bar:beat:tick (1-based bar and beat, as the transport shows it); several notes move
  together;
* Length in beats (quarter notes) and Velocity (1-127), set on every selected note;
* Key: the project's key, or, when it has none, the key the notes suggest ("Key: C major?"), with
  Use to make it the project's key (and so the scale the roll highlights).

Every edit is one ``Document.apply``; a burst of changes to one field (a spin box being scrolled)
merges into one undo step.
"""

from __future__ import annotations

import re
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QLineEdit, QSpinBox, QToolBar, QToolButton, QWidget

from composer_app.core.note import Note
from composer_app.core.theory import PITCH_CLASS_NAMES, estimate_key
from composer_app.core.timing import BarPosition
from composer_app.ui.selection import Selection
from composer_app.ui.signals import app_signals
from composer_app.ui.transport_bar import KeepTypingKeys

_NAME = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭]?)\s*(-?\d+)\s*$")
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def pitch_name(pitch: int) -> str:
    """60 -> "C4" (middle C is C4, as most DAWs and the keyboard show it)."""
    return f"{PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"


def parse_pitch(text: str) -> int:
    """"C#4", "Db4", "c4", "61" -> a MIDI pitch; raises ValueError."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        pitch = int(text)
    else:
        match = _NAME.match(text)
        if match is None:
            raise ValueError(f"“{text}” is not a note: type e.g. C#4 or 61")
        letter, accidental, octave = match.groups()
        pitch = (int(octave) + 1) * 12 + _LETTER_PC[letter.upper()] + (1 if accidental in "#♯" and accidental else 0)
        pitch -= 1 if accidental in ("b", "♭") else 0
    if not 0 <= pitch <= 127:
        raise ValueError("pitch must be in range 0..127 (C-1 to G9)")
    return pitch


def parse_position(text: str, signatures) -> int:
    """"3:2:120", "3:2", "3" (1-based bar, beat, then ticks) -> a tick; raises ValueError."""
    parts = [p for p in re.split(r"[:.\s]+", text.strip()) if p]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"“{text.strip()}” is not a position: type bar:beat:tick, e.g. 3:2:0") from None
    if not 1 <= len(numbers) <= 3 or numbers[0] < 1 or (len(numbers) > 1 and numbers[1] < 1):
        raise ValueError(f"“{text.strip()}” is not a position: bars and beats count from 1")
    bar = numbers[0]
    beat = numbers[1] if len(numbers) > 1 else 1
    tick = numbers[2] if len(numbers) > 2 else 0
    if tick < 0:
        raise ValueError("ticks must be >= 0")
    return signatures.position_to_tick(BarPosition(bar - 1, beat - 1, tick))


class PitchSpinBox(QSpinBox):
    """A pitch shown as "C#4"; typed as a name or a number."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setRange(0, 127)

    def textFromValue(self, value: int) -> str:  # noqa: N802 - Qt API
        return pitch_name(value)

    def valueFromText(self, text: str) -> int:  # noqa: N802
        try:
            return parse_pitch(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D102
        try:
            parse_pitch(text)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            return QValidator.State.Intermediate, text, pos


class NoteInspector(QToolBar):
    """The inspector row (above the roll): edits the selected notes of the edited track."""

    def __init__(self, document, editor, parent: QWidget | None = None):
        super().__init__("Note inspector", parent)
        self.setObjectName("toolbar_inspector")
        self.document = document
        self.editor = editor
        self._showing = False
        self.count = QLabel("No notes selected")
        self.count.setObjectName("inspector_count")
        self.count.setMinimumWidth(110)
        self.addWidget(self.count)
        self.pitch = PitchSpinBox()
        self.pitch.setObjectName("inspector_pitch")
        self.pitch.setToolTip("Pitch: type a name (C#4, Db4) or a number (61); several notes move by the same interval")
        self.start = QLineEdit()
        self.start.setObjectName("inspector_start")
        self.start.setToolTip("Start as bar:beat:tick (from 1:1:0); several notes move together")
        self.start.setMaximumWidth(90)
        self.length = QDoubleSpinBox()
        self.length.setObjectName("inspector_length")
        self.length.setRange(1 / 480, 1024.0)
        self.length.setDecimals(3)
        self.length.setSingleStep(0.25)
        self.length.setSuffix(" beats")
        self.length.setSpecialValueText("—")  # (nothing selected)
        self.length.setToolTip("Length in beats (quarter notes): 0.5 is an eighth, 1.5 a dotted quarter")
        self.velocity = QSpinBox()
        self.velocity.setObjectName("inspector_velocity")
        self.velocity.setRange(1, 127)
        self.velocity.setToolTip("Velocity (1-127)")
        for label, field in (("Pitch", self.pitch), ("Start", self.start), ("Length", self.length), ("Vel", self.velocity)):
            self.addWidget(QLabel(f" {label} "))
            self.addWidget(field)
        for field in (self.pitch, self.length, self.velocity):
            field.setKeyboardTracking(False)  # typed values apply on Enter; arrows and the wheel at once
        self._keys = KeepTypingKeys(self)  # Enter applies the field (it is not "play from start" here)
        for field in (self.pitch, self.start, self.length, self.velocity):
            field.installEventFilter(self._keys)
            if hasattr(field, "lineEdit"):
                field.lineEdit().installEventFilter(self._keys)
        self.addSeparator()
        self.key_label = QLabel()
        self.key_label.setObjectName("inspector_key")
        self.addWidget(self.key_label)
        self.use_key = QToolButton()
        self.use_key.setObjectName("inspector_use_key")
        self.use_key.setText("Use")
        self.use_key.setToolTip("Make the estimated key the project's key (the roll highlights its scale)")
        self.use_key.clicked.connect(self.use_estimated_key)
        self.use_key_action = self.addWidget(self.use_key)  # a toolbar shows or hides its widgets by their action
        self._estimate = None

        self.pitch.valueChanged.connect(self._pitch_edited)
        self.start.editingFinished.connect(self._start_edited)
        self.length.valueChanged.connect(self._length_edited)
        self.velocity.valueChanged.connect(self._velocity_edited)
        document.selection_changed.connect(self.refresh)
        document.project_changed.connect(lambda _old, _new: self.refresh())
        document.current_track_changed.connect(lambda _i: self.refresh())
        self.refresh()

    # --- showing -------------------------------------------------------------------------------------
    def _selected(self) -> list[Note]:
        return sorted(self.document.selected_notes())

    def refresh(self) -> None:
        notes = self._selected()
        self._showing = True
        try:
            for field in (self.pitch, self.start, self.length, self.velocity):
                field.setEnabled(bool(notes))
            if notes:
                first = notes[0]
                project = self.document.project
                self.count.setText(f"{len(notes)} note{'s' if len(notes) != 1 else ''}" + (" (first shown)" if len(notes) > 1 else ""))
                self.pitch.setValue(first.pitch)
                position = project.time_signatures.tick_to_position(first.start_tick)
                if not self.start.hasFocus():
                    self.start.setText(f"{position.bar + 1}:{position.beat + 1}:{position.tick_in_beat}")
                self.length.setValue(first.duration_ticks / project.ticks_per_quarter)
                self.velocity.setValue(first.velocity)
            else:
                self.count.setText("No notes selected")
                self.start.clear()
        finally:
            self._showing = False
        self._show_key()

    def _show_key(self) -> None:
        project = self.document.project
        self._estimate = None
        if project.key is not None:
            self.key_label.setText(f" Key: {project.key.name} ")
            self.key_label.setToolTip("The project's key (Key menu in the transport bar); the roll highlights its scale")
            self.use_key_action.setVisible(False)
            return
        notes = [n for t in project.tracks if not t.is_drums for n in t.notes]
        estimate = estimate_key(notes) if len(notes) >= 3 else None
        if estimate is None:
            self.key_label.setText(" Key: none ")
            self.use_key_action.setVisible(False)
            return
        self._estimate = estimate.key
        self.key_label.setText(f" Key: {estimate.key.name}? ")
        self.key_label.setToolTip(f"No key is set; the notes sound like {estimate.key.name} (estimated). Use makes it the key.")
        self.use_key_action.setVisible(True)

    # --- editing -----------------------------------------------------------------------------------------
    def _apply(self, changed: dict[Note, Note], text: str, merge_key: str) -> None:
        track = self.document.current_track
        if track is None or not changed:
            return
        remaining = dict(changed)
        notes, selected = [], []
        for n in track.notes:
            if n in remaining:
                new = remaining.pop(n)
                notes.append(new)
                selected.append(new)
            else:
                notes.append(n)
        self.document.apply_track_notes(notes, text, selection=Selection(selected), merge_key=merge_key)

    def _edit(self, make, text: str, merge_key: str) -> None:
        if self._showing:
            return
        notes = self._selected()
        try:
            changed = {n: make(n, notes[0]) for n in notes}
        except ValueError as error:
            app_signals().status_message.emit(f"{text}: {error}", 5000)
            self.refresh()
            return
        self._apply({a: b for a, b in changed.items() if a != b}, text, merge_key)

    def _pitch_edited(self, pitch: int) -> None:
        self._edit(lambda n, first: n.with_pitch(n.pitch + pitch - first.pitch), "Set pitch", "inspector-pitch")
        notes = self._selected()
        if notes and not self._showing:
            self.editor.audition(notes[0])

    def _start_edited(self) -> None:
        if self._showing or not self._selected():
            return
        try:
            tick = parse_position(self.start.text(), self.document.project.time_signatures)
        except ValueError as error:
            app_signals().status_message.emit(f"Start unchanged: {error}", 5000)
            self.refresh()
            return
        self._edit(lambda n, first: n.with_start(n.start_tick + tick - first.start_tick), "Move notes", "inspector-start")

    def _length_edited(self, beats: float) -> None:
        ticks = max(1, round(beats * self.document.project.ticks_per_quarter))
        self._edit(lambda n, first: n.with_duration(ticks), "Set length", "inspector-length")

    def _velocity_edited(self, velocity: int) -> None:
        self._edit(lambda n, first: n.with_velocity(velocity), "Set velocity", "inspector-velocity")

    def use_estimated_key(self) -> None:
        if self._estimate is not None:
            project = self.document.project
            self.document.apply(replace(project, key=self._estimate), f"Set key: {self._estimate.name}")
