"""Baseten chain deployments for Pulumi programs, pipelines and scripts.

Read in the order the data flows:

* :mod:`provider.validation` - inputs validated (ids, key, base URL, wait settings);
* :mod:`provider.client` - one GET, retried within bounds (errors in :mod:`provider.errors`);
* :mod:`provider.models` - the typed response;
* :mod:`provider.status` and :mod:`provider.waiting` - what a status means, and the gate;
* :mod:`provider.lookup` - the chain deployment lookup, gate included;
* :mod:`provider.catalog` and :mod:`provider.reads` - every read, declared once;
* :mod:`provider.resource` and :mod:`provider.functions` - the Pulumi resource and functions;
* :mod:`provider.policy` - policy rules, shared by the CrossGuard pack and ``check``;
* :mod:`provider.cli` - the command line; :mod:`provider.emulator` - a local Baseten API;
  :mod:`provider.testing` - run Pulumi programs without the CLI.

Importing this package has no side effects. The Pulumi-facing names are loaded lazily, so the
client and the CLI do not pay for importing ``pulumi``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .client import BasetenClient, RetryPolicy
from .errors import (
    AuthenticationError,
    BasetenError,
    DeploymentFailedError,
    DeploymentNotReadyError,
    DeploymentTimeoutError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    RequestRejectedError,
    ResponseFormatError,
    ServerError,
    TransportError,
)
from .models import (
    AutoscalingSettings,
    Chain,
    ChainEnvironment,
    Chainlet,
    DeploymentStatus,
    is_known_status,
)
from .models import ChainDeployment as ChainDeploymentModel
from .reads import READS

if TYPE_CHECKING:
    from .endpoint_file import ChainEndpointFile
    from .generated_functions import *  # noqa: F403 - typed; loaded lazily at run time
    from .resource import ChainDeployment, ChainDeploymentArgs

_FUNCTIONS = sorted(
    name
    for read in READS
    for name in (read.result_name, read.function_name, f"{read.function_name}_output")
)
"""Every read's ``GetXResult``, ``get_X`` and ``get_X_output`` (:mod:`provider.functions`)."""

_LAZY = {
    "ChainDeployment": "resource",
    "ChainDeploymentArgs": "resource",
    "ChainEndpointFile": "endpoint_file",
    **dict.fromkeys(_FUNCTIONS, "functions"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'provider' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


__all__ = [
    "AuthenticationError",
    "AutoscalingSettings",
    "BasetenClient",
    "BasetenError",
    "Chain",
    "ChainDeployment",
    "ChainDeploymentArgs",
    "ChainDeploymentModel",
    "ChainEndpointFile",
    "ChainEnvironment",
    "Chainlet",
    "DeploymentFailedError",
    "DeploymentNotReadyError",
    "DeploymentStatus",
    "DeploymentTimeoutError",
    "InvalidInputError",
    "NotFoundError",
    "RateLimitedError",
    "RequestRejectedError",
    "ResponseFormatError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "__version__",
    "is_known_status",
]
__all__ += _FUNCTIONS  # noqa: PLE0605 - derived from the catalog
