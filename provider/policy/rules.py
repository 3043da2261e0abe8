"""The rules: each takes a chain deployment (the core model) and its settings, returns violations.

What a caller may rely on:

* A rule function is pure: ``rule(deployment, settings) -> list[Violation]``, no I/O, and the
  empty list means the deployment passes. Every :class:`Violation` names the chainlet (``None``
  for the deployment itself), the field looked at, the value found and the limit.
* Settings are frozen dataclasses whose defaults are the documented defaults. Each class builds
  itself from a rule's config properties (:meth:`from_config`, the camelCase keys of the policy
  pack's config) and describes those properties as JSON schema (:meth:`schema`, the pack's
  config schema, with the same defaults). A bad value raises
  :class:`~provider.errors.InvalidInputError` naming ``<rule>.<property>``; unknown properties are
  refused too, so a typo cannot silently switch a limit off.
* :data:`RULES` lists every rule once, in the order reports show them, with its default
  enforcement level. Numbers may arrive as integral floats (protobuf Structs carry no integers).

What a status means comes from :mod:`provider.status`; nothing here re-encodes it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, Self, TypeVar

from .. import ids
from ..errors import InvalidInputError
from ..models import KNOWN_STATUSES, AutoscalingSettings, ChainDeployment, Chainlet
from ..status import DEFAULT_READY, StatusClass, classify

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


# -- reading config values ----------------------------------------------------------------------


def _refuse_unknown(rule: str, props: Mapping[str, Any], known: Sequence[str]) -> None:
    unknown = sorted(set(props) - set(known))
    if unknown:
        raise InvalidInputError(
            f"{rule}.{unknown[0]}",
            f"unknown setting; {rule} takes: {', '.join(known) or 'no settings'}",
        )


def _integer(name: str, value: object, minimum: int) -> int:
    # Protobuf Structs (the engine's Configure call) carry every number as a float: 8.0 is 8.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(name, f"must be an integer, got {value!r}")
    if value < minimum:
        raise InvalidInputError(name, f"must be at least {minimum}, got {value}")
    return value


def _optional_integer(name: str, value: object, minimum: int) -> int | None:
    return None if value is None else _integer(name, value, minimum)


def _strings(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInputError(name, f"must be a list of strings, got {value!r}")
    items = []
    for item in value:
        if not isinstance(item, str) or not item:
            raise InvalidInputError(name, f"must be a list of non-empty strings, got {item!r}")
        items.append(item)
    return tuple(dict.fromkeys(items))  # de-duplicated, order kept


def _string_array_schema(description: str, default: Sequence[str], **extra: Any) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", **extra},
        "description": description,
        "default": list(default),
    }


def _ready(chainlet: Chainlet) -> bool:
    return classify(str(chainlet.status)) is StatusClass.READY


# -- deployment-active --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeploymentActiveSettings:
    """``statuses``: what the deployment and every chainlet may be in (default ``ACTIVE``)."""

    statuses: frozenset[str] = DEFAULT_READY

    @classmethod
    def from_config(cls, props: Mapping[str, Any]) -> Self:
        _refuse_unknown(DEPLOYMENT_ACTIVE, props, ["statuses"])
        if "statuses" not in props:
            return cls()
        name = f"{DEPLOYMENT_ACTIVE}.statuses"
        try:
            statuses = ids.check_wait_for(props["statuses"])
        except InvalidInputError as exc:
            raise InvalidInputError(name, exc.reason) from None
        if not statuses:
            raise InvalidInputError(name, "must list at least one status")
        return cls(statuses=statuses)

    @classmethod
    def schema(cls) -> dict[str, dict[str, Any]]:
        return {
            "statuses": _string_array_schema(
                "Statuses the deployment and every chainlet may have.",
                sorted(cls().statuses),
                enum=sorted(KNOWN_STATUSES),
            )
        }


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


@dataclass(frozen=True)
class AllowedInstanceTypesSettings:
    """``instance_types``: the approved instance type names; empty (the default) allows any."""

    instance_types: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, props: Mapping[str, Any]) -> Self:
        _refuse_unknown(ALLOWED_INSTANCE_TYPES, props, ["instanceTypes"])
        if "instanceTypes" not in props:
            return cls()
        return cls(_strings(f"{ALLOWED_INSTANCE_TYPES}.instanceTypes", props["instanceTypes"]))

    @classmethod
    def schema(cls) -> dict[str, dict[str, Any]]:
        return {
            "instanceTypes": _string_array_schema(
                "Approved instance type names (e.g. 1x4, L4:4x16); empty allows any.",
                cls().instance_types,
                minLength=1,
            )
        }


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


@dataclass(frozen=True)
class ReplicaLimits:
    """One chainlet's override; ``None`` keeps the rule-wide value."""

    min_replica: int | None = None
    max_replica: int | None = None


