"""The data sources ``baseten_chain_deployment`` and ``baseten_chain``.

Both are thin: validation, the lookup, the readiness gate and the outputs come from the core
(:mod:`provider.validation`, :class:`provider.lookup.DeploymentQuery`,
:func:`provider.outputs.deployment_outputs`, :mod:`provider.status`); this module only maps them
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

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .. import validation
from ..client import BasetenClient
from ..deadline import Deadline
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
from ..fields import model_fields
from ..inputs import (
    DEFAULT_TIMEOUT_SECONDS,
    INPUTS,
    INPUTS_BY_NAME,
    TARGETS,
    InputField,
    input_errors,
)
from ..lookup import DeploymentQuery
from ..models import Chain, ChainDeployment
from ..outputs import OUTPUTS, deployment_outputs
from ..status import wait_for_example
from . import diagnostics
from ._tf import (
    Attribute,
    Config,
    DataSource,
    Diagnostics,
    ReadDataContext,
    Schema,
    String,
    Unknown,
)
from .schema import tf_type

if TYPE_CHECKING:
    from .plugin import BasetenProvider

log = logging.getLogger(__name__)

API_KEY_HINT = (
    'set api_key in the provider "baseten" block (from a sensitive variable) or export '
    "BASETEN_API_KEY"
)


_MISSING = {"chain_id": "Chain", "environment": "Environment"}
"""What is missing when a 404 is the fault of this input (the summary's first word)."""


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
    if isinstance(exc, CancelledError):
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
        # The input at fault when the core knows it (a missing chain is chain_id's fault, not
        # the deployment's or the environment's), else the one the lookup went by.
        at_fault = exc.field if exc.field in schema_fields else lookup_field
        summary = f"{_MISSING.get(at_fault or '', kind)} not found"
        path = [at_fault] if at_fault else None
    elif isinstance(exc, TransportError):
        detail += ". Check api_url / BASETEN_API_URL, proxies and the network."
    elif isinstance(exc, DeploymentNotReadyError):
        name = exc.deployment.id if exc.deployment is not None else subject
        if isinstance(exc, DeploymentFailedError):
            summary, path = f"Chain deployment {name} will not become ready", ["wait_for"]
            if exc.accept:  # the way out, in HCL
                hcl = wait_for_example(exc.accept, assign=" = ")
                detail = detail.replace(wait_for_example(exc.accept), hcl)
        elif isinstance(exc, DeploymentTimeoutError):
            summary, path = f"Timed out waiting for chain deployment {name}", ["timeout_seconds"]
    diagnostics.error(diags, summary, detail, path=path)


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
            diagnostics.error(
                diags,
                f"Invalid {error.field}",
                error.reason,
                path=_attribute_path(error.field, fields),
            )


# -- baseten_chain_deployment --------------------------------------------------------------


def _input_values(config: Config) -> dict[str, Any]:
    """The lookup's inputs as configured (``None``: not set)."""
    return {spec.name: config.get(spec.name) for spec in INPUTS}


def deployment_config_errors(config: Config) -> list[InvalidInputError]:
    """Every problem with a ``baseten_chain_deployment`` configuration, unknowns tolerated
    (an unknown value may still turn out null: ``cond ? id : null``)."""
    return input_errors(_input_values(config), unknown=lambda v: not is_known(v))


def _argument(spec: InputField) -> Any:
    # chain_id is required; the lookup targets and the timeout are filled in when not given
    # (computed); wait_for comes back exactly as configured.
    filled = spec.name in TARGETS or spec.default is not None
    return Attribute(
        spec.name,
        tf_type(spec.type),
        required=spec.required,
        optional=not spec.required,
        computed=filled,
        description=spec.description,
    )


def deployment_attributes() -> list[Any]:
    """The arguments (:data:`provider.inputs.INPUTS`), ``id``, then every other output of
    :data:`provider.outputs.OUTPUTS` as a computed attribute."""
    return [
        *(_argument(spec) for spec in INPUTS),
        Attribute("id", String(), computed=True, description="The deployment's id."),
        *(
            Attribute(f.name, tf_type(f.type), computed=True, description=f.description)
            for f in OUTPUTS
            if f.name not in INPUTS_BY_NAME
        ),
    ]


def deployment_state(
    config: Config, query: DeploymentQuery, deployment: ChainDeployment
) -> dict[str, Any]:
    """Every attribute of ``baseten_chain_deployment`` for ``deployment``: arguments exactly as
    configured (the computed ones filled in when not given), then the outputs."""
    out = deployment_outputs(query, deployment)
    state: dict[str, Any] = {"id": out["chain_deployment_id"]}
    for f in OUTPUTS:
        configured = config.get(f.name) if f.name in INPUTS_BY_NAME else None
        if configured is not None or f.name == "wait_for":
            state[f.name] = configured
        else:
            # tf sends a data source's state as returned, without running the types'
            # encoders: encoding here makes each object carry exactly its attributes.
            state[f.name] = tf_type(f.type).encode(out[f.name])
    return state


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
            attributes=deployment_attributes(),
        )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        self._report(diags, deployment_config_errors(config))

    def read(self, ctx: ReadDataContext, config: Config) -> dict[str, Any] | None:
        diags = ctx.diagnostics
        warnings: list[str] = []
        query: DeploymentQuery | None = None
        try:
            query = DeploymentQuery.parse(_input_values(config))
            # One deadline for the read, waiting included; terraform's stop cancels it.
            deadline = Deadline.after(query.timeout_seconds, cancel=self.provider.stopping)
            deployment = query.resolve(
                self.provider.client(),
                deadline,
                on_progress=lambda p: log.info("%s", p),
                on_warning=warnings.append,
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
        self._warn(diags, warnings)
        return deployment_state(config, query, deployment)

    @staticmethod
    def _warn(diags: Diagnostics, warnings: list[str]) -> None:
        for message in warnings:
            diagnostics.warning(diags, "Chain deployment warning", message)


# -- baseten_chain -------------------------------------------------------------------------

_CHAIN_LOOKUP_FIELDS = ("id", "name")


def chain_config_errors(config: Config) -> list[InvalidInputError]:
    """Every problem with a ``baseten_chain`` configuration, unknowns tolerated."""
    chain_id, name = config.get("id"), config.get("name")
    errors: list[InvalidInputError] = []
    if chain_id is not None and is_known(chain_id):
        try:
            validation.check_id("id", chain_id)
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
            f.name,
            tf_type(f.type),
            optional=f.name in _CHAIN_LOOKUP_FIELDS,
            computed=True,
            description=docs.get(f.name, f.description or None),
        )
        for f in model_fields(model)
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
            # The same bound and stop as a deployment read.
            deadline = Deadline.after(DEFAULT_TIMEOUT_SECONDS, cancel=self.provider.stopping)
            chain = (
                client.get_chain(chain_id, deadline=deadline)
                if by_id
                else client.find_chain(name, deadline=deadline)
            )
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
