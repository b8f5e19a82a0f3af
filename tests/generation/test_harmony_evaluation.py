"""`composer-app evaluate --harmony` on a small budget: a few real chorales converted from music21's
corpus (train, dev and held-out by the project's split), the shipped chord suggester and harmonizer."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

WANT = {"train": 6, "dev": 2, "heldout": 2}


@pytest.fixture(scope="module")
def chorale_cache(tmp_path_factory) -> Path:
    """A chorale cache (``chorales-v1``) holding a few chorales of each split, converted for real."""
    from music21 import corpus

    from composer_app.generation.chorales import CHORALES_CACHE_VERSION, _save, convert_chorale
    from composer_app.generation.data import corpus_root, is_heldout

    root = tmp_path_factory.mktemp("cache")
    out = root / CHORALES_CACHE_VERSION
    out.mkdir()
    music21_root = corpus_root().resolve()
    got = {k: 0 for k in WANT}
    for name in corpus.chorales.Iterator(returnType="filename"):
        if got == WANT:
            break
        work = corpus.getWork(name)
        path = Path(work[0] if isinstance(work, list) else work).resolve()
        source_id = f"{path.relative_to(music21_root).as_posix()}#0"
        split = "heldout" if is_heldout(source_id) else \
            "dev" if hashlib.sha1(("dev:" + source_id).encode()).digest()[0] < 26 else "train"
        if got[split] >= WANT[split]:
            continue
        chorale = convert_chorale(corpus.parse(str(path)), source_id)
        if chorale is None:
            continue
        _save(chorale, out / (path.name + ".npz"))
        got[split] += 1
    assert got == WANT
    (out / "VERSION").write_text(json.dumps({"version": CHORALES_CACHE_VERSION, "skipped": 0}))
    return root


def test_evaluate_harmony_reports_every_measure_next_to_its_baseline(chorale_cache, tmp_path):
    env = dict(os.environ, COMPOSER_APP_CACHE=str(chorale_cache), OMP_NUM_THREADS="1")
    out = tmp_path / "harmony"
    proc = subprocess.run(
        [sys.executable, "-m", "composer_app", "evaluate", "--harmony", "--chorales", "2", "--folk", "0", "--out", str(out)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["heldout_chorales"] == 2
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["splits"] == {"train_chorales": 6, "dev_chorales": 2, "heldout_chorales": 2}
    for split in ("dev", "heldout"):
        chords = report[f"chords_{split}"]
        assert chords["suggester"]["beats"] == chords["baseline"]["beats"] > 40
        for name in ("suggester", "baseline", "estimator_all_voices"):
            assert 0.0 <= chords[name]["root_triad_agreement"] <= chords[name]["root_agreement"] <= 1.0
        # all four voices pin the chord down much better than the soprano alone
        assert chords["estimator_all_voices"]["root_agreement"] > chords["suggester"]["root_agreement"]
        h = report[f"harmonizer_{split}"]
        assert h["generated_transitions"] > 100 and h["bach_transitions"] > 100
        for counts in (h["generated_per_100_transitions"], h["bach_per_100_transitions"], h["raw_network_per_100_transitions"]):
            assert set(counts) >= {"parallel_fifths_octaves", "crossings", "range_violations"}
        # the sampler's parallel ban: never more parallels than the network alone writes
        assert h["generated_per_100_transitions"]["parallel_fifths_octaves"] <= h["raw_network_per_100_transitions"]["parallel_fifths_octaves"]
        nll = report[f"nll_{split}"]
        assert nll["cells"] > 100 and nll["harmonizer_nats_per_cell"] < nll["markov_baseline_nats_per_cell"]
    assert report["latency"]["median_seconds"] > 0
    assert "folk_heldout" not in report  # --folk 0 skips the folk section
    text = out.with_suffix(".md").read_text()
    assert "## Chord suggestions" in text and "lookup baseline, held-out" in text and "network alone" in text


def test_evaluate_harmony_refuses_card_on_a_small_budget(chorale_cache, tmp_path):
    env = dict(os.environ, COMPOSER_APP_CACHE=str(chorale_cache))
    proc = subprocess.run(
        [sys.executable, "-m", "composer_app", "evaluate", "--harmony", "--quick", "--card", "--out", str(tmp_path / "x")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "--card" in proc.stderr
    assert not (tmp_path / "x.json").exists()


def test_training_the_chord_suggester_with_its_classifier(chorale_cache, tmp_path):
    """Counting the tables and fitting the per-beat classifier on real chorales, saved and loaded again."""
    from composer_app.arrange.suggest import ChordModel, train_chord_model
    from composer_app.generation.chorales import CHORALES_CACHE_VERSION, load_chorales, split_chorales
    from composer_app.generation.harmony_evaluation import LookupBaseline, suggester_section

    train, dev, heldout = split_chorales(load_chorales(chorale_cache / CHORALES_CACHE_VERSION, convert=False))
    assert (len(train), len(dev), len(heldout)) == (6, 2, 2)
    model = train_chord_model(train)
    model.save(tmp_path / "suggester.safetensors")
    again = ChordModel.load(tmp_path / "suggester.safetensors")
    assert again.has_classifier
    fitted = suggester_section(train, LookupBaseline(train), again)
    # on what it was fitted to, the classifier reads more than the soprano degree alone
    assert fitted["suggester"]["root_agreement"] > fitted["baseline"]["root_agreement"]
    assert not train_chord_model(train, classifier=False).has_classifier
