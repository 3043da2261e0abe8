"""Stack outputs per chainlet: instance type, replica bounds and autoscaling.

Stack output names must be known while the program runs, so the chainlet names come from one
plain lookup (`get_chain_deployment`); the values come from the `ChainDeployment` resource,
which re-reads the deployment on every `pulumi up` (here without waiting: `wait_for=[]`).
"""

import pulumi

from provider import ChainDeployment, get_chain_deployment

config = pulumi.Config()
chain_id = config.require("chainId")
environment = config.get("environment") or "production"

chain = ChainDeployment("chain", chain_id=chain_id, environment=environment, wait_for=[])
names = [
    c.name for c in get_chain_deployment(chain_id, environment=environment).deployment.chainlets
]


def summary(deployment, name):
    chainlet = deployment.chainlet(name)
    auto = chainlet.autoscaling_settings
    return {
        "status": str(chainlet.status),
        "instance_type": chainlet.instance_type_name,
        "active_replicas": chainlet.active_replica_count,
        "min_replica": auto.min_replica if auto else None,
        "max_replica": auto.max_replica if auto else None,
        "concurrency_target": auto.concurrency_target if auto else None,
        "scale_down_delay": auto.scale_down_delay if auto else None,
    }


for name in names:
    pulumi.export(f"chainlet_{name}", chain.deployment.apply(lambda d, n=name: summary(d, n)))
pulumi.export("deployment", chain.chain_deployment_id)
pulumi.export("status", chain.status)
