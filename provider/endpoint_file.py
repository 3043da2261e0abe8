"""``ChainEndpointFile``: a downstream resource that publishes a chain deployment to its callers.

Platform teams hold client or gateway configuration back until the chain deployment behind it is
ACTIVE. This dynamic resource writes that configuration as a JSON file (the chain's invoke URL
and, per chainlet, its instance type and replica bounds), so a gateway, an app deployment or a
CI step can pick it up. Give it a :class:`~provider.resource.ChainDeployment`'s outputs and it is
only written once the gate opened. Deleting the resource deletes the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from .outputs import OUTPUTS_BY_NAME, from_engine


def invoke_url(chain_id: str, chain_deployment_id: str, environment: str | None = None) -> str:
    """Where callers send requests: the environment's URL if it has one, else the deployment's."""
    host = f"https://chain-{chain_id}.api.baseten.co"
    if environment:
        return f"{host}/environments/{environment}/run_remote"
    return f"{host}/deployment/{chain_deployment_id}/run_remote"


def _document(props: dict[str, Any]) -> dict[str, Any]:
    chainlets = from_engine(OUTPUTS_BY_NAME["chainlets"].type, props.get("chainlets") or [])
    return {
        "chain_id": props["chain_id"],
        "chain_deployment_id": props["chain_deployment_id"],
        "environment": props.get("environment"),
        "invoke_url": invoke_url(
            props["chain_id"], props["chain_deployment_id"], props.get("environment")
        ),
        "chainlets": {
            c["name"]: {
                "instance_type": c["instance_type_name"],
                "min_replica": (c["autoscaling_settings"] or {}).get("min_replica"),
                "max_replica": (c["autoscaling_settings"] or {}).get("max_replica"),
            }
            for c in chainlets
        },
    }


def _write(path: str, document: dict[str, Any]) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a reader never sees half a file.
    with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(document, tmp, indent=2, sort_keys=True)
        tmp.write("\n")
    os.replace(tmp.name, target)


def _outputs(props: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    return {**props, "document": document, "invoke_url": document["invoke_url"]}


class ChainEndpointFileProvider(dyn.ResourceProvider):
    """Writes, rewrites and removes the endpoint file."""

    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        failures = [
            dyn.CheckFailure(key, f"{key} is required")
            for key in ("path", "chain_id", "chain_deployment_id")
            if not news.get(key)
        ]
        return dyn.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        document = _document(props)
        _write(props["path"], document)
        return dyn.CreateResult(props["path"], _outputs(props, document))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        replaces = ["path"] if olds.get("path") != news.get("path") else []
        changed = _document(olds) != _document(news) or not Path(news["path"]).exists()
        return dyn.DiffResult(changes=bool(replaces) or changed, replaces=replaces)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        document = _document(news)
        _write(news["path"], document)
        return dyn.UpdateResult(_outputs(news, document))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        Path(props["path"]).unlink(missing_ok=True)


class ChainEndpointFile(dyn.Resource, module="baseten", name="ChainEndpointFile"):
    """A JSON file describing how to call a chain deployment. ``document`` is what was written."""

    path: pulumi.Output[str]
    invoke_url: pulumi.Output[str]
    document: pulumi.Output[dict[str, Any]]

    def __init__(
        self,
        resource_name: str,
        *,
        path: pulumi.Input[str],
        chain_id: pulumi.Input[str],
        chain_deployment_id: pulumi.Input[str],
        environment: pulumi.Input[str | None] = None,
        chainlets: pulumi.Input[list[Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "path": path,
            "chain_id": chain_id,
            "chain_deployment_id": chain_deployment_id,
            "environment": environment,
            "chainlets": chainlets,
            "document": None,
            "invoke_url": None,
        }
        super().__init__(ChainEndpointFileProvider(), resource_name, props, opts)
