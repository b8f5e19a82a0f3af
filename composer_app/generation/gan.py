"""An adversarially trained bar generator: a MidiNet-style convolutional conditional GAN.

One bar of melody at a time, as a one-hot "piano roll" of ``STEPS_PER_BAR`` 16th-note steps. Each
step is one symbol: a rest, a hold (the sounding note goes on) or the onset of one of
``N_PITCHES`` pitches (MidiNet's one-hot columns with a rest row; the hold row adds the long notes
MidiNet could not write). Pitches are relative to the key: every bar is transposed so that its
tonic is C (``key_shift``), and transposed back to the prompt's key when it is played.

* **Generator** (``BarGenerator``): noise -> transposed 1-D convolutions over time (2 -> 4 -> 8 -> 16
  steps); at every resolution it sees the *previous bar* through a convolutional conditioner
  (MidiNet's 2-D conditioner, here over time with the symbols as channels) and the bar's attribute
  vector (``attribute_vector``: minor or major, onsets per step, register, bar length), broadcast
  over time. Softmax over the symbols at each step; a step is drawn as rest, hold or onset by
  their probability mass, then the onset's pitch (``decode_steps``, seeded per sample).
  The request's temperature scales the noise and the draws (below 1: closer to the most likely
  bar, above: wilder).
* **Critic** (``BarCritic``): the bar (one-hot when real, the softmax when generated), the previous
  bar and the attributes -> convolutions -> one score (a Wasserstein critic, no sigmoid).

Stabilisers (justified in models/gan.md): WGAN-GP (gradient penalty 10, as MuseGAN) instead of
MidiNet's sigmoid loss and feature matching, which in short trials here swung between a silent and a
saturated generator; an attribute loss on the generator (its softmax's expected onsets per step,
register and minor-third mass against the requested ones; an AC-GAN-style auxiliary term that makes
the mood sliders work); a mode-seeking term (MSGAN, Mao et al. 2019: two noises for one condition
should give different bars), added after a first run collapsed (5 % distinct bars from one
condition after 300 steps); fresh noise per bar and per sample, and the mode-collapse check
(``distinct_bar_share``) during and after training.

Generation (``GanGenerator._continue``) continues a prompt bar by bar: the prompt's last bar (its top
line) is the first condition, each generated bar the next one; each bar is conditioned on minor or
major by the plan's third (the Transformer's KEY control), the plan's per-bar pitch-class bias
(scale, mode) is added to the onset logits before each step is drawn, and each candidate is the
best of ``DEFAULT_OVERSAMPLE`` samples ranked by the plan's targets.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from composer_app.generation import tokenizer as tk
from composer_app.generation.generator import CONTINUE, Cancelled, Generator
from composer_app.generation.sampling import sample_seed

MODEL_KIND = "gan"
STEPS_PER_BAR = 16  # 16th notes of a 4/4 bar; shorter bars use the first steps, longer ones two chunks
GRID_PER_STEP = tk.GRID_TICKS_PER_QUARTER // 4  # token-grid ticks per 16th note
PITCH_LOW = 48  # the lowest pitch (key-relative, tonic on C) the roll holds: C3
N_PITCHES = 48  # C3 .. B6
REST, HOLD = 0, 1
N_SYMBOLS = 2 + N_PITCHES
N_ATTRIBUTES = 4  # minor, onsets per step, register, bar length
REGISTER_CENTRE, REGISTER_SCALE = 66.0, 12.0  # attribute register = (mean pitch - centre) / scale
REGISTER_SPREAD = 7  # semitones around the register target a melody may roam without cost (attribute loss)
MINOR_DEGREES, MAJOR_DEGREES = (3, 8, 10), (4, 9, 11)  # pitch classes above the tonic that carry the mode
MODE_FLIP_PROBABILITY = 0.3  # augmentation: share of training pairs turned into the parallel mode
# Each candidate is the best of this many samples, ranked by the plan's targets. A GAN bar costs one
# forward pass (about 1/30 of the Transformer's per sample), so it ranks more samples than the token
# models (best of 3-4): with 3, the valence control missed on some prompts (models/gan.md).
DEFAULT_OVERSAMPLE = 10
DRAW_STEPS = True  # each step drawn from the generator's distribution (False: its most likely symbol)
DRAW_SEED_INDEX = 7919  # sample_seed index of a sample's draw seed (apart from its noise seed)
# Ranking also weighs the GAN's known weakness, leaps: a candidate whose intervals are leaps beyond a
# major third more often than this share (or than its prompt's; real folk tunes: ~13 %) ...
RANK_FREE_LEAP_SHARE = 0.15
RANK_SCALE_LEAP_SHARE = 0.2  # ... loses one ranking unit per this share of extra leaps
LEAP_SEMITONES = 4  # an interval beyond this is a leap (the realism test's "leaps > M3")


@dataclass
class GanConfig:
    """Hyper-parameters; stored in the weights file's metadata."""

    noise_dim: int = 64  # size of the noise vector per bar
    width: int = 64  # channels of the generator and critic convolutions
    cond_width: int = 32  # channels of the previous-bar conditioner
    n_symbols: int = N_SYMBOLS  # rest, hold, N_PITCHES onsets
    steps: int = STEPS_PER_BAR  # 16th-note steps per bar
    n_attributes: int = N_ATTRIBUTES  # the attribute vector's length
    pitch_low: int = PITCH_LOW  # pitch of the first onset symbol (key-relative)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GanConfig:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


# ----------------------------------------------------------------------------------------------
# Bars as symbols


def key_shift(tonic_pc: int) -> int:
    """Semitones to subtract to put the tonic on C with the least move (-5 .. +6)."""
    return tonic_pc if tonic_pc <= 6 else tonic_pc - 12


