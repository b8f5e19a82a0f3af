"""The command line: ``composer-app [FILE]`` opens the GUI; ``composer-app COMMAND …`` runs a tool.

Contract (DESIGN.md): errors are one clear line on stderr; exit code 2 for bad input, 1 for
anything else; never a traceback for bad input (set ``COMPOSER_APP_DEBUG=1`` to see tracebacks
for unexpected errors).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from composer_app import __version__
from composer_app.commands import SUBCOMMANDS
from composer_app.errors import BadInputError

PROG = "composer-app"


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line (argparse's own convention for usage errors)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def _command_module(name: str):
    return importlib.import_module(f"composer_app.commands.{SUBCOMMANDS[name]}")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog=PROG,
        description="A composer's assistant: piano roll, mood panel and local music generators. "
        f"Run '{PROG} [FILE]' to open the editor, or '{PROG} COMMAND --help'.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    gui = sub.add_parser("gui", help="open the editor (the default when no command is given)")
    gui.add_argument("file", nargs="?", help="a .mid file or a project file to open")
    for name in SUBCOMMANDS:
        module = _command_module(name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
    return parser


def _no_display_reason() -> str | None:
    """Why no window can open here, or None. Without a display Qt aborts the process (SIGABRT)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "no display to open the editor on (DISPLAY and WAYLAND_DISPLAY are unset): run it in a desktop "
        f"session or under xvfb-run, or use the command-line tools ('{PROG} --help')"
    )


def _run_gui(file: str | None) -> int:
    reason = _no_display_reason()
    if reason:
        print(f"{PROG}: {reason}", file=sys.stderr)
        return 1
    from composer_app.ui.app import run_app  # Qt is imported only for the GUI

    return run_app(file)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("gui", "-h", "--help", "--version")):
        argv = ["gui", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "gui":
            return _run_gui(args.file)
        return int(_command_module(args.command).run(args) or 0)
    except BadInputError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `composer-app info X | head`: the reader left; say nothing, like other tools
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        except OSError:
            pass
        return 141  # 128 + SIGPIPE, as a shell reports it
    except Exception as error:  # anything unexpected: one line, exit 1
        if os.environ.get("COMPOSER_APP_DEBUG"):
            traceback.print_exc()
        print(f"{PROG}: unexpected error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
