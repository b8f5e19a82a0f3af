"""App-wide signals, declared in one place with their payloads.

Widgets that must react to something happening elsewhere in the window connect here instead of
reaching into each other. Per-document signals (project changed, selection changed) live on
:class:`composer_app.ui.document.Document`; these are the ones that cross features.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AppSignals(QObject):
    """One instance per application: ``app_signals()``."""

    playhead_moved = Signal(int)  # (tick) the transport's position, on the GUI thread
    playback_state_changed = Signal(bool)  # (is_playing)
    note_audition = Signal(int, int, int)  # (pitch, velocity, channel) "let me hear this note briefly"
    status_message = Signal(str, int)  # (text, timeout_ms; 0 = until replaced)
    output_status_changed = Signal(str)  # (one line describing the audio/MIDI output state)
    theme_changed = Signal()  # () the palette changed (light/dark)
    settings_changed = Signal(str)  # (settings key that changed, e.g. "editor/snap")


_instance: AppSignals | None = None


def app_signals() -> AppSignals:
    """The application's signal hub (created on first use, after the QApplication)."""
    global _instance
    if _instance is None:
        _instance = AppSignals()
    return _instance
