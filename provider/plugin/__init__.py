"""``pulumi-resource-baseten``: a native Pulumi provider plugin for Baseten chain deployments.

Any Pulumi language (TypeScript, Go, C#, Java, YAML, Python) can use it; it serves the same
core as the Python dynamic provider (:mod:`provider.resource`), spelled as Pulumi packages are
(camelCase). The modules, in the order a call flows through them:

* :mod:`~provider.plugin.server` - start-up (arguments, port on stdout), ``Handshake`` and
  clean errors over gRPC; its ``main`` is the console script;
* :mod:`~provider.plugin.provider` - :class:`BasetenProvider`, each engine call's semantics;
* :mod:`~provider.plugin.values` - names and values between the engine's form and the core's;
* :mod:`~provider.plugin.schema` - the package schema, derived from the declarations;
* :mod:`~provider.plugin.engine_log` - progress and warnings to the engine's ``Log`` service;
* :mod:`~provider.plugin.errors` - failures as one clean line.

Importing this package starts nothing.
"""
