"""A MusicVAE-style variational autoencoder over 2-bar melodies, with attribute faders in its latent space.

Encoder: token embedding -> one bidirectional LSTM layer over the 32 steps of a segment -> the last
states of both directions -> mean and log-variance of a diagonal Gaussian posterior q(z | x).
Decoder: z -> initial LSTM state; at each step the LSTM reads the previous token and z and predicts the
next token (teacher forcing in training, greedy or sampled at generation). This is MusicVAE's flat
("cat-mel_2bar") model, scaled down for one CPU thread; MusicVAE uses its hierarchical conductor only for
16-bar sequences, where a flat decoder ignores z.

Attribute faders (Pati & Lerch 2020, "Attribute-based regularization of latent spaces"): latent
dimension i (i < len(fader_attributes)) is trained so that its order across a batch follows the order
of one musical attribute (``melody.FADER_ATTRIBUTES``: note density, major-mode strength, register),
with the loss |tanh(delta * (z_i[a] - z_i[b])) - sign(attr[a] - attr[b])|. Moving that one
coordinate then moves its attribute monotonically; the calibration tables (stored in the weights'
metadata, see ``training_vae``) map an attribute target to a fader value.

The config travels inside the ``.safetensors`` metadata, so ``load_vae(path)`` rebuilds the model from
the file alone; loading never unpickles anything.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from composer_app.generation import melody
from composer_app.generation.candidate import Candidate
from composer_app.generation.generator import INTERPOLATE, VARY, Cancelled, Generator, InterpolateRequest, VaryRequest

MODEL_KIND = "vae"
PAIR_ORDER_MARGIN = 1.0  # how far apart (in z) a melody's and its parallel-mode version's mode fader are pushed


@dataclass
class VAEConfig:
    """Hyper-parameters; stored in the weights file's metadata."""

    vocab_size: int = melody.VOCAB_SIZE  # melody tokens (NOTE_OFF, HOLD, 61 pitches); id vocab_size = start
    steps: int = melody.SEGMENT_STEPS  # 16th-note steps per segment (2 bars of 4/4)
    embed_dim: int = 64  # token embedding width (encoder and decoder share the table)
    encoder_hidden: int = 192  # LSTM width per direction of the bidirectional encoder
    latent_dim: int = 48  # size of z (2-bar melodies carry ~50-80 nats; MusicVAE uses 512 on a GPU)
    decoder_hidden: int = 320  # width of the decoder LSTM
    decoder_layers: int = 1  # stacked decoder LSTM layers
    dropout: float = 0.1  # dropout on the decoder's inputs in training (0 at inference: model.eval())
    fader_attributes: list[str] = field(default_factory=lambda: list(melody.FADER_ATTRIBUTES))  # dim i <-> attribute i
    fader_delta: float = 1.0  # sharpness of the attribute-regularisation tanh (Pati & Lerch's delta)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VAEConfig:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


