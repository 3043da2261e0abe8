"""Generated answers of the Baseten API, down to their bytes on the wire.

Three kinds, one per endpoint behaviour a lookup meets:

* ``deployment``: a 200 for ``GET /v1/chains/{id}/deployments/{id}`` (``ChainDeploymentV1``);
* ``environment``: a 200 for ``GET /v1/chains/{id}/environments/{name}``
  (``ChainEnvironmentV1`` with the current deployment embedded);
* ``error``: a 4xx/5xx with a body (JSON message, HTML page, text, nothing).

Each starts from a valid answer for what was asked (:data:`CHAIN`, :data:`DEPLOYMENT`,
:data:`ENVIRONMENT`), with server text in its strings (odd Unicode: controls, bidi, zero-width,
separators, lone surrogates, astral; the API key echoed whole, in 8+ character fragments or
with invisible characters between its characters), then some parts replaced, removed, added,
mistyped or blown up (numbers at the edges: ``10**400``, ``NaN``/``Infinity`` literals, floats,
booleans, negatives; strings of megabytes; hundreds of chainlets). :func:`encode` writes the
JSON text itself, so a body can hold what ``json.dumps`` would refuse or rewrite (``NaN`` as a
literal, a lone surrogate as a ``\\ud800`` escape or as raw invalid UTF-8, every character of
every string as a ``\\uXXXX`` escape so the key never appears verbatim).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from provider.emulator import make_chainlet, make_deployment
from provider.models import KNOWN_STATUSES
from tests.leakscan import TEST_KEY

CHAIN = "chfz0001"
DEPLOYMENT = "dpfz0001"
ENVIRONMENT = "production"
KINDS = ("deployment", "environment", "error")

LONG_KEY = "sk-" + "".join(
    random.Random(16).choices("ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789", k=197)
)
"""A 200-character key: redaction must not cost key length times body size."""
SHORT_KEY = "Zq8kPw2W"
"""An 8-character key: its only fragment is the whole key."""
KEYS = (TEST_KEY, SHORT_KEY, LONG_KEY)

# What a server may put in any string. Each is one "atom"; a text is a few atoms joined.
ODD = (
    "\x1b[2J\x1b[H",
    "\x1b]0;pwned\x07",
    "\x1b]8;;http://127.0.0.1/\x07link\x1b]8;;\x07",
    "\r",
    "\n",
    "\nFORGED: ACTIVE",
    "\t",
    "\x00",
    "\x7f",
    "\x85",
    "\x9b31m",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u2028",
    "\u2029",
    "\u3164",
    "\U000e0041",
    "\ufe0f",
    "\ud800",
    "\udfff",
    "\ud83d",
    "\U0001f600",
    "\U0001d518",
    "\U0010ffff",
    "e\u0301",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u05e9\u05dc\u05d5\u05dd",
    "\u4e2d\u6587",
    "\uff21",
    "\\",
    '"',
    " ",
)
INVISIBLE_JOINERS = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u061c")
PLAIN_NAMES = ("Entrypoint", "Retriever", "Generator", "1x4", "L4:4x16", "H100:1x20x80")


@dataclass(frozen=True)
class Token:
    """A JSON number written exactly so (``NaN``, ``Infinity``, ``1e400``, 5000 digits)."""

    text: str


NUMBERS: tuple[Any, ...] = (
    0,
    1,
    -1,
    7,
    2**31,
    2**53,
    2**53 + 1,
    -(2**53) - 1,
    2**63,
    2**64,
    10**400,
    -(10**400),
    1.0,
    0.5,
    -0.0,
    3.5,
    1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    False,
    None,
    "3",
    "1_000",
    [],
    {},
    Token("NaN"),
    Token("Infinity"),
    Token("-Infinity"),
    Token("1e400"),
    Token("-1e400"),
    Token("1E2"),
    Token("1" + "0" * 4400),
)
CONSTANTS = (Token("NaN"), Token("Infinity"), Token("-Infinity"), float("nan"))
SIZES = (300, 5_000, 70_000, 1_100_000, 4_200_000)
"""Lengths of oversized strings; each front end takes those up to its cap."""
LIST_SIZES = (50, 300)
ODD_IDS = ("a/b", "../x", ".", "..", "", " ", "dp 1", "%2F", "dp?x=1", "dp#x", "x" * 10_000)
ODD_CONTENT_TYPES = (
    None,
    "",
    "text/html",
    "text/plain; charset=utf-8",
    "application/json; charset=latin-1",
    "application/problem+json",
    "application/json\x1b]0;pwned\x07",
    "application/octet-stream",
)
ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 410, 418, 422, 429, 500, 501, 502, 503, 504)
REASONS = ("OK", "Whatever", "", "Not Found \x1b[31mred", "\xe9t\xe9", "Bad\x85Gateway")


class Answer:
    """One answer: status line, headers and body bytes; ``value`` is what was encoded (for
    checking that a result is the answer asked for); ``style`` how strings were written.
    (Not a dataclass: Hypothesis prints a dataclass field by field, megabytes included.)"""

    def __init__(
        self,
        status: int,
        reason: str,
        content_type: str | None,
        body: bytes,
        value: Any = None,
        style: str = "utf8",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.content_type = content_type
        self.body = body
        self.value = value
        self.style = style
        self.headers = headers or []

    def all_headers(self) -> list[tuple[str, str]]:
        given = [("Content-Type", self.content_type)] if self.content_type is not None else []
        return given + self.headers

    def __repr__(self) -> str:
        # Shown by Hypothesis for a failing example: the start of a body of megabytes suffices.
        body = self.body if len(self.body) <= 3000 else self.body[:3000] + b"...(cut)"
        return (
            f"Answer(status={self.status}, reason={self.reason!r}, content_type="
            f"{self.content_type!r}, headers={self.headers!r}, style={self.style!r}, "
            f"{len(self.body)} bytes: {body!r})"
        )


# -- the wire form ----------------------------------------------------------------------------


def _string(text: str, style: str) -> str:
    if style == "escape_all":
        units = text.encode("utf-16-le", "surrogatepass")
        codes = (int.from_bytes(units[i : i + 2], "little") for i in range(0, len(units), 2))
        return '"' + "".join(f"\\u{c:04x}" for c in codes) + '"'
    return json.dumps(text, ensure_ascii=style == "ascii")


def _text(value: Any, style: str) -> Iterator[str]:
    if isinstance(value, Token):
        yield value.text
    elif value is None or isinstance(value, bool):
        yield json.dumps(value)
    elif isinstance(value, int):
        yield str(value)
    elif isinstance(value, float):
        yield json.dumps(value)  # NaN, Infinity and -Infinity as the literals
    elif isinstance(value, str):
        yield _string(value, style)
    elif isinstance(value, list):
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ","
            yield from _text(item, style)
        yield "]"
    else:
        yield "{"
        for i, (k, v) in enumerate(value.items()):
            if i:
                yield ","
            yield _string(k, style)
            yield ":"
            yield from _text(v, style)
        yield "}"


def encode(value: Any, style: str) -> bytes:
    """``value`` as JSON text, strings written per ``style`` (``utf8``: raw, lone surrogates
    become invalid UTF-8; ``ascii``: non-ASCII as escapes; ``escape_all``: every character as
    an escape), numbers as they are (a :class:`Token` verbatim)."""
    return "".join(_text(value, style)).encode("utf-8", "surrogatepass")


# -- strategies -------------------------------------------------------------------------------


def mostly(good: Any, *others: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` four times in five or so: an answer must stay usable often enough for the
    paths after the decoding (outputs, state, rendering) to be exercised too."""
    return st.one_of(*[st.just(good)] * 4, *others)


