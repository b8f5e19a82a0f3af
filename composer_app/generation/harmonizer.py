"""A chorale harmonizer: Coconet's masked training and block Gibbs sampling on a small Transformer.

The music is a grid of four voices (soprano, alto, tenor, bass) by 8th-note steps; each cell holds a
pitch of :data:`PITCH_MIN`..:data:`PITCH_MAX` or a rest (:data:`REST`). Like Coconet (Huang et al.
2017, "Counterpoint by Convolution"), the network sees the grid with some cells replaced by
:data:`MASK` and predicts every cell at once; trained on random masks (orderless NADE), it can fill
any subset given any other. Coconet's body is a CNN; here each step's four cells are embedded,
summed with the step's metric position and the key's mode, and mixed over time by a
non-causal Transformer encoder, which is small and fast on one CPU thread.

Harmonizing (:func:`gibbs_fill`) is Coconet's annealed block Gibbs sampling: start with every free
cell masked, then repeatedly mask a shrinking random share of the free cells and resample them
from the network's prediction. Locked cells (the melody, notes the user keeps) never change.
Sampling-time guidance, all optional: a chord track adds a bonus to chord tones, arousal changes
how readily a voice moves (calm: stay on the same pitch), and the mode input follows valence.

Config in the safetensors metadata; fp16 weights; nothing is unpickled.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MODEL_KIND = "harmonizer"
N_VOICES = 4  # soprano, alto, tenor, bass (row 0 is the highest voice)
PITCH_MIN = 36  # C2, the lowest bass note of the chorales
PITCH_MAX = 81  # A5, the highest soprano note of the chorales
REST = PITCH_MAX - PITCH_MIN + 1  # cell value of a rest (46)
N_CLASSES = REST + 1  # what a cell can hold: 46 pitches + rest
MASK = N_CLASSES  # input value of a cell to predict
STEPS_PER_QUARTER = 2  # 8th-note grid (the chorales' 16ths, 2.6 % of notes, are snapped)
MAX_STEPS_IN_BAR = 16  # metric positions told apart (4/4 = 8 steps, 3/2 = 12)
# Voice ranges (MIDI) the sampler keeps each voice in: the chorales' 1st..99th percentiles, widened.
VOICE_RANGES = ((60, 81), (53, 74), (48, 69), (36, 64))


@dataclass
class HarmonizerConfig:
    """Hyper-parameters; stored in the weights file's metadata."""

    n_layer: int = 4  # Transformer encoder blocks
    n_head: int = 4  # attention heads (head size = d_model / n_head = 32)
    d_model: int = 128  # width of each step's vector
    d_cell: int = 64  # embedding width of one cell (4 cells are concatenated, then projected)
    mlp_ratio: int = 4  # feed-forward hidden width = mlp_ratio * d_model
    dropout: float = 0.1  # dropout in training (0 at inference)
    max_steps: int = 128  # longest grid the position table covers (16 bars of 4/4); longer grids are windowed

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HarmonizerConfig:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


class Harmonizer(nn.Module):
    """Grid (B, 4, T) of cell values (MASK where unknown) -> logits (B, 4, T, N_CLASSES)."""

    kind = MODEL_KIND

    def __init__(self, config: HarmonizerConfig):
        super().__init__()
        self.config = config
        c = config
        self.cell = nn.Embedding(N_CLASSES + 1, c.d_cell)  # + MASK
        self.voice = nn.Parameter(torch.zeros(N_VOICES, c.d_cell))
        self.project = nn.Linear(N_VOICES * c.d_cell, c.d_model)
        self.metric = nn.Embedding(MAX_STEPS_IN_BAR, c.d_model)  # position of the step in its bar
        self.position = nn.Embedding(c.max_steps, c.d_model)  # position in the window
        self.mode = nn.Embedding(2, c.d_model)  # 0 major, 1 minor
        layer = nn.TransformerEncoderLayer(
            c.d_model, c.n_head, c.mlp_ratio * c.d_model, c.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, c.n_layer, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, N_VOICES * N_CLASSES)
        nn.init.normal_(self.voice, std=0.02)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, grid: torch.Tensor, metric: torch.Tensor, minor: torch.Tensor) -> torch.Tensor:
        """``grid`` (B, 4, T) long; ``metric`` (B, T) step-in-bar; ``minor`` (B,) 0/1 -> logits (B, 4, T, C)."""
        B, V, T = grid.shape
        x = self.cell(grid) + self.voice[None, :, None, :]  # (B, 4, T, d_cell)
        x = x.permute(0, 2, 1, 3).reshape(B, T, V * self.config.d_cell)
        positions = torch.arange(T, device=grid.device)
        x = self.project(x) + self.metric(metric.clamp(0, MAX_STEPS_IN_BAR - 1)) + self.position(positions)[None]
        x = x + self.mode(minor)[:, None, :]
        x = self.norm(self.encoder(x))
        return self.head(x).view(B, T, V, N_CLASSES).permute(0, 2, 1, 3)

    def masked_loss(self, target: torch.Tensor, mask: torch.Tensor, metric, minor) -> torch.Tensor:
        """Cross-entropy on the masked cells, each example weighted by 1 / its masked cells (Coconet)."""
        grid = torch.where(mask, torch.full_like(target, MASK), target)
        logits = self(grid, metric, minor).float()
        ce = F.cross_entropy(logits.reshape(-1, N_CLASSES), target.reshape(-1), reduction="none").view_as(target)
        per_example = (ce * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2)).clamp(min=1)
        return per_example.mean()


