"""`python -m bot.cli …`: the holdfast command without its installed script (tests and benchmarks use it)."""

import sys

from bot.cli.main import main

sys.exit(main())
