"""The mood panel (a dock): where the composer says what the continuation should feel like.

* a 2-D valence/arousal pad (:class:`MoodPad`): drag the point, click a labelled preset point;
  axes read sad ↔ happy and calm ↔ excited; numeric sliders for both axes beside it;
* presets (the built-in ones of ``composer_app.mood`` and the user's own, kept in ``QSettings``);
* "Advanced": the attribute targets the mood implies (``targets_for``), each with its own slider
  that overrides it and a reset button;
* a story text box: a line of the scene is read into a mood (``composer_app.mood.text.read_mood``);
  the panel shows the emotion read, how sure, and the words why; Accept puts it on the pad, Adjust
  puts it there and hands the pad the focus;
* generation settings: generator, bars (1–32), candidates (1–16), temperature (0–2), seed with
  lock and reroll, key constraint.

Above Suggest, one line says which mood Suggest will use, and warns when the story text reads as
another mood that has not been accepted (visible input is never ignored silently).

The mood and the settings are part of the project: every change is written into
``project.settings["suggest"]`` through the document's one mutation path (``Document.apply``),
debounced and merged into one undo step per burst of changes; opening a project (or undoing) puts
the stored values back into the panel. An unlocked seed is not part of the document: Suggest draws
a fresh one without editing anything (generating is not an edit); a locked seed is stored.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from composer_app.mood.mood import PRESETS, Mood, nearest_preset
from composer_app.mood.targets import ATTRIBUTE_TABLE, RULES, AttributeTargets, targets_for
from composer_app.ui.generation_jobs import COMPARE_GENERATORS

SETTINGS_KEY = "suggest"  # project.settings[SETTINGS_KEY] holds the panel's state
USER_PRESETS_KEY = "mood/user_presets"  # QSettings key: JSON {name: [valence, arousal]}
SEED_MAX = 2**31 - 1
KEY_CONSTRAINTS = (
    ("clip", "Lean into the clip's key"),
    ("strict", "Strictly in the clip's key"),
    ("off", "No key constraint"),
)
_NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
PRESET_HIT_RADIUS = 9.0  # pixels: a click this close to a preset point picks the preset

DEFAULT_SETTINGS: dict[str, Any] = {
    "mood": {"valence": 0.0, "arousal": 0.0},
    "overrides": {},
    "generator": None,
    "bars": 4,
    "candidates": 4,
    "temperature": 1.0,
    "seed": 1,
    "seed_locked": False,
    "key_constraint": "clip",
    "story": "",
}


# --------------------------------------------------------------------------------------------
class MoodPad(QWidget):
    """The valence (x: sad ← → happy) / arousal (y: calm ↓ ↑ excited) plane with preset points.

    Drag anywhere to move the point; click a preset's dot to jump to it; arrow keys nudge by 0.05
    (Shift: 0.2). ``mood_changed`` fires on every move, ``mood_committed`` when a gesture ends.
    """

    mood_changed = Signal(object)  # Mood, while dragging too
    mood_committed = Signal(object)  # Mood, once per gesture (release, key press, preset click)
    preset_clicked = Signal(str)

    MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 34, 40, 20, 20

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._mood = Mood()
        self._dragging = False
        self._extra_points: dict[str, Mood] = {}
        self.setMinimumSize(200, 170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setToolTip("Drag the point, or click a named mood. Arrow keys nudge it.")
        self.setAccessibleName("Mood pad: valence (sad to happy) and arousal (calm to excited)")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(280, 250)

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return int(width * 0.9)

    # --- geometry ------------------------------------------------------------------------
    def plane_rect(self) -> QRectF:
        return QRectF(
            self.MARGIN_LEFT,
            self.MARGIN_TOP,
            max(10, self.width() - self.MARGIN_LEFT - self.MARGIN_RIGHT),
            max(10, self.height() - self.MARGIN_TOP - self.MARGIN_BOTTOM),
        )

    def mood_to_point(self, mood: Mood) -> QPointF:
        r = self.plane_rect()
        return QPointF(r.left() + (mood.valence + 1) / 2 * r.width(), r.bottom() - (mood.arousal + 1) / 2 * r.height())

    def point_to_mood(self, point: QPointF) -> Mood:
        r = self.plane_rect()
        valence = (point.x() - r.left()) / r.width() * 2 - 1
        arousal = (r.bottom() - point.y()) / r.height() * 2 - 1
        return Mood.clamped(round(valence, 3), round(arousal, 3))

    # --- state ---------------------------------------------------------------------------
    @property
    def mood(self) -> Mood:
        return self._mood

    def set_mood(self, mood: Mood, *, emit: bool = False) -> None:
        if mood != self._mood:
            self._mood = mood
            self.update()
            if emit:
                self.mood_changed.emit(mood)

    def set_extra_points(self, points: dict[str, Mood]) -> None:
        """User-saved presets, drawn as hollow points."""
        self._extra_points = dict(points)
        self.update()

    def preset_at(self, point: QPointF) -> str | None:
        best, best_d = None, PRESET_HIT_RADIUS
        for name, mood in [*((p.name, p.mood) for p in PRESETS.values()), *self._extra_points.items()]:
            p = self.mood_to_point(mood)
            d = math.hypot(p.x() - point.x(), p.y() - point.y())
            if d <= best_d:
                best, best_d = name, d
        return best

    def _mood_of_point_name(self, name: str) -> Mood:
        return PRESETS[name].mood if name in PRESETS else self._extra_points[name]

    # --- input ---------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        name = self.preset_at(event.position())
        if name is not None:
            self.set_mood(self._mood_of_point_name(name), emit=True)
            self.preset_clicked.emit(name)
            self.mood_committed.emit(self._mood)
            return
        self._dragging = True
        self.set_mood(self.point_to_mood(event.position()), emit=True)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._dragging:
            self.set_mood(self.point_to_mood(event.position()), emit=True)
        else:
            name = self.preset_at(event.position())
            self.setCursor(Qt.CursorShape.PointingHandCursor if name else Qt.CursorShape.CrossCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._dragging and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = False
            self.set_mood(self.point_to_mood(event.position()), emit=True)
            self.mood_committed.emit(self._mood)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        step = 0.2 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.05
        dv, da = {
            Qt.Key.Key_Left: (-step, 0),
            Qt.Key.Key_Right: (step, 0),
            Qt.Key.Key_Up: (0, step),
            Qt.Key.Key_Down: (0, -step),
        }.get(event.key(), (None, None))
        if dv is None:
            return super().keyPressEvent(event)
        self.set_mood(Mood.clamped(self._mood.valence + dv, self._mood.arousal + da), emit=True)
        self.mood_committed.emit(self._mood)

    # --- painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        r = self.plane_rect()
        base, text = pal.base().color(), pal.text().color()
        # quadrant tints: happy-excited warm, sad-calm blue, tense red, calm-happy green
        tints = (
            (QRectF(r.center().x(), r.top(), r.width() / 2, r.height() / 2), QColor(255, 190, 60, 38)),
            (QRectF(r.left(), r.top(), r.width() / 2, r.height() / 2), QColor(230, 70, 70, 38)),
            (QRectF(r.left(), r.center().y(), r.width() / 2, r.height() / 2), QColor(70, 110, 230, 38)),
            (QRectF(r.center().x(), r.center().y(), r.width() / 2, r.height() / 2), QColor(80, 190, 120, 38)),
        )
        p.fillRect(r, base)
        for rect, color in tints:
            p.fillRect(rect, color)
        grid = QColor(text)
        grid.setAlpha(50)
        p.setPen(QPen(grid, 1))
        p.drawRect(r)
        p.drawLine(QPointF(r.center().x(), r.top()), QPointF(r.center().x(), r.bottom()))
        p.drawLine(QPointF(r.left(), r.center().y()), QPointF(r.right(), r.center().y()))
        # axis labels
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        p.setFont(font)
        p.setPen(text)
        p.drawText(QRectF(0, r.center().y() - 10, self.MARGIN_LEFT - 2, 20), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "sad")
        p.drawText(QRectF(r.right() + 3, r.center().y() - 10, self.MARGIN_RIGHT, 20), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "happy")
        p.drawText(QRectF(r.left(), 0, r.width(), self.MARGIN_TOP), Qt.AlignmentFlag.AlignCenter, "excited")
        p.drawText(QRectF(r.left(), r.bottom(), r.width(), self.MARGIN_BOTTOM), Qt.AlignmentFlag.AlignCenter, "calm")
        dim = QColor(text)
        dim.setAlpha(120)
        p.setPen(dim)
        p.drawText(QRectF(r.left(), r.bottom() - 16, r.width() - 4, 14), Qt.AlignmentFlag.AlignRight, "valence →")
        p.save()
        p.translate(r.left() + 3, r.top() + 4)
        p.rotate(90)
        p.drawText(QRectF(0, -14, r.height(), 14), Qt.AlignmentFlag.AlignLeft, "← arousal")
        p.restore()
        # preset points
        accent = pal.highlight().color()
        for preset in PRESETS.values():
            self._draw_point(p, preset.name, preset.mood, text, filled=True)
        for name, mood in self._extra_points.items():
            self._draw_point(p, name, mood, accent, filled=False)
        # the current mood
        c = self.mood_to_point(self._mood)
        p.setPen(QPen(accent.darker(130), 2))
        p.setBrush(accent)
        p.drawEllipse(c, 7, 7)
        if self.hasFocus():
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(accent, 1, Qt.PenStyle.DashLine))
            p.drawEllipse(c, 11, 11)
        p.end()

    def _draw_point(self, p: QPainter, name: str, mood: Mood, color: QColor, filled: bool) -> None:
        pt = self.mood_to_point(mood)
        dot = QColor(color)
        dot.setAlpha(170)
        p.setPen(QPen(dot, 1.2))
        p.setBrush(dot if filled else Qt.BrushStyle.NoBrush)
        p.drawEllipse(pt, 3.2, 3.2)
        r = self.plane_rect()
        label_right = pt.x() < r.right() - 60
        rect = QRectF(pt.x() + 5, pt.y() - 8, 70, 16) if label_right else QRectF(pt.x() - 75, pt.y() - 8, 70, 16)
        align = (Qt.AlignmentFlag.AlignLeft if label_right else Qt.AlignmentFlag.AlignRight) | Qt.AlignmentFlag.AlignVCenter
        p.setPen(dot)
        p.drawText(rect, align, name)


# --------------------------------------------------------------------------------------------
def _slider_range(rule) -> tuple[float, float]:
    """The range an advanced slider covers: the mood mapping's range widened by a quarter each side."""
    span = rule.high - rule.low
    return max(rule.valid_low, rule.low - span / 4), min(rule.valid_high, rule.high + span / 4)


