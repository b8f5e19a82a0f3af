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


def card_markdown(card: dict) -> str:
    t = card.get("training", {})
    c = card.get("config", {})
    ev = card.get("evaluation")
    lines = [
        f"# Model card: {card['name']}",
        "",
        f"A decoder-only Transformer ({c.get('n_layer')} layers, d={c.get('d_model')}, {c.get('n_head')} heads, "
        f"{t.get('parameters', 0) / 1e6:.2f} M parameters) over the shared REMI-like tokens "
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


def write_model_card(
    name: str, weights: Path, evaluation: dict | None, models_dir: Path | None = None, notes: str | None = None
) -> tuple[Path, Path]:
    folder = Path(models_dir or MODELS_DIR)
    card = card_dict(name, Path(weights), evaluation, notes)
    json_path, md_path = folder / f"{name}.json", folder / f"{name}.md"
    json_path.write_text(json.dumps(card, indent=2, default=float) + "\n")
    md_path.write_text(card_markdown(card))
    return json_path, md_path
