"""The rules: each takes a chain deployment (the core model) and its settings, returns violations.

What a caller may rely on:

* A rule function is pure: ``rule(deployment, settings) -> list[Violation]``, no I/O, and the
  empty list means the deployment passes. Every :class:`Violation` names the chainlet (``None``
  for the deployment itself), the field looked at, the value found and the limit.
* Each rule's settings are a :class:`~provider.policy.settings.RuleSettings` model: parsed from
  the policy pack's config properties (camelCase keys) by ``from_config``, described as JSON
  schema by ``config_schema``, both from the one declaration here; a bad value raises
  :class:`~provider.errors.InvalidInputError` naming ``<rule>.<property>``.
* :data:`RULES` lists every rule once, in the order reports show them, with its default
  enforcement level.

What a status means comes from :mod:`provider.status`; nothing here re-encodes it.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from ..errors import InvalidInputError
from ..models import KNOWN_STATUSES, AutoscalingSettings, ChainDeployment, Chainlet
from ..status import DEFAULT_READY, StatusClass, classify
from .settings import Name, Names, RuleSettings, integral, one_of

DEPLOYMENT_ACTIVE = "deployment-active"
ALLOWED_INSTANCE_TYPES = "allowed-instance-types"
REPLICA_BOUNDS = "replica-bounds"
AUTOSCALING_CONFIGURED = "autoscaling-configured"
NO_SCALE_TO_ZERO = "no-scale-to-zero"


class Level(enum.StrEnum):
    """Enforcement levels, spelled as Pulumi spells them (``pulumi_policy.EnforcementLevel``)."""

    ADVISORY = "advisory"
    MANDATORY = "mandatory"
    REMEDIATE = "remediate"
    DISABLED = "disabled"

    @property
    def blocks(self) -> bool:
        """Whether a violation at this level fails the check (stack policies cannot remediate,
        so Pulumi treats ``remediate`` as ``mandatory`` for them; so does the pipeline check)."""
        return self in (Level.MANDATORY, Level.REMEDIATE)


Found = str | int | None


@dataclass(frozen=True)
class Violation:
    """One finding: ``chainlet`` (``None``: the deployment itself), ``field``, the value
    ``found`` and the ``limit`` it broke, in words. ``detail`` qualifies the value found."""

    rule: str
    chainlet: str | None
    field: str
    found: Found
    limit: str
    detail: str = ""

    @property
    def subject(self) -> str:
        return "deployment" if self.chainlet is None else f"chainlet {self.chainlet}"

    @property
    def message(self) -> str:
        found = "null" if self.found is None else str(self.found)
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.subject}: {self.field} is {found}{detail}, expected {self.limit}"

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "chainlet": self.chainlet,
            "field": self.field,
            "found": self.found,
            "limit": self.limit,
            "message": self.message,
        }


# -- settings types -----------------------------------------------------------------------------

AUTOSCALING_FIELDS: tuple[str, ...] = tuple(AutoscalingSettings.model_fields)
_STATUSES = tuple(sorted(KNOWN_STATUSES))

Floor = Annotated[int, Field(strict=True, ge=0), BeforeValidator(integral)]
Ceiling = Annotated[int, Field(strict=True, ge=1), BeforeValidator(integral)]
KnownStatus = Annotated[
    Name,
    AfterValidator(one_of(_STATUSES, "a known deployment status")),
    WithJsonSchema({"type": "string", "enum": list(_STATUSES)}),
]
AutoscalingField = Annotated[
    Name,
    AfterValidator(one_of(AUTOSCALING_FIELDS, "an autoscaling field")),
    WithJsonSchema({"type": "string", "enum": list(AUTOSCALING_FIELDS)}),
]


def _ready(chainlet: Chainlet) -> bool:
    return classify(str(chainlet.status)) is StatusClass.READY


# -- deployment-active --------------------------------------------------------------------------


class DeploymentActiveSettings(RuleSettings):
    """``statuses``: what the deployment and every chainlet may be in (default ``ACTIVE``)."""

    rule: ClassVar[str] = DEPLOYMENT_ACTIVE

    statuses: frozenset[KnownStatus] = Field(
        DEFAULT_READY,
        min_length=1,
        description="Statuses the deployment and every chainlet may have.",
    )


def deployment_active(
    deployment: ChainDeployment, settings: DeploymentActiveSettings
) -> list[Violation]:
    """The deployment's status and every chainlet's must be in ``settings.statuses``.

    Both are checked because how Baseten aggregates chainlets into the deployment's status is
    not documented. An undocumented status is never in the allowed set, so it always violates.
    """
    allowed = "one of " + ", ".join(sorted(settings.statuses))
    parts: list[tuple[str | None, str]] = [(None, str(deployment.status))]
    parts += [(c.name, str(c.status)) for c in deployment.chainlets]
    violations = []
    for chainlet, status in parts:
        if status not in settings.statuses:
            status_class = classify(status)
            detail = (
                "undocumented status" if status_class is StatusClass.UNKNOWN else status_class.value
            )
            violations.append(
                Violation(DEPLOYMENT_ACTIVE, chainlet, "status", status, allowed, detail)
            )
    return violations


# -- allowed-instance-types ---------------------------------------------------------------------


class AllowedInstanceTypesSettings(RuleSettings):
    """``instance_types``: the approved instance type names; empty (the default) allows any."""

    rule: ClassVar[str] = ALLOWED_INSTANCE_TYPES

    instance_types: Names = Field(
        (), description="Approved instance type names (e.g. 1x4, L4:4x16); empty allows any."
    )


def allowed_instance_types(
    deployment: ChainDeployment, settings: AllowedInstanceTypesSettings
) -> list[Violation]:
    """Every chainlet must run on an approved instance type (any, when none is listed)."""
    if not settings.instance_types:
        return []
    limit = "one of " + ", ".join(settings.instance_types)
    return [
        Violation(ALLOWED_INSTANCE_TYPES, c.name, "instance_type_name", c.instance_type_name, limit)
        for c in deployment.chainlets
        if c.instance_type_name not in settings.instance_types
    ]


# -- replica-bounds -----------------------------------------------------------------------------


class ReplicaLimits(RuleSettings):
    """One chainlet's override of the replica bounds; an unset bound keeps the rule-wide one."""

    rule: ClassVar[str] = REPLICA_BOUNDS

    min_replica: Floor | None = Field(None, description="Replaces minReplica for this chainlet.")
    max_replica: Ceiling | None = Field(None, description="Replaces maxReplica for this chainlet.")


