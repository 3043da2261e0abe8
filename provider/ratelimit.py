"""A client-side rate limiter: one adaptive token bucket per (API key, endpoint) per process.

Baseten allows a number of requests per second per API key per endpoint (100 for general
``/v1`` calls), shared by every process using the key. Every thread of a process that uses a
key takes its turns from the same bucket, so the process as a whole keeps under the limit
instead of learning it from 429s.

What a caller may rely on:

* The bucket paces requests evenly at :data:`HEADROOM` of the configured limit (room for the
  timing jitter between this process and the server's count), with no burst: in any interval
  of ``t`` seconds at most ``1 + rate * t`` turns are given.
* Adaptive: a 429 (:meth:`Bucket.throttled`) lowers the rate for that key and endpoint to
  below what the server actually let through in the last second (the process's share of a
  limit shared with other processes), and a ``Retry-After`` pauses the bucket for every thread
  of the process, waiting ones included. Without further 429s the rate climbs back to the
  ceiling after a while, slowly at first, then faster (:meth:`Bucket.rate`).
* Waiting for a turn counts against the caller's :class:`~provider.deadline.Deadline` and obeys
  its cancel signal: a wait that would outlast the deadline is not started
  (:meth:`Bucket.acquire` returns ``False`` and takes nothing).
* The key itself is never held here: buckets are found by :func:`key_identity`, a keyed digest
  whose secret is random per process, so it means nothing outside it and is never shown.
* Clock and sleep are injectable, so tests run the arithmetic in simulated time.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import math
import numbers
import os
import re
import threading
import time
from collections.abc import Callable
from typing import NoReturn

from .deadline import Deadline
from .errors import InvalidInputError, NotPicklableError

DEFAULT_MAX_RPS = 100.0
"""Baseten's documented limit: 100 requests per second per API key per endpoint."""
MIN_RPS = 0.1
MAX_RPS = 100_000.0
"""A setting above this is a typo, not a key's limit; it is refused."""
HEADROOM = 0.93
"""The share of the configured limit the bucket paces at: requests sent at exactly the limit
arrive bunched by network and scheduling jitter, and the server counts them on arrival."""
DECREASE = 0.9
"""After a 429 the rate is at most this share of what the server let through in the last
second (and of the rate before)."""
FLOOR = 0.1
"""The rate never drops below this share of the ceiling (a process must still make progress)."""
WINDOW_SHARE = 0.97
"""Whatever the pacing, no more than this share of the configured limit is sent in any one
second (measured when threads actually send: a thread that woke late cannot bunch up with
the next one into a burst the server would count over the limit)."""
HOLD = 10.0
LINEAR = 0.01
QUADRATIC = 0.004
"""Recovery after a 429: the lowered rate is held for ``HOLD`` seconds (processes sharing the
key settle at their shares instead of colliding again), then ``t`` seconds later it has grown
by ``ceiling * (LINEAR * t + QUADRATIC * t**2)``: slowly near the level that was safe, back at
the ceiling from half of it within another ~10 s."""
MIN_HOLD = 1.0
"""One 429 episode lowers the rate once: 429s within this many seconds of a decrease (answers
to requests already sent) do not lower it again."""
MAX_PAUSE = 30.0
"""A ``Retry-After`` pauses the bucket for at most this long (the client's own cap)."""

Clock = Callable[[], float]
Sleep = Callable[[float], None]

_PROCESS_SECRET = os.urandom(32)
_ID_SEGMENT = re.compile(r"^[a-z][a-z0-9_-]*$")


def key_identity(api_key: str) -> str:
    """A name for ``api_key`` that is stable within this process and meaningless outside it
    (HMAC-SHA256 under a random per-process secret): no part of the key can be read from it."""
    data = api_key.encode("utf-8", "surrogatepass")
    return hmac.new(_PROCESS_SECRET, data, hashlib.sha256).hexdigest()