@dataclass(frozen=True)
class ReplicaBoundsSettings:
    """``min_replica`` (default 0: no floor) and ``max_replica`` (default ``None``: no ceiling)
    per chainlet; ``overrides`` replaces either for the chainlets it names."""

    min_replica: int = 0
    max_replica: int | None = None
    overrides: Mapping[str, ReplicaLimits] = field(default_factory=dict)

    def limits_for(self, chainlet: str) -> tuple[int, int | None]:
        """The (floor, ceiling) that applies to ``chainlet``."""
        override = self.overrides.get(chainlet, ReplicaLimits())
        return (
            self.min_replica if override.min_replica is None else override.min_replica,
            self.max_replica if override.max_replica is None else override.max_replica,
        )

    @classmethod
    def from_config(cls, props: Mapping[str, Any]) -> Self:
        rule = REPLICA_BOUNDS
        _refuse_unknown(rule, props, ["minReplica", "maxReplica", "overrides"])
        default = cls()
        raw_overrides = props.get("overrides") or {}
        if not isinstance(raw_overrides, Mapping):
            raise InvalidInputError(
                f"{rule}.overrides", f"must map chainlet names to limits, got {raw_overrides!r}"
            )
        overrides = {}
        for name, raw in raw_overrides.items():
            where = f"{rule}.overrides.{name}"
            if not isinstance(raw, Mapping):
                raise InvalidInputError(where, f"must be an object, got {raw!r}")
            _refuse_unknown(f"{rule}.overrides.{name}", raw, ["minReplica", "maxReplica"])
            overrides[str(name)] = ReplicaLimits(
                _optional_integer(f"{where}.minReplica", raw.get("minReplica"), 0),
                _optional_integer(f"{where}.maxReplica", raw.get("maxReplica"), 1),
            )
        settings = cls(
            min_replica=_integer(
                f"{rule}.minReplica", props.get("minReplica", default.min_replica), 0
            ),
            max_replica=_optional_integer(f"{rule}.maxReplica", props.get("maxReplica"), 1),
            overrides=overrides,
        )
        checks = [(rule, (settings.min_replica, settings.max_replica))]
        checks += [(f"{rule}.overrides.{name}", settings.limits_for(name)) for name in overrides]
        for where, (floor, ceiling) in checks:
            if ceiling is not None and floor > ceiling:
                raise InvalidInputError(where, f"minReplica {floor} is above maxReplica {ceiling}")
        return settings

    @classmethod
    def schema(cls) -> dict[str, dict[str, Any]]:
        limits: dict[str, dict[str, Any]] = {
            "minReplica": {"type": "integer", "minimum": 0},
            "maxReplica": {"type": "integer", "minimum": 1},
        }
        return {
            "minReplica": {
                **limits["minReplica"],
                "description": "Lowest min_replica a chainlet may have (0: no floor).",
                "default": cls().min_replica,
            },
            "maxReplica": {
                **limits["maxReplica"],
                "description": "Highest max_replica a chainlet may have (unset: no ceiling).",
            },
            "overrides": {
                "type": "object",
                "description": "Per chainlet name: minReplica and/or maxReplica replacing the "
                "rule-wide values.",
                "additionalProperties": {
                    "type": "object",
                    "properties": limits,
                    "additionalProperties": False,
                },
                "default": {},
            },
        }


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
        if auto.min_replica < floor:
            why = "" if override.min_replica is None else f" (override for {chainlet.name})"
            violations.append(
                Violation(
                    REPLICA_BOUNDS,
                    chainlet.name,
                    "min_replica",
                    auto.min_replica,
                    f"at least {floor}{why}",
                )
            )
        if ceiling is not None and auto.max_replica > ceiling:
            why = "" if override.max_replica is None else f" (override for {chainlet.name})"
            violations.append(
                Violation(
                    REPLICA_BOUNDS,
                    chainlet.name,
                    "max_replica",
                    auto.max_replica,
                    f"at most {ceiling}{why}",
                )
            )
    return violations


# -- autoscaling-configured ---------------------------------------------------------------------

AUTOSCALING_FIELDS: tuple[str, ...] = tuple(AutoscalingSettings.model_fields)


@dataclass(frozen=True)
class AutoscalingConfiguredSettings:
    """``required_fields``: autoscaling fields that must be set explicitly on a ready chainlet
    (null means "the server default"); none by default."""

    required_fields: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, props: Mapping[str, Any]) -> Self:
        _refuse_unknown(AUTOSCALING_CONFIGURED, props, ["requiredFields"])
        if "requiredFields" not in props:
            return cls()
        name = f"{AUTOSCALING_CONFIGURED}.requiredFields"
        fields = _strings(name, props["requiredFields"])
        for item in fields:
            if item not in AUTOSCALING_FIELDS:
                raise InvalidInputError(
                    name,
                    f"{item!r} is not an autoscaling field; known: "
                    + ", ".join(AUTOSCALING_FIELDS),
                )
        return cls(fields)

    @classmethod
    def schema(cls) -> dict[str, dict[str, Any]]:
        return {
            "requiredFields": _string_array_schema(
                "Autoscaling fields that must not be null (the server default) on a ready "
                "chainlet.",
                cls().required_fields,
                enum=list(AUTOSCALING_FIELDS),
            )
        }


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


@dataclass(frozen=True)
class NoScaleToZeroSettings:
    """``environments``: where the rule applies (empty, the default: every deployment)."""

    environments: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, props: Mapping[str, Any]) -> Self:
        _refuse_unknown(NO_SCALE_TO_ZERO, props, ["environments"])
        if "environments" not in props:
            return cls()
        return cls(_strings(f"{NO_SCALE_TO_ZERO}.environments", props["environments"]))

    @classmethod
    def schema(cls) -> dict[str, dict[str, Any]]:
        return {
            "environments": _string_array_schema(
                "Latency-critical environments the rule applies to; empty: every deployment.",
                cls().environments,
                minLength=1,
            )
        }


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


class RuleSettings(Protocol):
    @classmethod
    def from_config(cls, props: Mapping[str, Any]) -> Self: ...

    @classmethod
    def schema(cls) -> dict[str, dict[str, Any]]: ...


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
        return self.settings_type.from_config(props or {})


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
