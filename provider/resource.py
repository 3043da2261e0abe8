"""``ChainDeployment``: a Pulumi dynamic resource that reads (never changes) a chain deployment.

Type token ``pulumi-python:dynamic/baseten:ChainDeployment``. Creating it looks the deployment
up and, unless ``wait_for`` is empty, holds every resource that depends on it back until the
deployment and all its chainlets are in ``wait_for`` (default ``["ACTIVE"]``).

How the engine drives :class:`ChainDeploymentProvider` (one instance per process, shared by up
to four threads, unpickled from the ``__provider`` property):

* ``check`` validates inputs and names the property at fault; unknown values (preview) pass.
* ``create`` and ``update`` look up and gate. The resource id is ``CHAIN_ID/DEPLOYMENT_ID``.
* ``diff`` replaces when the inputs name another deployment: another chain or deployment id, an
  environment the stored deployment neither was found by nor served, or an environment promoted
  to another deployment since; otherwise it makes one GET and reports changes when the live
  deployment differs from the stored outputs or the gate is closed (by the state, e.g. after a
  refresh, or live). So every ``pulumi up`` re-checks the gate instead of trusting stale state.
* ``read`` serves ``pulumi refresh`` and :meth:`ChainDeployment.get`; it does not gate.
* ``delete`` sends nothing: the deployment is not ours to delete.

Credentials come from ``configure`` (stack config ``baseten:apiKey``, ``baseten:apiUrl``) or the
environment. They are kept out of the pickle (see ``__getstate__``), never become an input and
never an output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi
import pulumi.dynamic as dyn
from pulumi.runtime import rpc

from . import connection, credentials, models, ratelimit
from .client import BasetenClient
from .errors import (
    BasetenError,
    InvalidInputError,
    NotFoundError,
    headline,
    is_about_api_key,
)
from .fields import FieldType
from .inputs import (
    DEFAULT_TIMEOUT_SECONDS,
    INPUT_NAMES,
    RESOURCE_WAIT_FOR,
    input_errors,
)
from .lifecycle import (
    parse_resource_id,
    plan_diff,
    query_from,
    refresh_plan,
    resource_id,
)
from .lookup import DeploymentQuery
from .outputs import (
    OUTPUT_NAMES,
    OUTPUTS,
    deployment_from_outputs,
    deployment_outputs,
    from_engine,
)
from .text import printable

CONFIG_API_KEY = f"{credentials.PULUMI_NAMESPACE}:{credentials.PULUMI_API_KEY}"
CONFIG_API_URL = f"{credentials.PULUMI_NAMESPACE}:{credentials.PULUMI_API_URL}"
CONFIG_MAX_RPS = f"{credentials.PULUMI_NAMESPACE}:{credentials.PULUMI_MAX_RPS}"
KEY_HINT = credentials.PULUMI_KEY_HINT

_T = TypeVar("_T")


def is_unknown(value: object) -> bool:
    """True for a value the engine does not know yet (preview), or a list holding one.

    The host deserializes with ``keep_unknowns``, which yields ``pulumi.output.Unknown``
    objects; older paths pass the ``rpc.UNKNOWN`` sentinel string. Both count.
    """
    if isinstance(value, list):
        return any(is_unknown(item) for item in value)
    return isinstance(value, pulumi.output.Unknown) or value == rpc.UNKNOWN


class EngineError(BasetenError):
    """What the engine shows for a failure in a provider call: the title of
    :data:`provider.errors.PRESENTATIONS`, the core's message, and where Pulumi users set the
    key when the key is the problem. ``cause`` is the core's error."""

    def __init__(self, cause: BasetenError) -> None:
        self.cause = cause
        hint = f" ({KEY_HINT})" if is_about_api_key(cause) else ""
        super().__init__(f"{headline(cause)}{hint}")


def log_warning(message: str) -> None:
    """The dynamic provider's and the functions' one way to warn: through
    :func:`provider.text.printable` to ``pulumi.log.warn``."""
    pulumi.log.warn(printable(message))


