"""Allow ``python -m composer_app`` (and a frozen bundle's entry point)."""

import multiprocessing
import sys

from composer_app.cli import main

if __name__ == "__main__":
    # Generation runs in a worker process: a frozen build must let that child start here.
    multiprocessing.freeze_support()
    sys.exit(main())
