"""A local stand-in for the Baseten management API (chains endpoints) on 127.0.0.1.

The emulator serves the read-only chain calls of ``https://api.baseten.co`` from in-memory
fixtures, so the client, the readiness gate and the Pulumi provider can be exercised without a
network or a real key. It is built on the standard library only and binds to 127.0.0.1 alone.

What a caller may rely on:

* Routes (``GET`` only, JSON, ``Content-Type: application/json``, always a ``Content-Length``
  unless a :class:`Fault` says otherwise): ``/v1/chains``, ``/v1/chains/{chain_id}``,
  ``/v1/chains/{chain_id}/deployments``,
  ``/v1/chains/{chain_id}/deployments/{chain_deployment_id}`` and
  ``/v1/chains/{chain_id}/environments/{env_name}``. Unknown things answer 404 with a
  ``{"message": ...}`` body; any other method answers 405 (and is recorded, so a test can prove
  that nothing ever sent a ``DELETE``).
* Auth: ``Authorization: Api-Key <key>`` or ``Authorization: Bearer <key>``; anything else
  answers 401 and does not consume a fault.
* Per request, in this order: record the start, check auth, sleep :attr:`Emulator.latency`,
  serve the first matching raw answer (:meth:`Emulator.add_raw_answer`), else apply the first
  matching :class:`Fault` (if any), else answer normally, record the finish.
* Every request any emulator in the process records is also counted by method in a
  process-wide tally (:meth:`Emulator.methods_seen_by_all`), so a test session can prove that
  nothing, anywhere, sent anything but ``GET``.
* Deployments may follow a timeline of :class:`Step` s, by served-request count or by emulator
  clock time; the timeline shows wherever the deployment is served.
* The request log (:class:`RecordedRequest`) never holds headers or the API key.
* Nothing happens at import time; :class:`Emulator` starts a server only on ``__enter__`` /
  :meth:`Emulator.start`, and stops within a second on ``__exit__`` / :meth:`Emulator.close`,
  even while a ``hang`` fault is in progress.

Run it by hand with ``python -m provider.emulator --scenario rollout`` (``--help`` lists the
scenarios).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import hashlib
import hmac
import json
import math
import selectors
import shlex
import signal
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, MappingProxyType
from typing import Any, cast
from urllib.parse import quote, unquote

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CREATED_AT",
    "FAULT_KINDS",
    "HOST",
    "IN_PROGRESS_STATUSES",
    "SCENARIOS",
    "Emulator",
    "Fault",
    "RecordedRequest",
    "Step",
    "apply_scenario",
    "chain_path",
    "deployment_path",
    "environment_path",
    "load_default_fixtures",
    "main",
    "make_chainlet",
    "make_deployment",
]

DEFAULT_API_KEY = "emulator-key"
"""The key an :class:`Emulator` accepts unless told otherwise. Not a secret."""

HOST = "127.0.0.1"
"""The only address the emulator binds to."""

DEFAULT_CREATED_AT = "2026-11-20T09:30:00Z"
"""``created_at`` used by the fixture builders when none is given."""

IN_PROGRESS_STATUSES: frozenset[str] = frozenset(
    {"BUILDING", "DEPLOYING", "LOADING_MODEL", "UPDATING", "WAKING_UP"}
)
"""Statuses during which a timeline serves a chainlet's ``autoscaling_settings`` as null."""

FAULT_KINDS: frozenset[str] = frozenset(
    {
        "rate_limit",
        "status",
        "drop",
        "hang",
        "malformed_json",
        "truncated_json",
        "html",
        "empty_body",
        "wrong_content_type",
        "slow_trickle",
        "unknown_status",
        "unknown_chainlet_status",
        "extra_fields",
        "missing_field",
        "null_chainlets",
    }
)
"""Every :attr:`Fault.kind` the emulator knows (see :class:`Fault` for what each one does)."""

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
# Public value types


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


