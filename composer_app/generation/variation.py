"""Variations and interpolations in the VAE's latent space, and the mood faders.

Plain arrays in and out (token segments from ``melody``; latents as numpy), the model passed in:
the ``VAEGenerator`` (``vae.py``) turns clips into segments and the results into candidates.

* **Encoding**: each 2-bar segment's posterior mean, refined by a few gradient steps (``encode``).
* **Variation** of a clip: each 2-bar segment is encoded to its code ``mu``; a candidate
  decodes ``z = (1 - amount) * mu + amount * eps`` with ``eps ~ N(0, I)`` (one draw per candidate and
  segment), so ``amount`` 0 gives the clip back (as well as the model reconstructs it) and 1 a free
  sample from the prior. Without a mood the decode is held to a bar plan (``bar_plan``), as a composer
  varies "a little": ``min(1, 2 * amount)`` of the bars change (at least one), the others are kept as
  they are; a changed bar keeps its rhythm and gets new pitches (at least one note changes, pitches
  lean to the clip's key) until, above amount 0.5, a share ``2 * amount - 1`` of the bars may change
  rhythm too (amount 1: every bar free). So the changed bars and the latent distance both grow with the
  amount. With a mood, the same plan decides which bars change, and a changed bar is free (new rhythm
  too: the mood moves note density); the fader coordinates are set to the values whose typical attribute
  is the mood's target (``fader_value``) and the changed bars are steered toward it (``decode_toward``),
  the others kept as they are: "a little toward tense" changes a few bars toward tense (amount 0 with a
  mood: the clip's decode moved toward the mood, every bar free). A variation that keeps no bar of the clip is
  transposed by the shift (-6..+5 semitones) that best matches its pitch classes to the clip's
  (``fit_key``; amount 0 is left as decoded). A latent draw carries no key of its own, so without this
  a free variation lands in any of twelve keys, usually not the one of the music around the selection.
  Each variation is the best of a few draws (``departure_cost``) that differs from the clip and from
  the other variations (``pick_distinct``).
* **Interpolation** from clip A to clip B in ``steps`` clips (both ends included, Magenta Studio's
  convention): segment i of A is paired with segment i of B (the shorter clip's segments repeat), and
  step j decodes ``(1 - t) * mu_A + t * mu_B`` with ``t = j / (steps - 1)``. Linear, not spherical:
  every coordinate, hence every fader, moves monotonically from A's value to B's.
Decoding is greedy (the most likely token at every step): the latent alone decides the result.
"""

from __future__ import annotations

import numpy as np
import torch

from composer_app.generation import melody


REFINE_STEPS = 10  # gradient steps on z after the encoder (0: the encoder's mean as it is)
REFINE_LEARNING_RATE = 0.2  # Adam step size on z
REFINE_MOMENTUM = 0.5  # Adam's beta1: 0.5 reaches in 10 steps what 0.9 (lr 0.15) reached in 15 (dev, 500 segments)
REFINE_MARGIN = 1.0  # a segment stops once every right token leads the runner-up by this many logits
VARY_DRAWS = 8  # each variation (amount > 0) is the best of this many latent draws (``departure_cost``)
DEPARTURE_INTERVAL_WEIGHT = 1.0  # weight of the melodic-interval distribution's L1 distance in ``departure_cost``
BAR_STEPS = melody.SEGMENT_STEPS // melody.SEGMENT_BARS  # 16th steps per 4/4 bar
REFINE_PRIOR_WEIGHT = 0.1  # weight of the prior term 0.5 * |z|^2: keeps refined codes where the decoder was trained


def encode(model, segments: np.ndarray, refine_steps: int = REFINE_STEPS) -> np.ndarray:
    """Latent codes (k, latent_dim) of token segments (k, SEGMENT_STEPS): the posterior mean, refined.

    The encoder's mean is a one-shot guess (the "amortization gap", Cremer et al. 2018); a few
    gradient steps on z that raise the decoder's likelihood of the segment (semi-amortized inference,
    Kim et al. 2018) make the decoder reproduce far more of it. Each segment keeps the code where the
    right token leads the runner-up by the widest margin at its closest step (a code right at a
    decision boundary would flip with the rounding of another batch size); it stops moving once that
    margin reaches ``REFINE_MARGIN`` logits.
    """
    tokens = torch.from_numpy(np.asarray(segments, dtype=np.int64))
    mu, _ = model.encode(tokens)
    if refine_steps > 0:
        mu = refine(model, tokens, mu, refine_steps)
    return mu.numpy()


