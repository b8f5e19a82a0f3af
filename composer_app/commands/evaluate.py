"""`composer-app evaluate`: held-out likelihood vs an n-gram baseline, style and control fidelity, diversity, realism.

Writes a JSON and a Markdown report; ``--card`` also refreshes the model card
(``models/<name>.json`` and ``models/<name>.md``) with the figures. ``--generators all`` (or a
comma-separated list) compares the shipped generators on the same held-out prompts instead
(``generation.comparison``: one Markdown + JSON report and PNG plots). ``--harmony`` runs the
harmony section instead (``generation.harmony_evaluation``: the chord suggester against Bach's chords
and a lookup baseline, the harmonizer's voice leading next to Bach's, NLL against a Markov baseline,
folk melodies' chord-tone rate on strong beats; dev and held-out chorales apart); with ``--card`` it
writes ``models/harmony-evaluation.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from composer_app.errors import BadInputError

HELP = "evaluate a generator on the held-out split (JSON + Markdown report)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generator", default="transformer", help="registered generator (default: transformer)")
    parser.add_argument("--generators", default=None, help="'all' or NAME,NAME: compare shipped generators in one report")
    parser.add_argument("--temperatures", default=None, help="comparison: comma-separated temperatures (default 0.7,1.0,1.4)")
    parser.add_argument("--weights", type=Path, default=None, help="weights file (default: the shipped ones)")
    parser.add_argument("--data", default="corpus", help="'corpus' or a folder of .mid files")
    parser.add_argument("--collections", default=None, help="comma-separated corpus collections")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--no-convert", action="store_true", help="use the corpus cache as it is")
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    parser.add_argument("--out", type=Path, default=Path("evaluation"), help="report path without extension")
    parser.add_argument("--card", action="store_true", help="also write models/<name>.json and .md")
    parser.add_argument("--card-note", default=None, help="a line about this training run for the card")
    parser.add_argument("--prompts", type=int, default=None, help="prompts for style fidelity")
    parser.add_argument("--control-prompts", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None, help="seeds (candidates) per control level")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--realism-prompts", type=int, default=None, help="held-out folk prompts for the realism test")
    parser.add_argument("--realism-only", action="store_true", help="run only the realism test (needs the eval extra)")
    parser.add_argument("--harmony", action="store_true",
                        help="the harmony section: chord suggester, harmonizer and folk chord tones on held-out chorales/melodies")
    parser.add_argument("--chorales", type=int, default=None, help="harmony: dev and held-out chorales each (default all)")
    parser.add_argument("--folk", type=int, default=None, help="harmony: folk melodies per split (default 300, 0 skips)")


def run(args: argparse.Namespace) -> int:
    import torch

    from composer_app.generation import data as corpus_data
    from composer_app.generation import registry
    from composer_app.generation.evaluation import EvalSettings, evaluate, evaluate_realism, write_reports
    from composer_app.generation.model_card import write_model_card
    from composer_app.generation.training import TrainSettings, load_split

    torch.set_num_threads(1)
    if args.harmony:
        return _harmony(args)
    if args.generators:
        return _compare(args)
    if args.data != "corpus" and not Path(args.data).is_dir():
        raise BadInputError(f"--data must be 'corpus' or a folder of .mid files: {args.data}")
    try:
        registry.info(args.generator)
    except KeyError as error:
        raise BadInputError(str(error.args[0])) from None
    weights = args.weights or registry.weights_path(args.generator)
    model = registry.load_weights(weights)  # a Generator
    model.name = args.generator
    collections = tuple(args.collections.split(",")) if args.collections else corpus_data.DEFAULT_COLLECTIONS
    if set(collections) & set(corpus_data.RESERVED_COLLECTIONS):
        raise BadInputError("oneills1850 is reserved for independent evaluation; pass it as a folder of .mid files")
    settings = TrainSettings(
        data=args.data, cache_dir=args.cache_dir, collections=collections, convert=not args.no_convert, progress=False
    )
    train_items, heldout_items = load_split(settings)
    if not heldout_items:
        raise BadInputError("no held-out music to evaluate on")
    eval_settings = EvalSettings(quick=args.quick, seed=args.seed)
    if args.prompts is not None:
        eval_settings.style_prompts = args.prompts
    if args.control_prompts is not None:
        eval_settings.control_prompts = args.control_prompts
    if args.seeds is not None:
        eval_settings.control_seeds = args.seeds
    if args.realism_prompts is not None:
        if args.realism_prompts < 4:
            raise BadInputError("--realism-prompts must be at least 4")
        eval_settings.realism_prompts = args.realism_prompts
    try:
        import sklearn  # noqa: F401  (the realism test's classifiers)
    except ImportError:
        raise BadInputError("the realism test needs scikit-learn: pip install 'composer-app[eval]'") from None
    say = lambda m: print(f"evaluate: {m}", file=sys.stderr)  # noqa: E731
    if args.realism_only:
        result = {"settings": {k: getattr(eval_settings, k) for k in eval_settings.__dataclass_fields__}}
        result["realism"] = evaluate_realism(model, heldout_items, eval_settings, progress=say)
    else:
        result = evaluate(model, train_items, heldout_items, eval_settings, progress=say)
    result["weights"] = Path(weights).name  # a file name, never a machine path
    result["data"] = args.data if args.data != "corpus" else {"corpus": list(collections)}
    out = Path(args.out)
    write_reports(result, out.with_suffix(".json"), out.with_suffix(".md"), f"Evaluation of {args.generator} ({weights.name})")
    realism_rows = {r["name"]: round(r["logistic"], 4) for r in result.get("realism", {}).get("rows", [])}
    if args.realism_only:
        print(json.dumps({"json": str(out.with_suffix(".json")), "markdown": str(out.with_suffix(".md")), "realism_logistic": realism_rows}))
        return 0
    if args.card:
        write_model_card(args.generator, weights, result, notes=args.card_note)
    summary = {
        "json": str(out.with_suffix(".json")),
        "markdown": str(out.with_suffix(".md")),
        "realism_logistic": realism_rows,
        "nll_per_note": _rounded(result["likelihood"].get("model_nll_per_note")),
        "ngram_nll_per_note": _rounded(result["likelihood"].get("ngram_nll_per_note")),
        "improvement_over_ngram": _rounded(result["likelihood"].get("improvement_over_ngram")),
        "arousal_spearman": result["control"]["arousal"]["spearman_per_sweep_mean"],
        "valence_spearman": result["control"]["valence"]["spearman_per_sweep_mean"],
    }
    print(json.dumps(summary))
    return 0


def _harmony(args: argparse.Namespace) -> int:
    from composer_app.generation.harmony_evaluation import HarmonySettings, evaluate_harmony, markdown
    from composer_app.paths import models_dir

    settings = HarmonySettings.quick_settings(args.seed) if args.quick else HarmonySettings(seed=args.seed)
    for name in ("chorales", "folk"):
        value = getattr(args, name)
        if value is not None:
            if value < (1 if name == "chorales" else 0):
                raise BadInputError(f"--{name} must be at least {1 if name == 'chorales' else 0}")
            setattr(settings, name, value)
    if args.card and settings.quick:
        raise BadInputError("--card writes the reported figures: run it without --quick")
    if args.card and settings.chorales is not None:
        raise BadInputError("--card writes the reported figures: run it on every chorale (no --chorales)")
    try:
        report = evaluate_harmony(settings, progress=lambda m: print(f"evaluate: {m}", file=sys.stderr))
    except ValueError as error:
        raise BadInputError(str(error)) from None
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(report))
    if args.card:
        models_dir().joinpath("harmony-evaluation.json").write_text(json.dumps(report, indent=1) + "\n")
        models_dir().joinpath("harmony-evaluation.md").write_text(markdown(report))
    c, h = report["chords_heldout"], report["harmonizer_heldout"]
    summary = {
        "json": str(out.with_suffix(".json")),
        "markdown": str(out.with_suffix(".md")),
        "heldout_chorales": report["splits"]["heldout_chorales"],
        "suggester_root_agreement": c["suggester"]["root_agreement"],
        "baseline_root_agreement": c["baseline"]["root_agreement"],
        "parallels_per_100": h["generated_per_100_transitions"]["parallel_fifths_octaves"],
        "bach_parallels_per_100": h["bach_per_100_transitions"]["parallel_fifths_octaves"],
        "harmonizer_nats_per_cell": report["nll_heldout"]["harmonizer_nats_per_cell"],
        "markov_nats_per_cell": report["nll_heldout"]["markov_baseline_nats_per_cell"],
        "folk_chord_tone_rate": {k: v["chord_tone_rate"] for k, v in report.get("folk_heldout", {}).items()} or None,
    }
    print(json.dumps(summary))
    return 0


def _rounded(value):
    return None if value is None else round(value, 4)


def _compare(args: argparse.Namespace) -> int:
    from composer_app.generation import data as corpus_data
    from composer_app.generation import registry
    from composer_app.generation.comparison import CompareSettings, compare_generators, write_report
    from composer_app.generation.training import TrainSettings, load_split

    shipped = registry.names(shipped_only=True, capability="continue")  # compares continuations
    if args.generators == "all":
        names = shipped
    else:
        names = [n.strip() for n in args.generators.split(",") if n.strip()]
        for name in names:
            try:
                registry.info(name)
            except KeyError as error:
                raise BadInputError(str(error.args[0])) from None
            if name not in shipped:
                raise BadInputError(f"generator {name!r} has no shipped weights ({registry.weights_path(name).name})")
    if not names:
        raise BadInputError("no shipped generators to compare")
    if args.data != "corpus" and not Path(args.data).is_dir():
        raise BadInputError(f"--data must be 'corpus' or a folder of .mid files: {args.data}")
    collections = tuple(args.collections.split(",")) if args.collections else corpus_data.DEFAULT_COLLECTIONS
    if set(collections) & set(corpus_data.RESERVED_COLLECTIONS):
        raise BadInputError("oneills1850 is reserved for independent evaluation; pass it as a folder of .mid files")
    settings = CompareSettings(quick=args.quick, seed=args.seed)
    if args.prompts is not None:
        settings.prompts = args.prompts
    if args.control_prompts is not None:
        settings.control_prompts = args.control_prompts
    if args.temperatures:
        try:
            settings.temperatures = tuple(float(t) for t in args.temperatures.split(","))
        except ValueError:
            raise BadInputError(f"--temperatures must be numbers: {args.temperatures}") from None
        if 1.0 not in settings.temperatures or min(settings.temperatures) <= 0:
            raise BadInputError("--temperatures must be > 0 and include 1.0 (the default the table reports)")
    train_items, heldout_items = load_split(TrainSettings(
        data=args.data, cache_dir=args.cache_dir, collections=collections, convert=not args.no_convert, progress=False
    ))
    if not heldout_items:
        raise BadInputError("no held-out music to evaluate on")
    try:
        from composer_app.generation import realism  # noqa: F401 - the realism classifiers (issue 11)
    except ImportError as error:
        print(f"composer-app: the comparison needs the realism test (composer_app.generation.realism): {error}", file=sys.stderr)
        return 1
    try:
        result = compare_generators(names, train_items, heldout_items, settings, progress=lambda m: print(f"compare: {m}", file=sys.stderr))
    except ValueError as error:
        raise BadInputError(str(error)) from None
    result["data"] = args.data if args.data != "corpus" else {"corpus": list(collections)}
    paths = write_report(result, Path(args.out))
    if args.card:
        from composer_app.generation.comparison import update_cards

        report = Path(args.out).with_suffix(".md").resolve()
        try:  # the card names the report relative to the project, never by a machine path
            report_name = report.relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            report_name = report.name
        update_cards(result, report_name=report_name)
    summary = {"generators": names, **{k: str(v) for k, v in paths.items()}, "best_at": result["best_at"],
               "equal_realism": result["equal_realism"]}
    print(json.dumps(summary, default=float))
    return 0
