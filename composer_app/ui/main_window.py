"""The main window: menus, toolbars, track list, piano roll, transport bar, status bar and docks.

Other features plug in through ``add_panel`` (a dock whose widget is created the first time it
is shown, listed in the View ▸ Panels menu) and ``menus[...]`` / ``add_action`` (their own action
collections). The mood panel goes to the right dock area, the suggestions panel to the bottom.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStyle,
    QToolBar,
    QUndoView,
    QWidget,
)

from composer_app.core.project import Project
from composer_app.ui.actions import ActionCollection
from composer_app.ui.diagnostics import DiagnosticsActions
from composer_app.ui.dialogs import QuantizeDialog, ShortcutsDialog, TransposeDialog, VelocityDialog
from composer_app.ui.document import Document
from composer_app.ui.elided_label import ElidedLabel
from composer_app.ui.files.manager import FileManager, empty_project
from composer_app.ui.inspector import NoteInspector
from composer_app.ui.piano_roll.actions import EditorActions
from composer_app.ui.piano_roll.editor import PianoRollEditor
from composer_app.ui.piano_roll.view_state import SNAP_LABELS
from composer_app.ui.playback import PlaybackController
from composer_app.ui.signals import app_signals
from composer_app.ui.track_list import TrackListPanel
from composer_app.ui.transport_bar import TransportBar, format_position

APP_NAME = "Composer's Assistant"
STATUS_TIMEOUT_MS = 6000
STATUS_LABEL_MAX_PX = 170  # a permanent status label never crowds out the messages


class EditActions(ActionCollection):
    name = "edit"
    title = "Edit and window"

    def __init__(self, window: MainWindow):
        self.window = window
        super().__init__(window)

    def create_actions(self) -> None:
        w = self.window
        stack = w.document.undo_stack
        undo = stack.createUndoAction(w, "&Undo")
        undo.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        redo = stack.createRedoAction(w, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for name, action, label in (("undo", undo, "&Undo"), ("redo", redo, "&Redo")):
            # Short on the toolbar, the command's name in the tooltip (Qt sets "Undo <command>" first).
            changed = stack.undoTextChanged if name == "undo" else stack.redoTextChanged
            changed.connect(_ShortLabel(action, label).update)
            action.setObjectName(f"{self.name}.{name}")
            self.actions[name] = action
            self.default_shortcuts[name] = list(action.shortcuts())
        self.add("shortcuts", "&Keyboard shortcuts…", w.show_shortcuts_dialog, "Ctrl+Alt+K")


class TransportActions(ActionCollection):
    name = "transport"
    title = "Transport"

    def __init__(self, window: MainWindow):
        self.window = window
        super().__init__(window)

    def create_actions(self) -> None:
        w = self.window
        style = w.style()
        self.add("play", "Play", w.toggle_play, "Space", checkable=True,
                 icon=style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), tip="Play / stop (Space)")
        self.actions["play"].triggered.disconnect()
        self.actions["play"].triggered.connect(lambda _checked: w.toggle_play())
        self.add("play_from_start", "Play from start", w.play_from_start, ["Return", "Enter"])
        self.add("stop", "Stop", w.stop, None, icon=style.standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.add("to_start", "To start", lambda: w.seek(0), "Home",
                 icon=style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward))
        self.add("loop", "Loop", w.set_looping, "L", checkable=True, tip="Loop the ruler's loop region (drag on the ruler)")
        self.add("record", "Record", w.toggle_record, "R", checkable=True, tip="Record from the MIDI input")
        self.actions["record"].triggered.disconnect()
        self.actions["record"].triggered.connect(lambda _checked: w.toggle_record())
        self.add("metronome", "Click", w.set_metronome, "C", checkable=True, tip="Metronome")
        self.add("step_entry", "Step entry", w.set_step_entry, "Ctrl+Shift+E", checkable=True,
                 tip="Notes played on the MIDI input are added one after another at the playhead")


class MainWindow(QMainWindow):
    def __init__(self, document: Document | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("main_window")
        self.document = document or Document(empty_project())
        self.playback = PlaybackController(self)
        self.editor = PianoRollEditor(self.document)
        self.setCentralWidget(self.editor)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.menus: dict[str, QMenu] = {}
        self.panels: dict[str, QDockWidget] = {}
        self._panel_factories: dict[str, Callable[[], QWidget]] = {}
        self.recorder = None  # created on first use (ui.recording)
        self.last_quantize = ("1/16", 100, 0, False)

        self.files = FileManager(self)  # new/open/save/recent/import/export/drops, autosave, recovery
        self.file_actions = self.files.actions
        self.diagnostics = DiagnosticsActions(self)  # Help ▸ Open log folder
        self.edit_actions = EditActions(self)
        self.editor_actions = EditorActions(self.editor, self)
        self.transport_actions = TransportActions(self)
        self._build_docks()
        self._build_menus()
        self._build_toolbars()
        self._build_status_bar()
        self._connect()
        self._restore_settings()
        self._update_title()

    # --- construction --------------------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.track_list = TrackListPanel(self.document)
        dock = QDockWidget("Tracks", self)
        dock.setObjectName("dock_tracks")
        dock.setWidget(self.track_list)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.panels["tracks"] = dock
        self.undo_view = QUndoView(self.document.undo_stack)
        self.undo_view.setEmptyLabel("<original>")
        history = QDockWidget("History", self)
        history.setObjectName("dock_history")
        history.setWidget(self.undo_view)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, history)
        self.tabifyDockWidget(dock, history)  # a tab behind Tracks: the left column stays narrow (Ctrl+H)
        dock.raise_()
        self.panels["history"] = history

    def add_panel(
        self,
        name: str,
        title: str,
        factory: Callable[[], QWidget],
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
        *,
        visible: bool = True,
        shortcut: str | None = None,
    ) -> QDockWidget:
        """Add a dock whose widget ``factory()`` builds the first time the dock is shown."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(QLabel(""))
        self._panel_factories[name] = factory
        self.panels[name] = dock
        dock.visibilityChanged.connect(lambda shown, n=name: shown and self._materialise_panel(n))
        self.addDockWidget(area, dock)
        action = dock.toggleViewAction()
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        self.menus["panels"].addAction(action)
        dock.setVisible(visible)
        if visible:
            self._materialise_panel(name)
        return dock

    def panel_widget(self, name: str) -> QWidget | None:
        """The widget of panel ``name`` (built now if it was not yet)."""
        self._materialise_panel(name)
        dock = self.panels.get(name)
        return dock.widget() if dock else None

    def _materialise_panel(self, name: str) -> None:
        factory = self._panel_factories.pop(name, None)
        if factory is not None:
            self.panels[name].setWidget(factory())

    def add_action(self, menu: str, action: QAction) -> None:
        """Put another feature's action in one of ``menus`` (file, edit, notes, view, transport, panels, help)."""
        self.menus[menu].addAction(action)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        fa, ea, na, ta = self.file_actions, self.edit_actions, self.editor_actions, self.transport_actions
        m = self.menus["file"] = bar.addMenu("&File")
        for name in ("new", "open"):
            m.addAction(fa[name])
        m.addMenu(self.files.recent_menu)
        m.addAction(fa["import"])
        m.addSeparator()
        for name in ("save", "save_as"):
            m.addAction(fa[name])
        export = m.addMenu("&Export MIDI")
        for name in ("export_project", "export_track", "export_selection"):
            export.addAction(fa[name])
        m.addSeparator()
        m.addAction(fa["quit"])

        m = self.menus["edit"] = bar.addMenu("&Edit")
        m.addAction(ea["undo"])
        m.addAction(ea["redo"])
        m.addSeparator()
        for name in ("cut", "copy", "paste", "duplicate", "delete"):
            m.addAction(na[name])
        m.addSeparator()
        for name in ("select_all", "select_none", "invert_selection"):
            m.addAction(na[name])
        m.addSeparator()
        m.addAction(ea["shortcuts"])

        m = self.menus["notes"] = bar.addMenu("&Notes")
        for name in ("tool_select", "tool_pen", "tool_eraser"):
            m.addAction(na[name])
        m.addSeparator()
        for name in ("quantize", "quantize_dialog", "transpose_dialog", "velocity_dialog", "legato"):
            m.addAction(na[name])
        nudge = m.addMenu("N&udge")
        for name in ("nudge_left", "nudge_right", "nudge_up", "nudge_down", "octave_up", "octave_down"):
            nudge.addAction(na[name])

        m = self.menus["view"] = bar.addMenu("&View")
        for name in ("zoom_in", "zoom_out", "zoom_in_vertical", "zoom_out_vertical", "zoom_selection", "fit"):
            m.addAction(na[name])
        m.addSeparator()
        for name in ("ghost_notes", "scale_highlight", "follow_playhead"):
            m.addAction(na[name])
        self.menus["lanes"] = m.addMenu("&Lanes")
        for lane in self.editor.lanes():
            self.menus["lanes"].addAction(lane.toggle_action)
        m.addSeparator()
        self.menus["panels"] = m.addMenu("&Panels")
        self.menus["panels"].addAction(self.panels["tracks"].toggleViewAction())
        history_action = self.panels["history"].toggleViewAction()
        history_action.setShortcut(QKeySequence("Ctrl+H"))
        self.menus["panels"].addAction(history_action)

        m = self.menus["transport"] = bar.addMenu("&Transport")
        for name in ("play", "play_from_start", "stop", "to_start", "loop", "record", "metronome", "step_entry"):
            m.addAction(ta[name])
        m.addSeparator()
        self.output_menu = m.addMenu("&Output")
        self.output_menu.aboutToShow.connect(self._fill_output_menu)
        self.input_menu = m.addMenu("MIDI &input")
        self.input_menu.aboutToShow.connect(self._fill_input_menu)

        self.menus["help"] = bar.addMenu("&Help")
        self.menus["help"].addAction(self.diagnostics["open_log_folder"])
        about = QAction("&About", self)
        about.triggered.connect(lambda: QMessageBox.about(self, APP_NAME, f"{APP_NAME}\nA piano roll with local, mood-conditioned music generators."))
        self.menus["help"].addAction(about)

    def _build_toolbars(self) -> None:
        fa, ea, na = self.file_actions, self.edit_actions, self.editor_actions
        main = QToolBar("Main toolbar", self)
        main.setObjectName("toolbar_main")
        main.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in ("new", "open", "save"):
            main.addAction(fa[name])
        main.addSeparator()
        main.addAction(ea["undo"])
        main.addAction(ea["redo"])
        main.addSeparator()
        for name in ("tool_select", "tool_pen", "tool_eraser"):
            main.addAction(na[name])
        main.addSeparator()
        main.addWidget(QLabel(" Snap "))
        self.snap_combo = QComboBox()
        self.snap_combo.setObjectName("snap_combo")
        self.snap_combo.addItems(list(SNAP_LABELS))
        self.snap_combo.setCurrentText(self.editor.view.snap_label)
        self.snap_combo.setToolTip("Snap grid (hold Alt while dragging to bypass)")
        self.snap_combo.currentTextChanged.connect(self.editor.view.set_snap)
        self.editor.view.snap_changed.connect(self.snap_combo.setCurrentText)
        main.addWidget(self.snap_combo)
        main.addAction(na["quantize"])
        main.addSeparator()
        main.addAction(na["zoom_in"])
        main.addAction(na["zoom_out"])
        main.addAction(na["fit"])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, main)
        self.addToolBarBreak()
        self.transport_bar = TransportBar(self.document, self.transport_actions, self)  # a toolbar of its own
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.transport_bar)
        self.inspector = NoteInspector(self.document, self.editor)
        self.editor.add_header(self.inspector)  # above the ruler: only the roll gives up the height

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.hover_label = QLabel("")
        self.selection_label = QLabel("")
        self.output_label = ElidedLabel(self.playback.status_text(), STATUS_LABEL_MAX_PX)
        self.output_label.setObjectName("status_output")
        self.midi_label = QLabel("MIDI: ports not checked yet")
        self.midi_label.setObjectName("status_midi")
        self.model_label = ElidedLabel("Generators: load in the background when first used", STATUS_LABEL_MAX_PX)
        self.model_label.setObjectName("status_models")
        for label in (self.hover_label, self.selection_label, self.output_label, self.midi_label, self.model_label):
            status.addPermanentWidget(label)

    def _connect(self) -> None:
        signals = app_signals()
        document = self.document
        document.file_changed.connect(self._update_title)
        document.selection_changed.connect(self._update_selection_label)
        document.project_changed.connect(lambda _o, _n: self._update_selection_label())
        self.editor.canvas.hover_changed.connect(self._update_hover)
        self.editor.seek_requested.connect(self.seek)
        signals.note_audition.connect(self._audition)
        document.project_changed.connect(lambda _old, _new: self._update_playing_project())
        signals.status_message.connect(self.statusBar().showMessage)  # a slot: disconnected when the window goes
        self.playback.position_changed.connect(self._on_position)
        self.playback.state_changed.connect(self._on_play_state)
        self.playback.status_changed.connect(self.output_label.setText)
        self.playback.status_changed.connect(self.output_label.setToolTip)
        self.playback.port_lost.connect(lambda name, why: self.statusBar().showMessage(f"Lost MIDI port {name}", STATUS_TIMEOUT_MS))
        self.playback.port_back.connect(lambda name: self.statusBar().showMessage(f"MIDI port {name} is back", STATUS_TIMEOUT_MS))
        self.playback.ports_changed.connect(self._show_port_listing)
        self.playback.status_changed.connect(signals.output_status_changed.emit)
        self.editor.view.snap_changed.connect(lambda label: QSettings().setValue("editor/snap", label))

    # --- settings ---------------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        snap = settings.value("editor/snap")
        if snap in SNAP_LABELS:
            self.editor.view.set_snap(snap)
        tool = settings.value("editor/tool")
        if tool in self.editor.tools:
            self.editor.set_tool(tool)
        use_synth = settings.value("output/synth", True, type=bool)
        port = settings.value("output/port", "") or None
        channel = settings.value("output/channel", -1, type=int)
        self.playback.configure(use_synth, port, channel if channel >= 0 else None)
        self.playback.clicks_to_port = settings.value("output/clicks_to_port", False, type=bool)
        metronome = settings.value("transport/metronome", False, type=bool)
        self.transport_actions["metronome"].setChecked(metronome)
        self.playback.metronome = metronome

    def save_settings(self) -> None:
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("editor/snap", self.editor.view.snap_label)
        settings.setValue("editor/tool", self.editor.active_tool.name)
        settings.setValue("output/synth", self.playback.use_synth)
        settings.setValue("output/port", self.playback.port_name or "")
        settings.setValue("output/channel", -1 if self.playback.port_channel is None else self.playback.port_channel)
        settings.setValue("transport/metronome", self.transport_actions["metronome"].isChecked())
        settings.setValue("output/clicks_to_port", self.playback.clicks_to_port)

    # --- status -----------------------------------------------------------------------------------------
    def _update_title(self) -> None:
        name = self.document.display_name
        self.setWindowTitle(f"{name}[*] — {APP_NAME}")
        self.setWindowModified(self.document.is_dirty)

    def _update_hover(self, tick: int, pitch: int) -> None:
        from composer_app.core.theory import PITCH_CLASS_NAMES

        self.hover_label.setText(f"{format_position(self.document.project, max(0, tick))}  {PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}")

    def _update_selection_label(self) -> None:
        track = self.document.current_track
        total = len(track.notes) if track else 0
        selected = len(self.document.selection)
        self.selection_label.setText(f"{selected} of {total} notes selected" if selected else f"{total} notes")

    def report_error(self, text: str) -> None:
        """Show a problem without blocking (a window-modal box) and in the status bar."""
        self.statusBar().showMessage(text, STATUS_TIMEOUT_MS)
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("error_box")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_error = text

    # --- transport -------------------------------------------------------------------------------------------------
    def toggle_play(self) -> None:
        if self.playback.is_playing:
            self.stop()
        else:
            self.play(self.editor.playhead_tick)

    def play(self, start_tick: int) -> None:
        if not self.playback.play(self._playable_project(), start_tick):
            self.transport_actions["play"].setChecked(False)
            self.statusBar().showMessage(self.playback.status_text(), STATUS_TIMEOUT_MS)

    def play_from_start(self) -> None:
        self.stop()
        self.seek(0)
        self.play(0)

    def stop(self) -> None:
        was_playing = self.playback.is_playing
        self.playback.stop()
        if self.recorder is not None:
            self.recorder.stop()
            self.transport_actions["record"].setChecked(False)
        if not was_playing and self.editor.playhead_tick != 0:
            self.seek(0)  # Stop when stopped returns to the start, as DAWs do

    def seek(self, tick: int) -> None:
        self.editor.set_playhead(tick)
        self.transport_bar.set_position(tick)
        self.playback.seek(tick)
        app_signals().playhead_moved.emit(int(tick))

    def _on_position(self, tick: int) -> None:
        self.editor.set_playhead(tick)
        self.transport_bar.set_position(tick)
        app_signals().playhead_moved.emit(int(tick))

    def _on_play_state(self, playing: bool) -> None:
        self.editor.is_playing = playing
        self.transport_actions["play"].setChecked(playing)
        app_signals().playback_state_changed.emit(playing)

    def _playable_project(self) -> Project:
        project = self.document.project
        if not self.transport_actions["loop"].isChecked():
            project = replace(project, loop=None)
        return project

    def _update_playing_project(self) -> None:
        if self.playback.is_playing:
            self.playback.update_project(self._playable_project())

    def _audition(self, pitch: int, velocity: int, channel: int) -> None:
        track = self.document.current_track
        self.playback.audition(pitch, velocity, channel, track.program if track is not None else 0)

    def set_looping(self, on: bool) -> None:
        if on and self.document.project.loop is None:
            self.statusBar().showMessage("Drag on the ruler to choose the loop region.", STATUS_TIMEOUT_MS)
        self._update_playing_project()

    def set_metronome(self, on: bool) -> None:
        self.playback.metronome = on
        self._update_playing_project()

    def _recording(self):
        if self.recorder is None:
            from composer_app.ui.recording import Recorder

            self.recorder = Recorder(self)
        return self.recorder

    def toggle_record(self) -> None:
        recorder = self._recording()
        if recorder.is_recording:
            recorder.stop()
            self.transport_actions["record"].setChecked(False)
        else:
            started = recorder.start()
            self.transport_actions["record"].setChecked(started)

    def set_step_entry(self, on: bool) -> None:
        ok = self._recording().set_step_entry(on)
        if on and not ok:
            self.transport_actions["step_entry"].setChecked(False)

    def _fill_output_menu(self) -> None:
        menu = self.output_menu
        menu.clear()
        synth = menu.addAction("FluidSynth (built-in synth)")
        synth.setCheckable(True)
        synth.setChecked(self.playback.use_synth)
        synth.toggled.connect(lambda on: self._set_output(on, self.playback.port_name, self.playback.port_channel))
        menu.addSeparator()
        names, reason = _output_ports()
        lost = self.playback.lost_port
        if lost and lost not in names:  # the chosen port went away: say so where it was chosen
            gone = menu.addAction(f"{lost} (lost: reconnects when it returns)")
            gone.setCheckable(True)
            gone.setChecked(True)
            gone.setEnabled(False)
        none = menu.addAction("No MIDI port")
        none.setCheckable(True)
        none.setChecked(self.playback.port_name is None)
        none.triggered.connect(lambda: self._set_output(self.playback.use_synth, None, None))
        if not names:
            menu.addAction(reason or "No MIDI output ports found").setEnabled(False)
        for name in names:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == self.playback.port_name)
            action.triggered.connect(lambda _c=False, n=name: self._set_output(self.playback.use_synth, n, self.playback.port_channel))
        clicks = menu.addAction("Metronome clicks to the MIDI port too")
        clicks.setCheckable(True)
        clicks.setChecked(self.playback.clicks_to_port)
        clicks.setToolTip("Off: the clicks sound on the built-in synth only, so the DAW or synth on the port never plays them")
        clicks.toggled.connect(lambda on: (setattr(self.playback, "clicks_to_port", on), self.save_settings()))
        channel_menu = menu.addMenu("Port channel")
        for ch in [None, *range(16)]:
            action = channel_menu.addAction("Each track's own" if ch is None else f"Channel {ch + 1}")
            action.setCheckable(True)
            action.setChecked(ch == self.playback.port_channel)
            action.triggered.connect(lambda _c=False, c=ch: self._set_output(self.playback.use_synth, self.playback.port_name, c))

    def _set_output(self, use_synth: bool, port: str | None, channel: int | None) -> None:
        self.playback.configure(use_synth, port, channel)
        self.save_settings()
        self.output_label.setText(self.playback.status_text())

    def _fill_input_menu(self) -> None:
        menu = self.input_menu
        menu.clear()
        from composer_app.ui.recording import input_port_choices

        names, reason = input_port_choices()  # the app's own ports are never offered
        if not names:
            menu.addAction(reason or "No MIDI input ports found").setEnabled(False)
        current = QSettings().value("input/port", "")
        for name in names:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == current)
            action.triggered.connect(lambda _c=False, n=name: QSettings().setValue("input/port", n))

    def refresh_port_status(self) -> None:
        """Say in the status bar whether MIDI ports exist (checked after the window shows)."""
        self._show_port_listing(*_output_ports())

    def _show_port_listing(self, names, reason: str) -> None:
        self.midi_label.setText(f"MIDI out: {len(names)} port(s)" if names else "MIDI out: none")
        self.midi_label.setToolTip("\n".join(names) if names else (reason or "no MIDI output ports"))

    # --- dialogs (the editor actions call these) ---------------------------------------------------------------------
    def quantize_with_last_settings(self) -> None:
        label, strength, swing, ends = self.last_quantize
        from composer_app.ui.piano_roll.view_state import grid_ticks

        self.editor.quantize(grid_ticks(label, self.document.project.ticks_per_quarter), strength / 100, swing / 100, ends)

    def show_quantize_dialog(self) -> None:
        label, strength, swing, ends = self.last_quantize
        if label == "Off":
            label = "1/16"
        dialog = QuantizeDialog(self.editor.view.snap_label if self.editor.view.snap_label != "Off" else label, strength, swing, ends, self)
        if dialog.exec():
            self.last_quantize = dialog.values()
            self.quantize_with_last_settings()

    def show_transpose_dialog(self) -> None:
        from composer_app.core.theory import estimate_key

        key, estimated = self.document.project.key, False
        if key is None:  # steps of a scale need one: estimate it rather than transpose chromatically
            estimate = estimate_key(self.editor._targets().split(self.editor._notes())[0])
            key, estimated = (estimate.key if estimate is not None else None), True
        dialog = TransposeDialog(self, key, estimated)
        if dialog.exec() and dialog.semitones.value():
            steps = dialog.semitones.value()
            if dialog.in_scale.isChecked() and key is not None:
                self._transpose_in_scale(steps, key)
            else:
                self.editor.transpose(steps)

    def _transpose_in_scale(self, steps: int, key) -> None:
        from composer_app.core.theory import transpose_in_scale
        from composer_app.ui.selection import Selection

        notes = self.editor._notes()
        targets = self.editor._targets()
        selected, rest = targets.split(notes)
        try:
            moved = list(transpose_in_scale(selected, steps, key))
        except ValueError as error:
            self.report_error(str(error))
            return
        self.document.apply_track_notes(rest + moved, f"Transpose {steps:+d} steps", selection=Selection(moved))

    def show_velocity_dialog(self) -> None:
        selected = self.document.selected_notes()
        velocity = round(sum(n.velocity for n in selected) / len(selected)) if selected else self.editor.last_velocity
        dialog = VelocityDialog(velocity, self)
        if dialog.exec():
            if dialog.set_radio.isChecked():
                self.editor.set_velocity(dialog.value.value())
                self.editor.last_velocity = dialog.value.value()
            else:
                self.editor.set_velocity(None, dialog.delta.value())

    def show_shortcuts_dialog(self) -> None:
        ShortcutsDialog(self).exec()

    # --- closing --------------------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.files.maybe_save():  # a save that fails (it says why) keeps the window open
            event.ignore()
            return
        self.save_settings()
        if self.recorder is not None:
            self.recorder.shutdown()
        self.playback.shutdown()
        self.files.close()  # a clean exit: the autosaved copies go
        event.accept()


class _ShortLabel(QObject):
    """Keeps an undo/redo action's text short and puts the command in its tooltip (a child of the action,
    so the connection goes when the action does)."""

    def __init__(self, action: QAction, label: str):
        super().__init__(action)
        self.action, self.label = action, label
        self.update("")

    def update(self, command: str) -> None:
        plain = self.label.replace("&", "")
        try:
            self.action.setText(self.label)
            self.action.setToolTip(f"{plain} {command}" if command else plain)
        except RuntimeError:  # the stack clears itself while the window is being destroyed
            pass


def _output_ports() -> tuple[list[str], str]:
    from composer_app.ui.playback import list_output_ports

    return list_output_ports()


def example_path() -> Path:
    from composer_app.paths import example_clip

    return example_clip()


def main_window_for(file: str | None) -> MainWindow:
    """A window with ``file`` (or the example clip) opened; a bad file leaves an empty document."""
    window = MainWindow()
    path = Path(file) if file else example_path()
    if file or path.exists():
        window.files.open_file(path, ask=False)
    else:
        window.editor.fit_to_content()
    return window