class ReplicaBoundsSettings(RuleSettings):
    """``min_replica`` (default 0: no floor) and ``max_replica`` (default ``None``: no ceiling)
    per chainlet; ``overrides`` replaces either for the chainlets it names."""

    rule: ClassVar[str] = REPLICA_BOUNDS

    min_replica: Floor = Field(
        0, description="Lowest min_replica a chainlet may have (0: no floor)."
    )
    max_replica: Ceiling | None = Field(
        None, description="Highest max_replica a chainlet may have (null: no ceiling)."
    )
    overrides: dict[str, ReplicaLimits] = Field(
        {},
        description="Per chainlet name: minReplica and/or maxReplica replacing the rule-wide "
        "values.",
    )

    def limits_for(self, chainlet: str) -> tuple[int, int | None]:
        """The (floor, ceiling) that applies to ``chainlet``."""
        override = self.overrides.get(chainlet, ReplicaLimits())
        return (
            self.min_replica if override.min_replica is None else override.min_replica,
            self.max_replica if override.max_replica is None else override.max_replica,
        )

    @model_validator(mode="after")
    def _floor_not_above_ceiling(self) -> Self:
        checks: list[tuple[tuple[str, ...], tuple[int, int | None]]]
        checks = [((), (self.min_replica, self.max_replica))]
        checks += [(("overrides", name), self.limits_for(name)) for name in self.overrides]
        for at, (floor, ceiling) in checks:
            if ceiling is not None and floor > ceiling:
                raise PydanticCustomError(
                    "floor_above_ceiling",
                    "minReplica {floor} is above maxReplica {ceiling}",
                    {"floor": floor, "ceiling": ceiling, "at": at},
                )
        return self

    def unmatched_overrides(self, deployment: ChainDeployment) -> tuple[str, ...]:
        names = {c.name for c in deployment.chainlets}
        return tuple(name for name in self.overrides if name not in names)


def unmatched_override_note(name: str, deployment: ChainDeployment) -> str:
    """Why the override for chainlet ``name`` did nothing on ``deployment``, in one line."""
    names = [c.name for c in deployment.chainlets]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"the override for chainlet {name!r} matches no chainlet of deployment {deployment.id} "
        f"(its chainlets: {', '.join(names) or 'none'}){hint}"
    )


def replica_bounds(deployment: ChainDeployment, settings: ReplicaBoundsSettings) -> list[Violation]:
    """Per chainlet: ``min_replica >= floor`` and ``max_replica <= ceiling``.

    A chainlet without autoscaling settings (still deploying) has no bounds to check here;
    ``autoscaling-configured`` is the rule that speaks about it.
    """
    violations = []
    for chainlet in deployment.chainlets:
        auto = chainlet.autoscaling_settings
        if auto is None:
            continue
        floor, ceiling = settings.limits_for(chainlet.name)
        override = settings.overrides.get(chainlet.name, ReplicaLimits())
        why = f" (override for {chainlet.name})"
        if auto.min_replica < floor:
            limit = f"at least {floor}" + ("" if override.min_replica is None else why)
            violations.append(
                Violation(REPLICA_BOUNDS, chainlet.name, "min_replica", auto.min_replica, limit)
            )
        if ceiling is not None and auto.max_replica > ceiling:
            limit = f"at most {ceiling}" + ("" if override.max_replica is None else why)
            violations.append(
                Violation(REPLICA_BOUNDS, chainlet.name, "max_replica", auto.max_replica, limit)
            )
    return violations


# -- autoscaling-configured ---------------------------------------------------------------------


