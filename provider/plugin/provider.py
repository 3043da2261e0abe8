"""``BasetenProvider``: the engine calls of the native ``baseten`` plugin.

Built on the public API of ``pulumi.provider.experimental`` (:class:`Provider` and its request
and response types), over the same core as the dynamic provider (:mod:`provider.resource`):
the same inputs, outputs, lookup, gate and rules, in the engine's camelCase spelling.

What the engine may rely on, call by call:

* ``CheckConfig`` returns the config it was given (that *is* the provider's configuration), the
  key marked secret; it names a malformed ``apiKey`` or ``apiUrl``; unknowns pass.
  ``Configure`` keeps the key in this process's memory only; ``BASETEN_API_KEY`` /
  ``BASETEN_API_URL`` fill in what the config leaves out.
* ``Check`` keeps the declared inputs only, fills in the defaults (``waitFor: ["ACTIVE"]``,
  ``timeoutSeconds: 900``) and names *every* bad property; unknown values pass.
* ``Create`` and ``Update`` look the deployment up and wait at its gate under one deadline:
  ``timeoutSeconds``, or the engine's custom timeout if that is sooner (0 means none). During a
  preview they answer at once, sending nothing, with the unknown outputs unknown. The id is
  ``CHAIN_ID/CHAIN_DEPLOYMENT_ID``; the inputs are among the outputs.
* ``Diff`` replaces when the inputs name another deployment (another chain or deployment id, or
  an environment the stored deployment neither was found by nor served: no request), or when
  the environment now serves another deployment; otherwise it makes one GET and reports a
  change when the live deployment differs from the state or the gate is closed (stored or
  live), with a detailed diff naming each property. An import by id followed by a program
  that names the environment serving it is an update, not a replace.
* ``Read`` refreshes the deployment the id names, or imports it from the id alone, returning
  outputs and inputs; a deployment that is gone is reported gone.
* ``Delete`` sends nothing: the deployment is not ours to delete.
* ``Invoke`` serves one function per read of the catalog (``baseten:index:getChainDeployment``,
  ``getChain``, ``getChainEnvironments``, ...: :data:`provider.reads.READS`); a lookup reads
  without waiting unless ``waitFor`` is given; bad arguments come back as failures naming
  each one.
* ``Cancel`` stops every waiting gate at once; each fails with a message saying so.
* Secrets: an input sent as a secret stays one (``Check``, and ``Read`` keeps each input as
  secret as it was); an output is secret only when derived from a secret input or showing a
  secret chain id, deployment id or environment (:func:`provider.plugin.values.secret_outputs`):
  a secret ``chainId`` hides ``chainId`` and ``rawJson``, not the status or the chainlets.

Calls run concurrently: blocking work runs on a thread pool, and at most
:data:`MAX_IN_FLIGHT` requests are in flight to Baseten at once, whatever the engine's
``--parallel``. While a gate waits, each status change and a heartbeat at least every 30 s go
to the engine's log on the resource's URN (ephemeral); warnings go there as warnings. Every
failure reaches the engine as one clean line (:mod:`provider.plugin.errors`). The API key never
appears in a response or a log message: messages are redacted, and an answer from Baseten that
contained it has it replaced in the outputs (with a warning).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from .. import credentials, functions, ratelimit, validation
from ..catalog import Hooks, Read
from ..client import BasetenClient
from ..deadline import Deadline
from ..errors import CancelledError, InvalidInputError, NotFoundError
from ..inputs import (
    INPUT_NAMES,
    INPUTS_BY_NAME,
    input_errors,
)
from ..lifecycle import (
    plan_diff,
    query_from,
    refresh_plan,
    resource_id,
    with_resource_defaults,
)
from ..lookup import DeploymentQuery
from ..models import ChainDeployment
from ..outputs import LOOKUP_BY_ENVIRONMENT, LOOKUP_BY_ID, OUTPUTS, deployment_outputs
from ..reads.chain_deployment import READ as DEPLOYMENT
from ..redaction import Redactor
from ..waiting import Progress
from . import engine_log
from .engine_log import EngineLog
from .errors import PluginError, plugin_error
from .schema import (
    CONFIG_API_KEY,
    CONFIG_API_URL,
    CONFIG_MAX_RPS,
    FUNCTION_TOKENS,
    PACKAGE,
    package_schema,
)
from .values import (
    INPUT_WIRE_NAMES,
    OUTPUT_WIRE_NAMES,
    UNKNOWN,
    camel_text,
    inputs_from_wire,
    inputs_property_map,
    is_unknown,
    outputs_from_wire,
    outputs_property_map,
    outputs_to_wire,
    plain,
    plain_map,
    property_value,
    secret_inputs,
    stored_form,
)

MAX_IN_FLIGHT = functions.MAX_IN_FLIGHT
"""Requests in flight to Baseten at once per plugin process, however many engine calls run:
the function form's bound (Baseten allows 100 requests/s per key)."""

