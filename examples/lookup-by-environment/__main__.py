"""Look up each environment's current deployment with `get_chain_deployment_output`.

The lookups run at once (on a bounded pool), leave nothing in state, and resolve unknown during
a preview whose inputs are unknown. `drift` lists the chainlets whose instance type differs
between the first environment and each of the others: a promotion check before `pulumi up`.
"""

import pulumi

from provider import get_chain_deployment_output

config = pulumi.Config()
chain_id = config.require("chainId")
environments = [e.strip() for e in (config.get("environments") or "production").split(",") if e]

lookups = {
    env: get_chain_deployment_output(chain_id=chain_id, environment=env) for env in environments
}

for env, result in lookups.items():
    pulumi.export(f"{env}_deployment", result.chain_deployment_id)
    pulumi.export(f"{env}_status", result.status)
    pulumi.export(f"{env}_instance_types", result.instance_types)

baseline, *others = environments


def drift(types):
    reference = types[0]
    return {
        env: {
            n: [reference.get(n), t.get(n)]
            for n in sorted(set(reference) | set(t))
            if reference.get(n) != t.get(n)
        }
        for env, t in zip(others, types[1:], strict=True)
    }


pulumi.export(
    "drift", pulumi.Output.all(*(lookups[e].instance_types for e in environments)).apply(drift)
)
