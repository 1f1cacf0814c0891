"""Entry point for ``python -m genre_models``."""

import sys

from genre_models.cli import main

sys.exit(main())
