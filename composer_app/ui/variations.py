"""Vary and Interpolate: the VAE's variations of a selection and bridges between two clips, in the editor.

A feature module with its own action collection (:class:`VariationActions`), its settings (the
"Variations" toolbar: how different, toward the mood, interpolation steps; saved under
``variations/``) and its controller. Results stream into the Suggestions panel, where they are
auditioned (``P``), dragged into a DAW, copied or exported like any suggestion:

* **Vary selection** (Ctrl+Shift+G): variations of the selected notes; Accept replaces the selection
  with the variation (one undo step).
* **Interpolate**: from a clip marked as the start ("Use selection as start (A)", or a file) to the
  selection (or to the current suggestion, or between two files), in N steps, both ends included.
  The panel lists the whole bridge first, then each step; Accept inserts it at the first bar line
  after the track's last note (one undo step), so no existing note is touched.

The work runs in the generation worker (``GeneratorTask``), never on the GUI thread.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QCheckBox, QFileDialog, QLabel, QSlider, QSpinBox

from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.track import Track
from composer_app.ui import clip_drag
from composer_app.ui.actions import ActionCollection
from composer_app.ui.generation_jobs import GeneratorTask

GENERATOR = "vae"
DEFAULT_AMOUNT_PERCENT = 30  # "a little"
DEFAULT_STEPS = 4
VARY, INTERPOLATE = "vary", "interpolate"


@dataclass(frozen=True)
class Source:
    """A clip taken from the document: where it came from and the clip itself (from tick 0)."""

    clip: object  # core.clip.Clip
    track_index: int  # -1: not from the document (a file, a suggestion)
    offset: int  # document tick of the clip's tick 0 (its first bar line)
    notes: tuple[Note, ...]  # the document notes it was made of (what Accept replaces)
    label: str


def clip_from_selection(project: Project, track_index: int, notes) -> Source:
    """The selected notes as a clip starting at the bar line before the first of them."""
    from composer_app.core.clip import Clip  # noqa: PLC0415

    notes = tuple(sorted(notes))
    if not notes:
        raise ValueError("Select the notes to use first (tool 1, drag a box).")
    meter = project.time_signatures
    first_bar = meter.tick_to_position(notes[0].start_tick).bar
    offset = meter.bar_to_tick(first_bar)
    tempo_map, time_signatures = clip_drag.shifted_maps(project.tempo_map, meter, offset, project.ticks_per_quarter)
    shifted = tuple(n.with_start(n.start_tick - offset) for n in notes)
    clip = Clip(shifted, project.ticks_per_quarter, tempo_map, time_signatures)
    last_bar = meter.tick_to_position(notes[-1].start_tick).bar
    label = f"bars {first_bar + 1}–{last_bar + 1}" if last_bar > first_bar else f"bar {first_bar + 1}"
    return Source(clip, track_index, offset, notes, label)


def clip_from_file(path: Path) -> Source:
    """Every pitched note of a .mid file as a clip (``BadInputError`` for a file that is no MIDI)."""
    from composer_app.core.clip import Clip  # noqa: PLC0415
    from composer_app.core.midifile import load_midi  # noqa: PLC0415

    project = load_midi(path)
    notes = tuple(sorted(n for t in project.tracks for n in t.notes if n.channel != 9))
    if not notes:
        raise ValueError(f"{Path(path).name} holds no pitched notes.")
    clip = Clip(notes, project.ticks_per_quarter, project.tempo_map, project.time_signatures)
    return Source(clip, -1, 0, notes, Path(path).name)


def clip_from_candidate(candidate) -> Source:
    from composer_app.core.clip import Clip  # noqa: PLC0415

    clip = Clip(tuple(candidate.notes), candidate.ticks_per_quarter, candidate.tempo_map, candidate.time_signatures)
    return Source(clip, -1, 0, tuple(candidate.notes), "the suggestion")


def rescaled(source: Source, ticks_per_quarter: int) -> Source:
    """The source's clip at the document's resolution (files may have another one)."""
    from composer_app.core.clip import Clip  # noqa: PLC0415

    clip = source.clip
    if clip.ticks_per_quarter == ticks_per_quarter:
        return source
    scale = ticks_per_quarter / clip.ticks_per_quarter
    notes = tuple(
        Note(round(n.start_tick * scale), n.pitch, max(1, round(n.duration_ticks * scale)), n.velocity, n.channel) for n in clip.notes
    )
    new = Clip(notes, ticks_per_quarter, clip.tempo_map.with_ticks_per_quarter(ticks_per_quarter),
               clip.time_signatures.with_ticks_per_quarter(ticks_per_quarter))
    return replace(source, clip=new)


@dataclass(frozen=True)
class BridgeCandidate:
    """All interpolation steps in a row, shown first in the panel (same fields the panel reads)."""

    notes: tuple[Note, ...]
    ticks_per_quarter: int
    tempo_map: object
    time_signatures: object
    length_ticks: int
    bars: int
    generator: str
    seed: int
    attributes: object
    seconds: float
    index: int = -1
    title: str = "bridge"


def make_bridge(steps, seconds: float) -> BridgeCandidate:
    from composer_app.core.attributes import compute_attributes  # noqa: PLC0415
    from composer_app.generation.bridge import bridge  # noqa: PLC0415

    joined = bridge(steps)
    length = sum(s.length_ticks for s in steps)
    return BridgeCandidate(
        joined.notes, joined.ticks_per_quarter, joined.tempo_map, joined.time_signatures, length,
        sum(s.bars for s in steps), steps[0].generator, steps[0].seed,
        compute_attributes(joined.notes, joined.ticks_per_quarter, start_tick=0, end_tick=length), seconds,
    )


class VariationController:
    """Sends Vary / Interpolate requests to the worker and owns the panel's results while they show."""

    def __init__(self, document, mood_panel, panel, jobs, *, audition=None, show_ghosts=None, settings: QSettings | None = None):
        self.document = document
        self.mood_panel = mood_panel
        self.panel = panel
        self.jobs = jobs
        self._audition = audition
        self._show_ghosts = show_ghosts or (lambda notes: None)
        self.settings = settings or QSettings()
        self.amount = int(self.settings.value("variations/amount_percent", DEFAULT_AMOUNT_PERCENT, type=int)) / 100.0
        self.steps = int(self.settings.value("variations/steps", DEFAULT_STEPS, type=int))
        self.toward_mood = bool(self.settings.value("variations/toward_mood", False, type=bool))
        self.start: Source | None = None  # the interpolation's start (A)
        self.mode: str | None = None
        self.source: Source | None = None  # what a vary request varies (Accept replaces it)
        self.request_id: int | None = None
        self.task: GeneratorTask | None = None
        self.results: list = []
        self.started_at = 0.0
        panel.accept_requested.connect(self.accept)
        panel.audition_requested.connect(self.audition)
        panel.candidate_selected.connect(self._on_selected)
        panel.more_like_this_requested.connect(self.more_like_this)
        panel.regenerate_requested.connect(self.more_like_this)
        jobs.candidate.connect(self._on_candidate)
        jobs.finished.connect(self._on_finished)
        jobs.errored.connect(self._on_errored)
        jobs.cancelled.connect(self._on_cancelled)

    # --- settings ------------------------------------------------------------------------------------
    def set_amount(self, amount: float) -> None:
        self.amount = min(1.0, max(0.0, float(amount)))
        self.settings.setValue("variations/amount_percent", round(self.amount * 100))

    def set_steps(self, steps: int) -> None:
        self.steps = max(2, min(16, int(steps)))
        self.settings.setValue("variations/steps", self.steps)

    def set_toward_mood(self, on: bool) -> None:
        self.toward_mood = bool(on)
        self.settings.setValue("variations/toward_mood", self.toward_mood)

    @property
    def owns_panel(self) -> bool:
        return getattr(self.panel, "owner", None) is self

    # --- requests ------------------------------------------------------------------------------------
    def _selection_source(self) -> Source | None:
        doc = self.document
        try:
            return clip_from_selection(doc.project, doc.current_track_index, doc.selected_notes())
        except ValueError as exc:
            self.panel.show_error(str(exc))
            return None

    def vary(self, *, seed: int | None = None) -> int | None:
        """Variations of the selection with the toolbar's amount (and the mood, when asked)."""
        from composer_app.generation.generator import VaryRequest  # noqa: PLC0415 (torch-free)

        source = self._selection_source()
        if source is None:
            return None
        mp = self.mood_panel
        mp.flush()
        count = mp.generation_settings()["candidates"]
        seed = mp.next_seed() if seed is None else seed
        moods = (mp.mood,) if self.toward_mood else ()
        request = VaryRequest(source.clip, candidates=count, amount=self.amount, moods=moods, seed=seed)
        mood_text = " toward the mood" if moods else ""
        label = f"{count} variations of {source.label} ({round(self.amount * 100)} % different{mood_text})"
        self.source = source
        return self._submit(VARY, GeneratorTask("vary", request, GENERATOR, label, count))

    def more_like_this(self, _candidate=None) -> int | None:
        """The last request again with a new seed (variations; an interpolation is the same every time)."""
        if not self.owns_panel or self.task is None:
            return None
        if self.mode == VARY:
            return self._submit(VARY, replace(self.task, request=replace(self.task.request, seed=self.mood_panel.reroll_seed())))
        return self._submit(self.mode, self.task)

    def mark_start(self) -> bool:
        """Remember the selection as the interpolation's start (A)."""
        source = self._selection_source()
        if source is None:
            return False
        self.start = source
        self.panel.status.setText(f"Interpolation start (A): {source.label}. Now select B and choose Interpolate.")
        return True

    def start_from_file(self, path: Path) -> bool:
        try:
            self.start = rescaled(clip_from_file(Path(path)), self.document.project.ticks_per_quarter)
        except Exception as exc:  # noqa: BLE001 - a bad file is a message
            self.panel.show_error(f"Cannot use {Path(path).name}: {exc}")
            return False
        self.panel.status.setText(f"Interpolation start (A): {self.start.label}.")
        return True

    def interpolate(self, end: Source | None = None) -> int | None:
        """Steps from the start (A) to ``end`` (default: the selection)."""
        if self.start is None:
            self.panel.show_error("Mark the start first: select it and choose “Use selection as start (A)”.")
            return None
        end = end or self._selection_source()
        if end is None:
            return None
        return self.interpolate_between(self.start, end)

    def interpolate_to_candidate(self) -> int | None:
        """Steps from the selection to the suggestion chosen in the panel."""
        candidate = self.panel.current_candidate()
        if candidate is None:
            self.panel.show_error("Choose a suggestion in the panel first.")
            return None
        start = self._selection_source()
        if start is None:
            return None
        return self.interpolate_between(start, clip_from_candidate(candidate))

    def interpolate_files(self, a: Path, b: Path) -> int | None:
        tpq = self.document.project.ticks_per_quarter
        try:
            start, end = rescaled(clip_from_file(Path(a)), tpq), rescaled(clip_from_file(Path(b)), tpq)
        except Exception as exc:  # noqa: BLE001
            self.panel.show_error(f"Cannot interpolate these files: {exc}")
            return None
        return self.interpolate_between(start, end)

    def interpolate_between(self, start: Source, end: Source) -> int | None:
        from composer_app.generation.generator import InterpolateRequest  # noqa: PLC0415

        request = InterpolateRequest(start.clip, end.clip, steps=self.steps)
        self.source = start
        label = f"{self.steps} steps from {start.label} to {end.label}"
        return self._submit(INTERPOLATE, GeneratorTask("interpolate", request, GENERATOR, label, self.steps))

    def _submit(self, mode: str, task: GeneratorTask) -> int:
        self.mode, self.task, self.results = mode, task, []
        self.panel.owner = self
        self.panel.spec_factory = self.clip_spec
        self.panel.continuation_bars = 2
        self.panel.bar_ticks = self.document.project.time_signatures.ticks_per_bar_at(0)
        self.started_at = time.perf_counter()
        self.panel.request_started(task.candidates + (1 if mode == INTERPOLATE else 0), task.label)
        self.request_id = self.jobs.submit(task)
        return self.request_id

    def cancel(self) -> None:
        self.jobs.cancel()

    # --- results ------------------------------------------------------------------------------------
    def _mine(self, request_id: int) -> bool:
        return request_id == self.request_id and self.owns_panel

    def _on_candidate(self, request_id: int, index: int, candidate) -> None:
        if not self._mine(request_id) or not self.jobs.is_current(request_id):
            return
        self.results.append(candidate)
        if self.mode == VARY:
            self.panel.add_candidate(candidate)

    def _on_finished(self, request_id: int, results) -> None:
        if not self._mine(request_id):
            return
        if self.mode == INTERPOLATE:
            steps = sorted(results or self.results, key=lambda c: c.index)
            if steps:
                self.panel.add_candidate(make_bridge(steps, time.perf_counter() - self.started_at))
                for step in steps:
                    self.panel.add_candidate(step)
        else:  # an engine that does not stream gives everything here
            shown = {(c.seed, c.index) for c in self.results}
            for c in results or ():
                if (c.seed, c.index) not in shown:
                    self._on_candidate(request_id, c.index, c)
        self.panel.request_finished()

    def _on_errored(self, request_id: int, message: str) -> None:
        if self._mine(request_id):
            self.panel.request_failed(message)

    def _on_cancelled(self, request_id: int) -> None:
        if self._mine(request_id):
            self.panel.request_cancelled()

    # --- placing a result ----------------------------------------------------------------------------
    def target_track(self) -> int:
        if self.source is not None and self.source.track_index >= 0 and self.mode == VARY:
            return self.source.track_index
        return self.document.current_track_index

    def placement(self, candidate) -> int:
        """The document tick where ``candidate``'s tick 0 goes."""
        if self.mode == VARY and self.source is not None:
            return self.source.offset
        project = self.document.project
        index = self.target_track()
        track = project.tracks[index] if 0 <= index < len(project.tracks) else None
        end = max((n.end_tick for n in track.notes), default=0) if track else 0
        return project.time_signatures.next_bar_tick(end) if end > 0 else 0

    def placed_notes(self, candidate) -> list[Note]:
        project = self.document.project
        index = self.target_track()
        channel = project.tracks[index].channel if 0 <= index < len(project.tracks) else 0
        at = self.placement(candidate)
        return [Note(n.start_tick + at, n.pitch, n.duration_ticks, n.velocity, channel) for n in candidate.notes]

    def _on_selected(self, candidate) -> None:
        if not self.owns_panel:
            return
        self._show_ghosts(self.placed_notes(candidate) if candidate is not None else [])

    def accept(self, candidate) -> bool:
        """Vary: the variation replaces the selection; Interpolate: the bridge or step goes after the track's end."""
        if candidate is None or not self.owns_panel:
            return False
        from composer_app.ui.selection import Selection  # noqa: PLC0415

        doc = self.document
        project = doc.project
        index = self.target_track()
        if not 0 <= index < len(project.tracks):
            self.panel.show_error("The track of this result no longer exists.")
            return False
        track = project.tracks[index]
        new_notes = self.placed_notes(candidate)
        kept = list(track.notes)
        if self.mode == VARY and self.source is not None:
            remove = Counter(self.source.notes)
            if any(remove[n] > Counter(track.notes)[n] for n in remove):
                self.panel.show_error("The varied notes have changed since; vary the selection again.")
                return False
            kept = []
            for n in track.notes:
                if remove[n] > 0:
                    remove[n] -= 1
                else:
                    kept.append(n)
            text = f"Replace selection with variation (seed {candidate.seed}, #{candidate.index + 1})"
        else:
            name = "bridge" if isinstance(candidate, BridgeCandidate) else f"step {candidate.index + 1}"
            text = f"Insert interpolation {name}"
        doc.apply(
            project.replace_track(index, track.with_notes(tuple(kept) + tuple(new_notes))),
            text,
            selection=Selection(new_notes),
            current_track=index,
        )
        self._show_ghosts([])
        if self.mode == VARY and self.source is not None:
            self.source = replace(self.source, notes=tuple(sorted(new_notes)))  # a second Accept swaps again
        self.panel.status.setText(f"{text}: {len(new_notes)} notes. Ctrl+Z undoes it.")
        return True

    def audition(self, candidate) -> None:
        if candidate is None or not self.owns_panel:
            return
        if self._audition is None:
            self.panel.status.setText("No output to audition through.")
            return
        project = self.document.project
        index = self.target_track()
        track = project.tracks[index] if 0 <= index < len(project.tracks) else Track()
        at = self.placement(candidate)
        notes = self.placed_notes(candidate)
        audition = Project(
            tracks=(Track(track.name, track.program, track.channel, tuple(notes)),),
            ticks_per_quarter=project.ticks_per_quarter,
            tempo_map=project.tempo_map,
            time_signatures=project.time_signatures,
            key=project.key,
            title=project.title,
        )
        try:
            self._audition(audition, at)
        except Exception as exc:  # noqa: BLE001
            self.panel.show_error(f"Could not play the result: {exc}")

    def clip_spec(self, candidate) -> clip_drag.ClipSpec:
        """The result as a .mid clip for drag / copy / export."""
        project = self.document.project
        index = self.target_track()
        track = project.tracks[index] if 0 <= index < len(project.tracks) else Track()
        name = self.document.display_name if hasattr(self.document, "display_name") else (project.title or "untitled")
        kind = "variation" if self.mode == VARY else "interpolation"
        return clip_drag.ClipSpec(
            notes=tuple(candidate.notes),
            ticks_per_quarter=candidate.ticks_per_quarter,
            tempo_map=candidate.tempo_map,
            time_signatures=candidate.time_signatures,
            program=track.program,
            name=f"{track.name} {kind}",
            project_name=f"{name}-{kind}",
            mood=self.mood_panel.mood if self.toward_mood else None,
            bars=getattr(candidate, "bars", None),
            seed=getattr(candidate, "seed", None),
        )


