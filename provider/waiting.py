"""The readiness gate: poll a deployment until :func:`~provider.status.assess` says ready.

What a caller may rely on:

* the first poll happens at once, so an already-ready deployment costs one GET;
* polls back off exponentially (with jitter that only shortens a delay) up to ``poll.cap``, so a
  deployment that turns ready is noticed within one cap;
* a failed-for-good status raises :class:`~provider.errors.DeploymentFailedError` at once;
* ``timeout_seconds`` is enforced here (Pulumi's custom timeouts never reach a dynamic
  provider): the last sleep is cut to the deadline, one last poll is made, and then
  :class:`~provider.errors.DeploymentTimeoutError` says what was still not ready;
* every change of status is reported through ``on_progress``; a status nobody knows is reported
  once through ``on_warning`` and waited on like an in-progress one;
* ``clock`` and ``sleep`` are injectable, so a 20-minute rollout can run in simulated time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from .backoff import Backoff
from .errors import DeploymentFailedError, DeploymentTimeoutError
from .models import ChainDeployment
from .status import DEFAULT_READY, Verdict, assess

log = logging.getLogger(__name__)

DEFAULT_POLL = Backoff(initial=1.0, cap=10.0, factor=2.0, jitter=0.1)
"""1 s, 2 s, 4 s, 8 s, then every 10 s (jitter shortens each by up to 10%): a 5-minute rollout
takes 34 to 37 GETs and is noticed within 10 s of turning ready."""

DEFAULT_TIMEOUT_SECONDS = 900.0


def _snapshot(deployment: ChainDeployment) -> str:
    chainlets = ", ".join(f"{c.name} {c.status}" for c in deployment.chainlets)
    return f"deployment {deployment.id} is {deployment.status}" + (
        f" (chainlets: {chainlets})" if chainlets else ""
    )


def wait_until_ready(
    fetch: Callable[[], ChainDeployment],
    ready: Collection[str] = DEFAULT_READY,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    *,
    poll: Backoff = DEFAULT_POLL,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> ChainDeployment:
    """Return the deployment once it and all its chainlets are in ``ready``.

    ``None`` means the default: the monotonic clock, ``time.sleep``, and this module's logger.
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    on_progress = on_progress or log.info
    on_warning = on_warning or log.warning
    start = clock()
    deadline = start + timeout_seconds
    last_seen = ""
    warned: set[str] = set()
    attempt = 0
    while True:
        deployment = fetch()
        verdict = assess(deployment, ready)
        seen = _snapshot(deployment)
        if seen != last_seen:
            on_progress(f"{seen} after {clock() - start:.0f}s")
            last_seen = seen
        for status in verdict.unknown_statuses:
            if status not in warned:
                warned.add(status)
                on_warning(
                    f"deployment {deployment.id} reports status {status!r}, which this provider "
                    "does not know; waiting on it as if it were in progress"
                )
        if verdict.verdict is Verdict.READY:
            return deployment
        if verdict.verdict is Verdict.FAILED:
            raise DeploymentFailedError(verdict.reason, deployment)
        remaining = deadline - clock()
        if remaining <= 0:
            raise DeploymentTimeoutError(
                f"timed out after {timeout_seconds:g}s: {verdict.reason}. Raise timeout_seconds "
                "if the rollout is just slow",
                deployment,
            )
        sleep(min(poll.delay(attempt), remaining))
        attempt += 1