def refine(model, tokens: torch.Tensor, mu: torch.Tensor, steps: int, lr: float = REFINE_LEARNING_RATE,
           prior_weight: float = REFINE_PRIOR_WEIGHT, momentum: float = REFINE_MOMENTUM) -> torch.Tensor:
    """``mu`` after up to ``steps`` Adam steps on cross-entropy(decoder(z), tokens) + prior_weight * |z|^2 / 2.

    Returns, per segment, the code seen with the largest smallest lead of the right token over the
    runner-up (> 0: greedy decoding reproduces the segment); a segment stops at ``REFINE_MARGIN``.
    """
    import torch.nn.functional as F

    # Adam written out: torch.optim's first step imports torch._dynamo (seconds), too slow for a click
    beta1, beta2, eps = momentum, 0.999, 1e-8
    z = mu.detach().clone().requires_grad_(True)
    m, v = torch.zeros_like(z), torch.zeros_like(z)
    best_z, best_margin = mu.detach().clone(), torch.full((len(z),), float("-inf"))
    inputs = model._shifted(tokens)
    with torch.enable_grad():
        for t in range(1, steps + 2):
            logits, _ = model.decoder(z, inputs)
            with torch.no_grad():  # the smallest lead of the right token over the runner-up, per segment
                target = logits.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
                runner_up = logits.scatter(-1, tokens.unsqueeze(-1), float("-inf")).amax(-1)
                margin = (target - runner_up).amin(dim=1)
                better = margin > best_margin
                best_z[better], best_margin[better] = z.detach()[better], margin[better]
                done = best_margin >= REFINE_MARGIN
            if t > steps or bool(done.all()):
                break
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens.reshape(-1), reduction="sum")
            loss = loss + prior_weight * 0.5 * z.pow(2).sum()
            (grad,) = torch.autograd.grad(loss, z)
            m.mul_(beta1).add_(grad, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step = lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps)
            with torch.no_grad():
                z -= step * (~done).unsqueeze(1)
    return best_z


def decode(model, latents: np.ndarray, logit_bias: np.ndarray | None = None) -> np.ndarray:
    """Greedy token segments for latents of any leading shape (..., latent_dim) -> (..., SEGMENT_STEPS).

    ``logit_bias`` (..., SEGMENT_STEPS, VOCAB_SIZE), same leading shape: added at each step (``plan_bias``).
    """
    latents = np.asarray(latents, dtype=np.float32)
    flat = latents.reshape(-1, latents.shape[-1])
    bias = None
    if logit_bias is not None:
        bias = torch.from_numpy(np.ascontiguousarray(np.asarray(logit_bias, dtype=np.float32).reshape(len(flat), *np.shape(logit_bias)[-2:])))
    tokens = model.decode(torch.from_numpy(flat), logit_bias=bias).numpy()
    return tokens.reshape(*latents.shape[:-1], tokens.shape[-1])


def fader_value(calibration: dict, attribute: str, target: float) -> float:
    """The fader coordinate whose segments have ``target`` as their mean ``attribute`` (clamped to the range seen)."""
    table = calibration["faders"][attribute]
    attributes, z = np.asarray(table["attribute"], dtype=np.float64), np.asarray(table["z"], dtype=np.float64)
    # the attribute column is non-decreasing; np.interp needs strictly increasing x: drop flat runs
    keep = np.concatenate([[True], np.diff(attributes) > 1e-9])
    return float(np.interp(target, attributes[keep], z[keep]))


def mood_faders(calibration: dict, targets) -> dict[int, float]:
    """{latent dimension: value} that moves each fader attribute to a target (``AttributeTargets`` or a dict)."""
    out = {}
    for name, table in calibration.get("faders", {}).items():
        value = targets.get(name) if isinstance(targets, dict) else getattr(targets, name, None)
        if value is not None:
            out[int(table["dim"])] = fader_value(calibration, name, float(value))
    return out


