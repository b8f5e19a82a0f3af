"""Sampling: grammar masks, reproducibility, bounds and cancellation (with a tiny random model)."""

import threading

import numpy as np
import pytest

from composer_app.generation import sampling
from composer_app.generation import tokenizer as tk


def _plans(bars=4, numerator=4, denominator=4, key=0, density=3, register=4):
    return [sampling.BarPlan(numerator, denominator, tk.BarControls(key, density, register)) for _ in range(bars)]


def _prompt():
    tokens, _ = tk.notes_to_tokens(np.array([(i * 6, 6, 60 + i % 7) for i in range(16)]), [(0, 4, 4)], eos=False)
    return tokens


@pytest.mark.parametrize("temperature", [0.7, 1.5, 3.0])
def test_sampled_sequences_always_follow_the_grammar(tiny_model, temperature):
    settings = sampling.SamplingSettings(temperature=temperature, top_p=1.0, seed=3)
    results = sampling.generate(tiny_model, _prompt(), _plans(4, 6, 8), 3, settings)
    for result in results:
        assert result.finished
        assert tk.grammar_errors(result.tokens) == []
        decoded = tk.tokens_to_notes(result.tokens)
        assert len(decoded.bar_starts) == 4
        assert all(0 <= start < 4 * 36 for start in decoded.notes[:, 0])


def test_forced_headers_carry_the_planned_controls(tiny_model):
    plans = _plans(3, key=19, density=5, register=2)
    result = sampling.generate(tiny_model, _prompt(), plans, 1, sampling.SamplingSettings(seed=1))[0]
    decoded = tk.tokens_to_notes(result.tokens)
    assert decoded.controls == [tk.BarControls(19, 5, 2)] * 3


def test_same_seed_same_candidates_and_candidate_seeds_are_independent(tiny_model):
    a = sampling.generate(tiny_model, _prompt(), _plans(), 3, sampling.SamplingSettings(seed=42))
    b = sampling.generate(tiny_model, _prompt(), _plans(), 3, sampling.SamplingSettings(seed=42))
    assert [r.tokens for r in a] == [r.tokens for r in b]
    assert [r.seed for r in a] == [sampling.sample_seed(42, i) for i in range(3)]
    alone = sampling.generate(tiny_model, _prompt(), _plans(), 1, sampling.SamplingSettings(seed=42, first_sample=1))
    assert alone[0].tokens == a[1].tokens  # one sample is reproducible on its own (batches of a request)
    c = sampling.generate(tiny_model, _prompt(), _plans(), 1, sampling.SamplingSettings(seed=7))
    assert c[0].tokens != a[0].tokens


def test_neighbouring_request_seeds_share_no_sample(tiny_model):
    """Issue 10, defect 11: with seed + i, candidate k of seed s was candidate k-1 of seed s+1."""
    by_seed = {
        seed: [tuple(r.tokens) for r in sampling.generate(tiny_model, _prompt(), _plans(2), 4, sampling.SamplingSettings(seed=seed))]
        for seed in (100, 101, 102)
    }
    seeds = {seed: {sampling.sample_seed(seed, i) for i in range(4)} for seed in by_seed}
    assert not seeds[100] & seeds[101] and not seeds[101] & seeds[102]
    assert not set(by_seed[100]) & set(by_seed[101])
    assert not set(by_seed[101]) & set(by_seed[102])


def test_strict_pitch_constraints_are_obeyed(tiny_model):
    constraints = sampling.Constraints.build(60, 72, allowed_pitch_classes=[0, 2, 4, 5, 7, 9, 11])
    results = sampling.generate(tiny_model, _prompt(), _plans(), 4, sampling.SamplingSettings(seed=5, temperature=2.0), constraints)
    pitches = np.concatenate([tk.tokens_to_notes(r.tokens).notes[:, 2] for r in results])
    assert len(pitches) and pitches.min() >= 60 and pitches.max() <= 72
    assert set((pitches % 12).tolist()) <= {0, 2, 4, 5, 7, 9, 11}


