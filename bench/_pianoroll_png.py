"""Draw a MIDI file as a piano-roll PNG (one colour per track, chord symbols on top) to look at results.

``python bench/pianoroll_png.py IN.mid OUT.png [--bars N]`` (needs matplotlib: the ``eval`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def draw(project, out: Path, bars: int | None = None, title: str | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    tpq = project.ticks_per_quarter
    end = project.end_tick
    if bars:
        end = min(end, project.time_signatures.bar_to_tick(bars))
    pitches = [n.pitch for t in project.tracks for n in t.notes if n.start_tick < end] or [60]
    fig, ax = plt.subplots(figsize=(max(8, end / tpq * 0.45), 6), dpi=110)
    for i, track in enumerate(project.tracks):
        colour = COLOURS[i % len(COLOURS)]
        for n in track.notes:
            if n.start_tick >= end:
                continue
            ax.add_patch(Rectangle((n.start_tick / tpq, n.pitch - 0.4), n.duration_ticks / tpq, 0.8,
                                   facecolor=colour, edgecolor="black", linewidth=0.4, alpha=0.85))
        ax.plot([], [], color=colour, linewidth=6, label=f"{track.name} ({len(track.notes)})")
    bar = 0
    while project.time_signatures.bar_to_tick(bar) <= end:
        ax.axvline(project.time_signatures.bar_to_tick(bar) / tpq, color="grey", linewidth=0.6)
        bar += 1
    top = max(pitches) + 3
    for e in project.chords:
        if e.start_tick < end:
            ax.text(e.start_tick / tpq + 0.05, top, e.chord.symbol(), fontsize=9, va="bottom")
    ax.set_xlim(0, end / tpq)
    ax.set_ylim(min(pitches) - 2, top + 3)
    ax.set_xlabel("quarter notes")
    ax.set_ylabel("MIDI pitch")
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main() -> int:
    from composer_app.core.midifile import load_midi

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--bars", type=int, default=None)
    args = parser.parse_args()
    draw(load_midi(args.input), Path(args.output), args.bars, Path(args.input).name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
