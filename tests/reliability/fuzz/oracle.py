"""The invariants every generated answer must keep, whatever the front end, and their tally.

* ``no key``: no run of 8 characters of the key (nor its base64 forms, :mod:`tests.leakscan`)
  in anything a run produced: outputs, stdout, stderr, state, logs, exception text. Invisible
  characters, raw or escaped (``\\u200b``), are removed first: a key shown with a zero-width
  space every 7 characters is shown whole.
* ``documented outcome``: a result, or the documented failure for the answer: the
  :class:`~provider.errors.BasetenError` class of its status (a 200 whose content is wrong: a
  format error), the command line's documented exit code, the gRPC code the plugin documents,
  a Terraform diagnostic with one of :data:`~provider.errors.PRESENTATIONS`' titles. Never a
  traceback of a bug, never exit 5 or ``INTERNAL``.
* ``time bound``: the call ends within its deadline plus :data:`SLACK`.
* ``clean text``: human text (messages, warnings, diagnostics, the readable CLI output; not
  ``--json`` or outputs, which are data) holds no raw control, bidi or invisible character
  (:data:`provider.text.INVISIBLE`) and no lone surrogate.
* ``answer as asked``: a result is the one asked for: its chain, its id (by id), an
  environment answer naming the environment and chain asked for; and an id taken from an
  answer passes the validation a user's id does.
* ``only GET``: the server saw nothing but GET.
* ``bounded output``: the command line prints at most :data:`OUTPUT_FACTOR` bytes per byte
  of the answer (escaping widens a character, nothing should multiply a row).

:class:`Verdict` checks them for one example and counts each into :data:`TALLY` (the
scorecard's fuzz figures, through :mod:`tests.reliability.report`).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from provider import validation
from provider.errors import (
    PRESENTATIONS,
    AuthenticationError,
    BasetenError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    RequestRejectedError,
    ResponseFormatError,
    ServerError,
    TransportError,
)
from provider.text import INVISIBLE
from tests.hostile_server import key_fragments
from tests.leakscan import key_forms
from tests.reliability import report
from tests.reliability.fuzz.answers import CHAIN, DEPLOYMENT, ENVIRONMENT, Answer

TIMEOUT = 1.0
"""Every front end's deadline (``--timeout``, ``timeout_seconds``, the library's deadline)."""
SLACK = 2.0
"""What the promise allows beyond the deadline (a process's exit, a gRPC round trip)."""
OUTPUT_FACTOR = 12
INVARIANTS = (
    "no key",
    "documented outcome",
    "time bound",
    "clean text",
    "answer as asked",
    "only GET",
    "bounded output",
)

_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")
_RAW_LINE = re.compile(
    f"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff{INVISIBLE}]"
)
_RAW_LINES = re.compile(
    f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff{INVISIBLE}]"
)


def _unescaped_invisible(match: re.Match[str]) -> str:
    char = chr(int(match.group()[2:], 16))
    return "" if _INVISIBLE.fullmatch(char) else match.group()


def visible(text: str) -> str:
    """``text`` without invisible characters, raw or escaped: what a reader sees."""
    return _INVISIBLE.sub("", _ESCAPE.sub(_unescaped_invisible, text))


def key_hits(places: dict[str, str], key: str) -> list[str]:
    """Where the key shows: ``place: N fragments`` (the key itself is never repeated)."""
    forms = key_forms(key)[1:]  # base64 cores; the key's own runs come from key_fragments
    found = []
    for place, text in places.items():
        seen = visible(text)
        count = len(key_fragments(seen, key)) + sum(form in seen for form in forms)
        if count:
            found.append(f"{place}: {count} runs of the key")
    return found


def raw_characters(text: str, *, multiline: bool) -> list[str]:
    """The raw characters ``text`` must not hold (newlines and tabs allowed if multiline)."""
    pattern = _RAW_LINES if multiline else _RAW_LINE
    return sorted({repr(c) for c in pattern.findall(text)})


