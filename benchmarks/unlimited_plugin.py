"""The plugin with its rate limiter turned off: "today's client" for the rate-limit rows of
``make bench``. Run as ``python -m benchmarks.unlimited_plugin ENGINE_ADDRESS``."""

from __future__ import annotations

from provider import ratelimit
from provider.plugin.server import main

if __name__ == "__main__":
    ratelimit.set_enabled(False)
    main()
