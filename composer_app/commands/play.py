"""`composer-app play IN.mid [--port NAME] [--channel N] [--synth]`: play live, return when done.

Nothing is left sounding however play ends: at the end, on Ctrl-C (SIGINT), on SIGTERM and SIGHUP
(a closed terminal, a service manager stopping it), every open output gets note-offs for what
sounds and all-notes-off on all 16 channels before the command exits (128 + the signal's number,
as shells report it). When every output is lost while playing (the MIDI peer quit, the JACK
server died) it says so and exits 1 within ``HEALTH_TIMEOUT_S`` instead of playing on to nothing.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from composer_app.commands.ports import MIDI_API_CHOICES, MIDI_API_HELP

HELP = "play a .mid or project file live to a MIDI port or through FluidSynth (returns when it ends)"
PROG = "composer-app play"
# Ctrl-C too: a KeyboardInterrupt raised at an arbitrary point of the main thread (inside a sink's
# check, between a lock's acquire and its try) could leave a lock held and the clean-up hanging.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
HEALTH_TIMEOUT_S = 1.0  # how long the loss of every output may go unnoticed
WAIT_STEP_S = 0.1  # how often the playing loop looks at stop requests and at the outputs' health


class _StopRequest:
    """A signal handler that only records the first stop signal; the playing loop acts on it.

    Nothing is raised inside the interrupted code, so every lock is released normally and the
    clean-up (note-offs, all-notes-off, closing the ports) runs in the ordinary ``finally``.
    """

    def __init__(self):
        self.signum: int | None = None

    def __call__(self, signum, _frame):
        if self.signum is None:
            self.signum = signum


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a .mid or project file")
    parser.add_argument("--port", metavar="NAME", help="a MIDI output port (or a unique part of its name)")
    parser.add_argument(
        "--channel", type=int, metavar="N", help="send every note on MIDI channel N (1-16) of the port"
    )
    parser.add_argument(
        "--virtual", action="store_true", help="create the virtual output port 'Composer Assistant out' and play there"
    )
    parser.add_argument(
        "--synth", action="store_true", help="play through FluidSynth (the default when no port is given)"
    )
    parser.add_argument("--soundfont", metavar="SF2", help="the soundfont for --synth")
    parser.add_argument("--midi-api", choices=MIDI_API_CHOICES, help=MIDI_API_HELP)


def _open_sinks(args, errors) -> list:
    from composer_app.errors import BadInputError
    from composer_app.playback.fluid import FluidSynthSink
    from composer_app.playback.midiports import MidiPortSink, MidiUnavailableError

    sinks = []
    channel = None
    if args.channel is not None:
        if not 1 <= args.channel <= 16:
            raise BadInputError("--channel must be in range 1..16")
        channel = args.channel - 1
    if args.port is not None or args.virtual:
        try:
            sinks.append(MidiPortSink(args.port, api=args.midi_api, channel=channel, virtual=args.virtual))
        except MidiUnavailableError as error:
            errors.append(f"cannot open a MIDI port: {error}")
    if args.synth or not (args.port is not None or args.virtual):
        synth = FluidSynthSink(args.soundfont)
        if synth.ok:
            sinks.append(synth)
        else:
            if args.soundfont and synth.soundfont is None:
                raise BadInputError(synth.status)
            errors.append(f"FluidSynth cannot play: {synth.status}")
            synth.close()
    return sinks


def run(args: argparse.Namespace) -> int:
    from composer_app.core.document_io import load_document

    project = load_document(args.file)
    # Lost outputs are reported once, below, in this command's own words (not again by the logger).
    logging.getLogger("composer_app.playback").addHandler(logging.NullHandler())
    stop = _StopRequest()
    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        code = _play(args, project, stop)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if stop.signum is not None:
        print(f"{PROG}: stopped by {signal.Signals(stop.signum).name}; all notes off sent", file=sys.stderr)
        return 128 + stop.signum
    return code


def _play(args: argparse.Namespace, project, stop: _StopRequest) -> int:
    from composer_app.playback.transport import Transport

    errors: list[str] = []
    sinks: list = []
    try:
        sinks = _open_sinks(args, errors)
    finally:
        if sys.exc_info()[0] is not None:  # an error while opening: close what is open
            for sink in sinks:
                sink.close()
    if stop.signum is not None:  # stopped while the ports opened: nothing has sounded yet
        for sink in sinks:
            sink.close()
        return 0
    for error in errors:
        print(f"{PROG}: {error}", file=sys.stderr)
    if not sinks:
        print(
            f"{PROG}: nothing to play to; 'composer-app ports' lists MIDI ports, "
            "'composer-app render' writes a WAV without a sound card",
            file=sys.stderr,
        )
        return 1
    transport = None
    try:
        if project.note_count == 0:
            print(f"{args.file}: no notes to play")
            return 0
        where = "; ".join(sink.status for sink in sinks)
        print(f"playing {args.file} ({project.note_count} notes, {project.duration_seconds:.1f} s): {where}", flush=True)
        transport = Transport(sinks)
        transport.play(project)
        # Wait for the end; give up early if every output has been lost.
        while not transport.wait(WAIT_STEP_S):
            if stop.signum is not None or not any(sink.check() for sink in sinks):
                break
    finally:
        if transport is not None:
            transport.close()  # stops, panics and closes every sink, also after a stop signal
        for sink in sinks:
            sink.close()  # (a sink closes once; this covers a signal before the transport existed)
    if stop.signum is not None:
        return 0  # run() reports the signal
    lost = [sink.status for sink in sinks if sink.failed]
    for status in lost:
        print(f"{PROG}: {status}", file=sys.stderr)
    if lost and len(lost) == len(sinks):
        print(f"{PROG}: stopped: every output was lost", file=sys.stderr)
        return 1
    print("done")
    return 0