def test_cancellation_stops_within_a_few_steps(tiny_model):
    calls = []
    event = threading.Event()

    def cancel():
        calls.append(1)
        if len(calls) == 5:
            event.set()
        return event.is_set()

    with pytest.raises(sampling.GenerationCancelled):
        sampling.generate(tiny_model, _prompt(), _plans(16), 2, sampling.SamplingSettings(seed=0), cancel=cancel)
    assert len(calls) == 5


def test_hard_bounds_on_tokens_and_time(tiny_model):
    results = sampling.generate(tiny_model, _prompt(), _plans(16), 2, sampling.SamplingSettings(seed=0, max_new_tokens=10))
    assert all(not r.finished and len(r.tokens) <= 10 for r in results)
    assert all(tk.grammar_errors(r.tokens) == [] for r in results)
    results = sampling.generate(tiny_model, _prompt(), _plans(64), 1, sampling.SamplingSettings(seed=0, max_seconds=0.05))
    assert not results[0].finished and results[0].seconds < 2.0


def test_on_candidate_is_called_for_each(tiny_model):
    seen = []
    sampling.generate(tiny_model, _prompt(), _plans(2), 3, sampling.SamplingSettings(seed=0), on_candidate=seen.append)
    assert sorted(r.index for r in seen) == [0, 1, 2]


def test_window_slides_past_the_context(tiny_model):
    # the tiny model's block is 64 tokens: 8 dense bars need far more, so the window must slide
    results = sampling.generate(tiny_model, _prompt(), _plans(8, density=9), 1, sampling.SamplingSettings(seed=2, temperature=1.2))
    assert results[0].finished and tk.grammar_errors(results[0].tokens) == []


def test_settings_are_validated():
    with pytest.raises(ValueError, match="temperature must be > 0"):
        sampling.SamplingSettings(temperature=0)
    with pytest.raises(ValueError, match="top_p"):
        sampling.SamplingSettings(top_p=1.5)


def test_repeat_penalty_breaks_long_runs_of_one_pitch(tiny_model):
    # a prompt that strikes one pitch over and over invites the tiny model to go on doing so
    tokens, _ = tk.notes_to_tokens(np.array([(i * 6, 6, 60) for i in range(16)]), [(0, 4, 4)], eos=False)
    bias = np.full(tk.N_PITCH, -1e4, dtype=np.float32)
    bias[[60 - tk.PITCH_MIN, 62 - tk.PITCH_MIN]] = [3.0, 0.0]  # 60 strongly preferred, 62 possible
    free = sampling.Constraints(bias)
    penalised = sampling.Constraints(bias.copy(), repeat_penalty=4.0, free_repeats=2)
    def longest_run(result):
        pitches = tk.tokens_to_notes(result.tokens).notes[:, 2].tolist()
        best = run = 1
        for a, b in zip(pitches, pitches[1:]):
            run = run + 1 if a == b else 1
            best = max(best, run)
        return best
    settings = sampling.SamplingSettings(seed=4)
    runs_free = [longest_run(r) for r in sampling.generate(tiny_model, tokens, _plans(2, density=9), 3, settings, free)]
    runs_penalised = [longest_run(r) for r in sampling.generate(tiny_model, tokens, _plans(2, density=9), 3, settings, penalised)]
    assert max(runs_penalised) < max(runs_free)


def test_frequency_penalty_spreads_a_tune_over_more_pitches(tiny_model):
    # three pitches allowed, one strongly preferred: without the penalty the tune sits on it
    bias = np.full(tk.N_PITCH, -1e4, dtype=np.float32)
    bias[[60 - tk.PITCH_MIN, 62 - tk.PITCH_MIN, 63 - tk.PITCH_MIN]] = [3.0, 0.0, 0.0]
    free = sampling.Constraints(bias)
    penalised = sampling.Constraints(bias.copy(), frequency_penalty=2.0, frequency_window=8)

    def share_of_60(constraints):
        results = sampling.generate(tiny_model, _prompt(), _plans(4, density=9), 6, sampling.SamplingSettings(seed=4), constraints)
        pitches = np.concatenate([tk.tokens_to_notes(r.tokens).notes[:, 2] for r in results])
        return float(np.mean(pitches == 60))

    assert share_of_60(penalised) < share_of_60(free) - 0.15  # measured 0.71 -> 0.46 (seeds 1, 4, 9: -0.16 .. -0.30)


