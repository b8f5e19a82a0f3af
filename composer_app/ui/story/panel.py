"""The Story panel: paste or open a text, see its scenes and why each reads as it does, adjust, score.

- **Read** splits the text into scenes and reads each one (in the background: the reader loads a
  sentence encoder the first time). The scenes go into the document (``settings["story"]``) and
  become its mood timeline (one undo step): the mood lane and the ruler's scene markers show them.
- The **scene table** shows each scene's text, emotion, valence/arousal, length in bars and the
  words that led there. Pick another emotion, type a valence/arousal or a length: one undo step.
- **Score** generates the whole piece (melody, chords, accompaniment, bass, instruments, tempo,
  dynamics per scene) in the background with progress and Cancel, and makes it the document: an
  ordinary multi-track project (one undo step). The document's own notes, if any, are the motif
  the melody continues. **Regenerate scene** redoes the selected scene's melody with a new seed and
  keeps the others. The plot compares the story's arc with the music's.
- **Render WAV…** renders the document through FluidSynth; **⇲** drags the piece into a DAW as a .mid.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from composer_app.core.note import Note
from composer_app.mood.mood import PRESETS, Mood
from composer_app.mood.story import MAX_SCENE_BARS, MIN_SCENE_BARS, SCENE_MARKER_PREFIX, Story
from composer_app.ui.actions import ActionCollection
from composer_app.ui.story.fit_plot import FitPlot
from composer_app.ui.story.jobs import StoryJobs

MAX_TEXT_FILE_BYTES = 1_000_000
COLUMNS = ("#", "Scene", "Emotion", "Valence", "Arousal", "Bars", "Why")
COLUMN_EMOTION, COLUMN_VALENCE, COLUMN_AROUSAL, COLUMN_BARS = 2, 3, 4, 5


class StoryActions(ActionCollection):
    name = "story"
    title = "Story"

    def __init__(self, panel_getter, parent):
        self._panel = panel_getter
        super().__init__(parent)

    def create_actions(self) -> None:
        self.add("open_text", "Open Story &Text…", lambda: self._panel().open_text_dialog())
        self.add("read", "&Read Story", lambda: self._panel().read())
        self.add("score", "&Score Story", lambda: self._panel().score(), "Ctrl+Alt+Y")
        self.add("regenerate", "Re&generate Scene", lambda: self._panel().regenerate_selected())
        self.add("render", "Render to &WAV…", lambda: self._panel().render_dialog())
        self.add("cancel", "&Cancel Story Job", lambda: self._panel().cancel())


class StoryPanel(QWidget):
    """Edits the document's story; see the module docstring."""

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.story: Story | None = None
        self.scored = None  # the last ScoredStory (for regenerating one scene)
        self.jobs = StoryJobs(self)
        self.ask_open_path = self._ask_open_path  # tests replace these
        self.ask_wav_path = self._ask_wav_path
        self._filling = False
        self._score_after_read = False

        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Paste a story here (blank lines or --- separate scenes), or Open Text…")
        self.open_button = QPushButton("Open…")
        self.read_button = QPushButton("Read")
        self.score_button = QPushButton("Score")
        self.regenerate_button = QPushButton("Regenerate scene")
        self.cancel_button = QPushButton("Cancel")
        self.render_button = QPushButton("Render WAV…")
        self.drag_button = QPushButton("⇲")
        self.drag_button.setToolTip("Drag the piece into a DAW (a .mid file)")
        self.bars_spin = QSpinBox()
        self.bars_spin.setRange(0, MAX_SCENE_BARS)
        self.bars_spin.setSpecialValueText("bars: reading time")
        self.bars_spin.setPrefix("bars per scene: ")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setPrefix("seed ")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("Paste or open a story, then Read.")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (0, 2, 3, 4, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Interactive)
        self.plot = FitPlot()

        buttons = QHBoxLayout()
        for button in (self.open_button, self.read_button, self.score_button, self.regenerate_button, self.cancel_button):
            buttons.addWidget(button)
        options = QHBoxLayout()
        for widget in (self.bars_spin, self.seed_spin, self.render_button, self.drag_button):
            options.addWidget(widget)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.text)
        splitter.addWidget(self.table)
        splitter.addWidget(self.plot)
        splitter.setSizes([140, 220, 200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addLayout(options)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

        self.open_button.clicked.connect(self.open_text_dialog)
        self.read_button.clicked.connect(self.read)
        self.score_button.clicked.connect(self.score)
        self.regenerate_button.clicked.connect(self.regenerate_selected)
        self.cancel_button.clicked.connect(self.cancel)
        self.render_button.clicked.connect(self.render_dialog)
        self.drag_button.pressed.connect(self.start_drag)
        self.jobs.started.connect(self._on_started)
        self.jobs.progress.connect(self._on_progress)
        self.jobs.finished.connect(self._on_finished)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.cancelled.connect(self._on_cancelled)
        document.project_changed.connect(lambda old, new: self.sync_from_document())
        self.sync_from_document()
        self._update_buttons()

    # --- document <-> panel ---------------------------------------------------------------------------
    def sync_from_document(self) -> None:
        """Show the story stored in the document (after Read, an edit, undo, or opening a file)."""
        stored = self.document.project.settings.get("story")
        story = None
        if stored is not None:
            try:
                story = Story.from_dict(stored)
            except (TypeError, ValueError) as error:
                self.status.setText(f"The stored story cannot be shown: {error}")
        if story == self.story:
            return
        self.story = story
        if story is not None and self.text.toPlainText() != story.text:
            self.text.setPlainText(story.text)
        self._fill_table()
        self._update_buttons()

    def apply_story(self, story: Story, text: str) -> None:
        """Put ``story``, its timeline and its scene markers into the document (one undo step)."""
        project = self.document.project
        kept = tuple(m for m in project.markers if not m.name.startswith(SCENE_MARKER_PREFIX))
        markers = kept + story.scene_markers(lambda bar: project.time_signatures.bar_to_tick(bar))
        project = replace(
            project.with_settings(story=story.to_dict()), mood_timeline=story.timeline(), markers=tuple(sorted(markers))
        )
        self.document.apply(project, text)

    def _fill_table(self) -> None:
        self._filling = True
        self.table.setRowCount(0)
        scenes = self.story.scenes if self.story else ()
        self.table.setRowCount(len(scenes))
        for row, scene in enumerate(scenes):
            number = QTableWidgetItem(str(row + 1))
            number.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.table.setItem(row, 0, number)
            excerpt = " ".join(scene.text.split())
            item = QTableWidgetItem(excerpt if len(excerpt) <= 90 else excerpt[:87] + "…")
            item.setToolTip(scene.text)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.table.setItem(row, 1, item)
            combo = QComboBox()
            combo.addItems(list(PRESETS))
            if scene.emotion not in PRESETS:
                combo.addItem(scene.emotion)
            combo.setCurrentText(scene.emotion)
            combo.currentTextChanged.connect(lambda name, r=row: self.set_scene_emotion(r, name))
            self.table.setCellWidget(row, COLUMN_EMOTION, combo)
            for column, value in ((COLUMN_VALENCE, scene.valence), (COLUMN_AROUSAL, scene.arousal)):
                spin = QDoubleSpinBox()
                spin.setRange(-1.0, 1.0)
                spin.setSingleStep(0.05)
                spin.setDecimals(2)
                spin.setValue(value)
                spin.editingFinished.connect(lambda r=row: self._mood_spins_changed(r))
                self.table.setCellWidget(row, column, spin)
            bars = QSpinBox()
            bars.setRange(MIN_SCENE_BARS, MAX_SCENE_BARS)
            bars.setValue(scene.bars)
            bars.editingFinished.connect(lambda r=row: self._bars_changed(r))
            self.table.setCellWidget(row, COLUMN_BARS, bars)
            why = QTableWidgetItem(", ".join(scene.evidence) + (" (set by hand)" if scene.mood_by_hand else ""))
            why.setToolTip(scene.explanation)
            why.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.table.setItem(row, 6, why)
        self._filling = False

    # --- scene edits (each one undo step) -------------------------------------------------------------------
    def set_scene_emotion(self, row: int, name: str) -> None:
        if self._filling or self.story is None or name not in PRESETS:
            return
        scene = self.story.scenes[row]
        if scene.emotion == name:
            return
        self.apply_story(self.story.with_scene(row, scene.with_mood(PRESETS[name].mood, name)), f"Scene {row + 1}: {name}")

    def set_scene_mood(self, row: int, valence: float, arousal: float) -> None:
        if self.story is None:
            return
        scene = self.story.scenes[row]
        if (scene.valence, scene.arousal) == (valence, arousal):
            return
        self.apply_story(self.story.with_scene(row, scene.with_mood(Mood(valence, arousal))), f"Scene {row + 1}: mood")

    def set_scene_bars(self, row: int, bars: int) -> None:
        if self.story is None or self.story.scenes[row].bars == bars:
            return
        self.apply_story(self.story.with_scene(row, self.story.scenes[row].with_bars(bars)), f"Scene {row + 1}: {bars} bars")

    def _mood_spins_changed(self, row: int) -> None:
        if self._filling:
            return
        valence = self.table.cellWidget(row, COLUMN_VALENCE).value()
        arousal = self.table.cellWidget(row, COLUMN_AROUSAL).value()
        self.set_scene_mood(row, valence, arousal)

    def _bars_changed(self, row: int) -> None:
        if not self._filling:
            self.set_scene_bars(row, self.table.cellWidget(row, COLUMN_BARS).value())

    # --- jobs -------------------------------------------------------------------------------------------------
    def read(self) -> bool:
        """Read the text in the editor into scenes (in the background)."""
        text = self.text.toPlainText()
        if not text.strip():
            self.status.setText("There is no text to read: paste a story or open a .txt/.md file.")
            return False
        bars = self.bars_spin.value() or None

        def work(progress, cancel):
            from composer_app.mood.story import read_story

            progress(0, 1, "reading the story")
            return read_story(text, bars_per_scene=bars)

        return self.jobs.start("read", work)

    def score(self) -> bool:
        """Score the story (reading it first if the text changed), in the background."""
        if self.story is None or self.story.text != self.text.toPlainText():
            if not self.text.toPlainText().strip():
                self.status.setText("There is no story to score: paste or open one first.")
                return False
            self._score_after_read = True
            return self.read()
        story, seed = self.story, self.seed_spin.value()
        motif = self._motif()

        def work(progress, cancel):
            import torch

            torch.set_num_threads(1)
            from composer_app.scoring.score import score_story

            return score_story(story, seed=seed, motif=motif, progress=progress, cancel=cancel)

        return self.jobs.start("score", work)

    def regenerate_selected(self) -> bool:
        """Regenerate the selected scene's melody with a new seed; the other scenes stay."""
        row = self.table.currentRow()
        if self.story is None or self.scored is None or row < 0:
            self.status.setText("Score the story, then select a scene to regenerate.")
            return False
        if [s.bars for s in self.scored.story.scenes] != [s.bars for s in self.story.scenes]:
            self.status.setText("Scene lengths changed since scoring: Score the whole story again.")
            return False
        previous, story, seed = self.scored, self.story, secrets.randbelow(2**31)

        def work(progress, cancel):
            from composer_app.scoring.score import rescore_scene

            return rescore_scene(previous, row, seed, story=story, progress=progress, cancel=cancel)

        return self.jobs.start("score", work)

    def cancel(self) -> None:
        self.jobs.cancel()

    def _motif(self) -> tuple[Note, ...]:
        """The user's notes the melody continues: none if the document is itself a scored story."""
        project = self.document.project
        if "scoring" in project.settings:
            return self.scored.motif if self.scored is not None else ()
        return tuple(sorted(n for t in project.audible_tracks if not t.is_drums for n in t.notes))

    def _on_started(self, what: str) -> None:
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.status.setText("Reading the story…" if what == "read" else "Scoring…")
        self._update_buttons()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{message} (%p%)")

    def _on_finished(self, what: str, result) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("done")
        if what == "read":
            self.apply_story(result, "Read story")
            self.status.setText(f"{len(result.scenes)} scenes, {result.total_bars} bars. Adjust any of them, then Score.")
            if getattr(self, "_score_after_read", False):
                self._score_after_read = False
                self._update_buttons()
                self.score()
                return
        elif what == "score":
            self.scored = result
            project = result.project
            self.document.apply(project, "Score story", current_track=0)
            self.show_fit(result)
            fit = result.fit()
            self.status.setText(
                f"Scored {len(result.scenes)} scenes, {result.story.total_bars} bars, {project.duration_seconds:.0f} s of music "
                f"in {result.seconds:.1f} s. Music follows story (Spearman): valence {_fmt(fit['valence'])}, "
                f"arousal {_fmt(fit['arousal'])}."
            )
        elif what == "render":
            self.status.setText(f"Wrote {result.path} ({result.duration_s:.1f} s, peak {result.peak_dbfs:.1f} dBFS).")
        self._update_buttons()

    def _on_failed(self, what: str, message: str) -> None:
        self._score_after_read = False
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("failed")
        self.status.setText(f"Could not {what}: {message}")
        self._update_buttons()

    def _on_cancelled(self, what: str) -> None:
        self._score_after_read = False
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("cancelled")
        self.status.setText("Cancelled; the document is unchanged.")
        self._update_buttons()

    def show_fit(self, scored) -> None:
        rows = [
            (scene.emotion, scene.valence, scene.arousal, score.readback.valence, score.readback.arousal)
            for scene, score in zip(scored.story.scenes, scored.scenes)
        ]
        self.plot.set_fit(rows, scored.fit())

    def _update_buttons(self) -> None:
        busy = self.jobs.busy
        for button in (self.open_button, self.read_button, self.score_button, self.render_button):
            button.setEnabled(not busy)
        self.regenerate_button.setEnabled(not busy and self.scored is not None)
        self.cancel_button.setEnabled(busy)

    # --- files ---------------------------------------------------------------------------------------------------
    def _ask_open_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a story", "", "Text (*.txt *.md);;All files (*)")
        return path or None

    def _ask_wav_path(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Render to WAV", "story.wav", "WAV audio (*.wav)")
        return path or None

    def open_text_dialog(self) -> bool:
        path = self.ask_open_path()
        return self.open_text(path) if path else False

    def open_text(self, path: str | os.PathLike) -> bool:
        """Load a .txt/.md file into the text box and read it; a bad file is one line in the status."""
        path = Path(path)
        try:
            if path.stat().st_size > MAX_TEXT_FILE_BYTES:
                raise ValueError(f"too large for a story (at most {MAX_TEXT_FILE_BYTES} bytes)")
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError, ValueError) as error:
            reason = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else (getattr(error, "strerror", None) or error)
            self.status.setText(f"Cannot open {path.name}: {reason}")
            return False
        self.text.setPlainText(text)
        return self.read()

    def render_dialog(self) -> bool:
        path = self.ask_wav_path()
        return self.render_wav(path) if path else False

    def render_wav(self, path: str | os.PathLike) -> bool:
        project = self.document.project

        def work(progress, cancel):
            from composer_app.playback.render import render_to_wav

            progress(0, 1, "rendering")
            return render_to_wav(project, path)

        return self.jobs.start("render", work)

    def drag_mime_data(self) -> QMimeData:
        """A fresh .mid of the whole document in the drag cache, as ``text/uri-list``."""
        from composer_app.core.midifile import save_midi
        from composer_app.ui.clip_drag import cache_dir

        folder = cache_dir() / f"{int(time.time())}-{secrets.token_hex(3)}"
        folder.mkdir(parents=True, exist_ok=True)
        scoring = self.document.project.settings.get("scoring")
        seed = scoring.get("seed", 0) if isinstance(scoring, dict) else 0  # a file may hold anything there
        seed = seed if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32 else 0
        path = folder / f"story-bars{self.story.total_bars if self.story else 0}-{seed}.mid"
        save_midi(self.document.project, path)
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        return mime

    def start_drag(self) -> None:
        if not self.document.project.note_count:
            return
        drag = QDrag(self.drag_button)
        drag.setMimeData(self.drag_mime_data())
        drag.exec(Qt.DropAction.CopyAction)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def install_story(window) -> None:
    """Add the Story dock (right side, tabbed) and the Story menu to the main window."""
    panel_holder: list[StoryPanel] = []

    def panel() -> StoryPanel:
        window.panel_widget("story")
        return panel_holder[0]

    def build() -> StoryPanel:
        widget = StoryPanel(window.document)
        panel_holder.append(widget)
        return widget

    window.add_panel("story", "Story", build, visible=False, shortcut="Ctrl+Shift+Y")
    actions = StoryActions(panel, window)
    menu = window.menuBar().addMenu("&Story")
    window.menus["story"] = menu
    for name in ("open_text", "read", "score", "regenerate", "render", "cancel"):
        menu.addAction(actions.actions[name])
    window.story_actions = actions
