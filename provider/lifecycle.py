"""How a ``ChainDeployment`` resource lives, for every Pulumi front end.

Its id (``CHAIN_ID/DEPLOYMENT_ID``, all an import needs), which input changes replace it, and
how a refresh or an import re-reads it. The Python dynamic provider (:mod:`provider.resource`)
and the native plugin (:mod:`provider.plugin`) both apply exactly these rules, on the
snake_case names of :mod:`provider.inputs` and :mod:`provider.outputs`.

What a caller may rely on: nothing here does I/O; every function takes and returns plain
values keyed by the core's names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInputError
from .inputs import IDENTITY_NAMES, INPUT_NAMES, INPUTS, RESOURCE_WAIT_FOR
from .lookup import DeploymentQuery
from .models import ChainDeployment
from .outputs import (
    LOOKUP_BY_ENVIRONMENT,
    OUTPUT_NAMES,
    deployment_outputs,
    to_engine,
)


def with_resource_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with the resource's defaults filled in where an input is missing: the
    lookup's own (:data:`provider.inputs.INPUTS`) and the resource's gate, ``["ACTIVE"]``."""
    filled = dict(values)
    for spec in INPUTS:
        if filled.get(spec.name) is None and spec.default is not None:
            filled[spec.name] = spec.default
    if filled.get("wait_for") is None:
        filled["wait_for"] = list(RESOURCE_WAIT_FOR)
    return filled


def query_from(values: Mapping[str, Any], *, gated: bool = True) -> DeploymentQuery:
    """The query an input mapping describes. A missing ``wait_for`` is the resource's gate
    (``["ACTIVE"]``) when ``gated``, no wait otherwise (the function form). Raises the first
    :class:`InvalidInputError`."""
    picked = {name: values.get(name) for name in INPUT_NAMES}
    return DeploymentQuery.parse(with_resource_defaults(picked) if gated else picked)


def resource_id(deployment: ChainDeployment) -> str:
    """``CHAIN_ID/DEPLOYMENT_ID``: the resource's id, and all ``import`` needs."""
    return f"{deployment.chain_id}/{deployment.id}"


def parse_resource_id(id_: str) -> tuple[str, str]:
    """``(chain_id, chain_deployment_id)`` from a resource id; :class:`InvalidInputError`
    (field ``id``) for anything that is not two valid ids joined by one ``/``."""
    chain_id, sep, deployment_id = (id_ or "").partition("/")
    if not sep or not chain_id or not deployment_id or "/" in deployment_id:
        raise InvalidInputError("id", f"{id_!r} is not of the form CHAIN_ID/CHAIN_DEPLOYMENT_ID")
    return chain_id, deployment_id


