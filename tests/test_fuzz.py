"""The fuzz harness (bench/fuzz.py): a small budget in every test run, and proof that it can find escapes."""

from __future__ import annotations

import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SMALL_BUDGET_INPUTS = 150  # bench/fuzz.py --inputs 100000 runs the same inputs and more


@pytest.fixture(scope="module")
def fuzz():
    spec = importlib.util.spec_from_file_location("bench_fuzz", REPO / "bench" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def seeds(fuzz):
    return fuzz.seed_files()


def test_a_small_budget_of_mutated_files_escapes_nowhere():
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "fuzz.py"), "--inputs", str(SMALL_BUDGET_INPUTS), "--workers", "2", "--no-write", "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    assert done.returncode == 0, figures["escape_examples"]
    assert figures["inputs"] == SMALL_BUDGET_INPUTS
    assert figures["escapes"] == 0, figures["escape_examples"]
    by_entry = figures["by_entry_point"]
    assert by_entry["load"]["tried"] == SMALL_BUDGET_INPUTS
    assert by_entry["load"]["ok"] > 10 and by_entry["load"]["refused"] > 10  # both outcomes are exercised
    for entry in ("info", "suggest_plan", "render_schedule", "save_again"):
        assert by_entry[entry]["tried"] == by_entry["load"]["ok"]


def test_seeds_are_real_midi_and_project_files(seeds):
    names = [name for name, _ in seeds]
    assert "c_major_melody.mid" in names and "k525MIDIMvt1.mid" in names  # ours and music21's
    assert sum(name.endswith(".composer") for name in names) >= 20
    assert all(data[:4] == b"MThd" for name, data in seeds if name.endswith(".mid"))


def test_structure_aware_mutations_reach_inside_the_tracks(fuzz, seeds):
    """Inputs like the ones that found the ZeroDivisionError: 1 tick per quarter under an eighth-note meter."""
    found = 0
    for index in range(500):
        mutator, name, data = fuzz.make_input(seeds, 9, index)
        if mutator != "midi_structure" or len(data) < 14:
            continue
        division = struct.unpack(">H", data[12:14])[0]
        if division == 1 and b"\xff\x58\x04" in data:
            found += 1
    assert found >= 1


def test_the_harness_reports_an_exception_that_escapes(fuzz, seeds, monkeypatch):
    from composer_app.playback import schedule

    def broken(project, *args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(schedule, "project_events", broken)
    name, data = next((n, d) for n, d in seeds if n == "c_major_melody.mid")
    outcomes = fuzz.run_entry_points(name, data)
    assert outcomes["render_schedule"] == "escape: ZeroDivisionError: division by zero"
    assert outcomes["load"] == "ok" and outcomes["info"] == "ok"


def test_the_documented_refusals_are_not_escapes(fuzz):
    outcomes = fuzz.run_entry_points("x.mid", b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x01")
    assert outcomes == {"load": "refused"}
