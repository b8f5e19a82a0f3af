"""Harmony evaluation (the harmony section of ``composer-app evaluate --harmony``), dev vs held-out.

Chorales: the corpus's held-out chorales (never trained on) and the dev chorales (used to pick the
checkpoint and the decoding settings) are reported apart. Folk melodies: Essen songs from the
converted corpus cache, held-out by the corpus split; dev songs are a hashed share of the rest.
Measures:

- chord-label agreement with Bach (music21's Roman-numeral labels, per beat; root, and root + triad
  quality) for the chord suggester given the soprano and the key (music21's, as the baseline gets),
  against a lookup baseline (the chord most often under that soprano scale degree in training),
  and for the chord estimator given all voices;
- voice-leading errors per 100 transitions (parallel fifths/octaves, crossings, range) of the
  harmonizer's alto/tenor/bass under Bach's soprano, next to Bach's own rate; also the network's
  own rate with the sampler's parallel ban off (``raw``);
- harmonizer NLL per alto/tenor/bass cell (chain rule, left to right) vs a per-voice Markov baseline;
- chord-tone rate on strong beats of suggested progressions on folk melodies, next to Bach's soprano
  against Bach's chords;
- seconds to harmonize 8 bars into 4 voices (model loaded; and with loading).

:func:`evaluate_harmony` returns the report (a dict); :func:`markdown` writes it as Markdown.
``bench/harmony_eval.py`` is a thin wrapper that also draws and renders one harmonization.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from composer_app.arrange import suggest as sg
from composer_app.core.chords import QUALITIES, Chord, ChordTrack, estimate_chords
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.timing import TimeSignatureChange, TimeSignatureMap
from composer_app.core.track import Track
from composer_app.generation import harmonizer as hz
from composer_app.generation.harmonize import harmonize
from composer_app.generation.voice_leading import VoiceLeadingCounts, count_errors

TRIAD_OF = {"maj": "maj", "7": "maj", "maj7": "maj", "6": "maj", "m": "m", "m7": "m", "m6": "m", "mmaj7": "m",
            "dim": "dim", "m7b5": "dim", "dim7": "dim", "aug": "aug", "sus2": "sus", "sus4": "sus", "7sus4": "sus"}


def chorale_project(c, voices=(0,)) -> Project:
    tpq = c.ticks_per_quarter
    tracks = []
    for v in voices:
        notes = [Note(int(s), int(p), int(d)) for s, d, p in c.voice(v)]
        tracks.append(Track(("Soprano", "Alto", "Tenor", "Bass")[v], notes=notes))
    ts = TimeSignatureMap([TimeSignatureChange(0, c.numerator, c.denominator)], tpq)
    return Project(tracks=tuple(tracks), ticks_per_quarter=tpq, time_signatures=ts)


def bach_beats(c) -> list[tuple[int, int, str] | None]:
    """Per beat (quarter): (root pc, triad quality name, full quality) of music21's label, or None."""
    out, r, rows = [], 0, c.chords
    for tick in range(0, c.end_tick, c.ticks_per_quarter):
        while r + 1 < len(rows) and rows[r + 1][0] <= tick:
            r += 1
        start, dur, root, q, _b, _m = (int(x) for x in rows[r])
        out.append((root, TRIAD_OF[QUALITIES[q]], QUALITIES[q]) if start <= tick < start + dur and q >= 0 else None)
    return out


def bach_track(c) -> ChordTrack:
    """music21's labels as a chord track (a segment overlapping the one before starts where it ends)."""
    from composer_app.core.chords import ChordEvent

    events, last_end = [], 0
    for start, dur, root, q, _b, _m in (tuple(int(x) for x in row) for row in c.chords):
        start, end = max(start, last_end), start + dur
        if q < 0 or end <= start:
            continue
        events.append(ChordEvent(Chord(root, QUALITIES[q]), start, end - start))
        last_end = end
    return ChordTrack(tuple(events))


def agreement(track: ChordTrack, labels, tpq: int) -> tuple[int, int, int]:
    """(beats compared, root agreements, root+triad agreements)."""
    n = root = full = 0
    for b, label in enumerate(labels):
        if label is None:
            continue
        event = track.at(b * tpq)
        if event is None:
            continue
        n += 1
        if event.chord.root_pc == label[0]:
            root += 1
            full += TRIAD_OF[event.chord.quality] == label[1]
    return n, root, full