class VariationActions(ActionCollection):
    """Vary and Interpolate (menu Suggest, toolbar Variations)."""

    name = "variations"
    title = "Variations"

    def __init__(self, parent, controller: VariationController):
        self.controller = controller
        super().__init__(parent)

    def create_actions(self) -> None:
        c = self.controller
        self.add("vary", "&Vary selection", lambda: c.vary(), "Ctrl+Shift+G",
                 tip="Variations of the selected notes (the VAE), as suggestions; Accept replaces the selection")
        self.add("mark_start", "Use selection as interpolation &start (A)", c.mark_start,
                 tip="Remember the selected notes as the start of an interpolation")
        self.add("interpolate", "&Interpolate from A to selection", lambda: c.interpolate(), "Ctrl+Shift+B",
                 tip="Steps that morph the start (A) into the selected notes")
        self.add("interpolate_candidate", "Interpolate from selection to the suggestion", lambda: c.interpolate_to_candidate(),
                 tip="Steps that morph the selected notes into the suggestion chosen in the panel")
        self.add("interpolate_files", "Interpolate between two files…", self._interpolate_files,
                 tip="Steps that morph one .mid file into another")

    def _interpolate_files(self) -> None:
        parent = self.parent()
        a, _ = QFileDialog.getOpenFileName(parent, "Interpolate from (A)", "", "MIDI files (*.mid *.midi)")
        if not a:
            return
        b, _ = QFileDialog.getOpenFileName(parent, "Interpolate to (B)", str(Path(a).parent), "MIDI files (*.mid *.midi)")
        if b:
            self.controller.interpolate_files(Path(a), Path(b))