def melody_line(grid_notes: np.ndarray) -> np.ndarray:
    """The top note of each onset (n, 3: start, duration, pitch on the token grid), by start."""
    if len(grid_notes) == 0:
        return np.zeros((0, 3), dtype=np.int64)
    notes = np.asarray(grid_notes, dtype=np.int64)
    order = np.lexsort((-notes[:, 2], notes[:, 0]))
    notes = notes[order]
    first = np.ones(len(notes), dtype=bool)
    first[1:] = notes[1:, 0] != notes[:-1, 0]
    return notes[first]


def bar_symbols(line: np.ndarray, bar_start: int, steps: int, shift: int) -> np.ndarray:
    """The symbols (``steps``,) of the melody ``line`` in the bar starting at ``bar_start`` (grid).

    Notes sounding into the bar from before it are holds; onsets are rounded to 16ths; pitches are
    moved by ``-shift`` and by octaves into the roll's range.
    """
    symbols = np.full(steps, REST, dtype=np.int64)
    end = bar_start + steps * GRID_PER_STEP
    for start, duration, pitch in line:
        if start + duration <= bar_start or start >= end:
            continue
        first = int(round((start - bar_start) / GRID_PER_STEP))
        last = int(round((start + duration - bar_start) / GRID_PER_STEP))
        relative = int(pitch) - shift
        while relative < PITCH_LOW:
            relative += 12
        while relative >= PITCH_LOW + N_PITCHES:
            relative -= 12
        for step in range(max(0, first), min(steps, max(last, first + 1))):
            symbols[step] = HOLD
        if 0 <= first < steps:
            symbols[first] = 2 + relative - PITCH_LOW
    return symbols


def symbols_to_notes(symbols: np.ndarray, shift: int, steps: int, offset_grid: int = 0, tie_from: int | None = None) -> tuple[list, int | None]:
    """Symbols -> grid notes [(start, duration, pitch)] of one bar; ``tie_from``: the pitch a leading
    hold continues (a note from the bar before is extended rather than restarted). Returns the notes
    and the pitch still sounding at the end (for the next bar)."""
    notes: list[list[int]] = []
    current = None
    if tie_from is not None and len(symbols) and symbols[0] == HOLD:
        notes.append([offset_grid, 0, tie_from])
        current = notes[-1]
    for step in range(min(steps, len(symbols))):
        symbol = int(symbols[step])
        if symbol >= 2:
            notes.append([offset_grid + step * GRID_PER_STEP, GRID_PER_STEP, symbol - 2 + PITCH_LOW + shift])
            current = notes[-1]
        elif symbol == HOLD and current is not None:
            current[1] = offset_grid + (step + 1) * GRID_PER_STEP - current[0]
        else:
            current = None
    sounding = current[2] if current is not None and int(symbols[min(steps, len(symbols)) - 1]) != REST else None
    return [tuple(n) for n in notes if n[1] > 0], sounding


def attribute_vector(minor: float, onsets_per_step: float, mean_pitch: float, steps: int) -> np.ndarray:
    """The condition of one bar (key-relative mean pitch)."""
    return np.array(
        [minor, onsets_per_step, (mean_pitch - REGISTER_CENTRE) / REGISTER_SCALE, steps / STEPS_PER_BAR], dtype=np.float32
    )


def measured_attributes(symbols: np.ndarray, minor: int, steps: int, fallback_pitch: float) -> np.ndarray:
    onsets = symbols[:steps][symbols[:steps] >= 2]
    mean_pitch = float(np.mean(onsets - 2 + PITCH_LOW)) if len(onsets) else fallback_pitch
    return attribute_vector(float(minor), len(onsets) / steps, mean_pitch, steps)


def mode_flip(symbols: np.ndarray, minor: int) -> np.ndarray:
    """The bar in the parallel mode (key-relative: C major <-> C minor by the 3rd, 6th and 7th)."""
    out = symbols.copy()
    onset = out >= 2
    pc = (out - 2 + PITCH_LOW) % 12
    source, step = (MINOR_DEGREES, +1) if minor else (MAJOR_DEGREES, -1)
    move = onset & np.isin(pc, source)
    out[move] = np.clip(out[move] + step, 2, N_SYMBOLS - 1)
    return out


# ----------------------------------------------------------------------------------------------
# The networks