def expected_errors(answer: Answer, kind: str) -> tuple[type[BasetenError], ...]:
    """The error classes the answer may end in (a timeout may end any: a slow machine)."""
    status = answer.status
    if status == 200:
        found: tuple[type[BasetenError], ...] = (ResponseFormatError,)
        if kind == "environment":
            found += (NotFoundError,)  # no current deployment
    elif status in (401, 403):
        found = (AuthenticationError,)
    elif status == 404:
        found = (NotFoundError,)
    elif status == 429:
        found = (RateLimitedError,)
    elif status >= 500:
        found = (ServerError,)
    else:
        found = (RequestRejectedError,)
    return (*found, TransportError)


def titles(classes: tuple[type[BasetenError], ...]) -> tuple[str, ...]:
    return tuple(PRESENTATIONS[c].title for c in classes)


def id_problem(value: Any, field: str) -> str | None:
    try:
        validation.check_id(field, value)
    except InvalidInputError as exc:
        return str(exc)[:200]
    return None


def asked_problems(answer: Answer, kind: str, chain_id: Any, deployment_id: Any) -> list[str]:
    """Why a successful result is not the answer asked for (empty: it is)."""
    problems = []
    if chain_id != CHAIN:
        problems.append(f"chain {str(chain_id)[:80]!r} instead of {CHAIN}")
    if kind == "deployment" and deployment_id != DEPLOYMENT:
        problems.append(f"deployment {str(deployment_id)[:80]!r} instead of {DEPLOYMENT}")
    problem = id_problem(deployment_id, "chain_deployment_id")
    if problem:
        problems.append(f"the deployment id from the answer is not a valid id ({problem})")
    if kind == "environment" and isinstance(answer.value, dict):
        env = answer.value
        current = env.get("current_deployment")
        if env.get("name") != ENVIRONMENT:
            problems.append(f"the answer names environment {str(env.get('name'))[:80]!r}")
        if env.get("chain_id") != CHAIN:
            chain = str(env.get("chain_id"))[:80]
            problems.append(f"the environment answer is for chain {chain!r}")
        if isinstance(current, dict) and current.get("chain_id") != CHAIN:
            problems.append(f"its deployment is of chain {str(current.get('chain_id'))[:80]!r}")
    return problems


# -- the tally --------------------------------------------------------------------------------

_lock = threading.Lock()
TALLY: dict[str, dict[str, Any]] = {}
"""Per front end: ``cases`` run, and per invariant ``[held, checked]``."""


class Verdict:
    """The invariants' verdicts for one example through one front end."""

    def __init__(self, front_end: str) -> None:
        self.front_end = front_end
        self.failures: list[str] = []
        self.checked: dict[str, bool] = {}

    def check(self, invariant: str, ok: bool, detail: object = "") -> None:
        assert invariant in INVARIANTS, invariant
        self.checked[invariant] = self.checked.get(invariant, True) and ok
        if not ok:
            self.failures.append(f"{invariant}: {detail}")

    def no_key(self, places: dict[str, str], key: str) -> None:
        hits = key_hits(places, key)
        self.check("no key", not hits, "; ".join(hits))

    def clean(self, place: str, text: str, *, multiline: bool = False) -> None:
        raw = raw_characters(text, multiline=multiline)
        self.check("clean text", not raw, f"{place} holds raw {', '.join(raw[:12])}")

    def on_time(self, seconds: float, bound: float = TIMEOUT + SLACK) -> None:
        self.check("time bound", seconds <= bound, f"{seconds:.2f}s > {bound:.2f}s")

    def done(self) -> None:
        """Count this example, then fail with every broken invariant (if any)."""
        with _lock:
            entry = TALLY.setdefault(
                self.front_end, {"cases": 0, "checks": {name: [0, 0] for name in INVARIANTS}}
            )
            entry["cases"] += 1
            for invariant, ok in self.checked.items():
                entry["checks"][invariant][0] += int(ok)
                entry["checks"][invariant][1] += 1
            report.record("fuzz", front_ends=TALLY)
        assert not self.failures, "\n".join(self.failures)
