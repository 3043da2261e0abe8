"""``python -m provider.plugin ENGINE_ADDRESS``: the plugin, without the console script."""

from .server import main

main()
