"""Harmony in the GUI: the chord lane, Suggest chords, Harmonize, Accompany (one feature, one action collection)."""

from composer_app.ui.harmony.feature import HarmonyFeature, install_harmony

__all__ = ["HarmonyFeature", "install_harmony"]