def vary_latents(mu: np.ndarray, amount: float, seeds, faders: dict[int, float] | None = None) -> np.ndarray:
    """(len(seeds), k, latent_dim) latents around ``mu`` (k, latent_dim), one per seed: see the module docstring."""
    if not 0.0 <= amount <= 1.0:
        raise ValueError("amount must be in range 0..1")
    eps = np.stack([np.random.default_rng(seed).standard_normal(mu.shape) for seed in seeds]).astype(np.float32)
    z = (1.0 - amount) * mu[None] + amount * eps
    for dim, value in (faders or {}).items():
        z[..., dim] = value
    return z.astype(np.float32)


def vary(model, segments: np.ndarray, mu: np.ndarray, amount: float, seeds, targets: np.ndarray | None = None,
         draws: int = VARY_DRAWS) -> np.ndarray:
    """Variations (len(seeds), k, SEGMENT_STEPS) of a clip's segments (k, SEGMENT_STEPS) with codes ``mu``.

    Without ``targets``, each draw also gets a bar plan (``bar_plan``): the bars it keeps as they are,
    the bars that get new pitches on their own rhythm and (above amount 0.5) the bars free to change
    rhythm too; the decode is held to it (``plan_bias``), so a small amount changes a few notes of a
    few bars and keeps the phrase's rhythm. A variation that keeps no bar is moved into the clip's key
    (``fit_key``). ``targets`` (k, n_attributes) in FADER_ATTRIBUTES order (NaN: no target), a mood's
    per group: the faders are set to them (``mood_faders``) and the decode is steered toward them
    (``decode_toward``: the mode fader alone does not move the mode); the bar plan still decides which
    bars change, but a changed bar is free (a mood moves note density) and the rest are kept, so the
    amount limits how much of the phrase the mood moves (from 0.5 on, every bar). Each candidate is the best of
    ``draws`` latent draws (``departure_cost`` plus, with targets, the distance to them) that differs
    from the clip and from the candidates before it (``pick_distinct``): draw 0 of candidate seed ``s``
    is ``vary_latents``' draw for ``s``, draw d > 0 the one for the seed sequence ``[s, d]``.
    """
    draws = max(1, int(draws)) if amount > 0 else 1
    draw_seeds = [[s if d == 0 else [int(s), d] for s in seeds] for d in range(draws)]
    latents = np.stack([vary_latents(mu, amount, row) for row in draw_seeds])  # (draws, candidates, k, latent_dim)
    kept_bars = np.zeros(latents.shape[:2], dtype=bool)
    if targets is None and amount <= 0:
        return decode(model, latents)[0]  # the clip as the model reconstructs it
    bias = None
    if amount > 0:  # the bar plan of every draw; with a mood, the changed bars are free
        bias = np.zeros(latents.shape[:3] + (melody.SEGMENT_STEPS, melody.VOCAB_SIZE), dtype=np.float32)
        key_bias = REPITCH_KEY_GAIN * clip_key_bias(segments) if REPITCH_KEY_GAIN and targets is None else None
        for d in range(draws):
            for c, seed in enumerate(seeds):
                rng = np.random.default_rng([int(seed), d, PLAN_STREAM])
                plan = bar_plan(len(segments) * melody.SEGMENT_BARS, amount, rng)
                if targets is not None:
                    plan[plan != KEEP] = FREE  # a mood moves note density: a changed bar may take any rhythm
                kept_bars[d, c] = bool((plan == KEEP).any())
                bias[d, c] = plan_bias(segments, plan, rng, key_bias)
        if targets is not None and not kept_bars.any():
            bias = None  # every bar free (amount >= 0.5): the plain guided decode, as without a plan
    if targets is None:
        tokens = decode(model, latents, bias)  # (draws, candidates, k, steps): one batch
    else:
        targets = np.asarray(targets, dtype=np.float64)
        for k, row in enumerate(targets):
            wanted = {name: float(v) for name, v in zip(melody.FADER_ATTRIBUTES, row) if not np.isnan(v)}
            for dim, value in mood_faders(model.calibration, wanted).items():
                latents[..., k, dim] = value
        tokens = decode_toward(model, latents, targets, step_bias=bias)
        if amount <= 0:
            return tokens[0]  # the clip moved toward the mood, every bar free
    # a variation with no bar of the clip left carries no key of its own: move it into the clip's
    tokens = np.stack([[candidate if kept else fit_key(candidate, segments) for candidate, kept in zip(draw, keeps)]
                       for draw, keeps in zip(tokens, kept_bars)])
    # with a mood the pitch classes are meant to move (the mode): only rhythm and melodic motion are compared
    pitch_classes = targets is None
    cost = np.array([[departure_cost(candidate, segments, pitch_classes) for candidate in draw] for draw in tokens])  # (draws, candidates)
    if targets is not None:
        cost += attribute_distance(segment_attribute_rows(tokens), targets).mean(axis=-1)
    return tokens[pick_distinct(tokens, cost, segments), np.arange(tokens.shape[1])]


