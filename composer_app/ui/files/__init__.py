"""The file feature: documents on disk (open, save, recent, import, export), autosave and recovery.

``formats``: reading and writing by suffix, every failure one ``BadInputError`` line.
``manager``: :class:`FileManager` and its action collection, wired into the main window.
``autosave`` / ``recovery``: copies in the app data folder a few seconds after each change, and
the offer to restore them after a crash.
"""

