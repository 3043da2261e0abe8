"""The data-source form, shaped like the functions of generated Pulumi SDKs.

* :func:`get_chain_deployment` takes plain values and returns a
  :class:`GetChainDeploymentResult` of plain values (blocking I/O).
* :func:`get_chain_deployment_output` takes Inputs and returns an ``Output`` of that result.
  Its I/O runs on a bounded thread pool (:data:`MAX_IN_FLIGHT` requests at once), so many lookups
  in one program proceed together instead of one after another on the event loop. With an
  unknown input (preview) it sends nothing and its result is unknown. Its result is secret only
  if an input was.

Credentials: an explicit ``api_key``/``api_url`` argument wins, then the stack config
``baseten:apiKey`` / ``baseten:apiUrl`` of the running program, then ``BASETEN_API_KEY`` /
``BASETEN_API_URL``. The key's rate limit likewise: ``max_requests_per_second``, then
``baseten:maxRequestsPerSecond``, then ``BASETEN_MAX_RPS``, then 100 (:mod:`provider.ratelimit`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pulumi

from . import connection, models
from .errors import InvalidInputError
from .inputs import DEFAULT_TIMEOUT_SECONDS
from .lookup import DeploymentQuery
from .outputs import OUTPUT_NAMES, deployment_from_outputs, deployment_outputs
from .ratelimit import check_rate
from .resource import (
    CONFIG_API_KEY,
    CONFIG_API_URL,
    CONFIG_MAX_RPS,
    configured_rate,
    log_warning,
)

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


class GetChainDeploymentResult:
    """A chain deployment as plain values: one attribute per output of
    :data:`provider.outputs.OUTPUTS` (``status``, ``chainlets``, ``instance_types``,
    ``raw_json``, ...), and ``deployment``, the full typed model (lossless)."""

    deployment: models.ChainDeployment

    def __init__(self, outputs: Mapping[str, Any]) -> None:
        for name in OUTPUT_NAMES:
            setattr(self, name, outputs[name])
        self.deployment = deployment_from_outputs(outputs)

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

    def outputs(self) -> dict[str, Any]:
        """The plain values by output name."""
        return {name: getattr(self, name) for name in OUTPUT_NAMES}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GetChainDeploymentResult) and self.outputs() == other.outputs()

    def __hash__(self) -> int:
        return hash(self.raw_json)

    def __repr__(self) -> str:
        return (
            f"GetChainDeploymentResult(chain_id={self.chain_id!r}, "
            f"chain_deployment_id={self.chain_deployment_id!r}, status={self.status!r})"
        )


def _credentials(
    api_key: str | None, api_url: str | None, rate: float | None
) -> tuple[str | None, str | None, float | None]:
    """The arguments, else the stack config (checked before any request)."""
    return (
        api_key if api_key is not None else pulumi.runtime.get_config(CONFIG_API_KEY),
        api_url if api_url is not None else pulumi.runtime.get_config(CONFIG_API_URL),
        check_rate(rate, "max_requests_per_second")
        if rate is not None
        else configured_rate(pulumi.runtime.get_config(CONFIG_MAX_RPS) or None),
    )


def get_chain_deployment(
    chain_id: str,
    chain_deployment_id: str | None = None,
    environment: str | None = None,
    wait_for: Sequence[str] | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    *,
    api_key: str | None = None,
    api_url: str | None = None,
    max_requests_per_second: float | None = None,
) -> GetChainDeploymentResult:
    """Look a chain deployment up by id, or by ``environment`` (its current deployment).

    The parameters are the inputs of :data:`provider.inputs.INPUTS`. ``wait_for`` (default:
    none) lists statuses to wait for, as on the resource; ``timeout_seconds`` bounds the whole
    call, waiting included. Raises :class:`~provider.errors.InvalidInputError` before any
    request on bad input, :class:`~provider.errors.ApiError` on API failures and
    :class:`~provider.errors.DeploymentNotReadyError` when the gate does not open (all
    :class:`~provider.errors.BasetenError`).
    """
    query = DeploymentQuery.parse(
        {
            "chain_id": chain_id,
            "chain_deployment_id": chain_deployment_id,
            "environment": environment,
            "wait_for": wait_for,
            "timeout_seconds": timeout_seconds,
        }
    )
    client = connection.shared_client(*_credentials(api_key, api_url, max_requests_per_second))
    deployment = query.resolve(client, on_warning=log_warning)
    return GetChainDeploymentResult(deployment_outputs(query, deployment))


def _pool() -> ThreadPoolExecutor:
    global _executor  # noqa: PLW0603 - one pool per process, made on first use
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(_max_in_flight, thread_name_prefix="baseten-lookup")
        return _executor


def get_chain_deployment_output(
    chain_id: pulumi.Input[str],
    chain_deployment_id: pulumi.Input[str | None] = None,
    environment: pulumi.Input[str | None] = None,
    wait_for: pulumi.Input[Sequence[pulumi.Input[str]] | None] = None,
    timeout_seconds: pulumi.Input[float] = DEFAULT_TIMEOUT_SECONDS,
    *,
    api_key: str | None = None,
    api_url: str | None = None,
    max_requests_per_second: float | None = None,
) -> pulumi.Output[GetChainDeploymentResult]:
    """:func:`get_chain_deployment` over Inputs, returning an ``Output`` of the result."""
    # Read config here, on the program's thread: the pool's threads do not see its context.
    key, url, rate = _credentials(api_key, api_url, max_requests_per_second)

    async def lookup(args: dict[str, Any]) -> GetChainDeploymentResult:
        def call() -> GetChainDeploymentResult:
            return get_chain_deployment(
                **args, api_key=key, api_url=url, max_requests_per_second=rate
            )

        return await asyncio.get_running_loop().run_in_executor(_pool(), call)

    return pulumi.Output.all(
        chain_id=chain_id,
        chain_deployment_id=chain_deployment_id,
        environment=environment,
        wait_for=wait_for,
        timeout_seconds=timeout_seconds,
    ).apply(lookup)
