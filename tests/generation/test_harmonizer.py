"""The chorale harmonizer: grids, Gibbs sampling that keeps locked cells, the shipped weights, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from composer_app.core.chords import chord_track_from_symbols
from composer_app.core.midifile import load_midi
from composer_app.core.note import Note
from composer_app.generation import harmonizer as hz
from composer_app.generation.harmonize import VOICE_TRACK_NAMES, harmonize, load_default_harmonizer
from tests.test_cli import EXAMPLES, composer_app


def test_rows_and_notes_convert_both_ways():
    notes = [(0, 12, 60), (12, 6, 62), (18, 6, 62), (36, 12, 64)]  # 6 ticks per step
    row = hz.notes_to_row(notes, 8, 6)
    assert row.tolist() == [24, 24, 26, 26, hz.REST, hz.REST, 28, 28]
    assert hz.row_to_notes(row, 6) == [(0, 12, 60), (12, 12, 62), (36, 12, 64)]
    assert hz.row_to_notes(row, 6, split_every=3) == [(0, 12, 60), (12, 6, 62), (18, 6, 62), (36, 12, 64)]
    assert hz.pitch_to_cell(24) == 0 and hz.pitch_to_cell(100) == 76 - hz.PITCH_MIN  # folded by octaves


def test_gibbs_fill_never_touches_locked_cells_and_keeps_voice_ranges():
    torch.manual_seed(0)
    model = hz.Harmonizer(hz.HarmonizerConfig(n_layer=1, d_model=32, d_cell=8, n_head=2, max_steps=32))
    rng = np.random.default_rng(0)
    grid = rng.integers(0, hz.REST, size=(4, 40))
    locked = rng.uniform(size=(4, 40)) < 0.3
    locked[0] = True
    out = hz.gibbs_fill(model, grid, locked, hz.metric_positions(40, 8), False, iterations=6,
                        generator=torch.Generator().manual_seed(1))
    assert (out[locked] == grid[locked]).all()
    assert (out != hz.MASK).all()
    for v, (low, high) in enumerate(hz.VOICE_RANGES):
        free = out[v][~locked[v]]
        pitched = free[free != hz.REST] + hz.PITCH_MIN
        assert ((pitched >= low) & (pitched <= high)).all()


def test_weights_round_trip_through_safetensors(tmp_path):
    model = hz.Harmonizer(hz.HarmonizerConfig(n_layer=1, d_model=32, d_cell=8, n_head=2))
    hz.save_harmonizer(model, tmp_path / "h.safetensors", {"training": {"steps": 1}})
    loaded = hz.load_harmonizer(tmp_path / "h.safetensors")
    assert loaded.config == model.config
    grid = torch.full((1, 4, 16), hz.MASK)
    metric = torch.zeros(1, 16, dtype=torch.long)
    minor = torch.zeros(1, dtype=torch.long)
    model.eval()
    assert torch.allclose(model(grid, metric, minor), loaded(grid, metric, minor), atol=0.05)


@pytest.fixture(scope="module")
def shipped():
    return load_default_harmonizer()


def test_harmonize_the_c_major_melody_into_four_voices(shipped):
    project = load_midi(EXAMPLES / "c_major_melody.mid")
    result = harmonize(project, voices=4, seed=3, model=shipped)
    assert [t.name for t in result.tracks] == ["Alto", "Tenor", "Bass"]
    assert result.melody == project.tracks[0].notes
    used = {t.channel for t in project.tracks}
    for track, (low, high) in zip(result.tracks, hz.VOICE_RANGES[1:]):
        assert track.notes and track.channel not in used
        assert all(low - 12 <= n.pitch <= high + 12 for n in track.notes)
    # Real harmony, not noise: the voices under each melody note are mostly consonant with it.
    consonant = total = 0
    for note in project.tracks[0].notes:
        for track in result.tracks:
            under = [n for n in track.notes if n.start_tick <= note.start_tick < n.end_tick]
            for n in under:
                total += 1
                consonant += (note.pitch - n.pitch) % 12 in (0, 3, 4, 5, 7, 8, 9)
    assert total > 60 and consonant / total > 0.8
    again = harmonize(project, voices=4, seed=3, model=shipped)
    assert again.tracks == result.tracks  # reproducible by seed


def test_locked_notes_stay_and_fewer_voices_are_written(shipped):
    project = load_midi(EXAMPLES / "c_major_melody.mid")
    bass = [Note(0, 48, 960), Note(960, 43, 960), Note(1920, 45, 1920)]
    two_bars = project.time_signatures.bar_to_tick(2)
    result = harmonize(project, voices=4, seed=5, locked={3: bass}, model=shipped, end_tick=two_bars)
    new_bass = result.tracks[2].notes
    for n in bass:
        assert any(m.pitch == n.pitch and m.start_tick <= n.start_tick < m.end_tick for m in new_bass)
    assert [t.name for t in harmonize(project, voices=2, seed=1, model=shipped, end_tick=two_bars).tracks] == ["Bass"]
    assert [t.name for t in harmonize(project, voices=3, seed=1, model=shipped, end_tick=two_bars).tracks] == ["Alto", "Bass"]


def test_a_chord_track_steers_the_voices(shipped):
    project = load_midi(EXAMPLES / "c_major_melody.mid")
    bars = project.time_signatures
    chords = chord_track_from_symbols(["Am", "Em", "Am", "Dm", "Am", "E", "Dm", "Am"], bars.bar_to_tick(1))

    def chord_tone_share(result):
        inside = total = 0
        for track in result.tracks:
            for n in track.notes:
                event = chords.at(n.start_tick)
                if event is not None:
                    total += 1
                    inside += n.pitch % 12 in event.chord.pitch_classes
        return inside / total

    four_bars = bars.bar_to_tick(4)
    steered = chord_tone_share(harmonize(project.with_chords(chords), seed=2, model=shipped, end_tick=four_bars))
    free = chord_tone_share(harmonize(project, seed=2, model=shipped, end_tick=four_bars))
    assert steered > 0.85 and steered > free + 0.1


def test_harmonize_cli_writes_the_melody_unchanged_plus_three_voices(tmp_path):
    out = tmp_path / "chorale.mid"
    result = composer_app("harmonize", str(EXAMPLES / "a_minor_melody.mid"), "-o", str(out), "--seed", "7", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [t["name"] for t in report["tracks"]] == ["Alto", "Tenor", "Bass"] and report["seed"] == 7
    written = load_midi(out)
    original = load_midi(EXAMPLES / "a_minor_melody.mid")
    assert written.tracks[0].notes == original.tracks[0].notes
    assert [t.name for t in written.tracks] == ["Melody", *VOICE_TRACK_NAMES[1:]]
    bad = composer_app("harmonize", str(EXAMPLES / "a_minor_melody.mid"), "-o", str(out), "--voices", "5")
    assert bad.returncode == 2 and bad.stderr.strip() == "composer-app: --voices must be 2, 3 or 4"


def test_the_harmonizer_is_a_registered_generator_with_the_harmonize_capability():
    from composer_app.core.clip import Clip
    from composer_app.generation import registry
    from composer_app.generation.generator import HarmonizeRequest, UnsupportedRequest
    from composer_app.mood.mood import Mood

    assert "harmonizer" in registry.names(capability="harmonize")
    assert "harmonizer" not in registry.names(shipped_only=True, capability="continue")
    generator = registry.load_generator("harmonizer")
    project = load_midi(EXAMPLES / "a_minor_melody.mid")
    clip = Clip(project.tracks[0].notes, project.ticks_per_quarter, project.tempo_map, project.time_signatures)
    candidates = generator.harmonize(HarmonizeRequest(clip, voices=4, candidates=2, moods=(Mood(-0.5, 0.0),), seed=3))
    assert [c.index for c in candidates] == [0, 1] and [c.seed for c in candidates] == [3, 4]
    for candidate in candidates:
        assert str(candidate.key) == "A minor" and candidate.bars == 8
        assert sorted({n.channel for n in candidate.notes}) == [1, 2, 3]  # alto, tenor, bass
    assert candidates[0].notes != candidates[1].notes
    from composer_app.generation.generator import ContinueRequest

    with pytest.raises(UnsupportedRequest, match="cannot continue"):
        generator.continue_clip(ContinueRequest(clip, bars=2))