def key_echoes(key: str) -> st.SearchStrategy[str]:
    """The key as a server might echo it: whole, a fragment of 8+ characters, with an
    invisible character every few characters, or in the header it came in."""
    fragment = st.integers(0, len(key) - 8).flatmap(
        lambda i: st.integers(8, len(key) - i).map(lambda n: key[i : i + n])
    )
    interleaved = st.tuples(st.integers(1, 7), st.sampled_from(INVISIBLE_JOINERS)).map(
        lambda t: t[1].join(key[i : i + t[0]] for i in range(0, len(key), t[0]))
    )
    return st.one_of(st.just(key), fragment, interleaved, st.just(f"Authorization: Api-Key {key}"))


def odd_text() -> st.SearchStrategy[str]:
    atom = st.sampled_from(ODD) | st.sampled_from(PLAIN_NAMES) | st.text(max_size=6)
    return st.lists(atom, max_size=6).map("".join)


def oversized(key: str, cap: int) -> st.SearchStrategy[str]:
    """A string of up to ``cap`` characters made of one repeated piece (the key included)."""
    sizes = [s for s in SIZES if s <= cap]
    piece = st.sampled_from(("x", "\xe9", "\x1b", "\U0001f600", "\u200b", f"{key} ", key[:8]))
    return st.tuples(piece, st.sampled_from(sizes)).map(
        lambda t: (t[0] * (t[1] // len(t[0]) + 1))[: t[1]]
    )


def server_text(key: str, cap: int) -> st.SearchStrategy[str]:
    """Any string a server may send: plain, odd, echoing the key, or oversized."""
    echo = st.tuples(odd_text(), key_echoes(key), odd_text()).map("".join)
    plain = st.sampled_from(PLAIN_NAMES)
    # Oversized one time in seven: an answer holds a dozen strings, and megabytes add up.
    return st.one_of(plain, plain, odd_text(), odd_text(), echo, echo, oversized(key, cap))


def json_values(key: str, cap: int) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.sampled_from(NUMBERS),
        st.integers(),
        st.floats(),
        server_text(key, cap),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.one_of(st.text(max_size=8), key_echoes(key)), inner, max_size=4)
        ),
        max_leaves=12,
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for k in value:
            yield (*prefix, k)
            yield from _paths(value[k], (*prefix, k))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*prefix, i)
            yield from _paths(item, (*prefix, i))