def identity_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Which identity inputs name another deployment than the stored one, judged without a
    request from the stored outputs: a change of any of them replaces.

    The resource *is* its deployment (its id is ``CHAIN_ID/DEPLOYMENT_ID``), not the way a
    program names it. A deployment id names the stored deployment when it is the stored id,
    however that was found. An environment may name it when the stored ``environment`` is
    that environment: the one it was looked up by, or the one the deployment itself said it
    served when last read (an import by id records it). Then the diff's one GET decides: an
    environment that serves another deployment now replaces (:func:`plan_diff`).
    """
    changes = []
    if olds.get("chain_id") != news.get("chain_id"):
        changes.append("chain_id")
    if news.get("chain_deployment_id") is not None:
        if olds.get("chain_deployment_id") != news["chain_deployment_id"]:
            changes.append("chain_deployment_id")
    elif olds.get("environment") is None or olds.get("environment") != news.get("environment"):
        changes.append("environment")
    return changes


@dataclass(frozen=True)
class DiffPlan:
    """What a ``Diff`` decided: the names (snake_case, inputs or outputs) that change, and
    those among them whose change replaces the resource."""

    changed: list[str]
    replaces: list[str]


def plan_diff(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    *,
    is_unknown: Callable[[Any], bool],
    fetch: Callable[[DeploymentQuery], ChainDeployment],
    resolve: Callable[[DeploymentQuery], DeploymentQuery],
    canonical: Callable[[str, Any], Any] = lambda _name, value: to_engine(value),
) -> DiffPlan:
    """The diff of a stored resource (``olds``: its outputs) against new inputs.

    An unknown identity input replaces; any other unknown input is a change. A chain named
    by ``chain_name`` is first resolved (``resolve``: one ``GET /v1/chains``) and judged by
    its id, so renaming a chain is no change. A changed identity replaces without a further
    request. Otherwise one ``fetch``: an environment promoted to another deployment replaces;
    outputs that differ from the stored ones are changes, and so is a closed gate
    (:func:`gate_closed`) when the new inputs ask to wait. ``canonical(name, value)`` is an
    output as the front end's engine stores it (default :func:`~provider.outputs.to_engine`),
    applied to both sides.
    """
    unknown = [k for k in INPUT_NAMES if is_unknown(news.get(k))]
    if unknown:
        return DiffPlan(unknown, [k for k in unknown if k in IDENTITY_NAMES])
    query = query_from(news)
    if query.chain_id is None:
        query = resolve(query)
    replaces = identity_changes(olds, {**news, "chain_id": query.chain_id})
    if replaces:
        return DiffPlan(replaces, replaces)
    live = fetch(query)
    if live.id != olds.get("chain_deployment_id"):
        # The environment was promoted to another deployment: a different thing to read.
        return DiffPlan(["chain_deployment_id"], ["chain_deployment_id"])
    outputs = deployment_outputs(query, live)
    changed = [k for k in OUTPUT_NAMES if canonical(k, olds.get(k)) != canonical(k, outputs[k])]
    if query.wait_for and gate_closed(olds, outputs) and "ready" not in changed:
        changed.append("ready")  # an update waits at the gate again
    return DiffPlan(changed, [])


def gate_closed(stored: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """Whether the gate is closed, by the stored outputs or by the outputs just read: then a
    resource that asks to wait has a change, so that ``pulumi up`` runs the gate again. The
    stored ``ready`` counts on its own: a refresh stores ``false`` for a deployment that is
    still not ready, and the live read then agrees with the state, yet the gate must run."""
    return stored.get("ready") is not True or live.get("ready") is not True


@dataclass(frozen=True)
class RefreshPlan:
    """How to re-read a stored resource (refresh) or an id alone (import).

    ``query`` reads exactly the deployment the id names (a refresh never follows a promotion:
    that is the diff's job). ``environment`` is set when the resource was looked up by
    environment, so its outputs and inputs keep saying so.
    """

    query: DeploymentQuery
    environment: str | None
    stored: Mapping[str, Any]

    def outputs(self, deployment: ChainDeployment) -> dict[str, Any]:
        """The resource's outputs for ``deployment`` as just read (snake_case names)."""
        if self.environment is None:
            return deployment_outputs(self.query, deployment)
        relabelled = deployment.model_copy(update={"environment": self.environment})
        outputs = deployment_outputs(self.query, relabelled)
        outputs["lookup_by"] = LOOKUP_BY_ENVIRONMENT
        return outputs

    def inputs(self, chain_id: str, deployment_id: str) -> dict[str, Any]:
        """The inputs a program would write for this resource (import returns these)."""
        inputs = dict(self.stored)
        if self.environment is not None:
            inputs["chain_id"] = chain_id
            inputs.pop("chain_deployment_id", None)
        else:
            inputs.pop("environment", None)
            inputs.update(chain_id=chain_id, chain_deployment_id=deployment_id)
        inputs.setdefault("wait_for", with_resource_defaults({})["wait_for"])
        return inputs


def refresh_plan(id_: str, stored_outputs: Mapping[str, Any]) -> RefreshPlan:
    """The plan for ``Read``: ``stored_outputs`` are the resource's state (empty on import).
    Raises :class:`InvalidInputError` for a malformed id."""
    chain_id, deployment_id = parse_resource_id(id_)
    stored = {k: stored_outputs[k] for k in INPUT_NAMES if stored_outputs.get(k) is not None}
    environment = stored_outputs.get("environment")
    by_environment = stored_outputs.get("lookup_by") == LOOKUP_BY_ENVIRONMENT and environment
    query = query_from(
        {**stored, "chain_id": chain_id, "chain_deployment_id": deployment_id, "environment": None}
    )
    return RefreshPlan(query, str(environment) if by_environment else None, stored)
