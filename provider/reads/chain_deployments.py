"""``get_chain_deployments``: a chain's deployments, newest first, optionally by status."""

from __future__ import annotations

from ..catalog import ChainQuery, Found, Hooks, Read, check_chain, get_of_chain
from ..client import BasetenClient
from ..deadline import Deadline
from ..fields import ListOf, ObjectOf, Scalar
from ..inputs import CHAIN_ID, CHAIN_NAME, TIMEOUT, InputField, check_name
from ..models import ChainDeployment, ChainDeploymentList
from ..outputs import OutputField

Answer = Found[ChainDeploymentList]

STATUS = InputField(
    "status",
    Scalar.STRING,
    "Only the deployments with this status, e.g. `ACTIVE` (an open set: a status Baseten adds "
    "later is matched too).",
    lambda value: check_name("status", value),
    metavar="STATUS",
    example="ACTIVE",
)


def _fetch(query: ChainQuery, client: BasetenClient, deadline: Deadline, hooks: Hooks) -> Answer:
    found = get_of_chain(query, client, deadline, hooks, "deployments", ChainDeploymentList)
    for deployment in found.body.deployments:
        check_chain(found.chain_id, deployment.chain_id, f"deployment {deployment.id!r}")
    wanted = query.options.get("status")
    chosen = [d for d in found.body.deployments if wanted is None or str(d.status) == wanted]
    # Newest first; the API promises no order (a stable sort keeps its order among equals).
    chosen.sort(key=lambda d: d.created_at, reverse=True)
    return Found(found.chain_id, found.body.model_copy(update={"deployments": chosen}))


def _deployments(_q: ChainQuery, answer: Answer) -> list[ChainDeployment]:
    return answer.body.deployments


READ: Read[ChainQuery, Answer] = Read(
    name="chain_deployments",
    summary="a chain's deployments, newest first, optionally by status",
    title="Chain deployments",
    description="List a Baseten chain's deployments, newest first, optionally only those with "
    "one `status`, each with its chainlets.",
    endpoints=("GET /v1/chains/{chain_id}/deployments", "GET /v1/chains (chain_name only)"),
    inputs=(CHAIN_ID, CHAIN_NAME, STATUS, TIMEOUT),
    outputs=(
        OutputField("chain_id", Scalar.STRING, "The chain's id.", lambda _q, a: a.chain_id),
        OutputField(
            "deployments",
            ListOf(ObjectOf(ChainDeployment)),
            "The deployments, newest first, as the API sent them.",
            lambda q, a: [d.to_api() for d in _deployments(q, a)],
        ),
        OutputField(
            "deployment_ids",
            ListOf(Scalar.STRING),
            "Their ids, newest first.",
            lambda q, a: [d.id for d in _deployments(q, a)],
        ),
    ),
    query=ChainQuery.from_checked,
    fetch=_fetch,
    api_json=lambda answer: answer.body.to_api(),
    command="deployments",
)