class Encoder(nn.Module):
    """Tokens (B, T) -> posterior mean and log-variance (B, latent_dim)."""

    def __init__(self, config: VAEConfig, embed: nn.Embedding):
        super().__init__()
        self.embed = embed
        self.lstm = nn.LSTM(config.embed_dim, config.encoder_hidden, batch_first=True, bidirectional=True)
        self.to_stats = nn.Linear(2 * config.encoder_hidden, 2 * config.latent_dim)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, (h, _) = self.lstm(self.embed(tokens))  # h: (2, B, H), forward and backward final states
        mu, logvar = self.to_stats(torch.cat([h[0], h[1]], dim=-1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 6.0)


class Decoder(nn.Module):
    """z and the previous tokens -> logits of the next token, one LSTM over [embedding, z]."""

    def __init__(self, config: VAEConfig, embed: nn.Embedding):
        super().__init__()
        self.config = config
        self.embed = embed
        self.drop = nn.Dropout(config.dropout)
        self.to_state = nn.Linear(config.latent_dim, 2 * config.decoder_layers * config.decoder_hidden)
        self.lstm = nn.LSTM(config.embed_dim + config.latent_dim, config.decoder_hidden, config.decoder_layers, batch_first=True)
        self.head = nn.Linear(config.decoder_hidden, config.vocab_size)

    def initial_state(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        state = torch.tanh(self.to_state(z)).view(z.shape[0], 2, c.decoder_layers, c.decoder_hidden)
        return state[:, 0].transpose(0, 1).contiguous(), state[:, 1].transpose(0, 1).contiguous()

    def forward(self, z: torch.Tensor, inputs: torch.Tensor, state=None):
        """Logits (B, T, vocab) for input tokens (B, T) (start token first); returns (logits, state)."""
        if state is None:
            state = self.initial_state(z)
        x = self.drop(self.embed(inputs))
        x = torch.cat([x, z.unsqueeze(1).expand(-1, x.shape[1], -1)], dim=-1)
        out, state = self.lstm(x, state)
        return self.head(out), state


class MelodyVAE(nn.Module):
    """Encoder + decoder; ``loss`` for training, ``encode``/``decode`` for generation."""

    kind = MODEL_KIND

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.start_token = config.vocab_size
        self.embed = nn.Embedding(config.vocab_size + 1, config.embed_dim)
        self.encoder = Encoder(config, self.embed)
        self.decoder = Decoder(config, self.embed)
        self.calibration: dict = {}  # fader tables from the metadata (see training_vae.calibrate)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _shifted(self, tokens: torch.Tensor) -> torch.Tensor:
        start = torch.full((tokens.shape[0], 1), self.start_token, dtype=tokens.dtype, device=tokens.device)
        return torch.cat([start, tokens[:, :-1]], dim=1)

    def loss(self, tokens: torch.Tensor, attributes: torch.Tensor | None = None, pairs: torch.Tensor | None = None,
             swap_dim: int | None = None) -> dict[str, torch.Tensor]:
        """Terms of the training loss for a batch of segments (B, T) and their attributes (B, n_faders).

        ``recon``: cross-entropy summed over steps, mean over the batch (nats per segment);
        ``kl_per_dim``: KL(q(z|x) || N(0, I)) per latent dimension, mean over the batch;
        ``fader``: the attribute-regularisation loss, summed over the fader dimensions;
        ``swap``: with ``pairs`` (P, 2) of row indices (a, b) of segments that differ only in one
        attribute (a melody and its parallel-mode version, ``melody.parallel_mode``): cross-entropy of
        decoding b from a's code with only fader ``swap_dim`` taken from b's, and a from b's with a's
        fader (nats per decoded segment). The other dimensions then carry nothing the decoder could
        read that attribute from, so moving the fader alone changes it;
        ``pair_order``: with ``pairs`` and ``attributes``, a hinge that puts each pair's fader means in the
        order of their attribute, at least ``PAIR_ORDER_MARGIN`` apart (the batch-wide ranking loss
        above leaves a third of such close pairs in the wrong order, and then the decoder learns the
        swap per melody instead of one direction for the fader);
        ``pair_invariance``: the squared distance between a pair's posterior means on every other
        dimension (summed over dimensions, mean over pairs): the rest of the code should not tell the
        two modes apart, so that the decoder has to take the mode from the fader;
        ``accuracy``: share of steps whose teacher-forced argmax is right.
        """
        mu, logvar = self.encoder(tokens)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        logits, _ = self.decoder(z, self._shifted(tokens))
        recon = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens.reshape(-1), reduction="sum") / tokens.shape[0]
        kl_per_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(dim=0)
        fader = torch.zeros((), device=tokens.device)
        if attributes is not None:
            for i in range(attributes.shape[1]):
                dz = z[:, i, None] - z[None, :, i]
                da = attributes[:, i, None] - attributes[None, :, i]
                fader = fader + (torch.tanh(self.config.fader_delta * dz) - torch.sign(da)).abs().mean()
        swap = torch.zeros((), device=tokens.device)
        pair_order = torch.zeros((), device=tokens.device)
        pair_invariance = torch.zeros((), device=tokens.device)
        if pairs is not None and len(pairs) and swap_dim is not None:
            a, b = pairs[:, 0], pairs[:, 1]
            if attributes is not None:
                order = torch.sign(attributes[b, swap_dim] - attributes[a, swap_dim])
                pair_order = F.relu(PAIR_ORDER_MARGIN - order * (mu[b, swap_dim] - mu[a, swap_dim])).mean()
            others = torch.ones(mu.shape[1], dtype=torch.bool, device=mu.device)
            others[swap_dim] = False
            pair_invariance = (mu[a][:, others] - mu[b][:, others]).pow(2).sum(dim=1).mean()
            source = torch.cat([z[a], z[b]])
            source = torch.cat([source[:, :swap_dim], torch.cat([z[b], z[a]])[:, swap_dim : swap_dim + 1], source[:, swap_dim + 1 :]], dim=1)
            target = torch.cat([tokens[b], tokens[a]])
            swap_logits, _ = self.decoder(source, self._shifted(target))
            swap = F.cross_entropy(swap_logits.reshape(-1, swap_logits.shape[-1]), target.reshape(-1), reduction="sum") / target.shape[0]
        accuracy = (logits.argmax(-1) == tokens).float().mean()
        return {"recon": recon, "kl_per_dim": kl_per_dim, "fader": fader, "swap": swap, "pair_order": pair_order, "pair_invariance": pair_invariance, "accuracy": accuracy}

    @torch.no_grad()
    def encode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and standard deviation (B, latent_dim) of segments (B, T)."""
        mu, logvar = self.encoder(tokens)
        return mu, (0.5 * logvar).exp()

    @torch.no_grad()
    def decode(self, z: torch.Tensor, temperature: float = 0.0, generator: torch.Generator | None = None,
               logit_bias: torch.Tensor | None = None) -> torch.Tensor:
        """Token rows (B, steps) decoded from z (B, latent_dim): greedy when ``temperature`` is 0.

        ``logit_bias`` (B, vocab_size): added to the logits at every step (``variation``'s mode guidance);
        (B, steps, vocab_size): step t's row added at step t (``variation``'s kept bars and rhythms).
        """
        batch = z.shape[0]
        token = torch.full((batch, 1), self.start_token, dtype=torch.long)
        state = self.decoder.initial_state(z)
        out = torch.empty((batch, self.config.steps), dtype=torch.long)
        for t in range(self.config.steps):
            logits, state = self.decoder(z, token, state)
            logits = logits[:, -1].float()
            if logit_bias is not None:
                logits = logits + (logit_bias[:, t] if logit_bias.dim() == 3 else logit_bias)
            if temperature <= 0:
                token = logits.argmax(-1, keepdim=True)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                token = torch.multinomial(probs, 1, generator=generator)
            out[:, t] = token[:, 0]
        return out


def save_vae(model: MelodyVAE, path: Path, metadata: dict | None = None) -> None:
    """Write fp16 weights + config (and any metadata, JSON-encoded) to a .safetensors file."""
    from safetensors.torch import save_file

    state = {}
    seen = set()
    for k, v in model.state_dict().items():
        if v.data_ptr() in seen:  # the shared embedding is stored once (as "embed.weight")
            continue
        seen.add(v.data_ptr())
        state[k] = v.detach().to(torch.float16).contiguous()
    meta = {"kind": MODEL_KIND, "config": model.config.to_json()}
    meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()})
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata=meta)
    tmp.replace(path)


def model_from_state(config: VAEConfig, state: dict, metadata: dict | None = None) -> MelodyVAE:
    """A MelodyVAE (float32) from a state dict; the calibration tables come from ``metadata``."""
    model = MelodyVAE(config)
    state = {k: v.float() for k, v in state.items()}
    for key in ("encoder.embed.weight", "decoder.embed.weight"):
        state.setdefault(key, state.get("embed.weight"))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"weights do not match the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    calibration = (metadata or {}).get("calibration")
    if calibration:
        model.calibration = json.loads(calibration) if isinstance(calibration, str) else calibration
    return model


def load_vae(path: Path) -> MelodyVAE:
    """The VAE of a .safetensors file, in eval mode (errors: ValueError/OSError with the reason)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata() or {})
    if metadata.get("kind") != MODEL_KIND:
        raise ValueError(f"{path} holds a {metadata.get('kind')!r} model, not a VAE")
    model = model_from_state(VAEConfig.from_json(metadata["config"]), load_file(str(path)), metadata)
    return model.eval()


