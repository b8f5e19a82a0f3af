"""The piano roll's actions: tools, selection, editing, zoom; shortcuts follow DAW habits."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup, QKeySequence

from composer_app.ui.actions import ActionCollection

_LOCAL = Qt.ShortcutContext.WidgetWithChildrenShortcut  # only while the piano roll has focus


class EditorActions(ActionCollection):
    """Actions of the piano-roll editor; dialogs are opened through ``dialog_host``."""

    name = "editor"
    title = "Piano roll"

    def __init__(self, editor, dialog_host):
        self.editor = editor
        self.dialog_host = dialog_host
        super().__init__(editor)
        group = QActionGroup(self)
        for name in ("tool_select", "tool_pen", "tool_eraser"):
            group.addAction(self.actions[name])
        self.actions["tool_pen"].setChecked(True)
        editor.tool_changed.connect(lambda name: self.actions[f"tool_{name}"].setChecked(True))
        for name in ("nudge_left", "nudge_right", "nudge_up", "nudge_down", "octave_up", "octave_down"):
            editor.addAction(self.actions[name])

    def create_actions(self) -> None:
        e = self.editor
        host = self.dialog_host
        add = self.add
        for tool, text, key, tip in (
            ("select", "&Select tool", "1", "Select, box-select, move and resize notes"),
            ("pen", "&Pen tool", "2", "Click to add a note, drag to set its length"),
            ("eraser", "&Eraser tool", "3", "Click or drag across notes to delete them"),
        ):
            action = add(f"tool_{tool}", text, None, key, checkable=True, tip=tip)
            action.triggered.connect(lambda _checked=False, t=tool: e.set_tool(t))

        add("select_all", "Select &all", e.select_all, QKeySequence.StandardKey.SelectAll)
        add("select_none", "Select &none", e.select_none, "Ctrl+Shift+A")
        add("invert_selection", "&Invert selection", e.invert_selection, "Ctrl+I")
        add("cut", "Cu&t", e.cut, QKeySequence.StandardKey.Cut)
        add("copy", "&Copy", e.copy, QKeySequence.StandardKey.Copy)
        add("paste", "&Paste at playhead", e.paste, QKeySequence.StandardKey.Paste)
        add("duplicate", "&Duplicate", e.duplicate, "Ctrl+D")
        add("delete", "De&lete", e.delete_selection, ["Del", "Backspace"])
        add("quantize", "&Quantize", lambda: host.quantize_with_last_settings(), "Q",
            tip="Quantize the selection (or all notes) with the last quantize settings")
        add("quantize_dialog", "Quantize&…", lambda: host.show_quantize_dialog(), "Shift+Q")
        add("transpose_dialog", "&Transpose…", lambda: host.show_transpose_dialog(), "Ctrl+T")
        add("velocity_dialog", "Set &velocity…", lambda: host.show_velocity_dialog(), "Ctrl+Shift+V")
        add("legato", "&Legato", e.legato, "Ctrl+L", tip="Stretch each note to the next one")
        add("nudge_left", "Nudge left", lambda: e.nudge(grid_steps=-1), "Left", context=_LOCAL)
        add("nudge_right", "Nudge right", lambda: e.nudge(grid_steps=1), "Right", context=_LOCAL)
        add("nudge_up", "Nudge up a semitone", lambda: e.nudge(semitones=1), "Up", context=_LOCAL)
        add("nudge_down", "Nudge down a semitone", lambda: e.nudge(semitones=-1), "Down", context=_LOCAL)
        add("octave_up", "Nudge up an octave", lambda: e.nudge(semitones=12), "Shift+Up", context=_LOCAL)
        add("octave_down", "Nudge down an octave", lambda: e.nudge(semitones=-12), "Shift+Down", context=_LOCAL)

        add("zoom_in", "Zoom &in", e.zoom_in, ["+", "="])
        add("zoom_out", "Zoom &out", e.zoom_out, "-")
        add("zoom_in_vertical", "Zoom in vertically", e.zoom_in_vertically, "Ctrl+Alt+=")
        add("zoom_out_vertical", "Zoom out vertically", e.zoom_out_vertically, "Ctrl+Alt+-")
        add("zoom_selection", "Zoom to &selection", e.zoom_to_selection, "Z")
        add("fit", "&Fit to content", e.fit_to_content, "F")
        ghost = add("ghost_notes", "Show &ghost notes of other tracks", None, None, checkable=True)
        ghost.setChecked(True)
        ghost.toggled.connect(lambda on: (setattr(e, "show_ghost_notes", on), e.canvas.update()))
        scale = add("scale_highlight", "Highlight the project's &key", None, None, checkable=True)
        scale.setChecked(True)
        scale.toggled.connect(lambda on: (setattr(e, "show_scale", on), e.canvas.update(), e.keyboard.update()))
        follow = add("follow_playhead", "&Follow playhead", None, None, checkable=True)
        follow.setChecked(True)
        follow.toggled.connect(lambda on: setattr(e, "follow_playhead", on))
