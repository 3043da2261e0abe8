"""What the emulator records about the requests it receives: each emulator's log
(:class:`RequestLog` of :class:`RecordedRequest`) and the process-wide tally (:data:`TALLY`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["TALLY", "RecordedRequest", "RequestLog", "Tally"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received, as seen from the server.

    Times come from the emulator's clock (``time.monotonic`` unless one was injected).
    ``status`` is the HTTP status sent, or 0 when no status line was sent (``drop``, ``hang``,
    shutdown). A request is logged just before the last byte of its answer (or the close) goes
    out, so once a client has read a whole answer the request is already in the log;
    ``finished`` is that moment. Headers and the API key are never recorded; if the key appears
    in the path it is replaced by ``***``.
    """

    method: str
    path: str
    started: float
    finished: float
    status: int
    authorized: bool


class RequestLog:
    """One emulator's requests, in the order they were recorded; thread-safe. Every request
    recorded here is also counted in :data:`TALLY`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    def record(self, request: RecordedRequest) -> None:
        """Append ``request`` and count its method in :data:`TALLY`."""
        with self._lock:
            self._requests.append(request)
        TALLY.count(request.method)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the log."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget every recorded request (the tally keeps its counts)."""
        with self._lock:
            self._requests.clear()


class Tally:
    """Requests by method and emulators started, across every emulator of the process;
    thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._methods: dict[str, int] = {}
        self._emulators = 0

    def count(self, method: str) -> None:
        """Count one request with this method."""
        with self._lock:
            self._methods[method] = self._methods.get(method, 0) + 1

    def started(self) -> None:
        """Count one emulator started."""
        with self._lock:
            self._emulators += 1

    def methods(self) -> dict[str, int]:
        """Requests by method so far (a copy)."""
        with self._lock:
            return dict(self._methods)

    def emulators(self) -> int:
        """Emulators started so far."""
        with self._lock:
            return self._emulators

    def reset(self) -> None:
        """Zero both counts."""
        with self._lock:
            self._methods.clear()
            self._emulators = 0


TALLY = Tally()
"""The one tally of the process, behind :meth:`~provider.emulator.Emulator.methods_seen_by_all`."""
