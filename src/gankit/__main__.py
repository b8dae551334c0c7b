"""`python -m gankit` is the `gankit` command."""

import sys

from gankit.cli import main

sys.exit(main())