@dataclass
class Fault:
    """A misbehaviour to inject into matching authorized ``GET`` requests.

    ``kind`` is one of :data:`FAULT_KINDS`:

    * ``rate_limit``: 429 ``{"error": "Rate limit exceeded. ...", "retry_after": N}``; the body
      field only if ``retry_after_body`` is set, a ``Retry-After`` header only if
      ``retry_after`` is set.
    * ``status``: answer ``status`` with a ``{"message": ...}`` body.
    * ``drop``: close the connection without sending anything.
    * ``hang``: send nothing for ``seconds`` (cut short by shutdown), then close.
    * ``malformed_json``: 200, ``application/json``, a body that does not parse.
    * ``truncated_json``: the normal status and headers announcing the full body, half of it
      sent, then the connection closed.
    * ``html``: 200, ``text/html`` error page (a proxy or captive portal).
    * ``empty_body``: 200, ``application/json``, ``Content-Length: 0``.
    * ``wrong_content_type``: the normal answer with ``Content-Type: text/plain``.
    * ``slow_trickle``: the normal answer, its body sent in small chunks over ``seconds``.
    * ``unknown_status``: the deployment's status and every chainlet status become ``value``.
    * ``unknown_chainlet_status``: only the first chainlet's status becomes ``value``.
    * ``extra_fields``: unknown fields added at top level, in chainlets and in
      ``autoscaling_settings``.
    * ``missing_field``: ``field`` (a dotted path such as ``chainlets.0.status``) removed.
    * ``null_chainlets``: ``"chainlets": null``.

    The five content faults (``unknown_status`` ... ``null_chainlets``) change only 200 answers,
    and act on every deployment inside the body (the deployment itself, each one of a list, an
    environment's current and candidate deployment). ``times`` is how many matching requests
    the fault applies to (``None``: forever). The emulator never mutates a Fault it was given.
    Kinds that replace the answer outright (``rate_limit``, ``status``, ``drop``, ``hang``,
    ``malformed_json``, ``html``, ``empty_body``) do not count as serving the deployment for a
    timeline's ``after_requests``; the others build on the normal answer and do count.
    """

    kind: str
    times: int | None = 1
    status: int = 500
    retry_after: float | None = None
    retry_after_body: float | None = None
    seconds: float = 5.0
    field: str = "status"
    value: str = "QUANTUM_FLUX"

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(FAULT_KINDS)}")
        if self.times is not None and (isinstance(self.times, bool) or self.times < 1):
            raise ValueError("times must be None (forever) or a positive integer")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status (100-599), got {self.status}")
        _check_seconds("seconds", self.seconds)
        if self.retry_after is not None:
            _check_seconds("retry_after", self.retry_after)
        if self.retry_after_body is not None:
            _check_seconds("retry_after_body", self.retry_after_body)
        if not self.field:
            raise ValueError("field must not be empty")


@dataclass(frozen=True)
class Step:
    """One stage of a deployment's timeline (see :meth:`Emulator.set_timeline`).

    The deployment takes ``status``; each chainlet takes ``chainlet_statuses[name]`` if given,
    else ``status``. A step is reached once the deployment has been served ``after_requests``
    times before the current request, or once ``after_seconds`` of emulator-clock time have
    passed since ``set_timeline`` (whichever comes first); a step with neither is reached at
    once. The last reached step is the one served.
    """

    status: str
    chainlet_statuses: Mapping[str, str] | None = None
    after_requests: int | None = None
    after_seconds: float | None = None

    def __post_init__(self) -> None:
        if not self.status:
            raise ValueError("status must not be empty")
        if self.chainlet_statuses is not None:
            # A private read-only copy: editing the caller's dict later must not move a timeline.
            object.__setattr__(
                self, "chainlet_statuses", MappingProxyType(dict(self.chainlet_statuses))
            )
        if self.after_requests is not None and self.after_requests < 0:
            raise ValueError("after_requests must not be negative")
        if self.after_seconds is not None:
            _check_seconds("after_seconds", self.after_seconds)

    def reached(self, served: int, elapsed: float) -> bool:
        """Whether this step applies after ``served`` serves and ``elapsed`` seconds."""
        if self.after_requests is None and self.after_seconds is None:
            return True
        by_count = self.after_requests is not None and served >= self.after_requests
        by_time = self.after_seconds is not None and elapsed >= self.after_seconds
        return by_count or by_time

    def chainlet_status(self, name: str) -> str:
        """The status this step gives the chainlet called ``name``."""
        if self.chainlet_statuses is not None and name in self.chainlet_statuses:
            return self.chainlet_statuses[name]
        return self.status


