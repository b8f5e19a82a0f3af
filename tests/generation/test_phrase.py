"""The phrase plan: restating earlier bars (labels, calibration, drawing, and every generator using it)."""

from dataclasses import replace

import numpy as np
import pytest

from composer_app.core.note import Note
from composer_app.core.theory import Key
from composer_app.generation import engine, phrase
from composer_app.generation import tokenizer as tk
from composer_app.generation.plan import Heuristics, make_plan
from composer_app.mood import Mood

from .conftest import TPQ

BAR = 48  # grid ticks of a 4/4 bar


def _bar(pitches, step=6):
    return np.array([(i * step, step, p) for i, p in enumerate(pitches)], dtype=np.int64)


def _tune(bars):
    rows = [np.column_stack([b[:, 0] + k * BAR, b[:, 1], b[:, 2]]) for k, b in enumerate(bars)]
    return np.concatenate(rows)


def test_bar_labels_find_the_nearest_copy_and_kept_rhythm():
    a, b = _bar([60, 62, 64, 65, 67, 65, 64, 62]), _bar([67, 65, 64, 62, 60, 62, 64, 60])
    c = _bar([72, 71, 69, 67, 65, 64, 62, 60])  # b's rhythm, other pitches
    d = _bar([60, 64, 67], step=16)
    labels = phrase.bar_labels([a, b, a, b, c, d, a])
    assert labels == ["free", "rhythm:1", "copy:2", "copy:2", "rhythm:1", "free", "copy:4"]


def test_calibration_counts_restatements_by_place_and_previous_bar():
    a, b, c, d = (_bar([60 + k, 62, 64 + k, 65, 67, 65, 64, 62 + k]) for k in range(4))
    e = _bar([60, 64, 67], step=16)
    # A A' form: bars 5 and 6 copy bars 1 and 2, the rest is new (cadence bars differ)
    tunes = [(_tune([a, b, c, d, a, b, e, _bar([60, 60], step=24)]), BAR)] * 50
    table = phrase.calibrate(tunes)
    assert table["marginal"]["4"]["copy:4"] == 1.0
    assert table["context"]["5"]["copy:4"]["copy:4"] == 1.0  # after a copy, the next bar copies too
    assert "copy:4" not in table["marginal"]["6"]


def test_a_pickup_bar_does_not_count_as_the_phrase_start():
    assert phrase.pickup_origin(np.array([(36, 12, 60)]), BAR) == 1
    assert phrase.pickup_origin(np.array([(0, 12, 60), (36, 12, 62)]), BAR) == 0


def test_pitch_map_moves_the_modal_degrees_into_the_target_mode():
    moves = phrase.pitch_map(Key(0, "major"), Key(0, "minor"))
    assert dict(moves) == {4: 3, 9: 8, 11: 10}
    assert phrase.apply_pitch_map(np.array([60, 64, 67, 69, 71, 76]), moves).tolist() == [60, 63, 67, 68, 70, 75]
    assert dict(phrase.pitch_map(Key(2, "dorian"), Key(2, "major"))) == {5: 6, 0: 1}
    assert phrase.pitch_map(Key(0, "major"), Key(0, "major")) == ()


def _prompt_notes(bars=4):
    tunes = [[72, 74, 76, 77, 79, 77, 76, 74], [76, 77, 79, 81, 79, 77, 76, 74], [72, 76, 79, 84, 83, 79, 76, 74], [72, 71, 72, 74, 76, 74, 72, 72]]
    step = TPQ // 2
    return [Note((k * 8 + i) * step, p, step, 90) for k in range(bars) for i, p in enumerate(tunes[k % 4])]


def _table(labels: dict[int, str]) -> dict:
    """A phrase table that always draws ``labels[place]`` (free elsewhere)."""
    return {
        "period": 8, "lags": list(phrase.LAGS), "context": {},
        "marginal": {str(p): {labels.get(p, "free"): 1.0} for p in range(8)},
    }


@pytest.fixture
def always(monkeypatch):
    def use(labels):
        table = _table(labels)
        monkeypatch.setattr(phrase, "load_table", lambda *a, **k: table)
        return table

    return use