_LABELS = {
    "note_density": "Density",
    "rhythmic_activity": "Rhythmic activity",
    "pitch_mean": "Register",
    "velocity_mean": "Dynamics",
    "articulation": "Articulation",
    "major_strength": "Mode (minor–major)",
    "consonance": "Consonance",
    "tempo_bpm_factor": "Tempo factor",
}


def _format_value(name: str, value: float) -> str:
    if name == "pitch_mean":
        p = int(round(value))
        return f"{_NOTE_NAMES[p % 12]}{p // 12 - 1} ({value:.0f})"
    if name == "velocity_mean":
        return f"{value:.0f}"
    if name == "major_strength":
        return f"{value:+.2f}"
    if name == "tempo_bpm_factor":
        return f"×{value:.2f}"
    return f"{value:.2f}"


class AttributeRow:
    """One advanced attribute: label, slider, value, reset. Slider units are 1/1000 of the range."""

    STEPS = 1000

    def __init__(self, panel: MoodPanel, grid: QGridLayout, row: int, rule):
        self.name = rule.attribute
        self.rule = rule
        self.low, self.high = _slider_range(rule)
        self.label = QLabel(_LABELS.get(rule.attribute, rule.attribute))
        self.label.setToolTip(f"{rule.unit}; driven by {rule.driven_by}.\n{rule.finding}\n({'; '.join(rule.sources)})")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.STEPS)
        self.slider.setObjectName(f"target_{rule.attribute}")
        self.slider.setAccessibleName(f"{self.label.text()} target")
        self.value = QLabel()
        self.value.setMinimumWidth(64)
        self.reset = QToolButton()
        self.reset.setText("↺")
        self.reset.setToolTip("Back to the value the mood implies")
        self.reset.setObjectName(f"reset_{rule.attribute}")
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.slider, row, 1)
        grid.addWidget(self.value, row, 2)
        grid.addWidget(self.reset, row, 3)
        self.slider.valueChanged.connect(lambda pos: panel._on_target_slider(self, pos))
        self.slider.sliderReleased.connect(panel._schedule_save)
        self.reset.clicked.connect(lambda: panel.reset_override(self.name))

    def to_pos(self, value: float) -> int:
        return round((min(self.high, max(self.low, value)) - self.low) / (self.high - self.low) * self.STEPS)

    def from_pos(self, pos: int) -> float:
        return self.low + pos / self.STEPS * (self.high - self.low)

    def show(self, value: float | None, overridden: bool) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self.to_pos(value if value is not None else self.rule.base))
        self.slider.blockSignals(False)
        self.value.setText("—" if value is None else _format_value(self.name, value))
        font = self.label.font()
        font.setBold(overridden)
        self.label.setFont(font)
        self.value.setFont(font)
        self.reset.setEnabled(overridden)


