"""Typed models of what the Baseten chains API returns (pydantic v2).

``ChainDeployment``, ``Chainlet`` and ``AutoscalingSettings`` follow the OpenAPI schemas
``ChainDeploymentV1``, ``ChainletV1`` and ``AutoscalingSettingsV1`` field for field. The API
drifts, so the models are forgiving where Baseten is known to change and strict where a wrong
value would mislead:

* unknown extra fields are kept (``model_extra``) and dumped back out;
* optional fields may be missing;
* the ids that become ids of ours (:data:`ApiId`) pass the same check as a user's;
* integers must be JSON integers (no strings, booleans or fractions) and ``created_at`` an
  RFC 3339 timestamp with an offset, as the seed says: a coerced value would mislead;
* ``status`` is open: a known value parses to a :class:`DeploymentStatus` member, any other
  string is kept as a plain ``str`` (see :func:`is_known_status`);
* a missing required field or a wrong type raises ``pydantic.ValidationError``, which the client
  turns into a :class:`~provider.errors.ResponseFormatError` naming the field.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from .errors import InvalidInputError, UnknownNameError
from .ids import check_id


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


def _rfc3339(value: object) -> object:
    # pydantic would also take a Unix number or a naive "2026-01-01T00:00:00"; the API sends
    # RFC 3339 with an offset, and anything else is a different, ambiguous instant.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 timestamp with a time zone offset")
    return value


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")

Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
"""An RFC 3339 timestamp with an offset, as ``created_at`` is sent."""

Count = Annotated[int, Field(strict=True)]
"""A JSON integer: ``"1_000"``, ``"3"``, ``true`` or ``3.5`` are refused, not coerced."""


def _api_id(value: str) -> str:
    try:
        check_id("id", value)
    except InvalidInputError as exc:
        raise ValueError(f"not a usable id: it {exc.reason}") from None
    return value  # as answered: a plain string, not an input's Id


ApiId = Annotated[str, AfterValidator(_api_id)]
"""An id the API answers with that becomes an id of ours (a resource id, a URL segment, an
input of a later call): it must pass the same :func:`~provider.ids.check_id` as a user's, so
``a/b``, ``../x`` or a 10 KB id is a format error, not a resource that no read finds."""


class _ApiModel(BaseModel):
    # extra="allow": fields Baseten adds later survive a round trip instead of vanishing.
    model_config = ConfigDict(extra="allow", frozen=True)

    def to_api(self) -> dict[str, Any]:
        """The JSON-ready dict as the API sent it: its field names, extra fields included,
        optional fields it left out still left out."""
        return self.model_dump(mode="json", exclude_unset=True)


class AutoscalingSettings(_ApiModel):
    """``AutoscalingSettingsV1``: how a chainlet scales. ``None`` means the server default."""

    min_replica: Count = Field(description="Minimum number of replicas (0: scale to zero).")
    max_replica: Count = Field(description="Maximum number of replicas.")
    autoscaling_window: Count | None = Field(
        description="Seconds of traffic considered for autoscaling decisions."
    )
    scale_down_delay: Count | None = Field(
        description="Seconds to wait before scaling down an active replica."
    )
    concurrency_target: Count = Field(description="Requests per replica before scaling up.")
    # Missing in older API versions (see the notes on schema drift).
    target_utilization_percentage: Count | None = Field(
        default=None, description="Target utilization percentage for scaling up or down."
    )
    target_in_flight_tokens: Count | None = Field(
        default=None, description="Target number of in-flight tokens (early access only)."
    )
    # Newer API versions only.
    max_scale_down_rate: Annotated[Count, Field(ge=1, le=50)] | None = Field(
        default=None, description="Most replicas removed in one scale-down step (1 to 50)."
    )


class Chainlet(_ApiModel):
    """``ChainletV1``: one chainlet of a deployment."""

    id: str = Field(description="The chainlet's id.")
    name: str = Field(description="The chainlet's name.")
    autoscaling_settings: AutoscalingSettings | None = Field(
        description="How the chainlet scales; null while it has not finished deploying."
    )
    instance_type_name: str = Field(description="The instance type it runs on, e.g. L4:4x16.")
    active_replica_count: Count = Field(description="Replicas running now.")
    status: Status = Field(description="The chainlet's status, e.g. ACTIVE or BUILDING.")


def first_by_name(chainlets: Iterable[Chainlet]) -> dict[str, Chainlet]:
    """Chainlets by name; a name that appears twice keeps its first chainlet (every map of
    chainlets follows this rule, and the lookup warns about it, see :func:`duplicate_names`)."""
    found: dict[str, Chainlet] = {}
    for chainlet in chainlets:
        found.setdefault(chainlet.name, chainlet)
    return found


def duplicate_names(chainlets: Iterable[Chainlet]) -> list[str]:
    """Names shared by more than one chainlet, sorted."""
    seen: set[str] = set()
    repeated: set[str] = set()
    for chainlet in chainlets:
        (repeated if chainlet.name in seen else seen).add(chainlet.name)
    return sorted(repeated)


class ChainDeployment(_ApiModel):
    """``ChainDeploymentV1``: a deployment of a chain, with its chainlets."""

    # Its schema type is "Deployment": "ChainDeployment" is the resource's name.
    model_config = ConfigDict(extra="allow", frozen=True, title="Deployment")

    id: ApiId = Field(description="The deployment's id.")
    created_at: Timestamp = Field(description="When it was created (RFC 3339).")
    chain_id: ApiId = Field(description="The chain's id.")
    environment: str | None = Field(
        description="The environment it serves (e.g. production), or null."
    )
    chainlets: list[Chainlet] = Field(description="Its chainlets.")
    status: Status = Field(description="The deployment's status, e.g. ACTIVE or BUILDING.")

    def chainlet(self, name: str) -> Chainlet:
        """The chainlet called ``name`` (the first, if several are);
        :class:`~provider.errors.UnknownNameError` (a ``KeyError``) if none."""
        found = first_by_name(self.chainlets).get(name)
        if found is None:
            raise UnknownNameError(f"deployment {self.id} has no chainlet named {name!r}")
        return found

    @property
    def instance_types(self) -> dict[str, str]:
        """Chainlet name to instance type name (see :func:`first_by_name` for duplicates)."""
        return {n: c.instance_type_name for n, c in first_by_name(self.chainlets).items()}


class Chain(_ApiModel):
    """``ChainV1``: a chain (``GET /v1/chains/{chain_id}``, or an entry of ``GET /v1/chains``)."""

    id: ApiId = Field(description="The chain's id.")
    name: str = Field(description="The chain's name (unique within a team).")
    created_at: Timestamp | None = Field(
        default=None, description="When the chain was created (RFC 3339)."
    )
    deployments_count: Count | None = Field(
        default=None, description="How many deployments the chain has."
    )
    team_name: str | None = Field(default=None, description="The team that owns the chain.")


class ChainList(_ApiModel):
    """The body of ``GET /v1/chains``."""

    chains: list[Chain] = Field(description="Every chain the API key can see.")


class ChainEnvironment(_ApiModel):
    """``ChainEnvironmentV1``: an environment and the deployment it currently serves.

    Read tolerantly (the published example of the list differs from the schema): only
    ``name`` is required. Settings this package does not type (``promotion_settings``,
    ``chainlet_settings``, ...) are kept as extra fields."""

    name: str = Field(description="The environment's name, e.g. production.")
    chain_id: ApiId | None = Field(default=None, description="The chain's id.")
    created_at: Timestamp | None = Field(
        default=None, description="When the environment was created (RFC 3339)."
    )
    current_deployment: ChainDeployment | None = Field(
        default=None,
        description="The deployment the environment serves, or null (nothing promoted yet).",
    )
    candidate_deployment: ChainDeployment | None = Field(
        default=None, description="A deployment being promoted to the environment, or null."
    )


class ChainEnvironmentList(_ApiModel):
    """The body of ``GET /v1/chains/{chain_id}/environments``."""

    environments: list[ChainEnvironment] = Field(description="The chain's environments.")


class ChainDeploymentList(_ApiModel):
    """The body of ``GET /v1/chains/{chain_id}/deployments`` (no paging)."""

    deployments: list[ChainDeployment] = Field(description="The chain's deployments.")
