"""``ChainDeployment``: a Pulumi dynamic resource that reads (never changes) a chain deployment.

Type token ``pulumi-python:dynamic/baseten:ChainDeployment``. Creating it looks the deployment
up and, unless ``wait_for`` is empty, holds every resource that depends on it back until the
deployment and all its chainlets are in ``wait_for`` (default ``["ACTIVE"]``).

How the engine drives :class:`ChainDeploymentProvider` (one instance per process, shared by up
to four threads, unpickled from the ``__provider`` property):

* ``check`` validates inputs and names the property at fault; unknown values (preview) pass.
* ``create`` and ``update`` look up and gate. The resource id is ``CHAIN_ID/DEPLOYMENT_ID``.
* ``diff`` replaces on a changed chain, deployment id, environment or on a promotion that moved
  the environment to another deployment; otherwise it makes one GET and reports changes when the
  live deployment differs from the stored outputs or no longer passes the gate. So every
  ``pulumi up`` re-checks the gate instead of trusting stale state.
* ``read`` serves ``pulumi refresh`` and :meth:`ChainDeployment.get`; it does not gate.
* ``delete`` sends nothing: the deployment is not ours to delete.

Credentials come from ``configure`` (stack config ``baseten:apiKey``, ``baseten:apiUrl``) or the
environment. They are kept out of the pickle (see ``__getstate__``), never become an input and
never an output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import pulumi
import pulumi.dynamic as dyn
from pulumi.runtime import rpc

from . import connection, ids, models
from .client import BasetenClient
from .errors import InvalidInputError, NotFoundError
from .lookup import (
    LOOKUP_BY_ENVIRONMENT,
    LOOKUP_BY_ID,
    OUTPUT_KEYS,
    DeploymentQuery,
    deployment_outputs,
)
from .status import DEFAULT_READY
from .waiting import DEFAULT_TIMEOUT_SECONDS

INPUT_KEYS = ("chain_id", "chain_deployment_id", "environment", "wait_for", "timeout_seconds")
IDENTITY_KEYS = ("chain_id", "chain_deployment_id", "environment")
DEFAULT_WAIT_FOR: tuple[str, ...] = tuple(sorted(DEFAULT_READY))


def is_unknown(value: object) -> bool:
    """True for a value the engine does not know yet (preview), or a list holding one.

    The host deserializes with ``keep_unknowns``, which yields ``pulumi.output.Unknown``
    objects; older paths pass the ``rpc.UNKNOWN`` sentinel string. Both count.
    """
    if isinstance(value, list):
        return any(is_unknown(item) for item in value)
    return isinstance(value, pulumi.output.Unknown) or value == rpc.UNKNOWN


def _without_nulls(value: Any) -> Any:
    """Values as they come back from the wire, which drops null entries inside maps."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _query_from(props: Mapping[str, Any]) -> DeploymentQuery:
    """The query a property bag describes (missing wait_for/timeout take their defaults)."""
    wait_for = props.get("wait_for")
    return DeploymentQuery.parse(
        chain_id=props.get("chain_id"),
        chain_deployment_id=props.get("chain_deployment_id"),
        environment=props.get("environment"),
        wait_for=DEFAULT_WAIT_FOR if wait_for is None else wait_for,
        timeout_seconds=props.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
    )


def _resource_id(deployment: models.ChainDeployment) -> str:
    return f"{deployment.chain_id}/{deployment.id}"


