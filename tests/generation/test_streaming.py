"""With ``on_candidate``, candidates stream: the first is sampled (and handed over) before the
others' sampling begins, with the shipped weights. Checked by the model's own step calls, not by
wall-clock times: in the all-at-once path every step before the first hand-over carries the
whole batch (all candidates x their oversampled siblings)."""

from __future__ import annotations

import pytest

from composer_app.generation import engine, registry
from composer_app.mood.mood import Mood

from .conftest import TPQ, melody


@pytest.fixture(scope="module")
def shipped_model():
    return registry.load_generator("transformer")


def test_candidates_stream_and_stay_reproducible(shipped_model):
    model = shipped_model
    rows_per_step: list[int] = []
    real_step = model.step

    def counting_step(tokens, cache):
        rows_per_step.append(int(tokens.shape[0]))
        return real_step(tokens, cache)

    arrivals: list[tuple[int, int, int]] = []  # (candidate index, steps so far, widest batch so far)

    def on_candidate(candidate):
        arrivals.append((candidate.index, len(rows_per_step), max(rows_per_step)))

    prompt = melody(60, bars=2)
    kwargs = dict(bars=1, candidates=4, seed=5, model=model, ticks_per_quarter=TPQ)
    model.step = counting_step
    try:
        streamed = engine.suggest(prompt, Mood(-0.6, 0.4), on_candidate=on_candidate, **kwargs)
    finally:
        del model.step
    pool = max(1, min(engine.OVERSAMPLE_MAX, engine.SAMPLE_BUDGET // 4))
    assert len(arrivals) == 4 and arrivals[0][0] == 0
    first_steps, first_widest = arrivals[0][1], arrivals[0][2]
    assert first_widest == pool  # only the first candidate's group was sampled before it arrived
    assert all(steps > first_steps for _, steps, _ in arrivals[1:])  # the rest came after more steps
    assert max(rows_per_step) == 3 * pool  # ... in one batch of their own
    # the same request without a callback (one batch) gives the same candidates, ranked the same way
    batched = engine.suggest(prompt, Mood(-0.6, 0.4), **kwargs)
    assert [(c.seed, c.notes) for c in streamed] == [(c.seed, c.notes) for c in batched]
