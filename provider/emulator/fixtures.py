"""What the emulator serves: API paths, builders for valid chain fixtures, and the default
fixtures every :class:`~provider.emulator.Emulator` starts with unless told otherwise."""

from __future__ import annotations

import copy
import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .timeline import IN_PROGRESS_STATUSES

if TYPE_CHECKING:
    from .server import Emulator

__all__ = [
    "AUDIO_CHAIN",
    "DEFAULT_CREATED_AT",
    "RAG_CHAIN",
    "chain_path",
    "deployment_path",
    "environment_path",
    "load_default_fixtures",
    "make_chainlet",
    "make_deployment",
]

DEFAULT_CREATED_AT = "2026-11-20T09:30:00Z"
"""``created_at`` used by the fixture builders when none is given."""


# --------------------------------------------------------------------------------------------
# Paths and fixture builders


def chain_path(chain_id: str) -> str:
    """``/v1/chains/{chain_id}`` with the id percent-encoded as one segment."""
    return f"/v1/chains/{quote(chain_id, safe='')}"


def deployment_path(chain_id: str, deployment_id: str) -> str:
    """``/v1/chains/{chain_id}/deployments/{deployment_id}``, each id one encoded segment."""
    return f"{chain_path(chain_id)}/deployments/{quote(deployment_id, safe='')}"


def environment_path(chain_id: str, env_name: str) -> str:
    """``/v1/chains/{chain_id}/environments/{env_name}``, each part one encoded segment."""
    return f"{chain_path(chain_id)}/environments/{quote(env_name, safe='')}"


def _short_id(seed: str) -> str:
    # Deterministic, so fixtures (and anything snapshotting them) are stable between runs.
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    chars = []
    for _ in range(8):
        number, digit = divmod(number, 36)
        chars.append(alphabet[digit])
    return "".join(chars)


def make_chainlet(
    name: str,
    *,
    status: str = "ACTIVE",
    instance_type_name: str = "1x4",
    min_replica: int = 0,
    max_replica: int = 1,
    autoscaling_window: int | None = 60,
    scale_down_delay: int | None = 900,
    concurrency_target: int = 1,
    target_utilization_percentage: int | None = 70,
    target_in_flight_tokens: int | None = None,
    active_replica_count: int | None = None,
    chainlet_id: str | None = None,
) -> dict[str, Any]:
    """A valid ``ChainletV1`` dict.

    ``autoscaling_settings`` carries all seven ``AutoscalingSettingsV1`` fields, except for an
    in-progress ``status`` (:data:`IN_PROGRESS_STATUSES`), where it is null as on Baseten.
    ``active_replica_count`` defaults to ``max(min_replica, 1)`` when ACTIVE, ``min_replica``
    when UNHEALTHY and 0 otherwise. ``chainlet_id`` defaults to 8 characters derived from
    ``name``.
    """
    in_progress = status in IN_PROGRESS_STATUSES
    if active_replica_count is None:
        if status == "ACTIVE":
            active_replica_count = max(min_replica, 1)
        elif status == "UNHEALTHY":
            active_replica_count = min_replica
        else:
            active_replica_count = 0
    settings: dict[str, Any] | None = {
        "min_replica": min_replica,
        "max_replica": max_replica,
        "autoscaling_window": autoscaling_window,
        "scale_down_delay": scale_down_delay,
        "concurrency_target": concurrency_target,
        "target_utilization_percentage": target_utilization_percentage,
        "target_in_flight_tokens": target_in_flight_tokens,
    }
    return {
        "id": chainlet_id if chainlet_id is not None else _short_id(f"chainlet:{name}"),
        "name": name,
        "autoscaling_settings": None if in_progress else settings,
        "instance_type_name": instance_type_name,
        "active_replica_count": 0 if in_progress else active_replica_count,
        "status": status,
    }


# name, instance type, min replica, max replica, concurrency target
_DEFAULT_CHAINLETS: tuple[tuple[str, str, int, int, int], ...] = (
    ("Entrypoint", "1x4", 1, 3, 32),
    ("Retriever", "L4:4x16", 0, 2, 4),
    ("Generator", "H100:1x20x80", 1, 4, 2),
)


