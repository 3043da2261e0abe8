"""Gate a downstream resource on a chain deployment.

The gateway route file is written only after the deployment and every chainlet are ACTIVE (or
SCALED_TO_ZERO: an idle scale-to-zero deployment is healthy and wakes on the next request).
If the deployment fails to build, or is still rolling out after ten minutes, `pulumi up` fails
and the route is left alone.
"""

import pulumi

from provider import ChainDeployment, ChainEndpointFile

config = pulumi.Config()

chain = ChainDeployment(
    "chain",
    chain_id=config.require("chainId"),
    chain_deployment_id=config.require("chainDeploymentId"),
    wait_for=["ACTIVE", "SCALED_TO_ZERO"],
    timeout_seconds=600,
)

route = ChainEndpointFile(
    "gateway-route",
    path=config.get("routeFile") or "build/gateway-route.json",
    chain_id=chain.chain_id,
    chain_deployment_id=chain.chain_deployment_id,
    chainlets=chain.chainlets,
    opts=pulumi.ResourceOptions(depends_on=[chain]),
)

pulumi.export("status", chain.status)
pulumi.export("ready", chain.ready)
pulumi.export("invoke_url", route.invoke_url)
pulumi.export("route_file", route.path)
