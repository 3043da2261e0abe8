"""The readiness gate: poll a deployment until :func:`~provider.status.assess` says ready.

What a caller may rely on:

* the first poll happens at once, so an already-ready deployment costs one GET;
* polls back off exponentially (with jitter that only shortens a delay) up to ``poll.cap``, so a
  deployment that turns ready is noticed within one cap; the last poll is placed
  :data:`LAST_POLL_RESERVE_SECONDS` before the deadline so that its request can still finish;
* a failed-for-good status raises :class:`~provider.errors.DeploymentFailedError` at once;
* the caller's :class:`~provider.deadline.Deadline` bounds everything, each fetch included (it
  is handed to ``fetch``, which hands it to the client and from there to every socket read).
  When it runs out - between polls, or inside a fetch that could not finish in the time left -
  :class:`~provider.errors.DeploymentTimeoutError` names the last status seen and the last
  cause. The cancel signal stops a sleep at once (:class:`~provider.errors.CancelledError`);
* every change of status is reported through ``on_progress`` as a :class:`Progress`; while
  nothing changes, a heartbeat (status, time waited, next check) follows at least every
  ``heartbeat`` seconds, so a long wait never looks dead. A status nobody knows is reported
  once through ``on_warning`` and waited on like an in-progress one;
* ``sleep`` and the deadline's clock are injectable, so a 20-minute rollout can run in
  simulated time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from .backoff import Backoff
from .deadline import Deadline
from .errors import ApiError, DeploymentFailedError, DeploymentTimeoutError
from .inputs import DEFAULT_TIMEOUT_SECONDS
from .models import ChainDeployment
from .status import DEFAULT_READY, Verdict, assess, unknown_status_warning
from .text import printable

log = logging.getLogger(__name__)

DEFAULT_POLL = Backoff(initial=1.0, cap=10.0, factor=2.0, jitter=0.1)
"""1 s, 2 s, 4 s, 8 s, then every 10 s (jitter shortens each by up to 10%): a 5-minute rollout
takes 34 to 37 GETs and is noticed within 10 s of turning ready."""

DEFAULT_HEARTBEAT_SECONDS = 30.0

LAST_POLL_RESERVE_SECONDS = 2.0
"""The last poll starts this long before the deadline (at most a tenth of the budget), so its
request has time to be answered; a poll scheduled at the deadline itself could never be sent."""


def format_elapsed(seconds: float) -> str:
    """``2m10s`` style, as a progress line shows it."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s"


@dataclass(frozen=True)
class Progress:
    """One report from the gate: a status change (``changed``) or a heartbeat.

    ``snapshot`` describes the deployment and its chainlets; ``next_check`` is the seconds
    until the next poll (``None`` once the gate has decided). ``str()`` is the line to show.
    """

    deployment: ChainDeployment
    snapshot: str
    elapsed: float
    changed: bool
    next_check: float | None

    def __str__(self) -> str:
        if self.changed:
            return f"{self.snapshot} after {format_elapsed(self.elapsed)}"
        line = f"still {printable(self.deployment.status)} after {format_elapsed(self.elapsed)}"
        if self.next_check is not None:
            line += f"; next check in {format_elapsed(self.next_check)}"
        return f"{line} ({self.snapshot})"


def snapshot(deployment: ChainDeployment) -> str:
    """``deployment X is S (chainlets: A S1, B S2)``."""
    chainlets = ", ".join(f"{c.name} {c.status}" for c in deployment.chainlets)
    return printable(
        f"deployment {deployment.id} is {deployment.status}"
        + (f" (chainlets: {chainlets})" if chainlets else "")
    )


def _log_progress(progress: Progress) -> None:
    log.info("%s", progress)


def wait_until_ready(
    fetch: Callable[[Deadline], ChainDeployment],
    ready: Collection[str] = DEFAULT_READY,
    deadline: Deadline | None = None,
    *,
    poll: Backoff = DEFAULT_POLL,
    sleep: Callable[[float], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    heartbeat: float = DEFAULT_HEARTBEAT_SECONDS,
) -> ChainDeployment:
    """Return the deployment once it and all its chainlets are in ``ready``.

    ``deadline`` defaults to :data:`DEFAULT_TIMEOUT_SECONDS` from now. ``sleep`` replaces the
    real, cancellable wait (tests). ``None`` callbacks go to this module's logger.
    """
    deadline = deadline or Deadline.after(DEFAULT_TIMEOUT_SECONDS)
    on_progress = on_progress or _log_progress
    on_warning = on_warning or log.warning
    start = deadline.clock()
    last_seen = ""
    last_report = start
    last: ChainDeployment | None = None
    warned: set[str] = set()
    attempt = 0
    while True:
        deadline.raise_if_cancelled()
        try:
            deployment = fetch(deadline)
        except ApiError as exc:
            if exc.out_of_time or deadline.expired():
                raise _timed_out(deadline, last, ready, cause=str(exc)) from None
            raise
        last = deployment
        verdict = assess(deployment, ready)
        now = deadline.clock()
        seen = snapshot(deployment)
        decided = verdict.verdict is not Verdict.WAIT
        reserve = min(LAST_POLL_RESERVE_SECONDS, deadline.budget / 10)
        no_time_for_another = deadline.remaining() <= reserve
        delay = (
            None
            if decided or no_time_for_another
            else min(poll.delay(attempt), deadline.remaining() - reserve)
        )
        # A heartbeat goes out whenever waiting for the next poll would leave more than
        # ``heartbeat`` seconds without a report, so none is ever longer than that.
        quiet_too_long = delay is not None and now + delay - last_report > heartbeat
        if seen != last_seen or quiet_too_long:
            on_progress(Progress(deployment, seen, now - start, seen != last_seen, delay))
            last_seen, last_report = seen, now
        for status in verdict.unknown_statuses:
            if status not in warned:
                warned.add(status)
                on_warning(
                    f"{unknown_status_warning(deployment.id, status)}; waiting on it as if it "
                    "were in progress"
                )
        if verdict.verdict is Verdict.READY:
            return deployment
        if verdict.verdict is Verdict.FAILED:
            raise DeploymentFailedError(verdict.reason, deployment, accept=verdict.accept)
        if delay is None:
            raise _timed_out(deadline, deployment, ready)
        deadline.sleep(delay, sleep)
        attempt += 1


def _timed_out(
    deadline: Deadline,
    last: ChainDeployment | None,
    ready: Collection[str],
    *,
    cause: str = "",
) -> DeploymentTimeoutError:
    where = assess(last, ready).reason if last is not None else "no answer from the API yet"
    because = f"; the last request failed: {cause}" if cause else ""
    return DeploymentTimeoutError(
        f"timed out after {deadline.budget:g}s: {where}{because}. Raise timeout_seconds "
        "if the rollout is just slow",
        last,
    )
