"""``get_chain``: a chain, by id or by name (``baseten_chain`` keeps its ``id``/``name``)."""

from __future__ import annotations

from ..catalog import ChainQuery, Hooks, Read, check_chain
from ..client import BasetenClient
from ..deadline import Deadline
from ..inputs import CHAIN_ID, CHAIN_NAME, TIMEOUT
from ..models import Chain
from ..outputs import model_outputs
from ..validation import api_path


def _fetch(query: ChainQuery, client: BasetenClient, deadline: Deadline, hooks: Hooks) -> Chain:
    ref = query.chain
    if ref.chain_id is None:
        # The list holds the whole chain: no second request for what it already said.
        return ref.find(client, deadline, on_warning=hooks.on_warning)
    chain = client.get(
        api_path("chains", ref.chain_id),
        Chain,
        what=f"chain {ref.chain_id!r}",
        deadline=deadline,
        on_warning=hooks.on_warning,
    )
    check_chain(ref.chain_id, chain.id, "the chain", field="id")
    return chain


READ: Read[ChainQuery, Chain] = Read(
    name="chain",
    summary="a chain, by id or by name",
    title="Chain",
    description="Look a Baseten chain up by id, or by name: its id, name, creation time, "
    "number of deployments and team.",
    endpoints=("GET /v1/chains/{chain_id}", "GET /v1/chains (chain_name only)"),
    inputs=(CHAIN_ID, CHAIN_NAME, TIMEOUT),
    outputs=model_outputs(Chain, lambda _q, chain: chain),
    query=ChainQuery.from_checked,
    fetch=_fetch,
    api_json=lambda chain: chain.to_api(),
    command="chain",
    id_output="id",
    terraform_names={"chain_id": "id", "chain_name": "name"},
)