# ----------------------------------------------------------------------------------------------
# Grids


def metric_positions(steps: int, steps_per_bar: int, offset: int = 0) -> np.ndarray:
    """Step-in-bar index of each of ``steps`` steps (the first step is ``offset`` steps into a bar)."""
    return ((np.arange(steps) + offset) % max(1, steps_per_bar)).astype(np.int64)


def pitch_to_cell(pitch: int) -> int:
    """A MIDI pitch as a cell value, folded by octaves into the grid's range."""
    while pitch < PITCH_MIN:
        pitch += 12
    while pitch > PITCH_MAX:
        pitch -= 12
    return pitch - PITCH_MIN


def notes_to_row(notes, steps: int, ticks_per_step: int, start_tick: int = 0) -> np.ndarray:
    """(start, duration, pitch) rows of one voice -> cell values per step (REST where silent)."""
    row = np.full(steps, REST, dtype=np.int64)
    for start, duration, pitch in notes:
        first = max(0, -(-(start - start_tick) // ticks_per_step))  # first step whose start the note covers
        if (start - start_tick) % ticks_per_step and (start - start_tick) // ticks_per_step >= 0:
            # A note starting between steps (a 16th): it owns the step it starts in when it is
            # the longer-sounding note there.
            first = (start - start_tick) // ticks_per_step
        last = (start + duration - start_tick - 1) // ticks_per_step
        if last < 0 or first >= steps:
            continue
        row[max(0, first) : min(steps, last + 1)] = pitch_to_cell(int(pitch))
    return row


def row_to_notes(row: np.ndarray, ticks_per_step: int, start_tick: int = 0, split_every: int = 0):
    """Cell values -> (start tick, duration ticks, pitch): equal neighbours merge into one note.

    ``split_every`` > 0 restrikes a held pitch at every multiple of that many steps (bar lines).
    """
    notes = []
    t = 0
    n = len(row)
    while t < n:
        value = int(row[t])
        if value == REST or value == MASK:
            t += 1
            continue
        end = t + 1
        while end < n and int(row[end]) == value and not (split_every and end % split_every == 0):
            end += 1
        notes.append((start_tick + t * ticks_per_step, (end - t) * ticks_per_step, value + PITCH_MIN))
        t = end
    return notes


def chorale_grid(chorale) -> tuple[np.ndarray, int]:
    """A :class:`~composer_app.generation.chorales.Chorale` -> (grid (4, T), steps per bar)."""
    tps = chorale.ticks_per_quarter // STEPS_PER_QUARTER
    steps = -(-chorale.end_tick // tps)
    grid = np.stack([notes_to_row(chorale.voice(v), steps, tps) for v in range(N_VOICES)])
    steps_per_bar = chorale.numerator * STEPS_PER_QUARTER * 4 // chorale.denominator
    return grid, steps_per_bar


# ----------------------------------------------------------------------------------------------
# Sampling


@dataclass(frozen=True)
class Guidance:
    """Sampling-time steering (all optional).

    ``chord_pcs``: per step, a 12-bit mask of chord pitch classes (0 = no chord there);
    ``chord_bonus``: logit added to chord tones where a chord is given; ``stay_bonus``: logit added
    to a voice's previous pitch (positive = calmer voices; arousal sets it); ``temperature``: the
    middle of the sampling temperatures, which fall from 1.2x to 0.5x it over the iterations (early
    steps explore, late ones settle); ``no_crossing``.
    """

    chord_pcs: np.ndarray | None = None
    chord_bonus: float = 2.0
    stay_bonus: float = 0.0
    temperature: float = 0.8
    no_crossing: bool = True  # a voice never goes above the voice over it or below the voice under it
    no_parallels: bool = True  # no parallel (or contrary) fifths and octaves with the known neighbours


def _range_mask() -> torch.Tensor:
    allowed = torch.zeros(N_VOICES, N_CLASSES, dtype=torch.bool)
    for v, (low, high) in enumerate(VOICE_RANGES):
        allowed[v, low - PITCH_MIN : high - PITCH_MIN + 1] = True
        allowed[v, REST] = True
    return allowed


_PC_OF_CLASS = torch.tensor([(PITCH_MIN + c) % 12 for c in range(REST)] + [-1])


def _bias(grid: torch.Tensor, guidance: Guidance, allowed: torch.Tensor) -> torch.Tensor:
    """Additive logits (4, T, C): voice ranges, chord tones, staying on the previous pitch."""
    V, T = grid.shape
    bias = torch.zeros(V, T, N_CLASSES)
    bias.masked_fill_(~allowed[:, None, :], -1e9)
    if guidance.chord_pcs is not None:
        masks = torch.as_tensor(np.asarray(guidance.chord_pcs, dtype=np.int64)[:T])
        has_chord = masks > 0
        pcs = _PC_OF_CLASS.clamp(min=0)
        in_chord = ((masks[:, None] >> pcs[None, :]) & 1).bool() & (_PC_OF_CLASS[None, :] >= 0)  # (T, C)
        bonus = torch.where(in_chord, guidance.chord_bonus, 0.0) * has_chord[:, None]
        bias[1:] += bonus[None]  # the melody is the user's; the other voices follow the chords
    return bias


_CLASS_INDEX = torch.arange(N_CLASSES)


def _crossing_bias(x: torch.Tensor) -> torch.Tensor:
    """-inf on pitches above the (known) voice over a cell or below the (known) voice under it."""
    V, T = x.shape
    bias = torch.zeros(V, T, N_CLASSES)
    pitch_class = _CLASS_INDEX < REST
    for v in range(V):
        if v > 0:
            above = x[v - 1]
            known = (above < REST)[:, None]
            bias[v] = bias[v].masked_fill(known & pitch_class[None, :] & (_CLASS_INDEX[None, :] > above[:, None]), -1e9)
        if v < V - 1:
            below = x[v + 1]
            known = (below < REST)[:, None]
            bias[v] = bias[v].masked_fill(known & pitch_class[None, :] & (_CLASS_INDEX[None, :] < below[:, None]), -1e9)
    return bias


_PERFECT = torch.tensor([0, 7])
REPAIR_SWEEPS = 4  # last iterations that resample only the cells still in a parallel


def _parallel_bias(x: torch.Tensor) -> torch.Tensor:
    """-1e9 on pitches that would make parallel fifths/octaves (upper minus lower voice, modulo
    octaves, equal and perfect on two neighbouring steps, both voices moving) with known cells."""
    V, T = x.shape
    bias = torch.zeros(V, T, N_CLASSES)
    if T < 2:
        return bias
    c = _CLASS_INDEX[None, :]  # (1, C)
    for v in range(1, V):
        for u in range(V):
            if u == v:
                continue
            sign = 1 if v < u else -1  # v is the upper voice of the pair when v < u
            # backward: steps t-1 -> t, the candidate at (v, t)
            prev_v, prev_u, cur_u = x[v, :-1], x[u, :-1], x[u, 1:]
            known = (prev_v < REST) & (prev_u < REST) & (cur_u < REST) & (cur_u != prev_u)
            d_prev = (sign * (prev_v - prev_u)) % 12
            known &= (d_prev == 0) | (d_prev == 7)
            d_new = (sign * (c - cur_u[:, None])) % 12
            bad = known[:, None] & (d_new == d_prev[:, None]) & (c != prev_v[:, None]) & (c < REST)
            bias[v, 1:] += torch.where(bad, -1e9, 0.0)
            # forward: steps t -> t+1, the candidate at (v, t)
            next_v, cur_u, next_u = x[v, 1:], x[u, :-1], x[u, 1:]
            known = (next_v < REST) & (cur_u < REST) & (next_u < REST) & (next_u != cur_u)
            d_next = (sign * (next_v - next_u)) % 12
            known &= (d_next == 0) | (d_next == 7)
            d_new = (sign * (c - cur_u[:, None])) % 12
            bad = known[:, None] & (d_new == d_next[:, None]) & (c != next_v[:, None]) & (c < REST)
            bias[v, :-1] += torch.where(bad, -1e9, 0.0)
    return bias


@torch.no_grad()
def gibbs_fill(
    model: Harmonizer,
    grid: np.ndarray,
    locked: np.ndarray,
    metric: np.ndarray,
    minor: bool,
    *,
    iterations: int = 32,
    mask_start: float = 0.9,
    mask_end: float = 0.05,
    guidance: Guidance | None = None,
    generator: torch.Generator | None = None,
) -> np.ndarray:
    """Fill the unlocked cells of ``grid`` (4, T) by annealed block Gibbs sampling; locked cells stay.

    Grids longer than the model's window are filled window by window (half-window overlap, the
    earlier half locked), so any length works.
    """
    guidance = guidance or Guidance()
    grid = np.array(grid, dtype=np.int64)
    locked = np.array(locked, dtype=bool)
    window = model.config.max_steps
    T = grid.shape[1]
    if T > window:
        hop = window // 2
        start = 0
        filled_upto = 0
        while True:
            end = min(T, start + window)
            sub_locked = locked[:, start:end].copy()
            sub_locked[:, : max(0, filled_upto - start)] = True
            sub_guidance = guidance if guidance.chord_pcs is None else Guidance(
                np.asarray(guidance.chord_pcs)[start:end], guidance.chord_bonus, guidance.stay_bonus, guidance.temperature)
            grid[:, start:end] = gibbs_fill(model, grid[:, start:end], sub_locked, metric[start:end], minor,
                                            iterations=iterations, mask_start=mask_start, mask_end=mask_end,
                                            guidance=sub_guidance, generator=generator)
            filled_upto = end
            if end == T:
                return grid
            start += hop
    model.eval()
    free = torch.as_tensor(~locked)
    if not free.any():
        return grid
    x = torch.as_tensor(grid)
    x[free] = MASK
    metric_t = torch.as_tensor(metric, dtype=torch.long)[None]
    minor_t = torch.tensor([int(minor)])
    allowed = _range_mask()
    static_bias = _bias(x, guidance, allowed)
    total = iterations + (REPAIR_SWEEPS if guidance.no_parallels else 0)
    for n in range(total):
        repair = n >= iterations
        if repair:  # resample only the free cells still caught in a parallel
            in_parallel = torch.gather(_parallel_bias(x), 2, x.clamp(max=N_CLASSES - 1)[..., None])[..., 0] < -1
            pick = in_parallel & free & (x < REST)
            if not pick.any():
                break
            x[pick] = MASK
        else:
            rate = mask_start + (mask_end - mask_start) * n / max(1, iterations - 1)
            if n > 0:
                pick = (torch.rand(free.shape, generator=generator) < rate) & free
                if not pick.any():
                    continue
                x[pick] = MASK
        masked = x == MASK
        logits = model(x[None], metric_t, minor_t)[0].float() + static_bias
        if guidance.stay_bonus:
            previous = torch.full_like(x, -1)
            previous[:, 1:] = x[:, :-1]
            stay = F.one_hot(previous.clamp(0, N_CLASSES - 1), N_CLASSES + 1)[..., :N_CLASSES].bool()
            stay &= (previous >= 0)[..., None] & (previous < N_CLASSES)[..., None]
            logits = logits + guidance.stay_bonus * stay
        if guidance.no_crossing:
            logits = logits + _crossing_bias(x)
        if guidance.no_parallels:
            logits = logits + _parallel_bias(x)
        progress = min(1.0, n / max(1, iterations - 1))
        temperature = guidance.temperature * (1.2 - 0.7 * progress)
        probs = torch.softmax(logits / max(1e-3, temperature), dim=-1)
        sample = torch.multinomial(probs.view(-1, N_CLASSES), 1, generator=generator).view(x.shape)
        x = torch.where(masked, sample, x)
    return x.numpy()


# ----------------------------------------------------------------------------------------------
# Files


def save_harmonizer(model: Harmonizer, path: Path, metadata: dict | None = None) -> None:
    """Write fp16 weights + config (and any string metadata) to a .safetensors file."""
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    meta = {"kind": MODEL_KIND, "config": model.config.to_json()}
    meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()})
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata=meta)
    tmp.chmod(0o644)
    tmp.replace(path)


