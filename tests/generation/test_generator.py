"""The Generator interface: template methods, requests, the per-bar plan, the registry, token generators."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch

from composer_app.core.clip import Clip
from composer_app.core.note import Note
from composer_app.generation import engine, registry
from composer_app.generation.generator import (
    CONTINUE,
    Cancelled,
    ContinueRequest,
    Generator,
    UnsupportedRequest,
    VaryRequest,
)
from composer_app.generation.lstm import LstmConfig, LstmGenerator, MusicLstm, save_lstm
from composer_app.generation.plan import MAJOR_SCALE, MINOR_SCALE, make_plan, render_candidate
from composer_app.mood import Mood, targets_for

from .conftest import TPQ, melody


def _clip(bars: int = 2) -> Clip:
    return Clip.from_notes(melody(60, bars=bars), TPQ)


class OneNoteGenerator(Generator):
    """A fake that subclasses the real base: one whole note per bar on the plan's tonic."""

    kind = "one-note"
    capabilities = frozenset({CONTINUE})

    def __init__(self):
        super().__init__(config=None, name="one-note")
        self.plans = []

    def _continue(self, request, plan, cancel, emit):
        self.plans.append(plan)
        for i in range(request.candidates):
            bar = plan.bar_grid_length
            rows = np.array([(b * bar, bar, 60 + target.key.tonic_pc) for b, target in enumerate(plan.bars)])
            emit(render_candidate(rows, plan, request.prompt, self.name, request.seed, 0.0, True, request.candidates - 1 - i))


def test_the_base_class_validates_plans_and_orders_what_subclasses_make():
    gen = OneNoteGenerator()
    seen = []
    out = gen.continue_clip(ContinueRequest(_clip(), bars=3, candidates=2, moods=(Mood(-1, -1),)), on_candidate=seen.append)
    assert [c.index for c in seen] == [1, 0]  # streamed as made ...
    assert [c.index for c in out] == [0, 1]  # ... returned in order
    assert all(c.generator == "one-note" and c.bars == 3 for c in out)
    assert len(gen.plans) == 1 and len(gen.plans[0].bars) == 3
    with pytest.raises(UnsupportedRequest, match="cannot vary"):
        gen.vary(VaryRequest(_clip()))
    with pytest.raises(TypeError, match="ContinueRequest"):
        gen.continue_clip(VaryRequest(_clip()))
    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        gen.continue_clip(ContinueRequest(_clip()), cancel=event)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(bars=0), "bars must be in range 1..64"),
        (dict(candidates=17), "candidates must be in range 1..16"),
        (dict(bars=3, moods=(Mood(0, 0), Mood(1, 1))), "moods must hold 1 or 3 values"),
        (dict(temperature=0), "temperature must be > 0"),
        (dict(key_constraint="loose"), "key_constraint must be"),
        (dict(seed=-1), "seed must be an int >= 0"),
    ],
)
def test_bad_requests_have_exact_messages(kwargs, error):
    with pytest.raises(ValueError, match=error):
        ContinueRequest(_clip(), **kwargs)


