"""The Harmony feature: the chord lane, its actions and what they do (one undo step each).

Actions (menu Harmony, collection "harmony", shortcuts editable like every other):

- **Suggest chords…**: progressions for the selection (or the current track) from the chord
  suggester, mood-aware; audition each, accept one (it replaces the chords in that span).
- **Harmonize into four voices**: alto, tenor and bass under the melody (the selection or the
  current track), written into "Alto", "Tenor", "Bass" tracks. Notes already in those tracks are
  kept (locked) and the empty stretches are filled, so deleting some voice notes and harmonizing
  again regenerates just those. Runs in a worker process (torch never loads in the GUI process).
- **Accompany…**: a bass line and a pattern in a style (default from the mood) with GM instruments,
  as two new tracks.
- **Estimate chords from the notes**: label the span's polyphonic material (all tracks).

The mood comes from the project's mood settings (the mood panel's ``suggest`` entry).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import sys
import types
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMenu

from composer_app.core.chords import ChordTrack, estimate_chords
from composer_app.core.project import Project
from composer_app.core.track import Track
from composer_app.ui.actions import ActionCollection
from composer_app.ui.harmony.chord_lane import ChordLane
from composer_app.ui.signals import app_signals

STATUS_MS = 6000
POLL_MS = 30  # how often the GUI looks whether the harmonizer's worker has finished
VOICE_NAMES = ("Alto", "Tenor", "Bass")


def document_mood(project: Project) -> tuple[float, float]:
    """(valence, arousal) stored by the mood panel in the project (0, 0 when there is none)."""
    state = project.settings.get("suggest") if isinstance(project.settings, dict) else None
    mood = state.get("mood") if isinstance(state, dict) else None
    try:
        v, a = float(mood.get("valence", 0.0)), float(mood.get("arousal", 0.0))
    except (AttributeError, TypeError, ValueError):
        return 0.0, 0.0
    return max(-1.0, min(1.0, v)), max(-1.0, min(1.0, a))


@dataclass(frozen=True)
class Span:
    """What an action works on: the melody notes and the bars around them."""

    notes: tuple
    start_tick: int
    end_tick: int


def melody_span(document) -> Span | None:
    """The selected notes (else the current track's), widened to whole bars."""
    notes = document.selected_notes() or list(document.current_track.notes if document.current_track else ())
    if not notes:
        return None
    ts = document.project.time_signatures
    start = ts.bar_to_tick(ts.tick_to_position(min(n.start_tick for n in notes)).bar)
    end = ts.next_bar_tick(max(n.end_tick for n in notes))
    return Span(tuple(sorted(notes)), start, end)


def _harmonize_in_worker(project: Project, melody, start_tick: int, end_tick: int, valence: float, arousal: float,
                         seed: int, locked: dict) -> tuple[Track, ...]:
    """Runs in the worker process: import torch, load the weights once, harmonize."""
    import torch

    from composer_app.generation import harmonize as hm

    torch.set_num_threads(1)
    result = hm.harmonize(project, melody=melody, start_tick=start_tick, end_tick=end_tick, valence=valence,
                          arousal=arousal, seed=seed, locked=locked, voices=4)
    return result.tracks


class HarmonizeWorker(QObject):
    """One worker process for the harmonizer, started on first use; results come back as signals."""

    finished = Signal(object, object)  # (request tag, tuple of Track)
    failed = Signal(object, str)  # (request tag, one-line message)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._pending: list[tuple[object, concurrent.futures.Future]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def submit(self, tag, *args) -> None:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        # The worker process starts inside the first submit: hide the main script from it (as the
        # generation worker does), so a script without a __main__ guard is not run again there.
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            future = self._pool.submit(_harmonize_in_worker, *args)
        finally:
            if main is not None:
                sys.modules["__main__"] = main
        self._pending.append((tag, future))
        self._timer.start()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self, timeout_s: float = 60.0) -> None:
        """Block until the running requests are done (tests and shutdown)."""
        concurrent.futures.wait([f for _t, f in self._pending], timeout=timeout_s)
        self._poll()

    def _poll(self) -> None:
        still = []
        for tag, future in self._pending:
            if not future.done():
                still.append((tag, future))
                continue
            try:
                self.finished.emit(tag, future.result())
            except Exception as error:  # the worker's error, reported in one line
                self.failed.emit(tag, f"{type(error).__name__}: {error}")
        self._pending = still
        if not still:
            self._timer.stop()

    def shutdown(self) -> None:
        self._timer.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class HarmonyActions(ActionCollection):
    name = "harmony"
    title = "Harmony"

    def __init__(self, feature: HarmonyFeature):
        self.feature = feature
        super().__init__(feature)

    def create_actions(self) -> None:
        f = self.feature
        self.add("suggest_chords", "Suggest &chords…", f.suggest_chords, "Ctrl+Shift+K",
                 tip="Chord progressions for the selection or the current track (Ctrl+Shift+K)")
        self.add("harmonize", "&Harmonize into four voices", f.harmonize, "Ctrl+Shift+H",
                 tip="Alto, tenor and bass under the melody, as tracks (Ctrl+Shift+H)")
        self.add("accompany", "&Accompany…", f.accompany, "Ctrl+Shift+M",
                 tip="A bass line and a pattern in a style that play the chords (Ctrl+Shift+M)")
        self.add("estimate_chords", "&Estimate chords from the notes", f.estimate_chords, None)
        self.add("clear_chords", "C&lear chords", f.clear_chords, None)


