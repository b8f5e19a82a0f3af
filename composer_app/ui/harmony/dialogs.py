"""The Harmony feature's dialogs: pick a chord progression, set up an accompaniment.

Both are modeless, compute with the Qt-free ``composer_app.arrange`` functions (numpy only, a few
milliseconds) and change the document only through the feature (one undo step per accept).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from composer_app.arrange.accompany import BASS_REGISTERS, STYLES, STYLE_NAMES, accompany, default_style
from composer_app.arrange.suggest import suggest_chords
from composer_app.core.chords import roman_numeral
from composer_app.ui.gm import GM_PROGRAM_NAMES

RHYTHMS = (("From the mood", None), ("One chord per bar", "bar"), ("Two per bar", "half"), ("One per beat", 1))
BASS_CHOICES = (32, 33, 42, 43, 35, 38)  # acoustic, finger, cello, contrabass, fretless, synth bass


class SuggestChordsDialog(QDialog):
    """Alternatives for the span, each auditionable; Accept puts the chosen one into the chord track."""

    def __init__(self, feature, span, parent=None):
        super().__init__(parent)
        self.setObjectName("suggest_chords_dialog")
        self.setWindowTitle("Suggest chords")
        self.feature = feature
        self.span = span
        self.seed = 0
        self.options = []
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.rhythm = QComboBox()
        for text, value in RHYTHMS:
            self.rhythm.addItem(text, value)
        self.sevenths = QCheckBox("Seventh chords")
        self.sevenths.setChecked(True)
        form.addRow("Harmonic rhythm", self.rhythm)
        form.addRow("", self.sevenths)
        layout.addLayout(form)
        self.summary = QLabel()
        self.summary.setObjectName("suggest_chords_summary")
        layout.addWidget(self.summary)
        self.list = QListWidget()
        self.list.setObjectName("chord_options")
        self.list.setMinimumWidth(560)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.audition_button = QPushButton("&Audition")
        self.more_button = QPushButton("&More")
        row.addWidget(self.audition_button)
        row.addWidget(self.more_button)
        row.addStretch(1)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("A&ccept")
        self.accept_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept_selected)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.audition_button.clicked.connect(self.audition_selected)
        self.more_button.clicked.connect(self.more)
        self.rhythm.currentIndexChanged.connect(lambda _i: self.compute())
        self.sevenths.toggled.connect(lambda _on: self.compute())
        self.list.itemDoubleClicked.connect(lambda _item: self.audition_selected())
        self.compute()

    def _span_beats(self, beats_per_bar: int) -> int | None:
        value = self.rhythm.currentData()
        if value == "bar":
            return beats_per_bar
        if value == "half":
            return max(1, beats_per_bar // 2)
        return value

    def compute(self) -> None:
        from composer_app.ui.harmony.feature import document_mood

        project = self.feature.document.project
        valence, arousal = document_mood(project)
        first = project.time_signatures.change_at(self.span.start_tick)
        self.options = suggest_chords(project, notes=self.span.notes, start_tick=self.span.start_tick,
                                      end_tick=self.span.end_tick, valence=valence, arousal=arousal, alternatives=4,
                                      span_beats=self._span_beats(first.numerator), sevenths=self.sevenths.isChecked(),
                                      seed=self.seed)
        self.list.clear()
        for number, option in enumerate(self.options, start=1):
            romans = " ".join(roman_numeral(e.chord, option.tonic_pc, option.minor) for e in option.chords)
            item = QListWidgetItem(f"{number}.  {'  '.join(option.symbols)}\n      {romans}")
            item.setToolTip(f"{option.label}; log score {option.log_score:.1f}")
            self.list.addItem(item)
        if self.options:
            from composer_app.core.chords import PITCH_CLASS_DEFAULT

            o = self.options[0]
            self.summary.setText(f"{len(self.options)} progressions in {PITCH_CLASS_DEFAULT[o.tonic_pc]} "
                                 f"{'minor' if o.minor else 'major'} (mood: valence {valence:+.1f}, arousal {arousal:+.1f})")
            self.list.setCurrentRow(0)
        else:
            self.summary.setText("No progression found for these notes")
        self.accept_button.setEnabled(bool(self.options))

    def more(self) -> None:
        self.seed += 1
        self.compute()

    def selected_option(self):
        row = self.list.currentRow()
        return self.options[row] if 0 <= row < len(self.options) else None

    def audition_project(self, option):
        """The document with the option's chords played as a soft block-chord track (not applied)."""
        project = self.feature.document.project
        from composer_app.arrange.accompany import free_channels

        channel = free_channels(project.tracks, 1)[0]
        block_chords = replace(STYLES["block"], bass_program=None)
        pad = accompany(option.chords, project.time_signatures, block_chords, channel=channel,
                        start_tick=self.span.start_tick, end_tick=self.span.end_tick).tracks
        return project.with_tracks(project.tracks + tuple(pad))

    def audition_selected(self) -> None:
        option = self.selected_option()
        playback = getattr(self.feature.window, "playback", None)
        if option is None or playback is None:
            return
        if not playback.play(self.audition_project(option), self.span.start_tick):
            self.feature.say(f"Cannot audition: {playback.status_text()}")

    def accept_selected(self) -> None:
        option = self.selected_option()
        if option is None:
            return
        row = self.list.currentRow() + 1
        self.feature.accept_chords(option.chords, self.span, f"Accept chord progression {row}")
        self.accept()


