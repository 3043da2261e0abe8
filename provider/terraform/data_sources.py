"""The data sources ``baseten_chain_deployment`` and ``baseten_chain``.

Both are thin: validation, the lookup, the readiness gate and the outputs come from the core
(:mod:`provider.ids`, :class:`provider.lookup.DeploymentQuery`,
:func:`provider.lookup.deployment_outputs`, :mod:`provider.status`); this module only maps them
onto Terraform's schema and diagnostics.

What a Terraform user may rely on:

* ``validate`` (``terraform validate``, and the start of every plan) rejects bad arguments
  before anything is sent: malformed ids, both or neither of ``chain_deployment_id`` /
  ``environment`` (``id`` / ``name`` for ``baseten_chain``), unknown statuses in ``wait_for``, a
  non-positive ``timeout_seconds``. Values not known yet (from resources, or variables during
  ``terraform validate``) are accepted and checked again at read time.
* ``read`` returns every attribute of the schema. Arguments come back as configured;
  ``chain_deployment_id`` and ``environment`` are filled in when they were not given, and
  ``timeout_seconds`` shows the bound in force (default 900).
* Without ``wait_for`` a read is one GET and reports the deployment as it is (``ready`` then
  means ACTIVE); with it, the read polls until the deployment *and* every chainlet are in
  ``wait_for``, fails at once on a status that will not get there, and gives up after
  ``timeout_seconds``.
* Every failure is an error diagnostic whose summary names the cause (invalid argument, API key
  rejected, not found, rate limited, server error, unreachable, unexpected response, will not
  become ready, timed out, interrupted) and whose detail carries the core's message: ids,
  chainlet names and statuses. No diagnostic, log line or attribute ever contains the API key.
* ``raw_json`` holds the whole deployment as the API sent it, fields that the static schema
  cannot type (added by Baseten later) included: ``jsondecode(...raw_json)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .. import ids
from ..client import BasetenClient
from ..errors import (
    AuthenticationError,
    CancelledError,
    DeploymentFailedError,
    DeploymentNotReadyError,
    DeploymentTimeoutError,
    InvalidInputError,
    NotFoundError,
    TransportError,
    one_line,
    presentation,
)
from ..lookup import DeploymentQuery, deployment_outputs
from ..models import Chain, ChainDeployment
from ..status import assess
from ..waiting import DEFAULT_TIMEOUT_SECONDS
from ._tf import (
    Attribute,
    Bool,
    Config,
    DataSource,
    Diagnostics,
    List,
    Map,
    Number,
    ReadDataContext,
    Schema,
    String,
    Unknown,
)
from .schema import CHAINLET, tf_type_for

if TYPE_CHECKING:
    from .plugin import BasetenProvider

log = logging.getLogger(__name__)

API_KEY_HINT = (
    'set api_key in the provider "baseten" block (from a sensitive variable) or export '
    "BASETEN_API_KEY"
)

class Interrupted(Exception):
    """Terraform asked the provider to stop while a read was waiting."""


def is_known(value: Any) -> bool:
    """Whether ``value`` is wholly known (no unknown inside a list or map either)."""
    if value is Unknown:
        return False
    if isinstance(value, list | tuple):
        return all(is_known(v) for v in value)
    if isinstance(value, Mapping):
        return all(is_known(v) for v in value.values())
    return True


def _attribute_path(field: str, schema_fields: Mapping[str, Any]) -> list[str] | None:
    # A path makes terraform underline the offending argument in the configuration; only
    # attributes of this schema qualify (the core also names e.g. "api_key" or "base_url").
    return [field] if field in schema_fields else None


def add_diagnostic(
    diags: Diagnostics,
    exc: Exception,
    *,
    kind: str,
    subject: str,
    lookup_field: str | None,
    schema_fields: Mapping[str, Any],
) -> None:
    """Turn an exception from the core into one error diagnostic that names its cause.

    The summary is the error's title from :data:`provider.errors.PRESENTATIONS`, made specific
    where Terraform knows more (``kind``: "Chain deployment" or "Chain"; the deployment's id);
    the detail is the core's message, plus Terraform's own hint where there is a fix to point
    at. A path makes terraform underline the argument at fault.
    """
    if isinstance(exc, Interrupted):
        exc = CancelledError(f"terraform stopped the provider while reading {subject}")
    summary = presentation(exc).title
    detail = one_line(exc)
    path: list[str] | None = None
    if isinstance(exc, InvalidInputError):
        detail = exc.reason
        if exc.field == "api_key":
            summary, detail = "No usable Baseten API key", f"{exc.reason}; {API_KEY_HINT}."
        elif exc.field == "base_url":
            summary = "Invalid Baseten API URL (api_url / BASETEN_API_URL)"
        else:
            summary, path = f"Invalid {exc.field}", _attribute_path(exc.field, schema_fields)
    elif isinstance(exc, AuthenticationError):
        summary += f" (HTTP {exc.status})"
        detail = (
            f"Reading {subject}, Baseten said: {exc.message}. To fix it, {API_KEY_HINT}, with a "
            "key that can see this chain."
        )
    elif isinstance(exc, NotFoundError):
        summary, path = f"{kind} not found", [lookup_field] if lookup_field else None
    elif isinstance(exc, TransportError):
        detail += ". Check api_url / BASETEN_API_URL, proxies and the network."
    elif isinstance(exc, DeploymentNotReadyError):
        name = exc.deployment.id if exc.deployment is not None else subject
        if isinstance(exc, DeploymentFailedError):
            summary, path = f"Chain deployment {name} will not become ready", ["wait_for"]
        elif isinstance(exc, DeploymentTimeoutError):
            summary, path = f"Timed out waiting for chain deployment {name}", ["timeout_seconds"]
    diags.add_error(summary, detail, path=path)


class _BasetenDataSource(DataSource):  # type: ignore[misc]  # tf is untyped: Any to mypy
    """Shared plumbing: the provider (for the client), attribute names of the schema."""

    def __init__(self, provider: BasetenProvider) -> None:
        self.provider = provider

    @classmethod
    def schema_fields(cls) -> dict[str, Any]:
        return {a.name: a for a in cls.get_schema().attributes}

    def _report(self, diags: Diagnostics, errors: list[InvalidInputError]) -> None:
        fields = self.schema_fields()
        for error in errors:
            diags.add_error(
                f"Invalid {error.field}", error.reason, path=_attribute_path(error.field, fields)
            )


# -- baseten_chain_deployment --------------------------------------------------------------

_ID_FIELDS = ("chain_id", "chain_deployment_id", "environment")


def deployment_config_errors(config: Config) -> list[InvalidInputError]:
    """Every problem with a ``baseten_chain_deployment`` configuration, unknowns tolerated."""
    errors: list[InvalidInputError] = []
    checks: list[tuple[str, Callable[[Any], object]]] = [
        *((field, lambda v, f=field: ids.check_id(f, v)) for field in _ID_FIELDS),
        ("wait_for", ids.check_wait_for),
        ("timeout_seconds", ids.check_timeout),
    ]
    for field, check in checks:
        value = config.get(field)
        if value is None or not is_known(value):
            continue
        try:
            check(value)
        except InvalidInputError as exc:
            errors.append(exc)
    deployment, environment = config.get("chain_deployment_id"), config.get("environment")
    # An unknown value may still turn out null (`cond ? id : null`): judge known values only.
    if is_known(deployment) and is_known(environment):
        try:
            ids.check_one_target(deployment is not None, environment is not None)
        except InvalidInputError as exc:
            errors.append(exc)
    return errors


def _configured_or(config: Config, field: str, outputs: Mapping[str, Any]) -> Any:
    value = config.get(field)
    return value if value is not None else outputs[field]


def deployment_state(
    config: Config, query: DeploymentQuery, deployment: ChainDeployment
) -> dict[str, Any]:
    """Every attribute of ``baseten_chain_deployment`` for ``deployment``."""
    out = deployment_outputs(query, deployment)
    timeout = config.get("timeout_seconds")
    return {
        # Arguments come back exactly as configured; the optional+computed ones are filled in.
        "chain_id": config.get("chain_id"),
        "chain_deployment_id": _configured_or(config, "chain_deployment_id", out),
        "environment": _configured_or(config, "environment", out),
        "wait_for": config.get("wait_for"),
        "timeout_seconds": timeout if timeout is not None else out["timeout_seconds"],
        "id": out["chain_deployment_id"],
        "status": out["status"],
        "created_at": out["created_at"],
        "ready": out["ready"],
        # tf sends a data source's state as returned, without running the types' encoders:
        # encoding here is what makes each chainlet carry exactly the object's attributes.
        "chainlets": List(CHAINLET).encode(out["chainlets"]),
        "instance_types": out["instance_types"],
        "raw_json": json.dumps(deployment.to_api(), sort_keys=True, separators=(",", ":")),
    }


class ChainDeploymentDataSource(_BasetenDataSource):
    """``baseten_chain_deployment``: one chain deployment, by id or by environment."""

    @classmethod
    def get_name(cls) -> str:
        return "chain_deployment"

    @classmethod
    def get_schema(cls) -> Any:
        return Schema(
            description="A Baseten chain deployment (by id, or the current deployment of an "
            "environment), its chainlets and their autoscaling settings; optionally waits "
            "until it is ready.",
            attributes=[
                Attribute("chain_id", String(), required=True, description="The chain's id."),
                Attribute(
                    "chain_deployment_id",
                    String(),
                    optional=True,
                    computed=True,
                    description="The deployment to read. Exactly one of this and "
                    "`environment`; filled in when reading by environment.",
                ),
                Attribute(
                    "environment",
                    String(),
                    optional=True,
                    computed=True,
                    description="Read the environment's current deployment (e.g. "
                    "`production`). Exactly one of this and `chain_deployment_id`; filled "
                    "in (possibly null) when reading by id.",
                ),
                Attribute(
                    "wait_for",
                    List(String()),
                    optional=True,
                    description="Wait until the deployment and every chainlet have one of "
                    'these statuses (e.g. `["ACTIVE"]`). Unset or empty: read once, no wait.',
                ),
                Attribute(
                    "timeout_seconds",
                    Number(),
                    optional=True,
                    computed=True,
                    description="Give up waiting after this many seconds (default 900).",
                ),
                Attribute("id", String(), computed=True, description="The deployment's id."),
                Attribute(
                    "status",
                    String(),
                    computed=True,
                    description="The deployment's status, e.g. `ACTIVE`, `BUILDING`.",
                ),
                Attribute("created_at", String(), computed=True, description="RFC 3339 timestamp."),
                Attribute(
                    "ready",
                    Bool(),
                    computed=True,
                    description="The deployment and every chainlet are in `wait_for` "
                    "(`ACTIVE` when `wait_for` is unset).",
                ),
                Attribute(
                    "chainlets",
                    List(CHAINLET),
                    computed=True,
                    description="Every chainlet with every `ChainletV1` field; "
                    "`autoscaling_settings` is null while a chainlet is still deploying.",
                ),
                Attribute(
                    "instance_types",
                    Map(String()),
                    computed=True,
                    description="Chainlet name to instance type name.",
                ),
                Attribute(
                    "raw_json",
                    String(),
                    computed=True,
                    description="The deployment as the API returned it, including fields "
                    "this schema does not type; read it with `jsondecode()`.",
                ),
            ],
        )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        self._report(diags, deployment_config_errors(config))

    def read(self, ctx: ReadDataContext, config: Config) -> dict[str, Any] | None:
        diags = ctx.diagnostics
        warnings: list[str] = []
        query: DeploymentQuery | None = None
        try:
            timeout = config.get("timeout_seconds")
            query = DeploymentQuery.parse(
                config.get("chain_id"),
                config.get("chain_deployment_id"),
                config.get("environment"),
                config.get("wait_for"),
                timeout if timeout is not None else DEFAULT_TIMEOUT_SECONDS,
            )
            deployment = query.resolve(
                self.provider.client(),
                on_progress=log.info,
                on_warning=warnings.append,
                sleep=self.provider.sleep,
            )
        except Exception as exc:
            self._warn(diags, warnings)
            add_diagnostic(
                diags,
                exc,
                kind="Chain deployment",
                subject=query.describe() if query is not None else "the chain deployment",
                lookup_field=query.lookup_by if query is not None else None,
                schema_fields=self.schema_fields(),
            )
            return None
        if not query.wait_for:
            # resolve() warns about undocumented statuses only while waiting; a plain read
            # reports them too, so a user comparing `status` knows it may be a new value.
            warnings += [
                f"deployment {deployment.id} reports status {status!r}, which this provider "
                "does not know"
                for status in assess(deployment).unknown_statuses
            ]
        self._warn(diags, warnings)
        return deployment_state(config, query, deployment)

    @staticmethod
    def _warn(diags: Diagnostics, warnings: list[str]) -> None:
        for message in warnings:
            diags.add_warning("Undocumented deployment status", message)


# -- baseten_chain -------------------------------------------------------------------------

_CHAIN_LOOKUP_FIELDS = ("id", "name")


def chain_config_errors(config: Config) -> list[InvalidInputError]:
    """Every problem with a ``baseten_chain`` configuration, unknowns tolerated."""
    chain_id, name = config.get("id"), config.get("name")
    errors: list[InvalidInputError] = []
    if chain_id is not None and is_known(chain_id):
        try:
            ids.check_id("id", chain_id)
        except InvalidInputError as exc:
            errors.append(exc)
    if name is not None and is_known(name) and not name.strip():
        errors.append(InvalidInputError("name", "must be a non-empty string"))
    if is_known(chain_id) and is_known(name):
        if chain_id is not None and name is not None:
            errors.append(InvalidInputError("name", "give either id or name, not both"))
        elif chain_id is None and name is None:
            errors.append(InvalidInputError("id", "one of id or name is required"))
    return errors


def _chain_attributes(model: type[BaseModel]) -> list[Any]:
    # Derived from the model, so a field added to provider.models.Chain shows up here too.
    docs = {
        "id": "The chain's id. Exactly one of this and `name`.",
        "name": "The chain's name (unique within a team). Exactly one of this and `id`.",
    }
    return [
        Attribute(
            name,
            tf_type_for(info.annotation, f"{model.__name__}.{name}"),
            optional=name in _CHAIN_LOOKUP_FIELDS,
            computed=True,
            description=docs.get(name),
        )
        for name, info in model.model_fields.items()
    ]


class ChainDataSource(_BasetenDataSource):
    """``baseten_chain``: a chain, by id or by name."""

    @classmethod
    def get_name(cls) -> str:
        return "chain"

    @classmethod
    def get_schema(cls) -> Any:
        return Schema(
            description="A Baseten chain, by id or by name.",
            attributes=_chain_attributes(Chain),
        )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        self._report(diags, chain_config_errors(config))

    def read(self, ctx: ReadDataContext, config: Config) -> dict[str, Any] | None:
        chain_id, name = config.get("id"), config.get("name")
        by_id = chain_id is not None
        subject = f"chain {chain_id!r}" if by_id else f"the chain named {name!r}"
        try:
            errors = chain_config_errors(config)
            if errors:
                raise errors[0]
            client: BasetenClient = self.provider.client()
            chain = client.get_chain(chain_id) if by_id else client.find_chain(name)
        except Exception as exc:
            add_diagnostic(
                ctx.diagnostics,
                exc,
                kind="Chain",
                subject=subject,
                lookup_field="id" if by_id else "name",
                schema_fields=self.schema_fields(),
            )
            return None
        api = chain.to_api()
        return {name: api.get(name) for name in self.schema_fields()}
