"""The CrossGuard side: one stack validation policy per rule, over ``ChainDeployment`` outputs.

``examples/policy-pack/__main__.py`` hands :func:`stack_policies` to ``PolicyPack(...)``; the
policies live here so that they are importable and testable without starting a server.

What a caller may rely on:

* One :class:`~pulumi_policy.StackValidationPolicy` per rule of :data:`~provider.policy.RULES`,
  named after it, with the rule's default enforcement level and its settings as the config
  schema (defaults included, so ``pulumi`` fills them in and shows them).
* Stack policies, because the checks need a resource's *outputs* (its status and chainlets),
  which resource policies never see. Resources of other types are ignored.
* Each violation is reported against the resource's URN; its message names the resource, the
  deployment, the chainlet, the value found and the limit.
* A value the engine does not know yet (``pulumi preview`` before the deployment is read: an
  unknown output, or no outputs at all for a new resource) never fails the policy: known
  resources are still checked, and the rest becomes one *advisory* note, through the
  ``UnknownValueError`` that ``pulumi_policy`` turns into a "can't run policy ... during
  preview" diagnostic.
* An override naming a chainlet a known deployment does not have is an advisory note too
  (through the same ``UnknownValueError``, so ``pulumi_policy`` words it "can't run policy
  ... during preview: ... policy config note, not a violation: the override for chainlet
  ..."): it never blocks, as ``check`` only warns about it.
* A config the rule refuses is reported as a violation of the policy (no URN) instead of
  crashing the analyzer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError
from pydantic import ValidationError

from ..errors import BasetenError, InvalidInputError
from ..models import ChainDeployment
from ..outputs import OUTPUTS_BY_NAME
from ..outputs import deployment_from_outputs as from_outputs
from ..plugin.schema import RESOURCE_TOKEN
from ..text import printable
from .rules import RULES, Rule, unmatched_override_note

PACK_NAME = "baseten-chains"
PACK_DESCRIPTION = (
    "Rules for Baseten chain deployments read by the ChainDeployment resource: active, approved "
    "instance types, replica bounds, autoscaling configured, no scale to zero."
)
CHAIN_DEPLOYMENT_TYPE = "pulumi-python:dynamic/baseten:ChainDeployment"
"""The type token of :class:`provider.resource.ChainDeployment`."""

_RAW = OUTPUTS_BY_NAME["raw_json"]
CHAIN_DEPLOYMENT_TYPES: Mapping[str, str] = {
    CHAIN_DEPLOYMENT_TYPE: _RAW.name,
    RESOURCE_TOKEN: _RAW.camel_name,
}
"""The resource types the pack checks, each with the name of its raw-JSON output: the Python
dynamic resource's (snake_case) and the native plugin's ``baseten:index:ChainDeployment``
(camelCase outputs)."""


class AdvisoryNote(BasetenError, UnknownValueError):
    """A note at advisory level: outputs not known yet, or an override that matched nothing.
    ``pulumi_policy`` has no other way for a policy to report below its own level: it turns
    any ``UnknownValueError`` escaping a policy into an advisory diagnostic carrying
    :attr:`message`, after the violations already reported (worded "can't run policy ...
    during preview: <message>" whatever the note says)."""

    def __init__(self, message: str) -> None:
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.message = message


def _plain(value: Any) -> Any:
    # Reading through pulumi_policy's proxies raises UnknownValueError at an unknown value.
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {key: _plain(value[key]) for key in value}
    if isinstance(value, Sequence):
        return [_plain(item) for item in value]
    return value


def deployment_from_outputs(
    outputs: Mapping[str, Any], raw_json: str = _RAW.name
) -> ChainDeployment:
    """The typed model from a ``ChainDeployment``'s outputs as the analyzer receives them,
    rebuilt losslessly from its ``raw_json`` output.

    Raises ``UnknownValueError`` when it is not known yet (a missing output included: the
    engine has none for a resource it has not created), ``pydantic.ValidationError`` when the
    outputs do not describe a chain deployment.
    """
    # Iterating keys never raises; ``key in outputs`` would read an unknown value and raise.
    if raw_json not in set(outputs):
        raise AdvisoryNote(
            f"{raw_json} not known yet (read when the resource is created or updated)"
        )
    return from_outputs({_RAW.name: _plain(outputs[raw_json])})


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def validator(rule: Rule[Any]) -> StackValidation:
    """The ``validate`` callback of ``rule``'s stack policy."""

    def validate(args: StackValidationArgs, reported: ReportViolation) -> None:
        def report_violation(message: str, urn: str | None) -> None:
            # The pack's one way out: the engine prints it (chainlet names are server text).
            reported(printable(message), urn)

        try:
            settings = rule.settings(args.get_config())
        except InvalidInputError as exc:
            report_violation(f"invalid policy config: {exc}", None)
            return
        notes = []
        for resource in args.resources:
            raw_json = CHAIN_DEPLOYMENT_TYPES.get(resource.resource_type)
            if raw_json is None:
                continue
            name = f"ChainDeployment {resource.name!r}"
            try:
                deployment = deployment_from_outputs(resource.props, raw_json)
            except UnknownValueError as exc:
                notes.append(f"{name}: {exc.message}")
                continue
            except ValidationError as exc:
                report_violation(
                    f"{name}: outputs do not describe a chain deployment ({_first_error(exc)})",
                    resource.urn,
                )
                continue
            where = f"{name} (chain {deployment.chain_id}, deployment {deployment.id})"
            for violation in rule.check(deployment, settings):
                report_violation(f"{where}: {violation.message}", resource.urn)
            notes += [
                f"{where}: policy config note, not a violation: "
                + unmatched_override_note(chainlet, deployment)
                for chainlet in settings.unmatched_overrides(deployment)
            ]
        if notes:
            # Raised last, so the violations of known resources above stay in the response.
            raise AdvisoryNote("; ".join(notes))

    return validate


def stack_policies() -> list[StackValidationPolicy]:
    """One stack validation policy per rule, in :data:`~provider.policy.RULES` order."""
    return [
        StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=validator(rule),
            enforcement_level=EnforcementLevel(rule.default_level.value),
            config_schema=PolicyConfigSchema(rule.settings_type.config_schema()),
        )
        for rule in RULES
    ]
