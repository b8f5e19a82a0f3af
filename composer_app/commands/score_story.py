"""`composer-app score-story STORY.txt -o OUT.mid`: music for a whole story, turning where it turns.

The text (.txt or .md) is split into scenes, each scene read for its emotion, and the story scored
as one continuous multi-track piece (``composer_app.scoring.score``). ``--wav`` also renders it;
``--project`` also writes the editable project (with the story and the mood timeline in it).
``--json`` prints one object: per scene its text span, emotion, valence/arousal, start/end in bars,
beats and seconds, its arrangement, the attributes measured on its music and the mood read back
from the music, plus the narrative-fit Spearman per axis.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from composer_app.errors import BadInputError

HELP = "score a story: text → scenes → mood timeline → one continuous multi-track piece (.mid)"
MAX_STORY_BYTES = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("story", help="the story text (.txt or .md); blank lines or --- lines separate scenes")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.mid", help="the MIDI file to write")
    parser.add_argument("--wav", metavar="OUT.wav", help="also render the piece to a WAV file")
    parser.add_argument("--project", metavar="OUT.composer", help="also write the editable project file")
    parser.add_argument("--bars-per-scene", type=int, default=None, metavar="N",
                        help="every scene this many bars (default: from its reading time, 2..16)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--tempo", type=float, default=None, metavar="BPM",
                        help="the story's tempo at a neutral mood (default 96); each scene scales it")
    parser.add_argument("--json", action="store_true", help="print one JSON object describing the result")


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_STORY_BYTES:
        raise BadInputError(f"{path}: too large for a story ({size} bytes; at most {MAX_STORY_BYTES})")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: not a text file (not UTF-8)") from None


def run(args: argparse.Namespace) -> int:
    from composer_app.mood.story import MAX_SCENE_BARS, MIN_SCENE_BARS, BASE_TEMPO_BPM, StoryError, read_story

    if args.bars_per_scene is not None and not MIN_SCENE_BARS <= args.bars_per_scene <= MAX_SCENE_BARS:
        raise BadInputError(f"--bars-per-scene must be in range {MIN_SCENE_BARS}..{MAX_SCENE_BARS}")
    if not 0 <= args.seed < 2**31:
        raise BadInputError("--seed must be in range 0..2147483647")
    base_bpm = BASE_TEMPO_BPM if args.tempo is None else args.tempo
    if not 30 <= base_bpm <= 240:
        raise BadInputError("--tempo must be in range 30..240")
    output = Path(args.output)
    if output.suffix.lower() not in (".mid", ".midi"):
        raise BadInputError(f"{output}: the output must be a .mid file")
    text = _read_text(Path(args.story))

    import torch

    torch.set_num_threads(1)  # small matrix products: a second thread only adds synchronisation
    from composer_app.core.midifile import save_midi
    from composer_app.scoring.score import score_story

    started = time.perf_counter()
    quiet = args.json

    def progress(done: int, total: int, message: str) -> None:
        if not quiet:
            print(f"[{done}/{total}] {message}", file=sys.stderr, flush=True)

    if not quiet:
        print("reading the story", file=sys.stderr, flush=True)
    try:
        story = read_story(text, bars_per_scene=args.bars_per_scene, base_bpm=base_bpm)
    except StoryError as error:
        raise BadInputError(f"{args.story}: {error}") from None
    read_seconds = time.perf_counter() - started
    scored = score_story(story, seed=args.seed, base_bpm=base_bpm, progress=progress)
    try:
        save_midi(scored.project, output)
    except OSError as error:
        raise BadInputError(f"cannot write {output}: {error.strerror or error}") from None
    written = {"midi": str(output)}
    if args.project:
        from composer_app.core.projectfile import save_project

        save_project(scored.project, args.project)
        written["project"] = args.project
    render = None
    if args.wav:
        from composer_app.playback.fluid import FluidSynthUnavailableError
        from composer_app.playback.render import render_to_wav

        try:
            render = render_to_wav(scored.project, args.wav)
        except FluidSynthUnavailableError as error:
            print(f"composer-app score-story: {error}", file=sys.stderr)
            return 1
        except OSError as error:
            raise BadInputError(f"cannot write {args.wav}: {error.strerror or error}") from None
        written["wav"] = str(render.path)
    seconds = time.perf_counter() - started
    report = scored.to_dict()
    report.update({"story": str(args.story), "files": written, "seconds": round(seconds, 2),
                   "seconds_reading": round(read_seconds, 2)})
    if args.json:
        print(json.dumps(report))
    else:
        for row in report["scenes"]:
            print(
                f"scene {row['index'] + 1:>2}  bars {row['start_bar'] + 1:>3}-{row['end_bar']:<3} {row['emotion']:<11} "
                f"V {row['valence']:+.2f} A {row['arousal']:+.2f}  → heard V {row['read_back']['valence']:+.2f} "
                f"A {row['read_back']['arousal']:+.2f}  {row['tempo_bpm']:.0f} bpm {row['key']:<9} "
                f"{row['instruments']['melody']}  ({', '.join(row['why'][:3])})"
            )
        fit = report["narrative_fit_spearman"]
        print(
            f"wrote {', '.join(written.values())}: {report['bars']} bars, {report['seconds_of_music']:.1f} s of music, "
            f"{report['notes']} notes in {seconds:.1f} s; narrative fit (Spearman) valence {fit['valence']}, "
            f"arousal {fit['arousal']}"
        )
    return 0
