"""Qt-free playback: sinks (FluidSynth, MIDI ports, a fake), the real-time transport, offline render.

Sinks — one abstraction for every output (``sink.py``)
    ``Sink``: the public ``send(msg)`` validates a ``mido.Message`` and takes the sink's lock, then
    calls the backend's ``_send``. ``panic()`` (sustain off, all-sound-off, all-notes-off on all 16
    channels), ``check()`` (is the device still there?), ``close()`` (panics first). ``ok`` says
    whether messages reach a device, ``status`` says in one line what the sink does or why it
    cannot; ``add_status_listener(callback(sink))`` hears changes. A failing backend never raises
    into playback: the sink marks itself failed and drops further messages.
    ``FluidSynthSink(soundfont=None)``: sound through FluidSynth and the platform's audio driver.
    No library, no soundfont, no audio device: ``ok`` is False and ``status`` says which
    (``can_render`` tells whether offline rendering still works).
    ``MidiPortSink(port_name, api=None, channel=None, virtual=False)``: an external MIDI port, or
    the virtual output "Composer Assistant out". Raises ``MidiUnavailableError`` /
    ``PortNotFoundError`` (a ``BadInputError``) when it cannot open; a port that disappears later
    is reported through ``ok``/``status`` and playback goes on with the other sinks.
    ``FakeSink``: records ``(perf_counter seconds, message)``; ``fail_after(n)`` simulates a lost device.

Soundfonts (``fluid.py``)
    ``find_soundfont(user_setting=None) -> Path | None`` searches the user's setting, then
    ``$COMPOSER_APP_SOUNDFONT`` (``SOUNDFONT_ENV_VAR``), then the system's usual places.

MIDI ports (``midiports.py``)
    ``list_output_ports(api=None)`` / ``list_input_ports(api=None)`` -> ``PortListing(names, reason,
    api)``, never raising: no MIDI system or no ports gives empty names and the reason.
    ``api`` is one of ``MIDI_APIS`` ("alsa", "jack", "coremidi", "winmm"; ``mido_backend_name(api)``
    gives mido's name, e.g. "mido.backends.rtmidi/UNIX_JACK"); None means ``$MIDO_BACKEND`` if set,
    else the platform's (Linux: ALSA, then JACK if a server runs).
    ``MidiInput(port_name, api=None, virtual=False)``: ``(timestamp_s, mido.Message)`` on its
    ``queue`` (a ``queue.Queue``), timestamps from ``time.perf_counter()``.

Transport (``transport.py``)
    ``Transport(sinks)``: ``play(project, start_tick=0)``, ``resume()``, ``pause()``, ``stop()``,
    ``seek(tick)``, ``set_loop(LoopRegion | None)``, ``update_project(project)``,
    ``set_sinks(sinks)``, ``audition_note(pitch, velocity=100, channel=0, program=0,
    duration_ms=300)``, ``wait(timeout)``, ``close()``; ``position_tick``, ``is_playing``,
    ``state``; ``add_position_listener(callback(tick))`` — called on the scheduler thread
    (~30 Hz while playing, and on stop/pause/seek/loop wrap); a GUI marshals it to its own thread.
    Stop cuts sounding notes, panics every sink and returns the playhead to where play started;
    pause holds it. Mute/solo, programs, channels and tempo changes come from the ``Project``.

Offline render (``render.py``)
    ``render_to_wav(project, path, soundfont=None, sample_rate_hz=44100) -> RenderResult``
    (duration, peak/RMS level, real-time factor); the same events as live playback.
"""

from composer_app.playback.fluid import (
    SOUNDFONT_ENV_VAR,
    FluidSynthSink,
    FluidSynthUnavailableError,
    SoundfontError,
    find_soundfont,
    soundfont_search_order,
)
from composer_app.playback.midiports import (
    MIDI_APIS,
    VIRTUAL_OUTPUT_NAME,
    MidiInput,
    MidiPortSink,
    MidiUnavailableError,
    PortListing,
    PortNotFoundError,
    list_input_ports,
    list_output_ports,
    mido_backend_name,
)
from composer_app.playback.render import RenderResult, render_samples, render_to_wav
from composer_app.playback.schedule import TimedEvent, project_events
from composer_app.playback.sink import FakeSink, Sink, panic_messages
from composer_app.playback.transport import TimingRecord, Transport

__all__ = [
    "MIDI_APIS",
    "SOUNDFONT_ENV_VAR",
    "VIRTUAL_OUTPUT_NAME",
    "FakeSink",
    "FluidSynthSink",
    "FluidSynthUnavailableError",
    "MidiInput",
    "MidiPortSink",
    "MidiUnavailableError",
    "PortListing",
    "PortNotFoundError",
    "RenderResult",
    "Sink",
    "SoundfontError",
    "TimedEvent",
    "TimingRecord",
    "Transport",
    "find_soundfont",
    "list_input_ports",
    "list_output_ports",
    "mido_backend_name",
    "panic_messages",
    "project_events",
    "render_samples",
    "render_to_wav",
    "soundfont_search_order",
]
