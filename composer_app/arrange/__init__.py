"""Arrangement: chords for a melody, accompaniment in a style (Qt-free, torch-free)."""
