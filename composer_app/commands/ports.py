"""`composer-app ports`: list MIDI output and input ports, and why there are none."""

from __future__ import annotations

import argparse
import json

# The keys of composer_app.playback.midiports.MIDI_APIS, repeated so that --help needs no MIDI import.
MIDI_API_CHOICES = ("alsa", "jack", "coremidi", "winmm")
MIDI_API_HELP = "the MIDI system (default: $MIDO_BACKEND, else the platform's: on Linux ALSA, then JACK)"

HELP = "list MIDI output and input ports (and why there are none)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--midi-api", choices=MIDI_API_CHOICES, help=MIDI_API_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from composer_app.playback.midiports import list_input_ports, list_output_ports

    listings = {"outputs": list_output_ports(args.midi_api), "inputs": list_input_ports(args.midi_api)}
    if args.json:
        print(json.dumps({k: {"api": v.api, "names": list(v.names), "reason": v.reason} for k, v in listings.items()}))
        return 0
    for title, listing in (("MIDI outputs", listings["outputs"]), ("MIDI inputs", listings["inputs"])):
        if listing.names:
            print(f"{title} ({listing.api}):")
            for name in listing.names:
                print(f"  {name}")
        else:
            print(f"{title}: none ({listing.reason})")
    return 0