def test_the_frequency_penalty_can_keep_the_keys_share(tiny_model):
    """With ``frequency_keeps_key`` the penalty moves probability among the bar's in-key pitches: the
    out-of-key (chromatic) share stays what it was without the penalty instead of rising."""
    bias = np.full(tk.N_PITCH, -1e4, dtype=np.float32)
    bias[[60 - tk.PITCH_MIN, 61 - tk.PITCH_MIN, 62 - tk.PITCH_MIN]] = [3.0, 0.0, 0.0]
    in_key = np.zeros(tk.N_PITCH, dtype=bool)
    in_key[[60 - tk.PITCH_MIN, 62 - tk.PITCH_MIN]] = True
    plans = [sampling.BarPlan(4, 4, tk.BarControls(0, 9, 4), in_key=in_key) for _ in range(4)]

    def share_of_61(**penalty):
        constraints = sampling.Constraints(bias.copy(), **penalty)
        results = sampling.generate(tiny_model, _prompt(), plans, 6, sampling.SamplingSettings(seed=4), constraints)
        pitches = np.concatenate([tk.tokens_to_notes(r.tokens).notes[:, 2] for r in results])
        return float(np.mean(pitches == 61))

    free = share_of_61()
    spread = share_of_61(frequency_penalty=2.0)
    kept = share_of_61(frequency_penalty=2.0, frequency_keeps_key=True)
    assert spread > free + 0.1  # the plain penalty pushes the tune onto the chromatic pitch (measured 0.02 -> 0.25)
    assert kept < free + 0.05 < spread  # kept: 0.03


def test_an_interval_bias_moves_the_tunes_intervals(tiny_model):
    """``interval_bias`` adds logits by the interval from the tune's last pitch: a bonus on steps
    (1-2 semitones) makes a random model's tune move by step far more often."""
    from composer_app.generation.engine import interval_bias_table

    bias = np.full(tk.N_PITCH, -1e4, dtype=np.float32)
    bias[60 - tk.PITCH_MIN : 73 - tk.PITCH_MIN] = 0.0  # an octave of free pitches
    steps_bonus = interval_bias_table((0.0, 0.0, 0.0, 3.0, 0.0, 3.0, 0.0, 0.0, 0.0))

    def step_share(**extra):
        constraints = sampling.Constraints(bias.copy(), **extra)
        results = sampling.generate(tiny_model, _prompt(), _plans(4, density=9), 6, sampling.SamplingSettings(seed=2), constraints)
        shares = []
        for r in results:
            size = np.abs(np.diff(tk.tokens_to_notes(r.tokens).notes[:, 2]))
            shares.append(np.mean((size >= 1) & (size <= 2)))
        return float(np.mean(shares))

    free, stepping = step_share(), step_share(interval_bias=steps_bonus)
    assert stepping > free + 0.2, (free, stepping)


def test_key_share_shift_leaves_the_in_key_mass_unchanged():
    import torch

    logits = torch.tensor([[2.0, 0.5, 1.0, -1.0, 0.0]])
    in_key = torch.tensor([[True, False, True, False, True]])
    penalties = torch.tensor([[2.0, 0.0, 1.0, 0.0, 0.0]])
    shifted = logits - penalties - sampling._key_share_shift(logits, penalties, in_key)
    before, after = torch.softmax(logits, 1)[in_key].sum(), torch.softmax(shifted, 1)[in_key].sum()
    assert abs(float(before - after)) < 1e-6
    assert torch.softmax(shifted, 1)[0, 4] > torch.softmax(logits, 1)[0, 4]  # the mass went to the unpenalised in-key pitch


