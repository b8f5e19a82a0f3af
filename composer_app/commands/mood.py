"""`composer-app mood "TEXT"`: print the mood read from a line of story text, as one JSON object.

The object holds ``valence``, ``arousal``, ``emotion``, ``confidence``, ``evidence`` (the words that
contributed, each with the valence and arousal it added), ``negations``, ``explanation``,
``nearest_preset`` (null when nothing was read) and ``targets`` (the attribute targets the mood implies, from the one table in
``composer_app.mood.targets``). Empty text is bad input: one line on stderr, exit code 2. Text with
no known word is not an error: it reads as the neutral mood with confidence 0.
"""

from __future__ import annotations

import argparse
import json
import sys

from composer_app.errors import BadInputError

HELP = "print the mood (valence, arousal, emotion, attribute targets) read from a line of story text, as JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "text",
        nargs="*",
        help='the line of story text (quote it: "The ship sinks slowly into the dark water"); "-" reads stdin',
    )
    parser.add_argument("--indent", type=int, default=None, metavar="N", help="pretty-print the JSON with N spaces")


def reading_json(text: str) -> dict[str, object]:
    """The JSON object ``composer-app mood`` prints for ``text`` (no checks for emptiness here)."""
    from composer_app.mood.mood import nearest_preset
    from composer_app.mood.targets import targets_for
    from composer_app.mood.text import read_mood

    reading = read_mood(text)
    result = reading.to_dict()
    # Nothing read: no preset is "nearest" in any useful sense.
    result["nearest_preset"] = nearest_preset(reading.mood).name if reading.confidence > 0 else None
    result["targets"] = {name: round(value, 3) for name, value in targets_for(reading.mood).items()}
    return result


def run(args: argparse.Namespace) -> int:
    text = " ".join(args.text)
    if text.strip() == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise BadInputError('mood: no text given; try: composer-app mood "The ship sinks slowly into the dark water"')
    print(json.dumps(reading_json(text), ensure_ascii=False, indent=args.indent))
    return 0