class Conditioner(nn.Module):
    """The previous bar (B, S, 16) -> features at 16, 8, 4 and 2 steps (MidiNet's conditioner)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        w = config.cond_width
        self.layers = nn.ModuleList([
            nn.Conv1d(config.n_symbols, w, 3, padding=1),
            nn.Conv1d(w, w, 4, stride=2, padding=1),
            nn.Conv1d(w, w, 4, stride=2, padding=1),
            nn.Conv1d(w, w, 4, stride=2, padding=1),
        ])

    def forward(self, previous: torch.Tensor) -> list[torch.Tensor]:
        features, x = [], previous
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2)
            features.append(x)
        return features[::-1]  # 2, 4, 8, 16 steps


class BarGenerator(nn.Module):
    """Noise + previous bar + attributes -> logits (B, n_symbols, steps)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.config = config
        w, c, a = config.width, config.cond_width, config.n_attributes
        self.conditioner = Conditioner(config)
        self.project = nn.Linear(config.noise_dim + a, w * 2)
        self.up = nn.ModuleList([nn.ConvTranspose1d(w + c + a, w, 4, stride=2, padding=1) for _ in range(3)])
        self.norms = nn.ModuleList([nn.BatchNorm1d(w) for _ in range(4)])
        self.out = nn.Conv1d(w + c + a, config.n_symbols, 3, padding=1)

    def forward(self, noise: torch.Tensor, previous: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
        conditions = self.conditioner(previous)
        x = self.project(torch.cat([noise, attributes], dim=1)).view(len(noise), -1, 2)
        x = F.relu(self.norms[0](x))
        for k, layer in enumerate(self.up):
            x = torch.cat([x, conditions[k], attributes[:, :, None].expand(-1, -1, x.shape[2])], dim=1)
            x = F.relu(self.norms[k + 1](layer(x)))
        x = torch.cat([x, conditions[3], attributes[:, :, None].expand(-1, -1, x.shape[2])], dim=1)
        return self.out(x)


class BarCritic(nn.Module):
    """(bar, previous bar, attributes) -> a Wasserstein score per bar (higher = more real)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        w, a = config.width, config.n_attributes
        self.convs = nn.ModuleList([
            nn.Conv1d(2 * config.n_symbols + a, w, 3, padding=1),
            nn.Conv1d(w, w, 4, stride=2, padding=1),
            nn.Conv1d(w, 2 * w, 4, stride=2, padding=1),
            nn.Conv1d(2 * w, 2 * w, 4, stride=2, padding=1),
        ])
        self.score = nn.Linear(2 * w * (config.steps // 8), 1)

    def forward(self, bar: torch.Tensor, previous: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
        x = torch.cat([bar, previous, attributes[:, :, None].expand(-1, -1, bar.shape[2])], dim=1)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        return self.score(x.flatten(1)).view(-1)


def decode_steps(logits: torch.Tensor, gumbel: torch.Tensor | None = None, temperature: float = 1.0) -> torch.Tensor:
    """Logits (B, n_symbols, steps) -> symbols (B, steps): per step, rest, hold or an onset by their
    probability mass (an onset's mass is spread over the pitches, so a plain argmax over the 50
    symbols would almost never start a note), then the onset's pitch.

    Without ``gumbel`` both choices take the most likely option. With ``gumbel`` noise
    (B, 3 + N_PITCHES, steps: ``gumbel_noise``) both are drawn from the generator's own
    distributions at ``temperature`` (the Gumbel-max trick: argmax of log-probability / T + noise).
    """
    probs = torch.softmax(logits, dim=1)
    mass = torch.stack([probs[:, REST], probs[:, HOLD], probs[:, 2:].sum(dim=1)], dim=1)
    onset_logits = logits[:, 2:]
    if gumbel is not None:
        temperature = max(float(temperature), 1e-3)
        mass = mass.clamp_min(1e-12).log() / temperature + gumbel[:, :3]
        onset_logits = onset_logits / temperature + gumbel[:, 3:]
    kind = mass.argmax(dim=1)
    pitch = onset_logits.argmax(dim=1) + 2
    return torch.where(kind == 2, pitch, kind)


def gumbel_noise(seeds, steps: int, n_symbols: int = N_SYMBOLS) -> torch.Tensor:
    """Standard Gumbel noise (len(seeds), 3 + n_symbols - 2, steps) for ``decode_steps``: each row
    from its own seed (a sample draws the same bar whatever else is in the batch)."""
    shape = (3 + n_symbols - 2, steps)
    rows = [torch.rand(shape, generator=torch.Generator().manual_seed(int(s))).clamp(1e-10, 1 - 1e-7) for s in seeds]
    return -torch.log(-torch.log(torch.stack(rows)))


def one_hot(symbols: torch.Tensor, n_symbols: int = N_SYMBOLS) -> torch.Tensor:
    """(B, steps) symbol ids -> (B, n_symbols, steps) float."""
    return F.one_hot(symbols, n_symbols).float().transpose(1, 2)


def soft_attributes(probs: torch.Tensor, steps: torch.Tensor, register_target: torch.Tensor | None = None):
    """Differentiable (onsets per step, register, minor-third share, far share) of softmax bars (B, S, T).

    ``far``: the expected distance, beyond ``REGISTER_SPREAD`` semitones, of the onsets from the
    target register (in register units). Without it the generator met a register target by mixing
    very low and very high notes (their mean was right)."""
    mask = (torch.arange(probs.shape[2])[None, :] < steps[:, None]).float()
    onset = probs[:, 2:, :] * mask[:, None, :]  # (B, P, T)
    mass = onset.sum(dim=(1, 2))
    density = mass / steps
    pitches = torch.arange(N_PITCHES, dtype=torch.float32) + PITCH_LOW
    register = ((onset.sum(dim=2) * pitches).sum(dim=1) / mass.clamp_min(1e-3) - REGISTER_CENTRE) / REGISTER_SCALE
    pc = (pitches.long() % 12)
    minor_mass = onset[:, torch.isin(pc, torch.tensor(MINOR_DEGREES)), :].sum(dim=(1, 2))
    major_mass = onset[:, torch.isin(pc, torch.tensor(MAJOR_DEGREES)), :].sum(dim=(1, 2))
    minor_share = minor_mass / (minor_mass + major_mass).clamp_min(1e-3)
    if register_target is None:
        return density, register, minor_share
    target_pitch = register_target * REGISTER_SCALE + REGISTER_CENTRE
    beyond = ((pitches[None, :] - target_pitch[:, None]).abs() - REGISTER_SPREAD).clamp_min(0) / REGISTER_SCALE
    far = (onset.sum(dim=2) * beyond).sum(dim=1) / mass.clamp_min(1e-3)
    return density, register, minor_share, far


def save_gan(generator: BarGenerator, path: Path, metadata: dict | None = None) -> None:
    """Write the generator's fp16 weights + config (the critic is only needed for training)."""
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).contiguous() for k, v in generator.state_dict().items() if v.is_floating_point()}
    state.update({k: v.detach().contiguous() for k, v in generator.state_dict().items() if not v.is_floating_point()})
    meta = {"kind": MODEL_KIND, "config": generator.config.to_json()}
    meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()})
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata=meta)
    tmp.replace(path)