class AccompanyDialog(QDialog):
    """Style and instruments of an accompaniment (defaults from the mood and meter)."""

    def __init__(self, feature, parent=None):
        super().__init__(parent)
        from composer_app.ui.harmony.feature import document_mood

        self.setObjectName("accompany_dialog")
        self.setWindowTitle("Accompany")
        self.feature = feature
        project = feature.document.project
        valence, arousal = document_mood(project)
        first = project.time_signatures.changes[0]
        chosen = default_style(valence, arousal, first.numerator, first.denominator)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.style_combo = QComboBox()
        self.style_combo.setObjectName("accompany_style")
        for name in STYLE_NAMES:
            self.style_combo.addItem(f"{name} — {STYLES[name].description}", name)
        self.instrument = QComboBox()
        self.instrument.setObjectName("accompany_instrument")
        for program, name in enumerate(GM_PROGRAM_NAMES):
            self.instrument.addItem(f"{program + 1}. {name}", program)
        self.bass = QComboBox()
        self.bass.setObjectName("accompany_bass")
        self.bass.addItem("No bass", None)
        for program in BASS_CHOICES:
            self.bass.addItem(f"{program + 1}. {GM_PROGRAM_NAMES[program]}", program)
        form.addRow("Style", self.style_combo)
        form.addRow("Instrument", self.instrument)
        form.addRow("Bass", self.bass)
        layout.addLayout(form)
        hint = QLabel(f"Suggested for this mood (valence {valence:+.1f}, arousal {arousal:+.1f}) and "
                      f"{first.numerator}/{first.denominator}: {chosen}. Without chords, they are found first.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Add tracks")
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.style_combo.currentIndexChanged.connect(self._style_changed)
        self.style_combo.setCurrentIndex(STYLE_NAMES.index(chosen))
        self._style_changed()

    def _style_changed(self) -> None:
        style = STYLES[self.style_combo.currentData()]
        self.instrument.setCurrentIndex(style.program)
        index = self.bass.findData(style.bass_program) if style.bass_program is not None else 0
        self.bass.setCurrentIndex(max(0, index))

    def set_choice(self, style: str, program: int, bass_program: int | None) -> None:
        self.style_combo.setCurrentIndex(STYLE_NAMES.index(style))
        self.instrument.setCurrentIndex(program)
        self.bass.setCurrentIndex(max(0, self.bass.findData(bass_program)) if bass_program is not None else 0)

    def apply(self) -> None:
        self.feature.apply_accompaniment(self.style_combo.currentData(), self.instrument.currentData(), self.bass.currentData())
        self.accept()
