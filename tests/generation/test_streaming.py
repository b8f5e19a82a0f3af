"""With ``on_candidate``, candidates stream: the first is sampled (and handed over) before the
others' sampling begins, with the shipped weights. Checked by the model's own step calls, not by
wall-clock times: in the all-at-once path every step before the first hand-over carries the
whole batch (all candidates x their oversampled siblings)."""

from __future__ import annotations

import contextlib

import pytest

from composer_app.generation import engine, registry
from composer_app.mood.mood import Mood

from .conftest import TPQ, melody


@pytest.fixture(scope="module")
def shipped_model():
    return registry.load_generator("transformer")


@contextlib.contextmanager
def counting_rows(model):
    """Yields a list that receives the batch width (rows) of every step the model takes."""
    rows_per_step: list[int] = []
    real_step = model.step

    def counting_step(tokens, cache):
        rows_per_step.append(int(tokens.shape[0]))
        return real_step(tokens, cache)

    model.step = counting_step
    try:
        yield rows_per_step
    finally:
        del model.step


def test_candidates_stream_and_stay_reproducible(shipped_model):
    model = shipped_model
    arrivals: list[tuple[int, int, int]] = []  # (candidate index, steps so far, widest batch so far)

    def on_candidate(candidate):
        arrivals.append((candidate.index, len(rows_per_step), max(rows_per_step)))

    prompt = melody(60, bars=2)
    kwargs = dict(bars=1, candidates=4, seed=5, model=model, ticks_per_quarter=TPQ)
    with counting_rows(model) as rows_per_step:
        streamed = engine.suggest(prompt, Mood(-0.6, 0.4), on_candidate=on_candidate, **kwargs)
    pool = engine.oversample_pool(engine.OVERSAMPLE_MAX, 4, 1)
    assert len(arrivals) == 4 and arrivals[0][0] == 0
    first_steps, first_widest = arrivals[0][1], arrivals[0][2]
    assert first_widest == pool  # only the first candidate's group was sampled before it arrived
    assert all(steps > first_steps for _, steps, _ in arrivals[1:])  # the rest came after more steps
    assert max(rows_per_step) == 3 * pool  # ... in one batch of their own
    # the same request without a callback (one batch) gives the same candidates, ranked the same way
    batched = engine.suggest(prompt, Mood(-0.6, 0.4), **kwargs)
    assert [(c.seed, c.notes) for c in streamed] == [(c.seed, c.notes) for c in batched]


@pytest.mark.parametrize("candidates, bars, widest", [(4, 4, 12), (4, 16, 8), (1, 64, 2)])
def test_long_requests_rank_fewer_samples(shipped_model, candidates, bars, widest):
    """Each candidate is the best of a few samples within SAMPLE_BUDGET sequences and SAMPLE_BAR_BUDGET
    generated bars: 4 x 4 bars samples 12 sequences, 4 x 16 bars 8, 1 x 64 bars 2 (a step costs the
    same at any bar, so a long request keeps its cost per bar by ranking fewer samples)."""
    with counting_rows(shipped_model) as rows_per_step:
        out = engine.suggest(melody(60, bars=2), Mood(0.5, 0.5), bars=bars, candidates=candidates, seed=2, model=shipped_model,
                             ticks_per_quarter=TPQ, max_seconds=600)
    assert len(out) == candidates
    assert max(rows_per_step) == widest
