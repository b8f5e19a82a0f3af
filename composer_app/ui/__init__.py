"""The PySide6 user interface. Everything else in composer_app is Qt-free."""

import atexit


def _release_clipboard() -> None:
    """Empty the clipboard while Python is still alive.

    The clipboard owns the QMimeData we put there (copied notes, a clip's file URL). Left alone, Qt
    deletes it from a C exit handler after the interpreter has finalized, and PySide's wrapper
    cleanup then dereferences a dead thread state: a segfault at exit (exit code 139). atexit hooks
    run before that, so clearing here lets the wrapper die normally. (On X11 a clipboard's contents
    leave with the application anyway unless a clipboard manager took them.)
    """
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        QGuiApplication.clipboard().clear()


atexit.register(_release_clipboard)
