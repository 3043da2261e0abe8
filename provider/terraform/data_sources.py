"""One data source per read of the catalog: ``baseten_chain_deployment``, ``baseten_chain``,
``baseten_chain_environments``, ... (:data:`provider.reads.READS`).

Each is derived from its read's declaration (:func:`data_source`): the arguments are the read's
inputs (``baseten_chain`` keeps its ``id``/``name`` for ``chain_id``/``chain_name``), the
computed attributes its outputs, the description its description. Validation, the lookup,
the readiness gate and the outputs come from the core; this module only maps them onto
Terraform's schema and diagnostics.

What a Terraform user may rely on:

* ``validate`` (``terraform validate``, and the start of every plan) rejects bad arguments
  before anything is sent: malformed ids, both or neither of ``chain_id`` / ``chain_name``
  (``id`` / ``name`` for ``baseten_chain``) or of ``chain_deployment_id`` / ``environment``,
  unknown statuses in ``wait_for``, a non-positive ``timeout_seconds``. Values not known yet
  (from resources, or variables during ``terraform validate``) are accepted and checked again
  at read time.
* ``read`` returns every attribute of the schema. Arguments come back as configured; those
  with an output of the same name (``chain_id``, ``chain_deployment_id``, ``environment``,
  ``timeout_seconds``) are filled in from it when they were not given.
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
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..catalog import Hooks, Read
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
from ..inputs import InputField
from ..reads import READS
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
from .tf_types import tf_type

if TYPE_CHECKING:
    from .provider import TerraformProvider

log = logging.getLogger(__name__)

API_KEY_HINT = (
    'set api_key in the provider "baseten" block (from a sensitive variable) or export '
    "BASETEN_API_KEY"
)


_MISSING = {"chain_id": "Chain", "chain_name": "Chain", "environment": "Environment"}
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


class ReadDataSource(DataSource):  # type: ignore[misc]  # tf is untyped: Any to mypy
    """The data source of one read (:attr:`catalog_read`); :func:`data_source` makes one
    subclass per read."""

    catalog_read: Read[Any, Any]

    def __init__(self, provider: TerraformProvider) -> None:
        self.provider = provider

    # -- names: the read's, or Terraform's where the read renames them ------------------------

    @classmethod
    def tf_name(cls, name: str) -> str:
        return cls.catalog_read.terraform_names.get(name, name)

    @classmethod
    def renamed(cls, exc: InvalidInputError) -> InvalidInputError:
        """``exc`` in Terraform's names (``baseten_chain`` says ``id``, not ``chain_id``)."""
        names = cls.catalog_read.terraform_names
        if not names:
            return exc
        words = re.compile(r"\b(" + "|".join(names) + r")\b")
        return InvalidInputError(
            cls.tf_name(exc.field), words.sub(lambda m: names[m.group(1)], exc.reason)
        )

    # -- schema -------------------------------------------------------------------------------

    @classmethod
    def get_name(cls) -> str:
        return cls.catalog_read.name

    @classmethod
    def _filled(cls, spec: InputField) -> bool:
        if cls.tf_name(spec.name) != spec.name:
            return cls.tf_name(spec.name) in cls.catalog_read.output_names
        if spec.filled is not None:
            return spec.filled
        return spec.name in cls.catalog_read.output_names

    @classmethod
    def get_schema(cls) -> Any:
        read = cls.catalog_read
        attributes = [
            Attribute(
                cls.tf_name(spec.name),
                tf_type(spec.type),
                required=spec.required,
                optional=not spec.required,
                computed=cls._filled(spec),
                description=spec.description,
            )
            for spec in read.inputs
        ]
        names = {a.name for a in attributes}
        if "id" not in names and "id" not in read.output_names:
            attributes.append(
                Attribute("id", String(), computed=True, description=f"The `{read.id_output}`.")
            )
        attributes += [
            Attribute(f.name, tf_type(f.type), computed=True, description=f.description)
            for f in read.outputs
            if f.name not in names
        ]
        return Schema(description=read.description, attributes=attributes)

    @classmethod
    def schema_fields(cls) -> dict[str, Any]:
        return {a.name: a for a in cls.get_schema().attributes}

    # -- validate and read ----------------------------------------------------------------------

    @classmethod
    def values(cls, config: Config) -> dict[str, Any]:
        """The read's inputs as configured (``None``: not set), by the read's names."""
        return {spec.name: config.get(cls.tf_name(spec.name)) for spec in cls.catalog_read.inputs}

    @classmethod
    def config_errors(cls, config: Config) -> list[InvalidInputError]:
        """Every problem with a configuration, unknowns tolerated (an unknown value may still
        turn out null: ``cond ? id : null``), in Terraform's names."""
        _, errors = cls.catalog_read.check(cls.values(config), unknown=lambda v: not is_known(v))
        return [cls.renamed(e) for e in errors]

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        fields = self.schema_fields()
        for error in self.config_errors(config):
            diagnostics.error(
                diags,
                f"Invalid {error.field}",
                error.reason,
                path=_attribute_path(error.field, fields),
            )

    def read(self, ctx: ReadDataContext, config: Config) -> dict[str, Any] | None:
        read = self.catalog_read
        diags = ctx.diagnostics
        warnings: list[str] = []
        query: Any = None
        try:
            query = read.parse(self.values(config))
            # One deadline for the read, waiting included; terraform's stop cancels it.
            deadline = Deadline.after(query.timeout_seconds, cancel=self.provider.stopping)
            hooks = Hooks(on_warning=warnings.append, on_progress=lambda p: log.info("%s", p))
            answer = read.run(query, self.provider.client(), deadline, hooks)
        except Exception as exc:
            self._warn(diags, warnings)
            field = read.lookup_field(query)
            add_diagnostic(
                diags,
                self.renamed(exc) if isinstance(exc, InvalidInputError) else exc,
                kind=read.title,
                subject=query.describe() if query is not None else f"the {read.title.lower()}",
                lookup_field=self.tf_name(field) if field else None,
                schema_fields=self.schema_fields(),
            )
            return None
        self._warn(diags, warnings)
        return self.state(config, read.outputs_of(query, answer))

    @classmethod
    def state(cls, config: Config, outputs: dict[str, Any]) -> dict[str, Any]:
        """Every attribute for a read's ``outputs``: arguments exactly as configured (those
        filled in from an output when not given), then the outputs."""
        read = cls.catalog_read
        state: dict[str, Any] = {}
        types = {f.name: f.type for f in read.outputs}
        for name, attribute in cls.schema_fields().items():
            spec = next((s for s in read.inputs if cls.tf_name(s.name) == name), None)
            configured = config.get(name) if spec is not None else None
            if configured is not None or (spec is not None and not cls._filled(spec)):
                state[name] = configured
            elif name == "id" and name not in types:
                state[name] = outputs[read.id_output]
            else:
                # tf sends a data source's state as returned, without running the types'
                # encoders: encoding here makes each object carry exactly its attributes.
                state[name] = attribute.type.encode(outputs[name])
        return state

    @classmethod
    def _warn(cls, diags: Diagnostics, warnings: list[str]) -> None:
        for message in warnings:
            diagnostics.warning(diags, f"{cls.catalog_read.title} warning", message)


def data_source(read: Read[Any, Any]) -> type[ReadDataSource]:
    """The data source class of ``read`` (``baseten_`` + its name)."""
    return type(
        f"{''.join(p.capitalize() for p in read.name.split('_'))}DataSource",
        (ReadDataSource,),
        {"catalog_read": read, "__doc__": f"``baseten_{read.name}``: {read.summary}."},
    )


DATA_SOURCES: tuple[type[ReadDataSource], ...] = tuple(data_source(read) for read in READS)
"""Every data source, one per read."""
DATA_SOURCES_BY_NAME = {cls.get_name(): cls for cls in DATA_SOURCES}
