"""Test-wide settings: headless Qt, no JACK auto-start, and paths to shared resources."""

import os
from pathlib import Path

import pytest

# Must be set before any QApplication exists: without a display Qt would abort the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# libjack would otherwise try to spawn jackd for every client and stall ~6 s.
os.environ.setdefault("JACK_NO_START_SERVER", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = REPO_ROOT / "resources"


@pytest.fixture
def resources_dir() -> Path:
    return RESOURCES


@pytest.fixture
def artifacts_dir() -> Path:
    """A folder kept after the run for things a person should look at (screenshots, renders)."""
    path = REPO_ROOT / "tests" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path
