"""The in-memory state of one emulator: chains, environments, queued faults and raw answers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .faults import Fault
from .timeline import _Timeline


@dataclass
class _Environment:
    name: str
    created_at: str
    current: str | None
    candidate: str | None


@dataclass
class _Chain:
    meta: dict[str, Any]
    deployments: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    environments: dict[str, _Environment] = dataclasses.field(default_factory=dict)
    timelines: dict[str, _Timeline] = dataclasses.field(default_factory=dict)


@dataclass
class _FaultSlot:
    fault: Fault
    path: str | None
    remaining: int | None


@dataclass
class _RawAnswer:
    path: str | None
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]
    remaining: int | None


_PROMOTION_SETTINGS: dict[str, Any] = {
    "redeploy_on_promotion": False,
    "rolling_deploy": False,
    "rolling_deploy_config": None,
    "ramp_up_while_promoting": False,
    "ramp_up_duration_seconds": 600,
}
