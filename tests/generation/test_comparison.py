"""The generator comparison: equal-realism interpolation, best-at sentences, table, plots, bad input."""

from __future__ import annotations

import json

from composer_app.cli import main
from composer_app.generation import comparison
from composer_app.generation.evaluation import LEVELS


def _entry(realism, diversity, curve, arousal=0.95, valence=0.85, nll=3.0, latency=0.5):
    control = {
        slider: {
            "attribute": attribute, "spearman_median": rho, "spearman_min": rho - 0.05, "r2_pooled": 0.8, "spearman_pooled": rho,
            "spearman_per_prompt": [rho], "mean_by_level": {str(level): level for level in LEVELS},
            "std_by_level": {str(level): 0.1 for level in LEVELS},
        }
        for slider, attribute, rho in (("arousal", "note_density", arousal), ("valence", "major_strength", valence))
    }
    return {
        "description": "a generator", "weights": "x.safetensors", "weights_bytes": 1_000_000, "parameters": 10, "load_seconds": 0.1,
        "nll_per_note": nll, "curve": [{"temperature": t, "realism": r, "diversity": d} for t, r, d in curve],
        "realism_boosting": realism, "realism_logistic": realism, "diversity": diversity,
        "style": {"generated": {}, "real": {}, "overlapping_area": {}, "overlapping_area_mean": 0.8},
        "distinct_bars": {"samples_per_prompt": 16, "prompts": 2, "share": 0.9, "min": 0.8},
        "control": control, "4x4_seconds": latency, "4x16_seconds": 4 * latency,
    }


def _result():
    generators = {
        "transformer": _entry(0.6, 0.80, [(0.7, 0.55, 0.70), (1.0, 0.60, 0.80), (1.4, 0.75, 0.90)], arousal=0.99, nll=3.0),
        "lstm": _entry(0.65, 0.85, [(0.7, 0.60, 0.75), (1.0, 0.65, 0.85), (1.4, 0.80, 0.95)], nll=3.5, latency=0.7),
        "gan": _entry(0.70, 0.60, [(1.0, 0.70, 0.60)], nll=None, latency=0.1),
    }
    result = {"generators": generators, "settings": {"candidates": 4, "bars": 4, "control_prompts": 2, "temperatures": [0.7, 1.0, 1.4]},
              "prompts": 8, "ngram": {"pieces": 4, "order": 3, "nll_per_note": 5.0}, "seconds": 60.0}
    result["equal_realism"] = comparison._equal_realism(generators)
    result["best_at"] = comparison._best_at(generators)
    return result


def test_diversity_is_compared_at_the_gans_realism():
    eq = _result()["equal_realism"]
    assert eq["answered"] and eq["gan_realism"] == 0.70
    # transformer: realism 0.60 -> 0.75 between T 1.0 and 1.4, diversity 0.80 -> 0.90: at 0.70, 0.8667
    assert abs(eq["others"]["transformer"]["diversity_at_gan_realism"] - (0.80 + 0.10 * 10 / 15)) < 1e-9
    assert abs(eq["others"]["lstm"]["diversity_at_gan_realism"] - (0.85 + 0.10 * 5 / 15)) < 1e-9
    assert comparison._realism_at([{"realism": 0.5, "diversity": 0.1}], 0.9) is None  # outside the curve: no answer


def test_best_at_and_the_report_say_who_wins_what(tmp_path):
    result = _result()
    assert result["best_at"] == {"most_realistic": "transformer", "most_diverse": "lstm", "most_controllable": "transformer",
                                 "fastest": "gan", "best_likelihood": "transformer"}
    sentences = comparison.best_at_sentences(result)
    assert sentences["gan"] == "best at the fastest answers."
    table = comparison.summary_table(result)
    assert table[2].startswith("| transformer | 3.00 | 60 % / 60 % | 0.80 |")
    assert "| gan | n/a |" in table[4]
    plots = comparison.write_plots(result, tmp_path / "report")
    for name in plots.values():
        assert (tmp_path / name).stat().st_size > 10_000


def test_compare_refuses_unknown_or_unshipped_generators(capsys):
    assert main(["evaluate", "--generators", "nope"]) == 2
    assert "unknown generator 'nope'" in capsys.readouterr().err
    assert main(["evaluate", "--generators", "transformer", "--temperatures", "0.5,2"]) == 2
    assert "include 1.0" in capsys.readouterr().err


def test_cards_get_the_comparison_section(tmp_path):
    from composer_app.generation.model_card import COMPARISON_END, COMPARISON_START, write_comparison_section

    (tmp_path / "lstm.json").write_text(json.dumps({"name": "lstm"}))
    (tmp_path / "lstm.md").write_text("# Model card: lstm\n")
    for _ in range(2):  # written twice: replaced, not repeated
        write_comparison_section("lstm", "## Compared\n\n| a |", "an LSTM (most diverse)", {"figures": {}}, tmp_path)
    text = (tmp_path / "lstm.md").read_text()
    assert text.count(COMPARISON_START) == 1 and text.count(COMPARISON_END) == 1 and "## Compared" in text
    assert json.loads((tmp_path / "lstm.json").read_text())["summary"] == "an LSTM (most diverse)"
