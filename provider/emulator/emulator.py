"""The :class:`Emulator`: a :class:`~provider.emulator.store.ChainStore` with
:class:`~provider.emulator.faults.FaultInjection`, served over HTTP by an
:class:`~provider.emulator.http_server.ApiServer` into its own request log."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import InvalidInputError
from .faults import FaultInjection
from .http_server import HOST, ApiServer
from .limits import RateLimit
from .recording import TALLY, RecordedRequest, RequestLog
from .scenarios import load_default_fixtures
from .shapes import route_path
from .store import ChainStore

__all__ = ["DEFAULT_API_KEY", "Emulator"]

DEFAULT_API_KEY = "emulator-key"
"""The key an :class:`Emulator` accepts unless told otherwise. Not a secret."""


class Emulator(ChainStore, FaultInjection):
    """The Baseten chains API on ``http://127.0.0.1:<port>``, as a context manager.

    It is a :class:`~provider.emulator.store.ChainStore` (``add_chain``, ``add_deployment``,
    ``set_environment``, ``set_timeline``, ... and ``answer``, what the API serves) and a
    :class:`~provider.emulator.faults.FaultInjection` (``add_fault``, ``add_raw_answer``,
    ``latency``, ...); those methods are documented there. ``fixtures=True`` loads
    :func:`~provider.emulator.load_default_fixtures`; ``False`` starts empty. ``clock`` stamps
    the request log and drives timelines' ``after_seconds`` (inject a fake one to step a
    timeline without waiting). ``latency`` seconds are slept before every answer, per request
    and concurrently. ``port=0`` picks a free port. All methods are thread-safe and may be
    called before or while serving; every dict handed in or out is a copy. ``rate_limit``
    enforces Baseten's limit of that many requests per second per key and endpoint
    (:mod:`~provider.emulator.limits`; default ``None``: no limit).
    """

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        fixtures: bool = True,
        port: int = 0,
        rate_limit: int | None = None,
    ) -> None:
        if not api_key or any(c.isspace() for c in api_key):
            raise InvalidInputError("api_key", "must be non-empty and contain no whitespace")
        if not 0 <= port <= 65535:
            raise InvalidInputError("port", f"must be 0-65535, got {port}")
        ChainStore.__init__(self, clock)
        FaultInjection.__init__(self, latency)
        self._log = RequestLog()
        self._http = ApiServer(
            api_key=api_key, port=port, store=self, faults=self, log=self._log, clock=self._now
        )
        if rate_limit is not None:
            self._http.rate_limit = RateLimit(rate_limit, self._now)
        if fixtures:
            load_default_fixtures(self)

    def _now(self) -> float:
        # The server reads the time through here, so a clock assigned later takes effect.
        return self.clock()

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Bind to 127.0.0.1 and serve in a daemon thread. An emulator starts only once."""
        self._http.start()
        TALLY.started()

    def close(self) -> None:
        """Stop serving within about a second: wake hanging and sleeping handlers, cut open
        connections and close the listening socket. Safe to call more than once."""
        self._http.close()

    @property
    def stopping(self) -> bool:
        """True once :meth:`close` has begun."""
        return self._http.stopping

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; only while serving."""
        return f"http://{HOST}:{self._http.port}"

    @property
    def port(self) -> int:
        """The bound port; only while serving."""
        return self._http.port

    @property
    def rate_limit(self) -> RateLimit | None:
        """The enforced rate limit (its ``refused`` counts the 429s), or ``None``."""
        return self._http.rate_limit

    @property
    def api_key(self) -> str:
        """The key requests must carry."""
        return self._http.api_key

    # -- request log --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, in the order the requests finished."""
        return self._log.requests

    def clear_requests(self) -> None:
        """Forget every recorded request."""
        self._log.clear()

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """Recorded requests whose path without query string equals ``path`` exactly."""
        return [r for r in self.requests if route_path(r.path) == path]

    def methods(self) -> set[str]:
        """Every method seen so far (authorized or not)."""
        return {r.method for r in self.requests}

    @staticmethod
    def methods_seen_by_all() -> dict[str, int]:
        """Requests by method, counted over every Emulator of this process since import (or
        :meth:`reset_methods_seen_by_all`), authorized or not; unaffected by
        :meth:`clear_requests`. A session-end check of this proves nothing sent a mutation."""
        return TALLY.methods()

    @staticmethod
    def emulators_started() -> int:
        """How many Emulators this process has started (since import or the last reset)."""
        return TALLY.emulators()

    @staticmethod
    def reset_methods_seen_by_all() -> None:
        """Zero the process-wide tally of :meth:`methods_seen_by_all` and
        :meth:`emulators_started`."""
        TALLY.reset()
