"""Qt-free musical core: notes, tracks, projects, time maps, theory, MIDI and project files.

Nothing in this package imports Qt, torch or any other part of ``composer_app``.
"""
