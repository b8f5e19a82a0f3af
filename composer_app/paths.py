"""Where the app finds its shipped files (models, resources) and keeps its caches.

Shipped folders are looked up, in order: an environment variable (``COMPOSER_APP_MODELS``,
``COMPOSER_APP_RESOURCES``), a PyInstaller bundle (``sys._MEIPASS``), then the source tree
(``models/`` and ``resources/`` beside the ``composer_app`` package, as in a clone or an editable install).
Caches follow the XDG convention (``$XDG_CACHE_HOME/composer-app``, default ``~/.cache/composer-app``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "composer-app"
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _shipped(folder: str, env_var: str) -> Path:
    override = os.environ.get(env_var)
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and (Path(bundle) / folder).is_dir():
        return Path(bundle) / folder
    return SOURCE_ROOT / folder


def models_dir() -> Path:
    """The folder holding trained weights (``*.safetensors``) and model cards."""
    return _shipped("models", "COMPOSER_APP_MODELS")


def resources_dir() -> Path:
    """The folder holding example clips and other shipped resources."""
    return _shipped("resources", "COMPOSER_APP_RESOURCES")


def example_clip(name: str = "c_major_melody.mid") -> Path:
    return resources_dir() / "examples" / name


def cache_dir(*parts: str) -> Path:
    """A per-user cache folder (created on demand), e.g. ``cache_dir("drag")`` for dragged clips."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_NAME
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