def make_deployment(
    chain_id: str,
    deployment_id: str,
    *,
    status: str = "ACTIVE",
    environment: str | None = None,
    chainlets: list[dict[str, Any]] | None = None,
    created_at: str = DEFAULT_CREATED_AT,
) -> dict[str, Any]:
    """A valid ``ChainDeploymentV1`` dict.

    Without ``chainlets`` it has three (``Entrypoint`` on ``1x4``, ``Retriever`` on
    ``L4:4x16``, ``Generator`` on ``H100:1x20x80``), each built by :func:`make_chainlet` with
    ``status`` (min replicas 0 when ``SCALED_TO_ZERO``) and an id derived from the deployment
    id. Given ``chainlets`` are deep-copied as they are.
    """
    if chainlets is None:
        built = []
        for name, instance_type, min_replica, max_replica, target in _DEFAULT_CHAINLETS:
            built.append(
                make_chainlet(
                    name,
                    status=status,
                    instance_type_name=instance_type,
                    min_replica=0 if status == "SCALED_TO_ZERO" else min_replica,
                    max_replica=max_replica,
                    concurrency_target=target,
                    chainlet_id=_short_id(f"chainlet:{chain_id}:{deployment_id}:{name}"),
                )
            )
        chainlets = built
    return {
        "id": deployment_id,
        "created_at": created_at,
        "chain_id": chain_id,
        "environment": environment,
        "chainlets": copy.deepcopy(chainlets),
        "status": status,
    }


# --------------------------------------------------------------------------------------------
# Default fixtures

RAG_CHAIN = "ch7k2p9q"
AUDIO_CHAIN = "chq2v8n4"


def load_default_fixtures(emu: Emulator) -> None:
    """(Re)load the default chains, replacing whatever the emulator held under their ids.

    * ``ch7k2p9q`` "rag-pipeline": ``dp3m8x1v`` ACTIVE (production), ``dp9w4n2r`` ACTIVE
      (staging), ``dpbuild1`` BUILDING, ``dpfail01`` BUILD_FAILED (``Generator`` failed, the
      others stopped), ``dpzero01`` SCALED_TO_ZERO; environments production -> dp3m8x1v and
      staging -> dp9w4n2r, no candidates.
    * ``chq2v8n4`` "audio-transcriber": ``dpa1b2c3`` ACTIVE (production).
    """
    emu._drop_chain(RAG_CHAIN)
    emu._drop_chain(AUDIO_CHAIN)
    emu.add_chain(
        RAG_CHAIN, "rag-pipeline", team_name="ml-platform", created_at="2026-10-02T08:14:11Z"
    )
    add = emu.add_deployment
    add(
        RAG_CHAIN,
        make_deployment(
            RAG_CHAIN, "dp3m8x1v", environment="production", created_at="2026-11-18T16:02:45Z"
        ),
    )
    add(
        RAG_CHAIN,
        make_deployment(
            RAG_CHAIN, "dp9w4n2r", environment="staging", created_at="2026-11-19T10:41:03Z"
        ),
    )
    add(
        RAG_CHAIN,
        make_deployment(
            RAG_CHAIN, "dpbuild1", status="BUILDING", created_at="2026-11-20T09:12:30Z"
        ),
    )
    failed = make_deployment(
        RAG_CHAIN, "dpfail01", status="BUILD_STOPPED", created_at="2026-11-17T13:55:09Z"
    )
    failed["status"] = "BUILD_FAILED"
    failed["chainlets"][2]["status"] = "BUILD_FAILED"
    add(RAG_CHAIN, failed)
    add(
        RAG_CHAIN,
        make_deployment(
            RAG_CHAIN, "dpzero01", status="SCALED_TO_ZERO", created_at="2026-11-10T07:20:00Z"
        ),
    )
    emu.set_environment(RAG_CHAIN, "production", "dp3m8x1v", created_at="2026-10-02T08:14:11Z")
    emu.set_environment(RAG_CHAIN, "staging", "dp9w4n2r", created_at="2026-10-05T12:00:00Z")

    emu.add_chain(
        AUDIO_CHAIN, "audio-transcriber", team_name="ml-platform", created_at="2026-09-14T11:03:27Z"
    )
    chainlets = [
        make_chainlet(
            "Entrypoint",
            instance_type_name="1x2",
            min_replica=1,
            max_replica=2,
            concurrency_target=16,
            chainlet_id=_short_id("chainlet:dpa1b2c3:Entry"),
        ),
        make_chainlet(
            "Transcriber",
            instance_type_name="A10G:4x16",
            min_replica=1,
            max_replica=6,
            concurrency_target=4,
            target_in_flight_tokens=None,
            chainlet_id=_short_id("chainlet:dpa1b2c3:Transcriber"),
        ),
    ]
    add(
        AUDIO_CHAIN,
        make_deployment(
            AUDIO_CHAIN,
            "dpa1b2c3",
            environment="production",
            chainlets=chainlets,
            created_at="2026-11-12T15:47:51Z",
        ),
    )
    emu.set_environment(AUDIO_CHAIN, "production", "dpa1b2c3", created_at="2026-09-14T11:03:27Z")
