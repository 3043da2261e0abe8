"""HTTP on 127.0.0.1: :class:`ApiServer`, its listening socket and the per-connection request
handler. Per request the handler checks the key, sleeps the latency, then sends the first
matching raw answer, else the first matching fault's answer, else the store's normal answer,
and records the request; it reaches the store, the faults and the log only through their
public methods."""

from __future__ import annotations

import contextlib
import hmac
import math
import selectors
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import quote

from ..errors import UsageError
from .faults import Answer, FaultInjection, error_answer, rate_limited
from .limits import RateLimit
from .recording import RecordedRequest, RequestLog
from .shapes import route_path, to_json
from .store import ChainStore

__all__ = ["HOST", "ApiServer"]

HOST = "127.0.0.1"
"""The only address the emulator binds to."""

# Bodies larger than this are not read; the connection is closed after the answer instead.
_MAX_DISCARD_BYTES = 16 * 1024 * 1024
_TRICKLE_CHUNKS = 20


class ApiServer:
    """The API over HTTP on ``127.0.0.1:port`` (0: any free port), served in a daemon thread.

    Requests need ``Authorization: Api-Key <api_key>`` (or ``Bearer``); answers come from
    ``store`` and ``faults``, and every request goes to ``log`` stamped by ``clock``. A server
    starts at most once; :meth:`close` stops it within about a second, hangs included.
    """

    def __init__(
        self,
        *,
        api_key: str,
        port: int,
        store: ChainStore,
        faults: FaultInjection,
        log: RequestLog,
        clock: Callable[[], float],
    ) -> None:
        self.api_key = api_key
        self.store = store
        self.faults = faults
        self.log = log
        self.clock = clock
        self.rate_limit: RateLimit | None = None
        """Baseten's per-key, per-endpoint limit, when enforced (:mod:`.limits`)."""
        self._port = port
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Bind and serve (``OSError`` if the port is taken). :class:`UsageError` if started or
        closed before."""
        if self._server is not None or self._stop.is_set():
            raise UsageError("an Emulator can be started only once")
        server = _Server(self._port, self)
        # Non-blocking accept: a client that resets before accept() cannot wedge the loop.
        server.socket.setblocking(False)
        server.timeout = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._server = server
        self._thread = threading.Thread(
            target=self._accept_loop,
            args=(server, self._wake_r),
            name=f"baseten-emulator:{server.server_port}",
            daemon=True,
        )
        self._thread.start()

    def _accept_loop(self, server: _Server, wake: socket.socket) -> None:
        # Instead of serve_forever: its shutdown() waits out a poll interval, while a byte on
        # the wake socket ends this loop at once (emulators are started and stopped per test).
        with selectors.DefaultSelector() as selector:
            selector.register(server.socket, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=1.0):
                    if key.fileobj is server.socket and not self._stop.is_set():
                        server.handle_request()

    def close(self) -> None:
        """Stop serving within about a second: wake hanging and sleeping handlers, cut open
        connections and close the listening socket. Safe to call more than once."""
        self._stop.set()
        server, self._server = self._server, None
        if server is None:
            return
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        server.server_close()
        for end in (self._wake_r, self._wake_w):
            if end is not None:
                end.close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    @property
    def stopping(self) -> bool:
        """True once :meth:`close` has begun."""
        return self._stop.is_set()

    @property
    def port(self) -> int:
        """The bound port; :class:`UsageError` unless serving."""
        if self._server is None:
            raise UsageError("the emulator is not running (use it as a context manager)")
        return self._server.server_port

    # -- what the handler asks of the server ----------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries the key (``Api-Key`` or ``Bearer``)."""
        if not header:
            return False
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() not in {"api-key", "bearer"}:
            return False
        return hmac.compare_digest(token.strip().encode(), self.api_key.encode())

    def redact(self, path: str) -> str:
        """``path`` with the key, raw or percent-encoded, replaced by ``***``."""
        for form in {self.api_key, quote(self.api_key, safe="")}:
            path = path.replace(form, "***")
        return path

    def pause(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if shutdown cut it short (or had already begun)."""
        if seconds <= 0:
            return self._stop.is_set()
        return self._stop.wait(seconds)

    def track(self, conn: socket.socket) -> None:
        """Remember an open connection, for :meth:`close` to cut."""
        with self._lock:
            self._connections.add(conn)
        if self._stop.is_set():
            # Accepted during shutdown: close() may already have cut the others.
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def untrack(self, conn: socket.socket) -> None:
        """Forget a connection that has ended."""
        with self._lock:
            self._connections.discard(conn)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # Many clients may connect at once (latency tests); the default backlog of 5 would make
    # the kernel drop SYNs and add a one-second retransmit to some of them.
    request_queue_size = 128

    def __init__(self, port: int, api: ApiServer) -> None:
        self.api = api
        super().__init__((HOST, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn, a reverse DNS lookup that can
        # stall for seconds on hosts without DNS; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up mid-answer (read timeouts in tests) is normal, not an error.
        # Anything else is printed by the default handler so emulator bugs stay visible.
        if self.api.stopping:
            return
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BasetenEmulator/1.0"
    sys_version = ""
    # Idle keep-alive connections are closed after this long, so their threads end.
    timeout = 60

    _started: float = 0.0
    _status: int = 0
    _authorized: bool = False
    _recorded: bool = True

    def version_string(self) -> str:
        return self.server_version

    @property
    def _api(self) -> ApiServer:
        return cast(_Server, self.server).api

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the
        # client's delayed ACK would add ~40 ms to every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._api.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._api.untrack(self.connection)

    def parse_request(self) -> bool:
        # Called right after the request line was read: the closest hook to "request start".
        self._started = self._api.clock()
        self._status = 0
        return super().parse_request()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    # Every other method is answered too (405), so that it is recorded and can be counted.
    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # -- per request --------------------------------------------------------------------------

    def _serve(self) -> None:
        api = self._api
        self._authorized = False
        self._recorded = False
        try:
            self._discard_body()
            self._authorized = api.authorized(self.headers.get("Authorization"))
            # Counted on arrival, as the server behind the latency would count it.
            wait = None
            if api.rate_limit is not None and self._authorized and self.command == "GET":
                wait = api.rate_limit.admit(api.api_key, route_path(self.path))
            api.pause(api.faults.latency)
            if wait is not None:
                self._send(rate_limited(wait, wait))
            elif not self._authorized or self.command != "GET":
                self._send(error_answer(401 if not self._authorized else 405))
            else:
                self._answer_get()
        except OSError:
            # The client went away (or shutdown cut the socket): nothing more can be sent.
            self.close_connection = True
        finally:
            self._record()

    def _record(self) -> None:
        """Log this request once. Called just before the last byte (or the close) goes out, so
        a client that has seen the end of its answer always finds the request in the log."""
        if self._recorded:
            return
        self._recorded = True
        api = self._api
        api.log.record(
            RecordedRequest(
                method=self.command,
                path=api.redact(self.path),
                started=self._started,
                finished=api.clock(),
                status=self._status,
                authorized=self._authorized,
            )
        )

    def _discard_body(self) -> None:
        # Unread body bytes would be parsed as the next request on a keep-alive connection.
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return
        raw = self.headers.get("Content-Length")
        if raw is None:
            return
        try:
            length = int(raw)
        except ValueError:
            self.close_connection = True
            return
        if length < 0 or length > _MAX_DISCARD_BYTES:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                self.close_connection = True
                return
            length -= len(chunk)

    def _answer_get(self) -> None:
        api = self._api
        path = route_path(self.path)
        raw = api.faults.take_raw_answer(path)
        if raw is not None:
            self._send(raw)
            return
        fault = api.faults.take_fault(path)
        if fault is None:
            status, body = api.store.answer(path)
            self._send(Answer(status, to_json(body)))
            return
        answer = fault.answer(lambda: api.store.answer(path))
        if answer is None or fault.delivery in {"drop", "hang"}:  # nothing is sent
            if fault.delivery == "hang":
                api.pause(fault.seconds)
            self._close_now()
        elif fault.delivery == "half":
            self._send(answer, part=answer.body[: len(answer.body) // 2])
            self._close_now()
        elif fault.delivery == "trickle":
            self._trickle(answer, fault.seconds)
        else:
            self._send(answer)

    # -- writing ------------------------------------------------------------------------------

    def _send(self, answer: Answer, *, part: bytes | None = None) -> None:
        """Send ``answer``, or only ``part`` of its body under headers announcing all of it."""
        data = answer.body if part is None else part
        with_body = bool(data) and self.command != "HEAD"
        self._send_head(answer.status, answer.content_type, len(answer.body), answer.headers)
        if not with_body:
            self._record()
        self.end_headers()
        if with_body:
            self._record()
            self.wfile.write(data)

    def _send_head(
        self,
        status: int,
        content_type: str,
        length: int,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Queue the status line and headers; the caller sends them with end_headers()."""
        self.send_response(status)
        self._status = status
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")

    def _trickle(self, answer: Answer, seconds: float) -> None:
        data = answer.body
        if not data or self.command == "HEAD":
            self._send(answer)
            return
        self._send_head(answer.status, answer.content_type, len(data))
        self.end_headers()
        size = max(1, math.ceil(len(data) / _TRICKLE_CHUNKS))
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        pause = seconds / len(chunks)
        for index, chunk in enumerate(chunks):
            if self._api.pause(pause):
                self._close_now()
                return
            if index == len(chunks) - 1:
                self._record()
            self.wfile.write(chunk)

    def _close_now(self) -> None:
        self.close_connection = True
        self._record()
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
