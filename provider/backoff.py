"""Capped exponential backoff with jitter, shared by HTTP retries and the readiness gate."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidInputError


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``n`` (0-based): ``initial * factor**n``, capped at ``cap``.

    Jitter only ever shortens a delay (by up to ``jitter`` of it), so a caller may rely on
    no delay exceeding ``cap``, while many clients started together still spread out.
    """

    initial: float
    cap: float
    factor: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.cap) or self.factor < 1 or not 0 <= self.jitter < 1:
            raise InvalidInputError("backoff", f"inconsistent backoff settings: {self}")

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
        # min() before the power keeps huge attempt numbers from overflowing a float.
        exponent = min(attempt, 64)
        base = min(self.cap, self.initial * self.factor**exponent)
        return base * (1.0 - self.jitter * rand())