class AutoscalingConfiguredSettings(RuleSettings):
    """``required_fields``: autoscaling fields that must be set explicitly on a ready chainlet
    (null means "the server default"); none by default."""

    rule: ClassVar[str] = AUTOSCALING_CONFIGURED

    required_fields: tuple[AutoscalingField, ...] = Field(
        (),
        description="Autoscaling fields that must not be null (the server default) on a ready "
        "chainlet.",
    )


def autoscaling_configured(
    deployment: ChainDeployment, settings: AutoscalingConfiguredSettings
) -> list[Violation]:
    """A chainlet counted as ready (:attr:`StatusClass.READY`) must have autoscaling settings.

    Null settings are normal while a chainlet deploys; on a ready one they mean Baseten did not
    report how it scales, which a gate should not accept.
    """
    violations = []
    for chainlet in deployment.chainlets:
        if not _ready(chainlet):
            continue
        auto = chainlet.autoscaling_settings
        status = str(chainlet.status)
        if auto is None:
            violations.append(
                Violation(
                    AUTOSCALING_CONFIGURED,
                    chainlet.name,
                    "autoscaling_settings",
                    None,
                    "set on a ready chainlet",
                    f"chainlet is {status}",
                )
            )
            continue
        violations += [
            Violation(
                AUTOSCALING_CONFIGURED,
                chainlet.name,
                f"autoscaling_settings.{name}",
                None,
                "an explicit value (required by policy)",
            )
            for name in settings.required_fields
            if getattr(auto, name) is None
        ]
    return violations


# -- no-scale-to-zero ---------------------------------------------------------------------------


class NoScaleToZeroSettings(RuleSettings):
    """``environments``: where the rule applies (empty, the default: every deployment)."""

    rule: ClassVar[str] = NO_SCALE_TO_ZERO

    environments: Names = Field(
        (), description="Latency-critical environments the rule applies to; empty: every one."
    )


def no_scale_to_zero(
    deployment: ChainDeployment, settings: NoScaleToZeroSettings
) -> list[Violation]:
    """Every chainlet keeps at least one replica (``min_replica >= 1``), in the environments
    listed (all when none is). A deployment outside them, or with no environment, passes."""
    if settings.environments and deployment.environment not in settings.environments:
        return []
    where = f" in {deployment.environment}" if deployment.environment else ""
    return [
        Violation(
            NO_SCALE_TO_ZERO,
            c.name,
            "min_replica",
            c.autoscaling_settings.min_replica,
            f"at least 1 (no scale to zero{where})",
        )
        for c in deployment.chainlets
        if c.autoscaling_settings is not None and c.autoscaling_settings.min_replica < 1
    ]


# -- the registry -------------------------------------------------------------------------------

SettingsT = TypeVar("SettingsT", bound=RuleSettings)


@dataclass(frozen=True)
class Rule(Generic[SettingsT]):
    """A rule: its name (the policy name in the pack), what it asks, its default enforcement
    level, its settings type and the function that checks a deployment."""

    name: str
    description: str
    default_level: Level
    settings_type: type[SettingsT]
    check: Callable[[ChainDeployment, SettingsT], list[Violation]]

    def settings(self, props: Mapping[str, Any] | None = None) -> SettingsT:
        """The settings from config properties (defaults for whatever is missing)."""
        return self.settings_type.from_config(props)


RULES: tuple[Rule[Any], ...] = (
    Rule(
        DEPLOYMENT_ACTIVE,
        "The chain deployment and every chainlet must be in an allowed status (default ACTIVE).",
        Level.MANDATORY,
        DeploymentActiveSettings,
        deployment_active,
    ),
    Rule(
        ALLOWED_INSTANCE_TYPES,
        "Every chainlet must run on an approved instance type (no list: any).",
        Level.MANDATORY,
        AllowedInstanceTypesSettings,
        allowed_instance_types,
    ),
    Rule(
        REPLICA_BOUNDS,
        "Every chainlet's replica bounds must stay within limits "
        "(min_replica >= minReplica, max_replica <= maxReplica, per-chainlet overrides).",
        Level.MANDATORY,
        ReplicaBoundsSettings,
        replica_bounds,
    ),
    Rule(
        AUTOSCALING_CONFIGURED,
        "A ready chainlet must have autoscaling settings (not null).",
        Level.MANDATORY,
        AutoscalingConfiguredSettings,
        autoscaling_configured,
    ),
    Rule(
        NO_SCALE_TO_ZERO,
        "No chainlet may scale to zero (min_replica >= 1), for latency-critical environments. "
        "Off unless enabled.",
        Level.DISABLED,
        NoScaleToZeroSettings,
        no_scale_to_zero,
    ),
)

RULES_BY_NAME: Mapping[str, Rule[Any]] = {rule.name: rule for rule in RULES}


def rule(name: str) -> Rule[Any]:
    """The rule called ``name``; :class:`InvalidInputError` naming the known ones otherwise."""
    try:
        return RULES_BY_NAME[name]
    except KeyError:
        raise InvalidInputError(
            "policy", f"unknown rule {name!r}; known: {', '.join(RULES_BY_NAME)}"
        ) from None
