"""``python -m provider.emulator``: run :func:`provider.emulator.main` (``--help`` lists the
scenarios)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