def build_toolbar(window, actions: VariationActions, controller: VariationController):
    """The Variations toolbar: Vary, how different, toward the mood, A, Interpolate, steps."""
    bar = window.addToolBar("Variations")
    bar.setObjectName("toolbar_variations")
    bar.addAction(actions["vary"])
    amount = QSlider(Qt.Orientation.Horizontal)
    amount.setObjectName("variation_amount")
    amount.setRange(0, 100)
    amount.setValue(round(controller.amount * 100))
    amount.setFixedWidth(110)
    amount.setToolTip("How different the variations are: 0 = the selection back, 100 = free")
    amount_label = QLabel()
    amount_label.setObjectName("variation_amount_label")

    def on_amount(value: int) -> None:
        controller.set_amount(value / 100)
        words = "same" if value == 0 else "a little" if value <= 35 else "more" if value <= 70 else "free"
        amount_label.setText(f" {words} ({value} %) ")

    amount.valueChanged.connect(on_amount)
    on_amount(amount.value())
    bar.addWidget(amount)
    bar.addWidget(amount_label)
    mood = QCheckBox("toward mood")
    mood.setObjectName("variation_toward_mood")
    mood.setToolTip("Move note density, mode and register of the variations toward the mood panel's mood")
    mood.setChecked(controller.toward_mood)
    mood.toggled.connect(controller.set_toward_mood)
    bar.addWidget(mood)
    bar.addSeparator()
    bar.addAction(actions["mark_start"])
    actions["mark_start"].setIconText("A")
    bar.addAction(actions["interpolate"])
    actions["interpolate"].setIconText("Interpolate")
    steps = QSpinBox()
    steps.setObjectName("interpolation_steps")
    steps.setRange(2, 16)
    steps.setValue(controller.steps)
    steps.setSuffix(" steps")
    steps.setToolTip("Clips from A to B, both ends included")
    steps.valueChanged.connect(controller.set_steps)
    bar.addWidget(steps)
    bar.amount_slider, bar.mood_box, bar.steps_box = amount, mood, steps
    return bar


def install_variations(window):
    """Add Vary / Interpolate to the window (after ``install_suggest``: it shares its panel and worker)."""
    suggest = getattr(window, "suggest_controller", None)
    if suggest is None:
        return None
    controller = VariationController(
        window.document, suggest.mood_panel, suggest.panel, suggest.jobs,
        audition=suggest._audition, show_ghosts=suggest._show_ghosts,
    )
    actions = VariationActions(window, controller)
    menu = getattr(window, "menus", {}).get("suggest")
    if menu is not None:
        menu.addSeparator()
        for name in ("vary", "mark_start", "interpolate", "interpolate_candidate", "interpolate_files"):
            menu.addAction(actions[name])
    window.addToolBarBreak()  # its own row: the slider and the steps box need the width
    controller.toolbar = build_toolbar(window, actions, controller)
    controller.actions = actions
    window.variation_controller = controller
    return controller
