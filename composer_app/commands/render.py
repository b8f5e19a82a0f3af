"""`composer-app render IN.mid -o OUT.wav [--soundfont SF2]`: offline render through FluidSynth."""

from __future__ import annotations

import argparse
import sys

HELP = "render a .mid or project file to a WAV file through FluidSynth (no sound card needed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a .mid or project file")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.wav", help="the WAV file to write")
    parser.add_argument(
        "--soundfont",
        metavar="SF2",
        help="a General MIDI soundfont (.sf2/.sf3); default: $COMPOSER_APP_SOUNDFONT, then the system's",
    )
    parser.add_argument("--sample-rate", type=int, default=44100, metavar="HZ", help="default 44100")


def run(args: argparse.Namespace) -> int:
    from composer_app.core.document_io import load_document
    from composer_app.errors import BadInputError
    from composer_app.playback.fluid import FluidSynthUnavailableError
    from composer_app.playback.render import render_to_wav

    if not 8000 <= args.sample_rate <= 192000:
        raise BadInputError("--sample-rate must be in range 8000..192000")
    project = load_document(args.file)
    try:
        result = render_to_wav(project, args.output, soundfont=args.soundfont, sample_rate_hz=args.sample_rate)
    except FluidSynthUnavailableError as error:
        print(f"composer-app render: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        raise BadInputError(f"cannot write {args.output}: {error.strerror or error}") from error
    level = "silent" if result.peak_dbfs == float("-inf") else (
        f"peak {result.peak_dbfs:.1f} dBFS, RMS {result.rms_dbfs:.1f} dBFS"
    )
    print(
        f"wrote {result.path}: {result.duration_s:.2f} s, {result.sample_rate_hz} Hz stereo, {level} "
        f"({project.note_count} notes, soundfont {result.soundfont.name}, "
        f"{result.realtime_factor:.0f}x real time)"
    )
    return 0
