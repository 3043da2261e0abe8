"""What the emulator records about the requests it receives: the per-emulator log entry
(:class:`RecordedRequest`) and the process-wide tally of methods seen."""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["RecordedRequest"]


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


class _Tally:
    """Requests by method across every emulator of the process (see ``methods_seen_by_all``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.methods: dict[str, int] = {}
        self.emulators = 0

    def count(self, method: str) -> None:
        with self.lock:
            self.methods[method] = self.methods.get(method, 0) + 1

    def started(self) -> None:
        with self.lock:
            self.emulators += 1

    def reset(self) -> None:
        with self.lock:
            self.methods.clear()
            self.emulators = 0


_TALLY = _Tally()
