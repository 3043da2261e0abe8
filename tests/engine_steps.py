"""What ``pulumi up`` does with a provider, shared by the provider-host and plugin tests.

``driver`` is a :class:`tests.provider_host.ProviderHost` or a
:class:`tests.plugin_engine.PluginProcess`: both take the engine's calls by the same names.
"""

from __future__ import annotations

from typing import Any

from provider.emulator import make_chainlet, make_deployment

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
