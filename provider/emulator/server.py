"""The :class:`Emulator`: its lifecycle, fixtures, faults, request log and routing."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hmac
import selectors
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, unquote

from .faults import Fault, _chainlets_of
from .fixtures import DEFAULT_CREATED_AT, load_default_fixtures
from .handler import HOST, _route_path, _Server
from .recording import _TALLY, RecordedRequest
from .state import _PROMOTION_SETTINGS, _Chain, _Environment, _FaultSlot, _RawAnswer
from .timeline import IN_PROGRESS_STATUSES, Step, _Timeline
from .validation import _check_seconds

__all__ = ["DEFAULT_API_KEY", "Emulator"]

DEFAULT_API_KEY = "emulator-key"
"""The key an :class:`Emulator` accepts unless told otherwise. Not a secret."""


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
