"""Gate on a Baseten chain deployment, then publish its endpoint configuration.

The `ChainDeployment` resource reads the deployment (by id, or the current one of an
environment) and waits until it and every chainlet are ACTIVE. The endpoint file depends on it,
so it is written only after the gate opens, with the deployment's chainlets, instance types and
replica bounds.
"""

import pulumi

from provider import ChainDeployment, ChainEndpointFile

config = pulumi.Config()
chain_id = config.require("chainId")
deployment_id = config.get("chainDeploymentId") or None
environment = None if deployment_id else (config.get("environment") or "production")
wait_for = [s.strip() for s in (config.get("waitForStatuses") or "ACTIVE").split(",") if s.strip()]

chain = ChainDeployment(
    "chain",
    chain_id=chain_id,
    chain_deployment_id=deployment_id,
    environment=environment,
    wait_for=wait_for,
    timeout_seconds=config.get_int("timeoutSeconds") or 900,
)

endpoint = ChainEndpointFile(
    "endpoint-config",
    path=config.get("endpointFile") or "build/chain-endpoint.json",
    chain_id=chain.chain_id,
    chain_deployment_id=chain.chain_deployment_id,
    environment=environment,
    chainlets=chain.chainlets,
    opts=pulumi.ResourceOptions(depends_on=[chain]),
)

pulumi.export("chain_deployment_id", chain.chain_deployment_id)
pulumi.export("status", chain.status)
pulumi.export("ready", chain.ready)
pulumi.export("chainlets", chain.chainlets)
pulumi.export("instance_types", chain.instance_types)
pulumi.export(
    "replica_bounds",
    chain.deployment.apply(
        lambda d: {
            c.name: {
                "min": c.autoscaling_settings.min_replica if c.autoscaling_settings else None,
                "max": c.autoscaling_settings.max_replica if c.autoscaling_settings else None,
            }
            for c in d.chainlets
        }
    ),
)
pulumi.export("invoke_url", endpoint.invoke_url)
