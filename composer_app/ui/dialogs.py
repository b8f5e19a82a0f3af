"""Small dialogs: quantize, transpose, velocity, and the keyboard shortcuts editor."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QPushButton,
    QRadioButton,
    QSlider,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from composer_app.ui.actions import all_collections
from composer_app.ui.piano_roll.view_state import SNAP_LABELS


def _buttons(dialog: QDialog) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def _percent_slider(value: int) -> tuple[QSlider, QLabel, QWidget]:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(value)
    label = QLabel(f"{value} %")
    label.setMinimumWidth(44)
    slider.valueChanged.connect(lambda v: label.setText(f"{v} %"))
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(slider)
    layout.addWidget(label)
    return slider, label, row


class QuantizeDialog(QDialog):
    """Grid, strength and swing for quantizing the selection (or every note)."""

    def __init__(self, grid_label: str, strength_percent: int, swing_percent: int, quantize_ends: bool, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Quantize")
        self.grid = QComboBox()
        self.grid.addItems([label for label in SNAP_LABELS if label != "Off"])
        self.grid.setCurrentText(grid_label if grid_label != "Off" else "1/16")
        self.strength, _, strength_row = _percent_slider(strength_percent)
        self.swing, _, swing_row = _percent_slider(swing_percent)
        self.ends = QCheckBox("Also quantize note lengths")
        self.ends.setChecked(quantize_ends)
        form = QFormLayout(self)
        form.addRow("Grid", self.grid)
        form.addRow("Strength", strength_row)
        form.addRow("Swing", swing_row)
        form.addRow(self.ends)
        form.addRow(_buttons(self))

    def values(self) -> tuple[str, int, int, bool]:
        return self.grid.currentText(), self.strength.value(), self.swing.value(), self.ends.isChecked()


class TransposeDialog(QDialog):
    """Semitones, or steps of a scale: the project's key, else the key estimated from the notes.

    With neither (no key, no pitched notes) the scale option is off and says why.
    """

    def __init__(self, parent=None, key=None, estimated: bool = False):
        super().__init__(parent)
        self.setWindowTitle("Transpose")
        self.key = key
        self.semitones = QSpinBox()
        self.semitones.setRange(-48, 48)
        self.semitones.setSuffix(" semitones")
        if key is None:
            self.in_scale = QCheckBox("Steps of the key: no key set and no notes to estimate one from")
            self.in_scale.setEnabled(False)
        elif estimated:
            self.in_scale = QCheckBox(f"Steps of {key.name} (estimated from the notes; no key is set)")
        else:
            self.in_scale = QCheckBox(f"Steps of the project's key, {key.name} (diatonic)")
        self.in_scale.setObjectName("transpose_in_scale")
        self.in_scale.toggled.connect(
            lambda on: self.semitones.setSuffix(" scale steps" if on else " semitones")
        )
        form = QFormLayout(self)
        form.addRow("Transpose by", self.semitones)
        form.addRow(self.in_scale)
        form.addRow(_buttons(self))


class VelocityDialog(QDialog):
    def __init__(self, velocity: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Velocity")
        self.set_radio = QRadioButton("Set to")
        self.add_radio = QRadioButton("Change by")
        self.set_radio.setChecked(True)
        self.value = QSpinBox()
        self.value.setRange(1, 127)
        self.value.setValue(velocity)
        self.delta = QSpinBox()
        self.delta.setRange(-126, 126)
        form = QFormLayout(self)
        form.addRow(self.set_radio, self.value)
        form.addRow(self.add_radio, self.delta)
        form.addRow(_buttons(self))


class ShortcutsDialog(QDialog):
    """Every action of every collection, with an editor for its shortcut (saved in the settings)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 520)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Action", "Shortcut"])
        self.tree.setColumnWidth(0, 300)
        self.editor = QKeySequenceEdit()
        self.editor.setEnabled(False)
        clear = QPushButton("Clear")
        reset = QPushButton("Default")
        apply_button = QPushButton("Set")
        row = QHBoxLayout()
        row.addWidget(QLabel("Shortcut:"))
        row.addWidget(self.editor, 1)
        row.addWidget(apply_button)
        row.addWidget(clear)
        row.addWidget(reset)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addLayout(row)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self._populate()
        self.tree.currentItemChanged.connect(self._on_current)
        apply_button.clicked.connect(lambda: self._set([self.editor.keySequence()]))
        clear.clicked.connect(lambda: self._set([]))
        reset.clicked.connect(self._reset)

    def _populate(self) -> None:
        self.tree.clear()
        for collection in all_collections():
            parent = QTreeWidgetItem([collection.title, ""])
            parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(parent)
            for name, action in collection.items():
                item = QTreeWidgetItem([action.text().replace("&", ""), _shortcut_text(action.shortcuts())])
                item.setData(0, Qt.ItemDataRole.UserRole, (collection, name))
                parent.addChild(item)
            parent.setExpanded(True)

    def _current(self):
        item = self.tree.currentItem()
        data = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return item, data

    def _on_current(self, item, _previous) -> None:
        data = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        self.editor.setEnabled(data is not None)
        if data is not None:
            collection, name = data
            shortcuts = collection[name].shortcuts()
            self.editor.setKeySequence(shortcuts[0] if shortcuts else QKeySequence())

    def _set(self, sequences) -> None:
        item, data = self._current()
        if data is None:
            return
        collection, name = data
        sequences = [s for s in sequences if not s.isEmpty()]
        collection.set_shortcuts(name, sequences)
        item.setText(1, _shortcut_text(sequences))

    def _reset(self) -> None:
        item, data = self._current()
        if data is not None:
            collection, name = data
            self._set(list(collection.default_shortcuts[name]))


def _shortcut_text(sequences) -> str:
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences)