@st.composite
def mutated(draw: st.DrawFn, value: Any, key: str, cap: int) -> Any:
    """``value`` with up to three parts replaced (by a value of the kind the part holds, or of
    any kind), removed, or given an extra field; or its chainlet lists blown up."""
    value = copy.deepcopy(value)
    for _ in range(draw(st.sampled_from((0, 0, 0, 1, 2, 3)))):
        paths = list(_paths(value))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = value
        for part in path[:-1]:
            parent = parent[part]
        old = parent[path[-1]]
        action = draw(st.sampled_from(("replace", "replace", "delete", "add", "many", "nan")))
        if action == "replace":
            if isinstance(old, str):
                new = draw(server_text(key, cap) | json_values(key, cap))
            elif isinstance(old, int | float) or old is None:
                new = draw(st.sampled_from(NUMBERS) | st.integers() | json_values(key, cap))
            else:
                new = draw(json_values(key, cap))
            parent[path[-1]] = new
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            name = draw(st.sampled_from(("debug", "note", "max_scale_down_rate")) | key_echoes(key))
            parent[name] = draw(json_values(key, cap))
        elif action == "nan" and isinstance(parent, dict):
            # A number JSON has no literal for, beside whatever else the answer holds.
            parent[draw(st.sampled_from(("max_replica", "note")))] = draw(
                st.sampled_from(CONSTANTS)
            )
        elif action == "many" and isinstance(old, list) and old and len(repr(old)) < 20_000:
            parent[path[-1]] = (old * draw(st.sampled_from(LIST_SIZES)))[:300]
    return value