class ChainDeploymentProvider(dyn.ResourceProvider):
    """The engine-facing half of :class:`ChainDeployment`. Holds no state worth pickling."""

    # Nothing sensitive is ever pickled (see __getstate__), so the provider need not be secret.
    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()
        self._api_key: str | None = None
        self._api_url: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        # The pickle is stored in Pulumi state: it must never carry configured credentials.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._api_key = None
        self._api_url = None

    def configure(self, req: dyn.ConfigureRequest) -> None:
        self._api_key = req.config.get(connection.CONFIG_API_KEY) or None
        self._api_url = req.config.get(connection.CONFIG_API_URL) or None

    def _client(self) -> BasetenClient:
        return connection.shared_client(self._api_key, self._api_url)

    # -- engine calls ------------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        inputs = {k: news[k] for k in INPUT_KEYS if k in news and news[k] is not None}
        failures = _check_failures(inputs)
        return dyn.CheckResult(inputs, failures)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        query = _query_from(props)
        deployment = query.resolve(
            self._client(),
            on_progress=lambda p: pulumi.log.info(str(p)),
            on_warning=pulumi.log.warn,
        )
        return dyn.CreateResult(_resource_id(deployment), deployment_outputs(query, deployment))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        query = _query_from(news)
        deployment = query.resolve(
            self._client(),
            on_progress=lambda p: pulumi.log.info(str(p)),
            on_warning=pulumi.log.warn,
        )
        return dyn.UpdateResult(deployment_outputs(query, deployment))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        unknown = [k for k in INPUT_KEYS if is_unknown(news.get(k))]
        if any(k in IDENTITY_KEYS for k in unknown):
            return dyn.DiffResult(changes=True, replaces=[k for k in unknown if k in IDENTITY_KEYS])
        if unknown:
            return dyn.DiffResult(changes=True)
        replaces = _identity_changes(olds, news)
        if replaces:
            return dyn.DiffResult(changes=True, replaces=replaces, delete_before_replace=False)
        query = _query_from(news)
        live = query.fetch(self._client())
        if live.id != olds.get("chain_deployment_id"):
            # The environment was promoted to another deployment: a different thing to read.
            return dyn.DiffResult(changes=True, replaces=["chain_deployment_id"])
        outputs = deployment_outputs(query, live)
        changed = [
            k for k in OUTPUT_KEYS if _without_nulls(olds.get(k)) != _without_nulls(outputs[k])
        ]
        gate_closed = bool(query.wait_for) and not outputs["ready"]
        return dyn.DiffResult(changes=bool(changed) or gate_closed, replaces=[])

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        chain_id, sep, deployment_id = (id_ or "").partition("/")
        if not sep:
            raise InvalidInputError(
                "id", f"{id_!r} is not of the form CHAIN_ID/CHAIN_DEPLOYMENT_ID"
            )
        stored = {k: props[k] for k in INPUT_KEYS if props.get(k) is not None}
        by_environment = props.get("lookup_by") == LOOKUP_BY_ENVIRONMENT and props.get(
            "environment"
        )
        if not by_environment:
            stored.pop("environment", None)
        # Refresh re-reads this very deployment, whatever the environment points at now.
        query = _query_from(
            {
                **stored,
                "chain_id": chain_id,
                "chain_deployment_id": deployment_id,
                "environment": None,
            }
        )
        try:
            deployment = query.fetch(self._client())
        except NotFoundError:
            return dyn.ReadResult(None, {})
        outputs = deployment_outputs(query, deployment)
        if by_environment:
            outputs["lookup_by"] = LOOKUP_BY_ENVIRONMENT
            inputs = {**stored, "chain_id": chain_id}
            inputs.pop("chain_deployment_id", None)
        else:
            inputs = {**stored, "chain_id": chain_id, "chain_deployment_id": deployment_id}
        inputs.setdefault("wait_for", list(DEFAULT_WAIT_FOR))
        return dyn.ReadResult(_resource_id(deployment), outputs, inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget the resource. Nothing is sent to Baseten: the deployment is not ours."""


def _identity_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Which identity inputs changed, judged against the stored outputs."""
    changes = []
    if olds.get("chain_id") != news.get("chain_id"):
        changes.append("chain_id")
    if news.get("chain_deployment_id") is not None:
        if (
            olds.get("lookup_by") != LOOKUP_BY_ID
            or olds.get("chain_deployment_id") != news["chain_deployment_id"]
        ):
            changes.append("chain_deployment_id")
    elif olds.get("lookup_by") != LOOKUP_BY_ENVIRONMENT or olds.get("environment") != news.get(
        "environment"
    ):
        changes.append("environment")
    return changes


_FIELD_CHECKS: dict[str, Callable[[Any], object]] = {
    "chain_id": lambda v: ids.check_id("chain_id", v),
    "chain_deployment_id": lambda v: ids.check_id("chain_deployment_id", v),
    "environment": lambda v: ids.check_id("environment", v),
    "wait_for": ids.check_wait_for,
    "timeout_seconds": ids.check_timeout,
}


def _check_failures(inputs: Mapping[str, Any]) -> list[dyn.CheckFailure]:
    """Validate what is known; unknown values (preview) are accepted as they are."""
    known = {k: v for k, v in inputs.items() if not is_unknown(v)}
    failures: list[dyn.CheckFailure] = []
    if "chain_id" not in inputs:
        failures.append(dyn.CheckFailure("chain_id", "chain_id is required"))
    try:
        # Present counts, unknown or not: an unknown id is still the one target.
        ids.check_one_target("chain_deployment_id" in inputs, "environment" in inputs)
    except InvalidInputError as exc:
        failures.append(dyn.CheckFailure(exc.field, exc.reason))
    # Each field on its own, so every bad property is reported, not just the first.
    for key, validate in _FIELD_CHECKS.items():
        if key in known:
            try:
                validate(known[key])
            except InvalidInputError as exc:
                failures.append(dyn.CheckFailure(key, exc.reason))
    return failures


class ChainDeploymentArgs:
    """The inputs of a :class:`ChainDeployment`, as in generated Pulumi SDKs."""

    def __init__(
        self,
        chain_id: pulumi.Input[str],
        chain_deployment_id: pulumi.Input[str] | None = None,
        environment: pulumi.Input[str] | None = None,
        wait_for: pulumi.Input[Sequence[pulumi.Input[str]]] | None = DEFAULT_WAIT_FOR,
        timeout_seconds: pulumi.Input[float] = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.chain_id = chain_id
        self.chain_deployment_id = chain_deployment_id
        self.environment = environment
        self.wait_for = wait_for
        self.timeout_seconds = timeout_seconds


class ChainDeployment(dyn.Resource, module="baseten", name="ChainDeployment"):
    """A Baseten chain deployment, read by id or by environment, optionally gated on readiness.

    ``wait_for`` lists the statuses counted as ready (default ``["ACTIVE"]``; ``[]`` or ``None``
    reads without waiting). ``timeout_seconds`` bounds the wait (default 900).
    """

    chain_id: pulumi.Output[str]
    chain_deployment_id: pulumi.Output[str]
    environment: pulumi.Output[str | None]
    lookup_by: pulumi.Output[str]
    wait_for: pulumi.Output[list[str]]
    timeout_seconds: pulumi.Output[float]
    status: pulumi.Output[str]
    created_at: pulumi.Output[str]
    ready: pulumi.Output[bool]
    chainlets: pulumi.Output[list[dict[str, Any]]]
    chainlets_by_name: pulumi.Output[dict[str, dict[str, Any]]]
    instance_types: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        resource_name: str,
        args: ChainDeploymentArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        chain_id: pulumi.Input[str] | None = None,
        chain_deployment_id: pulumi.Input[str] | None = None,
        environment: pulumi.Input[str] | None = None,
        wait_for: pulumi.Input[Sequence[pulumi.Input[str]]] | None = DEFAULT_WAIT_FOR,
        timeout_seconds: pulumi.Input[float] = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if args is None:
            if chain_id is None and (opts is None or opts.id is None):
                raise InvalidInputError("chain_id", "chain_id is required")
            args = ChainDeploymentArgs(
                chain_id=cast(pulumi.Input[str], chain_id),
                chain_deployment_id=chain_deployment_id,
                environment=environment,
                wait_for=wait_for,
                timeout_seconds=timeout_seconds,
            )
        props: dict[str, Any] = dict.fromkeys(OUTPUT_KEYS)
        props.update(
            chain_id=args.chain_id,
            chain_deployment_id=args.chain_deployment_id,
            environment=args.environment,
            # None would be dropped on the wire and then mean "the default"; [] means no wait.
            wait_for=[] if args.wait_for is None else args.wait_for,
            timeout_seconds=args.timeout_seconds,
        )
        super().__init__(ChainDeploymentProvider(), resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> ChainDeployment:
        """Read an existing deployment by ``"CHAIN_ID/CHAIN_DEPLOYMENT_ID"`` (no gate)."""
        merged = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        return ChainDeployment(resource_name, opts=merged, wait_for=[])

    @property
    def deployment(self) -> pulumi.Output[models.ChainDeployment]:
        """The outputs as the typed core model: integers are integers again after the wire."""
        return pulumi.Output.all(
            chain_id=self.chain_id,
            id=self.chain_deployment_id,
            environment=self.environment,
            status=self.status,
            created_at=self.created_at,
            chainlets=self.chainlets,
        ).apply(models.ChainDeployment.from_wire)