class HarmonyFeature(QObject):
    """Owns the chord lane, the actions, the dialogs and the harmonizer worker."""

    harmonized = Signal(object)  # (tuple of Track) after a harmonization was applied

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.lane = ChordLane(window.editor)
        window.editor.add_lane(self.lane, "top")
        self.worker = HarmonizeWorker(self)
        self.worker.finished.connect(self._harmonized)
        self.worker.failed.connect(lambda _tag, message: self.say(f"Harmonize failed: {message}"))
        self.actions = HarmonyActions(self)
        self.lane.extra_menu_actions = [self.actions[n] for n in ("suggest_chords", "estimate_chords", "clear_chords")]
        self._request = 0
        self.last_dialog = None

    def say(self, text: str) -> None:
        app_signals().status_message.emit(text, STATUS_MS)

    # --- chords ----------------------------------------------------------------------------------
    def suggest_chords(self) -> None:
        from composer_app.ui.harmony.dialogs import SuggestChordsDialog

        span = melody_span(self.document)
        if span is None:
            self.say("Suggest chords: there are no notes to find chords for")
            return
        dialog = SuggestChordsDialog(self, span, parent=self.window)
        self.last_dialog = dialog
        dialog.show()

    def accept_chords(self, chords: ChordTrack, span: Span, text: str) -> None:
        project = self.document.project
        self.document.apply(project.with_chords(project.chords.replaced_span(span.start_tick, span.end_tick, chords)), text)

    def estimate_chords(self) -> None:
        project = self.document.project
        notes = [n for t in project.tracks if not t.is_drums for n in t.notes]
        span = melody_span(self.document)
        if span is None or not notes:
            self.say("Estimate chords: there are no notes")
            return
        from composer_app.arrange.accompany import _grid
        from composer_app.arrange.suggest import harmonic_rhythm_beats

        _v, arousal = document_mood(project)
        bounds = []
        for bar_start, per_beat, beats in _grid(project.time_signatures, span.start_tick, span.end_tick):
            step = harmonic_rhythm_beats(arousal, beats)
            bounds += [bar_start + b * per_beat for b in range(0, beats, step)]
        bounds = [b for b in bounds if span.start_tick <= b < span.end_tick] + [span.end_tick]
        chords = estimate_chords(notes, bounds, span.start_tick, span.end_tick)
        self.accept_chords(chords, span, "Estimate chords")

    def clear_chords(self) -> None:
        span = melody_span(self.document)
        project = self.document.project
        if not project.chords:
            return
        chords = ChordTrack() if span is None or not self.document.selected_notes() else \
            project.chords.without_span(span.start_tick, span.end_tick)
        self.document.apply(project.with_chords(chords), "Clear chords")

    # --- accompaniment ---------------------------------------------------------------------------
    def accompany(self) -> None:
        from composer_app.ui.harmony.dialogs import AccompanyDialog

        if not any(t.notes for t in self.document.project.tracks):
            self.say("Accompany: there are no notes to accompany")
            return
        dialog = AccompanyDialog(self, parent=self.window)
        self.last_dialog = dialog
        dialog.show()

    def apply_accompaniment(self, style: str, program: int, bass_program: int | None) -> None:
        from composer_app.arrange.accompany import accompany_project

        project = self.document.project
        valence, arousal = document_mood(project)
        span = melody_span(self.document)
        selected = bool(self.document.selected_notes())
        result = accompany_project(project, style, valence=valence, arousal=arousal, program=program,
                                   bass_program=bass_program if bass_program is not None else None,
                                   start_tick=span.start_tick if selected and span else None,
                                   end_tick=span.end_tick if selected and span else None)
        if not result.tracks:
            self.say("Accompany: no chords could be found")
            return
        tracks = result.tracks if bass_program is not None else result.tracks[:1]  # the pattern, without its bass
        new = project.with_tracks(project.tracks + tracks)
        if not project.chords:
            new = new.with_chords(result.chords)  # the chords it played are shown and editable
        self.document.apply(new, f"Add {result.style} accompaniment")

    # --- harmonization ---------------------------------------------------------------------------
    def harmonize(self, seed: int | None = None) -> None:
        span = melody_span(self.document)
        if span is None:
            self.say("Harmonize: there is no melody (select notes or pick a track with notes)")
            return
        project = self.document.project
        valence, arousal = document_mood(project)
        locked = {}
        for voice, name in enumerate(VOICE_NAMES, start=1):
            track = next((t for t in project.tracks if t.name == name), None)
            if track is not None:
                locked[voice] = [n for n in track.notes if span.start_tick <= n.start_tick < span.end_tick]
        self._request += 1
        seed = self._request if seed is None else seed
        self.say("Harmonizing…")
        self.worker.submit((self._request, span), project, list(span.notes), span.start_tick, span.end_tick,
                           valence, arousal, seed, locked)

    def _harmonized(self, tag, tracks) -> None:
        request, span = tag
        if request != self._request:
            return  # a newer request replaced it
        project = self.document.project
        all_tracks = list(project.tracks)
        for new in tracks:
            index = next((i for i, t in enumerate(all_tracks) if t.name == new.name), None)
            if index is None:
                all_tracks.append(new)
                continue
            old = all_tracks[index]
            kept = [n for n in old.notes if not span.start_tick <= n.start_tick < span.end_tick]
            inside = [n.with_channel(old.channel) for n in new.notes]
            all_tracks[index] = old.with_notes(kept + inside)
        self.document.apply(project.with_tracks(all_tracks), "Harmonize into four voices")
        self.say(f"Harmonized: {', '.join(f'{t.name} {len(t.notes)} notes' for t in tracks)}")
        self.harmonized.emit(tuple(tracks))


def install_harmony(window) -> HarmonyFeature:
    """Add the chord lane and the Harmony menu to the main window; returns the feature."""
    feature = HarmonyFeature(window)
    menus = getattr(window, "menus", {})
    menu = QMenu("&Harmony", window)
    menu.setObjectName("menu_harmony")
    for name, action in feature.actions.items():
        menu.addAction(action)
        window.addAction(action)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    help_menu = menus.get("help")
    if help_menu is not None:
        window.menuBar().insertMenu(help_menu.menuAction(), menu)
    else:
        window.menuBar().addMenu(menu)
    menus["harmony"] = menu
    if "lanes" in menus:
        menus["lanes"].addAction(feature.lane.toggle_action)
    controller = getattr(window, "suggest_controller", None)
    if controller is not None:  # chords proposed for a candidate's new bars show dashed in the lane
        controller.panel.chords_shown.connect(feature.lane.set_ghost_chords)
    window.destroyed.connect(lambda *_: feature.worker.shutdown())
    window.harmony = feature
    return feature
