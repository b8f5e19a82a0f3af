"""`composer-app accompany IN.mid -o OUT.mid`: add a bass line and a pattern track that play the chords.

The chords are IN.mid's own chord track (written by this app as markers plus its meta event);
without one they are estimated: beat by beat from polyphonic material, or proposed by the chord
suggester for a single melody. OUT.mid holds IN.mid's tracks unchanged, the chord track (a marker
track) and the new tracks. ``--json`` prints the paths, style, chords, tracks and seconds taken.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from composer_app.errors import BadInputError

HELP = "add an accompaniment (bass + pattern in a style) that plays the chords of a MIDI file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from composer_app.arrange.accompany import STYLE_NAMES

    parser.add_argument("input", help="the music to accompany (.mid)")
    parser.add_argument("-o", "--output", required=True, help="the .mid file to write")
    parser.add_argument("--style", default=None, choices=STYLE_NAMES, metavar="NAME",
                        help=f"pattern: {', '.join(STYLE_NAMES)} (default: chosen from the mood and meter)")
    parser.add_argument("--valence", type=float, default=0.0, help="sad -1 … 1 happy (default 0)")
    parser.add_argument("--arousal", type=float, default=0.0, help="calm -1 … 1 excited (default 0)")
    parser.add_argument("--instrument", default=None, help="GM program of the pattern: 1..128 or a name ('Acoustic Grand Piano')")
    parser.add_argument("--bass-instrument", default=None, help="GM program of the bass: 1..128 or a name ('Cello')")
    parser.add_argument("--json", action="store_true", help="print one JSON object describing the result")


def check_unit(name: str, value: float) -> None:
    if not (math.isfinite(value) and -1.0 <= value <= 1.0):
        raise BadInputError(f"--{name} must be in range -1..1")


# Everyday instrument words -> the GM program they usually mean (0-based).
GM_ALIASES = {"piano": 0, "electric piano": 4, "harpsichord": 6, "organ": 19, "guitar": 24, "bass": 32,
              "strings": 48, "choir": 52, "pad": 89, "harp": 46, "flute": 73}


def gm_program(text: str | None, option: str) -> int | None:
    """A General MIDI program from "1".."128" (as musicians count) or a program name."""
    if text is None:
        return None
    from composer_app.core.midifile import GM_PROGRAM_NAMES

    if text.strip().isdigit():
        number = int(text)
        if not 1 <= number <= 128:
            raise BadInputError(f"--{option} must be a GM program 1..128 or a name")
        return number - 1
    wanted = text.strip().lower()
    if wanted in GM_ALIASES:
        return GM_ALIASES[wanted]
    for program, name in enumerate(GM_PROGRAM_NAMES):
        if name.lower() == wanted:
            return program
    matches = [p for p, name in enumerate(GM_PROGRAM_NAMES) if wanted in name.lower()]
    if len(matches) == 1:
        return matches[0]
    raise BadInputError(f"--{option}: no single GM instrument named {text!r}")


def load_input(path: Path):
    from composer_app.core.midifile import load_midi

    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    project = load_midi(path)  # MidiFileError is a BadInputError
    if project.note_count == 0:
        raise BadInputError(f"{path}: the file holds no notes")
    return project


def run(args: argparse.Namespace) -> int:
    check_unit("valence", args.valence)
    check_unit("arousal", args.arousal)
    program = gm_program(args.instrument, "instrument")
    bass_program = gm_program(args.bass_instrument, "bass-instrument")
    path = Path(args.input)
    project = load_input(path)

    from composer_app.arrange.accompany import accompany_project
    from composer_app.core.midifile import save_midi

    started = time.perf_counter()
    result = accompany_project(project, args.style, valence=args.valence, arousal=args.arousal,
                               program=program, bass_program=bass_program)
    if not result.chords:
        raise BadInputError(f"{path}: no chords could be found for it")
    out = project.with_tracks(project.tracks + result.tracks).with_chords(result.chords)
    target = Path(args.output)
    save_midi(out, target)  # MidiFileError (a BadInputError) when it cannot be written
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({
            "input": str(path),
            "output": str(target),
            "style": result.style,
            "chords_from": "file" if project.chords else "estimated",
            "chords": [{"symbol": e.chord.symbol(), "start_tick": e.start_tick, "duration_ticks": e.duration_ticks}
                       for e in result.chords],
            "tracks": [{"name": t.name, "program": t.program, "channel": t.channel, "notes": len(t.notes)} for t in result.tracks],
            "mood": {"valence": args.valence, "arousal": args.arousal},
            "seconds": round(seconds, 3),
        }))
    else:
        print(f"{target}: {result.style} accompaniment, {len(result.chords)} chords "
              f"({' '.join(result.chords.symbols()[:8])}{' …' if len(result.chords) > 8 else ''}), "
              + ", ".join(f"{t.name} {len(t.notes)} notes" for t in result.tracks))
    return 0
