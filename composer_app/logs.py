"""The application's log: a rotating file, and unhandled exceptions written there with tracebacks.

Qt-free. The GUI calls ``setup_logging(folder)`` once at start-up with its app data folder; the
file ``composer-app.log`` rotates at ``LOG_MAX_BYTES`` and keeps ``LOG_BACKUP_COUNT`` old files,
so the log never grows without bound. Unhandled exceptions on any thread (including Python code
called from Qt slots) are logged with their traceback and passed, as one line, to the listeners
added with ``add_error_listener`` (the window shows that line in its status bar).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from composer_app.core.limits import LimitError

LOG_FILE_NAME = "composer-app.log"
LOG_MAX_BYTES = 1_000_000  # one file rotates at about 1 MB
LOG_BACKUP_COUNT = 3  # composer-app.log.1 … .3 are kept: at most ~4 MB in all
LOG_FORMAT = "%(asctime)s %(levelname)s [%(processName)s %(threadName)s] %(name)s: %(message)s"

log = logging.getLogger("composer_app")

ErrorListener = Callable[[str, bool], None]  # (one line describing an unhandled exception, whether it is a bug)
_listeners: list[ErrorListener] = []
_handler: logging.Handler | None = None
_previous_hooks: tuple | None = None  # (sys.excepthook, threading.excepthook) before ours


def log_file(folder: Path) -> Path:
    return Path(folder) / LOG_FILE_NAME


def setup_logging(folder: Path, level: int = logging.INFO) -> Path:
    """Log to ``folder/composer-app.log`` (rotating) and catch unhandled exceptions; returns the file.

    Calling it again moves the log to the new folder (one handler at a time). If the folder cannot
    be created the app runs without a log file, saying so on stderr.
    """
    global _handler
    path = log_file(folder)
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
        _handler = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUP_COUNT, encoding="utf-8", delay=True
        )
    except OSError as error:
        print(f"composer-app: no log file ({path}: {error.strerror or error})", file=sys.stderr)
        return path
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    _handler = handler
    _install_hooks()
    log.info("log started (pid %s)", os.getpid())
    return path


def add_error_listener(callback: ErrorListener) -> None:
    """Call ``callback(one_line, internal)`` after each unhandled exception has been logged."""
    _listeners.append(callback)


def remove_error_listener(callback: ErrorListener) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


def one_line(error: BaseException) -> str:
    """``"ValueError: bad thing"``: the last line of the traceback, without the traceback."""
    text = "".join(traceback.format_exception_only(type(error), error)).strip().splitlines()
    return text[-1] if text else type(error).__name__


def log_unhandled(error_type, error, tb, where: str = "") -> None:
    """Log an exception that nothing caught, with its traceback, and tell the listeners.

    A ``LimitError`` is not a bug: an edit would take the document beyond ``core.limits`` (a note
    nudged past the last bar the app allows, say). It is logged as a warning without a traceback and
    the listeners get ``internal=False`` with the limit's own message.
    """
    if error_type is not None and issubclass(error_type, KeyboardInterrupt):
        return
    if isinstance(error, LimitError):
        log.warning("edit refused%s: %s", f" in {where}" if where else "", error)
        line, internal = f"Not done: {error}", False
    else:
        log.error("unhandled exception%s", f" in {where}" if where else "", exc_info=(error_type, error, tb))
        line, internal = (one_line(error) if error is not None else str(error_type)), True
    for callback in list(_listeners):
        try:
            callback(line, internal)
        except Exception:  # a listener must not turn one error into two
            log.debug("error listener failed", exc_info=True)


def _excepthook(error_type, error, tb) -> None:
    log_unhandled(error_type, error, tb)
    if not isinstance(error, LimitError):
        _previous_hooks[0](error_type, error, tb)  # still on stderr for whoever started the app


def _thread_excepthook(args) -> None:
    where = f"thread {args.thread.name}" if args.thread is not None else "a thread"
    log_unhandled(args.exc_type, args.exc_value, args.exc_traceback, where)
    _previous_hooks[1](args)


def _install_hooks() -> None:
    """Put our hooks in front of whatever hooks are there (again, if something replaced ours)."""
    global _previous_hooks
    if sys.excepthook is _excepthook and threading.excepthook is _thread_excepthook:
        return
    previous = _previous_hooks or (sys.__excepthook__, threading.__excepthook__)
    _previous_hooks = (
        previous[0] if sys.excepthook is _excepthook else sys.excepthook,
        previous[1] if threading.excepthook is _thread_excepthook else threading.excepthook,
    )
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