# What a variation does to each bar (``bar_plan``)
KEEP, REPITCH, FREE = 0, 1, 2  # the bar as it is / new pitches on its onsets, holds and rests / anything
CHANGED_BARS_PER_AMOUNT = 2.0  # share of bars changed: min(1, this * amount), at least one bar (amount 0.5: all)
PLAN_STREAM = 1  # the bar plan of draw d of seed s comes from the seed sequence [s, d, PLAN_STREAM]
FORBIDDEN_LOGIT = -1e9  # a token a plan rules out at a step
REPITCH_KEY_GAIN = 3.0  # REPITCH bars lean to the clip key: this multiple of ``clip_key_bias`` (dev realism at 0.3, LR: 0 -> 58.6 %, 1 -> 57.0 %, 3 -> 55.4 %)


def bar_plan(bars: int, amount: float, rng: np.random.Generator) -> np.ndarray:
    """What a variation at ``amount`` does to each of ``bars`` 4/4 bars: KEEP, REPITCH or FREE, (bars,) int.

    ``round(min(1, 2 * amount) * bars)`` bars change (at least one when amount > 0), chosen at random
    by ``rng``; of those, ``round(max(0, 2 * amount - 1) * bars)`` are FREE (new rhythm too), the rest
    REPITCH. So the changed bars grow with the amount up to every bar at 0.5, then rhythms start to
    change, up to every bar free at 1 (a sample from the prior, nothing kept).
    """
    if not 0.0 <= amount <= 1.0:
        raise ValueError("amount must be in range 0..1")
    plan = np.full(bars, KEEP, dtype=np.int64)
    if amount <= 0 or bars == 0:
        return plan
    changed = max(1, int(np.floor(min(1.0, CHANGED_BARS_PER_AMOUNT * amount) * bars + 0.5)))
    free = int(np.floor(max(0.0, CHANGED_BARS_PER_AMOUNT * amount - 1.0) * bars + 0.5))
    order = rng.permutation(bars)
    plan[order[:changed]] = REPITCH
    plan[order[:free]] = FREE
    return plan


def plan_bias(segments: np.ndarray, plan: np.ndarray, rng: np.random.Generator | None = None,
              pitch_class_bias: np.ndarray | None = None) -> np.ndarray:
    """Per-step logit bias (k, SEGMENT_STEPS, VOCAB_SIZE) that holds a decode of ``segments`` (k, steps) to ``plan`` (k * SEGMENT_BARS,).

    A KEEP bar allows only the clip's own token at each step; a REPITCH bar allows any pitch where
    the clip has an onset and only the clip's own hold or rest elsewhere (its rhythm), and, with
    ``rng``, one of its onsets (chosen by ``rng``) must take another pitch than the clip's, so that
    every changed bar changes; a FREE bar, anything. 0 where allowed, ``FORBIDDEN_LOGIT`` elsewhere.
    """
    tokens = np.asarray(segments).reshape(-1)  # (k * steps,)
    step_plan = np.repeat(np.asarray(plan), BAR_STEPS)  # (k * steps,)
    rows = np.arange(len(tokens))
    onset = tokens >= melody.NOTE_ON
    allowed = np.ones((len(tokens), melody.VOCAB_SIZE), dtype=bool)
    fixed = (step_plan == KEEP) | ((step_plan == REPITCH) & ~onset)  # the clip's own token only
    allowed[fixed] = False
    allowed[rows[fixed], tokens[fixed]] = True
    allowed[(step_plan == REPITCH) & onset, : melody.NOTE_ON] = False  # an onset stays an onset
    if rng is not None:
        for bar in np.flatnonzero(np.asarray(plan) == REPITCH):
            onsets = bar * BAR_STEPS + np.flatnonzero(onset[bar * BAR_STEPS : (bar + 1) * BAR_STEPS])
            if len(onsets):
                step = int(rng.choice(onsets))
                allowed[step, tokens[step]] = False
    bias = np.where(allowed, 0.0, FORBIDDEN_LOGIT).astype(np.float32)
    if pitch_class_bias is not None:
        bias[step_plan == REPITCH] += token_bias(pitch_class_bias)
    return bias.reshape(len(segments), melody.SEGMENT_STEPS, melody.VOCAB_SIZE)


