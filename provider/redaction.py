"""Removing a secret (the API key) from whatever a server sends back.

A server may echo the key anywhere: in an error page, a JSON error whose ``message`` is an
object, an extra field of a 200, a chainlet's name, spelled with JSON escapes
(``\\u0073k-...``), cut short (``sk-test-LE``) or with invisible characters between its
characters (a zero-width space every few). So a :class:`Redactor` removes not only the key but
every run of :data:`FRAGMENT` or more of its consecutive characters, with the characters of
:data:`provider.text.INVISIBLE` skipped when matching (and removed with the run they sit in),
and it works on decoded text: a body is decoded once (:mod:`provider.decoding`) and
:meth:`Redactor.value` redacts every string of the decoded value, keys included.

What a caller may rely on: after :meth:`Redactor.text`, no run of ``FRAGMENT`` characters of the
key is left in the text, not even with invisible characters between them (a key shorter than
that is removed whole). Redact *before* shortening a text, or a cut could leave the start of the
key behind. The cost is linear in the text's length, whatever the key's length (a set of the
key's runs, looked up at every fourth character of the text), and a call given a
:class:`~provider.deadline.Deadline` checks it while it works: past it,
:class:`RedactionTimeoutError`; on its cancel signal, :class:`~provider.errors.CancelledError`.
:func:`guard_logs` does the same for ``urllib3``'s log records, which quote header lines a
server sent that did not parse.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from typing import Any

from .deadline import Deadline
from .decoding import ResponseTooDeepError
from .errors import NotPicklableError, TransportError
from .text import INVISIBLE

__all__ = [
    "FRAGMENT",
    "MARK",
    "RedactionTimeoutError",
    "Redactor",
    "ResponseTooDeepError",
    "guard_logs",
]

FRAGMENT = 8
"""The shortest run of the key's characters that is removed wherever it appears."""
MARK = "<redacted>"
CHECK_EVERY = 64 * 1024
"""Characters searched between two looks at the deadline."""
_INVISIBLE = re.compile(f"[{INVISIBLE}]")


class RedactionTimeoutError(TransportError):
    """The deadline passed while an answer was searched for the key: it arrived, but too late
    to be used. ``host`` is where it came from, when the caller knows."""

    def __init__(self, seconds: float, *, host: str = "") -> None:
        super().__init__(
            f"timed out: the answer arrived but could not be searched for the API key within "
            f"{seconds:.3g}s",
            attempts=1,
            host=host,
        )


class _Budget:
    """Looks at a deadline once every :data:`CHECK_EVERY` characters of work."""

    def __init__(self, deadline: Deadline | None) -> None:
        self._deadline = deadline
        self._spent = 0

    def spend(self, chars: int) -> None:
        if self._deadline is None:
            return
        self._spent += chars
        if self._spent < CHECK_EVERY:
            return
        self._spent = 0
        self._deadline.raise_if_cancelled()
        if self._deadline.expired():
            raise RedactionTimeoutError(self._deadline.budget)