class LookupBaseline:
    """The chord seen most often over each soprano scale degree (relative to the key) in training."""

    def __init__(self, chorales):
        counts = np.zeros((2, 12, 12 * len(sg.STATE_QUALITIES)))
        for c in chorales:
            labels = bach_beats(c)
            soprano = c.voice(0)
            for b, label in enumerate(labels):
                if label is None or label[2] not in sg.STATE_QUALITIES:
                    continue
                pitch = _sounding(soprano, b * c.ticks_per_quarter)
                if pitch is None:
                    continue
                state = sg.chord_state(label[0] - c.tonic_pc, label[2])
                counts[int(c.minor), (pitch - c.tonic_pc) % 12, state] += 1
        self.best = counts.argmax(axis=2)

    def track(self, c) -> ChordTrack:
        from composer_app.core.chords import ChordEvent

        tpq = c.ticks_per_quarter
        events = []
        for b in range(c.end_tick // tpq):
            pitch = _sounding(c.voice(0), b * tpq)
            if pitch is None:
                continue
            state = int(self.best[int(c.minor), (pitch - c.tonic_pc) % 12])
            events.append(ChordEvent(sg.state_chord(state, c.tonic_pc), b * tpq, tpq))
        return ChordTrack(tuple(events))


def _sounding(rows, tick):
    for s, d, p in rows:
        if s <= tick < s + d:
            return int(p)
    return None


def suggester_section(chorales, baseline, model=None) -> dict:
    total = {"suggester": [0, 0, 0], "baseline": [0, 0, 0], "estimator_all_voices": [0, 0, 0]}
    tone = [0.0, 0]
    bach_tone = [0.0, 0]
    for c in chorales:
        labels = bach_beats(c)
        tpq = c.ticks_per_quarter
        project = chorale_project(c)
        options = sg.suggest_chords(project, span_beats=1, alternatives=1, key=(c.tonic_pc, c.minor), model=model)
        if options:
            for k, v in zip(range(3), agreement(options[0].chords, labels, tpq)):
                total["suggester"][k] += v
            rate, count = sg.chord_tone_rate(project.tracks[0].notes, options[0].chords, project.time_signatures)
            tone[0] += rate * count
            tone[1] += count
        for k, v in zip(range(3), agreement(baseline.track(c), labels, tpq)):
            total["baseline"][k] += v
        full = chorale_project(c, (0, 1, 2, 3))
        beats = list(range(0, c.end_tick, tpq)) + [c.end_tick]
        estimated = estimate_chords([n for t in full.tracks for n in t.notes], beats)
        for k, v in zip(range(3), agreement(estimated, labels, tpq)):
            total["estimator_all_voices"][k] += v
        bach = bach_track(c)
        rate, count = sg.chord_tone_rate(project.tracks[0].notes, bach, project.time_signatures)
        bach_tone[0] += rate * count
        bach_tone[1] += count
    out = {}
    for name, (n, root, full) in total.items():
        out[name] = {"beats": n, "root_agreement": round(root / max(1, n), 4), "root_triad_agreement": round(full / max(1, n), 4)}
    out["suggester_chord_tone_rate_strong_beats"] = round(tone[0] / max(1, tone[1]), 4)
    out["bach_soprano_chord_tone_rate_strong_beats"] = round(bach_tone[0] / max(1, bach_tone[1]), 4)
    return out


def grid_of(c) -> np.ndarray:
    grid, _ = hz.chorale_grid(c)
    return np.where(grid == hz.REST, -1, grid + hz.PITCH_MIN)


def harmonizer_section(chorales, model, seed: int, *, no_parallels: bool = True,
                       on_first: Callable[[Project, str], None] | None = None) -> dict:
    """Voice-leading errors and chord agreement of the harmonizer's lower voices under Bach's sopranos.

    ``no_parallels=False`` switches the sampler's parallel ban off: the network's own rate.
    ``on_first(project, source_id)`` receives the first harmonized chorale (to draw or render it).
    """
    generated, bach = VoiceLeadingCounts(), VoiceLeadingCounts()
    agree = [0, 0, 0]
    for i, c in enumerate(chorales):
        project = chorale_project(c)
        result = harmonize(project, voices=4, seed=seed + i, model=model, start_tick=0, end_tick=c.end_tick,
                           no_parallels=no_parallels)
        tpq = c.ticks_per_quarter
        tps = tpq // hz.STEPS_PER_QUARTER
        steps = -(-c.end_tick // tps)
        rows = [hz.notes_to_row([(n.start_tick, n.duration_ticks, n.pitch) for n in project.tracks[0].notes], steps, tps)]
        rows += [hz.notes_to_row([(n.start_tick, n.duration_ticks, n.pitch) for n in t.notes], steps, tps) for t in result.tracks]
        grid = np.stack(rows)
        gen_grid = np.where(grid == hz.REST, -1, grid + hz.PITCH_MIN)
        # notes_to_row folds pitches into the grid range; the harmonizer's voices are inside it already
        generated.add(count_errors(gen_grid))
        bach.add(count_errors(grid_of(c)))
        beats = list(range(0, c.end_tick, tpq)) + [c.end_tick]
        notes = list(project.tracks[0].notes) + [n for t in result.tracks for n in t.notes]
        for k, v in zip(range(3), agreement(estimate_chords(notes, beats), bach_beats(c), tpq)):
            agree[k] += v
        if on_first is not None and i == 0:
            on_first(project.with_tracks(project.tracks + result.tracks), c.source_id)
    return {
        "generated_per_100_transitions": generated.per_100(),
        "bach_per_100_transitions": bach.per_100(),
        "generated_transitions": generated.transitions,
        "bach_transitions": bach.transitions,
        "chord_label_agreement_with_bach": {"beats": agree[0], "root": round(agree[1] / max(1, agree[0]), 4),
                                            "root_triad": round(agree[2] / max(1, agree[0]), 4)},
    }


class MarkovBaseline:
    """P(cell | previous cell of the same voice), per voice, counted over training chorales in all keys."""

    def __init__(self, chorales, smoothing: float = 0.5):
        counts = np.full((4, hz.N_CLASSES, hz.N_CLASSES), smoothing)
        for c in chorales:
            grid, _ = hz.chorale_grid(c)
            pitched = grid != hz.REST
            low, high = grid[pitched].min(), grid[pitched].max()
            for k in range(-6, 6):
                if low + k < 0 or high + k >= hz.REST:
                    continue
                g = np.where(pitched, grid + k, grid)
                for v in range(4):
                    np.add.at(counts[v], (g[v, :-1], g[v, 1:]), 1)
        self.logp = np.log(counts / counts.sum(axis=2, keepdims=True))

    def nll(self, grid, order) -> float:
        return float(-sum(self.logp[v, grid[v, t - 1], grid[v, t]] for v, t in order if t > 0))


def nll_section(chorales, model, baseline: MarkovBaseline, window: int) -> dict:
    model_total = base_total = 0.0
    cells = 0
    for c in chorales:
        grid, spb = hz.chorale_grid(c)
        grid = grid[:, :window]
        metric = hz.metric_positions(grid.shape[1], spb)
        order = [(v, t) for t in range(1, grid.shape[1]) for v in (1, 2, 3)]
        model_total += hz.cells_nll(model, grid, metric, c.minor, order)
        base_total += baseline.nll(grid, order)
        cells += len(order)
    return {"cells": cells, "harmonizer_nats_per_cell": round(model_total / cells, 4),
            "markov_baseline_nats_per_cell": round(base_total / cells, 4),
            "improvement": round(1 - model_total / base_total, 4)}


def folk_section(limit: int, heldout: bool, model=None) -> dict:
    from composer_app.generation.data import is_heldout, load_corpus

    pieces = load_corpus(("essenFolksong",))
    if not pieces:
        raise FileNotFoundError("no converted Essen melodies in the corpus cache (python -m composer_app.generation.data)")
    if heldout:
        pieces = [p for p in pieces if is_heldout(p.source_id)]
    else:
        pieces = [p for p in pieces if not is_heldout(p.source_id) and hashlib.sha1(("dev:" + p.source_id).encode()).digest()[0] < 8]
    pieces = pieces[:limit]
    results = {}
    for arousal in (-0.8, 0.0, 0.9):
        hits = total = 0.0
        chords_per_bar = []
        for p in pieces:
            tpq = p.ticks_per_quarter
            notes = [Note(int(s), int(pt), int(d)) for s, d, pt in p.notes]
            ts = TimeSignatureMap([TimeSignatureChange(int(t), int(n), int(d)) for t, n, d in p.time_signatures], tpq)
            project = Project(tracks=(Track("Melody", notes=notes),), ticks_per_quarter=tpq, time_signatures=ts)
            try:
                options = sg.suggest_chords(project, arousal=arousal, alternatives=1, model=model)
            except ValueError:
                continue
            if not options:
                continue
            rate, count = sg.chord_tone_rate(notes, options[0].chords, ts)
            hits += rate * count
            total += count
            bars = max(1.0, ts.tick_to_bars(max(n.end_tick for n in notes)))
            chords_per_bar.append(len(options[0].chords) / bars)
        results[f"arousal_{arousal:+.1f}"] = {"melodies": len(pieces), "strong_beats": int(total),
                                              "chord_tone_rate": round(hits / max(1, total), 4),
                                              "chords_per_bar": round(float(np.mean(chords_per_bar)), 2) if chords_per_bar else None}
    return results


def latency_section(model, runs: int = 7) -> dict:
    import torch

    from composer_app.core.midifile import load_midi
    from composer_app.paths import example_clip, models_dir

    melody = load_midi(example_clip("c_major_melody.mid"))  # 8 bars of 4/4
    times = []
    for seed in range(runs):
        t = time.perf_counter()
        harmonize(melody, voices=4, seed=seed, model=model)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    fresh = hz.load_harmonizer(models_dir() / "harmonizer.safetensors")
    load_s = time.perf_counter() - t
    del fresh
    return {"bars": 8, "voices": 4, "runs": runs, "median_seconds": round(statistics.median(times), 3),
            "max_seconds": round(max(times), 3), "model_load_seconds": round(load_s, 3),
            "torch_threads": torch.get_num_threads()}


@dataclass
class HarmonySettings:
    """How much to evaluate: chorales per split (None = all), folk melodies per split, seeds."""

    chorales: int | None = None  # dev and held-out chorales each (None: every one)
    folk: int = 300  # folk melodies per split (0: skip the folk section)
    seed: int = 0
    raw_parallels: bool = True  # also harmonize with the sampler's parallel ban off
    latency_runs: int = 7  # 0: skip the latency section
    nll_window_steps: int = 64  # first 8 bars of each chorale
    quick: bool = False

    @classmethod
    def quick_settings(cls, seed: int = 0) -> HarmonySettings:
        return cls(chorales=3, folk=10, seed=seed, raw_parallels=False, latency_runs=2, quick=True)


def evaluate_harmony(settings: HarmonySettings | None = None, *, chorales=None, model=None,
                     progress: Callable[[str], None] | None = None,
                     on_first: Callable[[Project, str], None] | None = None) -> dict:
    """The harmony report: chord suggester, harmonizer and NLL on dev and held-out chorales, folk melodies, latency.

    ``chorales`` defaults to the chorale cache (:func:`~composer_app.generation.chorales.load_chorales`);
    ``model`` to the shipped harmonizer. Nothing here trains or tunes: dev and held-out are only measured.
    """
    from composer_app.generation.chorales import load_chorales, split_chorales
    from composer_app.generation.harmonize import load_default_harmonizer

    settings = settings or HarmonySettings()
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    train, dev, heldout = split_chorales(chorales if chorales is not None else load_chorales())
    if settings.chorales is not None:
        dev, heldout = dev[: settings.chorales], heldout[: settings.chorales]
    if not heldout:
        raise ValueError("no held-out chorales to evaluate on")
    model = model or load_default_harmonizer()
    say("counting the baselines on the training chorales")
    baseline = LookupBaseline(train)
    markov = MarkovBaseline(train)
    report: dict = {"splits": {"train_chorales": len(train), "dev_chorales": len(dev), "heldout_chorales": len(heldout)},
                    "settings": {k: getattr(settings, k) for k in settings.__dataclass_fields__}}
    for name, part in (("dev", dev), ("heldout", heldout)):
        say(f"{name}: chord suggester ({len(part)} chorales)")
        report[f"chords_{name}"] = suggester_section(part, baseline)
        say(f"{name}: harmonizer")
        report[f"harmonizer_{name}"] = harmonizer_section(part, model, settings.seed,
                                                          on_first=on_first if name == "heldout" else None)
        if settings.raw_parallels:
            say(f"{name}: harmonizer without the parallel ban")
            raw = harmonizer_section(part, model, settings.seed, no_parallels=False)
            report[f"harmonizer_{name}"]["raw_network_per_100_transitions"] = raw["generated_per_100_transitions"]
        report[f"nll_{name}"] = nll_section(part, model, markov, settings.nll_window_steps)
    if settings.folk > 0:
        say(f"folk melodies ({settings.folk} per split)")
        try:
            report["folk_dev"] = folk_section(settings.folk, heldout=False)
            report["folk_heldout"] = folk_section(settings.folk, heldout=True)
        except (FileNotFoundError, OSError) as error:  # no converted corpus: say so, keep the rest
            report["folk_error"] = f"folk melodies unavailable: {error}"
    if settings.latency_runs > 0:
        say("latency")
        report["latency"] = latency_section(model, settings.latency_runs)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def markdown(r: dict) -> str:
    """The report as Markdown (``models/harmony-evaluation.md`` when written with ``--card``)."""
    h, hd = r["harmonizer_heldout"], r["harmonizer_dev"]
    quick = " **Quick run (a few chorales): not the reported figures.**" if r.get("settings", {}).get("quick") else ""
    lines = [
        "# Harmony evaluation",
        "",
        f"Chorales: {r['splits']['train_chorales']} train, {r['splits']['dev_chorales']} dev (checkpoint and decoding "
        f"settings chosen on these), {r['splits']['heldout_chorales']} held out (never used to choose anything). "
        f"Written by `composer-app evaluate --harmony` (`composer_app/generation/harmony_evaluation.py`).{quick}",
        "",
        "## Harmonizer (alto, tenor, bass under Bach's soprano)",
        "",
    ]
    raw = "raw_network_per_100_transitions" in h
    head = "| per 100 transitions | generated, held-out |" + (" network alone, held-out |" if raw else "") + \
        " Bach, held-out | generated, dev |" + (" network alone, dev |" if raw else "") + " Bach, dev |"
    lines += [head, "|---" * (head.count("|") - 1) + "|"]
    for key in ("parallel_fifths_octaves", "parallel_fifths", "parallel_octaves", "crossings", "range_violations"):
        row = f"| {key.replace('_', ' ')} | {h['generated_per_100_transitions'][key]} |"
        if raw:
            row += f" {h['raw_network_per_100_transitions'][key]} |"
        row += f" {h['bach_per_100_transitions'][key]} | {hd['generated_per_100_transitions'][key]} |"
        if raw:
            row += f" {hd['raw_network_per_100_transitions'][key]} |"
        row += f" {hd['bach_per_100_transitions'][key]} |"
        lines.append(row)
    n, nd = r["nll_heldout"], r["nll_dev"]
    if raw:
        lines += ["", "\"Network alone\": the same weights and sampler with the parallel ban off (the shipped sampler forbids "
                  "parallel fifths/octaves with the known neighbours and repairs cells still caught in one)."]
    lines += [
        "",
        f"Chord labels of the harmonization (estimated per beat) agree with Bach's: root {h['chord_label_agreement_with_bach']['root']:.1%}, "
        f"root + triad {h['chord_label_agreement_with_bach']['root_triad']:.1%} (held-out; dev {hd['chord_label_agreement_with_bach']['root_triad']:.1%}).",
        "",
        f"NLL per alto/tenor/bass cell (first 8 bars, chain rule): harmonizer {n['harmonizer_nats_per_cell']} vs per-voice Markov "
        f"baseline {n['markov_baseline_nats_per_cell']} nats held-out ({n['improvement']:.0%} better); dev {nd['harmonizer_nats_per_cell']} vs "
        f"{nd['markov_baseline_nats_per_cell']}.",
    ]
    if "latency" in r:
        lines += ["", f"Latency, 8 bars into 4 voices, model loaded: median {r['latency']['median_seconds']} s (max "
                      f"{r['latency']['max_seconds']} s, {r['latency']['runs']} runs); loading the weights {r['latency']['model_load_seconds']} s."]
    c, cd = r["chords_heldout"], r["chords_dev"]
    lines += [
        "",
        "## Chord suggestions",
        "",
        "| per beat, vs Bach's labels | suggester (soprano only), held-out | lookup baseline, held-out | suggester, dev | "
        "lookup baseline, dev | estimator (all 4 voices), held-out |",
        "|---|---|---|---|---|---|",
    ]
    for key in ("root_agreement", "root_triad_agreement"):
        lines.append(f"| {key.replace('_', ' ')} | {c['suggester'][key]:.1%} | {c['baseline'][key]:.1%} | "
                     f"{cd['suggester'][key]:.1%} | {cd['baseline'][key]:.1%} | {c['estimator_all_voices'][key]:.1%} |")
    lines += [
        "",
        f"Beats compared: {c['suggester']['beats']} held-out, {cd['suggester']['beats']} dev. Chord-tone rate on strong beats, "
        f"chorale sopranos: suggested {c['suggester_chord_tone_rate_strong_beats']:.1%}, "
        f"Bach's own chords {c['bach_soprano_chord_tone_rate_strong_beats']:.1%} (held-out).",
    ]
    if "folk_heldout" in r:
        lines += [
            "",
            "| folk melodies (Essen) | held-out chord-tone rate | chords per bar | dev chord-tone rate |",
            "|---|---|---|---|",
        ]
        for key, value in r["folk_heldout"].items():
            lines.append(f"| {key.replace('_', ' ')} ({value['melodies']} melodies, {value['strong_beats']} strong beats) | "
                         f"{value['chord_tone_rate']:.1%} | {value['chords_per_bar']} | {r['folk_dev'][key]['chord_tone_rate']:.1%} |")
    elif "folk_error" in r:
        lines += ["", f"Folk melodies: {r['folk_error']}."]
    return "\n".join(lines) + "\n"
