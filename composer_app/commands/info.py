"""`composer-app info FILE`: what a MIDI or project file holds (tracks, tempo, meter, length, key)."""

from __future__ import annotations

import argparse
import json
import math
import sys

HELP = "show what a MIDI or project file holds: tracks, tempo, meter, length, key"

MAX_LISTED_CHANGES = 6  # more tempo or meter changes than this are summarised in the text output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a .mid file or a .composer project file")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object instead of text (channels there are 0-based, as in MIDI data: 9 = drums)",
    )


def run(args: argparse.Namespace) -> int:
    from composer_app.core.document_io import load_document

    project = load_document(args.file)
    facts = describe(project)
    facts = {"file": args.file, **facts}
    if args.json:
        json.dump(facts, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_text(facts))
    return 0


def pitch_name(pitch: int) -> str:
    """Scientific pitch notation: 60 -> "C4", 61 -> "C#4"."""
    from composer_app.core.theory import PITCH_CLASS_NAMES

    return f"{PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _bpm_text(bpm: float) -> str:
    return f"{bpm:.2f}".rstrip("0").rstrip(".")


def describe(project) -> dict:
    """The facts ``info`` prints, as a JSON-able dict (channels 0-based)."""
    from composer_app.core.midifile import program_name
    from composer_app.core.theory import estimate_key

    meter = project.time_signatures

    def where(tick: int) -> str:
        return str(meter.tick_to_position(tick))  # 1-based "bar:beat"

    tracks = []
    for track in project.tracks:
        pitches = [n.pitch for n in track.notes]
        tracks.append(
            {
                "name": track.name,
                "program": track.program,
                "program_name": program_name(track.program, track.channel),
                "channel": track.channel,
                "notes": len(track.notes),
                "lowest_pitch": min(pitches, default=None),
                "highest_pitch": max(pitches, default=None),
                "mute": track.mute,
                "solo": track.solo,
            }
        )
    end_tick = project.end_tick
    length_bars = meter.tick_to_bars(end_tick)
    estimate = estimate_key(n for t in project.tracks for n in t.notes)
    return {
        "title": project.title,
        "ticks_per_quarter": project.ticks_per_quarter,
        "tracks": tracks,
        "notes": project.note_count,
        "tempos": [
            {"tick": c.tick, "position": where(c.tick), "bpm": round(c.bpm, 3)} for c in project.tempo_map.changes
        ],
        "time_signatures": [
            {"tick": c.tick, "position": where(c.tick), "numerator": c.numerator, "denominator": c.denominator}
            for c in meter.changes
        ],
        "end_tick": end_tick,
        "length_bars": round(length_bars, 3),
        "bars": math.ceil(length_bars - 1e-9),
        "length_seconds": round(project.duration_seconds, 3),
        "key_signature": project.key.name if project.key is not None else None,
        "key_estimate": (
            {"key": estimate.key.name, "correlation": round(estimate.correlation, 3)} if estimate is not None else None
        ),
    }


def _meter_text(change: dict) -> str:
    return f"{change['numerator']}/{change['denominator']}"


def _changes_text(items: list[dict], label) -> str:
    if len(items) > MAX_LISTED_CHANGES:
        return f"{label(items[0])} at first, {len(items) - 1} changes"
    parts = [label(items[0])]
    for item in items[1:]:
        position = item["position"]
        where = f"bar {position.split(':')[0]}" if position.endswith(":1") else position
        parts.append(f"{label(item)} from {where}")
    return "; ".join(parts)


def format_text(facts: dict) -> str:
    """The human-readable report (channels 1-based, as musicians count them)."""
    lines = [
        f"File:            {facts['file']}",
        f"Title:           {facts['title']}",
        f"Resolution:      {facts['ticks_per_quarter']} ticks per quarter note",
        f"Tracks:          {len(facts['tracks'])}",
    ]
    width = max((len(t["name"]) for t in facts["tracks"]), default=0)
    for number, track in enumerate(facts["tracks"], 1):
        if track["notes"]:
            span = f"{pitch_name(track['lowest_pitch'])}-{pitch_name(track['highest_pitch'])}"
        else:
            span = "-"
        flags = "".join(f"  [{flag}]" for flag in ("mute", "solo") if track[flag])
        lines.append(
            f"  {number:>2}. {track['name']:<{width}}  program {track['program']:>3} ({track['program_name']}), "
            f"channel {track['channel'] + 1}, {track['notes']} notes, {span}{flags}"
        )
    tempos = facts["tempos"]
    tempo_text = _changes_text(tempos, lambda t: f"{_bpm_text(t['bpm'])} BPM")
    if len(tempos) > MAX_LISTED_CHANGES:
        low, high = min(t["bpm"] for t in tempos), max(t["bpm"] for t in tempos)
        tempo_text += f" between {_bpm_text(low)} and {_bpm_text(high)} BPM"
    seconds = facts["length_seconds"]
    minutes = f" ({int(seconds // 60)}:{seconds % 60:04.1f})" if seconds >= 60 else ""
    key = "- (no pitched notes)"
    if facts["key_estimate"]:
        estimate = facts["key_estimate"]
        key = f"{estimate['key']} (estimated from the notes, correlation {estimate['correlation']:.2f})"
    if facts["key_signature"]:
        key += f"; the file says {facts['key_signature']}"
    lines += [
        f"Notes:           {facts['notes']}",
        f"Tempo:           {tempo_text}",
        f"Time signature:  {_changes_text(facts['time_signatures'], _meter_text)}",
        f"Length:          {facts['bars']} bars ({facts['length_bars']:g}), {seconds:.1f} s{minutes}",
        f"Key:             {key}",
    ]
    return "\n".join(lines) + "\n"