class Redactor:
    """Finds and removes ``secret`` and every ``FRAGMENT``-character run of it."""

    def __init__(self, secret: str) -> None:
        secret = _INVISIBLE.sub("", secret)
        size = min(FRAGMENT, len(secret))
        self._secret = secret
        self._size = size
        # Every run of ``size`` characters of the key, with where it first starts in the key.
        self._grams: dict[str, int] = {}
        for i in range(len(secret) - size + 1):
            self._grams.setdefault(secret[i : i + size], i)
        # A match of ``size`` characters always holds, at an offset that is a multiple of
        # ``_step``, a shorter ``_probe``-character run of the key: the text is probed there
        # only, a quarter of its positions, and searched in full only around a hit.
        self._probe = size - 3 if size > 4 else size
        self._step = size - self._probe + 1
        self._probes = {secret[i : i + self._probe] for i in range(len(secret) - self._probe + 1)}
        # A match lies inside a run of the key's characters (invisible ones may interleave):
        # one regex finds those runs in C, so text made of other characters costs little.
        alphabet = "".join(re.escape(c) for c in sorted(set(secret)))
        self._runs = re.compile(f"[{alphabet}{INVISIBLE}]{{{size},}}") if size else None

    def __repr__(self) -> str:
        return "<Redactor (secret hidden)>"

    def __reduce__(self) -> Any:
        raise NotPicklableError("a Redactor holds a secret and cannot be pickled")

    def found_in(self, text: str, deadline: Deadline | None = None) -> bool:
        """Whether ``text`` holds the secret or a fragment of it."""
        return bool(self._spans(text, _Budget(deadline), first_only=True))

    def text(self, text: str, deadline: Deadline | None = None) -> str:
        """``text`` with every fragment of the secret replaced by :data:`MARK` (the same
        object when there was none)."""
        return self._text(text, _Budget(deadline))

    def value(
        self, value: Any, deadline: Deadline | None = None, *, source: str | None = None
    ) -> tuple[Any, bool]:
        """A decoded JSON value with every string (object keys too) redacted, and whether
        anything was. Raises :class:`ResponseTooDeepError` past Python's recursion limit.

        ``source``, the JSON text ``value`` was decoded from, saves the walk when it cannot
        hold the secret: with no escape in it, every decoded string is a piece of it."""
        budget = _Budget(deadline)
        if (
            source is not None
            and "\\" not in source
            and not self._spans(source, budget, first_only=True)
        ):
            return value, False
        try:
            return self._value(value, budget)
        except RecursionError:
            raise ResponseTooDeepError("the response body is nested too deeply") from None

    def _value(self, value: Any, budget: _Budget) -> tuple[Any, bool]:
        if isinstance(value, str):
            if len(value) < self._size:
                return value, False
            clean = self._text(value, budget)
            return clean, clean is not value
        if isinstance(value, list):
            items = [self._value(v, budget) for v in value]
            return [v for v, _ in items], any(hit for _, hit in items)
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            hit = False
            for k, v in value.items():
                clean_key = self._text(k, budget)
                clean_value, value_hit = self._value(v, budget)
                out[clean_key] = clean_value
                hit = hit or value_hit or clean_key is not k
            return out, hit
        return value, False

    def _text(self, text: str, budget: _Budget) -> str:
        spans = self._spans(text, budget, first_only=False)
        if not spans:
            return text
        out: list[str] = []
        position = 0
        for start, end in spans:
            out.append(text[position:start])
            out.append(MARK)
            position = end
        out.append(text[position:])
        return "".join(out)

    def _spans(self, text: str, budget: _Budget, *, first_only: bool) -> list[list[int]]:
        """The merged ``[start, end)`` spans of ``text`` covered by fragments of the secret."""
        if self._runs is None or len(text) < self._size:
            return []
        budget.spend(len(text))
        some = self._runs.search(text)
        if some is None:  # the common case: one regex call, in C
            return []
        spans: list[list[int]] = []
        hidden = _INVISIBLE.search(text) is not None
        for run in self._runs.finditer(text, some.start()):
            start = run.start()
            chars = run.group()
            budget.spend(len(chars))
            # Invisible characters are taken out for matching; ``_shift`` maps back.
            removed = [m.start() for m in _INVISIBLE.finditer(chars)] if hidden else []
            if removed:
                chars = _INVISIBLE.sub("", chars)
            for first, last in self._matches(chars, budget, first_only):
                a = start + _shift(removed, first) if removed else start + first
                b = start + (_shift(removed, last - 1) + 1 if removed else last)
                if spans and a <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], b)
                else:
                    spans.append([a, b])
                if first_only:
                    return spans
        return spans

    def _matches(self, chars: str, budget: _Budget, first_only: bool) -> list[tuple[int, int]]:
        """The spans of ``chars`` (no invisible characters) covered by runs of the secret."""
        size, probe, step = self._size, self._probe, self._step
        grams, probes = self._grams, self._probes
        n = len(chars)
        found: list[tuple[int, int]] = []
        unchecked = 0  # every window starting before this is known
        q = 0
        next_look = CHECK_EVERY
        while q + probe <= n:
            if chars[q : q + probe] in probes:
                # The windows that hold this probe at ``q``: start in [q - (size - probe), q].
                for p in range(max(q - size + probe, unchecked), q + 1):
                    offset = grams.get(chars[p : p + size]) if p + size <= n else None
                    if offset is None:
                        continue
                    end = p + self._extend(chars, p, offset)
                    found.append((p, end))
                    if first_only:
                        return found
                    # Every window inside the match is a run of the secret too.
                    unchecked = end - size + 1
                    break
                unchecked = max(unchecked, q + 1)
                q = max(q + step, -(-unchecked // step) * step)
            else:
                q += step
            if q >= next_look:  # a long run: look at the deadline on the way
                budget.spend(CHECK_EVERY)
                next_look = q + CHECK_EVERY
        return found

    def _extend(self, chars: str, p: int, offset: int) -> int:
        """How many characters from ``p`` match the secret from ``offset`` (at least
        ``size``): galloping, then halving, so a long match costs few comparisons."""
        secret = self._secret
        low = self._size
        high = min(len(secret) - offset, len(chars) - p)
        step = 1
        while low < high:
            mid = min(high, low + step)
            if chars.startswith(secret[offset + low : offset + mid], p + low):
                low, step = mid, step * 2
            else:
                high = mid - 1
                break
        while low < high:
            mid = (low + high + 1) // 2
            if chars.startswith(secret[offset + low : offset + mid], p + low):
                low = mid
            else:
                high = mid - 1
        return low


def _shift(removed: list[int], index: int) -> int:
    """Where character ``index`` of a run without its invisible characters was in the run
    (``removed``: the sorted positions of those taken out)."""
    # The j-th removed character sat before index ``removed[j] - j`` of the shortened run.
    low, high = 0, len(removed)
    while low < high:
        mid = (low + high) // 2
        if removed[mid] - mid <= index:
            low = mid + 1
        else:
            high = mid
    return index + low


class _LogRedactor(logging.Filter):
    """Redacts the secrets of every live :class:`Redactor` from a logger's records.

    ``urllib3`` logs what it could not parse of a response's headers (warning level, with the
    raw lines), so a server that echoes the key in a malformed header line would otherwise
    put it in a log record. Message, arguments and traceback are redacted in place.
    """

    def __init__(self) -> None:
        super().__init__()
        self._redactors: weakref.WeakSet[Redactor] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, redactor: Redactor) -> None:
        with self._lock:
            self._redactors.add(redactor)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            redactors = list(self._redactors)
        if not redactors:
            return True
        message = record.getMessage()
        trace = record.exc_text or ""
        if record.exc_info and not trace:
            trace = logging.Formatter().formatException(record.exc_info)
        clean_message, clean_trace = message, trace
        for redactor in redactors:
            clean_message = redactor.text(clean_message)
            clean_trace = redactor.text(clean_trace)
        if clean_message != message or clean_trace != trace:
            record.msg, record.args = clean_message, None
            record.exc_info, record.exc_text = None, clean_trace or None
        return True


# Logger filters apply where a record is made, not where it propagates: one per module.
_URLLIB3_LOGGERS = (
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.response",
    "urllib3.poolmanager",
    "urllib3.util.retry",
)
_log_redactor = _LogRedactor()


def guard_logs(redactor: Redactor) -> None:
    """Redact ``redactor``'s secret from ``urllib3``'s log records for as long as it lives."""
    _log_redactor.add(redactor)
    for name in _URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if _log_redactor not in logger.filters:
            logger.addFilter(_log_redactor)