# ----------------------------------------------------------------------------------------------
# The VAE on the Generator interface: variations of a clip and interpolations between two clips


class VAEGenerator(Generator):
    """Variations (``vary``) and interpolations (``interpolate``) of 2-bar groups, in one decoding batch.

    A clip is cut into 8-beat groups (``melody.clip_to_segments``); the latent operations are in
    ``variation``. Candidates keep the clip's tempo and meter, its channel and (without a mood) its
    mean velocity; a mood sets the velocity from the mood table.
    """

    kind = MODEL_KIND
    capabilities = frozenset({VARY, INTERPOLATE})
    config_class = VAEConfig

    CODE_CACHE_SIZE = 512  # segments whose refined codes are kept ("more like this" re-encodes nothing)

    def __init__(self, model: MelodyVAE, metadata: dict | None = None, name: str | None = None):
        super().__init__(model.config, metadata, name)
        self.model = model.eval()
        self._codes: dict[bytes, np.ndarray] = {}

    def codes(self, segments: np.ndarray) -> np.ndarray:
        """Latent codes of token segments (``variation.encode``), each segment encoded once per process."""
        from composer_app.generation import variation

        keys = [np.asarray(row, dtype=np.int8).tobytes() for row in segments]
        missing, seen = [], set()
        for i, key in enumerate(keys):
            if key not in self._codes and key not in seen:
                seen.add(key)
                missing.append(i)
        if missing:
            found = variation.encode(self.model, np.asarray(segments)[missing])
            if len(self._codes) + len(missing) > self.CODE_CACHE_SIZE:
                self._codes.clear()
            for i, code in zip(missing, found):
                self._codes[keys[i]] = code
        return np.stack([self._codes[key] for key in keys])

    @classmethod
    def from_state(cls, metadata: dict, state: dict) -> VAEGenerator:
        config = VAEConfig.from_json(metadata["config"])
        return cls(model_from_state(config, state, metadata), metadata)

    def save(self, path, metadata: dict | None = None) -> None:
        save_vae(self.model, path, metadata)

    def parameter_count(self) -> int:
        return self.model.parameter_count()

    @classmethod
    def train(cls, settings) -> dict:
        """``composer-app train --model vae``: the generic settings mapped onto ``training_vae``."""
        from composer_app.generation.training import output_path
        from composer_app.generation.training_vae import VAETrainSettings, train

        corpus = settings.data == "corpus"
        return train(VAETrainSettings(
            data=settings.data, minutes=settings.minutes, max_steps=settings.max_steps, out=output_path(settings),
            resume=settings.resume, seed=settings.seed, cache_dir=settings.cache_dir,
            checkpoint_dir=Path("cache/checkpoints/vae") if corpus else output_path(settings).parent / "vae-checkpoints",
            segment_cache=Path("cache/vae-segments.npz") if corpus else None,
        ))

    @property
    def calibration(self) -> dict:
        return self.model.calibration

    def _vary(self, request: VaryRequest, cancel, emit) -> None:
        from composer_app.generation import variation

        started = time.perf_counter()
        clip = request.clip
        segments, length_steps = melody.clip_to_segments(clip.notes, clip.ticks_per_quarter)
        mu = self.codes(segments)
        targets = _segment_targets(request.moods, len(segments), clip)
        seeds = [request.seed + i for i in range(request.candidates)]  # candidate i: seed + i, as suggestions
        rows = None
        if any(t is not None for t in targets):
            rows = np.array([[np.nan if t is None or getattr(t, name) is None else float(getattr(t, name))
                              for name in melody.FADER_ATTRIBUTES] for t in targets])
        if cancel():
            raise Cancelled("variation cancelled")
        tokens = variation.vary(self.model, segments, mu, float(request.amount), seeds, rows)  # (candidates, k, steps)
        velocity = _velocity(clip, targets)
        for i in range(request.candidates):
            emit(_candidate(tokens[i], clip, length_steps, velocity, self.name, seeds[i], i, started))

    def _interpolate(self, request: InterpolateRequest, cancel, emit) -> None:
        from composer_app.generation import variation

        started = time.perf_counter()
        a, length_a = melody.clip_to_segments(request.start.notes, request.start.ticks_per_quarter)
        b, length_b = melody.clip_to_segments(request.end.notes, request.end.ticks_per_quarter)
        a, b = variation.pair_segments(a, b)
        mu = self.codes(np.concatenate([a, b]))
        if cancel():
            raise Cancelled("interpolation cancelled")
        tokens = variation.interpolate(self.model, a, b, mu[: len(a)], mu[len(a) :], request.steps)  # (steps, k, steps_per_segment)
        clip = request.start
        length_steps = max(length_a, length_b)
        v_a, v_b = _velocity(request.start, ()), _velocity(request.end, ())
        for j in range(request.steps):
            t = j / (request.steps - 1)
            velocity = int(round((1 - t) * v_a + t * v_b))
            emit(_candidate(tokens[j], clip, length_steps, velocity, self.name, request.seed, j, started))


