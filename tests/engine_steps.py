"""What ``pulumi up`` does with a provider, shared by the provider-host and plugin tests.

``driver`` is a :class:`tests.provider_host.ProviderHost` or a
:class:`tests.plugin_engine.PluginProcess`: both take the engine's calls by the same names.
"""

from __future__ import annotations

from typing import Any

from provider.emulator import make_chainlet, make_deployment
from tests.plugin_engine import secret

CHAIN = "ch7k2p9q"


def up(driver: Any, news: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """``pulumi up`` of a new resource: Check, then Create with the checked inputs."""
    checked = driver.check({}, news)
    assert checked["failures"] == []
    created: dict[str, Any] = driver.create(checked["inputs"], **kwargs)
    created["inputs"] = checked["inputs"]
    return created


def diff_again(driver: Any, created: dict[str, Any], news: dict[str, Any]) -> Any:
    """The next ``pulumi up``/``preview``: Check against the stored inputs, then Diff the
    checked inputs against the stored outputs."""
    checked = driver.check(created["inputs"], news)
    assert checked["failures"] == []
    return driver.diff(
        created["id"], created["properties"], checked["inputs"], old_inputs=created["inputs"]
    )


def refresh(driver: Any, stored: dict[str, Any]) -> dict[str, Any]:
    """``pulumi refresh``: Read with the stored outputs and inputs; the resource as the engine
    stores it afterwards."""
    read = driver.read(stored["id"], stored["properties"], stored["inputs"])
    return {"id": read["id"], "properties": read["properties"], "inputs": read["inputs"]}


def refreshed_while_unhealthy(driver: Any, emulator: Any, news: dict[str, Any]) -> dict[str, Any]:
    """``pulumi up`` of ``news`` (naming ``dpclean1``) while the deployment is ACTIVE; then it
    turns UNHEALTHY and ``pulumi refresh`` stores that: the resource as stored, not ready."""
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1"))
    created = up(driver, news)
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1", status="UNHEALTHY"))
    stored = refresh(driver, created)
    assert stored["properties"]["ready"] is False
    return stored


def diff_after_a_refresh_while_unhealthy(
    driver: Any, emulator: Any, gated: dict[str, Any], ungated: dict[str, Any]
) -> Any:
    """The next ``pulumi up``'s diff after :func:`refreshed_while_unhealthy`: with a gate
    (``gated``) a change, found with one GET, though the live deployment agrees with the state
    (the gate is closed: up must wait again); without one (``ungated``) no change. Returns the
    gated diff."""
    stored = refreshed_while_unhealthy(driver, emulator, gated)
    emulator.clear_requests()
    result = diff_again(driver, stored, gated)
    assert result["changes"] == "DIFF_SOME" and result["replaces"] == []
    assert len([r for r in emulator.requests if r.method == "GET"]) == 1
    stored = refreshed_while_unhealthy(driver, emulator, ungated)
    assert diff_again(driver, stored, ungated)["changes"] == "DIFF_NONE"
    return result


def clean_deployment(
    deployment_id: str, status: str = "ACTIVE", *, instance: str = "A10G:1x4", max_replica: int = 3
) -> dict[str, Any]:
    """A deployment with no null field anywhere, so its outputs survive the wire unchanged."""
    chainlets = [
        make_chainlet(
            name,
            status=status,
            instance_type_name=instance if name == "Generator" else "1x4",
            min_replica=1,
            max_replica=max_replica,
            target_in_flight_tokens=512,
            chainlet_id=f"{name[:4].lower()}{deployment_id[-4:]}",
        )
        for name in ("Entrypoint", "Generator")
    ]
    return make_deployment(
        CHAIN, deployment_id, status=status, environment="canary", chainlets=chainlets
    )


def load_and_create(plugin: Any, engine_address: str, api_url: str, key: str) -> dict[str, Any]:
    """What the engine does with a freshly started plugin, then ``pulumi up`` of one gate:
    GetPluginInfo, Handshake, CheckConfig and Configure with the stack's config (the key as a
    secret), Check and Create of the ACTIVE deployment ``dp3m8x1v``. The Create's result."""
    plugin.plugin_info()
    plugin.handshake(engine_address)
    checked = plugin.check_config({"apiKey": secret(key), "apiUrl": api_url})
    assert checked["failures"] == []
    plugin.configure(checked["inputs"])
    return up(plugin, {"chainId": CHAIN, "chainDeploymentId": "dp3m8x1v"})
