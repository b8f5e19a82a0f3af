"""The track list: colour, name, GM instrument, MIDI channel, volume, pan, mute and solo; add, remove, reorder.

The highlighted row is the track being edited (the piano roll shows the others faded in their
colours; clicking one of their notes there makes it the edited track too). Volume and pan go out
as controllers 7 and 10 when playing and into exported MIDI files.

Every change goes through ``Document.apply`` (undoable). The list is rebuilt from the project
whenever it changes (projects have few tracks, so this is cheap and never out of sync).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from composer_app.core.limits import cut_text
from composer_app.core.track import Track
from composer_app.ui.document import Document
from composer_app.ui.gm import GM_PROGRAM_NAMES
from composer_app.ui.theme import track_color


def pan_text(pan: int) -> str:
    """64 -> "C", 0 -> "L64", 127 -> "R63" (as mixers show pan)."""
    return "C" if pan == 64 else (f"L{64 - pan}" if pan < 64 else f"R{pan - 64}")


class TrackRow(QWidget):
    """One row: name, instrument, channel, M and S buttons."""

    def __init__(self, panel: TrackListPanel, index: int, track: Track):
        super().__init__()
        self.panel = panel
        self.index = index
        self.name = QLineEdit(track.name)
        self.name.setObjectName("track_name")
        self.program = QComboBox()
        self.program.setObjectName("track_program")
        self.program.addItems([f"{i + 1:3d} {name}" for i, name in enumerate(GM_PROGRAM_NAMES)])
        self.program.setCurrentIndex(track.program)
        self.program.setMaxVisibleItems(20)
        self.program.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.program.setMinimumContentsLength(5)
        self.channel = QSpinBox()
        self.channel.setObjectName("track_channel")
        self.channel.setRange(1, 16)
        self.channel.setValue(track.channel + 1)
        self.channel.setPrefix("ch ")
        self.channel.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)  # typed or scrolled: narrow
        self.channel.setMaximumWidth(48)
        self.channel.setToolTip("MIDI channel (10 = drums)")
        self.mute = QToolButton()
        self.mute.setText("M")
        self.mute.setCheckable(True)
        self.mute.setChecked(track.mute)
        self.mute.setToolTip("Mute")
        self.solo = QToolButton()
        self.solo.setText("S")
        self.solo.setCheckable(True)
        self.solo.setChecked(track.solo)
        self.solo.setToolTip("Solo")
        self.swatch = QLabel()
        self.swatch.setObjectName("track_color")
        self.swatch.setFixedWidth(6)
        self.swatch.setStyleSheet(f"background: {track_color(index).name()}; border-radius: 2px;")
        self.swatch.setToolTip("The colour of this track's notes in the piano roll")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setObjectName("track_volume")
        self.volume.setRange(0, 127)
        self.volume.setValue(track.volume)
        self.volume.setToolTip(f"Volume (CC7): {track.volume}")
        self.volume.setAccessibleName("Volume")
        self.pan = QSlider(Qt.Orientation.Horizontal)
        self.pan.setObjectName("track_pan")
        self.pan.setRange(0, 127)
        self.pan.setValue(track.pan)
        self.pan.setToolTip(f"Pan (CC10): {pan_text(track.pan)}; double-click the label to centre")
        self.pan.setAccessibleName("Pan")
        mix = QHBoxLayout()
        mix.setSpacing(3)
        for label, slider in (("Vol", self.volume), ("Pan", self.pan)):
            text = QLabel(label)
            text.setToolTip(slider.toolTip())
            mix.addWidget(text)
            mix.addWidget(slider, 1)
        grid = QGridLayout(self)
        grid.setContentsMargins(2, 3, 4, 3)
        grid.setSpacing(3)
        grid.addWidget(self.swatch, 0, 0, 3, 1)
        grid.addWidget(self.name, 0, 1, 1, 2)
        grid.addWidget(self.mute, 0, 3)
        grid.addWidget(self.solo, 0, 4)
        grid.addWidget(self.program, 1, 1)
        grid.addWidget(self.channel, 1, 2, 1, 3)
        grid.addLayout(mix, 2, 1, 1, 4)
        grid.setColumnStretch(1, 1)
        self.name.editingFinished.connect(self._rename)
        self.program.activated.connect(lambda p: self._change("Change instrument", program=p))
        self.channel.valueChanged.connect(lambda c: self._change("Change channel", merge=True, channel=c - 1))
        self.mute.toggled.connect(lambda on: self._change("Mute track" if on else "Unmute track", mute=on))
        self.solo.toggled.connect(lambda on: self._change("Solo track" if on else "Unsolo track", solo=on))
        self.volume.valueChanged.connect(lambda v: self._change("Change volume", merge=True, volume=v))
        self.pan.valueChanged.connect(lambda v: self._change("Change pan", merge=True, pan=v))

    def mousePressEvent(self, event) -> None:  # noqa: N802
        """A click anywhere on the row (not only on its free space) makes it the edited track."""
        self.panel.document.set_current_track(self.index)
        super().mousePressEvent(event)

    def _rename(self) -> None:
        name = cut_text(self.name.text())  # a pasted page of text keeps its first MAX_NAME_BYTES
        if name != self.name.text():
            self.name.setText(name)
        self._change("Rename track", name=name)

    def _change(self, text: str, merge: bool = False, **values) -> None:
        document = self.panel.document
        project = document.project
        if self.index >= len(project.tracks):
            return
        track = project.tracks[self.index]
        if all(getattr(track, k) == v for k, v in values.items()):
            return
        if "channel" in values:  # the notes follow the track's channel
            values["notes"] = tuple(n.with_channel(values["channel"]) for n in track.notes)
        document.apply(
            project.replace_track(self.index, replace(track, **values)),
            text,
            merge_key=f"track-{self.index}-{text}" if merge else None,
        )


class TrackListPanel(QWidget):
    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.list = QListWidget()
        self.list.setObjectName("track_list")
        buttons = QHBoxLayout()
        self.add_button = self._button("+", "Add a track", self.add_track)
        self.remove_button = self._button("−", "Remove the selected track", self.remove_track)
        self.up_button = self._button("▲", "Move the track up", lambda: self.move_track(-1))
        self.down_button = self._button("▼", "Move the track down", lambda: self.move_track(1))
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.list)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMinimumWidth(180)
        self.list.currentRowChanged.connect(self._on_row_changed)
        document.project_changed.connect(self._on_project_changed)
        document.current_track_changed.connect(self._on_current_track)
        self.rebuild()

    def sizeHint(self) -> QSize:  # noqa: N802 - room for three tracks before the list scrolls
        return QSize(230, 300)

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _on_project_changed(self, old, new) -> None:
        if old.tracks != new.tracks:
            def fields(t):
                return (t.name, t.program, t.channel, t.mute, t.solo, t.volume, t.pan)

            if len(old.tracks) == len(new.tracks) and all(fields(a) == fields(b) for a, b in zip(old.tracks, new.tracks)):
                self._update_counts()
                return
            if len(old.tracks) == len(new.tracks) and all(
                fields(a)[:5] == fields(b)[:5] for a, b in zip(old.tracks, new.tracks)
            ):
                self._show_mix(new)  # a volume or pan change: keep the sliders (one may be dragged)
                return
            self.rebuild()

    def rebuild(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for i, track in enumerate(self.document.project.tracks):
            item = QListWidgetItem()
            row = TrackRow(self, i, track)
            item.setSizeHint(QSize(row.minimumSizeHint().width(), row.sizeHint().height()))  # rows follow the list's width
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
        self.list.setCurrentRow(self.document.current_track_index)
        self.list.blockSignals(False)
        self._update_counts()

    def _show_mix(self, project) -> None:
        for i, track in enumerate(project.tracks):
            row = self.list.itemWidget(self.list.item(i))
            if row is None:
                continue
            for slider, value in ((row.volume, track.volume), (row.pan, track.pan)):
                if slider.value() != value:
                    slider.blockSignals(True)
                    slider.setValue(value)
                    slider.blockSignals(False)
            row.volume.setToolTip(f"Volume (CC7): {track.volume}")
            row.pan.setToolTip(f"Pan (CC10): {pan_text(track.pan)}")
        self._update_counts()

    def _update_counts(self) -> None:
        for i, track in enumerate(self.document.project.tracks):
            widget = self.list.itemWidget(self.list.item(i))
            if widget is not None:
                widget.name.setToolTip(f"{len(track.notes)} notes")

    def _on_row_changed(self, row: int) -> None:
        if row >= 0:
            self.document.set_current_track(row)

    def _on_current_track(self, index: int) -> None:
        if self.list.currentRow() != index:
            self.list.blockSignals(True)
            self.list.setCurrentRow(index)
            self.list.blockSignals(False)

    def add_track(self) -> None:
        project = self.document.project
        used = {t.channel for t in project.tracks}
        channel = next((c for c in range(16) if c not in used and c != 9), 0)
        track = Track(f"Track {len(project.tracks) + 1}", program=0, channel=channel)
        self.document.apply(project.with_tracks([*project.tracks, track]), "Add track", current_track=len(project.tracks))

    def remove_track(self) -> None:
        project = self.document.project
        index = self.document.current_track_index
        if index < 0:
            return
        tracks = [t for i, t in enumerate(project.tracks) if i != index]
        self.document.apply(project.with_tracks(tracks), "Remove track", current_track=min(index, len(tracks) - 1))

    def move_track(self, step: int) -> None:
        project = self.document.project
        index = self.document.current_track_index
        target = index + step
        if index < 0 or not 0 <= target < len(project.tracks):
            return
        tracks = list(project.tracks)
        tracks[index], tracks[target] = tracks[target], tracks[index]
        self.document.apply(project.with_tracks(tracks), "Move track", current_track=target)
