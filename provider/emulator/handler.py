"""HTTP plumbing: the listening server and the per-connection request handler, which turn an
HTTP request into an :class:`~provider.emulator.Emulator` lookup, a fault or a raw answer."""

from __future__ import annotations

import json
import math
import socket
import socketserver
import sys
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

from .faults import Fault, _transform
from .recording import RecordedRequest

if TYPE_CHECKING:
    from .server import Emulator

__all__ = ["HOST"]

HOST = "127.0.0.1"
"""The only address the emulator binds to."""

_RATE_LIMIT_MESSAGE = "Rate limit exceeded. Please try again later."
_AUTH_MESSAGE = "Invalid or missing API key"
_STATUS_MESSAGES: dict[int, str] = {
    400: "Bad request",
    401: _AUTH_MESSAGE,
    403: "You do not have permission to perform this action",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
_MALFORMED_BODY = b'{"id": "dp3m8x1v", "status": "ACTIVE", "chainlets": [{"name": "Entry'
_HTML_BODY = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>Bad Gateway</h1><p>The upstream server did not answer. "
    b"Please sign in to the network portal and try again.</p></body></html>\n"
)
# Bodies larger than this are not read; the connection is closed after the answer instead.
_MAX_DISCARD_BYTES = 16 * 1024 * 1024
_TRICKLE_CHUNKS = 20


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # Many clients may connect at once (latency tests); the default backlog of 5 would make
    # the kernel drop SYNs and add a one-second retransmit to some of them.
    request_queue_size = 128

    def __init__(self, port: int, emulator: Emulator) -> None:
        self.emulator = emulator
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
        if self.emulator.stopping:
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
    _method: str = ""
    _authorized: bool = False
    _recorded: bool = True

    def version_string(self) -> str:
        return self.server_version

    @property
    def _emu(self) -> Emulator:
        return cast(_Server, self.server).emulator

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the
        # client's delayed ACK would add ~40 ms to every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._emu._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._emu._untrack(self.connection)

    def parse_request(self) -> bool:
        # Called right after the request line was read: the closest hook to "request start".
        self._started = self._emu.clock()
        self._status = 0
        return super().parse_request()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_OPTIONS(self) -> None:
        self._serve("OPTIONS")

    # -- per request --------------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        emu = self._emu
        self._method = method
        self._authorized = False
        self._recorded = False
        try:
            self._discard_body()
            self._authorized = emu._authorized(self.headers.get("Authorization"))
            emu._pause(emu.latency)
            if not self._authorized:
                self._send_json(401, {"message": _AUTH_MESSAGE})
            elif method != "GET":
                self._send_json(405, {"message": "Method not allowed"})
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
        emu = self._emu
        emu._record(
            RecordedRequest(
                method=self._method,
                path=emu._redact(self.path),
                started=self._started,
                finished=emu.clock(),
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
        emu = self._emu
        route_path = _route_path(self.path)
        raw = emu._take_raw_answer(route_path)
        if raw is not None:
            self._send(raw.status, raw.body, raw.content_type, headers=raw.headers)
            return
        fault = emu._take_fault(route_path)
        if fault is None:
            status, body = emu._route(route_path)
            self._send_json(status, body)
            return
        kind = fault.kind
        if kind == "rate_limit":
            payload: dict[str, Any] = {"error": _RATE_LIMIT_MESSAGE}
            headers: list[tuple[str, str]] = []
            if fault.retry_after_body is not None:
                payload["retry_after"] = _number(fault.retry_after_body)
            if fault.retry_after is not None:
                headers.append(("Retry-After", str(_number(fault.retry_after))))
            self._send_json(429, payload, headers)
        elif kind == "status":
            self._send_json(fault.status, {"message": _status_message(fault.status)})
        elif kind == "drop":
            self._close_now()
        elif kind == "hang":
            emu._pause(fault.seconds)
            self._close_now()
        elif kind == "malformed_json":
            self._send(200, _MALFORMED_BODY, "application/json")
        elif kind == "html":
            self._send(200, _HTML_BODY, "text/html; charset=utf-8")
        elif kind == "empty_body":
            self._send(200, b"", "application/json")
        else:
            self._answer_with_body_fault(fault, route_path)

    def _answer_with_body_fault(self, fault: Fault, route_path: str) -> None:
        status, body = self._emu._route(route_path)
        if status == 200:
            body = _transform(fault, body)
        data = _dumps(body)
        if fault.kind == "truncated_json":
            self._send(status, data[: len(data) // 2], "application/json", length=len(data))
            self._close_now()
        elif fault.kind == "wrong_content_type":
            self._send(status, data, "text/plain; charset=utf-8")
        elif fault.kind == "slow_trickle":
            self._trickle(status, data, fault.seconds)
        else:
            self._send(status, data, "application/json")

    # -- writing ------------------------------------------------------------------------------

    def _send_json(self, status: int, body: Any, headers: Sequence[tuple[str, str]] = ()) -> None:
        self._send(status, _dumps(body), "application/json", headers=headers)

    def _send(
        self,
        status: int,
        data: bytes,
        content_type: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        length: int | None = None,
    ) -> None:
        with_body = bool(data) and self.command != "HEAD"
        self._send_head(status, content_type, len(data) if length is None else length, headers)
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

    def _trickle(self, status: int, data: bytes, seconds: float) -> None:
        if not data or self.command == "HEAD":
            self._send(status, data, "application/json")
            return
        self._send_head(status, "application/json", len(data))
        self.end_headers()
        size = max(1, math.ceil(len(data) / _TRICKLE_CHUNKS))
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        pause = seconds / len(chunks)
        for index, chunk in enumerate(chunks):
            if self._emu._pause(pause):
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


def _route_path(raw: str) -> str:
    return raw.split("?", 1)[0].split("#", 1)[0]


def _status_message(status: int) -> str:
    if status in _STATUS_MESSAGES:
        return _STATUS_MESSAGES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(", ", ": ")).encode("utf-8")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
