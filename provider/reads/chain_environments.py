"""``get_chain_environments``: a chain's environments and the deployment each one serves."""

from __future__ import annotations

from ..catalog import ChainQuery, Found, Hooks, Read, check_chain, get_of_chain
from ..client import BasetenClient
from ..deadline import Deadline
from ..fields import ListOf, MapOf, ObjectOf, Scalar
from ..inputs import CHAIN_ID, CHAIN_NAME, TIMEOUT
from ..models import ChainEnvironment, ChainEnvironmentList
from ..outputs import OutputField

Answer = Found[ChainEnvironmentList]


def _fetch(query: ChainQuery, client: BasetenClient, deadline: Deadline, hooks: Hooks) -> Answer:
    found = get_of_chain(query, client, deadline, hooks, "environments", ChainEnvironmentList)
    for env in found.body.environments:
        check_chain(found.chain_id, env.chain_id, f"environment {env.name!r}")
        for deployment in (env.current_deployment, env.candidate_deployment):
            if deployment is not None:
                check_chain(found.chain_id, deployment.chain_id, f"environment {env.name!r}")
    return found


def _served(_q: ChainQuery, answer: Answer) -> dict[str, str]:
    return {
        env.name: env.current_deployment.id
        for env in answer.body.environments
        if env.current_deployment is not None
    }


READ: Read[ChainQuery, Answer] = Read(
    name="chain_environments",
    summary="a chain's environments and the deployment each serves",
    title="Chain environments",
    description="List a Baseten chain's environments (e.g. `production`, `staging`) and the "
    "deployment each one currently serves.",
    endpoints=(
        "GET /v1/chains/{chain_id}/environments",
        "GET /v1/chains (chain_name only)",
    ),
    inputs=(CHAIN_ID, CHAIN_NAME, TIMEOUT),
    outputs=(
        OutputField("chain_id", Scalar.STRING, "The chain's id.", lambda _q, a: a.chain_id),
        OutputField(
            "environments",
            ListOf(ObjectOf(ChainEnvironment)),
            "Every environment, as the API lists it, with its current deployment (or null).",
            lambda _q, a: [env.to_api() for env in a.body.environments],
        ),
        OutputField(
            "deployment_ids",
            MapOf(Scalar.STRING),
            "Environment name to the id of the deployment it serves (an environment that "
            "serves none yet is left out).",
            _served,
        ),
    ),
    query=ChainQuery.from_checked,
    fetch=_fetch,
    api_json=lambda answer: answer.body.to_api(),
    command="environments",
)
