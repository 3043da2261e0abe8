"""One deadline and cancel signal per call, passed down from the caller to every socket read.

Each front end makes one :class:`Deadline` (the gate's ``timeout_seconds``, the command line's
``--timeout``, Terraform's ``timeout_seconds``, a function call's budget) and hands it down:
through the gate, the lookup and the client's retry loop, to each socket operation. Nothing
below it makes a deadline of its own that could outlast it; a layer may only make a *sooner*
one (:meth:`Deadline.sooner`), as the client does with its own retry budget.

What a caller may rely on:

* :meth:`remaining` never goes below zero; :meth:`expired` is ``remaining() == 0``;
* :meth:`sleep` returns early when the cancel signal is set and then raises
  :class:`~provider.errors.CancelledError`; it never sleeps past the deadline;
* the clock is injectable, so a gate can run a 20-minute rollout in simulated time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import CancelledError

Clock = Callable[[], float]


@dataclass(frozen=True)
class Deadline:
    """A point on ``clock`` (seconds) by which a call must end, and its cancel signal.

    ``budget`` is the number of seconds the caller granted, kept for messages
    ("not ready within 600s"). Copies made by :meth:`sooner` share the cancel signal.
    """

    at: float
    budget: float
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)
    clock: Clock = field(default=time.monotonic, compare=False)

    @classmethod
    def after(
        cls, seconds: float, *, cancel: threading.Event | None = None, clock: Clock = time.monotonic
    ) -> Deadline:
        """A deadline ``seconds`` from now (``math.inf``: none, only the cancel signal)."""
        return cls(clock() + seconds, seconds, cancel or threading.Event(), clock)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - self.clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def raise_if_cancelled(self) -> None:
        if self.cancel.is_set():
            raise CancelledError("cancelled by the caller")

    def sooner(self, seconds: float) -> Deadline:
        """This deadline, or ``seconds`` from now if that comes first (same cancel signal)."""
        at = min(self.at, self.clock() + seconds)
        return Deadline(at, min(self.budget, seconds), self.cancel, self.clock)

    def sleep(self, seconds: float, sleep: Callable[[float], None] | None = None) -> None:
        """Wait ``seconds``, cut to the deadline; raise :class:`CancelledError` if the cancel
        signal is set before or during the wait. ``sleep`` replaces the real wait (simulated
        time in tests); the cancel signal is then checked before and after it."""
        self.raise_if_cancelled()
        wait = min(max(seconds, 0.0), self.remaining())
        if sleep is not None:
            sleep(wait)
        elif wait > 0:
            self.cancel.wait(wait)
        self.raise_if_cancelled()
