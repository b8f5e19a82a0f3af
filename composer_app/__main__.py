"""Allow ``python -m composer_app``."""

import sys

from composer_app.cli import main

sys.exit(main())