def load_harmonizer(path: Path) -> Harmonizer:
    """Rebuild the model from a .safetensors file alone (config in its metadata)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        if meta.get("kind") != MODEL_KIND:
            raise ValueError(f"{path}: not harmonizer weights (kind {meta.get('kind')!r})")
        state = {k: f.get_tensor(k).float() for k in f.keys()}
    model = Harmonizer(HarmonizerConfig.from_json(meta["config"]))
    model.load_state_dict(state)
    model.eval()
    return model


def cells_nll(model: Harmonizer, grid: np.ndarray, metric: np.ndarray, minor: bool, order: list[tuple[int, int]]) -> float:
    """Total negative log-likelihood (nats) of the cells in ``order``, predicted one at a time.

    Every cell in ``order`` starts masked; each is predicted given the cells before it (chain rule),
    then revealed. Other cells stay as given.
    """
    x = torch.as_tensor(np.array(grid, dtype=np.int64))
    target = x.clone()
    for v, t in order:
        x[v, t] = MASK
    metric_t = torch.as_tensor(metric, dtype=torch.long)[None]
    minor_t = torch.tensor([int(minor)])
    total = 0.0
    with torch.no_grad():
        for v, t in order:
            logits = model(x[None], metric_t, minor_t)[0, v, t].float()
            total -= float(torch.log_softmax(logits, -1)[target[v, t]])
            x[v, t] = target[v, t]
    return total


def cosine_rate(step: int, total: int, peak: float, warmup: int = 200) -> float:
    """Learning rate: linear warm-up, then cosine decay to 10 % of ``peak``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


