"""Sampling shared by every token generator: grammar masks, forced control headers, constraints.

``generate`` continues one prompt into several candidates at once (a batch sharing the prompt's
KV cache). Each generated bar opens with a header the caller plans (``BarPlan``: time signature and
control tokens from the mood targets); the header is *forced*, not sampled. Between headers the
tokens are sampled with temperature and top-p under a grammar mask, so the output always decodes:
positions only move forward inside the bar, a PITCH is always followed by a DUR, pitches at one
position ascend, and a bar holds at most ``MAX_NOTES_PER_BAR`` notes. Constraints add a logit bias
over pitches (stay in a key, lean major or minor, a pitch range), an optional penalty on a tune
that strikes one pitch many times in a row, and an optional frequency penalty (as in language-model
sampling) on pitches struck often among the last few notes.
A bar a candidate restates (``BarRestatement``, from ``generation.phrase``) has its body forced too:
every token of a copied bar, or the positions and durations of a bar whose rhythm is kept (its
pitches sampled); the model reads them like its own tokens and goes on after them.
Generation stops at a hard bound on tokens and on seconds, and checks ``cancel`` between steps.
Past the model's context a rolling cache (the Transformer's) keeps the last ``block_size`` tokens
and nothing is re-read; a cache without ``rolling`` is refilled from the most recent tokens.

A model only needs ``new_cache(batch, capacity)`` and ``step(tokens (B, T), cache) -> logits (B, V)``
(the cache must offer ``length``, ``capacity``, ``expand(batch)`` and ``select_rows(rows)``).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from composer_app.generation import tokenizer as tk

MAX_NOTES_PER_BAR = 48  # a runaway guard: dense chorale bars hold ~16-24 notes
MAX_NOTES_PER_POSITION = 6  # chords of at most this many notes
NEG_INF = float("-inf")
PITCH_SLOT = -1  # in a bar's forced tokens: sample a pitch here (a restatement that keeps the rhythm only)


@dataclass(frozen=True)
class BarPlan:
    """The forced header of one bar to generate."""

    numerator: int
    denominator: int
    controls: tk.BarControls
    pitch_bias: np.ndarray | None = None  # (N_PITCH,) logits added to the PITCH tokens in this bar (the plan's scale and mode)
    cadence_bias: np.ndarray | None = None  # (N_PITCH,) logits added from grid position ``cadence_from`` on (a closing bar)
    cadence_from: int = 0
    in_key: np.ndarray | None = None  # (N_PITCH,) bool: the bar's key (the frequency penalty keeps its share, Constraints)

    @property
    def length_grid(self) -> int:
        return tk.bar_grid_length(self.numerator, self.denominator)

    def header_tokens(self) -> list[int]:
        c = self.controls
        return [
            tk.BAR,
            tk.TS_BASE + tk.time_signature_index(self.numerator, self.denominator),
            tk.KEY_BASE + c.key,
            tk.DENS_BASE + c.density,
            tk.REG_BASE + c.register,
        ]


@dataclass(frozen=True)
class BarRestatement:
    """One candidate's bar that restates an earlier bar (``generation.phrase``): its tokens are forced.

    ``source``: the bar counted from the continuation's first (negative: a prompt bar, whose body
    tokens are ``body``; otherwise the candidate's own generated bar). ``rhythm_only``: positions and
    durations are forced, pitches sampled. ``pitch_moves``: (from, to) pitch classes (into the bar's mode).
    The restatement is dropped (the bar generated freely) where a restated pitch is forbidden.
    """

    source: int
    rhythm_only: bool = False
    pitch_moves: tuple = ()
    body: tuple = ()  # POS/VEL/PITCH/DUR tokens of a prompt bar


def sample_seed(request_seed: int, index: int) -> int:
    """The seed of sample ``index`` of a request: mixed from both, so requests never share samples.

    (``request_seed + index`` made sample k of seed s the same music as sample 1 of seed s+k-1.)
    """
    mixed = np.random.SeedSequence([request_seed & 0xFFFFFFFFFFFFFFFF, index]).generate_state(1, np.uint64)[0]
    return int(mixed) >> 1  # 63 bits: any torch.Generator takes it


@dataclass
class SamplingSettings:
    temperature: float = 1.0  # >0; lower = safer, higher = wilder
    top_p: float = 0.95  # nucleus sampling: keep the smallest set of tokens with this much probability
    max_new_tokens: int = 4096  # hard bound on generated tokens per candidate
    max_seconds: float = 20.0  # hard bound on wall time; candidates stop where they are
    seed: int = 0  # the request's seed: sample i draws from sample_seed(seed, first_sample + i)
    first_sample: int = 0  # index of this batch's first sample within the request (batches of one request)
    allow_velocity: bool = False  # the corpus has no dynamics: velocity comes from the mood instead

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError("temperature must be > 0")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in range (0, 1]")


@dataclass
class Constraints:
    """Pitch constraints as a logit bias over the PITCH tokens (0 = free, -inf = forbidden)."""

    pitch_bias: np.ndarray = field(default_factory=lambda: np.zeros(tk.N_PITCH, dtype=np.float32))
    repeat_penalty: float = 0.0  # logits off a pitch per repetition beyond ``free_repeats`` in a row
    free_repeats: int = 2  # the tune may strike one pitch this many times in a row unpenalised
    frequency_penalty: float = 0.0  # logits off a pitch per time it sounds among the last ``frequency_window`` notes
    frequency_window: int = 8  # notes (onsets of the tune, counting every note of a chord)
    frequency_free: int = 0  # times a pitch may sound among the recent notes before the frequency penalty counts
    interval_bias: np.ndarray | None = None  # (2 * N_PITCH - 1,) logits by interval from the tune's last pitch (a single line only)
    frequency_keeps_key: bool = False  # the penalty moves probability among the bar's in-key pitches only (BarPlan.in_key)

    def __post_init__(self) -> None:
        if self.frequency_window < 1:
            raise ValueError("frequency_window must be >= 1")
        if self.frequency_penalty < 0 or self.repeat_penalty < 0:
            raise ValueError("penalties must be >= 0")

    @classmethod
    def build(
        cls,
        pitch_min: int = tk.PITCH_MIN,
        pitch_max: int = tk.PITCH_MAX,
        allowed_pitch_classes: Sequence[int] | None = None,
        out_of_key_penalty: float = float("inf"),
        pitch_class_bias: Sequence[float] | None = None,
    ) -> Constraints:
        """A pitch range, an optional scale (out-of-scale pitches get ``-out_of_key_penalty``) and a
        bias per pitch class (e.g. toward the minor third for a sad mood)."""
        pitches = np.arange(tk.PITCH_MIN, tk.PITCH_MAX + 1)
        bias = np.zeros(tk.N_PITCH, dtype=np.float32)
        bias[(pitches < pitch_min) | (pitches > pitch_max)] = NEG_INF
        if allowed_pitch_classes is not None:
            outside = ~np.isin(pitches % 12, list(allowed_pitch_classes))
            bias[outside] = bias[outside] - out_of_key_penalty
        if pitch_class_bias is not None:
            bias += np.asarray(pitch_class_bias, dtype=np.float32)[pitches % 12]
        if not np.isfinite(bias).any():
            raise ValueError("the constraints forbid every pitch")
        return cls(bias)


@dataclass
class CandidateTokens:
    """What ``generate`` gives back per candidate."""

    index: int
    seed: int
    tokens: list[int]  # generated tokens only (starting with the first forced BAR)
    finished: bool  # all planned bars were generated
    seconds: float  # wall time from the start of generation until this candidate finished


class GenerationCancelled(Exception):
    """``cancel`` was set: generation stopped between two steps."""


class _Grammar:
    """Where one candidate stands in the bar grammar; yields masks and forced tokens."""

    def __init__(self, plans: Sequence[BarPlan], window: int = 8, restatements=None, pitch_ok=None):
        self.plans = plans
        self.restatements = restatements  # per bar: a BarRestatement or None
        self.pitch_ok = pitch_ok  # per bar: (N_PITCH,) bool, pitches a restated note may have
        self.bodies: list[list[int]] = []  # body tokens of the bars generated so far
        self.current: list[int] = []
        self.recent: deque[int] = deque(maxlen=window)  # pitch indices of the last notes, oldest first
        self.bar = 0
        self.forced = list(plans[0].header_tokens()) + self._restated(0)
        self.state = "header"
        self.pos = -1
        self.last_pitch = -1
        self.notes_in_bar = 0
        self.notes_at_pos = 0
        self.finished = False
        self.melody_pitch = -1  # the highest pitch of the last position (the tune, in a texture)
        self.melody_run = 0  # how many positions in a row have had that top pitch
        self._top_at_pos = -1

    def advance(self, token: int) -> None:
        kind = tk.token_class(token)
        if kind in ("POS", "VEL", "PITCH", "DUR"):
            self.current.append(token)
        if kind == "BAR" and self.state != "header":
            self.bodies.append(self.current)
            self.current = []
            self.bar += 1
            if self.bar >= len(self.plans):
                self.finished = True
                return
            self.forced = self.plans[self.bar].header_tokens()[1:] + self._restated(self.bar)
            self.state = "header"
        elif kind == "REG":
            self.state, self.pos, self.last_pitch, self.notes_in_bar, self.notes_at_pos = "bar", -1, -1, 0, 0
        elif kind == "POS":
            self._close_position()
            self.pos, self.last_pitch, self.notes_at_pos, self.state = token - tk.POS_BASE, -1, 0, "pos"
        elif kind == "VEL":
            self.state = "vel"
        elif kind == "PITCH":
            self.last_pitch, self.state = token - tk.PITCH_BASE, "pitch"
            self.recent.append(self.last_pitch)
            self._top_at_pos = self.last_pitch
        elif kind == "DUR":
            self.notes_in_bar += 1
            self.notes_at_pos += 1
            self.state = "dur"

    def _restated(self, bar: int) -> list[int]:
        """The forced body (and closing BAR) of a restated bar; [] where it is generated freely."""
        r = self.restatements[bar] if self.restatements else None
        if r is None:
            return []
        body = r.body if r.source < 0 else (self.bodies[r.source] if 0 <= r.source < len(self.bodies) else ())
        if not body:
            return []
        moves = dict(r.pitch_moves)
        ok = self.pitch_ok[bar] if self.pitch_ok is not None else None
        out, per_pos = [], 0
        length = self.plans[bar].length_grid
        for token in body:
            kind = tk.token_class(token)
            if kind == "VEL":
                continue
            if kind == "POS":
                if token - tk.POS_BASE >= length:
                    return []
                per_pos = 0
            elif kind == "PITCH":
                pitch = token - tk.PITCH_BASE
                pc = (pitch + tk.PITCH_MIN) % 12
                if pc in moves:
                    pitch += ((moves[pc] - pc + 6) % 12) - 6
                per_pos += 1
                if not 0 <= pitch < tk.N_PITCH or (ok is not None and not ok[pitch]) or (r.rhythm_only and per_pos > 1):
                    return []
                token = PITCH_SLOT if r.rhythm_only else tk.PITCH_BASE + pitch
            out.append(token)
        return out + [tk.BAR]

    def _close_position(self) -> None:
        if self._top_at_pos < 0:
            return
        if self._top_at_pos == self.melody_pitch:
            self.melody_run += 1
        else:
            self.melody_pitch, self.melody_run = self._top_at_pos, 1
        self._top_at_pos = -1

    def repeated_pitch(self, free_repeats: int) -> tuple[int, int]:
        """(pitch index, repeats beyond ``free_repeats``) of the tune's current run; (-1, 0) if none."""
        run = self.melody_run + (1 if self._top_at_pos == self.melody_pitch and self._top_at_pos >= 0 else 0)
        if self.state in ("pos", "vel") and self.melody_pitch >= 0 and run >= free_repeats:
            return self.melody_pitch, run - free_repeats + 1
        return -1, 0

    def allowed(self, allow_velocity: bool) -> np.ndarray:
        """Boolean mask over the vocabulary for the next sampled token."""
        mask = np.zeros(tk.VOCAB_SIZE, dtype=bool)
        bar_len = self.plans[self.bar].length_grid
        full = self.notes_in_bar >= MAX_NOTES_PER_BAR
        if self.state == "bar":  # right after the header: a position, or an empty bar
            if not full:
                mask[tk.POS_BASE : tk.POS_BASE + bar_len] = True
            mask[tk.BAR] = True
        elif self.state in ("pos", "vel"):
            mask[tk.PITCH_BASE : tk.PITCH_BASE + tk.N_PITCH] = True
            if self.state == "pos" and allow_velocity:
                mask[tk.VEL_BASE : tk.VEL_BASE + tk.VELOCITY_BINS] = True
        elif self.state == "pitch":
            mask[tk.DUR_BASE : tk.DUR_BASE + tk.N_DUR] = True
        elif self.state == "dur":
            mask[tk.BAR] = True
            if not full:
                mask[tk.POS_BASE + self.pos + 1 : tk.POS_BASE + bar_len] = True
                if self.notes_at_pos < MAX_NOTES_PER_POSITION and self.last_pitch + 1 < tk.N_PITCH:
                    mask[tk.PITCH_BASE + self.last_pitch + 1 : tk.PITCH_BASE + tk.N_PITCH] = True
                    if allow_velocity:
                        mask[tk.VEL_BASE : tk.VEL_BASE + tk.VELOCITY_BINS] = True
        return mask


def _recent_pitch_penalty(recent: Sequence[int], constraints: Constraints) -> np.ndarray:
    """Logits to subtract per pitch: ``frequency_penalty`` per time it sounds among the recent notes
    beyond ``frequency_free`` times."""
    counts = np.bincount(np.fromiter(recent, dtype=np.int64, count=len(recent)), minlength=tk.N_PITCH)
    return constraints.frequency_penalty * np.maximum(counts - constraints.frequency_free, 0).astype(np.float32)


def _key_share_shift(pitch_logits: torch.Tensor, penalties: torch.Tensor, in_key: torch.Tensor) -> torch.Tensor:
    """Extra logits to subtract from the out-of-key pitches so that the frequency penalty does not
    change the in-key share of the probability: what the penalty takes from the recent in-key pitches
    goes to the other in-key pitches, not to chromatic ones (rows (R, N_PITCH); in_key bool (R, N_PITCH))."""
    inside = pitch_logits.masked_fill(~in_key, NEG_INF)
    before = torch.logsumexp(inside, dim=1)
    after = torch.logsumexp(inside - penalties, dim=1)
    lost = torch.nan_to_num(before - after, nan=0.0, posinf=0.0, neginf=0.0).clamp_min(0.0)  # >= 0 nats
    return lost.unsqueeze(1) * (~in_key)


def _sample_rows(logits: torch.Tensor, temperature: float, top_p: float, uniforms: torch.Tensor) -> list[int]:
    """Sample one token per row of masked logits (R, V) with temperature and top-p (nucleus).

    ``uniforms`` (R,) are the rows' random numbers in [0, 1), drawn from each candidate's own
    generator, so that a candidate's tokens do not depend on the other rows of the batch.
    """
    probs = torch.softmax(logits / temperature, dim=-1)
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    cumulative = torch.cumsum(sorted_probs, dim=-1)
    if top_p < 1.0:
        sorted_probs = torch.where(cumulative - sorted_probs > top_p, torch.zeros_like(sorted_probs), sorted_probs)
        cumulative = torch.cumsum(sorted_probs, dim=-1)
    threshold = (uniforms * cumulative[:, -1]).unsqueeze(1)
    index = torch.searchsorted(cumulative, threshold).clamp_max(cumulative.size(1) - 1)
    # never land on a zero-probability token (a threshold exactly on a step boundary)
    picked = order.gather(1, index).view(-1)
    return [int(t) for t in picked]


@torch.no_grad()
def generate(
    model,
    prompt_tokens: Sequence[int],
    plans: Sequence[BarPlan],
    candidates: int,
    settings: SamplingSettings | None = None,
    constraints: Constraints | None = None,
    *,
    cancel: Callable[[], bool] | None = None,
    on_candidate: Callable[[CandidateTokens], None] | None = None,
    context_tokens: int | None = None,
    restatements: Sequence | None = None,
) -> list[CandidateTokens]:
    """Continue ``prompt_tokens`` with ``len(plans)`` bars, ``candidates`` times, in one batch.

    ``cancel()`` is checked between steps (raises ``GenerationCancelled``); ``on_candidate`` is called
    as each candidate finishes. ``context_tokens`` bounds the attention window (default: the model's
    ``block_size``); past it the window slides by re-reading the most recent tokens.
    ``restatements``: per candidate, per bar a ``BarRestatement`` or None (``generation.phrase``).
    """
    settings = settings or SamplingSettings()
    constraints = constraints or Constraints()
    if candidates < 1:
        raise ValueError("candidates must be >= 1")
    if not plans:
        raise ValueError("plans must hold at least one bar")
    started = time.perf_counter()
    window = int(context_tokens or getattr(model.config, "block_size", 512))
    prompt = list(prompt_tokens)[-(window // 2) :] or [tk.BOS]
    generators = [
        torch.Generator().manual_seed(sample_seed(settings.seed, settings.first_sample + i)) for i in range(candidates)
    ]
    pitch_ok = None
    if restatements is not None:
        if len(restatements) != candidates:
            raise ValueError("restatements must hold one entry per candidate")
        pitch_ok = [
            np.isfinite(constraints.pitch_bias + (0 if p.pitch_bias is None else np.asarray(p.pitch_bias, dtype=np.float32)))
            for p in plans
        ]
    grammars = [
        _Grammar(plans, constraints.frequency_window, restatements[i] if restatements is not None else None, pitch_ok)
        for i in range(candidates)
    ]
    generated: list[list[int]] = [[] for _ in range(candidates)]
    results: dict[int, CandidateTokens] = {}
    pitch_bias = torch.from_numpy(constraints.pitch_bias)
    zero_bias = torch.zeros(tk.N_PITCH)
    bar_bias = [zero_bias if p.pitch_bias is None else torch.as_tensor(p.pitch_bias, dtype=torch.float32) for p in plans]
    bar_bias = bar_bias if any(p.pitch_bias is not None for p in plans) else None
    interval_bias = None if constraints.interval_bias is None else torch.as_tensor(constraints.interval_bias, dtype=torch.float32)
    in_key = None
    if constraints.frequency_keeps_key and all(p.in_key is not None for p in plans):
        in_key = [torch.as_tensor(p.in_key, dtype=torch.bool) for p in plans]
    cadence_bias = {b: torch.as_tensor(p.cadence_bias, dtype=torch.float32) for b, p in enumerate(plans) if p.cadence_bias is not None}
    pitch_slice = slice(tk.PITCH_BASE, tk.PITCH_BASE + tk.N_PITCH)

    cache = model.new_cache(1, window)
    logits = model.step(torch.tensor([prompt], dtype=torch.long), cache)
    cache = cache.expand(candidates)
    logits = logits.expand(candidates, -1)
    history = [list(prompt) for _ in range(candidates)]
    active = list(range(candidates))  # the candidate in each row of the batch; finished ones leave it

    def finish(i: int, done: bool) -> None:
        seed = sample_seed(settings.seed, settings.first_sample + i)
        results[i] = CandidateTokens(i, seed, generated[i], done, time.perf_counter() - started)
        if on_candidate is not None:
            on_candidate(results[i])

    steps = 0
    while active:
        if cancel is not None and cancel():
            raise GenerationCancelled("generation cancelled")
        if steps >= settings.max_new_tokens or time.perf_counter() - started > settings.max_seconds:
            for i in active:
                finish(i, False)
            break
        rows_to_sample = [r for r, i in enumerate(active) if not grammars[i].forced or grammars[i].forced[0] == PITCH_SLOT]
        sampled = {}
        if rows_to_sample:
            rows = logits[rows_to_sample].clone()
            rows[:, pitch_slice] += pitch_bias
            if bar_bias:
                rows[:, pitch_slice] += torch.stack([bar_bias[grammars[active[r]].bar] for r in rows_to_sample])
            if cadence_bias:
                for n, r in enumerate(rows_to_sample):
                    grammar = grammars[active[r]]
                    bias = cadence_bias.get(grammar.bar)
                    if bias is not None and grammar.pos >= plans[grammar.bar].cadence_from:
                        rows[n, pitch_slice] += bias
            if constraints.repeat_penalty:
                for n, r in enumerate(rows_to_sample):
                    pitch, extra = grammars[active[r]].repeated_pitch(constraints.free_repeats)
                    if extra:
                        rows[n, tk.PITCH_BASE + pitch] -= constraints.repeat_penalty * extra
            if constraints.interval_bias is not None:
                for n, r in enumerate(rows_to_sample):
                    last = grammars[active[r]].melody_pitch
                    if last >= 0 and grammars[active[r]].state in ("pos", "vel"):  # the tune's next pitch
                        rows[n, pitch_slice] += interval_bias[tk.N_PITCH - 1 - last : 2 * tk.N_PITCH - 1 - last]
            if constraints.frequency_penalty:
                penalties = torch.from_numpy(np.stack([_recent_pitch_penalty(grammars[active[r]].recent, constraints) for r in rows_to_sample]))
                if in_key is not None:
                    keys_now = torch.stack([in_key[grammars[active[r]].bar] for r in rows_to_sample])
                    penalties += _key_share_shift(rows[:, pitch_slice], penalties, keys_now)
                rows[:, pitch_slice] -= penalties
            masks = np.stack([grammars[active[r]].allowed(settings.allow_velocity) for r in rows_to_sample])
            for n, r in enumerate(rows_to_sample):
                if grammars[active[r]].forced:  # a pitch slot of a restated rhythm: a pitch, nothing else
                    masks[n, : tk.PITCH_BASE] = False
                    masks[n, tk.PITCH_BASE + tk.N_PITCH :] = False
            rows[~torch.from_numpy(masks)] = NEG_INF
            uniforms = torch.cat([torch.rand(1, generator=generators[active[r]], dtype=torch.float64) for r in rows_to_sample])
            sampled = dict(zip(rows_to_sample, _sample_rows(rows, settings.temperature, settings.top_p, uniforms.float())))
        next_tokens, keep_rows = [], []
        for r, i in enumerate(active):
            grammar = grammars[i]
            if grammar.forced and grammar.forced[0] != PITCH_SLOT:
                token = grammar.forced.pop(0)
            else:
                if grammar.forced:
                    grammar.forced.pop(0)
                token = sampled[r]
            grammar.advance(token)
            generated[i].append(token)
            if grammar.finished:
                generated[i].pop()  # the closing BAR belongs to the next bar, not to this candidate
                finish(i, True)
            else:
                keep_rows.append(r)
                next_tokens.append(token)
                history[i].append(token)
        if not keep_rows:
            break
        if len(keep_rows) < len(active):  # drop finished candidates from the batch
            cache.select_rows(torch.tensor(keep_rows))
            active = [active[r] for r in keep_rows]
        if cache.length + 1 > cache.capacity and not getattr(cache, "rolling", False):  # slide: re-read the recent tokens
            keep = window * 3 // 4
            cache = model.new_cache(len(active), window)
            if hasattr(cache, "bars"):  # a bar-counting model goes on counting from the bars it no longer sees
                cache.bars = torch.tensor([sum(t == tk.BAR for t in history[i][:-keep]) for i in active], dtype=torch.long)
            logits = model.step(torch.tensor([history[i][-keep:] for i in active], dtype=torch.long), cache)
        else:
            logits = model.step(torch.tensor(next_tokens, dtype=torch.long).view(-1, 1), cache)
        steps += 1
    return [results[i] for i in range(candidates)]
