"""``python -m provider``: the command line (see :mod:`provider.cli`)."""

from .cli import main

raise SystemExit(main())