# ----------------------------------------------------------------------------------------------
# The Generator interface (capability "harmonize")

from composer_app.generation.generator import HARMONIZE, Generator  # noqa: E402


class HarmonizerGenerator(Generator):
    """The harmonizer behind ``registry.load_generator("harmonizer")``: ``harmonize(HarmonizeRequest)``.

    Each candidate holds the new voices only (alto, tenor, bass for four voices; each voice on its
    own channel), from the melody clip's tick 0, with a new seed per candidate.
    """

    kind = MODEL_KIND
    capabilities = frozenset({HARMONIZE})
    config_class = HarmonizerConfig

    def __init__(self, config: HarmonizerConfig, metadata: dict | None = None, name: str | None = None, model: Harmonizer | None = None):
        super().__init__(config, metadata, name)
        self.model = model if model is not None else Harmonizer(config)
        self.model.eval()

    @classmethod
    def from_state(cls, metadata: dict, state: dict) -> HarmonizerGenerator:
        config = HarmonizerConfig.from_json(metadata["config"])
        model = Harmonizer(config)
        model.load_state_dict({k: v.float() for k, v in state.items()})
        return cls(config, metadata, model=model)

    def save(self, path, metadata: dict | None = None) -> None:
        save_harmonizer(self.model, Path(path), metadata)

    def parameter_count(self) -> int:
        return self.model.parameter_count()

    def _harmonize(self, request, cancel, emit) -> None:
        from composer_app.core.attributes import compute_attributes
        from composer_app.core.project import Project
        from composer_app.core.theory import Key
        from composer_app.core.track import Track
        from composer_app.generation.candidate import Candidate
        from composer_app.generation.harmonize import harmonize

        clip = request.melody
        project = Project(tracks=(Track("Melody", notes=clip.notes),), ticks_per_quarter=clip.ticks_per_quarter,
                          tempo_map=clip.tempo_map, time_signatures=clip.time_signatures)
        mood = request.moods[0] if request.moods else None
        valence, arousal = (mood.valence, mood.arousal) if mood is not None else (0.0, 0.0)
        for index in range(request.candidates):
            if cancel():
                return
            seed = request.seed + index
            result = harmonize(project, voices=request.voices if request.voices in (2, 3, 4) else 4, valence=valence,
                               arousal=arousal, seed=seed, model=self.model)
            notes = tuple(n for track in result.tracks for n in track.notes)
            length = clip.time_signatures.next_bar_tick(clip.end_tick) if clip.notes else 0
            bars = max(1, round(clip.time_signatures.tick_to_bars(length))) if length else 0
            tonic = _tonic_of(result.melody, result.minor)
            emit(Candidate(
                notes, clip.ticks_per_quarter, clip.tempo_map, clip.time_signatures, Key(tonic, "minor" if result.minor else "major"),
                bars, length, self.name, seed, compute_attributes(notes, clip.ticks_per_quarter, start_tick=0, end_tick=max(1, length)),
                result.seconds, True, index,
            ))


def _tonic_of(melody, minor: bool) -> int:
    from composer_app.arrange.suggest import choose_key

    tonic, _minor = choose_key(melody, -1.0 if minor else 1.0)
    return tonic