@st.composite
def deployment_values(
    draw: st.DrawFn, key: str, cap: int, deployment_id: str = DEPLOYMENT
) -> dict[str, Any]:
    """A valid ``ChainDeploymentV1`` for what was asked, with server text in its strings."""
    status = draw(st.sampled_from(sorted(KNOWN_STATUSES)) | server_text(key, cap))
    chainlets = [
        make_chainlet(
            draw(server_text(key, cap)),
            status=draw(st.just(status) | st.sampled_from(sorted(KNOWN_STATUSES))),
            instance_type_name=draw(server_text(key, cap)),
            min_replica=draw(st.integers(0, 3)),
            max_replica=draw(st.integers(3, 9)),
            chainlet_id=draw(mostly("clfz0001", server_text(key, cap))),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    return make_deployment(
        CHAIN,
        deployment_id,
        status=status,
        environment=draw(st.none() | st.just(ENVIRONMENT) | server_text(key, cap)),
        chainlets=chainlets,
    )


@st.composite
def environment_values(draw: st.DrawFn, key: str, cap: int) -> dict[str, Any]:
    """A valid ``ChainEnvironmentV1`` for :data:`ENVIRONMENT` of :data:`CHAIN`, whose current
    deployment's id is any id a server may send (odd ones included)."""
    deployment_id = draw(mostly(DEPLOYMENT, st.sampled_from(ODD_IDS), server_text(key, cap)))
    current = draw(st.one_of(st.none(), *[deployment_values(key, cap, deployment_id)] * 4))
    value: dict[str, Any] = {
        "name": draw(mostly(ENVIRONMENT, st.sampled_from(("staging", "Production")))),
        "chain_id": CHAIN,
        "created_at": "2026-11-20T09:30:00Z",
        "promotion_settings": {"redeploy_on_promotion": False},
        "chainlet_settings": draw(st.none() | json_values(key, cap)),
        "current_deployment": current,
    }
    if current is not None:
        current["chain_id"] = draw(mostly(CHAIN, st.just("chfz9999")))
    return value


@st.composite
def answers(draw: st.DrawFn, kind: str, key: str, cap: int) -> Answer:
    """An answer of ``kind`` (see the module's docstring), as bytes on the wire."""
    style = draw(st.sampled_from(("utf8", "ascii", "escape_all")))
    if kind == "error":
        status = draw(st.sampled_from(ERROR_STATUSES))
        text = draw(server_text(key, cap))
        value: Any = draw(
            st.sampled_from(({"message": text}, {"error": text, "retry_after": 0}))
            | st.fixed_dictionaries({"detail": json_values(key, cap)})
            | json_values(key, cap)
        )
        shape = draw(st.sampled_from(("json", "json", "html", "text", "empty")))
        content_type = "application/json"
        if shape == "json":
            body = encode(value, style if len(text) < 100_000 else "ascii")
        elif shape == "empty":
            body = b""
        else:
            content_type = "text/html" if shape == "html" else "text/plain"
            page = f"<html><body><h1>{status}</h1><p>{text}</p></body></html>"
            body = (page if shape == "html" else text).encode("utf-8", "surrogatepass")
        headers = draw(st.sampled_from(([], [("Retry-After", "0")], [("Retry-After", "1e999")])))
        return Answer(
            status,
            draw(st.sampled_from(REASONS) | st.just(key)),
            draw(st.just(content_type) | st.sampled_from(ODD_CONTENT_TYPES)),
            body,
            value,
            style,
            headers,
        )
    if kind == "deployments":  # the list read: the chain's deployments
        base = {"deployments": draw(st.lists(deployment_values(key, cap), max_size=3))}
    elif kind == "deployment":
        base = draw(deployment_values(key, cap))
    else:
        base = draw(environment_values(key, cap))
    value = draw(mutated(base, key, cap))
    body = encode(value, style)
    if style == "escape_all" and len(body) > 8 * 1024 * 1024:
        style, body = "ascii", encode(value, "ascii")
    content_type = draw(
        mostly(
            "application/json",
            st.just("application/json; charset=utf-8"),
            st.sampled_from(ODD_CONTENT_TYPES),
        )
    )
    return Answer(200, "OK", content_type, body, value, style)


def issue_cases(kind: str, key: str) -> list[Answer]:
    """The answers issue 16 reported, tried first in every run (Hypothesis starts from the
    first branch of a choice): the key beside a ``NaN``, ``max_replica`` of ``10**400``, an
    environment answering for another environment or with an id ``a/b``, a message holding
    a lone surrogate, an escape sequence in a 401's message."""
    json_type = "application/json"
    if kind == "deployment":
        leak = make_deployment(CHAIN, DEPLOYMENT, chainlets=[make_chainlet(key)])
        leak["note"] = Token("NaN")
        huge = make_deployment(CHAIN, DEPLOYMENT)
        huge["chainlets"][0]["autoscaling_settings"]["max_replica"] = 10**400
        return [
            Answer(200, "OK", json_type, encode(leak, "utf8"), leak),
            Answer(200, "OK", json_type, encode(huge, "utf8"), huge),
        ]
    if kind == "deployments":  # the same leak and overflow, inside the list
        values = [{"deployments": [a.value]} for a in issue_cases("deployment", key)]
        return [Answer(200, "OK", json_type, encode(v, "utf8"), v) for v in values]
    if kind == "environment":
        found = []
        for name, deployment_id in (("production", "a/b"), ("staging", DEPLOYMENT)):
            value = {
                "name": name,
                "chain_id": CHAIN,
                "current_deployment": make_deployment(CHAIN, deployment_id),
            }
            found.append(Answer(200, "OK", json_type, encode(value, "ascii"), value))
        return found
    gone = {"message": "gone \ud800"}
    refused = {"message": "\x1b]0;pwned\x07key refused"}
    return [
        Answer(404, "Not Found", json_type, encode(gone, "ascii"), gone, "ascii"),
        Answer(401, "Unauthorized", json_type, encode(refused, "ascii"), refused, "ascii"),
    ]


def keyed_answers(
    kind: str, cap: int, keys: tuple[str, ...] = KEYS
) -> st.SearchStrategy[tuple[str, Answer]]:
    """``(key, answer)``: a key the caller is configured with, and an answer that may echo it
    (one time in five, one of :func:`issue_cases`)."""

    def for_key(key: str) -> st.SearchStrategy[tuple[str, Answer]]:
        generated = answers(kind, key, cap)
        known = st.sampled_from(issue_cases(kind, key))
        return st.tuples(st.just(key), st.one_of(known, *[generated] * 4))

    return st.sampled_from(keys).flatmap(for_key)
