"""Misbehaviour on purpose: :class:`Fault` and what each kind answers (:func:`fault_answer`),
raw answers, added latency, and :class:`FaultInjection`, the queue that hands each authorized
``GET`` what it gets instead of the normal answer."""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..errors import InvalidInputError
from .shapes import chainlets_of, status_message, to_json
from .validation import check_seconds, check_status_and_times

__all__ = ["FAULT_KINDS", "Answer", "Fault", "FaultInjection", "fault_answer"]

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
            raise InvalidInputError(
                "kind", f"unknown fault kind {self.kind!r}; known: {sorted(FAULT_KINDS)}"
            )
        check_status_and_times(self.status, self.times)
        check_seconds("seconds", self.seconds)
        if self.retry_after is not None:
            check_seconds("retry_after", self.retry_after)
        if self.retry_after_body is not None:
            check_seconds("retry_after_body", self.retry_after_body)
        if not self.field:
            raise InvalidInputError("field", "must not be empty")


@dataclass(frozen=True)
class Answer:
    """An answer to send as it is: status, body bytes, ``Content-Type`` and extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


_RATE_LIMIT_MESSAGE = "Rate limit exceeded. Please try again later."
_MALFORMED_BODY = b'{"id": "dp3m8x1v", "status": "ACTIVE", "chainlets": [{"name": "Entry'
_HTML_BODY = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>Bad Gateway</h1><p>The upstream server did not answer. "
    b"Please sign in to the network portal and try again.</p></body></html>\n"
)


def fault_answer(fault: Fault, normal: Callable[[], tuple[int, Any]]) -> Answer | None:
    """What ``fault`` answers, or None for ``drop`` and ``hang``, which send nothing.

    ``normal`` builds the normal answer (status, JSON body); it is called only by the kinds
    that build on it, so only those count as serving a deployment. For ``truncated_json`` and
    ``slow_trickle`` this is the whole answer: cutting it short or sending it slowly is the
    server's part.
    """
    kind = fault.kind
    if kind in {"drop", "hang"}:
        return None
    if kind == "rate_limit":
        payload: dict[str, Any] = {"error": _RATE_LIMIT_MESSAGE}
        if fault.retry_after_body is not None:
            payload["retry_after"] = _number(fault.retry_after_body)
        headers: tuple[tuple[str, str], ...] = ()
        if fault.retry_after is not None:
            headers = (("Retry-After", str(_number(fault.retry_after))),)
        return Answer(429, to_json(payload), headers=headers)
    if kind == "status":
        return Answer(fault.status, to_json({"message": status_message(fault.status)}))
    if kind == "malformed_json":
        return Answer(200, _MALFORMED_BODY)
    if kind == "html":
        return Answer(200, _HTML_BODY, "text/html; charset=utf-8")
    if kind == "empty_body":
        return Answer(200, b"")
    status, body = normal()
    if status == 200:
        body = _transform(fault, body)
    if kind == "wrong_content_type":
        return Answer(status, to_json(body), "text/plain; charset=utf-8")
    return Answer(status, to_json(body))


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


# --------------------------------------------------------------------------------------------
# The queue

_T = TypeVar("_T")


@dataclass
class _Slot(Generic[_T]):
    item: _T
    path: str | None
    remaining: int | None


def _first(slots: list[_Slot[_T]], path: str) -> int | None:
    """The index of the first slot for ``path``."""
    return next((i for i, s in enumerate(slots) if s.path is None or s.path == path), None)


def _take(slots: list[_Slot[_T]], path: str) -> _T | None:
    """The first slot's item for ``path``, using up one of its times."""
    index = _first(slots, path)
    if index is None:
        return None
    slot = slots[index]
    if slot.remaining is not None:
        slot.remaining -= 1
        if slot.remaining <= 0:
            del slots[index]
    return slot.item


class FaultInjection:
    """Queued faults and raw answers, and the latency slept before every answer.

    Thread-safe. A path is matched exactly (no query string); ``None`` matches every path.
    Each :class:`Fault` handed in or out is a copy. The :class:`~provider.emulator.Emulator`
    is one (its attribute names are its own).
    """

    def __init__(self, latency: float = 0.0) -> None:
        self._faults_lock = threading.Lock()
        self._faults: list[_Slot[Fault]] = []
        self._raw_answers: list[_Slot[Answer]] = []
        self.latency = latency

    @property
    def latency(self) -> float:
        """Seconds slept before every answer (401s included); settable at any time."""
        return self._latency

    @latency.setter
    def latency(self, value: float) -> None:
        check_seconds("latency", value)
        self._latency = float(value)

    def add_fault(self, fault: Fault, path: str | None = None) -> None:
        """Queue ``fault`` for authorized GETs whose path (without query string) equals
        ``path`` exactly, or for every authorized GET if ``path`` is None. The first queued
        fault that matches a request applies to it and uses up one of its ``times``."""
        with self._faults_lock:
            self._faults.append(_Slot(dataclasses.replace(fault), path, fault.times))

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
            raise InvalidInputError("body", "must be bytes")
        check_status_and_times(status, times)
        for name, value in (("Content-Type", content_type), *headers):
            if any(c in "\r\n" for c in name + value) or not (name + value).isascii():
                raise InvalidInputError(
                    "headers", "names and values must be ASCII without line breaks"
                )
        answer = Answer(status, bytes(body), content_type, tuple(headers))
        with self._faults_lock:
            self._raw_answers.append(_Slot(answer, path, times))

    def clear_faults(self) -> None:
        """Drop every queued fault and raw answer."""
        with self._faults_lock:
            self._faults.clear()
            self._raw_answers.clear()

    @property
    def faults(self) -> list[tuple[Fault, str | None]]:
        """Queued faults (copies) with their paths, in the order they are tried."""
        with self._faults_lock:
            return [(dataclasses.replace(s.item), s.path) for s in self._faults]

    def pending_fault(self, path: str) -> Fault | None:
        """The fault the next authorized GET of ``path`` would get, without using it up."""
        with self._faults_lock:
            index = _first(self._faults, path)
            return None if index is None else dataclasses.replace(self._faults[index].item)

    def take_raw_answer(self, path: str) -> Answer | None:
        """The raw answer for this authorized GET of ``path``, used up; tried first."""
        with self._faults_lock:
            return _take(self._raw_answers, path)

    def take_fault(self, path: str) -> Fault | None:
        """The fault for this authorized GET of ``path`` (a copy), used up; tried second."""
        with self._faults_lock:
            fault = _take(self._faults, path)
            return None if fault is None else dataclasses.replace(fault)


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
            for chainlet in chainlets_of(deployment):
                chainlet["status"] = fault.value
    elif fault.kind == "unknown_chainlet_status":
        for deployment in deployments:
            chainlets = chainlets_of(deployment)
            if chainlets:
                chainlets[0]["status"] = fault.value
    elif fault.kind == "extra_fields":
        if isinstance(body, dict):
            body["request_region"] = "us-east4"
        for deployment in deployments:
            deployment["is_development"] = False
            deployment["labels"] = {"team": "ml-platform"}
            for chainlet in chainlets_of(deployment):
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