MAX_WORKERS = 256
"""Threads for blocking work. A waiting gate holds one while it sleeps, so there are many
more of them than requests in flight: waiting gates never hold up a lookup."""

SIMULATED_TIME_ENV = "BASETEN_PLUGIN_SIMULATED_TIME"
"""Tests only: ``1`` runs each gate on a simulated clock (its waits take no time), so a
20-minute rollout and its heartbeats can be driven through the real plugin in a second. It is
honoured only against a loopback API (the emulator): set by accident in a user's shell, it
could otherwise turn a real gate into back-to-back polls of Baseten."""

_T = TypeVar("_T")
_R = TypeVar("_R")
_A = TypeVar("_A")

ACCEPTS = {"accept_secrets": True, "accept_resources": True, "accept_outputs": False}
"""What the plugin takes, answered alike by Handshake and Configure (provider.proto: they must
match, and a provider that implements Handshake must accept secrets and resources): secrets as
such, resource references as such (no input takes one: a reference given for an input is
named as a bad property), and no output values (so an unknown arrives as the plain UNKNOWN
string, which the request types keep as it is)."""


def _check_rate(value: object) -> float:
    return ratelimit.check_rate(value, f"{PACKAGE}:{CONFIG_MAX_RPS}")


def _engine_call(
    method: Callable[[BasetenProvider, _R], Coroutine[Any, Any, _T]],
) -> Callable[[BasetenProvider, _R], Coroutine[Any, Any, _T]]:
    """Every failure of ``method`` leaves as a :class:`PluginError` (one clean line)."""

    @functools.wraps(method)
    async def call(self: BasetenProvider, request: _R) -> _T:
        try:
            return await method(self, request)
        except PluginError:
            raise
        except Exception as exc:
            raise self.error(exc) from None

    return call


class _SimulatedClock:
    def __init__(self) -> None:
        self.now = time.monotonic()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _wire_inputs(values: Mapping[str, Any]) -> dict[str, Any]:
    return {INPUT_WIRE_NAMES[k]: v for k, v in values.items() if k in INPUT_WIRE_NAMES}


