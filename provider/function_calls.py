"""The one implementation behind every read's Python functions (:mod:`provider.functions`).

The typed ``get_X`` / ``get_X_output`` and ``GetXResult`` of each read are generated source
(:mod:`provider.generated_functions`, written by ``make docs``); each is a thin body that calls
:func:`call` or :func:`call_output` here with its result class and its inputs by name.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pulumi

from . import connection
from .catalog import Hooks, Read
from .errors import InvalidInputError
from .fields import Scalar
from .ratelimit import check_rate
from .resource import (
    CONFIG_API_KEY,
    CONFIG_API_URL,
    CONFIG_MAX_RPS,
    configured_rate,
    log_warning,
)

RATE = "max_requests_per_second"
"""The keyword every function takes for the key's rate limit (:mod:`provider.ratelimit`)."""

MAX_IN_FLIGHT = 16
"""Default lookups in flight at once. Baseten allows 100 requests/s per key; at a typical
150 ms per request, 16 in flight stay near it, and a burst over it is retried on 429 anyway."""

_max_in_flight = MAX_IN_FLIGHT
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def set_max_in_flight(limit: int) -> None:
    """Run up to ``limit`` Output-form lookups at once from now on (e.g. a key with a higher
    rate limit). The current pool finishes its lookups and is replaced."""
    global _max_in_flight  # noqa: PLW0603 - one process-wide setting, like the pool
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 256:
        raise InvalidInputError("max_in_flight", f"must be an integer from 1 to 256, got {limit!r}")
    _max_in_flight = limit
    shutdown_lookup_pool()


def shutdown_lookup_pool() -> None:
    """Stop the lookup threads (after the lookups in progress); the next lookup starts anew."""
    global _executor
    with _executor_lock:
        pool, _executor = _executor, None
    if pool is not None:
        pool.shutdown(wait=True)


class ReadResult:
    """A read's result as plain values: one attribute per output of the read (``status``,
    ``chainlets``, ...), plus the read's extras (``deployment``: the typed model, lossless).
    Results compare equal when their outputs are. Each read's subclass (``GetXResult``) sets
    :attr:`read` and declares the attributes' types."""

    read: Read[Any, Any]

    def __init__(self, outputs: Mapping[str, Any]) -> None:
        for name in self.read.output_names:
            setattr(self, name, outputs[name])
        for name, build in self.read.result_extras.items():
            setattr(self, name, build(outputs))

    def outputs(self) -> dict[str, Any]:
        """The plain values by output name."""
        return {name: getattr(self, name) for name in self.read.output_names}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self.outputs() == other.outputs()

    def __hash__(self) -> int:
        return hash(json.dumps(self.outputs(), sort_keys=True))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{spec.name}={getattr(self, spec.name)!r}"
            for spec in self.read.outputs
            if isinstance(spec.type, Scalar)
        )
        return f"{type(self).__name__}({shown})"


R = TypeVar("R", bound=ReadResult)


def _credentials(
    api_key: str | None, api_url: str | None, rate: float | None
) -> tuple[str | None, str | None, float | None]:
    """The arguments, else the stack config (checked before any request)."""
    return (
        api_key if api_key is not None else pulumi.runtime.get_config(CONFIG_API_KEY),
        api_url if api_url is not None else pulumi.runtime.get_config(CONFIG_API_URL),
        check_rate(rate, RATE)
        if rate is not None
        else configured_rate(pulumi.runtime.get_config(CONFIG_MAX_RPS) or None),
    )


def _pool() -> ThreadPoolExecutor:
    global _executor  # noqa: PLW0603 - one pool per process, made on first use
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(_max_in_flight, thread_name_prefix="baseten-lookup")
        return _executor


def look_up(
    read: Read[Any, Any],
    values: Mapping[str, Any],
    *,
    api_key: str | None = None,
    api_url: str | None = None,
    max_requests_per_second: float | None = None,
) -> dict[str, Any]:
    """Run ``read`` on ``values`` (input name to value; ``None`` is not given) and return its
    outputs."""
    query = read.parse(values)
    client = connection.shared_client(*_credentials(api_key, api_url, max_requests_per_second))
    answer = read.run(query, client, hooks=Hooks(on_warning=log_warning))
    return read.outputs_of(query, answer)


def call(
    result: type[R],
    values: Mapping[str, Any],
    *,
    api_key: str | None = None,
    api_url: str | None = None,
    max_requests_per_second: float | None = None,
) -> R:
    """``get_X``: ``result.read`` on ``values``, blocking, as a ``result``."""
    outputs = look_up(
        result.read,
        values,
        api_key=api_key,
        api_url=api_url,
        max_requests_per_second=max_requests_per_second,
    )
    return result(outputs)


def call_output(
    result: type[R],
    values: Mapping[str, Any],
    *,
    api_key: str | None = None,
    api_url: str | None = None,
    max_requests_per_second: float | None = None,
) -> pulumi.Output[R]:
    """``get_X_output``: :func:`call` once every Input of ``values`` is known, on the bounded
    lookup pool; unknown (nothing sent) while one is not, secret if one was."""
    # Read config here, on the program's thread: the pool's threads do not see its context.
    key, url, rate = _credentials(api_key, api_url, max_requests_per_second)

    async def run(resolved: dict[str, Any]) -> R:
        def blocking() -> R:
            return call(result, resolved, api_key=key, api_url=url, max_requests_per_second=rate)

        return await asyncio.get_running_loop().run_in_executor(_pool(), blocking)

    return pulumi.Output.all(**values).apply(run)
