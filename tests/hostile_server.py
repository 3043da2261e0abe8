"""A deliberately hostile HTTP server on 127.0.0.1, made of plain sockets and threads.

Not the emulator: the emulator speaks correct HTTP and misbehaves within it, while the point
here is a server that keeps the protocol itself hostage - an endless ``100 Continue`` storm,
headers or a chunk-size line trickled one byte at a time, a connection accepted and never
answered - or that answers in ways no well-behaved server would (the caller's key echoed
back, absurd ``Retry-After`` values, another deployment's data).

Each request is routed by its path to a :data:`Behaviour`: a function that gets the
:class:`Exchange` (the parsed request and the socket) and writes whatever it likes. Behaviours
wait only through :meth:`Exchange.pause`, which returns ``False`` as soon as the server is
closing, so :meth:`HostileServer.close` ends every one of them within a bounded time.

Bounded in every dimension: at most ``max_connections`` connections are served (later ones
are closed at once), a request head is read up to 64 KiB and 5 s, every thread is a daemon
and is joined on close, and nothing is recorded of a request but its method and path (never
its headers, which carry the key).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_SECONDS = 5.0


@dataclass
class Exchange:
    """One request on one connection, and the means to answer it."""

    method: str
    path: str
    headers: dict[str, str]
    sock: socket.socket
    stop: threading.Event

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header as received (behaviours that echo it back use this)."""
        return self.headers.get("authorization", "")

    def send(self, data: bytes) -> bool:
        """Write ``data``; ``False`` if the peer has gone (the behaviour should then stop)."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds``; ``False`` (at once) if the server is closing."""
        return not self.stop.wait(seconds)


Behaviour = Callable[[Exchange], None]


@dataclass
class HostileServer:
    """Serves ``routes`` (path -> behaviour; ``default`` for any other path) on 127.0.0.1."""

    routes: Mapping[str, Behaviour] = field(default_factory=dict)
    default: Behaviour | None = None
    max_connections: int = 256
    seen: list[tuple[str, str]] = field(default_factory=list)
    # When each path was first asked for (time.monotonic(), which all processes share).
    first_seen: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _socks: list[socket.socket] = field(default_factory=list)
    _listener: socket.socket | None = None
    _connections: int = 0
    _port: int = 0

    @property
    def port(self) -> int:
        assert self._port, "the server was never started"
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HostileServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.1)  # the accept loop looks at the stop signal this often
        self._listener = listener
        self._port = int(listener.getsockname()[1])
        self._spawn(self._accept_loop, "hostile-accept")
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, wake every behaviour, close every socket, join every thread."""
        self._stop.set()
        with self._lock:
            socks = list(self._socks)
            threads = list(self._threads)
        for sock in socks:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._listener is not None:
            self._listener.close()
        for thread in threads:
            thread.join(timeout)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            with self._lock:
                self._connections += 1
                over = self._connections > self.max_connections
                if not over:
                    self._socks.append(sock)
            if over:
                sock.close()
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._serve, "hostile-conn", sock)

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            # Keep-alive: one connection may carry several requests (retries reuse it).
            while not self._stop.is_set():
                request = _read_head(sock)
                if request is None:
                    return
                method, path, headers = request
                with self._lock:
                    self.seen.append((method, path))
                    self.first_seen.setdefault(path, time.monotonic())
                behaviour = self.routes.get(path.split("?", 1)[0], self.default)
                exchange = Exchange(method, path, headers, sock, self._stop)
                if behaviour is None:
                    respond(404, {"message": "no such route"})(exchange)
                else:
                    behaviour(exchange)
                if headers.get("connection", "").lower() == "close":
                    return


def _read_head(sock: socket.socket) -> tuple[str, str, dict[str, str]] | None:
    """The request line and headers, or ``None`` if the peer closed or sent nonsense."""
    data = b""
    try:
        sock.settimeout(HEAD_TIMEOUT_SECONDS)
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
            if len(data) > MAX_HEAD_BYTES:
                return None
    except OSError:
        return None
    finally:
        with suppress(OSError):
            sock.settimeout(None)
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1], headers


@contextmanager
def hostile(
    routes: Mapping[str, Behaviour] | None = None, default: Behaviour | None = None
) -> Iterator[HostileServer]:
    server = HostileServer(dict(routes or {}), default)
    with server:
        yield server


# -- behaviours ---------------------------------------------------------------------------


def _head(status: int, reason: str, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    reason: str = "Whatever",
    echo: str = "{auth}",
) -> Behaviour:
    """A complete, well-framed answer. ``body`` (bytes, str, or a JSON value) may hold
    ``echo`` (``{auth}``), replaced by the request's ``Authorization`` header as received."""

    def behaviour(exchange: Exchange) -> None:
        said = reason.replace(echo, exchange.authorization)
        if isinstance(body, bytes):
            payload = body.replace(echo.encode(), exchange.authorization.encode("latin-1"))
        else:
            text = body if isinstance(body, str) else json.dumps(body)
            payload = text.replace(echo, exchange.authorization).encode("utf-8")
        content_type = "text/plain" if isinstance(body, str) else "application/json"
        merged = {"Content-Type": content_type, **(headers or {})}
        merged["Content-Length"] = str(len(payload))
        exchange.send(_head(status, said, merged) + payload)

    return behaviour


def raw_answer(status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> Behaviour:
    """Exactly ``headers`` (none added but ``Content-Length``) and ``body``: for answers whose
    every byte a test chose (a missing or odd ``Content-Type``, a reason phrase with anything
    Latin-1 can carry)."""

    def behaviour(exchange: Exchange) -> None:
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
        lines.append(f"Content-Length: {len(body)}")
        exchange.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    return behaviour


def continue_storm(interval: float = 1.0) -> Behaviour:
    """``HTTP/1.1 100 Continue`` every ``interval`` seconds, forever: a final status never
    comes, yet the connection is never silent for long."""

    def behaviour(exchange: Exchange) -> None:
        while exchange.send(b"HTTP/1.1 100 Continue\r\n\r\n") and exchange.pause(interval):
            pass

    return behaviour


def header_trickle(interval: float = 0.2) -> Behaviour:
    """A 200 status line, then one header byte every ``interval`` seconds, never ending."""

    def behaviour(exchange: Exchange) -> None:
        if not exchange.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: "):
            return
        while exchange.pause(interval) and exchange.send(b"a"):
            pass

    return behaviour


def chunk_trickle(interval: float = 0.2) -> Behaviour:
    """A chunked 200 whose first chunk-size line arrives one ``0`` at a time, never ending
    (leading zeros: the line is still a valid size, it just never finishes)."""

    def behaviour(exchange: Exchange) -> None:
        head = _head(
            200, "OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        )
        if not exchange.send(head):
            return
        while exchange.pause(interval) and exchange.send(b"0"):
            pass

    return behaviour


def silent(exchange: Exchange) -> None:
    """Accept the request and never answer (until the server closes)."""
    while exchange.pause(1.0):
        pass


def key_fragments(text: str, key: str, size: int = 8) -> set[str]:
    """Every run of ``size`` consecutive characters of ``key`` found in ``text``."""
    return {key[i : i + size] for i in range(len(key) - size + 1) if key[i : i + size] in text}
