"""What a deployment's statuses mean for someone waiting on it.

The API does not classify its statuses; :data:`STATUS_CLASSES` is the working reading from
Baseten's docs, ``truss`` and Baseten's Terraform provider. :func:`assess` is the one rule every
gate in this package uses: the deployment's own status *and* every chainlet's must be in the set
counted as ready, because how Baseten aggregates the chainlets into the deployment's status is
not documented.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from .models import ChainDeployment, DeploymentStatus

S = DeploymentStatus


class StatusClass(enum.Enum):
    """Where a status stands on the way to ready."""

    IN_PROGRESS = "in progress"
    READY = "ready"
    FAILED = "failed"
    DEGRADED = "degraded"
    SWITCHED_OFF = "switched off"
    UNKNOWN = "unknown"


STATUS_CLASSES: Mapping[str, StatusClass] = {
    S.BUILDING: StatusClass.IN_PROGRESS,
    S.DEPLOYING: StatusClass.IN_PROGRESS,
    S.LOADING_MODEL: StatusClass.IN_PROGRESS,
    S.UPDATING: StatusClass.IN_PROGRESS,
    S.WAKING_UP: StatusClass.IN_PROGRESS,
    S.ACTIVE: StatusClass.READY,
    S.SCALED_TO_ZERO: StatusClass.READY,
    S.BUILD_FAILED: StatusClass.FAILED,
    S.BUILD_STOPPED: StatusClass.FAILED,
    S.DEPLOY_FAILED: StatusClass.FAILED,
    S.FAILED: StatusClass.FAILED,
    S.UNHEALTHY: StatusClass.DEGRADED,
    S.DEACTIVATING: StatusClass.SWITCHED_OFF,
    S.INACTIVE: StatusClass.SWITCHED_OFF,
}

DEFAULT_READY: frozenset[str] = frozenset({S.ACTIVE.value})


def unknown_status_warning(deployment_id: str, status: str) -> str:
    """The one sentence every front end shows for a status this provider does not know."""
    return (
        f"deployment {deployment_id} reports status {status!r}, which this provider does not know"
    )


def classify(status: str) -> StatusClass:
    """The class of ``status``; :attr:`StatusClass.UNKNOWN` for anything undocumented."""
    return STATUS_CLASSES.get(status, StatusClass.UNKNOWN)


class Verdict(enum.Enum):
    READY = "ready"
    WAIT = "keep waiting"
    FAILED = "failed for good"


@dataclass(frozen=True)
class NotReady:
    """One part (the deployment itself, or a chainlet) that is not in the ready set."""

    name: str
    status: str
    status_class: StatusClass

    def __str__(self) -> str:
        return f"{self.name} is {self.status}"


@dataclass(frozen=True)
class Assessment:
    """The answer of :func:`assess`. ``reason`` is a sentence fit for a user."""

    verdict: Verdict
    reason: str
    not_ready: tuple[NotReady, ...]
    accept: tuple[str, ...] = ()
    """A failed verdict's way out, when there is one: the ``wait_for`` that would accept the
    healthy resting state reached (the reason shows it as :func:`wait_for_example`)."""

    @property
    def unknown_statuses(self) -> tuple[str, ...]:
        return tuple(
            sorted({p.status for p in self.not_ready if p.status_class is StatusClass.UNKNOWN})
        )


def _blocks_for_good(part: NotReady) -> bool:
    # A failed or switched-off part never turns ready by itself; neither does a settled, healthy
    # status that the caller did not ask for (SCALED_TO_ZERO when waiting for ACTIVE: an idle
    # deployment stays there until traffic arrives).
    return part.status_class in (StatusClass.FAILED, StatusClass.SWITCHED_OFF, StatusClass.READY)


def wait_for_example(statuses: Iterable[str], *, assign: str = "=") -> str:
    """``wait_for=["ACTIVE", "SCALED_TO_ZERO"]``: the core's (Python) spelling of a
    ``wait_for`` setting; a front end with another syntax passes its own ``assign``
    (Terraform's HCL: ``" = "``)."""
    items = ", ".join(json.dumps(s) for s in statuses)
    return f"wait_for{assign}[{items}]"


def assess(deployment: ChainDeployment, ready: Collection[str] = DEFAULT_READY) -> Assessment:
    """Ready, keep waiting, or failed for good, judged on the deployment and every chainlet."""
    parts = [("deployment", str(deployment.status))]
    parts += [(f"chainlet {c.name}", str(c.status)) for c in deployment.chainlets]
    not_ready = tuple(
        NotReady(name, status, classify(status)) for name, status in parts if status not in ready
    )
    wanted = " or ".join(sorted(ready)) or "anything"
    if not not_ready:
        return Assessment(Verdict.READY, f"deployment {deployment.id} is {wanted}", ())
    listing = "; ".join(str(p) for p in not_ready)
    blocking = [p for p in not_ready if _blocks_for_good(p)]
    if blocking:
        reason = f"deployment {deployment.id} will not become {wanted} by itself: {listing}"
        settled = sorted({p.status for p in blocking if p.status_class is StatusClass.READY})
        accept: tuple[str, ...] = ()
        if settled:
            accept = tuple(sorted({*ready, *settled}))
            reason += (
                f". {', '.join(settled)} is a healthy resting state; to accept it, add it to "
                f"wait_for (e.g. {wait_for_example(accept)})"
            )
        return Assessment(Verdict.FAILED, reason, not_ready, accept)
    return Assessment(
        Verdict.WAIT, f"deployment {deployment.id} is not {wanted} yet: {listing}", not_ready
    )