def gan_from_state(config: GanConfig, state: dict) -> BarGenerator:
    model = BarGenerator(config)
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"weights do not match the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model.eval()


# ----------------------------------------------------------------------------------------------
# The Generator


class GanGenerator(Generator):
    """The GAN on the ``Generator`` interface: continues a prompt's melody bar by bar."""

    kind = MODEL_KIND
    capabilities = frozenset({CONTINUE})
    config_class = GanConfig
    default_oversample = DEFAULT_OVERSAMPLE
    learning_rate = 2e-4  # Adam, for both networks (the CLI's default --lr)

    def __init__(self, model: BarGenerator, metadata: dict | None = None, name: str | None = None):
        super().__init__(model.config, metadata, name)
        self.model = model.eval()

    @classmethod
    def from_state(cls, metadata: dict, state: dict) -> GanGenerator:
        return cls(gan_from_state(GanConfig.from_json(metadata["config"]), state), metadata)

    def save(self, path, metadata: dict | None = None) -> None:
        save_gan(self.model, path, metadata)

    @classmethod
    def train(cls, settings) -> dict:
        return train_gan(settings)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @torch.no_grad()
    def sample_bars(self, previous: np.ndarray, attributes: np.ndarray, seeds: list[int], bias: np.ndarray | None = None) -> np.ndarray:
        """One bar per seed: (N, steps) symbols after ``previous`` (steps,) with ``attributes`` (A,),
        decoded as in generation (``DRAW_STEPS``) at temperature 1.

        ``bias`` (n_symbols,) is added to the logits (the plan's scale and mode on the onsets).
        """
        n = len(seeds)
        noise = torch.stack([torch.randn(self.config.noise_dim, generator=torch.Generator().manual_seed(int(s))) for s in seeds])
        prev = one_hot(torch.as_tensor(np.broadcast_to(previous, (n, len(previous))).copy(), dtype=torch.long))
        attrs = torch.as_tensor(np.broadcast_to(attributes, (n, len(attributes))).copy())
        logits = self.model(noise, prev, attrs)
        if bias is not None:
            logits = logits + torch.as_tensor(bias, dtype=torch.float32)[None, :, None]
        return self._decode(logits, [sample_seed(int(s), DRAW_SEED_INDEX) for s in seeds], 1.0)

    def _continue(self, request, plan, cancel, emit) -> None:
        from composer_app.generation import phrase
        from composer_app.generation.plan import analyse_prompt, render_candidate, target_distance

        started = time.perf_counter()
        tonic = plan.bars[0].key.tonic_pc
        shift = key_shift(tonic)
        bar_grid = plan.bar_grid_length
        steps_total = max(1, round(bar_grid / GRID_PER_STEP))
        chunks = [(c, min(STEPS_PER_BAR, steps_total - c)) for c in range(0, steps_total, STEPS_PER_BAR)]
        facts = analyse_prompt(request.prompt, 10_000)
        line = melody_line(facts.grid_notes)
        start_grid = int(round(plan.start_tick * tk.GRID_TICKS_PER_QUARTER / request.prompt.ticks_per_quarter))
        last_chunk_start = start_grid - chunks[-1][1] * GRID_PER_STEP
        previous = bar_symbols(line, last_chunk_start, STEPS_PER_BAR, shift) if len(line) else np.full(STEPS_PER_BAR, REST)
        sounding = int(line[-1, 2]) if len(line) and line[-1, 0] + line[-1, 1] > start_grid else None
        pool = request.oversample or self.default_oversample
        count = request.candidates * pool
        seeds = [sample_seed(request.seed, i) for i in range(count)]
        previous = np.broadcast_to(previous, (count, STEPS_PER_BAR)).copy()
        sounding = [sounding] * count
        rows: list[list] = [[] for _ in range(count)]
        onset_pitches = np.arange(N_PITCHES) + PITCH_LOW + shift
        heuristics = plan.heuristics
        drawn = [phrase.draw(plan, seed, heuristics.restatement, ("copy",)) for seed in seeds] if plan.phrase is not None else None
        own_bars: list[list[np.ndarray]] = [[] for _ in range(count)]  # each sample's bars (notes within the bar)
        for b, bar in enumerate(plan.bars):
            if cancel():
                raise Cancelled("suggestion cancelled")
            bar_begins = [len(r) for r in rows]
            bias = np.zeros(N_SYMBOLS, dtype=np.float32)
            bias[2:] = bar.pitch_class_bias[onset_pitches % 12]
            bias[2:][(onset_pitches < plan.pitch_low) | (onset_pitches > plan.pitch_high)] = -np.inf
            targets = bar.targets
            per_line = targets.note_density if targets is not None and targets.note_density is not None else bar.density / max(plan.voices, 1.0)
            for chunk_start, steps in chunks:
                # minor or major as the Transformer's and the LSTM's KEY control: by the plan's third
                # (a dorian or harmonic-minor key is minor, although its mode is not named "minor")
                attributes = attribute_vector(float(bar.controls.key % 2), per_line / 4.0, bar.register - shift, steps)
                symbols = self._sample_many(previous, attributes, seeds, b * len(chunks) + chunk_start, bias, request.temperature)
                symbols[:, steps:] = REST
                offset = b * bar_grid + chunk_start * GRID_PER_STEP
                for i in range(count):
                    notes, sounding[i] = symbols_to_notes(symbols[i], shift, steps, offset, sounding[i] if b or chunk_start else None)
                    rows[i].extend(notes)
                previous = symbols
            previous = np.array(previous)
            for i in range(count):  # the phrase plan's restated bars replace the sampled ones (and condition the next)
                restatement = drawn[i][b] if drawn else None
                notes = phrase.restated_notes(plan.phrase, restatement, own_bars[i]) if restatement is not None else None
                notes = melody_line(notes) if notes is not None else None  # the GAN writes one line
                finite = np.isfinite(np.asarray(bar.pitch_class_bias))
                if notes is not None and len(notes) and (notes[:, 0] < bar_grid).all() and finite[notes[:, 2] % 12].all() \
                        and plan.pitch_low <= notes[:, 2].min() and notes[:, 2].max() <= plan.pitch_high:
                    placed = notes.copy()
                    placed[:, 0] += b * bar_grid
                    rows[i][bar_begins[i]:] = [tuple(int(v) for v in n) for n in placed]
                    previous[i] = bar_symbols(melody_line(placed), b * bar_grid + chunks[-1][0] * GRID_PER_STEP, STEPS_PER_BAR, shift)
                    sounding[i] = None
                mine = np.array(rows[i][bar_begins[i]:], dtype=np.int64).reshape(-1, 3)
                mine[:, 0] -= b * bar_grid
                own_bars[i].append(mine)
        groups: dict[int, list] = {}
        for i in range(count):
            grid = np.array(rows[i], dtype=np.int64).reshape(-1, 3)
            candidate = render_candidate(grid, plan, request.prompt, self.name, request.seed, time.perf_counter() - started, True, i // pool)
            groups.setdefault(i // pool, []).append(candidate)
        free_leaps = max(RANK_FREE_LEAP_SHARE, leap_share(line[:, 2]) if len(line) else 0.0)
        for index in sorted(groups):
            emit(min(groups[index], key=lambda c: target_distance(c, plan) + self.leap_cost(c, free_leaps)))

    @staticmethod
    def leap_cost(candidate, free_share: float) -> float:
        """Ranking units for leaps beyond ``free_share`` of a candidate's intervals (0 = none too many)."""
        return max(0.0, leap_share([n.pitch for n in sorted(candidate.notes)]) - free_share) / RANK_SCALE_LEAP_SHARE

    @torch.no_grad()
    def _sample_many(
        self, previous: np.ndarray, attributes: np.ndarray, seeds: list[int], bar_index: int, bias: np.ndarray, temperature: float = 1.0
    ) -> np.ndarray:
        """One bar for each sample (its own previous bar and noise seed) in one batch.

        ``temperature`` scales the noise and is the temperature of the steps' draws (the GAN's
        "temperature": below 1 closer to the most likely bar, 1 = as trained, above: wilder).
        """
        noise = temperature * torch.stack([
            torch.randn(self.config.noise_dim, generator=torch.Generator().manual_seed(sample_seed(s, bar_index)))
            for s in seeds
        ])
        prev = one_hot(torch.as_tensor(previous, dtype=torch.long))
        attrs = torch.as_tensor(np.broadcast_to(attributes, (len(seeds), len(attributes))).copy())
        logits = self.model(noise, prev, attrs) + torch.as_tensor(bias)[None, :, None]
        return self._decode(logits, [sample_seed(sample_seed(s, bar_index), DRAW_SEED_INDEX) for s in seeds], temperature)

    @staticmethod
    def _decode(logits: torch.Tensor, draw_seeds: list[int], temperature: float) -> np.ndarray:
        """Symbols of a batch of bars (logits with the plan's bias): each step drawn, seeded per sample,
        from the generator's distributions (``DRAW_STEPS``; False: the most likely symbols).

        Drawing rather than taking the most likely symbol is what the mode-collapse check and the
        valence control gained most from (models/gan.md): the argmax turned noise draws that
        differ a little into the same bar, and let the plan's mode bias act only near ties."""
        if not DRAW_STEPS:
            return decode_steps(logits).numpy()
        gumbel = gumbel_noise(draw_seeds, logits.shape[2], logits.shape[1])
        return decode_steps(logits, gumbel, temperature).numpy()


def leap_share(pitches) -> float:
    """Share of a line's intervals (consecutive pitches) wider than ``LEAP_SEMITONES``."""
    steps = np.abs(np.diff(np.asarray(pitches, dtype=np.int64)))
    return float((steps > LEAP_SEMITONES).mean()) if len(steps) else 0.0


def distinct_bar_share(bars: np.ndarray) -> float:
    """Share of distinct bars among samples (N, steps): 1 = all different, 1/N = mode collapse."""
    return len({tuple(b) for b in np.asarray(bars).tolist()}) / max(1, len(bars))

# ----------------------------------------------------------------------------------------------
# Training (``composer-app train --model gan``): WGAN-GP with an attribute loss, time-bounded, resumable

GAN_DATA_VERSION = "gan-bars-v1"  # bump when the bar extraction changes
N_CRITIC = 2  # critic updates per generator update (WGAN-GP used 5; 2 buys more generator steps inside the CPU hour)
GRADIENT_PENALTY = 10.0  # WGAN-GP's lambda
ATTRIBUTE_WEIGHT = 5.0  # weight of the attribute loss against the adversarial one
MODE_SEEKING_WEIGHT = 2.0  # weight of the mode-seeking term (MSGAN): two noises, one condition, different bars
ADAM_BETAS = (0.5, 0.9)  # as in WGAN-GP
COLLAPSE_SAMPLES = 64  # samples from one condition in the mode-collapse check


def piece_bar_pairs(piece) -> list[tuple[np.ndarray, np.ndarray, int, int]]:
    """(previous symbols, symbols, minor, steps) for every bar of a piece's top line (key-relative)."""
    notes = tk.to_grid(piece.notes, piece.ticks_per_quarter)
    scale = tk.GRID_TICKS_PER_QUARTER / piece.ticks_per_quarter
    signatures = [(int(round(t * scale)), int(n), int(d)) for t, n, d in piece.time_signatures]
    try:
        bars = tk.bar_lines(signatures, int(notes[:, 0].max()) + 1 if len(notes) else 1)
    except ValueError:
        return []
    controls = tk.compute_bar_controls(notes, bars)
    line = melody_line(notes)
    out = []
    for b, ((start, length, _, _), control) in enumerate(zip(bars, controls)):
        if b == 0 or length % GRID_PER_STEP or length > STEPS_PER_BAR * GRID_PER_STEP:
            continue
        steps = length // GRID_PER_STEP
        prev_start, prev_length = bars[b - 1][0], bars[b - 1][1]
        if prev_length % GRID_PER_STEP or prev_length > STEPS_PER_BAR * GRID_PER_STEP:
            continue
        shift = key_shift(control.key // 2)
        symbols = bar_symbols(line, start, STEPS_PER_BAR, shift)
        symbols[steps:] = REST
        previous = bar_symbols(line, prev_start, STEPS_PER_BAR, shift)
        previous[prev_length // GRID_PER_STEP :] = REST
        if (symbols >= 2).sum() == 0:
            continue  # silent bars (endings, rests) teach nothing
        out.append((previous, symbols, control.key % 2, steps))
    return out


def bar_dataset(pieces, cache_file: Path | None = None) -> dict[str, np.ndarray]:
    """Arrays ``previous``, ``symbols`` (N, 16) int8, ``minor``, ``steps`` (N,) of every bar pair."""
    import hashlib

    key = hashlib.sha1(json.dumps([GAN_DATA_VERSION] + [p.source_id for p in pieces]).encode()).hexdigest()
    if cache_file is not None and Path(cache_file).exists():
        with np.load(cache_file, allow_pickle=False) as data:
            if str(data["key"]) == key:
                return {k: data[k] for k in ("previous", "symbols", "minor", "steps")}
    pairs = [pair for piece in pieces for pair in piece_bar_pairs(piece)]
    arrays = {
        "previous": np.array([p[0] for p in pairs], dtype=np.int8).reshape(-1, STEPS_PER_BAR),
        "symbols": np.array([p[1] for p in pairs], dtype=np.int8).reshape(-1, STEPS_PER_BAR),
        "minor": np.array([p[2] for p in pairs], dtype=np.int8),
        "steps": np.array([p[3] for p in pairs], dtype=np.int8),
    }
    if cache_file is not None:
        Path(cache_file).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(cache_file).with_suffix(".tmp.npz")
        np.savez(tmp, key=np.array(key), **arrays)
        tmp.replace(cache_file)
    return arrays


def _flip_modes(symbols: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """``mode_flip`` of many bars (N, steps) at once, each by its own mode (N,)."""
    onset = symbols >= 2
    pc = (symbols - 2 + PITCH_LOW) % 12
    up = onset & np.isin(pc, MINOR_DEGREES) & (minor[:, None] == 1)
    down = onset & np.isin(pc, MAJOR_DEGREES) & (minor[:, None] == 0)
    return np.clip(symbols + up - down, 0, N_SYMBOLS - 1)


def batch_attributes(symbols: np.ndarray, minor: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``measured_attributes`` of many bars (N, steps) at once (float32, (N, N_ATTRIBUTES))."""
    inside = np.arange(symbols.shape[1])[None, :] < steps[:, None]
    onset = (symbols >= 2) & inside
    count = onset.sum(axis=1)
    pitch_sum = np.where(onset, symbols - 2 + PITCH_LOW, 0).sum(axis=1)
    mean_pitch = np.where(count > 0, pitch_sum / np.maximum(count, 1), REGISTER_CENTRE)
    return np.stack([minor, count / steps, (mean_pitch - REGISTER_CENTRE) / REGISTER_SCALE, steps / STEPS_PER_BAR], axis=1).astype(np.float32)


def _batch(data: dict, rows: np.ndarray, rng: np.random.Generator, augment: bool):
    previous = data["previous"][rows].astype(np.int64)
    symbols = data["symbols"][rows].astype(np.int64)
    minor = data["minor"][rows].astype(np.int64)
    steps = data["steps"][rows].astype(np.int64)
    if augment:  # mode-balanced data: the corpus is mostly major
        flip = rng.random(len(rows)) < MODE_FLIP_PROBABILITY
        previous[flip], symbols[flip] = _flip_modes(previous[flip], minor[flip]), _flip_modes(symbols[flip], minor[flip])
        minor[flip] = 1 - minor[flip]
    attributes = batch_attributes(symbols, minor, steps)
    return (torch.as_tensor(previous), torch.as_tensor(symbols), torch.as_tensor(attributes), torch.as_tensor(steps))


def attribute_loss(probs: torch.Tensor, attributes: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """How far a generated (softmax) bar is from its requested density, register and mode."""
    density, register, minor_share, far = soft_attributes(probs, steps, attributes[:, 2])
    minor = attributes[:, 0]
    return (
        4.0 * (density - attributes[:, 1]).abs()
        + (register - attributes[:, 2]).abs()
        + far
        + (minor * (1 - minor_share) + (1 - minor) * minor_share)
    ).mean()


def mode_seeking_ratio(probs_a, probs_b, noise_a, noise_b) -> torch.Tensor:
    """MSGAN's ratio: how far two bars of one condition differ (L1 between the step distributions)
    per unit of distance between their noises; the generator maximises it against mode collapse."""
    bars = (probs_a - probs_b).abs().sum(dim=1).mean(dim=1)
    return (bars / (noise_a - noise_b).abs().mean(dim=1)).mean()


def _gradient_penalty(critic, real, fake, previous, attributes) -> torch.Tensor:
    alpha = torch.rand(len(real), 1, 1)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score = critic(mixed, previous, attributes)
    (grad,) = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


@torch.no_grad()
def gan_validation(generator: BarGenerator, critic: BarCritic, data: dict, rng: np.random.Generator, count: int = 256) -> dict:
    """Held-out figures: Wasserstein estimate, attribute errors, and distinct bars from one condition."""
    generator.eval()
    rows = rng.choice(len(data["symbols"]), min(count, len(data["symbols"])), replace=False)
    previous, symbols, attributes, steps = _batch(data, rows, rng, augment=False)
    noise = torch.randn(len(rows), generator.config.noise_dim, generator=torch.Generator().manual_seed(0))
    logits = generator(noise, one_hot(previous), attributes)
    decoded = decode_steps(logits)
    hard = one_hot(decoded)
    real_score = critic(one_hot(symbols), one_hot(previous), attributes).mean()
    fake_score = critic(hard, one_hot(previous), attributes).mean()
    measured = batch_attributes(decoded.numpy(), attributes[:, 0].numpy().astype(np.int64), steps.numpy())
    wanted = attributes.numpy()
    one = COLLAPSE_SAMPLES
    noise = torch.randn(one, generator.config.noise_dim, generator=torch.Generator().manual_seed(1))
    collapse = decode_steps(generator(noise, one_hot(previous[:1]).expand(one, -1, -1), attributes[:1].expand(one, -1)))
    generator.train()
    return {
        "wasserstein_estimate": round(float(real_score - fake_score), 4),
        "density_error": round(float(np.abs(measured[:, 1] - wanted[:, 1]).mean()), 4),
        "register_error_semitones": round(float(np.abs(measured[:, 2] - wanted[:, 2]).mean() * REGISTER_SCALE), 3),
        "density_spearman": round(float(_spearman(wanted[:, 1], measured[:, 1])), 4),
        "distinct_bars_one_condition": round(distinct_bar_share(collapse.numpy()), 4),
    }


def _spearman(a, b) -> float:
    from composer_app.generation.evaluation import spearman

    return spearman(a, b)


def plot_losses(history: list[dict], path: Path) -> None:
    """Loss curves (critic, generator, attribute, held-out Wasserstein estimate) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].plot(steps, [h["critic_loss"] for h in history], label="critic loss")
    axes[0].plot(steps, [h["generator_adversarial"] for h in history], label="generator adversarial loss")
    axes[0].set_title("WGAN-GP losses (training batches)")
    axes[1].plot(steps, [h["attribute_loss"] for h in history], color="tab:green", label="attribute loss")
    axes[1].plot(steps, [h.get("mode_seeking_ratio", 0.0) for h in history], color="tab:orange", label="mode-seeking ratio")
    axes[1].set_title("attribute loss, mode-seeking ratio")
    axes[2].plot(steps, [h["heldout"]["wasserstein_estimate"] for h in history], color="tab:red", label="held-out W estimate")
    axes[2].plot(steps, [h["heldout"]["distinct_bars_one_condition"] for h in history], color="tab:purple", label="distinct bars (one condition)")
    axes[2].set_title("held-out")
    for ax in axes:
        ax.set_xlabel("generator step")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def train_gan(settings) -> dict:
    """Train the GAN on ``settings.data`` for ``settings.minutes`` (checkpoint OUT.ckpt, resumable)."""
    from composer_app.generation import data as corpus_data
    from composer_app.generation.training import output_path

    torch.set_num_threads(settings.threads or 1)
    torch.manual_seed(settings.seed)
    out = output_path(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    ckpt_path = out.with_suffix(".ckpt")
    if settings.data == "corpus":
        cache_dir = Path(settings.cache_dir or corpus_data.default_cache_dir())
        if settings.convert:
            corpus_data.convert_corpus(settings.collections, cache_dir, progress=settings.progress)
        pieces = corpus_data.load_corpus(settings.collections, cache_dir)
        cache = cache_dir / f"{GAN_DATA_VERSION}-{'-'.join(settings.collections)}"
    else:
        pieces, cache = corpus_data.load_midi_folder(Path(settings.data)), None
    train_pieces, heldout_pieces = corpus_data.split(pieces)
    if not heldout_pieces and len(train_pieces) > 1:
        heldout_pieces, train_pieces = train_pieces[-1:], train_pieces[:-1]
    train_data = bar_dataset(train_pieces, Path(f"{cache}-train.npz") if cache else None)
    heldout_data = bar_dataset(heldout_pieces, Path(f"{cache}-heldout.npz") if cache else None)
    if len(train_data["symbols"]) == 0:
        raise ValueError(f"no usable bars found in {settings.data}")
    if len(heldout_data["symbols"]) == 0:
        heldout_data = train_data

    config = settings.config if isinstance(settings.config, GanConfig) else GanConfig()
    generator, critic = BarGenerator(config), BarCritic(config)
    lr = settings.learning_rate
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=ADAM_BETAS)
    opt_d = torch.optim.Adam(critic.parameters(), lr=lr, betas=ADAM_BETAS)
    step, elapsed_before, history = 0, 0.0, []
    if settings.resume and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        meta = json.loads(state["meta"])
        config = GanConfig(**meta["config"])
        generator, critic = BarGenerator(config), BarCritic(config)
        opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=ADAM_BETAS)
        opt_d = torch.optim.Adam(critic.parameters(), lr=lr, betas=ADAM_BETAS)
        generator.load_state_dict(state["generator"])
        critic.load_state_dict(state["critic"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        step, elapsed_before, history = meta["step"], meta["elapsed"], meta["history"]
    generator.train()
    rng = np.random.default_rng(settings.seed + step)
    val_rng_seed = 1234
    budget = settings.minutes * 60.0
    started = time.perf_counter()
    steps_this_run = 0
    running = {"critic_loss": 0.0, "generator_adversarial": 0.0, "attribute_loss": 0.0, "mode_seeking_ratio": 0.0}
    n_train = len(train_data["symbols"])

    def save_checkpoint():
        meta = {"step": step, "elapsed": elapsed_before + time.perf_counter() - started, "history": history,
                "config": json.loads(config.to_json())}
        tmp = ckpt_path.with_suffix(".ckpt.tmp")
        torch.save({"generator": generator.state_dict(), "critic": critic.state_dict(), "opt_g": opt_g.state_dict(),
                    "opt_d": opt_d.state_dict(), "meta": json.dumps(meta)}, tmp)
        tmp.replace(ckpt_path)

    def validate():
        heldout = gan_validation(generator, critic, heldout_data, np.random.default_rng(val_rng_seed))
        count = max(1, settings.eval_every if steps_this_run >= settings.eval_every else steps_this_run)
        entry = {"step": step, "minutes": round((elapsed_before + time.perf_counter() - started) / 60, 2),
                 **{k: round(v / count, 4) for k, v in running.items()}, "heldout": heldout}
        history.append(entry)
        for k in running:
            running[k] = 0.0
        if settings.progress:
            print(f"gan step {step}: {json.dumps(entry)}", flush=True)

    while True:
        elapsed = elapsed_before + time.perf_counter() - started
        if elapsed >= budget or (settings.max_steps is not None and steps_this_run >= settings.max_steps):
            break
        for _ in range(N_CRITIC):
            previous, symbols, attributes, steps = _batch(train_data, rng.integers(0, n_train, settings.batch_size), rng, True)
            prev_hot = one_hot(previous)
            with torch.no_grad():
                noise = torch.randn(len(symbols), config.noise_dim)
                fake = torch.softmax(generator(noise, prev_hot, attributes), dim=1)
            real = one_hot(symbols)
            d_loss = critic(fake, prev_hot, attributes).mean() - critic(real, prev_hot, attributes).mean()
            d_loss = d_loss + GRADIENT_PENALTY * _gradient_penalty(critic, real, fake, prev_hot, attributes)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        previous, symbols, attributes, steps = _batch(train_data, rng.integers(0, n_train, settings.batch_size // 2), rng, True)
        # every condition twice, with two noises: the mode-seeking term rewards different bars
        previous, attributes, steps = previous.repeat(2, 1), attributes.repeat(2, 1), steps.repeat(2)
        prev_hot = one_hot(previous)
        noise = torch.randn(len(previous), config.noise_dim)
        probs = torch.softmax(generator(noise, prev_hot, attributes), dim=1)
        adversarial = -critic(probs, prev_hot, attributes).mean()
        attr = attribute_loss(probs, attributes, steps)
        half = len(previous) // 2
        seeking = mode_seeking_ratio(probs[:half], probs[half:], noise[:half], noise[half:])
        g_loss = adversarial + ATTRIBUTE_WEIGHT * attr - MODE_SEEKING_WEIGHT * seeking
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        step += 1
        steps_this_run += 1
        running["critic_loss"] += float(d_loss.detach())
        running["generator_adversarial"] += float(adversarial.detach())
        running["attribute_loss"] += float(attr.detach())
        running["mode_seeking_ratio"] += float(seeking.detach())
        if step % settings.eval_every == 0:
            validate()
            save_checkpoint()
    if steps_this_run % settings.eval_every or not history:
        validate()
    save_checkpoint()
    elapsed = elapsed_before + time.perf_counter() - started
    facts = {
        "data": settings.data if settings.data != "corpus" else {"corpus": list(settings.collections)},
        "train_pieces": len(train_pieces),
        "heldout_pieces": len(heldout_pieces),
        "train_bars": int(n_train),
        "heldout_bars": int(len(heldout_data["symbols"])),
        "steps": step,
        "critic_steps_per_step": N_CRITIC,
        "training_minutes": round(elapsed / 60, 2),
        "parameters": sum(p.numel() for p in generator.parameters()),
        "critic_parameters": sum(p.numel() for p in critic.parameters()),
        "heldout": history[-1]["heldout"],
        "history": history,
        "settings": {"batch_size": settings.batch_size, "learning_rate": lr, "seed": settings.seed,
                     "gradient_penalty": GRADIENT_PENALTY, "attribute_weight": ATTRIBUTE_WEIGHT,
                     "mode_seeking_weight": MODE_SEEKING_WEIGHT, "critic_steps": N_CRITIC},
    }
    generator.eval()
    save_gan(generator, out, {"training": facts})
    return facts


def export_gan_checkpoint(ckpt_path: Path, out: Path, extra_facts: dict | None = None) -> dict:
    """Write the generator of a training checkpoint (``.ckpt``) as a shippable .safetensors file
    (a run stopped early by hand: the facts say so)."""
    state = torch.load(Path(ckpt_path), map_location="cpu", weights_only=True)
    meta = json.loads(state["meta"])
    config = GanConfig(**meta["config"])
    generator = BarGenerator(config)
    generator.load_state_dict(state["generator"])
    critic = BarCritic(config)
    facts = {
        "steps": meta["step"],
        "critic_steps_per_step": N_CRITIC,
        "training_minutes": round(meta["elapsed"] / 60, 2),
        "parameters": sum(p.numel() for p in generator.parameters()),
        "critic_parameters": sum(p.numel() for p in critic.parameters()),
        "heldout": meta["history"][-1]["heldout"] if meta["history"] else None,
        "history": meta["history"],
        "exported_from_checkpoint": True,
        **(extra_facts or {}),
    }
    generator.eval()
    save_gan(generator, Path(out), {"training": facts})
    return facts