def clip_key_bias(segments: np.ndarray) -> np.ndarray:
    """Pitch-class logit bias (12,) of the key ``segments`` fit best (``keys.plan_key``, no mode target): off-scale classes down."""
    from composer_app.generation.keys import plan_key

    return plan_key(pitch_class_profile(segments)).pitch_class_bias


def pick_distinct(tokens: np.ndarray, cost: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """The draw (candidates,) each candidate keeps: its cheapest that differs from the clip and from the earlier candidates' picks.

    ``tokens`` (draws, candidates, k, steps), ``cost`` (draws, candidates); the cheapest draw when none differs.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    seen = {np.asarray(segments, dtype=np.int64).tobytes()}
    picks = []
    for c in range(tokens.shape[1]):
        order = np.argsort(cost[:, c], kind="stable")  # the first minimum: draw 0 on a tie
        pick = next((int(d) for d in order if tokens[d, c].tobytes() not in seen), int(order[0]))
        seen.add(tokens[pick, c].tobytes())
        picks.append(pick)
    return np.array(picks, dtype=np.int64)


def bar_onsets(tokens: np.ndarray) -> list[tuple[int, ...]]:
    """The onset steps of each 4/4 bar (16 steps) of token segments (..., SEGMENT_STEPS), bar by bar."""
    rows = np.asarray(tokens).reshape(-1, BAR_STEPS)
    return [tuple(np.flatnonzero(row >= melody.NOTE_ON).tolist()) for row in rows]


def departure_cost(variation: np.ndarray, segments: np.ndarray, pitch_classes: bool = True) -> float:
    """How much a variation (k, SEGMENT_STEPS) departs from its clip's (``segments``) rhythm and melodic material.

    The sum of: the share of its bars whose onsets are those of none of the clip's bars (real phrases
    restate their bars' rhythms), ``DEPARTURE_INTERVAL_WEIGHT`` times the L1 distance of the two
    melodic-interval distributions (0..2), and with ``pitch_classes`` the L1 distance of the two
    duration-weighted pitch-class distributions (0..2) and the share of its notes on pitch classes
    the clip never plays. What the realism classifier told variations from real phrases by (models/vae.md).
    """
    rhythms = set(bar_onsets(segments))
    own = [o for o in bar_onsets(variation) if o]
    cost = 1.0 - (sum(o in rhythms for o in own) / len(own)) if own else 1.0
    cost += DEPARTURE_INTERVAL_WEIGHT * float(np.abs(interval_profile(variation) - interval_profile(segments)).sum())
    mine, theirs = pitch_class_profile(variation), pitch_class_profile(segments)
    if pitch_classes and mine.sum() and theirs.sum():
        notes = np.concatenate([melody.tokens_to_notes(row) for row in np.asarray(variation).reshape(-1, melody.SEGMENT_STEPS)])
        cost += float(np.abs(mine / mine.sum() - theirs / theirs.sum()).sum()) + float(np.mean(theirs[notes[:, 2] % 12] == 0))
    return cost


def interval_profile(segments: np.ndarray) -> np.ndarray:
    """Distribution (9,) of melodic intervals of token segments over the realism test's bins (``realism.INTERVAL_EDGES``)."""
    from composer_app.generation.realism import INTERVAL_EDGES

    pitches = np.concatenate([melody.tokens_to_notes(row)[:, 2] for row in np.asarray(segments).reshape(-1, melody.SEGMENT_STEPS)])
    counts = np.bincount(np.digitize(np.diff(pitches), INTERVAL_EDGES), minlength=len(INTERVAL_EDGES) + 1).astype(np.float64)
    return counts / counts.sum() if counts.sum() else counts


def pitch_class_profile(segments: np.ndarray) -> np.ndarray:
    """Duration-weighted pitch-class histogram (12,) of token segments (..., SEGMENT_STEPS)."""
    hist = np.zeros(12)
    for row in np.asarray(segments).reshape(-1, melody.SEGMENT_STEPS):
        notes = melody.tokens_to_notes(row)
        if len(notes):
            hist += np.bincount(notes[:, 2] % 12, weights=notes[:, 1].astype(np.float64), minlength=12)
    return hist


def key_shift(segments: np.ndarray, reference: np.ndarray) -> int:
    """Semitones (-6..+5) whose transposition best fits the pitch classes of ``segments`` to ``reference``'s.

    Fit: Pearson correlation of the duration-weighted pitch-class histograms; ties go to the smaller
    move, shifts that would take a note out of the token range are skipped, 0 when either is empty or flat.
    """
    own, ref = pitch_class_profile(segments), pitch_class_profile(reference)
    if own.std() == 0 or ref.std() == 0:
        return 0
    rows = np.asarray(segments).reshape(-1, melody.SEGMENT_STEPS)
    shifts = sorted(range(-6, 6), key=abs)
    moved = np.stack([np.roll(own, shift) for shift in shifts])  # Pearson r of every shift at once
    moved = moved - moved.mean(axis=1, keepdims=True)
    centred = ref - ref.mean()
    fits = moved @ centred / (np.sqrt((moved**2).sum(axis=1)) * np.sqrt(centred @ centred))
    best, best_fit = 0, -np.inf
    for shift, fit in zip(shifts, fits.tolist()):
        if fit > best_fit + 1e-9 and all(melody.transpose_tokens(row, shift) is not None for row in rows):
            best, best_fit = shift, fit
    return best


def fit_key(segments: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``segments`` (k, SEGMENT_STEPS) transposed by ``key_shift`` into the key of ``reference``."""
    shift = key_shift(segments, reference)
    if shift == 0:
        return np.asarray(segments)
    return np.stack([melody.transpose_tokens(row, shift) for row in np.asarray(segments)])


def interpolate_latents(mu_a: np.ndarray, mu_b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, k, latent_dim) latents from ``mu_a`` to ``mu_b`` (both (k, latent_dim)), ends included."""
    if steps < 2:
        raise ValueError("steps must be >= 2 (both ends are steps)")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None, None]
    return ((1.0 - t) * mu_a[None] + t * mu_b[None]).astype(np.float32)


def interpolate(model, a: np.ndarray, b: np.ndarray, mu_a: np.ndarray, mu_b: np.ndarray, steps: int,
                guided: bool = True) -> np.ndarray:
    """Tokens (steps, k, SEGMENT_STEPS) from segments ``a`` to ``b`` (both (k, SEGMENT_STEPS), codes ``mu_a``/``mu_b``).

    Step j decodes ``interpolate_latents``; the inner steps are decoded toward the attributes
    interpolated between the two ends' measured ones (``decode_toward``: the mode does not follow the
    latent path by itself), the ends plainly, so that they reproduce their inputs.
    """
    latents = interpolate_latents(mu_a, mu_b, steps)
    if not guided:
        return decode(model, latents)
    t = np.linspace(0.0, 1.0, steps)[:, None, None]
    ends = segment_attribute_rows(np.stack([a, b]))  # (2, k, n_attributes)
    targets = (1.0 - t) * ends[0][None] + t * ends[1][None]
    targets[0] = targets[-1] = np.nan
    return decode_toward(model, latents, targets)


def pair_segments(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both segment lists at the longer one's length (the shorter one's segments repeat in order)."""
    k = max(len(a), len(b))
    return np.resize(a, (k, a.shape[1])), np.resize(b, (k, b.shape[1]))


def segment_attribute_rows(tokens: np.ndarray) -> np.ndarray:
    """Fader attributes (..., len(FADER_ATTRIBUTES)) of token segments (..., SEGMENT_STEPS)."""
    flat = np.asarray(tokens).reshape(-1, melody.SEGMENT_STEPS)
    return melody.attribute_matrix(flat).reshape(*np.asarray(tokens).shape[:-1], len(melody.FADER_ATTRIBUTES))


# ----------------------------------------------------------------------------------------------
# Decoding toward attribute targets: mode guidance at decode time, several decodes ranked

# The mode fader does not move the mode (models/vae.md), so the mode is steered where the Transformer's
# is: a pitch-class logit bias from ``keys.plan_key`` (the 3rd, 6th and 7th of the decode's own fitted
# key moved toward the target mode, off-scale pitch classes down), in the direction the plain decode has
# to move, at a few strengths; the decode whose attributes lie nearest the targets is kept.
MODE_PUSHES = (0.1, 0.2, 0.3)  # major_strength targets handed to keys.plan_key (0.3: its full strength)
GUIDANCE_GAINS = (1.0, 3.0, 10.0)  # multiples of plan_key's bias (1: the Transformer's own strength; 10: nearly a mask)
RANK_SCALE_PITCH_SEMITONES = 3.0  # ranking: this many semitones of register error weigh one unit
_PITCH_CLASS_OF_TOKEN = np.concatenate([[-1] * melody.NOTE_ON, np.arange(melody.MIN_PITCH, melody.MAX_PITCH + 1) % 12])


def token_bias(pitch_class_bias: np.ndarray) -> np.ndarray:
    """Logit bias (..., VOCAB_SIZE) of a pitch-class bias (..., 12): each pitch token gets its class's, NOTE_OFF/HOLD 0."""
    bias = np.asarray(pitch_class_bias, dtype=np.float32)
    out = np.zeros(bias.shape[:-1] + (melody.VOCAB_SIZE,), dtype=np.float32)
    out[..., melody.NOTE_ON :] = bias[..., _PITCH_CLASS_OF_TOKEN[melody.NOTE_ON :]]
    return out


def mode_bias(tokens: np.ndarray, major_strength: float) -> np.ndarray:
    """Pitch-class logit bias (12,) toward ``major_strength`` in the key the segment ``tokens`` fits best (``keys.plan_key``)."""
    from composer_app.generation.keys import plan_key

    return plan_key(pitch_class_profile(np.asarray(tokens)[None]), float(major_strength)).pitch_class_bias


def ranking_units(attributes: np.ndarray) -> np.ndarray:
    """Attributes (..., n) in FADER_ATTRIBUTES order on the ranking scales, where one unit of each weighs the same.

    Mode strength and note density (in octaves) on the engine's scales (``plan.target_distance``),
    register in units of ``RANK_SCALE_PITCH_SEMITONES``.
    """
    from composer_app.generation.plan import RANK_SCALE_DENSITY_OCTAVES, RANK_SCALE_MAJOR_STRENGTH

    out = np.array(attributes, dtype=np.float64)
    for j, name in enumerate(melody.FADER_ATTRIBUTES):
        if name == "note_density":
            out[..., j] = np.log2(np.maximum(out[..., j], 0.05)) / RANK_SCALE_DENSITY_OCTAVES
        elif name == "major_strength":
            out[..., j] /= RANK_SCALE_MAJOR_STRENGTH
        else:
            out[..., j] /= RANK_SCALE_PITCH_SEMITONES
    return out


def attribute_distance(attributes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """How far attributes (..., n) are from targets (..., n), in ``ranking_units`` summed; NaN targets count 0."""
    return np.nansum(np.abs(ranking_units(attributes) - ranking_units(targets)), axis=-1)


def decode_options(model, latents: np.ndarray, targets: np.ndarray, pushes=MODE_PUSHES, gains=GUIDANCE_GAINS,
                   step_bias: np.ndarray | None = None):
    """Each latent (n, latent_dim) decoded plainly and with mode guidance toward its targets (n, n_attributes).

    ``step_bias`` (n, SEGMENT_STEPS, VOCAB_SIZE): added to every decode, plain and guided (a bar plan, ``plan_bias``).

    Where a latent has a mode target and its plain decode's mode differs, it is decoded again with the
    mode bias (``mode_bias``) of each push in ``pushes`` (toward major when the decode must become more
    major, else toward minor) times each gain in ``gains``, all in one batch. Returns ``options``
    (1 + len(gains) * len(pushes), n, SEGMENT_STEPS) (option 0: the plain decode), their ``attributes``
    (same leading shape, n_attributes) and ``valid`` (options, n): False where a latent was not guided.
    """
    flat_z = np.asarray(latents, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.float64)
    plain = decode(model, flat_z, step_bias)
    measured = segment_attribute_rows(plain)
    count = 1 + len(pushes) * len(gains)
    options = np.repeat(plain[None], count, axis=0)
    attributes = np.repeat(measured[None], count, axis=0)
    valid = np.zeros((count, len(plain)), dtype=bool)
    valid[0] = True
    mode = melody.FADER_ATTRIBUTES.index("major_strength")
    direction = np.sign(np.nan_to_num(targets[:, mode] - measured[:, mode]))
    rows = np.flatnonzero(direction != 0)
    if not len(rows) or count == 1:
        return options, attributes, valid
    biases = np.stack([[token_bias(mode_bias(plain[r], direction[r] * push)) for r in rows] for push in pushes])  # (P, R, V)
    biases = np.concatenate([gain * biases for gain in gains])  # (G * P, R, V)
    z = np.broadcast_to(flat_z[rows], biases.shape[:2] + flat_z.shape[-1:]).reshape(-1, flat_z.shape[-1])
    if step_bias is not None:  # (G * P, R, steps, V): the plan's bias at each step plus the mode bias
        biases = np.asarray(step_bias, dtype=np.float32)[rows][None] + biases[:, :, None, :]
    biases = np.ascontiguousarray(biases.reshape(-1, *biases.shape[2:]), dtype=np.float32)
    guided = model.decode(torch.from_numpy(np.ascontiguousarray(z)), logit_bias=torch.from_numpy(biases))
    guided = guided.numpy().reshape(count - 1, len(rows), -1)
    options[1:, rows] = guided
    attributes[1:, rows] = segment_attribute_rows(guided)
    valid[1:, rows] = True
    return options, attributes, valid


def decode_toward(model, latents: np.ndarray, targets: np.ndarray, pushes=MODE_PUSHES, gains=GUIDANCE_GAINS,
                  step_bias: np.ndarray | None = None) -> np.ndarray:
    """Greedy tokens (..., SEGMENT_STEPS) of latents (..., latent_dim), each decoded toward its attribute targets (..., n).

    Of the plain and the guided decodes (``decode_options``) the one nearest its targets
    (``attribute_distance``) is kept, the plain one on a tie. NaN targets: no target for that
    attribute (all NaN: the plain decode). ``step_bias`` (..., SEGMENT_STEPS, VOCAB_SIZE), same leading
    shape as the latents: added to every decode (a bar plan: kept bars stay as they are).
    """
    latents = np.asarray(latents, dtype=np.float32)
    shape = latents.shape[:-1]
    targets = np.broadcast_to(np.asarray(targets, dtype=np.float64), shape + np.shape(targets)[-1:])
    flat_targets = targets.reshape(-1, targets.shape[-1])
    if step_bias is not None:
        step_bias = np.asarray(step_bias, dtype=np.float32).reshape(-1, *np.shape(step_bias)[-2:])
    options, attributes, valid = decode_options(model, latents.reshape(-1, latents.shape[-1]), flat_targets, pushes, gains, step_bias)
    distance = np.where(valid, attribute_distance(attributes, flat_targets[None]), np.inf)
    best = distance.argmin(axis=0)  # the first minimum: the plain decode, then the weakest guidance, on a tie
    out = options[best, np.arange(options.shape[1])]
    return out.reshape(*shape, out.shape[-1])