def _preview_outputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs before anything is read: the known inputs, everything else unknown."""
    values = with_resource_defaults(inputs)
    outputs: dict[str, Any] = {f.camel_name: UNKNOWN for f in OUTPUTS}
    for name in INPUT_NAMES:
        value = values.get(name)
        if value is not None and name in OUTPUT_WIRE_NAMES:
            outputs[OUTPUT_WIRE_NAMES[name]] = value
    wait_for = values["wait_for"]
    if isinstance(wait_for, list) and not is_unknown(wait_for):
        outputs[OUTPUT_WIRE_NAMES["wait_for"]] = sorted(set(wait_for))
    by_id, by_env = values.get("chain_deployment_id"), values.get("environment")
    if by_id is not None and not is_unknown(by_id):
        outputs[OUTPUT_WIRE_NAMES["lookup_by"]] = LOOKUP_BY_ID
        outputs[OUTPUT_WIRE_NAMES["environment"]] = UNKNOWN  # the one it serves: not read yet
    elif by_env is not None and not is_unknown(by_env):
        outputs[OUTPUT_WIRE_NAMES["lookup_by"]] = LOOKUP_BY_ENVIRONMENT
        outputs[OUTPUT_WIRE_NAMES["chain_deployment_id"]] = UNKNOWN
    return outputs


def _failures(errors: list[InvalidInputError]) -> list[CheckFailure]:
    return [
        CheckFailure(INPUT_WIRE_NAMES.get(e.field, e.field), camel_text(e.reason)) for e in errors
    ]


@functools.lru_cache(maxsize=4)
def _redactor(key: str) -> Redactor:
    # Built once per key (an n-gram set and three regexes), not once per log line.
    return Redactor(key)


class BasetenProvider(Provider):
    """The ``baseten`` provider. One instance serves one plugin process (one provider
    configuration); its methods may run concurrently.

    ``engine_address`` is where progress and warnings are logged (``None``: nowhere).
    ``simulated_time`` runs each gate on a simulated clock (tests; see
    :data:`SIMULATED_TIME_ENV`).
    """

    def __init__(
        self,
        engine_address: str | None = None,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        workers: int = MAX_WORKERS,
        simulated_time: bool | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._api_key: str | None = None
        self._api_url: str | None = None
        self._max_rps: float | None = None
        self._client: BasetenClient | None = None
        self._key_in_use = ""
        self._cancel = threading.Event()
        self._max_in_flight = max_in_flight
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="baseten-plugin")
        if simulated_time is None:
            simulated_time = os.environ.get(SIMULATED_TIME_ENV) == "1"
        self._simulated_time = simulated_time
        self.log = EngineLog(engine_address, redact=self.redact)
        self._schema: str | None = None

    # -- plumbing ---------------------------------------------------------------------------

    def attach_engine(self, address: str) -> None:
        """Log to the engine at ``address`` from now on (``Handshake`` names it)."""
        self.log.retarget(address)

    def redact(self, text: str) -> str:
        """``text`` without the API key in use (configured or from the environment), nor
        any fragment of it (:class:`provider.redaction.Redactor`)."""
        for key in {self._key_in_use, self._api_key or ""}:
            if key:
                text = _redactor(key).text(text)
        return text

    def error(self, exc: BaseException) -> PluginError:
        """``exc`` as the engine shows it (redacted)."""
        return plugin_error(exc, redact=self.redact)

    def close(self) -> None:
        """Stop the gates, the threads and the connections (the process is ending)."""
        self._cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None
        self.log.close()

    def _baseten(self) -> BasetenClient:
        with self._lock:
            if self._client is None:
                found = credentials.resolve(self._api_key, self._api_url)
                self._client = BasetenClient(
                    api_key=found.api_key,
                    base_url=found.base_url,
                    pool_size=self._max_in_flight,
                    max_in_flight=self._max_in_flight,
                    max_requests_per_second=self._max_rps,
                )
                self._key_in_use = found.api_key or ""
            return self._client

    async def _blocking(self, fn: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def _run(self, read: Read[Any, _A], query: Any, urn: str, budget: float) -> _A:
        """Run ``read`` (blocking; the lookup's gate included), logging progress and warnings
        on ``urn``."""
        client = self._baseten()
        on_loopback = validation.is_loopback_url(client.base_url)
        simulated = _SimulatedClock() if self._simulated_time and on_loopback else None
        deadline = Deadline.after(
            budget,
            cancel=self._cancel,
            clock=simulated.clock if simulated else time.monotonic,
        )

        def progress(report: Progress) -> None:
            self.log.send(engine_log.INFO, str(report), urn=urn, ephemeral=True)

        def warning(message: str) -> None:
            self.log.send(engine_log.WARNING, camel_text(message), urn=urn)

        hooks = Hooks(
            on_warning=warning,
            on_progress=progress,
            sleep=simulated.sleep if simulated else None,
        )
        try:
            return read.run(query, client, deadline, hooks)
        except CancelledError:
            raise PluginError(
                f"Cancelled: stopped waiting for {query.describe()}: the engine cancelled the "
                "operation (Ctrl-C, or the end of the run)",
                grpc.StatusCode.ABORTED,
            ) from None

    def _budget(self, query: DeploymentQuery, engine_timeout: float) -> float:
        # The engine sends 0 unless the program set custom timeouts: then timeoutSeconds rules.
        if engine_timeout > 0:
            return min(query.timeout_seconds, engine_timeout)
        return query.timeout_seconds

    # -- configuration ----------------------------------------------------------------------

    @_engine_call
    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        if self._schema is None:
            self._schema = json.dumps(package_schema(), sort_keys=False)
        return GetSchemaResponse(schema=self._schema)

    @_engine_call
    async def check_config(self, request: CheckRequest) -> CheckResponse:
        news = dict(request.new_inputs)
        failures = []
        for name, check in (
            (CONFIG_API_KEY, validation.check_api_key),
            (CONFIG_API_URL, validation.check_base_url),
            (CONFIG_MAX_RPS, _check_rate),
        ):
            given = news.get(name)
            value = plain(given) if given is not None else None
            if value is None or value == "" or is_unknown(value):
                continue
            try:
                check(value)
            except InvalidInputError as exc:
                failures.append(CheckFailure(name, camel_text(exc.reason)))
        unexpected = sorted(
            set(news) - {CONFIG_API_KEY, CONFIG_API_URL, CONFIG_MAX_RPS, "version"}
        )
        if unexpected:
            names = ", ".join(f"{PACKAGE}:{n}" for n in unexpected)
            await self._blocking(
                lambda: self.log.send(
                    engine_log.WARNING,
                    f"unknown configuration {names} (this provider reads "
                    f"{PACKAGE}:{CONFIG_API_KEY}, {PACKAGE}:{CONFIG_API_URL} and "
                    f"{PACKAGE}:{CONFIG_MAX_RPS}); ignored",
                    urn=request.urn,
                )
            )
        if CONFIG_API_KEY in news:
            news[CONFIG_API_KEY] = news[CONFIG_API_KEY].with_secret(True)
        return CheckResponse(inputs=news, failures=failures)

    # DiffConfig is left to the SDK's default, "unknown": the engine then compares the old and
    # new config itself and updates the provider in place (a new key or URL never replaces a
    # resource). The SDK's DiffConfig handler passes a definite answer's ``changes`` straight
    # into the response's enum, where True would read as DIFF_NONE.

    @_engine_call
    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        key = self._setting(request, CONFIG_API_KEY)
        url = self._setting(request, CONFIG_API_URL)
        given_rate = self._setting(request, CONFIG_MAX_RPS)
        rate = None
        try:
            if key is not None:
                validation.check_api_key(key)
            if url is not None:
                validation.check_base_url(url)
            if given_rate is not None:
                rate = _check_rate(given_rate)
        except InvalidInputError as exc:
            raise PluginError(
                camel_text(f"Invalid provider configuration: {exc}"),
                grpc.StatusCode.INVALID_ARGUMENT,
            ) from None
        with self._lock:
            self._api_key, self._api_url, self._max_rps = key, url, rate
            old, self._client = self._client, None
        if old is not None:
            old.close()
        return ConfigureResponse(supports_preview=True, **ACCEPTS)

    @staticmethod
    def _setting(request: ConfigureRequest, name: str) -> str | None:
        given = request.args.get(name)
        value = plain(given) if given is not None else None
        if value is None:
            value = request.variables.get(f"{PACKAGE}:config:{name}")
        if value is None or value == "" or is_unknown(value):
            return None
        return str(value)

    # -- resources --------------------------------------------------------------------------

    @_engine_call
    async def check(self, request: CheckRequest) -> CheckResponse:
        given = request.new_inputs
        plain_given = plain_map(given)
        values = inputs_from_wire(plain_given)
        failures = _failures(input_errors(values, unknown=is_unknown))
        # The declared inputs only, each as sent (a secret stays one); nothing else is kept.
        checked = {
            wire: given[wire]
            for wire in INPUT_WIRE_NAMES.values()
            if plain_given.get(wire) is not None
        }
        for name, value in with_resource_defaults({}).items():
            checked.setdefault(INPUT_WIRE_NAMES[name], property_value(value))
        return CheckResponse(inputs=checked, failures=failures)

    @_engine_call
    async def diff(self, request: DiffRequest) -> DiffResponse:
        olds = outputs_from_wire(plain_map(request.old_state))
        news = inputs_from_wire(plain_map(request.new_inputs))

        def fetch(query: DeploymentQuery) -> ChainDeployment:
            deadline = Deadline.after(query.timeout_seconds, cancel=self._cancel)
            return query.fetch(self._baseten(), deadline)

        def resolve(query: DeploymentQuery) -> DeploymentQuery:
            deadline = Deadline.after(query.timeout_seconds, cancel=self._cancel)
            return query.resolved(self._baseten(), deadline)

        # The GETs (if any) block: they run on the pool, like every lookup.
        plan = await self._blocking(
            lambda: plan_diff(
                olds,
                news,
                is_unknown=is_unknown,
                fetch=fetch,
                resolve=resolve,
                canonical=stored_form,
            )
        )
        return _diff(changed=plan.changed, replaces=plan.replaces)

    @_engine_call
    async def create(self, request: CreateRequest) -> CreateResponse:
        deployment, properties = await self._look_up(
            request.properties, request.urn, request.timeout, request.preview
        )
        if deployment is None:
            return CreateResponse(properties=properties)
        return CreateResponse(resource_id=resource_id(deployment), properties=properties)

    @_engine_call
    async def update(self, request: UpdateRequest) -> UpdateResponse:
        _, properties = await self._look_up(
            request.news, request.urn, request.timeout, request.preview
        )
        return UpdateResponse(properties=properties)

    async def _look_up(
        self, news: Mapping[str, PropertyValue], urn: str, timeout: float, preview: bool
    ) -> tuple[ChainDeployment | None, dict[str, PropertyValue]]:
        """Create's and Update's work: the lookup and gate, and the outputs. During a preview
        nothing is sent and the outputs are unknown (the deployment is ``None``)."""
        inputs = inputs_from_wire(plain_map(news))
        secret = secret_inputs(news)
        if preview:
            return None, outputs_property_map(_preview_outputs(inputs), secret, inputs)
        query = query_from(inputs)
        budget = self._budget(query, timeout)
        deployment = await self._blocking(lambda: self._run(DEPLOYMENT, query, urn, budget))
        outputs = deployment_outputs(query, deployment)
        return deployment, outputs_property_map(outputs_to_wire(outputs), secret, inputs)

    @_engine_call
    async def read(self, request: ReadRequest) -> ReadResponse:
        stored = outputs_from_wire(plain_map(request.properties))
        plan = refresh_plan(request.resource_id, stored)
        # Each input stays as secret as it was (in the stored inputs, or among the outputs).
        secret = secret_inputs(request.inputs, request.properties)
        query = plan.query
        try:
            deployment = await self._blocking(
                lambda: query.fetch(
                    self._baseten(), Deadline.after(query.timeout_seconds, cancel=self._cancel)
                )
            )
        except NotFoundError:
            return ReadResponse()  # no id: the deployment is gone (or never was)
        assert query.chain_id is not None and query.chain_deployment_id is not None
        inputs = plan.inputs(query.chain_id, query.chain_deployment_id)
        outputs = outputs_to_wire(plan.outputs(deployment))
        return ReadResponse(
            resource_id=resource_id(deployment),
            properties=outputs_property_map(outputs, secret, inputs),
            inputs=inputs_property_map(_wire_inputs(inputs), secret),
        )

    @_engine_call
    async def delete(self, request: DeleteRequest) -> None:
        """Forget the resource. Nothing is sent to Baseten: the deployment is not ours."""

    # -- the function -----------------------------------------------------------------------

    @_engine_call
    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        read = FUNCTION_TOKENS.get(request.tok)
        if read is None:
            raise PluginError(
                f"unknown function {request.tok!r}; this provider serves "
                + ", ".join(sorted(FUNCTION_TOKENS)),
                grpc.StatusCode.INVALID_ARGUMENT,
            )
        values = inputs_from_wire(plain_map(request.args), read.inputs)
        checked, errors = read.check(values)
        if errors:
            return InvokeResponse(failures=_failures(errors))
        query = read.query(checked)
        answer = await self._blocking(lambda: self._run(read, query, "", query.timeout_seconds))
        return InvokeResponse(
            return_value=outputs_property_map(
                outputs_to_wire(read.outputs_of(query, answer), read.outputs),
                secret_inputs(request.args, inputs=read.inputs),
                values,
            )
        )

    # -- cancel -----------------------------------------------------------------------------

    async def cancel(self) -> None:
        """Stop every waiting gate now (each fails saying it was cancelled), and any gate that
        would start later: the engine sends Cancel on Ctrl-C and before it shuts us down."""
        self._cancel.set()


def _diff(*, changed: list[str], replaces: list[str]) -> DiffResponse:
    """A diff over snake_case names, in the engine's names, with a detailed entry for each."""
    detailed = {
        _wire_name(name): PropertyDiff(
            PropertyDiffKind.UPDATE_REPLACE if name in replaces else PropertyDiffKind.UPDATE,
            input_diff=name in INPUTS_BY_NAME,
        )
        for name in changed
    }
    return DiffResponse(
        changes=bool(changed),
        replaces=[_wire_name(name) for name in replaces],
        diffs=list(detailed),
        detailed_diff=detailed,
        delete_before_replace=False,
    )


def _wire_name(name: str) -> str:
    return OUTPUT_WIRE_NAMES.get(name) or INPUT_WIRE_NAMES.get(name) or name