def _check_seconds(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")


# --------------------------------------------------------------------------------------------
# Paths and fixture builders


def chain_path(chain_id: str) -> str:
    """``/v1/chains/{chain_id}`` with the id percent-encoded as one segment."""
    return f"/v1/chains/{quote(chain_id, safe='')}"


def deployment_path(chain_id: str, deployment_id: str) -> str:
    """``/v1/chains/{chain_id}/deployments/{deployment_id}``, each id one encoded segment."""
    return f"{chain_path(chain_id)}/deployments/{quote(deployment_id, safe='')}"


def environment_path(chain_id: str, env_name: str) -> str:
    """``/v1/chains/{chain_id}/environments/{env_name}``, each part one encoded segment."""
    return f"{chain_path(chain_id)}/environments/{quote(env_name, safe='')}"


def _short_id(seed: str) -> str:
    # Deterministic, so fixtures (and anything snapshotting them) are stable between runs.
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    chars = []
    for _ in range(8):
        number, digit = divmod(number, 36)
        chars.append(alphabet[digit])
    return "".join(chars)


def make_chainlet(
    name: str,
    *,
    status: str = "ACTIVE",
    instance_type_name: str = "1x4",
    min_replica: int = 0,
    max_replica: int = 1,
    autoscaling_window: int | None = 60,
    scale_down_delay: int | None = 900,
    concurrency_target: int = 1,
    target_utilization_percentage: int | None = 70,
    target_in_flight_tokens: int | None = None,
    active_replica_count: int | None = None,
    chainlet_id: str | None = None,
) -> dict[str, Any]:
    """A valid ``ChainletV1`` dict.

    ``autoscaling_settings`` carries all seven ``AutoscalingSettingsV1`` fields, except for an
    in-progress ``status`` (:data:`IN_PROGRESS_STATUSES`), where it is null as on Baseten.
    ``active_replica_count`` defaults to ``max(min_replica, 1)`` when ACTIVE, ``min_replica``
    when UNHEALTHY and 0 otherwise. ``chainlet_id`` defaults to 8 characters derived from
    ``name``.
    """
    in_progress = status in IN_PROGRESS_STATUSES
    if active_replica_count is None:
        if status == "ACTIVE":
            active_replica_count = max(min_replica, 1)
        elif status == "UNHEALTHY":
            active_replica_count = min_replica
        else:
            active_replica_count = 0
    settings: dict[str, Any] | None = {
        "min_replica": min_replica,
        "max_replica": max_replica,
        "autoscaling_window": autoscaling_window,
        "scale_down_delay": scale_down_delay,
        "concurrency_target": concurrency_target,
        "target_utilization_percentage": target_utilization_percentage,
        "target_in_flight_tokens": target_in_flight_tokens,
    }
    return {
        "id": chainlet_id if chainlet_id is not None else _short_id(f"chainlet:{name}"),
        "name": name,
        "autoscaling_settings": None if in_progress else settings,
        "instance_type_name": instance_type_name,
        "active_replica_count": 0 if in_progress else active_replica_count,
        "status": status,
    }


# name, instance type, min replica, max replica, concurrency target
_DEFAULT_CHAINLETS: tuple[tuple[str, str, int, int, int], ...] = (
    ("Entrypoint", "1x4", 1, 3, 32),
    ("Retriever", "L4:4x16", 0, 2, 4),
    ("Generator", "H100:1x20x80", 1, 4, 2),
)


def make_deployment(
    chain_id: str,
    deployment_id: str,
    *,
    status: str = "ACTIVE",
    environment: str | None = None,
    chainlets: list[dict[str, Any]] | None = None,
    created_at: str = DEFAULT_CREATED_AT,
) -> dict[str, Any]:
    """A valid ``ChainDeploymentV1`` dict.

    Without ``chainlets`` it has three (``Entrypoint`` on ``1x4``, ``Retriever`` on
    ``L4:4x16``, ``Generator`` on ``H100:1x20x80``), each built by :func:`make_chainlet` with
    ``status`` (min replicas 0 when ``SCALED_TO_ZERO``) and an id derived from the deployment
    id. Given ``chainlets`` are deep-copied as they are.
    """
    if chainlets is None:
        built = []
        for name, instance_type, min_replica, max_replica, target in _DEFAULT_CHAINLETS:
            built.append(
                make_chainlet(
                    name,
                    status=status,
                    instance_type_name=instance_type,
                    min_replica=0 if status == "SCALED_TO_ZERO" else min_replica,
                    max_replica=max_replica,
                    concurrency_target=target,
                    chainlet_id=_short_id(f"chainlet:{chain_id}:{deployment_id}:{name}"),
                )
            )
        chainlets = built
    return {
        "id": deployment_id,
        "created_at": created_at,
        "chain_id": chain_id,
        "environment": environment,
        "chainlets": copy.deepcopy(chainlets),
        "status": status,
    }


# --------------------------------------------------------------------------------------------
# Body transformations for the content faults


def _embedded_deployments(body: Any) -> Iterator[dict[str, Any]]:
    """Every deployment dict inside an answer body (the body itself if it is one)."""
    if not isinstance(body, dict):
        return
    if "chainlets" in body and "chain_id" in body and "id" in body:
        yield body
    deployments = body.get("deployments")
    if isinstance(deployments, list):
        yield from (d for d in deployments if isinstance(d, dict))
    for key in ("current_deployment", "candidate_deployment"):
        if isinstance(body.get(key), dict):
            yield body[key]


def _chainlets_of(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    chainlets = deployment.get("chainlets")
    if not isinstance(chainlets, list):
        return []
    return [c for c in chainlets if isinstance(c, dict)]


def _delete_path(target: Any, dotted: str) -> bool:
    """Delete ``dotted`` (keys and list indices) from ``target``; False if it is not there."""
    *parents, last = dotted.split(".")
    node = target
    for part in parents:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        del node[int(last)]
        return True
    return False


def _transform(fault: Fault, body: Any) -> Any:
    body = copy.deepcopy(body)
    deployments = list(_embedded_deployments(body))
    if fault.kind == "unknown_status":
        for deployment in deployments:
            deployment["status"] = fault.value
            for chainlet in _chainlets_of(deployment):
                chainlet["status"] = fault.value
    elif fault.kind == "unknown_chainlet_status":
        for deployment in deployments:
            chainlets = _chainlets_of(deployment)
            if chainlets:
                chainlets[0]["status"] = fault.value
    elif fault.kind == "extra_fields":
        if isinstance(body, dict):
            body["request_region"] = "us-east4"
        for deployment in deployments:
            deployment["is_development"] = False
            deployment["labels"] = {"team": "ml-platform"}
            for chainlet in _chainlets_of(deployment):
                chainlet["gpu_count"] = 0
                chainlet["readiness"] = {"ready_replicas": chainlet.get("active_replica_count")}
                settings = chainlet.get("autoscaling_settings")
                if isinstance(settings, dict):
                    settings["max_scale_down_rate"] = 2
                    settings["scale_up_delay"] = None
    elif fault.kind == "missing_field":
        if not _delete_path(body, fault.field):
            for deployment in deployments:
                _delete_path(deployment, fault.field)
    elif fault.kind == "null_chainlets":
        for deployment in deployments:
            deployment["chainlets"] = None
    return body


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


# --------------------------------------------------------------------------------------------
# State


@dataclass
class _Timeline:
    steps: tuple[Step, ...]
    started: float
    served: int = 0


@dataclass
class _Environment:
    name: str
    created_at: str
    current: str | None
    candidate: str | None


@dataclass
class _Chain:
    meta: dict[str, Any]
    deployments: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    environments: dict[str, _Environment] = dataclasses.field(default_factory=dict)
    timelines: dict[str, _Timeline] = dataclasses.field(default_factory=dict)


@dataclass
class _FaultSlot:
    fault: Fault
    path: str | None
    remaining: int | None


@dataclass
class _RawAnswer:
    path: str | None
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]
    remaining: int | None


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


_PROMOTION_SETTINGS: dict[str, Any] = {
    "redeploy_on_promotion": False,
    "rolling_deploy": False,
    "rolling_deploy_config": None,
    "ramp_up_while_promoting": False,
    "ramp_up_duration_seconds": 600,
}


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


# --------------------------------------------------------------------------------------------
# The emulator


class Emulator:
    """The Baseten chains API on ``http://127.0.0.1:<port>``, as a context manager.

    ``fixtures=True`` loads :func:`load_default_fixtures`; ``False`` starts empty. ``clock``
    stamps the request log and drives timelines' ``after_seconds`` (inject a fake one to step
    a timeline without waiting). ``latency`` seconds are slept before every answer, per request
    and concurrently. ``port=0`` picks a free port. All methods are thread-safe and may be
    called before or while serving; every dict handed in or out is a copy.
    """

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        fixtures: bool = True,
        port: int = 0,
    ) -> None:
        if not api_key or any(c.isspace() for c in api_key):
            raise ValueError("api_key must be non-empty and contain no whitespace")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0-65535, got {port}")
        self._api_key = api_key
        self._port = port
        self.clock = clock
        self._latency = 0.0
        self.latency = latency
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._chains: dict[str, _Chain] = {}
        self._faults: list[_FaultSlot] = []
        self._raw_answers: list[_RawAnswer] = []
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        if fixtures:
            load_default_fixtures(self)

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Bind to 127.0.0.1 and serve in a daemon thread. An emulator starts only once."""
        if self._server is not None or self._stop.is_set():
            raise RuntimeError("an Emulator can be started only once")
        server = _Server(self._port, self)
        # Non-blocking accept: a client that resets before accept() cannot wedge the loop.
        server.socket.setblocking(False)
        server.timeout = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._server = server
        _TALLY.started()
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

    # -- properties ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; only while serving."""
        if self._server is None:
            raise RuntimeError("the emulator is not running (use it as a context manager)")
        return f"http://{HOST}:{self._server.server_port}"

    @property
    def port(self) -> int:
        """The bound port; only while serving."""
        if self._server is None:
            raise RuntimeError("the emulator is not running (use it as a context manager)")
        return self._server.server_port

    @property
    def api_key(self) -> str:
        """The key requests must carry."""
        return self._api_key

    @property
    def latency(self) -> float:
        """Seconds slept before every answer (401s included); settable at any time."""
        return self._latency

    @latency.setter
    def latency(self, value: float) -> None:
        _check_seconds("latency", value)
        self._latency = float(value)

    # -- request log --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, in the order the requests finished."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._requests.clear()

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """Recorded requests whose path without query string equals ``path`` exactly."""
        return [r for r in self.requests if _route_path(r.path) == path]

    def methods(self) -> set[str]:
        """Every method seen so far (authorized or not)."""
        return {r.method for r in self.requests}

    @staticmethod
    def methods_seen_by_all() -> dict[str, int]:
        """Requests by method, counted over every Emulator of this process since import (or
        :meth:`reset_methods_seen_by_all`), authorized or not; unaffected by
        :meth:`clear_requests`. A session-end check of this proves nothing sent a mutation."""
        with _TALLY.lock:
            return dict(_TALLY.methods)

    @staticmethod
    def emulators_started() -> int:
        """How many Emulators this process has started (since import or the last reset)."""
        with _TALLY.lock:
            return _TALLY.emulators

    @staticmethod
    def reset_methods_seen_by_all() -> None:
        """Zero the process-wide tally of :meth:`methods_seen_by_all` and
        :meth:`emulators_started`."""
        _TALLY.reset()

    # -- fixtures -----------------------------------------------------------------------------

    def add_chain(
        self,
        chain_id: str,
        name: str,
        *,
        team_name: str = "default",
        created_at: str = DEFAULT_CREATED_AT,
    ) -> dict[str, Any]:
        """Add (or rename) a chain; its deployments and environments are kept. Returns the
        ``ChainV1`` dict as served."""
        meta = {"id": chain_id, "created_at": created_at, "name": name, "team_name": team_name}
        with self._lock:
            chain = self._chains.get(chain_id)
            if chain is None:
                self._chains[chain_id] = chain = _Chain(meta=meta)
            else:
                chain.meta = meta
            return self._chain_body(chain)

    def add_deployment(self, chain_id: str, deployment: dict[str, Any]) -> dict[str, Any]:
        """Store a raw ``ChainDeploymentV1`` dict (served as given, apart from timelines).

        The chain is created (named after its id) if missing; ``chain_id`` is filled in if the
        dict has none. A deployment with the same ``id`` is replaced and loses its timeline.
        Returns a copy of what is stored.
        """
        if not isinstance(deployment.get("id"), str) or not deployment["id"]:
            raise ValueError("deployment needs a non-empty string 'id'")
        stored = copy.deepcopy(deployment)
        stored.setdefault("chain_id", chain_id)
        with self._lock:
            chain = self._chains.get(chain_id)
            if chain is None:
                self.add_chain(chain_id, chain_id)
                chain = self._chains[chain_id]
            chain.deployments[stored["id"]] = stored
            chain.timelines.pop(stored["id"], None)
            return copy.deepcopy(stored)

    def set_environment(
        self,
        chain_id: str,
        name: str,
        current_deployment_id: str | None,
        candidate_deployment_id: str | None = None,
        *,
        created_at: str = DEFAULT_CREATED_AT,
    ) -> None:
        """Create or repoint environment ``name`` of a chain.

        The current deployment's ``environment`` field becomes ``name``, and any other
        deployment of the chain that claimed ``name`` gets ``environment: null`` (one current
        deployment per environment, as after a promotion). ``KeyError`` if the chain or a
        named deployment is unknown. An existing environment keeps its ``created_at``.
        """
        with self._lock:
            chain = self._chains[chain_id]
            for dep_id in (current_deployment_id, candidate_deployment_id):
                if dep_id is not None and dep_id not in chain.deployments:
                    raise KeyError(f"chain {chain_id!r} has no deployment {dep_id!r}")
            existing = chain.environments.get(name)
            chain.environments[name] = _Environment(
                name=name,
                created_at=existing.created_at if existing else created_at,
                current=current_deployment_id,
                candidate=candidate_deployment_id,
            )
            for dep_id, deployment in chain.deployments.items():
                if dep_id == current_deployment_id:
                    deployment["environment"] = name
                elif deployment.get("environment") == name:
                    deployment["environment"] = None

    def set_timeline(self, chain_id: str, deployment_id: str, steps: Sequence[Step]) -> None:
        """Make a stored deployment change status over time (see :class:`Step`).

        The clock starts and the served count resets now. Store the deployment in its final
        settled shape: while a step gives a chainlet an in-progress status its
        ``autoscaling_settings`` is served as null and ``active_replica_count`` as 0; otherwise
        the stored values are served. "Served" counts GETs of the deployment path and
        environment lookups whose current deployment this is. ``KeyError`` for an unknown
        deployment; ``ValueError`` for no steps or a step naming an unknown chainlet.
        """
        steps = tuple(steps)
        if not steps:
            raise ValueError("a timeline needs at least one step")
        with self._lock:
            chain = self._chains[chain_id]
            deployment = chain.deployments[deployment_id]
            names = {c.get("name") for c in _chainlets_of(deployment)}
            for step in steps:
                unknown = set(step.chainlet_statuses or ()) - names
                if unknown:
                    raise ValueError(f"step names unknown chainlets {sorted(unknown)}")
            chain.timelines[deployment_id] = _Timeline(steps=steps, started=self.clock())

    def timeline(self, chain_id: str, deployment_id: str) -> tuple[Step, ...]:
        """The steps set for a deployment (empty if it has no timeline)."""
        with self._lock:
            chain = self._chains.get(chain_id)
            timeline = chain.timelines.get(deployment_id) if chain else None
            return timeline.steps if timeline else ()

    def chain_ids(self) -> list[str]:
        """Ids of every chain, in insertion order."""
        with self._lock:
            return list(self._chains)

    def deployment_ids(self, chain_id: str) -> list[str]:
        """Ids of a chain's deployments, in insertion order (``KeyError`` if unknown)."""
        with self._lock:
            return list(self._chains[chain_id].deployments)

    def environment_names(self, chain_id: str) -> list[str]:
        """Names of a chain's environments (``KeyError`` if the chain is unknown)."""
        with self._lock:
            return list(self._chains[chain_id].environments)

    def _drop_chain(self, chain_id: str) -> None:
        with self._lock:
            self._chains.pop(chain_id, None)

    # -- faults -------------------------------------------------------------------------------

    def add_fault(self, fault: Fault, path: str | None = None) -> None:
        """Queue ``fault`` for authorized GETs whose path (without query string) equals
        ``path`` exactly, or for every authorized GET if ``path`` is None. The first queued
        fault that matches a request applies to it and uses up one of its ``times``."""
        with self._lock:
            self._faults.append(_FaultSlot(dataclasses.replace(fault), path, fault.times))

    def clear_faults(self) -> None:
        """Drop every queued fault and raw answer."""
        with self._lock:
            self._faults.clear()
            self._raw_answers.clear()

    def add_raw_answer(
        self,
        body: bytes,
        path: str | None = None,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: Sequence[tuple[str, str]] = (),
        times: int | None = 1,
    ) -> None:
        """Answer authorized GETs of ``path`` (every path if None) with exactly these bytes,
        ``times`` times (``None``: forever), before any queued fault. For what no
        :class:`Fault` describes: any body a server might send (property-based tests).
        ``Content-Length`` is always the body's length."""
        if not isinstance(body, bytes):
            raise TypeError("body must be bytes")
        if not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status (100-599), got {status}")
        if times is not None and (isinstance(times, bool) or times < 1):
            raise ValueError("times must be None (forever) or a positive integer")
        for name, value in (("Content-Type", content_type), *headers):
            if any(c in "\r\n" for c in name + value) or not (name + value).isascii():
                raise ValueError("header names and values must be ASCII without line breaks")
        with self._lock:
            self._raw_answers.append(
                _RawAnswer(path, status, bytes(body), content_type, tuple(headers), times)
            )

    def _take_raw_answer(self, path: str) -> _RawAnswer | None:
        with self._lock:
            for index, answer in enumerate(self._raw_answers):
                if answer.path is not None and answer.path != path:
                    continue
                if answer.remaining is not None:
                    answer.remaining -= 1
                    if answer.remaining <= 0:
                        del self._raw_answers[index]
                return answer
            return None

    def pending_fault(self, path: str) -> Fault | None:
        """The fault the next authorized GET of ``path`` would get, without using it up."""
        with self._lock:
            for slot in self._faults:
                if slot.path is None or slot.path == path:
                    return dataclasses.replace(slot.fault)
            return None

    @property
    def faults(self) -> list[tuple[Fault, str | None]]:
        """Queued faults (copies) with their paths, in the order they are tried."""
        with self._lock:
            return [(dataclasses.replace(s.fault), s.path) for s in self._faults]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for index, slot in enumerate(self._faults):
                if slot.path is not None and slot.path != path:
                    continue
                if slot.remaining is not None:
                    slot.remaining -= 1
                    if slot.remaining <= 0:
                        del self._faults[index]
                return dataclasses.replace(slot.fault)
            return None

    # -- used by the handler ------------------------------------------------------------------

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() not in {"api-key", "bearer"}:
            return False
        return hmac.compare_digest(token.strip().encode(), self._api_key.encode())

    def _pause(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if shutdown cut it short (or had already begun)."""
        if seconds <= 0:
            return self._stop.is_set()
        return self._stop.wait(seconds)

    def _redact(self, path: str) -> str:
        for form in {self._api_key, quote(self._api_key, safe="")}:
            path = path.replace(form, "***")
        return path

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
        _TALLY.count(request.method)

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)
        if self._stop.is_set():
            # Accepted during shutdown: close() may already have cut the others.
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _route(self, path: str) -> tuple[int, Any]:
        """The normal answer (status, JSON body) for an authorized GET of ``path``."""
        segments = path.split("/")
        if len(segments) < 3 or segments[0] != "" or segments[1:3] != ["v1", "chains"]:
            return 404, {"message": "Not found"}
        # Split first, decode after, so an encoded "/" (%2F) stays inside its segment.
        parts = [unquote(s) for s in segments[3:]]
        with self._lock:
            match parts:
                case []:
                    chains = [self._chain_body(c) for c in self._chains.values()]
                    return 200, {"chains": chains}
                case [_] | [_, "deployments"] | [_, "deployments", _] | [_, "environments", _]:
                    pass
                case _:
                    return 404, {"message": "Not found"}
            chain = self._chains.get(parts[0])
            if chain is None:
                return 404, {"message": "Chain not found"}
            match parts:
                case [_, "deployments"]:
                    deployments = [
                        self._serve_deployment(chain, d, count=False) for d in chain.deployments
                    ]
                    return 200, {"deployments": deployments}
                case [_, "deployments", deployment_id]:
                    if deployment_id not in chain.deployments:
                        return 404, {"message": "Chain deployment not found"}
                    return 200, self._serve_deployment(chain, deployment_id, count=True)
                case [_, "environments", env_name]:
                    if env_name not in chain.environments:
                        return 404, {"message": "Environment not found"}
                    return 200, self._environment_body(chain, chain.environments[env_name])
                case _:
                    return 200, self._chain_body(chain)

    def _chain_body(self, chain: _Chain) -> dict[str, Any]:
        meta = chain.meta
        return {
            "id": meta["id"],
            "created_at": meta["created_at"],
            "name": meta["name"],
            "deployments_count": len(chain.deployments),
            "team_name": meta["team_name"],
        }

    def _serve_deployment(
        self, chain: _Chain, deployment_id: str, *, count: bool
    ) -> dict[str, Any]:
        deployment = copy.deepcopy(chain.deployments[deployment_id])
        timeline = chain.timelines.get(deployment_id)
        if timeline is None:
            return deployment
        elapsed = self.clock() - timeline.started
        step = None
        for candidate in timeline.steps:
            if candidate.reached(timeline.served, elapsed):
                step = candidate
        if count:
            timeline.served += 1
        if step is not None:
            deployment["status"] = step.status
            for chainlet in _chainlets_of(deployment):
                chainlet["status"] = step.chainlet_status(str(chainlet.get("name")))
                if chainlet["status"] in IN_PROGRESS_STATUSES:
                    chainlet["autoscaling_settings"] = None
                    chainlet["active_replica_count"] = 0
        return deployment

    def _environment_body(self, chain: _Chain, env: _Environment) -> dict[str, Any]:
        current = None
        settings: list[dict[str, Any]] = []
        if env.current is not None and env.current in chain.deployments:
            for chainlet in _chainlets_of(chain.deployments[env.current]):
                settings.append(
                    {
                        "chainlet_name": chainlet.get("name"),
                        "instance_type_name": chainlet.get("instance_type_name"),
                        "autoscaling_settings": copy.deepcopy(chainlet.get("autoscaling_settings")),
                    }
                )
            current = self._serve_deployment(chain, env.current, count=True)
        candidate = None
        if env.candidate is not None and env.candidate in chain.deployments:
            candidate = self._serve_deployment(chain, env.candidate, count=False)
        return {
            "name": env.name,
            "created_at": env.created_at,
            "chain_id": chain.meta["id"],
            "promotion_settings": copy.deepcopy(_PROMOTION_SETTINGS),
            "chainlet_settings": settings,
            "current_deployment": current,
            "candidate_deployment": candidate,
        }


# --------------------------------------------------------------------------------------------
# Fixtures and scenarios

RAG_CHAIN = "ch7k2p9q"
AUDIO_CHAIN = "chq2v8n4"


def load_default_fixtures(emu: Emulator) -> None:
    """(Re)load the default chains, replacing whatever the emulator held under their ids.

    * ``ch7k2p9q`` "rag-pipeline": ``dp3m8x1v`` ACTIVE (production), ``dp9w4n2r`` ACTIVE
      (staging), ``dpbuild1`` BUILDING, ``dpfail01`` BUILD_FAILED (``Generator`` failed, the
      others stopped), ``dpzero01`` SCALED_TO_ZERO; environments production -> dp3m8x1v and
      staging -> dp9w4n2r, no candidates.
    * ``chq2v8n4`` "audio-transcriber": ``dpa1b2c3`` ACTIVE (production).
    """
    emu._drop_chain(RAG_CHAIN)
    emu._drop_chain(AUDIO_CHAIN)
    emu.add_chain(
        RAG_CHAIN, "rag-pipeline", team_name="ml-platform", created_at="2026-10-02T08:14:11Z"
    )
    add = emu.add_deployment
    add(
        RAG_CHAIN,
        make_deployment(
            RAG_CHAIN, "dp3m8x1v", environment="production", created_at="2026-11-18T16:02:45Z"
        ),
    )
    add(
        RAG_CHAIN,
        make_deployment(
            RAG_CHAIN, "dp9w4n2r", environment="staging", created_at="2026-11-19T10:41:03Z"
        ),
    )
    add(
        RAG_CHAIN,
        make_deployment(
            RAG_CHAIN, "dpbuild1", status="BUILDING", created_at="2026-11-20T09:12:30Z"
        ),
    )
    failed = make_deployment(
        RAG_CHAIN, "dpfail01", status="BUILD_STOPPED", created_at="2026-11-17T13:55:09Z"
    )
    failed["status"] = "BUILD_FAILED"
    failed["chainlets"][2]["status"] = "BUILD_FAILED"
    add(RAG_CHAIN, failed)
    add(
        RAG_CHAIN,
        make_deployment(
            RAG_CHAIN, "dpzero01", status="SCALED_TO_ZERO", created_at="2026-11-10T07:20:00Z"
        ),
    )
    emu.set_environment(RAG_CHAIN, "production", "dp3m8x1v", created_at="2026-10-02T08:14:11Z")
    emu.set_environment(RAG_CHAIN, "staging", "dp9w4n2r", created_at="2026-10-05T12:00:00Z")

    emu.add_chain(
        AUDIO_CHAIN, "audio-transcriber", team_name="ml-platform", created_at="2026-09-14T11:03:27Z"
    )
    chainlets = [
        make_chainlet(
            "Entrypoint",
            instance_type_name="1x2",
            min_replica=1,
            max_replica=2,
            concurrency_target=16,
            chainlet_id=_short_id("chainlet:dpa1b2c3:Entry"),
        ),
        make_chainlet(
            "Transcriber",
            instance_type_name="A10G:4x16",
            min_replica=1,
            max_replica=6,
            concurrency_target=4,
            target_in_flight_tokens=None,
            chainlet_id=_short_id("chainlet:dpa1b2c3:Transcriber"),
        ),
    ]
    add(
        AUDIO_CHAIN,
        make_deployment(
            AUDIO_CHAIN,
            "dpa1b2c3",
            environment="production",
            chainlets=chainlets,
            created_at="2026-11-12T15:47:51Z",
        ),
    )
    emu.set_environment(AUDIO_CHAIN, "production", "dpa1b2c3", created_at="2026-09-14T11:03:27Z")


def _scenario_default(emu: Emulator) -> None:
    load_default_fixtures(emu)


def _scenario_rollout(emu: Emulator) -> None:
    load_default_fixtures(emu)
    emu.add_deployment(
        RAG_CHAIN, make_deployment(RAG_CHAIN, "dprollout", created_at="2026-11-27T12:00:00Z")
    )
    emu.set_environment(RAG_CHAIN, "production", "dprollout")
    emu.set_timeline(
        RAG_CHAIN,
        "dprollout",
        [
            Step("BUILDING"),
            Step("DEPLOYING", after_seconds=3),
            Step(
                "DEPLOYING",
                {"Entrypoint": "ACTIVE", "Retriever": "ACTIVE", "Generator": "LOADING_MODEL"},
                after_seconds=6,
            ),
            Step("ACTIVE", after_seconds=8),
        ],
    )


def _scenario_flaky(emu: Emulator) -> None:
    load_default_fixtures(emu)
    emu.add_fault(Fault("status", status=503))
    emu.add_fault(Fault("rate_limit", retry_after=1, retry_after_body=1))


def _scenario_build_failed(emu: Emulator) -> None:
    load_default_fixtures(emu)
    emu.add_deployment(
        RAG_CHAIN, make_deployment(RAG_CHAIN, "dpbroken", created_at="2026-11-27T12:00:00Z")
    )
    emu.set_environment(RAG_CHAIN, "production", "dpbroken")
    emu.set_timeline(
        RAG_CHAIN,
        "dpbroken",
        [
            Step("BUILDING"),
            Step(
                "BUILDING", {"Entrypoint": "DEPLOYING", "Retriever": "DEPLOYING"}, after_seconds=2
            ),
            Step(
                "BUILD_FAILED",
                {
                    "Entrypoint": "BUILD_STOPPED",
                    "Retriever": "BUILD_STOPPED",
                    "Generator": "BUILD_FAILED",
                },
                after_seconds=4,
            ),
        ],
    )


def _scenario_scaled_to_zero(emu: Emulator) -> None:
    load_default_fixtures(emu)
    emu.set_environment(RAG_CHAIN, "production", "dpzero01")


def _scenario_drift(emu: Emulator) -> None:
    load_default_fixtures(emu)
    deployment = make_deployment(
        RAG_CHAIN, "dpdrift1", environment=None, created_at="2026-11-26T18:30:00Z"
    )
    # The schema-valid part of the drift lives in the data (extra fields are allowed); the
    # unknown status, which breaks the published schema, is a fault so it can be told apart.
    deployment["is_development"] = False
    deployment["labels"] = {"team": "ml-platform"}
    for chainlet in deployment["chainlets"]:
        chainlet["gpu_count"] = 1
        chainlet["autoscaling_settings"]["max_scale_down_rate"] = 2
    emu.add_deployment(RAG_CHAIN, deployment)
    emu.set_environment(RAG_CHAIN, "canary", "dpdrift1")
    emu.add_fault(Fault("unknown_status", times=None), deployment_path(RAG_CHAIN, "dpdrift1"))


SCENARIOS: dict[str, tuple[str, Callable[[Emulator], None]]] = {
    "default": (
        "the default fixtures: chains ch7k2p9q (rag-pipeline) and chq2v8n4",
        _scenario_default,
    ),
    "rollout": (
        "ch7k2p9q/dprollout in production: BUILDING, DEPLOYING at 3 s, Generator "
        "LOADING_MODEL at 6 s, ACTIVE at 8 s",
        _scenario_rollout,
    ),
    "flaky": (
        "default fixtures; the first request gets 503, the second 429 with Retry-After: 1",
        _scenario_flaky,
    ),
    "build-failed": (
        "ch7k2p9q/dpbroken in production: BUILDING, then BUILD_FAILED on Generator at 4 s",
        _scenario_build_failed,
    ),
    "scaled-to-zero": (
        "ch7k2p9q production points at dpzero01 (SCALED_TO_ZERO)",
        _scenario_scaled_to_zero,
    ),
    "drift": (
        "ch7k2p9q/dpdrift1 (environment canary): extra fields, and status QUANTUM_FLUX "
        "on its deployment call",
        _scenario_drift,
    ),
}
"""Scenario name -> (one-line description, setup function applied to an Emulator)."""


def apply_scenario(emu: Emulator, name: str) -> None:
    """Set ``emu`` up as scenario ``name`` (meant for a fresh emulator; the default chains
    are reloaded, queued faults are kept). ``KeyError`` naming the known scenarios if unknown."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    SCENARIOS[name][1](emu)


# --------------------------------------------------------------------------------------------
# Command line


def _non_negative(text: str) -> float:
    try:
        value = float(text)
        _check_seconds("latency", value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _parser() -> argparse.ArgumentParser:
    width = max(len(name) for name in SCENARIOS)
    lines = [f"  {name:<{width}}  {desc}" for name, (desc, _) in SCENARIOS.items()]
    return argparse.ArgumentParser(
        prog="python -m provider.emulator",
        description="Serve a local stand-in for the Baseten chains API on 127.0.0.1.",
        epilog="scenarios:\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until Ctrl-C or SIGTERM; returns the exit status (0)."""
    parser = _parser()
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--scenario",
        default="default",
        choices=sorted(SCENARIOS),
        metavar="NAME",
        help="scenario to serve, see below (default: %(default)s)",
    )
    parser.add_argument(
        "--latency",
        type=_non_negative,
        default=0.0,
        help="seconds to wait before every answer (default: 0)",
    )
    parser.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help="key clients must send (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be 0-65535")

    try:
        emu = Emulator(args.api_key, latency=args.latency, fixtures=False, port=args.port)
    except ValueError as exc:
        parser.error(str(exc))
    apply_scenario(emu, args.scenario)
    try:
        emu.start()
    except OSError as exc:
        print(f"cannot listen on {HOST}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    try:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, _on_signal)
        print(
            f"Baseten API emulator on {emu.url} (scenario: {args.scenario}); "
            f"export BASETEN_API_URL={emu.url} BASETEN_API_KEY={shlex.quote(emu.api_key)}",
            flush=True,
        )
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        emu.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
