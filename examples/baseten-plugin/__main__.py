"""Run the ``baseten`` provider plugin (``pulumi-resource-baseten``) as a source plugin.

The engine starts it as ``python <this folder> [flags] ENGINE_ADDRESS``; the plugin prints its
port on the first line of stdout and serves the engine until it is stopped. The code is this
repository's ``provider`` package (``provider/plugin``), installed by requirements.txt.
"""

from provider.plugin.server import main

main()
