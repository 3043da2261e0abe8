"""What the API names and serves: resource paths, builders for valid chain bodies, the error
message for a status, and the one JSON encoding every answer uses."""

from __future__ import annotations

import copy
import hashlib
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

__all__ = [
    "DEFAULT_CREATED_AT",
    "IN_PROGRESS_STATUSES",
    "chain_path",
    "chainlets_of",
    "deployment_path",
    "environment_path",
    "make_chainlet",
    "make_deployment",
    "route_path",
    "short_id",
    "status_message",
    "to_json",
]

DEFAULT_CREATED_AT = "2026-11-20T09:30:00Z"
"""``created_at`` used by the fixture builders when none is given."""

IN_PROGRESS_STATUSES: frozenset[str] = frozenset(
    {"BUILDING", "DEPLOYING", "LOADING_MODEL", "UPDATING", "WAKING_UP"}
)
"""Statuses during which a chainlet's ``autoscaling_settings`` is null (built and served)."""


# --------------------------------------------------------------------------------------------
# Paths


def chain_path(chain_id: str) -> str:
    """``/v1/chains/{chain_id}`` with the id percent-encoded as one segment."""
    return f"/v1/chains/{quote(chain_id, safe='')}"


def deployment_path(chain_id: str, deployment_id: str) -> str:
    """``/v1/chains/{chain_id}/deployments/{deployment_id}``, each id one encoded segment."""
    return f"{chain_path(chain_id)}/deployments/{quote(deployment_id, safe='')}"


def environment_path(chain_id: str, env_name: str) -> str:
    """``/v1/chains/{chain_id}/environments/{env_name}``, each part one encoded segment."""
    return f"{chain_path(chain_id)}/environments/{quote(env_name, safe='')}"


def route_path(target: str) -> str:
    """A request target without its query string and fragment: what routes, faults and
    :meth:`~provider.emulator.Emulator.requests_for` match on."""
    return target.split("?", 1)[0].split("#", 1)[0]


# --------------------------------------------------------------------------------------------
# Bodies


def short_id(seed: str) -> str:
    """Eight characters of ``[0-9a-z]`` derived from ``seed``, the same on every run."""
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
        "id": chainlet_id if chainlet_id is not None else short_id(f"chainlet:{name}"),
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
        chainlets = [
            make_chainlet(
                name,
                status=status,
                instance_type_name=instance_type,
                min_replica=0 if status == "SCALED_TO_ZERO" else min_replica,
                max_replica=max_replica,
                concurrency_target=target,
                chainlet_id=short_id(f"chainlet:{chain_id}:{deployment_id}:{name}"),
            )
            for name, instance_type, min_replica, max_replica, target in _DEFAULT_CHAINLETS
        ]
    return {
        "id": deployment_id,
        "created_at": created_at,
        "chain_id": chain_id,
        "environment": environment,
        "chainlets": copy.deepcopy(chainlets),
        "status": status,
    }


def chainlets_of(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """The chainlet dicts of a deployment body (none if ``chainlets`` is missing or not a
    list); the dicts themselves, so editing them edits the body."""
    chainlets = deployment.get("chainlets")
    if not isinstance(chainlets, list):
        return []
    return [c for c in chainlets if isinstance(c, dict)]


# --------------------------------------------------------------------------------------------
# Encoding

_STATUS_MESSAGES: dict[int, str] = {
    400: "Bad request",
    401: "Invalid or missing API key",
    403: "You do not have permission to perform this action",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def status_message(status: int) -> str:
    """The ``message`` of an error body with this status: Baseten's wording where known, else
    the HTTP reason phrase, else ``Error <status>``."""
    if status in _STATUS_MESSAGES:
        return _STATUS_MESSAGES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def to_json(body: Any) -> bytes:
    """The bytes of a JSON body as the emulator sends it (UTF-8, ``", "`` and ``": "``)."""
    return json.dumps(body, separators=(", ", ": ")).encode("utf-8")