def endpoint_template(path: str) -> str:
    """The endpoint a concrete ``/v1`` path belongs to: every id segment named for its
    collection, e.g. ``/v1/chains/ab/deployments/cd`` ->
    ``/v1/chains/{chain_id}/deployments/{deployment_id}`` (Baseten limits per endpoint, not per
    resource). REST paths alternate collection and id after the version segment."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    out: list[str] = []
    for index, part in enumerate(parts):
        if index >= 2 and index % 2 == 0:
            collection = parts[index - 1]
            name = collection[:-1] if collection.endswith("s") else collection
            out.append("{" + (name if _ID_SEGMENT.match(name) else "id") + "_id}")
        else:
            out.append(part)
    return "/" + "/".join(out)


def check_rate(value: object, setting: str) -> float:
    """``value`` as requests per second, or :class:`~provider.errors.InvalidInputError` naming
    ``setting`` (the name the user wrote it under). Numbers and numeric strings are taken."""
    reason = f"must be a number of requests per second from {MIN_RPS:g} to {MAX_RPS:g}"
    if isinstance(value, bool):
        raise InvalidInputError(setting, f"{reason}, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            raise InvalidInputError(setting, f"{reason}, got {value[:40]!r}") from None
    elif isinstance(value, numbers.Number):  # int, float, Decimal (terraform's numbers)
        try:
            number = float(value)  # type: ignore[arg-type]
        except OverflowError:
            number = math.inf
        except (TypeError, ValueError):  # complex
            raise InvalidInputError(setting, f"{reason}, got {value!r}") from None
    else:
        raise InvalidInputError(setting, f"{reason}, got a {type(value).__name__}")
    if not math.isfinite(number) or not MIN_RPS <= number <= MAX_RPS:
        raise InvalidInputError(setting, f"{reason}, got {number:g}")
    return number


def _window(ceiling: float) -> int:
    """Sends allowed in any one second for a bucket pacing at ``ceiling``."""
    if math.isinf(ceiling):
        return 0
    return max(1, math.floor(ceiling / HEADROOM * WINDOW_SHARE + 1e-9))


class Bucket:
    """The turns for one key and endpoint, shared by every thread. ``ceiling`` is the rate
    it paces at without 429s (requests per second; ``math.inf``: no limit at all, nothing is
    ever waited for or adapted)."""

    def __init__(self, ceiling: float, *, clock: Clock = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._ceiling = ceiling
        self._window = _window(ceiling)
        self._sent: collections.deque[float] = collections.deque()  # sends in the last second
        self._base = ceiling  # the rate right after the last decrease
        self._since: float | None = None  # when the last decrease happened
        self._next = -math.inf  # the earliest time the next turn may be given
        self._paused_until = -math.inf
        self._generation = 0  # bumped by a 429: turns promised before it are re-planned
        self._answered: collections.deque[float] = collections.deque()
        self.throttles = 0
        """How many 429 episodes lowered the rate (for figures and tests)."""

    @property
    def ceiling(self) -> float:
        return self._ceiling

    def set_ceiling(self, ceiling: float) -> None:
        """A new configured rate (the last client configured for this key and endpoint wins)."""
        with self._lock:
            self._ceiling = ceiling
            self._window = _window(ceiling)
            self._base = min(self._base, ceiling)

    def rate(self) -> float:
        """The rate turns are given at now (requests per second)."""
        with self._lock:
            return self._rate(self._clock())

    def _rate(self, now: float) -> float:
        if self._since is None:
            return self._ceiling
        t = max(0.0, now - self._since - HOLD)
        grown = self._base + self._ceiling * (LINEAR * t + QUADRATIC * t * t)
        if grown >= self._ceiling:
            self._since = None  # recovered: forget the episode
            self._base = self._ceiling
            return self._ceiling
        return grown

    def acquire(
        self, deadline: Deadline, sleep: Sleep | None = None, *, waited_out: float = -math.inf
    ) -> bool:
        """Take one turn, waiting for it on ``deadline`` (``sleep`` replaces the real wait).
        ``False`` (nothing taken, no wait) when the turn would come after the deadline;
        :class:`~provider.errors.CancelledError` when the cancel signal is set meanwhile.
        ``waited_out`` is the end of a pause (as :meth:`throttled` returned it) the caller has
        already waited for itself: only a longer pause holds it again."""
        if math.isinf(self._ceiling):
            deadline.raise_if_cancelled()
            return True
        while True:
            deadline.raise_if_cancelled()
            with self._lock:
                now = self._clock()
                paused = self._paused_until if self._paused_until > waited_out else now
                slot = max(now, self._next, paused)
                if slot - now > deadline.remaining():
                    return False
                self._next = slot + 1.0 / self._rate(slot)
                generation = self._generation
            if slot > now:
                deadline.sleep(slot - now, sleep)
            while True:
                with self._lock:
                    if generation != self._generation:
                        break
                    now = self._clock()
                    while self._sent and self._sent[0] <= now - 1.0 + 1e-9:
                        self._sent.popleft()
                    if len(self._sent) < self._window:
                        self._sent.append(now)
                        return True
                    full = self._sent[0] + 1.0 - now
                # Threads woke late and bunched: this turn waits for the oldest send of the
                # last second to age out.
                if full > deadline.remaining():
                    return False
                deadline.sleep(full, sleep)
            # A 429 arrived while this thread waited: its turn is planned again, under the
            # lowered rate and after the pause.

    def paused_for(self) -> float:
        """Seconds left of the pause a server's ``Retry-After`` imposed on every thread (0:
        none)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def throttled(self, retry_after: float | None) -> float:
        """The server answered 429 (``retry_after``: its advice in seconds, if any): lower the
        rate once per episode, and pause every thread until the advised time. Returns the end
        of the pause (for :meth:`acquire`'s ``waited_out``)."""
        if math.isinf(self._ceiling):
            return -math.inf
        with self._lock:
            now = self._clock()
            if retry_after is not None and retry_after > 0:
                self._paused_until = max(self._paused_until, now + min(retry_after, MAX_PAUSE))
            if self._since is not None and now - self._since < max(MIN_HOLD, retry_after or 0):
                self._generation += 1
                return self._paused_until
            self._forget_old(now)
            delivered = float(len(self._answered))  # what the server let through in 1 s
            self._base = max(
                self._ceiling * FLOOR, DECREASE * min(self._rate(now), max(delivered, 1.0))
            )
            self._since = now
            self._next = max(self._next, now)
            self._generation += 1
            self.throttles += 1
            return self._paused_until

    def answered(self) -> None:
        """The server answered a request without 429 (counted for a second, to measure what
        it lets this process through)."""
        if math.isinf(self._ceiling):
            return
        with self._lock:
            now = self._clock()
            self._answered.append(now)
            self._forget_old(now)

    def _forget_old(self, now: float) -> None:
        while self._answered and self._answered[0] <= now - 1.0:
            self._answered.popleft()

    def __repr__(self) -> str:
        return f"<rate-limit bucket at {self.rate():.3g} requests/s of {self._ceiling:g}>"


