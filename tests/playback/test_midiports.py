"""MIDI port plumbing without a MIDI system: API names, MIDO_BACKEND, reasons instead of crashes."""

import sys

import pytest

from composer_app.commands.ports import MIDI_API_CHOICES
from composer_app.playback.midiports import (
    MIDI_APIS,
    MidiInput,
    MidiPortSink,
    MidiUnavailableError,
    candidate_apis,
    compiled_apis,
    list_input_ports,
    list_output_ports,
    match_port,
    mido_backend_name,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ALSA and JACK are Linux's")


@pytest.fixture
def no_midi_system(monkeypatch):
    """No ALSA sequencer (true on this machine) and no JACK server by that name."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "composer-test-no-such-server")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    monkeypatch.delenv("MIDO_BACKEND", raising=False)
    if "alsa" in compiled_apis():
        from composer_app.playback.midiports import _new_client

        try:
            _new_client("output", "alsa", "probe").delete()
        except MidiUnavailableError:
            return
        pytest.skip("this machine has an ALSA sequencer: the 'no MIDI system' case cannot be staged")


def test_api_names_map_to_mido_backends():
    assert mido_backend_name("alsa") == "mido.backends.rtmidi/LINUX_ALSA"
    assert mido_backend_name("jack") == "mido.backends.rtmidi/UNIX_JACK"
    assert mido_backend_name("coremidi") == "mido.backends.rtmidi/MACOSX_CORE"
    assert mido_backend_name("winmm") == "mido.backends.rtmidi/WINDOWS_MM"
    assert tuple(MIDI_APIS) == MIDI_API_CHOICES  # the CLI's copy of the names
    with pytest.raises(ValueError, match="api must be one of alsa, jack, coremidi, winmm"):
        mido_backend_name("oss")
    with pytest.raises(TypeError, match="api must be a str"):
        candidate_apis(3)


def test_mido_backend_is_honoured(monkeypatch):
    monkeypatch.setenv("MIDO_BACKEND", "mido.backends.rtmidi/UNIX_JACK")
    assert candidate_apis() == (["jack"], "MIDO_BACKEND")
    assert candidate_apis("alsa") == (["alsa"], "requested")  # an explicit choice wins
    monkeypatch.setenv("MIDO_BACKEND", "mido.backends.rtmidi")
    assert candidate_apis()[1] == "platform"
    monkeypatch.setenv("MIDO_BACKEND", "mido.backends.portmidi")
    with pytest.raises(MidiUnavailableError, match="MIDO_BACKEND=mido.backends.portmidi is not supported"):
        candidate_apis()
    listing = list_output_ports()
    assert listing.names == () and "not supported" in listing.reason


@linux_only
def test_platform_default_on_linux_is_alsa_then_jack(monkeypatch):
    monkeypatch.delenv("MIDO_BACKEND", raising=False)
    assert candidate_apis() == (["alsa", "jack"], "platform")


@linux_only
def test_no_midi_system_gives_no_ports_and_the_reason(no_midi_system):
    for listing in (list_output_ports(), list_input_ports()):
        assert listing.names == () and not listing and listing.api is None
        assert listing.reason.startswith("no MIDI system: alsa: no ALSA sequencer")
        assert "jack: no JACK server is running" in listing.reason
    alsa_only = list_output_ports("alsa")
    assert alsa_only.reason == "no MIDI system: alsa: no ALSA sequencer (this system has no MIDI support in the kernel)"


@linux_only
def test_opening_without_a_midi_system_raises_one_clear_error(no_midi_system):
    with pytest.raises(MidiUnavailableError, match="no MIDI system: alsa: no ALSA sequencer"):
        MidiPortSink("Some Synth")
    with pytest.raises(MidiUnavailableError, match="no MIDI system"):
        MidiPortSink(virtual=True, api="jack")
    with pytest.raises(MidiUnavailableError, match="no MIDI system"):
        MidiInput("Keyboard")


@linux_only
def test_api_not_built_in_is_a_reason():
    listing = list_output_ports("coremidi")
    assert listing.reason == "no MIDI system: coremidi: python-rtmidi was built without it"


def test_channel_is_validated_before_anything_opens():
    with pytest.raises(ValueError, match="channel must be in range 0..15"):
        MidiPortSink("x", channel=16)
    with pytest.raises(TypeError, match="channel must be an int"):
        MidiPortSink("x", channel="1")


def test_match_port_exact_then_unique_part():
    names = ["FLUID Synth (123):Synth input port (123:0)", "Midi Through:Midi Through Port-0 14:0", "dump:input"]
    assert match_port(names, "dump:input") == "dump:input"
    assert match_port(names, "fluid synth") == names[0]
    assert match_port(names, "Through") == names[1]
    assert match_port(names, "t") is None  # ambiguous
    assert match_port(names, "nothing") is None