def pulumi_error(exc: BasetenError) -> EngineError:
    """``exc`` as the engine should show it (see :class:`EngineError`)."""
    return exc if isinstance(exc, EngineError) else EngineError(exc)


def configured_rate(value: str | None) -> float | None:
    """Stack config ``baseten:maxRequestsPerSecond`` as a rate (``None``: not set), refused
    with an error naming it."""
    return None if value is None else ratelimit.check_rate(value, CONFIG_MAX_RPS)


def _engine_call(call: Callable[[], _T]) -> _T:
    try:
        return call()
    except BasetenError as exc:
        raise pulumi_error(exc) from None


class ChainDeploymentProvider(dyn.ResourceProvider):
    """The engine-facing half of :class:`ChainDeployment`. Holds no state worth pickling."""

    # Nothing sensitive is ever pickled (see __getstate__), so the provider need not be secret.
    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()
        self._api_key: str | None = None
        self._api_url: str | None = None
        self._max_rps: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        # The pickle is stored in Pulumi state: it must never carry configured credentials.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._api_key = None
        self._api_url = None
        self._max_rps = None

    def configure(self, req: dyn.ConfigureRequest) -> None:
        self._api_key = req.config.get(CONFIG_API_KEY) or None
        self._api_url = req.config.get(CONFIG_API_URL) or None
        self._max_rps = req.config.get(CONFIG_MAX_RPS) or None

    def _client(self) -> BasetenClient:
        return connection.shared_client(
            self._api_key, self._api_url, configured_rate(self._max_rps)
        )

    # -- engine calls ------------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        inputs = {k: news[k] for k in INPUT_NAMES if news.get(k) is not None}
        failures = [
            dyn.CheckFailure(error.field, error.reason)
            for error in input_errors(inputs, unknown=is_unknown)
        ]
        return dyn.CheckResult(inputs, failures)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        query = query_from(props)
        deployment = _engine_call(lambda: self._resolve(query))
        return dyn.CreateResult(resource_id(deployment), deployment_outputs(query, deployment))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        query = query_from(news)
        deployment = _engine_call(lambda: self._resolve(query))
        return dyn.UpdateResult(deployment_outputs(query, deployment))

    def _resolve(self, query: DeploymentQuery) -> models.ChainDeployment:
        # A dynamic provider has no engine connection: pulumi.log reaches the host's stderr.
        return query.resolve(
            self._client(),
            on_progress=lambda p: pulumi.log.info(printable(str(p))),
            on_warning=log_warning,
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        plan = plan_diff(
            olds,
            news,
            is_unknown=is_unknown,
            fetch=lambda query: _engine_call(lambda: query.fetch(self._client())),
            resolve=lambda query: _engine_call(lambda: query.resolved(self._client())),
        )
        return dyn.DiffResult(changes=bool(plan.changed), replaces=plan.replaces)

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        # Refresh re-reads this very deployment, whatever the environment points at now.
        plan = _engine_call(lambda: refresh_plan(id_, props))
        try:
            deployment = plan.query.fetch(self._client(), on_warning=log_warning)
        except NotFoundError:
            return dyn.ReadResult(None, {})
        except BasetenError as exc:
            raise pulumi_error(exc) from None
        chain_id, deployment_id = parse_resource_id(id_)
        return dyn.ReadResult(
            resource_id(deployment),
            plan.outputs(deployment),
            plan.inputs(chain_id, deployment_id),
        )

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget the resource. Nothing is sent to Baseten: the deployment is not ours."""


def _declared(field_type: FieldType) -> Callable[[Any], Any]:
    return lambda value: from_engine(field_type, value)


class ChainDeploymentArgs:
    """The inputs of a :class:`ChainDeployment`, as in generated Pulumi SDKs."""

    def __init__(
        self,
        chain_id: pulumi.Input[str] | None = None,
        chain_deployment_id: pulumi.Input[str] | None = None,
        environment: pulumi.Input[str] | None = None,
        wait_for: pulumi.Input[Sequence[pulumi.Input[str]]] | None = RESOURCE_WAIT_FOR,
        timeout_seconds: pulumi.Input[float] = DEFAULT_TIMEOUT_SECONDS,
        chain_name: pulumi.Input[str] | None = None,
    ) -> None:
        # The parameters are the inputs of provider.inputs.INPUTS, in order (a test holds
        # them to it), spelled out so that editors and type checkers see them.
        self.chain_id = chain_id
        self.chain_deployment_id = chain_deployment_id
        self.environment = environment
        self.wait_for = wait_for
        self.timeout_seconds = timeout_seconds
        self.chain_name = chain_name


class ChainDeployment(dyn.Resource, module="baseten", name="ChainDeployment"):
    """A Baseten chain deployment, read by id or by environment, optionally gated on readiness.

    The chain is ``chain_id``, or ``chain_name`` (looked up in ``GET /v1/chains``); the
    resource's id and state keep the chain's id, so renaming the chain is not a change.

    ``wait_for`` lists the statuses counted as ready (default ``["ACTIVE"]``; ``[]`` or ``None``
    reads without waiting). ``timeout_seconds`` bounds the wait (default 900). Its output
    attributes are those of :data:`provider.outputs.OUTPUTS` (``status``, ``chainlets``,
    ``instance_types``, ``raw_json``, ...), each a ``pulumi.Output`` of its declared type
    (integers are ``int``, declared nullable fields present as ``None``); ``deployment`` is the
    typed model, rebuilt losslessly from ``raw_json``.
    """

    if TYPE_CHECKING:
        # The attributes come from OUTPUTS at registration (see __init__); type checkers see
        # each as an Output.
        def __getattr__(self, name: str) -> pulumi.Output[Any]: ...

    def __init__(
        self,
        resource_name: str,
        args: ChainDeploymentArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        chain_id: pulumi.Input[str] | None = None,
        chain_deployment_id: pulumi.Input[str] | None = None,
        environment: pulumi.Input[str] | None = None,
        wait_for: pulumi.Input[Sequence[pulumi.Input[str]]] | None = RESOURCE_WAIT_FOR,
        timeout_seconds: pulumi.Input[float] = DEFAULT_TIMEOUT_SECONDS,
        chain_name: pulumi.Input[str] | None = None,
    ) -> None:
        if args is None:
            if chain_id is None and chain_name is None and (opts is None or opts.id is None):
                raise InvalidInputError("chain_id", "one of chain_id or chain_name is required")
            args = ChainDeploymentArgs(
                chain_id=chain_id,
                chain_deployment_id=chain_deployment_id,
                environment=environment,
                wait_for=wait_for,
                timeout_seconds=timeout_seconds,
                chain_name=chain_name,
            )
        props: dict[str, Any] = dict.fromkeys(OUTPUT_NAMES)
        props.update({name: getattr(args, name) for name in INPUT_NAMES})
        # None would be dropped on the wire and then mean "the default"; [] means no wait.
        props["wait_for"] = [] if args.wait_for is None else args.wait_for
        super().__init__(ChainDeploymentProvider(), resource_name, props, opts)
        # The engine hands every number back as a float (1.0) and drops nulls inside maps:
        # each output is given back its declared type before the program's apply sees it.
        for spec in OUTPUTS:
            engine_value: pulumi.Output[Any] = getattr(self, spec.name)
            setattr(self, spec.name, engine_value.apply(_declared(spec.type)))

    @staticmethod
    def get(
        resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> ChainDeployment:
        """Read an existing deployment by ``"CHAIN_ID/CHAIN_DEPLOYMENT_ID"`` (no gate)."""
        merged = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        return ChainDeployment(resource_name, opts=merged, wait_for=[])

    @property
    def deployment(self) -> pulumi.Output[models.ChainDeployment]:
        """The deployment as the typed core model, exactly as read: integers, nulls and
        fields this package does not know survive the engine (it is rebuilt from
        ``raw_json``)."""
        raw: pulumi.Output[str] = self.raw_json
        return raw.apply(lambda text: deployment_from_outputs({"raw_json": text}))


ChainDeployment.__annotations__.update({f.name: "pulumi.Output[Any]" for f in OUTPUTS})
