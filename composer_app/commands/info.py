"""`composer-app info`: not available yet (comes with its feature)."""

import argparse

from composer_app.commands._unavailable import not_available

HELP = "(info: not available yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_available("info")