def _segment_targets(moods, count: int, clip) -> list:
    """The AttributeTargets of each 8-beat group (None without a mood); a mood per bar: its group's first bar."""
    if not moods:
        return [None] * count
    from composer_app.mood.targets import targets_for

    out = []
    for k in range(count):
        bar = k * melody.SEGMENT_BARS
        out.append(targets_for(moods[min(bar, len(moods) - 1)]))
    return out


def _velocity(clip, targets) -> int:
    """The mood's velocity target, else the clip's mean velocity (90 for an empty clip)."""
    values = [t.velocity_mean for t in targets if t is not None and t.velocity_mean is not None]
    if values:
        return int(round(float(np.mean(values))))
    return int(round(float(np.mean([n.velocity for n in clip.notes])))) if clip.notes else 90


def _candidate(segments: np.ndarray, clip, length_steps: int, velocity: int, generator: str, seed: int, index: int, started: float) -> Candidate:
    """Decoded segments -> a Candidate in the clip's ticks, cut at the clip's length rounded up to a bar."""
    from composer_app.core.attributes import compute_attributes
    from composer_app.core.note import Note
    from composer_app.core.theory import Key, estimate_key

    tpq = clip.ticks_per_quarter
    bar_ticks = clip.time_signatures.ticks_per_bar_at(0)
    length_ticks = max(1, -(-int(round(length_steps * tpq / melody.STEPS_PER_QUARTER)) // bar_ticks)) * bar_ticks
    channel = clip.notes[0].channel if clip.notes else 0
    velocity = int(np.clip(velocity, 1, 127))
    notes = []
    for start, duration, pitch in melody.segments_to_note_rows(segments, tpq):
        if start < length_ticks:
            notes.append(Note(start, pitch, min(duration, length_ticks - start), velocity, channel))
    estimate = estimate_key(notes)
    key = estimate.key if estimate is not None else Key.parse("C major")
    attributes = compute_attributes(notes, tpq, start_tick=0, end_tick=length_ticks)
    return Candidate(
        tuple(sorted(notes)), tpq, clip.tempo_map, clip.time_signatures, key, length_ticks // bar_ticks, length_ticks,
        generator, seed, attributes, time.perf_counter() - started, True, index,
    )
