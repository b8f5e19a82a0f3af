"""Test-wide settings: headless Qt, no JACK auto-start, and paths to shared resources."""

import os
import tempfile
from pathlib import Path

import pytest

# JACK server / MIDI peer fixtures, shared by tests/playback and tests/ui.
pytest_plugins = ["tests.jack_fixtures"]

# Must be set before any QApplication exists: without a display Qt would abort the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# libjack would otherwise try to spawn jackd for every client and stall ~6 s.
os.environ.setdefault("JACK_NO_START_SERVER", "1")
# One torch thread, as the app's worker uses: on a 2-core machine torch's second thread (which spins for a while
# after each parallel region) starved the JACK dummy server of the realtime tests into xruns in a full clean-clone run.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Tests (and the programs they start) never read or write the user's real settings and caches:
# QSettings, recent files, autosaved copies, the log, dragged clips and converted corpora go to a folder of this session.
_TEST_HOME = Path(tempfile.mkdtemp(prefix="composer-app-tests-"))
os.environ["XDG_CONFIG_HOME"] = str(_TEST_HOME / "config")
os.environ["XDG_CACHE_HOME"] = str(_TEST_HOME / "cache")
os.environ["XDG_DATA_HOME"] = str(_TEST_HOME / "data")  # QStandardPaths AppDataLocation: autosave, log
os.environ["COMPOSER_APP_CACHE"] = str(_TEST_HOME / "cache" / "composer-app")

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
