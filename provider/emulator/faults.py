"""Answers other than the store's: :class:`Answer` (bytes as they are sent), the
:class:`Misbehaviour` protocol of a queued fault and how the server delivers it
(:data:`DELIVERIES`), the two faults the runtime's scenarios queue (:class:`CannedAnswer`,
:class:`StatusRewrite`), and :class:`FaultInjection`, the queue that hands each authorized
``GET`` what it gets instead of the normal answer. The tests' vocabulary of misbehaviour
(``tests/emulator_faults.py``) is built on the same protocol."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ..errors import InvalidInputError
from .shapes import chainlets_of, status_message, to_json
from .validation import check_seconds, check_status_and_times

__all__ = [
    "DELIVERIES",
    "Answer",
    "CannedAnswer",
    "FaultInjection",
    "Misbehaviour",
    "NormalAnswer",
    "StatusRewrite",
    "error_answer",
    "rate_limited",
]

NormalAnswer = Callable[[], "tuple[int, Any]"]
"""Builds the store's normal answer (status, JSON body); calling it counts as serving."""

DELIVERIES: frozenset[str] = frozenset({"whole", "half", "trickle", "hang", "drop"})
"""How the server sends a fault's answer: all of it; the headers announcing all of it and
half the body, then a close; the body in small chunks over ``seconds``; nothing for
``seconds``, then a close; nothing, at once a close."""


@dataclass(frozen=True)
class Answer:
    """An answer to send as it is: status, body bytes, ``Content-Type`` and extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


class Misbehaviour(Protocol):
    """What the queue and the server need of a fault. ``times``: how many matching requests
    it applies to (``None``: forever); ``delivery``: one of :data:`DELIVERIES`; ``seconds``:
    for ``hang`` and ``trickle``."""

    times: int | None
    seconds: float

    @property
    def delivery(self) -> str: ...

    def answer(self, normal: NormalAnswer) -> Answer | None:
        """The answer to deliver (None with ``hang`` and ``drop``)."""
        ...


def rate_limited(retry_after: float | None, retry_after_body: float | None) -> Answer:
    """Baseten's 429: ``{"error": ..., "retry_after": N}`` (the field only if
    ``retry_after_body`` is set) and a ``Retry-After`` header only if ``retry_after`` is."""
    payload: dict[str, Any] = {"error": "Rate limit exceeded. Please try again later."}
    if retry_after_body is not None:
        payload["retry_after"] = _number(retry_after_body)
    headers: tuple[tuple[str, str], ...] = ()
    if retry_after is not None:
        headers = (("Retry-After", str(_number(retry_after))),)
    return Answer(429, to_json(payload), headers=headers)


def error_answer(status: int) -> Answer:
    """``status`` with Baseten's ``{"message": ...}`` body."""
    return Answer(status, to_json({"message": status_message(status)}))


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


@dataclass
class CannedAnswer:
    """Send ``answer`` in place of the normal one, ``times`` times."""

    answer_sent: Answer
    times: int | None = 1
    seconds: float = 0.0
    delivery = "whole"

    def answer(self, normal: NormalAnswer) -> Answer | None:
        return self.answer_sent


@dataclass
class StatusRewrite:
    """The normal answer (a deployment), its status and every chainlet's made ``value``."""

    value: str
    times: int | None = None
    seconds: float = 0.0
    delivery = "whole"

    def answer(self, normal: NormalAnswer) -> Answer | None:
        status, body = normal()
        if status == 200 and isinstance(body, dict):
            body = copy.deepcopy(body)
            body["status"] = self.value
            for chainlet in chainlets_of(body):
                chainlet["status"] = self.value
        return Answer(status, to_json(body))


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
    Each fault handed in or out is a copy. The :class:`~provider.emulator.Emulator`
    is one (its attribute names are its own).
    """

    def __init__(self, latency: float = 0.0) -> None:
        self._faults_lock = threading.Lock()
        self._faults: list[_Slot[Misbehaviour]] = []
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

    def add_fault(self, fault: Misbehaviour, path: str | None = None) -> None:
        """Queue ``fault`` for authorized GETs whose path (without query string) equals
        ``path`` exactly, or for every authorized GET if ``path`` is None. The first queued
        fault that matches a request applies to it and uses up one of its ``times``."""
        if fault.delivery not in DELIVERIES:
            raise InvalidInputError("delivery", f"must be one of {sorted(DELIVERIES)}")
        with self._faults_lock:
            self._faults.append(_Slot(copy.copy(fault), path, fault.times))

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
        ``times`` times (``None``: forever), before any queued fault. For any body a server
        might send (property-based tests). ``Content-Length`` is always the body's length."""
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
    def faults(self) -> list[tuple[Misbehaviour, str | None]]:
        """Queued faults (copies) with their paths, in the order they are tried."""
        with self._faults_lock:
            return [(copy.copy(s.item), s.path) for s in self._faults]

    def pending_fault(self, path: str) -> Misbehaviour | None:
        """The fault the next authorized GET of ``path`` would get, without using it up."""
        with self._faults_lock:
            index = _first(self._faults, path)
            return None if index is None else copy.copy(self._faults[index].item)

    def take_raw_answer(self, path: str) -> Answer | None:
        """The raw answer for this authorized GET of ``path``, used up; tried first."""
        with self._faults_lock:
            return _take(self._raw_answers, path)

    def take_fault(self, path: str) -> Misbehaviour | None:
        """The fault for this authorized GET of ``path`` (a copy), used up; tried second."""
        with self._faults_lock:
            fault = _take(self._faults, path)
            return None if fault is None else copy.copy(fault)