class MoodPanel(QWidget):
    """The mood dock's contents. Give it the document to keep its state in the project."""

    mood_changed = Signal(object)  # Mood
    targets_changed = Signal(object)  # AttributeTargets (mood + overrides)
    settings_changed = Signal(dict)  # the whole state (what goes into project.settings)
    suggest_requested = Signal()  # the panel's Suggest button
    story_read = Signal(object)  # the MoodReading of the last story text

    def __init__(self, document=None, parent: QWidget | None = None, *, qsettings: QSettings | None = None):
        super().__init__(parent)
        self.setObjectName("MoodPanel")
        self._document = None
        self._qsettings = qsettings if qsettings is not None else QSettings()
        self._mood = Mood()
        self._overrides: dict[str, float] = {}
        self._loading = False
        self._reading = None
        self._save_timer = QTimer(self, singleShot=True, interval=400)
        self._save_timer.timeout.connect(self.save_to_document)
        self._story_timer = QTimer(self, singleShot=True, interval=450)
        self._story_timer.timeout.connect(self.read_story)
        self._build()
        self._refresh_user_presets()
        self._show_mood(emit=False)
        if document is not None:
            self.set_document(document)

    # --- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = self.scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = self.body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)

        # pad
        self.pad = MoodPad()
        self.pad.setObjectName("mood_pad")
        layout.addWidget(self.pad, 3)
        self.pad.mood_changed.connect(lambda mood: self.set_mood(mood, from_pad=True))
        self.pad.mood_committed.connect(lambda _m: self._schedule_save())
        self.pad.preset_clicked.connect(self._on_preset_clicked)

        # numeric sliders
        sliders = QGridLayout()
        self.valence_slider, self.valence_value = self._axis_slider(sliders, 0, "Valence", "sad", "happy")
        self.arousal_slider, self.arousal_value = self._axis_slider(sliders, 1, "Arousal", "calm", "excited")
        layout.addLayout(sliders)

        # presets
        presets = QHBoxLayout()
        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("preset_combo")
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(8)
        self.preset_combo.setToolTip("Mood presets (and your own, saved with Save…)")
        self.preset_combo.activated.connect(self._on_preset_combo)
        presets.addWidget(self.preset_combo, 1)
        self.save_preset_button = QToolButton(text="Save…")
        self.save_preset_button.setToolTip("Save the current mood as your own preset")
        self.save_preset_button.clicked.connect(self._ask_save_preset)
        presets.addWidget(self.save_preset_button)
        self.delete_preset_button = QToolButton(text="Delete")
        self.delete_preset_button.setToolTip("Delete the selected user preset")
        self.delete_preset_button.clicked.connect(self._delete_selected_preset)
        presets.addWidget(self.delete_preset_button)
        layout.addLayout(presets)

        # story text
        story = QGroupBox("Story text")
        story_layout = QVBoxLayout(story)
        self.story_edit = QPlainTextEdit()
        self.story_edit.setObjectName("story_edit")
        self.story_edit.setPlaceholderText("A line of the scene, e.g. “The ship sinks slowly into the dark water”")
        self.story_edit.setFixedHeight(46)
        self.story_edit.textChanged.connect(self._story_timer.start)
        story_layout.addWidget(self.story_edit)
        self.story_result = QLabel("Type a line: the mood it reads appears here.")
        self.story_result.setObjectName("story_result")
        self.story_result.setWordWrap(True)
        self.story_result.setTextFormat(Qt.TextFormat.RichText)
        # Room for the reading's three lines from the start: the buttons below never jump.
        self.story_result.setFixedHeight(self.story_result.fontMetrics().lineSpacing() * 4 + 4)
        self.story_result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        story_layout.addWidget(self.story_result)
        buttons = QHBoxLayout()
        self.story_accept = QPushButton("Accept")
        self.story_accept.setToolTip("Put the mood read from the text on the pad")
        self.story_accept.clicked.connect(self.accept_story)
        self.story_adjust = QPushButton("Adjust…")
        self.story_adjust.setToolTip("Put it on the pad and adjust it from there (arrow keys or drag)")
        self.story_adjust.clicked.connect(self.adjust_story)
        for b in (self.story_accept, self.story_adjust):
            b.setEnabled(False)
            buttons.addWidget(b)
        buttons.addStretch(1)
        story_layout.addLayout(buttons)
        layout.addWidget(story)

        # advanced: attribute targets
        self.advanced_toggle = QToolButton(text="Attribute targets")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        layout.addWidget(self.advanced_toggle)
        self.advanced = QWidget()
        grid = QGridLayout(self.advanced)
        grid.setContentsMargins(0, 0, 0, 0)
        self.rows: dict[str, AttributeRow] = {}
        for i, rule in enumerate(ATTRIBUTE_TABLE):
            self.rows[rule.attribute] = AttributeRow(self, grid, i, rule)
        self.reset_all_button = QPushButton("Reset all to the mood")
        self.reset_all_button.clicked.connect(self.reset_all_overrides)
        grid.addWidget(self.reset_all_button, len(ATTRIBUTE_TABLE), 0, 1, 4)
        self.advanced.setVisible(False)
        layout.addWidget(self.advanced)

        # generation settings: folded under a one-line summary (the pad and Suggest stay in view)
        self.generation_toggle = QToolButton()
        self.generation_toggle.setObjectName("generation_toggle")
        self.generation_toggle.setCheckable(True)
        self.generation_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.generation_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.generation_toggle.toggled.connect(self._toggle_generation)
        layout.addWidget(self.generation_toggle)
        gen = self.generation_box = QGroupBox()
        gen.setVisible(False)
        form = QFormLayout(gen)
        self.generator_combo = QComboBox()
        self.generator_combo.setObjectName("generator_combo")
        # the items carry their model card's summary: keep the panel's width, show the full line in the popup
        self.generator_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.generator_combo.setMinimumContentsLength(14)
        self.generator_combo.view().setMinimumWidth(420)
        self.generator_combo.addItem("(default)", None)
        form.addRow("Generator", self.generator_combo)
        self.bars_spin = QSpinBox(minimum=1, maximum=32, value=4, suffix=" bars")
        self.bars_spin.setObjectName("bars_spin")
        form.addRow("Length", self.bars_spin)
        self.candidates_spin = QSpinBox(minimum=1, maximum=16, value=4)
        self.candidates_spin.setObjectName("candidates_spin")
        form.addRow("Candidates", self.candidates_spin)
        self.temperature_spin = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.05, value=1.0, decimals=2)
        self.temperature_spin.setObjectName("temperature_spin")
        self.temperature_spin.setToolTip("0: always the likeliest note; 1: as trained; 2: adventurous")
        form.addRow("Temperature", self.temperature_spin)
        seed_row = QHBoxLayout()
        self.seed_spin = QSpinBox(minimum=0, maximum=SEED_MAX, value=1)
        self.seed_spin.setObjectName("seed_spin")
        self.seed_lock = QCheckBox("Lock")
        self.seed_lock.setToolTip("Locked: every Suggest uses this seed (same settings → same result)")
        self.reroll_button = QToolButton()
        self.reroll_button.setObjectName("reroll_button")
        self.reroll_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.reroll_button.setToolTip("New random seed")
        self.reroll_button.setAccessibleName("New random seed")
        self.reroll_button.clicked.connect(self.reroll_seed)
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.seed_lock)
        seed_row.addWidget(self.reroll_button)
        form.addRow("Seed", seed_row)
        self.key_combo = QComboBox()
        self.key_combo.setObjectName("key_combo")
        for value, text in KEY_CONSTRAINTS:
            self.key_combo.addItem(text, value)
        for mode in ("major", "minor"):
            for pc, name in enumerate(_NOTE_NAMES):
                self.key_combo.addItem(f"{name} {mode}", f"{name} {mode}")
        form.addRow("Key", self.key_combo)
        for w in (self.bars_spin, self.candidates_spin, self.temperature_spin, self.seed_spin):
            w.valueChanged.connect(self._on_setting_changed)
        for w in (self.generator_combo, self.key_combo):
            w.currentIndexChanged.connect(self._on_setting_changed)
        self.seed_lock.toggled.connect(self._on_setting_changed)
        for w in (self.bars_spin, self.candidates_spin, self.temperature_spin, self.seed_spin):
            w.valueChanged.connect(self._show_generation_summary)
        for w in (self.generator_combo, self.key_combo):
            w.currentIndexChanged.connect(self._show_generation_summary)
        self.seed_lock.toggled.connect(self._show_generation_summary)
        layout.addWidget(gen)
        self._show_generation_summary()

        self.uses_label = QLabel()
        self.uses_label.setObjectName("suggest_uses")
        self.uses_label.setWordWrap(True)
        self.uses_label.setTextFormat(Qt.TextFormat.RichText)
        self.uses_label.setFixedHeight(self.uses_label.fontMetrics().lineSpacing() * 3 + 4)  # never moves the rest
        self.uses_label.setAlignment(Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.uses_label)
        self.suggest_button = QPushButton("Suggest continuation")
        self.suggest_button.setObjectName("suggest_button")
        self.suggest_button.setToolTip("Suggest continuations of the clip after the playhead (Ctrl+G)")
        self.suggest_button.clicked.connect(self.suggest_requested)
        layout.addWidget(self.suggest_button)
        layout.addStretch(0)
        # Scroll up and down, never sideways: the dock is never narrower than what the panel shows.
        scroll.setMinimumWidth(body.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 2)

    def _axis_slider(self, grid: QGridLayout, row: int, name: str, low: str, high: str):
        label = QLabel(name)
        label.setToolTip(f"{name}: {low} to {high}")
        grid.addWidget(label, row, 0)
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setToolTip(f"{low} ← {name.lower()} → {high}")
        slider.setRange(-100, 100)
        slider.setObjectName(f"{name.lower()}_slider")
        slider.setAccessibleName(f"{name} ({low} to {high})")
        grid.addWidget(slider, row, 1)
        value = QLabel("+0.00")
        value.setMinimumWidth(40)
        grid.addWidget(value, row, 2)
        slider.valueChanged.connect(self._on_axis_slider)
        slider.sliderReleased.connect(self._schedule_save)
        return slider, value

    # --- mood -------------------------------------------------------------------------------
    @property
    def mood(self) -> Mood:
        return self._mood

    @property
    def overrides(self) -> dict[str, float]:
        return dict(self._overrides)

    def targets(self) -> AttributeTargets:
        """The attribute targets to generate with: the mood's, with the advanced overrides."""
        return targets_for(self._mood, self._overrides)

    def targets_for(self, mood: Mood) -> AttributeTargets:
        """The targets of another mood (a bar of the mood timeline), with this panel's advanced overrides."""
        return targets_for(mood, self._overrides)

    def set_mood(self, mood: Mood, *, from_pad: bool = False, save: bool = False) -> None:
        if mood == self._mood:
            return
        self._mood = mood
        self._show_mood(emit=True, skip_pad=from_pad)
        if save:
            self._schedule_save()

    def _show_mood(self, *, emit: bool, skip_pad: bool = False) -> None:
        mood = self._mood
        if not skip_pad:
            self.pad.set_mood(mood)
        for slider, label, value in (
            (self.valence_slider, self.valence_value, mood.valence),
            (self.arousal_slider, self.arousal_value, mood.arousal),
        ):
            slider.blockSignals(True)
            slider.setValue(round(value * 100))
            slider.blockSignals(False)
            label.setText(f"{value:+.2f}")
        self._show_preset_name()
        self._show_targets()
        self._show_uses()
        if emit:
            self.mood_changed.emit(mood)
            self.targets_changed.emit(self.targets())

    def _show_uses(self) -> None:
        """Say which mood Suggest will use; warn when the story text reads as another, not accepted."""
        mood = self._mood
        if self._matching_preset_name():
            name = self._matching_preset_name()
        elif abs(mood.valence) < 0.1 and abs(mood.arousal) < 0.1:
            name = "a neutral mood"
        else:
            name = f"near {nearest_preset(mood).name}"
        text = f"Suggest uses <b>{_escape(name.removeprefix('user:'))}</b> (valence {mood.valence:+.2f}, arousal {mood.arousal:+.2f})"
        reading = self._reading
        if reading is not None and reading.mood.distance(mood) > 0.02:
            label = _escape(str(getattr(reading, "emotion_label", "another mood")))
            text += (
                f"<br><span style='color:#b35900'>The story text reads as <b>{label}</b>, "
                "which is not used until you press its Accept.</span>"
            )
        self.uses_label.setText(text)

    def _show_targets(self) -> None:
        targets = self.targets()
        for name, row in self.rows.items():
            row.show(getattr(targets, name), name in self._overrides)

    def _show_preset_name(self) -> None:
        match = self._matching_preset_name()
        self.preset_combo.blockSignals(True)
        index = self.preset_combo.findData(match) if match else 0
        self.preset_combo.setCurrentIndex(max(0, index))
        self.preset_combo.blockSignals(False)
        self.delete_preset_button.setEnabled(bool(match) and match.startswith("user:"))

    def _matching_preset_name(self) -> str | None:
        for p in PRESETS.values():
            if p.mood.distance(self._mood) < 1e-6:
                return p.name
        for name, mood in self.user_presets().items():
            if mood.distance(self._mood) < 1e-6:
                return f"user:{name}"
        return None

    def _on_axis_slider(self) -> None:
        self.set_mood(Mood(self.valence_slider.value() / 100, self.arousal_slider.value() / 100))
        if not (self.valence_slider.isSliderDown() or self.arousal_slider.isSliderDown()):
            self._schedule_save()

    def _on_preset_clicked(self, name: str) -> None:
        self._schedule_save()

    def _on_preset_combo(self, index: int) -> None:
        data = self.preset_combo.itemData(index)
        if not data:
            return
        if data.startswith("user:"):
            mood = self.user_presets().get(data[5:])
        else:
            mood = PRESETS[data].mood
        if mood is not None:
            self.set_mood(mood, save=True)

    def apply_preset(self, name: str) -> None:
        """Set the mood to a built-in (``"tense"``) or user preset (``"user:NAME"``)."""
        index = self.preset_combo.findData(name)
        if index < 0:
            raise ValueError(f"unknown preset {name!r}")
        self.preset_combo.setCurrentIndex(index)
        self._on_preset_combo(index)

    # --- user presets (QSettings) -----------------------------------------------------------
    def user_presets(self) -> dict[str, Mood]:
        raw = self._qsettings.value(USER_PRESETS_KEY, "{}")
        try:
            data = json.loads(raw) if isinstance(raw, str) else {}
            return {str(k): Mood.clamped(float(v[0]), float(v[1])) for k, v in data.items()}
        except (ValueError, TypeError, IndexError, AttributeError):
            return {}

    def save_user_preset(self, name: str, mood: Mood | None = None) -> None:
        name = name.strip()
        if not name:
            return
        presets = self.user_presets()
        presets[name] = mood or self._mood
        self._write_user_presets(presets)

    def delete_user_preset(self, name: str) -> None:
        presets = self.user_presets()
        presets.pop(name, None)
        self._write_user_presets(presets)

    def _write_user_presets(self, presets: dict[str, Mood]) -> None:
        data = {k: [m.valence, m.arousal] for k, m in presets.items()}
        self._qsettings.setValue(USER_PRESETS_KEY, json.dumps(data))
        self._qsettings.sync()
        self._refresh_user_presets()

    def _refresh_user_presets(self) -> None:
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        self.preset_combo.addItem("(custom)", None)
        for p in PRESETS.values():
            self.preset_combo.addItem(p.name, p.name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, p.description, Qt.ItemDataRole.ToolTipRole)
        user = self.user_presets()
        if user:
            self.preset_combo.insertSeparator(self.preset_combo.count())
            for name in user:
                self.preset_combo.addItem(f"★ {name}", f"user:{name}")
        self.preset_combo.blockSignals(False)
        self.pad.set_extra_points(user)
        self._show_preset_name()

    def _ask_save_preset(self) -> None:
        suggestion = nearest_preset(self._mood).name + " (mine)"
        name, ok = QInputDialog.getText(self, "Save mood preset", "Name:", text=suggestion)
        if ok and name.strip():
            self.save_user_preset(name)

    def _delete_selected_preset(self) -> None:
        data = self.preset_combo.currentData()
        if data and data.startswith("user:"):
            self.delete_user_preset(data[5:])

    # --- advanced overrides ----------------------------------------------------------------
    def _toggle_generation(self, on: bool) -> None:
        self.generation_box.setVisible(on)
        self.generation_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def _show_generation_summary(self, *_args) -> None:
        seed = f"seed {self.seed_spin.value()}" if self.seed_lock.isChecked() else "any seed"
        self.generation_toggle.setText(f"Generate {self.candidates_spin.value()} × {self.bars_spin.value()} bars, {seed}")
        self.generation_toggle.setToolTip(
            f"Generation settings: {self.candidates_spin.value()} candidates of {self.bars_spin.value()} bars, "
            f"{'the locked seed' if self.seed_lock.isChecked() else 'a new seed for every Suggest'}; "
            f"generator {self.generator_combo.currentData() or 'default'}, temperature {self.temperature_spin.value():.2f}, "
            f"key: {self.key_combo.currentText()}. Click to change."
        )

    def _toggle_advanced(self, on: bool) -> None:
        self.advanced.setVisible(on)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def _on_target_slider(self, row: AttributeRow, pos: int) -> None:
        self.set_override(row.name, row.from_pos(pos), save=not row.slider.isSliderDown())

    def set_override(self, name: str, value: float | None, *, save: bool = True) -> None:
        if name not in RULES:
            raise ValueError(f"unknown attribute {name!r}")
        if value is None:
            self._overrides.pop(name, None)
        else:
            rule = RULES[name]
            self._overrides[name] = min(rule.valid_high, max(rule.valid_low, float(value)))
        self._show_targets()
        self.targets_changed.emit(self.targets())
        if save:
            self._schedule_save()

    def reset_override(self, name: str) -> None:
        self.set_override(name, None)

    def reset_all_overrides(self) -> None:
        self._overrides.clear()
        self._show_targets()
        self.targets_changed.emit(self.targets())
        self._schedule_save()

    # --- story text ----------------------------------------------------------------------------
    def read_story(self):
        """Read a mood from the story text (offline lexicon); show the emotion and the words why."""
        self._story_timer.stop()
        text = self.story_edit.toPlainText().strip()
        self._reading = None
        for b in (self.story_accept, self.story_adjust):
            b.setEnabled(False)
        if not text:
            self.story_result.setText("Type a line: the mood it reads appears here.")
            self._show_uses()
            return None
        try:
            from composer_app.mood.text import read_mood  # noqa: PLC0415 - optional until it lands

            reading = read_mood(text)
        except Exception as exc:  # noqa: BLE001 - never let a text reader crash the panel
            self.story_result.setText(f"<i>Could not read a mood from the text: {_escape(str(exc))}</i>")
            return None
        self._reading = reading
        mood = reading.mood
        words = list(getattr(reading, "evidence", None) or getattr(reading, "words", None) or [])
        words_text = ", ".join(_escape(_word_text(w)) for w in words[:8]) or "no mood words found"
        negations = list(getattr(reading, "negations", None) or [])
        if negations:
            words_text += "; negated: " + ", ".join(_escape(str(n)) for n in negations[:4])
        confidence = getattr(reading, "confidence", None)
        conf = f" ({confidence:.0%} sure)" if isinstance(confidence, (int, float)) else ""
        self.story_result.setText(
            f"Reads as <b>{_escape(str(getattr(reading, 'emotion_label', '?')))}</b>{conf}: "
            f"valence {mood.valence:+.2f}, arousal {mood.arousal:+.2f}<br>"
            f"<span style='color:gray'>because of: {words_text}</span>"
        )
        for b in (self.story_accept, self.story_adjust):
            b.setEnabled(True)
        self._show_uses()
        self.story_read.emit(reading)
        self._schedule_save()
        return reading

    @property
    def story_reading(self):
        return self._reading

    def accept_story(self) -> None:
        if self._reading is None:
            self.read_story()
        if self._reading is not None:
            self.set_mood(self._reading.mood, save=True)
            self._show_uses()
            self.scroll.ensureWidgetVisible(self.pad, 0, 0)  # show where the mood went

    def adjust_story(self) -> None:
        self.accept_story()
        self.pad.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- generation settings -----------------------------------------------------------------
    def set_generators(self, names, default: str | None = None) -> None:
        """List the shipped generators, each with its model card's one-line summary, and "compare"
        (every one of them on the same request) when there are several."""
        from composer_app.generation import registry  # torch-free: names and model cards only  # noqa: PLC0415

        current = self.generator_combo.currentData()
        self.generator_combo.blockSignals(True)
        self.generator_combo.clear()
        self.generator_combo.addItem(f"(default{': ' + default if default else ''})", None)
        for name in names:
            try:
                summary = registry.describe(name)
            except KeyError:
                summary = ""
            self.generator_combo.addItem(f"{name} — {summary}" if summary else name, name)
            self.generator_combo.setItemData(self.generator_combo.count() - 1, summary or name, Qt.ItemDataRole.ToolTipRole)
        if len(names) > 1:
            self.generator_combo.addItem(f"compare all ({', '.join(names)})", COMPARE_GENERATORS)
            self.generator_combo.setItemData(
                self.generator_combo.count() - 1, "Ask every generator the same request: candidates side by side",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.generator_names = list(names)
        index = self.generator_combo.findData(current)
        self.generator_combo.setCurrentIndex(max(0, index))
        self.generator_combo.blockSignals(False)

    def reroll_seed(self) -> int:
        self.seed_spin.setValue(random.randint(0, 99_999))  # short enough to read and type
        return self.seed_spin.value()

    def next_seed(self) -> int:
        """The seed for the next request: the locked one, or a fresh random one (shown, not an edit)."""
        if not self.seed_lock.isChecked():
            loading, self._loading = self._loading, True
            try:
                self.reroll_seed()
            finally:
                self._loading = loading
        return self.seed_spin.value()

    def generation_settings(self) -> dict[str, Any]:
        return {
            "generator": self.generator_combo.currentData(),
            "bars": self.bars_spin.value(),
            "candidates": self.candidates_spin.value(),
            "temperature": round(self.temperature_spin.value(), 3),
            "seed": self.seed_spin.value(),
            "seed_locked": self.seed_lock.isChecked(),
            "key_constraint": self.key_combo.currentData(),
        }

    def _on_setting_changed(self, *_args) -> None:
        if not self._loading:
            self._schedule_save()

    # --- persistence (project.settings) ---------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything the panel holds, JSON-able (what is stored in the project)."""
        return {
            "mood": self._mood.to_dict(),
            "overrides": dict(self._overrides),
            **self.generation_settings(),
            "story": self.story_edit.toPlainText(),
        }

    @staticmethod
    def stored_form(state: dict[str, Any] | None) -> dict[str, Any] | None:
        """What of a state belongs in the document: an unlocked seed does not (it changes every Suggest)."""
        if state is None or state.get("seed_locked"):
            return state
        return {k: v for k, v in state.items() if k != "seed"}

    def load_state(self, state: dict[str, Any] | None) -> None:
        """Show a stored state (missing or bad values fall back to the defaults)."""
        merged = {**DEFAULT_SETTINGS, **(state or {})}
        self._loading = True
        try:
            try:
                m = merged["mood"] or {}
                self._mood = Mood.clamped(float(m.get("valence", 0)), float(m.get("arousal", 0)))
            except (TypeError, ValueError, AttributeError):
                self._mood = Mood()
            self._overrides = {}
            for name, value in dict(merged.get("overrides") or {}).items():
                if name in RULES and isinstance(value, (int, float)):
                    self._overrides[name] = float(value)
            index = self.generator_combo.findData(merged.get("generator"))
            if index < 0 and merged.get("generator"):
                self.generator_combo.addItem(str(merged["generator"]), merged["generator"])
                index = self.generator_combo.count() - 1
            self.generator_combo.setCurrentIndex(max(0, index))
            self.bars_spin.setValue(_int(merged["bars"], 4))
            self.candidates_spin.setValue(_int(merged["candidates"], 4))
            self.temperature_spin.setValue(_float(merged["temperature"], 1.0))
            if state is None or "seed" in state:
                self.seed_spin.setValue(_int(merged["seed"], 1))
            self.seed_lock.setChecked(bool(merged["seed_locked"]))
            self.key_combo.setCurrentIndex(max(0, self.key_combo.findData(merged["key_constraint"])))
            if self.story_edit.toPlainText() != (merged.get("story") or ""):
                self.story_edit.blockSignals(True)
                self.story_edit.setPlainText(merged.get("story") or "")
                self.story_edit.blockSignals(False)
            self._show_mood(emit=True)
        finally:
            self._loading = False

    def set_document(self, document) -> None:
        """Keep the panel's state in ``document.project.settings`` (and follow undo / open)."""
        if self._document is not None:
            try:
                self._document.project_changed.disconnect(self._on_project_changed)
            except (RuntimeError, TypeError):
                pass
        self._document = document
        document.project_changed.connect(self._on_project_changed)
        if hasattr(document, "replaced"):
            document.replaced.connect(self._on_document_replaced)
        self.load_state(document.project.settings.get(SETTINGS_KEY))

    def _on_document_replaced(self) -> None:
        """Another document: its own settings, and no reading left over from the old story text."""
        self.load_state(self._document.project.settings.get(SETTINGS_KEY))
        self._story_timer.stop()
        self._reading = None
        for b in (self.story_accept, self.story_adjust):
            b.setEnabled(False)
        if self.story_edit.toPlainText().strip():
            self.read_story()  # the new document's own story text
        else:
            self.story_result.setText("Type a line: the mood it reads appears here.")
        self._show_uses()

    def _on_project_changed(self, _old, new) -> None:
        stored = new.settings.get(SETTINGS_KEY)
        if stored is not None and self.stored_form(stored) != self.stored_form(self.state()):
            self.load_state(stored)
        elif stored is None and _old is not None and _old.settings.get(SETTINGS_KEY) is not None:
            self.load_state(None)

    def _schedule_save(self) -> None:
        if self._loading:
            return
        self.settings_changed.emit(self.state())
        if self._document is not None:
            self._save_timer.start()

    def save_to_document(self) -> bool:
        """Write the state into the project (one undo step; bursts of changes merge)."""
        self._save_timer.stop()
        if self._document is None:
            return False
        state = self.stored_form(self.state())
        project = self._document.project
        if self.stored_form(project.settings.get(SETTINGS_KEY)) == state:
            return False
        self._document.apply(project.with_settings(**{SETTINGS_KEY: state}), "Change mood and generation settings", merge_key="suggest-settings")
        return True

    def flush(self) -> None:
        """Write a pending change now (before a Suggest or a save)."""
        if self._save_timer.isActive():
            self.save_to_document()


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _word_text(word) -> str:
    """``sinks (sad, calm)``: the word and which way it pulls the mood."""
    if isinstance(word, str):
        return word
    if not hasattr(word, "word"):
        return str(word[0]) if isinstance(word, (tuple, list)) and word else str(word)
    text = str(word.word)
    valence, arousal = getattr(word, "valence", None), getattr(word, "arousal", None)
    if isinstance(valence, (int, float)) and isinstance(arousal, (int, float)):
        pulls = [name for value, name in ((valence, ("sad", "happy")), (arousal, ("calm", "excited"))) for name in [name[value > 0]] if abs(value) >= 0.15]
        if pulls:
            text += f" ({', '.join(pulls)})"
    return text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
