"""Policy rules over chain deployments: one implementation for Pulumi and for pipelines.

* :mod:`provider.policy.rules` - the rules. Each takes a :class:`~provider.models.ChainDeployment`
  and its settings and returns :class:`Violation` s (chainlet, field, value found, limit).
* :mod:`provider.policy.settings` - :class:`RuleSettings`, the pydantic base of each rule's
  settings: one declaration gives the config parser and the pack's config schema.
* :mod:`provider.policy.config` - the config document (the shape of a Pulumi policy pack config
  file), parsed once for both uses, and :meth:`PolicyConfig.check`, which runs the rules.
* :mod:`provider.policy.pack` - the CrossGuard policies (``pulumi_policy``), one stack validation
  policy per rule, over ``ChainDeployment`` outputs; ``examples/policy-pack`` serves them.

Rules and defaults (the policy name is the rule name and the config key):

=========================  =====================================================  ==========
rule                       settings (config properties, default)                  level
=========================  =====================================================  ==========
deployment-active          ``statuses`` (``["ACTIVE"]``)                           mandatory
allowed-instance-types     ``instanceTypes`` (``[]``: any)                         mandatory
replica-bounds             ``minReplica`` (0), ``maxReplica`` (none),              mandatory
                           ``overrides`` (``{}``; per chainlet)
autoscaling-configured     ``requiredFields`` (``[]``)                             mandatory
no-scale-to-zero           ``environments`` (``[]``: every deployment)             disabled
=========================  =====================================================  ==========

Importing this package has no side effects and does not import ``pulumi_policy``; the pack's
names (``stack_policies``, ``PACK_NAME``, ...) load it on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .config import (
    CONFIG_READ_SECONDS,
    CheckReport,
    PolicyConfig,
    RuleConfig,
    RuleResult,
    load_config_file,
    merge_documents,
    parse_config,
)
from .rules import (
    ALLOWED_INSTANCE_TYPES,
    AUTOSCALING_CONFIGURED,
    DEPLOYMENT_ACTIVE,
    NO_SCALE_TO_ZERO,
    REPLICA_BOUNDS,
    RULES,
    AllowedInstanceTypesSettings,
    AutoscalingConfiguredSettings,
    DeploymentActiveSettings,
    Level,
    NoScaleToZeroSettings,
    ReplicaBoundsSettings,
    ReplicaLimits,
    Rule,
    Violation,
    allowed_instance_types,
    autoscaling_configured,
    deployment_active,
    no_scale_to_zero,
    replica_bounds,
    rule,
)
from .settings import RuleSettings

if TYPE_CHECKING:
    from .pack import (
        CHAIN_DEPLOYMENT_TYPE,
        PACK_DESCRIPTION,
        PACK_NAME,
        deployment_from_outputs,
        stack_policies,
    )

_LAZY = {
    "CHAIN_DEPLOYMENT_TYPE",
    "PACK_DESCRIPTION",
    "PACK_NAME",
    "deployment_from_outputs",
    "stack_policies",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'provider.policy' has no attribute {name!r}")
    return getattr(import_module(".pack", __name__), name)


__all__ = [
    "ALLOWED_INSTANCE_TYPES",
    "AUTOSCALING_CONFIGURED",
    "CHAIN_DEPLOYMENT_TYPE",
    "CONFIG_READ_SECONDS",
    "DEPLOYMENT_ACTIVE",
    "NO_SCALE_TO_ZERO",
    "PACK_DESCRIPTION",
    "PACK_NAME",
    "REPLICA_BOUNDS",
    "RULES",
    "AllowedInstanceTypesSettings",
    "AutoscalingConfiguredSettings",
    "CheckReport",
    "DeploymentActiveSettings",
    "Level",
    "NoScaleToZeroSettings",
    "PolicyConfig",
    "ReplicaBoundsSettings",
    "ReplicaLimits",
    "Rule",
    "RuleConfig",
    "RuleResult",
    "RuleSettings",
    "Violation",
    "allowed_instance_types",
    "autoscaling_configured",
    "deployment_active",
    "deployment_from_outputs",
    "load_config_file",
    "merge_documents",
    "no_scale_to_zero",
    "parse_config",
    "replica_bounds",
    "rule",
    "stack_policies",
]