def test_the_plan_follows_a_mood_per_bar():
    moods = (Mood(-1, -1), Mood(-1, -1), Mood(1, 1), Mood(1, 1))
    plan = make_plan(_clip(), 4, ContinueRequest(_clip(), bars=4, moods=moods).bar_targets())
    assert [b.key.mode for b in plan.bars] == ["minor", "minor", "major", "major"]
    assert len({b.key.tonic_pc for b in plan.bars}) == 1  # the parallel mode, not another key
    densities = [b.controls.density for b in plan.bars]
    assert densities[0] == densities[1] < densities[2] == densities[3]
    velocities = [b.velocity for b in plan.bars]
    assert velocities[0] < velocities[3]
    # the rendered candidate takes each bar's velocity
    bar = plan.bar_grid_length
    rows = np.array([(b * bar, bar // 2, 72) for b in range(4)])
    candidate = render_candidate(rows, plan, _clip(), "x", 0, 0.0)
    assert candidate.notes[0].velocity < candidate.notes[3].velocity


def test_a_token_generator_turns_with_the_mood_inside_one_request(tiny_model):
    """Strict key: bars planned sad are in C minor, bars planned happy in C major (per-bar pitch bias)."""
    moods = (Mood(-1, 0), Mood(1, 0))
    request = ContinueRequest(_clip(), bars=2, candidates=3, moods=moods, key_constraint="strict", temperature=2.0, seed=4)
    candidates = tiny_model.continue_clip(request)
    bar_ticks = 4 * TPQ
    minor = {s % 12 for s in MINOR_SCALE}
    major = {s % 12 for s in MAJOR_SCALE}
    first = [n.pitch % 12 for c in candidates for n in c.notes if n.start_tick < bar_ticks]
    second = [n.pitch % 12 for c in candidates for n in c.notes if n.start_tick >= bar_ticks]
    assert first and second
    assert set(first) <= minor and set(second) <= major
    assert not set(first) <= major  # the sad bars really use the minor third/sixth/seventh


def test_registry_names_classes_and_card_summaries(tmp_path):
    assert registry.names()[0] == "transformer"
    assert set(registry.names()) >= {"transformer", "lstm", "gan"}
    assert registry.generator_class("lstm") is LstmGenerator
    assert CONTINUE in registry.capabilities("transformer")
    (tmp_path / "lstm.json").write_text(json.dumps({"summary": "the one-line summary"}))
    assert registry.describe("lstm", tmp_path) == "the one-line summary"
    assert registry.describe("gan", tmp_path) == registry.info("gan").description
    with pytest.raises(KeyError, match="unknown generator 'nope'"):
        registry.generator_class("nope")


def test_shipped_transformer_loads_as_a_generator():
    gen = registry.load_generator("transformer")
    assert type(gen).__name__ == "TransformerGenerator" and gen.name == "transformer"
    assert gen.can(CONTINUE) and not gen.can("vary")
    assert gen.parameter_count() > 1_000_000


def test_lstm_round_trip_and_continuation(tmp_path):
    torch.manual_seed(0)
    model = MusicLstm(LstmConfig(n_layer=1, d_model=32, dropout=0.0))
    path = tmp_path / "lstm.safetensors"
    save_lstm(model, path, {"training": {"note": "random weights for tests"}})
    gen = registry.load_weights(path)
    assert isinstance(gen, LstmGenerator) and gen.name == "lstm"
    x = torch.randint(0, model.config.vocab_size, (2, 20))
    assert torch.allclose(gen.model(x), model(x).half().float(), atol=0.05)  # fp16 weights
    # stepping with a state gives the same logits as reading the whole sequence
    state = gen.model.new_cache(2, 0)
    stepped = torch.stack([gen.model.step(x[:, t : t + 1], state) for t in range(20)], dim=1)
    assert torch.allclose(stepped, gen.model(x), atol=1e-4)
    candidates = engine.suggest(_clip(), Mood(0.5, 0.5), bars=2, candidates=2, seed=3, model=gen)
    assert len(candidates) == 2 and all(c.generator == "lstm" and c.length_ticks == 8 * TPQ for c in candidates)


def test_compare_asks_every_generator_with_one_plan(tiny_model, tmp_path):
    torch.manual_seed(1)
    path = tmp_path / "lstm.safetensors"
    save_lstm(MusicLstm(LstmConfig(n_layer=1, d_model=32, dropout=0.0)), path)
    lstm = registry.load_weights(path)
    tiny_model.name = "transformer"
    out = engine.compare(_clip(), ["transformer", "lstm"], Mood(-0.5, 0.2), bars=1, candidates=2, seed=9,
                         models={"transformer": tiny_model, "lstm": lstm})
    assert [(c.index, c.generator) for c in out] == [(0, "transformer"), (1, "transformer"), (2, "lstm"), (3, "lstm")]
    assert len({c.key for c in out}) == 1


@pytest.mark.parametrize("name", ["transformer", "lstm", "gan"])
def test_shipped_generators_load_from_safetensors_and_continue(name):
    path = registry.weights_path(name)
    assert path.exists() and path.stat().st_size < 50_000_000, f"models/{path.name} must be shipped"
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["weights"] == path.name and card["kind"] == name
    gen = registry.load_weights(path)
    assert gen.name == name and gen.metadata["kind"] == name and "training" in gen.metadata
    candidates = engine.suggest(_clip(), Mood(0.5, 0.5), bars=1, candidates=2, seed=1, model=gen)
    assert all(c.generator == name and c.notes for c in candidates)