def test_recent_pitch_penalty_counts_the_last_notes_only():
    constraints = sampling.Constraints(frequency_penalty=0.5, frequency_window=3)
    penalty = sampling._recent_pitch_penalty([4, 4, 9], constraints)
    assert penalty[4] == 1.0 and penalty[9] == 0.5 and penalty.sum() == 1.5
    assert not sampling._recent_pitch_penalty([], constraints).any()
    with pytest.raises(ValueError, match="frequency_window must be >= 1"):
        sampling.Constraints(frequency_window=0)
    with pytest.raises(ValueError, match="penalties must be >= 0"):
        sampling.Constraints(frequency_penalty=-1.0)


def test_a_rolling_cache_attends_to_the_same_window_as_a_banded_forward_pass(tiny_model):
    import torch

    model = tiny_model.model
    idx = torch.randint(4, tk.VOCAB_SIZE, (2, 200), generator=torch.Generator().manual_seed(0))
    full = model(idx, window=64)
    cache = model.new_cache(2, 64)
    chunks = [model(idx[:, :40], cache)] + [model(idx[:, t : t + 1], cache) for t in range(40, 200)]
    assert cache.length == 64 and cache.position == 200
    assert torch.allclose(full, torch.cat(chunks, dim=1), atol=1e-5)


class _NoCache:
    """A model without a KV cache: every step recomputes the whole history under the banded mask."""

    def __init__(self, model):
        self.model, self.config = model, model.config

    def new_cache(self, batch, capacity):
        import torch

        return _History(torch.zeros(batch, 0, dtype=torch.long), capacity)

    def step(self, tokens, cache):
        cache.tokens = torch_cat(cache.tokens, tokens)
        cache.length = cache.tokens.shape[1]
        cache.steps.append(tokens.shape[1])
        return self.model(cache.tokens, window=cache.capacity)[:, -1, :].float()


def torch_cat(a, b):
    import torch

    return torch.cat([a, b], dim=1)


class _History:
    rolling = True

    def __init__(self, tokens, capacity):
        self.tokens, self.capacity, self.length, self.steps = tokens, capacity, tokens.shape[1], []

    def expand(self, batch):
        out = _History(self.tokens.expand(batch, -1).clone(), self.capacity)
        out.steps = self.steps
        return out

    def select_rows(self, rows):
        self.tokens = self.tokens.index_select(0, rows)


def test_generation_past_the_context_is_the_same_with_and_without_the_cache(tiny_model):
    """8 dense bars need far more than the tiny model's 64-token window: the rolling cache gives the
    tokens a model recomputing every step from scratch gives, and never re-reads the window."""
    import torch

    settings = sampling.SamplingSettings(seed=2, temperature=1.2)
    cached = sampling.generate(tiny_model, _prompt(), _plans(8, density=9), 2, settings)
    reference = _NoCache(tiny_model.model)
    steps = []
    original = reference.step

    def counting(tokens, cache):
        steps.append(tokens.shape[1])
        return original(tokens, cache)

    reference.step = counting
    with torch.no_grad():
        plain = sampling.generate(reference, _prompt(), _plans(8, density=9), 2, settings)
    assert sum(len(r.tokens) for r in cached) > 2 * 64
    assert [r.tokens for r in cached] == [r.tokens for r in plain]
    assert steps[0] == 32 and set(steps[1:]) == {1}  # the prompt (half the window) once, then one token per step


def test_a_rolling_cache_never_re_reads_tokens(tiny_model):
    calls = []
    original = tiny_model.step

    class Counting:
        config = tiny_model.config

        def new_cache(self, batch, capacity):
            return tiny_model.new_cache(batch, capacity)

        def step(self, tokens, cache):
            calls.append(tokens.shape[1])
            return original(tokens, cache)

    sampling.generate(Counting(), _prompt(), _plans(8, density=9), 1, sampling.SamplingSettings(seed=2))
    assert len(calls) > 64 and calls[0] == 32 and set(calls[1:]) == {1}
