"""Model cards: ``models/<name>.json`` and ``models/<name>.md`` from the weights' metadata + evaluation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from composer_app.generation import tokenizer as tk
from composer_app.generation.registry import MODELS_DIR, read_metadata

LICENSE_NOTE = (
    "Trained on the music21 corpus (BSD-licensed package; some encodings, e.g. the Essen folk songs, are "
    "for non-commercial use). The converted training data is not distributed; the conversion code is "
    "(composer_app/generation/data.py). The weights are a model of those works, shipped for local use."
)


def card_dict(name: str, weights: Path, evaluation: dict | None, notes: str | None = None) -> dict:
    metadata = read_metadata(weights)
    training = json.loads(metadata.get("training", "{}"))
    config = json.loads(metadata.get("config", "{}"))
    digest = hashlib.sha256(Path(weights).read_bytes()).hexdigest()
    card = {
        "name": name,
        "kind": metadata.get("kind"),
        "weights": Path(weights).name,
        "weights_bytes": Path(weights).stat().st_size,
        "weights_sha256": digest,
        "format": "safetensors, fp16, config in the metadata (no pickle)",
        "config": config,
        "vocabulary": {"size": tk.VOCAB_SIZE, "grid_ticks_per_quarter": tk.GRID_TICKS_PER_QUARTER},
        "training": training,
        "license_note": LICENSE_NOTE,
    }
    if notes:
        card["notes"] = notes
    if evaluation is not None:
        card["evaluation"] = evaluation
    return card


COMPARISON_START, COMPARISON_END = "<!-- comparison: written by composer-app evaluate --generators all -->", "<!-- /comparison -->"


def _token_intro(card: dict) -> str:
    t, c = card.get("training", {}), card.get("config", {})
    if card.get("kind") == "lstm":
        network = (f"A {c.get('n_layer')}-layer LSTM (hidden width {c.get('d_model')}, tied input/output embeddings, "
                   f"{t.get('parameters', 0) / 1e6:.2f} M parameters)")
    else:
        network = (f"A decoder-only Transformer ({c.get('n_layer')} layers, d={c.get('d_model')}, {c.get('n_head')} heads, "
                   f"{t.get('parameters', 0) / 1e6:.2f} M parameters)")
    return network


def card_markdown(card: dict) -> str:
    if card.get("kind") == "gan":
        return gan_card_markdown(card)
    t = card.get("training", {})
    ev = card.get("evaluation")
    lines = [
        f"# Model card: {card['name']}",
        "",
        f"{_token_intro(card)} over the shared REMI-like tokens "
        f"({card['vocabulary']['size']} ids, {card['vocabulary']['grid_ticks_per_quarter']} grid steps per quarter), "
        "conditioned per bar on key, note density and register control tokens. It continues a clip bar by bar; "
        "the engine writes each generated bar's controls from the mood's attribute targets and adds scale/mode "
        "guidance while sampling (see composer_app/generation/engine.py).",
        "",
        f"- Weights: `{card['weights']}` ({card['weights_bytes'] / 1e6:.1f} MB, {card['format']}), sha256 `{card['weights_sha256'][:16]}…`",
        f"- Data: {json.dumps(t.get('data'))}; {t.get('train_pieces')} training pieces "
        f"({t.get('train_tokens')} tokens before transposition), {t.get('heldout_pieces')} held-out pieces "
        "(deterministic split by a hash of the source id; `oneills1850` never used).",
        "- Augmentation: random transposition to every key (-6..+5 semitones); 30 % of training windows turned "
        "into the parallel mode (major <-> minor, 3rd/6th/7th degrees moved by a semitone, KEY tokens flipped).",
        f"- Training: {t.get('steps')} steps, {t.get('tokens_seen')} tokens seen, {t.get('training_minutes')} minutes "
        f"on {t.get('processes')} CPU process(es) of a shared 2-core machine; settings {json.dumps(t.get('settings'))}.",
        f"- Held-out loss per token at the end of training: {t.get('heldout_loss_per_token')}",
        "",
        "Validation history (step, minutes, train loss, held-out loss):",
        "",
    ]
    for h in t.get("history", [])[-12:]:
        lines.append(f"- {h['step']}, {h['minutes']}, {h['train_loss']}, {h['val_loss']}")
    if card.get("notes"):
        lines += ["", f"Notes: {card['notes']}"]
    lines += [
        "",
        "## How the mood steers it",
        "",
        "- **Arousal → note density** (and register, velocity, articulation through the mood table): every generated "
        "bar's header carries a DENS control token, the density bin of the target (notes per beat for one line, times "
        "the prompt's voices). The model learned to follow it (it is computed the same way as `core.attributes` on "
        "the training data).",
        "- **Valence → mode**: a KEY control token per bar (tonic and mode, estimated locally on the training data) "
        "plus three things at sampling time, because a mode token alone was learned only weakly in an earlier trial: "
        "(1) training windows are turned into the parallel mode 30 % of the time (mode-balanced data: the corpus is "
        "mostly major), (2) the engine keeps the prompt's tonic and moves the *minorness* of the continuation from "
        "the prompt's mode toward minor or major in proportion to the valence target; the thirds, sixths and sevenths "
        "of the other mode get a logit penalty scaled by it (a modal mixture in between), and a degree-weight guidance "
        "draws the pitch-class histogram toward the target key's profile; (3) each candidate is the best of up to 4 "
        "samples (12 sequences per request in all) ranked by the distance of their measured attributes (mode "
        "strength, note density) to the targets.",
        "- **Velocity and articulation** cannot be learned from the corpus (no dynamics, notated durations): the engine "
        "sets velocities from the velocity target (with light accents) and shortens notes to the articulation target.",
        "",
        "## Licence",
        "",
        card["license_note"],
        "",
    ]
    if ev:
        from composer_app.generation.evaluation import to_markdown

        lines += [to_markdown(ev, "Evaluation").replace("# Evaluation", "## Evaluation", 1).replace("\n## ", "\n### ")]
    return "\n".join(lines)


def gan_card_markdown(card: dict) -> str:
    """The GAN's card: architecture, stabilisers and why, training facts, held-out checks."""
    from composer_app.generation.gan import DEFAULT_OVERSAMPLE, RANK_FREE_LEAP_SHARE

    t, c = card.get("training", {}), card.get("config", {})
    settings = t.get("settings", {})
    lines = [
        f"# Model card: {card['name']}",
        "",
        "A MidiNet-style convolutional conditional GAN (Yang, Chou & Yang 2017) that writes one bar of melody at a "
        f"time: a 16-step (16th-note) one-hot roll of {c.get('n_symbols')} symbols per step (rest, hold, or the onset "
        f"of one of {c.get('n_symbols', 2) - 2} key-relative pitches from MIDI {c.get('pitch_low')}). The generator "
        f"({t.get('parameters', 0) / 1e3:.0f} k parameters) turns {c.get('noise_dim')} noise values into the bar with "
        "transposed 1-D convolutions over time; at every resolution it sees the previous bar through a convolutional "
        "conditioner (MidiNet's conditioner CNN) and the bar's attributes (minor/major, onsets per step, register, bar "
        f"length). The critic ({t.get('critic_parameters', 0) / 1e3:.0f} k parameters, not shipped) scores (bar, previous bar, "
        "attributes). It continues a prompt bar by bar: the prompt's last bar (its top line) conditions the first "
        "generated bar, each generated bar the next. The per-bar plan (key, density, register, scale and mode bias) is "
        "the same as for the Transformer and the LSTM: each bar is conditioned on minor or major by the plan's third "
        "(the token models' KEY control), the plan's pitch-class bias is added to the onset logits before each step "
        f"is drawn, and each candidate is the best of {DEFAULT_OVERSAMPLE} samples ranked by the plan's targets "
        "(one forward pass per bar, so the GAN can rank more samples than the token models' 3-4) and by its leaps "
        f"beyond a major third above {RANK_FREE_LEAP_SHARE * 100:.0f} % of its intervals (or its prompt's share; its known "
        "weakness: drawn bars leap in 47 % of their intervals, real folk tunes in about 13 %).",
        "",
        f"- Weights: `{card['weights']}` ({card['weights_bytes'] / 1e6:.2f} MB, {card['format']}), sha256 `{card['weights_sha256'][:16]}…`",
        f"- Data: {json.dumps(t.get('data'))}; {t.get('train_bars')} bar pairs (previous bar, bar) from {t.get('train_pieces')} "
        f"training pieces (top line of each onset, transposed so that the bar's local key has its tonic on C), "
        f"{t.get('heldout_bars')} held-out pairs from {t.get('heldout_pieces')} held-out pieces (the same hash split as "
        "the token models; `oneills1850` never used). Bars longer than 16 sixteenths (9/8, 12/8, 4/2) are skipped.",
        "- Augmentation: 30 % of the pairs turned into the parallel mode (3rd, 6th and 7th degrees moved; the corpus is mostly major).",
        f"- Training: {t.get('steps')} generator steps with {t.get('critic_steps_per_step')} critic steps each, batch "
        f"{settings.get('batch_size')}, Adam lr {settings.get('learning_rate')} (betas 0.5, 0.9), {t.get('training_minutes')} "
        "minutes on one thread of a shared, heavily loaded 2-core machine.",
        "",
        "## Stabilisers and why",
        "",
        f"- **WGAN-GP** (gradient penalty {settings.get('gradient_penalty')}, as MuseGAN): MidiNet's sigmoid loss with "
        "feature matching is known to swing between a silent and a saturated generator on small data; a Wasserstein "
        "critic with a gradient penalty gives a loss that tracks sample quality (the held-out estimate below) and no "
        "vanishing gradients when the critic wins. No batch normalisation in the critic (it would break the penalty).",
        f"- **Attribute loss** (weight {settings.get('attribute_weight')}): the generator's softmax is scored on its "
        "expected onsets per step, its expected register (and the share of onsets more than 7 semitones from it) and "
        "its minor-third share against the requested attributes, an AC-GAN-style auxiliary term; without it the "
        "conditioning attributes were ignored in a first trial and the mood sliders would not work.",
        f"- **Mode seeking** (MSGAN, Mao et al. 2019, weight {settings.get('mode_seeking_weight')}): two noises for one "
        "condition should give different bars; added after the first run collapsed to 5 % distinct bars from one "
        "condition after 300 steps (the previous bar and the attributes determined the bar, the noise was ignored).",
        "- **Decoding**: a step is a rest, a hold or an onset by their probability mass, then the onset's pitch (a "
        "plain argmax over the 50 symbols almost never started a note because an onset's mass is spread over the "
        "pitches). Both are *drawn* from the generator's softmax (Gumbel-max, seeded per sample; the request's "
        "temperature scales the noise and the draws), not taken as the most likely: the argmax mapped noise draws "
        "that differ a little onto the same bar (mode-collapse check on the C-major example: 73-83 % distinct for 2-note "
        "bars, 80-89 % for 4-note bars; drawn: 84-98 % and 95-98 %) and let the plan's mode bias act only "
        "near ties. The held-out checks during training below still decode by argmax.",
        "",
        "Loss curves: ![GAN losses](../docs/evaluation/gan-losses.png)",
        "",
        "Held-out checks during training (every 100 steps; Wasserstein estimate = critic(real) − critic(generated); "
        "distinct bars = share of distinct bars among 64 noise draws for one held-out condition):",
        "",
        "| step | minutes | critic loss | attribute loss | held-out W | density error (onsets/step) | register error (semitones) | density ρ | distinct bars |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for h in t.get("history", [])[-12:]:
        v = h["heldout"]
        lines.append(
            f"| {h['step']} | {h['minutes']} | {h['critic_loss']} | {h['attribute_loss']} | {v['wasserstein_estimate']} | "
            f"{v['density_error']} | {v['register_error_semitones']} | {v['density_spearman']} | {v['distinct_bars_one_condition']} |"
        )
    if card.get("notes"):
        lines += ["", f"Notes: {card['notes']}"]
    lines += ["", "## Licence", "", card["license_note"], ""]
    return "\n".join(lines)


def _kept_comparison(md_path: Path) -> str:
    """The comparison section of an existing card (kept when the card is rewritten)."""
    try:
        text = md_path.read_text(encoding="utf-8")
    except OSError:
        return ""
    start, end = text.find(COMPARISON_START), text.find(COMPARISON_END)
    return text[start : end + len(COMPARISON_END)] if start >= 0 and end > start else ""


def write_model_card(
    name: str, weights: Path, evaluation: dict | None, models_dir: Path | None = None, notes: str | None = None
) -> tuple[Path, Path]:
    folder = Path(models_dir or MODELS_DIR)
    card = card_dict(name, Path(weights), evaluation, notes)
    json_path, md_path = folder / f"{name}.json", folder / f"{name}.md"
    try:  # the one-line summary and the comparison survive a rewrite of the card
        old = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    for key in ("summary", "comparison"):
        if key in old:
            card[key] = old[key]
    kept = _kept_comparison(md_path)
    json_path.write_text(json.dumps(card, indent=2, default=float) + "\n")
    md_path.write_text(card_markdown(card) + (f"\n{kept}\n" if kept else ""))
    return json_path, md_path


def write_comparison_section(name: str, section_markdown: str, summary: str, comparison: dict, models_dir: Path | None = None) -> None:
    """Put the comparison (table + sentence) into models/NAME.md and .json, replacing an older one."""
    folder = Path(models_dir or MODELS_DIR)
    json_path, md_path = folder / f"{name}.json", folder / f"{name}.md"
    card = json.loads(json_path.read_text(encoding="utf-8"))
    card["summary"], card["comparison"] = summary, comparison
    json_path.write_text(json.dumps(card, indent=2, default=float) + "\n")
    text = md_path.read_text(encoding="utf-8")
    start, end = text.find(COMPARISON_START), text.find(COMPARISON_END)
    if start >= 0 and end > start:
        text = text[:start].rstrip() + "\n" + text[end + len(COMPARISON_END):]
    md_path.write_text(text.rstrip() + f"\n\n{COMPARISON_START}\n{section_markdown.strip()}\n{COMPARISON_END}\n")