class Limiter:
    """The buckets of one API key (by identity) and base URL: one per endpoint template, each
    shared process-wide with every other client of the same key and URL."""

    def __init__(self, scope: tuple[str, str], ceiling: float, clock: Clock) -> None:
        self._scope = scope
        self._ceiling = ceiling
        self._clock = clock

    @property
    def limit(self) -> float:
        """The configured requests per second (``math.inf``: no limiter)."""
        return self._ceiling / HEADROOM if math.isfinite(self._ceiling) else math.inf

    def bucket(self, path: str) -> Bucket:
        """The bucket of ``path``'s endpoint."""
        return _bucket((*self._scope, endpoint_template(path)), self._ceiling, self._clock)

    def __repr__(self) -> str:
        return f"<rate limiter: {self.limit:g} requests/s per endpoint>"

    def __reduce__(self) -> NoReturn:
        raise NotPicklableError("a rate limiter belongs to its process and cannot be pickled")


_buckets: dict[tuple[str, str, str], Bucket] = {}
_buckets_lock = threading.Lock()


def _bucket(key: tuple[str, str, str], ceiling: float, clock: Clock) -> Bucket:
    with _buckets_lock:
        found = _buckets.get(key)
        if found is None or found._clock is not clock:
            found = _buckets[key] = Bucket(ceiling, clock=clock)
        elif found.ceiling != ceiling:
            found.set_ceiling(ceiling)
        return found


_enabled = True


def set_enabled(enabled: bool) -> None:
    """Turn the limiter off (or on again) for the clients made from now on in this process:
    off, the client sends as it did before it had one. For benchmarks, which compare the two;
    no setting does this."""
    global _enabled  # noqa: PLW0603 - one process-wide switch
    _enabled = enabled


def limiter(api_key: str, base_url: str, limit: float, *, clock: Clock = time.monotonic) -> Limiter:
    """The process-wide limiter for ``api_key`` at ``base_url``, pacing each endpoint at
    :data:`HEADROOM` of ``limit`` requests per second (``math.inf``: no limiter; only for
    code, no setting accepts it)."""
    ceiling = limit * HEADROOM if math.isfinite(limit) and _enabled else math.inf
    return Limiter((key_identity(api_key), base_url), ceiling, clock)


def reset() -> None:
    """Forget every bucket (tests use this between emulators)."""
    with _buckets_lock:
        _buckets.clear()
