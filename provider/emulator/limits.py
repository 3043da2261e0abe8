"""Baseten's rate limit, enforced when asked: N requests per second per API key per endpoint.

A sliding window of one second (Baseten's limit is "per second"): a request is admitted when
fewer than N requests of the same key and endpoint were admitted in the second before it;
refused requests do not count. The endpoint is the path template
(:func:`provider.ratelimit.endpoint_template`), so lookups of different deployments share it.
A refused request is answered as Baseten does: ``429`` with ``Retry-After`` (whole seconds, as
HTTP has them) and ``{"error": "Rate limit exceeded. ...", "retry_after": N}``.
"""

from __future__ import annotations

import collections
import math
import threading
from collections.abc import Callable

from ..errors import InvalidInputError
from ..ratelimit import endpoint_template

WINDOW_SECONDS = 1.0


class RateLimit:
    """``per_second`` requests per (key, endpoint) within any one second on ``clock``."""

    def __init__(self, per_second: int, clock: Callable[[], float]) -> None:
        if isinstance(per_second, bool) or not isinstance(per_second, int) or per_second < 1:
            reason = f"must be a whole number of requests per second >= 1, got {per_second!r}"
            raise InvalidInputError("rate_limit", reason)
        self.per_second = per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._admitted: dict[tuple[str, str], collections.deque[float]] = {}
        self.refused = 0
        """How many requests were answered 429 by this limit."""

    def admit(self, key: str, path: str) -> int | None:
        """``None`` if a request of ``key`` to ``path`` is admitted now (and counted); else the
        whole seconds until the window has room (at least 1), for ``Retry-After``."""
        with self._lock:
            now = self._clock()
            window = self._admitted.setdefault((key, endpoint_template(path)), collections.deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) < self.per_second:
                window.append(now)
                return None
            self.refused += 1
            return max(1, math.ceil(window[0] + WINDOW_SECONDS - now))
