"""Injected misbehaviour: :class:`Fault`, the kinds it knows, and the body transformations
behind the content faults."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .validation import _check_seconds

__all__ = ["FAULT_KINDS", "Fault"]

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
