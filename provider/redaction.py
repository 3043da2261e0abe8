"""Removing a secret (the API key) from whatever a server sends back.

A server may echo the key anywhere: in an error page, a JSON error whose ``message`` is an
object, an extra field of a 200, a chainlet's name, spelled with JSON escapes
(``\\u0073k-...``), or cut short (``sk-test-LE``). So a :class:`Redactor` removes not only the
key but every run of :data:`FRAGMENT` or more of its consecutive characters, and it works on
decoded text: :meth:`Redactor.json_body` decodes a JSON body, redacts every string in it (keys
included) and encodes it again.

What a caller may rely on: after :meth:`Redactor.text`, no run of ``FRAGMENT`` characters of the
key is left in the text (a key shorter than that is removed whole). Redact *before* shortening
a text, or a cut could leave the start of the key behind. :func:`guard_logs` does the same for
``urllib3``'s log records, which quote header lines a server sent that did not parse.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import weakref
from typing import Any

from .errors import NotPicklableError, ResponseFormatError

FRAGMENT = 8
"""The shortest run of the key's characters that is removed wherever it appears."""
MARK = "<redacted>"


class ResponseTooDeepError(ResponseFormatError):
    """A JSON body nested too deeply to be searched (and far deeper than any real answer)."""


def _no_constants(name: str) -> Any:
    # NaN and Infinity are not JSON; leave the body to the validator, which says so.
    raise ValueError(f"{name} is not JSON")


class Redactor:
    """Finds and removes ``secret`` and every ``FRAGMENT``-character run of it."""

    def __init__(self, secret: str) -> None:
        size = min(FRAGMENT, len(secret))
        grams = sorted({secret[i : i + size] for i in range(len(secret) - size + 1)})
        alternatives = "|".join(re.escape(g) for g in grams)
        self._size = size
        self._any = re.compile(alternatives)
        # A lookahead finds every occurrence, overlapping ones included.
        self._each = re.compile(f"(?=({alternatives}))")
        self._any_bytes = re.compile(
            b"|".join(re.escape(g.encode("utf-8", "surrogatepass")) for g in grams)
        )

    def __repr__(self) -> str:
        return "<Redactor (secret hidden)>"

    def __reduce__(self) -> Any:
        raise NotPicklableError("a Redactor holds a secret and cannot be pickled")

    def found_in(self, text: str) -> bool:
        """Whether ``text`` holds the secret or a fragment of it."""
        return self._any.search(text) is not None

    def text(self, text: str) -> str:
        """``text`` with every fragment of the secret replaced by :data:`MARK`."""
        if self._any.search(text) is None:
            return text
        spans: list[list[int]] = []
        for match in self._each.finditer(text):
            start, end = match.start(), match.start() + self._size
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
        out: list[str] = []
        position = 0
        for start, end in spans:
            out.append(text[position:start])
            out.append(MARK)
            position = end
        out.append(text[position:])
        return "".join(out)

    def value(self, value: Any) -> tuple[Any, bool]:
        """A decoded JSON value with every string (object keys too) redacted, and whether
        anything was. Raises :class:`ResponseTooDeepError` past Python's recursion limit."""
        try:
            return self._value(value)
        except RecursionError:
            raise ResponseTooDeepError("the response body is nested too deeply") from None

    def _value(self, value: Any) -> tuple[Any, bool]:
        if isinstance(value, str):
            clean = self.text(value)
            return clean, clean is not value
        if isinstance(value, list):
            items = [self._value(v) for v in value]
            return [v for v, _ in items], any(hit for _, hit in items)
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            hit = False
            for k, v in value.items():
                clean_key = self.text(k)
                clean_value, value_hit = self._value(v)
                out[clean_key] = clean_value
                hit = hit or value_hit or clean_key is not k
            return out, hit
        return value, False

    def json_body(self, body: bytes) -> tuple[bytes, bool]:
        """``body`` with the secret redacted from every decoded string, and whether it held
        any. A body that is not UTF-8 JSON is returned as it is: it cannot become a model, and
        the validator's errors never quote it."""
        if b"\\" not in body and self._any_bytes.search(body) is None:
            return body, False  # nothing escaped, nothing found: the common case, no decoding
        try:
            decoded = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return body, False
        clean, hit = self.value(decoded)
        if not hit:
            return body, False
        return json.dumps(clean).encode("ascii"), True


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
