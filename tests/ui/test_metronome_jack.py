"""Issue 10, defect 12: metronome clicks stay on the built-in synth unless chosen; auditions never click.

The app plays to ``jack_midi_dump`` (a real third-party JACK MIDI peer) with the metronome on.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from composer_app.core.timing import TempoMap
from composer_app.playback.midiports import mido_backend_name
from tests.ui.conftest import TPQ, melody_project, show_window


@pytest.fixture
def port_window(qtbot, jack_server, midi_dump, monkeypatch):
    monkeypatch.setenv("MIDO_BACKEND", mido_backend_name("jack"))
    window = show_window(qtbot, replace(melody_project(), tempo_map=TempoMap.constant(240, TPQ)))
    window._set_output(False, midi_dump.port, None)  # the MIDI port only: what a DAW beside the app receives
    yield window
    window.playback.shutdown()


def _clicks(dump) -> list:
    return [m for m in dump.messages() if m.type == "note_on" and m.channel == 9 and m.note in (76, 77)]


def _play_a_bar(qtbot, window, dump) -> None:
    dump.clear()
    window.play(0)
    qtbot.wait(700)
    window.stop()
    qtbot.wait(100)


def test_clicks_do_not_go_out_to_the_midi_port_unless_chosen(qtbot, port_window, midi_dump):
    window = port_window
    window.transport_actions["metronome"].trigger()
    assert window.playback.metronome
    _play_a_bar(qtbot, window, midi_dump)
    notes = [m for m in midi_dump.messages() if m.type == "note_on"]
    assert notes and _clicks(midi_dump) == []  # the melody went out, the clicks did not
    window.playback.clicks_to_port = True  # Transport ▸ Output ▸ Metronome clicks to the MIDI port too
    _play_a_bar(qtbot, window, midi_dump)
    assert _clicks(midi_dump)


def test_an_audition_never_clicks(qtbot, port_window, midi_dump):
    window = port_window
    window.transport_actions["metronome"].trigger()
    window.playback.clicks_to_port = True
    midi_dump.clear()
    assert window.playback.play(window.document.project, 0, metronome=False)
    qtbot.wait(700)
    window.stop()
    qtbot.wait(100)
    assert [m for m in midi_dump.messages() if m.type == "note_on"] and _clicks(midi_dump) == []
