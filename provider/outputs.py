"""The lookup's outputs, declared once, and the one pair of conversions for engine values.

:data:`OUTPUTS` names every output, its type (in :mod:`provider.fields`' language) and its
description. The Python resource's attributes, the functions' result, Terraform's computed
attributes and the native plugin's schema (camelCase) all derive from it. The inputs come back
among the outputs (a resource's state must say what it was asked), so a front end can diff
and import from its outputs alone.

Engine values: Pulumi's engine drops null entries inside maps and turns every number into a
float. :func:`to_engine` puts a value in that canonical form (what the engine will store, so two
values compare equal exactly when the engine sees no change); :func:`from_engine` undoes it
for a declared type: nulls of declared nullable fields come back, integers are integers again.
``raw_json`` carries the deployment losslessly (fields no schema knows included);
:func:`deployment_from_outputs` rebuilds the typed model from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .fields import FieldType, ListOf, MapOf, ObjectOf, Scalar, camel, model_fields
from .inputs import INPUTS_BY_NAME, TARGETS
from .models import ChainDeployment, Chainlet, first_by_name

if TYPE_CHECKING:
    from .lookup import DeploymentQuery

LOOKUP_BY_ID, LOOKUP_BY_ENVIRONMENT = TARGETS
"""How a deployment was found: the name of the target input that named it."""

Compute = Callable[[Any, Any], Any]
"""How an output is computed from a read's query and its answer."""


@dataclass(frozen=True)
class OutputField:
    """One output: its name, type, description, whether it may be null, and how it is
    computed from the query and the answer (JSON-ready values; integers stay integers)."""

    name: str
    type: FieldType
    description: str
    compute: Compute
    nullable: bool = False

    @property
    def camel_name(self) -> str:
        return camel(self.name)


def _input(name: str) -> str:
    return INPUTS_BY_NAME[name].description


def _chainlets(_q: DeploymentQuery, d: ChainDeployment) -> list[dict[str, Any]]:
    return [c.to_api() for c in d.chainlets]


CHAINLET = ObjectOf(Chainlet)

OUTPUTS: tuple[OutputField, ...] = (
    OutputField("chain_id", Scalar.STRING, _input("chain_id"), lambda _q, d: d.chain_id),
    OutputField(
        "chain_deployment_id",
        Scalar.STRING,
        "The deployment's id (filled in when it was looked up by environment).",
        lambda _q, d: d.id,
    ),
    OutputField(
        "environment",
        Scalar.STRING,
        "The environment the deployment was looked up by, else the one it serves, or null.",
        lambda _q, d: d.environment,
        nullable=True,
    ),
    OutputField(
        "lookup_by",
        Scalar.STRING,
        f"How the deployment was found: `{LOOKUP_BY_ID}` or `{LOOKUP_BY_ENVIRONMENT}`.",
        lambda q, _d: q.lookup_by,
    ),
    OutputField(
        "wait_for", ListOf(Scalar.STRING), _input("wait_for"), lambda q, _d: sorted(q.wait_for)
    ),
    OutputField(
        "timeout_seconds",
        Scalar.NUMBER,
        _input("timeout_seconds"),
        lambda q, _d: q.timeout_seconds,
    ),
    OutputField(
        "status",
        Scalar.STRING,
        "The deployment's status, e.g. `ACTIVE` or `BUILDING` (an open set: Baseten may add "
        "statuses).",
        lambda _q, d: str(d.status),
    ),
    OutputField(
        "created_at",
        Scalar.STRING,
        "When the deployment was created (RFC 3339).",
        lambda _q, d: d.to_api()["created_at"],
    ),
    OutputField(
        "ready",
        Scalar.BOOLEAN,
        "The deployment and every chainlet are in `wait_for` (`ACTIVE` when it is empty).",
        lambda q, d: q.is_ready(d),
    ),
    OutputField(
        "chainlets",
        ListOf(CHAINLET),
        "Every chainlet with every `ChainletV1` field; `autoscaling_settings` is null while a "
        "chainlet is still deploying.",
        _chainlets,
    ),
    OutputField(
        "chainlets_by_name",
        MapOf(CHAINLET),
        "The chainlets by name (a name used twice keeps its first chainlet).",
        lambda _q, d: {n: c.to_api() for n, c in first_by_name(d.chainlets).items()},
    ),
    OutputField(
        "instance_types",
        MapOf(Scalar.STRING),
        "Chainlet name to instance type name.",
        lambda _q, d: d.instance_types,
    ),
    OutputField(
        "raw_json",
        Scalar.STRING,
        "The deployment as the API returned it (JSON text, with the environment it was looked "
        "up by), fields no schema types yet included: decode it for anything Baseten adds.",
        lambda _q, d: json.dumps(d.to_api(), sort_keys=True, separators=(",", ":")),
    ),
)

OUTPUTS_BY_NAME: Mapping[str, OutputField] = {f.name: f for f in OUTPUTS}


def model_outputs(
    model: type[BaseModel], pick: Callable[[Any, Any], Any]
) -> tuple[OutputField, ...]:
    """One output per field of ``model`` (declaration order), read from ``pick(query,
    answer)`` as the API sent it: a field added to the model becomes an output everywhere."""

    def compute(name: str) -> Compute:
        return lambda q, a: pick(q, a).to_api().get(name)

    return tuple(
        OutputField(f.name, f.type, f.description, compute(f.name), nullable=f.nullable)
        for f in model_fields(model)
    )


OUTPUT_NAMES: tuple[str, ...] = tuple(OUTPUTS_BY_NAME)


def deployment_outputs(query: DeploymentQuery, deployment: ChainDeployment) -> dict[str, Any]:
    """Every output of a lookup, as JSON-ready values (integers stay integers)."""
    return {f.name: f.compute(query, deployment) for f in OUTPUTS}


def deployment_from_outputs(outputs: Mapping[str, Any]) -> ChainDeployment:
    """The typed deployment an output set describes, losslessly (from ``raw_json``)."""
    return ChainDeployment.model_validate_json(outputs["raw_json"])


# -- engine values ----------------------------------------------------------------------------


def to_engine(value: Any) -> Any:
    """``value`` as the engine stores it: null entries inside maps dropped, recursively."""
    if isinstance(value, Mapping):
        return {k: to_engine(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [to_engine(v) for v in value]
    return value


def from_engine(field_type: FieldType, value: Any) -> Any:
    """A value of ``field_type`` back from the engine: integers restored, nulls of the
    declared nullable fields of objects put back. Extra fields pass as they are."""
    if value is None:
        return None
    if field_type is Scalar.INTEGER and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(field_type, ListOf) and isinstance(value, list | tuple):
        return [from_engine(field_type.item, v) for v in value]
    if isinstance(field_type, MapOf) and isinstance(value, Mapping):
        return {k: from_engine(field_type.item, v) for k, v in value.items()}
    if isinstance(field_type, ObjectOf) and isinstance(value, Mapping):
        restored = dict(value)
        for field in model_fields(field_type.model):
            if field.name in restored:
                restored[field.name] = from_engine(field.type, restored[field.name])
            elif field.nullable:
                restored[field.name] = None
        return restored
    return value
