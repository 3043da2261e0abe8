"""Typed models of what the Baseten chains API returns (pydantic v2).

``ChainDeployment``, ``Chainlet`` and ``AutoscalingSettings`` follow the OpenAPI schemas
``ChainDeploymentV1``, ``ChainletV1`` and ``AutoscalingSettingsV1`` field for field. The API
drifts, so the models are forgiving where Baseten is known to change and strict where a wrong
value would mislead:

* unknown extra fields are kept (``model_extra``) and dumped back out;
* optional fields may be missing;
* ``status`` is open: a known value parses to a :class:`DeploymentStatus` member, any other
  string is kept as a plain ``str`` (see :func:`is_known_status`);
* a missing required field or a wrong type raises ``pydantic.ValidationError``, which the client
  turns into a :class:`~provider.errors.ResponseFormatError` naming the field.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self, get_args

from pydantic import BaseModel, ConfigDict, Field


class DeploymentStatus(enum.StrEnum):
    """The 14 statuses of ``DeploymentStatusV1``. Compares equal to its string value."""

    BUILDING = "BUILDING"
    DEPLOYING = "DEPLOYING"
    DEPLOY_FAILED = "DEPLOY_FAILED"
    LOADING_MODEL = "LOADING_MODEL"
    ACTIVE = "ACTIVE"
    UNHEALTHY = "UNHEALTHY"
    BUILD_FAILED = "BUILD_FAILED"
    BUILD_STOPPED = "BUILD_STOPPED"
    DEACTIVATING = "DEACTIVATING"
    INACTIVE = "INACTIVE"
    FAILED = "FAILED"
    UPDATING = "UPDATING"
    SCALED_TO_ZERO = "SCALED_TO_ZERO"
    WAKING_UP = "WAKING_UP"


KNOWN_STATUSES: frozenset[str] = frozenset(s.value for s in DeploymentStatus)

# left_to_right: a known value must become the enum member, not stay an equal plain str.
Status = Annotated[DeploymentStatus | str, Field(union_mode="left_to_right")]
"""A status as parsed: a :class:`DeploymentStatus` when known, else the raw string."""


def is_known_status(status: str) -> bool:
    """True for the 14 documented statuses, False for anything Baseten added since."""
    return status in KNOWN_STATUSES


class _ApiModel(BaseModel):
    # extra="allow": fields Baseten adds later survive a round trip instead of vanishing.
    model_config = ConfigDict(extra="allow", frozen=True)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from values that crossed the Pulumi engine.

        The engine drops null entries inside maps and turns integers into floats; this puts the
        nulls back for the nullable fields and lets validation turn 3.0 back into 3.
        """
        return cls.model_validate(_restore_nulls(cls, data))

    def to_api(self) -> dict[str, Any]:
        """The JSON-ready dict with the API's field names, extra fields included."""
        return self.model_dump(mode="json")


def _nested_model(annotation: Any) -> type[_ApiModel] | None:
    for arg in (annotation, *get_args(annotation)):
        for candidate in (arg, *get_args(arg)):
            if isinstance(candidate, type) and issubclass(candidate, _ApiModel):
                return candidate
    return None


def _restore_nulls(model: type[_ApiModel], data: Mapping[str, Any]) -> dict[str, Any]:
    restored = dict(data)
    for name, info in model.model_fields.items():
        nested = _nested_model(info.annotation)
        value = restored.get(name)
        if name not in restored:
            if type(None) in get_args(info.annotation):
                restored[name] = None
        elif nested is not None and isinstance(value, Mapping):
            restored[name] = _restore_nulls(nested, value)
        elif nested is not None and isinstance(value, list):
            restored[name] = [
                _restore_nulls(nested, v) if isinstance(v, Mapping) else v for v in value
            ]
    return restored


class AutoscalingSettings(_ApiModel):
    """``AutoscalingSettingsV1``: how a chainlet scales. ``None`` means the server default."""

    min_replica: int
    max_replica: int
    autoscaling_window: int | None
    scale_down_delay: int | None
    concurrency_target: int
    # Missing in older API versions (see the notes on schema drift).
    target_utilization_percentage: int | None = None
    target_in_flight_tokens: int | None = None


class Chainlet(_ApiModel):
    """``ChainletV1``: one chainlet of a deployment."""

    id: str
    name: str
    autoscaling_settings: AutoscalingSettings | None = Field(
        description="None while the chainlet has not finished deploying."
    )
    instance_type_name: str
    active_replica_count: int
    status: Status


class ChainDeployment(_ApiModel):
    """``ChainDeploymentV1``: a deployment of a chain, with its chainlets."""

    id: str
    created_at: datetime
    chain_id: str
    environment: str | None
    chainlets: list[Chainlet]
    status: Status

    def chainlet(self, name: str) -> Chainlet:
        """The chainlet called ``name``; ``KeyError`` if there is none."""
        for chainlet in self.chainlets:
            if chainlet.name == name:
                return chainlet
        raise KeyError(name)

    @property
    def instance_types(self) -> dict[str, str]:
        """Chainlet name to instance type name."""
        return {c.name: c.instance_type_name for c in self.chainlets}


class Chain(_ApiModel):
    """``ChainV1``: a chain (``GET /v1/chains/{chain_id}``)."""

    id: str
    name: str
    created_at: datetime | None = None
    deployments_count: int | None = None
    team_name: str | None = None


class ChainEnvironment(_ApiModel):
    """``ChainEnvironmentV1``: an environment and the deployment it currently serves."""

    name: str
    chain_id: str
    current_deployment: ChainDeployment | None
    candidate_deployment: ChainDeployment | None = None
    created_at: datetime | None = None
    promotion_settings: dict[str, Any] | None = None
    chainlet_settings: Any = None
