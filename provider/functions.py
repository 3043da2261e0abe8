"""The data-source form, shaped like the functions of generated Pulumi SDKs, one pair per read
of the catalog (:data:`provider.reads.READS`):

* ``get_X(...)`` (e.g. :func:`get_chain_deployment`, ``get_chain``, ``get_chain_environments``)
  takes plain values, the read's inputs in declaration order, and returns a ``GetXResult`` of
  plain values (blocking I/O): one attribute per output of the read.
* ``get_X_output(...)`` takes Inputs and returns an ``Output`` of that result. Its I/O runs on
  a bounded thread pool (:data:`MAX_IN_FLIGHT` requests at once), so many lookups in one
  program proceed together instead of one after another on the event loop. With an unknown
  input (preview) it sends nothing and its result is unknown. Its result is secret only if an
  input was.

They are generated source (:mod:`provider.generated_functions`, written by ``make docs`` from
the catalog), so type checkers and IDEs see every input's and output's type; each carries its
read's description as its docstring, and all share one implementation
(:mod:`provider.function_calls`). Bad input raises :class:`~provider.errors.InvalidInputError`
before any request; API failures raise :class:`~provider.errors.ApiError`; a gate that does
not open raises :class:`~provider.errors.DeploymentNotReadyError` (all
:class:`~provider.errors.BasetenError`).

Credentials: an explicit ``api_key``/``api_url`` argument wins, then the stack config
``baseten:apiKey`` / ``baseten:apiUrl`` of the running program, then ``BASETEN_API_KEY`` /
``BASETEN_API_URL``. The key's rate limit likewise: ``max_requests_per_second``, then
``baseten:maxRequestsPerSecond``, then ``BASETEN_MAX_RPS``, then 100 (:mod:`provider.ratelimit`).
"""

from __future__ import annotations

from typing import Any

from . import generated_functions
from .function_calls import (
    MAX_IN_FLIGHT,
    RATE,
    ReadResult,
    look_up,
    set_max_in_flight,
    shutdown_lookup_pool,
)
from .generated_functions import *  # noqa: F403 - every read's functions, typed

__all__ = [
    "FUNCTIONS",
    "MAX_IN_FLIGHT",
    "RATE",
    "ReadResult",
    "look_up",
    "set_max_in_flight",
    "shutdown_lookup_pool",
]
__all__ += generated_functions.__all__

FUNCTIONS: dict[str, Any] = {
    name: getattr(generated_functions, name) for name in generated_functions.__all__
}
"""Every read's ``GetXResult``, ``get_X`` and ``get_X_output`` by name (also module attributes)."""
