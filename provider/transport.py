"""The HTTP transport under :class:`~provider.client.BasetenClient`: every socket read of an
attempt is bounded by that attempt's deadline and watches the caller's cancel signal.

Why this module exists: ``requests`` and ``urllib3`` bound each socket operation separately
(a connect timeout, then a timeout *per read*), so a server that keeps sending something - a
``100 Continue`` every second, headers one byte at a time, a chunk-size line that never ends -
can hold a call for as long as it likes. Nothing in their public API bounds the status line and
headers as a whole. So the connections this transport makes read their responses through
:class:`_DeadlineReader`, which gives each ``recv`` only the time left before the attempt's
deadline (and wakes up every :data:`CANCEL_POLL_SECONDS` to look at the cancel signal).

What the client may rely on:

* an informational ``1xx`` answer (other than ``101``) is skipped, as ``100 Continue`` is;
* inside :func:`bounded`, every read of a response (status line, headers, ``1xx`` responses,
  body, chunk-size lines; plain HTTP and TLS alike) ends by :attr:`Scope.at`, with a
  ``TimeoutError`` that ``urllib3`` turns into its read timeout; :attr:`Scope.ended_by` then
  says whether the deadline or the cancel signal ended it;
* connecting is bounded by the connect timeout the client passes (it makes it no longer than
  the time left); a DNS lookup is bounded only by the system resolver;
* outside :func:`bounded` the transport behaves exactly like ``requests``' own.

The pieces of ``urllib3``/``http.client`` machinery used beyond their documented API are the
``response_class`` attribute of ``http.client.HTTPConnection`` (the class it builds a response
with) and ``PoolManager.pool_classes_by_scheme`` (the pool class per scheme), both plain
attributes that ``urllib3`` 2.x itself relies on, and ``HTTPResponse._read_status`` (one status
line), overridden so that every ``1xx`` but ``101`` is skipped as ``100 Continue`` is: nothing
public lets a caller see past ``103 Early Hints``. They are confined to this module.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import urllib3.connection
import urllib3.connectionpool
import urllib3.poolmanager
from requests.adapters import HTTPAdapter

CANCEL_POLL_SECONDS = 0.2
"""How often a blocked read looks at the cancel signal: the most a cancel waits on a read."""


@dataclass
class Scope:
    """One attempt's bounds, and what happened to it.

    ``at`` is a point on ``time.monotonic()``; ``cancel`` is the caller's signal. The transport
    fills in ``received`` (bytes read from the socket) and ``ended_by`` (``"deadline"`` or
    ``"cancel"`` when it cut a read short).
    """

    at: float
    cancel: threading.Event | None = None
    received: int = 0
    ended_by: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _end(self, cause: str) -> TimeoutError:
        with self._lock:
            if self.ended_by is None:
                self.ended_by = cause
        return TimeoutError(f"the attempt's {cause} ended the read")


_local = threading.local()


def current() -> Scope | None:
    """The scope this thread's attempt runs in, if any."""
    scope: Scope | None = getattr(_local, "scope", None)
    return scope


@contextlib.contextmanager
def bounded(scope: Scope) -> Iterator[Scope]:
    """Run an attempt within ``scope``: responses created in here read under its bounds."""
    previous = current()
    _local.scope = scope
    try:
        yield scope
    finally:
        _local.scope = previous


class _DeadlineReader(io.RawIOBase):
    """The raw stream a response reads from: ``recv_into`` on the connection's socket, each
    call given only the time left in the scope it was created in.

    ``keep`` is the file object ``http.client`` made for the socket; holding it open keeps the
    socket's file descriptor alive if the connection closes before the body is read (as
    ``http.client`` does for a ``Connection: close`` response), exactly as ``makefile`` would.
    """

    def __init__(self, sock: socket.socket, keep: Any, scope: Scope) -> None:
        super().__init__()
        self._sock = sock
        self._keep = keep
        self._scope = scope

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._sock.fileno()

    def readinto(self, buffer: Any) -> int:
        scope = self._scope
        sock = self._sock
        previous = sock.gettimeout()
        try:
            while True:
                if scope.cancel is not None and scope.cancel.is_set():
                    raise scope._end("cancel")
                left = scope.at - time.monotonic()
                if left <= 0:
                    raise scope._end("deadline")
                sock.settimeout(min(left, CANCEL_POLL_SECONDS))
                try:
                    count = sock.recv_into(buffer)
                except TimeoutError:
                    continue  # the loop decides: deadline, cancel, or keep waiting
                scope.received += count
                return count
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(previous)

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(OSError):
                self._keep.close()
        super().close()


class _BoundedResponse(http.client.HTTPResponse):
    """``http.client``'s response, reading through a :class:`_DeadlineReader` when it is made
    inside :func:`bounded`, and skipping every informational ``1xx`` answer (``103 Early
    Hints`` and the like), not only ``100 Continue``."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        scope = current()
        if scope is not None:
            reader = _DeadlineReader(sock, self.fp, scope)
            self.fp = io.BufferedReader(reader)

    def _read_status(self) -> tuple[str, int, str]:
        # http.client's begin() skips a 100 (and its headers) and reads the next status line,
        # but takes any other 1xx as the final answer. Reported as a 100, an interim answer is
        # skipped by that same loop, under the same deadline; 101 (a protocol switch) is final.
        version, status, reason = super()._read_status()  # type: ignore[misc]
        if 100 < status < 200 and status != 101:
            return version, http.client.CONTINUE, reason
        return version, status, reason


class _HTTPConnection(urllib3.connection.HTTPConnection):
    response_class = _BoundedResponse


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    response_class = _BoundedResponse


class _HTTPConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOL_CLASSES: dict[str, type[urllib3.connectionpool.HTTPConnectionPool]] = {
    "http": _HTTPConnectionPool,
    "https": _HTTPSConnectionPool,
}


class BoundedAdapter(HTTPAdapter):
    """``requests``' adapter, whose connections (direct or through an HTTP(S) proxy) read
    their responses under the scope of :func:`bounded`. A SOCKS proxy keeps its own
    connections, bounded per read only."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if manager.pool_classes_by_scheme is urllib3.poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = _POOL_CLASSES
        return manager
