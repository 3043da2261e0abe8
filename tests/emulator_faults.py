"""The tests' vocabulary of misbehaviour for the emulator: :class:`Fault` and what each kind
answers. The emulator's queue (:meth:`provider.emulator.Emulator.add_fault`) takes a Fault as it
takes any :class:`~provider.emulator.faults.Misbehaviour`; the runtime itself queues only the
two its scenarios need."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from provider.emulator.faults import Answer, NormalAnswer, error_answer, rate_limited
from provider.emulator.shapes import chainlets_of, to_json
from provider.emulator.validation import check_seconds, check_status_and_times
from provider.errors import InvalidInputError

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
"""Every :attr:`Fault.kind` (see :class:`Fault` for what each one does)."""

_DELIVERY = {
    "drop": "drop",
    "hang": "hang",
    "truncated_json": "half",
    "slow_trickle": "trickle",
}


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

    @property
    def delivery(self) -> str:
        """How the emulator's server sends this fault's answer (see ``DELIVERIES``)."""
        return _DELIVERY.get(self.kind, "whole")

    def answer(self, normal: NormalAnswer) -> Answer | None:
        """What this fault answers, or None for ``drop`` and ``hang``, which send nothing.

        ``normal`` builds the normal answer (status, JSON body); it is called only by the
        kinds that build on it, so only those count as serving a deployment. For
        ``truncated_json`` and ``slow_trickle`` this is the whole answer: cutting it short or
        sending it slowly is the server's part.
        """
        kind = self.kind
        if kind in {"drop", "hang"}:
            return None
        if kind == "rate_limit":
            return rate_limited(self.retry_after, self.retry_after_body)
        if kind == "status":
            return error_answer(self.status)
        if kind == "malformed_json":
            return Answer(200, _MALFORMED_BODY)
        if kind == "html":
            return Answer(200, _HTML_BODY, "text/html; charset=utf-8")
        if kind == "empty_body":
            return Answer(200, b"")
        status, body = normal()
        if status == 200:
            body = _transform(self, body)
        if kind == "wrong_content_type":
            return Answer(status, to_json(body), "text/plain; charset=utf-8")
        return Answer(status, to_json(body))


_MALFORMED_BODY = b'{"id": "dp3m8x1v", "status": "ACTIVE", "chainlets": [{"name": "Entry'
_HTML_BODY = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>Bad Gateway</h1><p>The upstream server did not answer. "
    b"Please sign in to the network portal and try again.</p></body></html>\n"
)


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
