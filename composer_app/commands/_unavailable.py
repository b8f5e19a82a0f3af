"""Helper for subcommands whose feature has not landed yet."""

import sys


def not_available(name: str) -> int:
    print(f"composer-app {name}: not available yet in this version", file=sys.stderr)
    return 2