def _clip_bars(candidate, bars):
    step = TPQ * 4
    out = [[] for _ in range(bars)]
    for n in candidate.notes:
        out[n.start_tick // step].append((n.start_tick % step, n.pitch))
    return [sorted(b) for b in out]


def _prompt_bars():
    step = TPQ * 4
    out = [[] for _ in range(4)]
    for n in _prompt_notes():
        out[n.start_tick // step].append((n.start_tick % step, n.pitch))
    return out


def test_draw_is_per_sample_and_respects_the_plan(always):
    always({4: "copy:4", 5: "copy:4"})
    plan = make_plan(_clip(), 4)
    drawn = phrase.draw(plan, seed=1)
    assert [r and (r.source, r.kind) for r in drawn] == [(-4, "copy"), (-3, "copy"), None, None]
    assert phrase.draw(plan, 1, strength=0.0) == (None,) * 4
    assert phrase.draw(plan, 1, kinds=("rhythm",)) == (None,) * 4
    # another arousal (density bins apart from the source bar): generated freely
    fast = make_plan(_clip(), 4, [replace(_targets(Mood(0.0, 0.0)), note_density=6.0)] * 4)
    assert phrase.draw(fast, 1) == (None,) * 4
    assert make_plan(_clip(), 4, heuristics=Heuristics(restatement=0.0)).phrase is None


def _clip():
    return engine.prompt_from(_prompt_notes(), TPQ)


def _targets(mood):
    from composer_app.mood import targets_for

    return targets_for(mood)


def test_the_transformer_copies_prompt_bars_as_the_phrase_plan_says(tiny_model, always):
    always({4: "copy:4", 5: "copy:4", 7: "copy:4"})
    prompt_bars = _prompt_bars()
    for candidate in engine.suggest(_prompt_notes(), None, bars=4, candidates=3, seed=5, model=tiny_model, ticks_per_quarter=TPQ):
        bars = _clip_bars(candidate, 4)
        assert bars[0] == prompt_bars[0] and bars[1] == prompt_bars[1] and bars[3] == prompt_bars[3]
        assert bars[2] != prompt_bars[2]  # generated freely by the (random) model
    off = engine.suggest(_prompt_notes(), None, bars=4, candidates=3, seed=5, model=tiny_model, ticks_per_quarter=TPQ,
                         heuristics=Heuristics(restatement=0.0))
    assert all(_clip_bars(c, 4)[0] != prompt_bars[0] for c in off)


def test_a_restated_bar_follows_the_mood_into_the_parallel_mode(tiny_model, always):
    always({4: "copy:4"})
    prompt_bar = _prompt_bars()[0]
    sad = engine.suggest(_prompt_notes(), Mood(-0.9, 0.0), bars=1, candidates=2, seed=2, model=tiny_model, ticks_per_quarter=TPQ)
    for candidate in sad:
        bar = _clip_bars(candidate, 1)[0]
        assert [t for t, _ in bar] == [t for t, _ in prompt_bar]
        # E and A become E flat and A flat (C minor), the rest stays
        expected = [p - 1 if p % 12 in (4, 9, 11) else p for _, p in prompt_bar]
        assert [p for _, p in bar] == expected


def test_a_strict_key_drops_a_restatement_it_forbids(tiny_model, always):
    always({4: "copy:4"})
    notes = _prompt_notes()
    notes[0] = Note(0, 73, TPQ // 2, 90)  # C sharp in C major: not in the strict scale
    found = engine.suggest(notes, None, bars=1, candidates=2, seed=2, model=tiny_model, ticks_per_quarter=TPQ, key_constraint="strict")
    for candidate in found:
        assert all(n.pitch % 12 in (0, 2, 4, 5, 7, 9, 11) for n in candidate.notes)


def test_a_rhythm_restatement_keeps_the_onsets_and_samples_pitches(tiny_model, always):
    always({4: "rhythm:4", 5: "rhythm:4"})
    prompt_bars = _prompt_bars()
    found = engine.suggest(_prompt_notes(), None, bars=2, candidates=3, seed=8, model=tiny_model, ticks_per_quarter=TPQ)
    pitches = set()
    for candidate in found:
        bars = _clip_bars(candidate, 2)
        for k in range(2):
            assert [t for t, _ in bars[k]] == [t for t, _ in prompt_bars[k]]
            pitches.add(tuple(p for _, p in bars[k]))
    assert not pitches & {tuple(p for _, p in b) for b in prompt_bars}


def test_a_generated_bar_can_be_restated_by_a_later_one(tiny_model, always):
    always({5: "copy:1"})  # the continuation's second bar repeats its first (generated) bar
    for candidate in engine.suggest(_prompt_notes(), None, bars=2, candidates=3, seed=4, model=tiny_model, ticks_per_quarter=TPQ):
        bars = _clip_bars(candidate, 2)
        if bars[0]:
            assert bars[1] == bars[0]


def test_the_lstm_restates_through_the_same_plan(always):
    import torch

    from composer_app.generation.lstm import LstmConfig, LstmGenerator, MusicLstm

    torch.manual_seed(0)
    lstm = LstmGenerator.wrap(MusicLstm(LstmConfig(n_layer=1, d_model=32)).eval())
    always({4: "copy:4"})
    for candidate in engine.suggest(_prompt_notes(), None, bars=2, candidates=2, seed=3, model=lstm, ticks_per_quarter=TPQ):
        assert _clip_bars(candidate, 2)[0] == _prompt_bars()[0]


def test_the_shipped_table_is_calibrated_on_training_tunes():
    table = phrase.load_table()
    assert table["tunes"] > 1000 and "dev" in table["source"]
    restating = sum(v for k, v in table["share"].items() if k.startswith("copy"))
    assert 0.05 < restating < 0.6
    for place in range(phrase.PERIOD):
        assert abs(sum(table["marginal"][str(place)].values()) - 1) < 0.01


def test_the_gan_restates_through_the_same_plan(always):
    import torch

    from composer_app.generation import gan

    torch.manual_seed(0)
    generator = gan.GanGenerator(gan.BarGenerator(gan.GanConfig()).eval())
    always({4: "copy:4", 5: "copy:1"})
    prompt_bar = _prompt_bars()[0]
    for candidate in engine.suggest(_prompt_notes(), None, bars=2, candidates=2, seed=3, model=generator, ticks_per_quarter=TPQ):
        bars = _clip_bars(candidate, 2)
        assert bars[0] == prompt_bar and bars[1] == prompt_bar  # the second restates the first (itself a copy)


def test_the_cadence_bias_draws_the_close_of_the_last_bar_to_the_tonic_and_fifth(tiny_model):
    strong = Heuristics(cadence=30.0, restatement=0.0)
    for candidate in engine.suggest(_prompt_notes(), None, bars=2, candidates=3, seed=6, model=tiny_model, ticks_per_quarter=TPQ, heuristics=strong):
        closing = [n.pitch % 12 for n in candidate.notes if n.start_tick >= TPQ * 4 + TPQ * 2]
        assert closing and set(closing) <= {0, 7}
        assert {n.pitch % 12 for n in candidate.notes if n.start_tick < TPQ * 4 + TPQ * 2} - {0, 7}
