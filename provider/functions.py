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

Each function carries its read's signature (``inspect.signature``) and description as its
docstring. Bad input raises :class:`~provider.errors.InvalidInputError` before any request;
API failures raise :class:`~provider.errors.ApiError`; a gate that does not open raises
:class:`~provider.errors.DeploymentNotReadyError` (all :class:`~provider.errors.BasetenError`).

Credentials: an explicit ``api_key``/``api_url`` argument wins, then the stack config
``baseten:apiKey`` / ``baseten:apiUrl`` of the running program, then ``BASETEN_API_KEY`` /
``BASETEN_API_URL``. The key's rate limit likewise: ``max_requests_per_second``, then
``baseten:maxRequestsPerSecond``, then ``BASETEN_MAX_RPS``, then 100 (:mod:`provider.ratelimit`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pulumi

from . import connection
from .catalog import Hooks, Read
from .errors import InvalidInputError
from .fields import FieldType, ListOf, MapOf, ObjectOf, Scalar
from .ratelimit import check_rate
from .reads import READS
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
    Results compare equal when their outputs are."""

    read: Read[Any, Any]

    def __init__(self, outputs: Mapping[str, Any]) -> None:
        for name in self.read.output_names:
            setattr(self, name, outputs[name])
        for name, build in self.read.result_extras.items():
            setattr(self, name, build(outputs))

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

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
    """Run ``read`` on ``values`` (input name to value) and return its outputs."""
    query = read.parse(values)
    client = connection.shared_client(*_credentials(api_key, api_url, max_requests_per_second))
    answer = read.run(query, client, hooks=Hooks(on_warning=log_warning))
    return read.outputs_of(query, answer)


def _annotation(field_type: FieldType) -> str:
    if isinstance(field_type, Scalar):
        return {"string": "str", "boolean": "bool", "number": "float"}.get(field_type.value, "int")
    if isinstance(field_type, ListOf):
        return f"Sequence[{_annotation(field_type.item)}]"
    if isinstance(field_type, MapOf | ObjectOf):
        return "Mapping[str, Any]"
    return "Any"


def _parameters(read: Read[Any, Any], *, inputs: bool) -> list[inspect.Parameter]:
    params = [
        inspect.Parameter(
            spec.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=spec.default,
            annotation=(
                f"pulumi.Input[{_annotation(spec.type)} | None]"
                if inputs
                else f"{_annotation(spec.type)} | None"
            ),
        )
        for spec in read.inputs
    ]
    settings = (("api_key", "str"), ("api_url", "str"), (RATE, "float"))
    return params + [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=f"{kind} | None"
        )
        for name, kind in settings
    ]


def _functions(
    read: Read[Any, Any],
) -> tuple[type[ReadResult], Callable[..., ReadResult], Callable[..., pulumi.Output[ReadResult]]]:
    """``GetXResult``, ``get_X`` and ``get_X_output`` of ``read``."""
    result: type[ReadResult] = type(
        read.result_name,
        (ReadResult,),
        {
            "read": read,
            "__doc__": f"The result of :func:`{read.function_name}`.",
            "__module__": __name__,
        },
    )
    plain_sig = inspect.Signature(
        _parameters(read, inputs=False), return_annotation=read.result_name
    )
    output_sig = inspect.Signature(
        _parameters(read, inputs=True), return_annotation=f"pulumi.Output[{read.result_name}]"
    )

    def get(*args: Any, **kwargs: Any) -> ReadResult:
        values = dict(plain_sig.bind(*args, **kwargs).arguments)
        key, url, rate = (values.pop(name, None) for name in ("api_key", "api_url", RATE))
        return result(look_up(read, values, api_key=key, api_url=url, max_requests_per_second=rate))

    def get_output(*args: Any, **kwargs: Any) -> pulumi.Output[ReadResult]:
        values = dict(output_sig.bind(*args, **kwargs).arguments)
        # Read config here, on the program's thread: the pool's threads do not see its context.
        key, url, rate = _credentials(*(values.pop(n, None) for n in ("api_key", "api_url", RATE)))

        async def run(resolved: dict[str, Any]) -> ReadResult:
            def call() -> ReadResult:
                return get(**resolved, api_key=key, api_url=url, **{RATE: rate})

            return await asyncio.get_running_loop().run_in_executor(_pool(), call)

        return pulumi.Output.all(**values).apply(run)

    _name(get, read.function_name, plain_sig, read.description)
    _name(
        get_output,
        f"{read.function_name}_output",
        output_sig,
        f":func:`{read.function_name}` over Inputs, returning an ``Output`` of the result.",
    )
    return result, get, get_output


def _name(function: Callable[..., Any], name: str, sig: inspect.Signature, doc: str) -> None:
    """Give a generated function its read's name, signature and description."""
    function.__name__ = function.__qualname__ = name
    function.__module__ = __name__
    function.__doc__ = doc
    function.__signature__ = sig  # type: ignore[attr-defined]


FUNCTIONS: dict[str, Any] = {}
"""Every read's ``GetXResult``, ``get_X`` and ``get_X_output`` by name (also module attributes)."""
for _read in READS:
    _result, _get, _get_output = _functions(_read)
    FUNCTIONS.update(
        {_read.result_name: _result, _get.__name__: _get, _get_output.__name__: _get_output}
    )
globals().update(FUNCTIONS)

if TYPE_CHECKING:

    def __getattr__(name: str) -> Any: ...
