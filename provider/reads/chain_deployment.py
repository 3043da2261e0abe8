"""``get_chain_deployment``: one chain deployment, by id or by environment, optionally gated.

Its inputs are :data:`provider.inputs.INPUTS`, its outputs :data:`provider.outputs.OUTPUTS`
and its query :class:`provider.lookup.DeploymentQuery` (the gate included); the
``ChainDeployment`` resources are built on the same three (:mod:`provider.lifecycle`).
"""

from __future__ import annotations

from ..catalog import Hooks, Read
from ..client import BasetenClient
from ..deadline import Deadline
from ..inputs import CHOICES, INPUTS
from ..lookup import DeploymentQuery
from ..models import ChainDeployment
from ..outputs import OUTPUTS, deployment_from_outputs


def _fetch(
    query: DeploymentQuery, client: BasetenClient, deadline: Deadline, hooks: Hooks
) -> ChainDeployment:
    return query.resolve(
        client,
        deadline,
        on_progress=hooks.on_progress,
        on_warning=hooks.on_warning,
        sleep=hooks.sleep,
    )


READ: Read[DeploymentQuery, ChainDeployment] = Read(
    name="chain_deployment",
    summary="a chain deployment and its chainlets, by id or environment",
    title="Chain deployment",
    description="Look a Baseten chain deployment up by id, or by environment (its current "
    "deployment), with its chainlets, their instance types and autoscaling settings. It does "
    "not wait unless `wait_for` is given; the result has the same fields as a "
    "`ChainDeployment`'s outputs.",
    endpoints=(
        "GET /v1/chains/{chain_id}/deployments/{chain_deployment_id}",
        "GET /v1/chains/{chain_id}/environments/{environment}",
        "GET /v1/chains (chain_name only)",
    ),
    inputs=INPUTS,
    choices=CHOICES,
    outputs=OUTPUTS,
    query=DeploymentQuery.from_checked,
    fetch=_fetch,
    api_json=lambda deployment: deployment.to_api(),
    command="get",
    id_output="chain_deployment_id",
    result_extras={"deployment": deployment_from_outputs},
)
