"""The one way a response body becomes a value: strict JSON, decoded once.

Every body the client reads (a 200's and an error's) is decoded here, and only here, before
anything else looks at it: redaction (:mod:`provider.redaction`) searches the decoded strings,
and the typed model (:mod:`provider.models`) validates the same, already redacted value. So no
body can reach a model, an output or a message without having been searched for the key.

What a caller may rely on: :func:`decode_json` returns a value made of ``dict`` (string keys),
``list``, ``str``, ``int``, ``float``, ``bool`` and ``None`` in which

* every string (keys included) is valid Unicode: no lone surrogate, neither sent raw (that is
  not UTF-8) nor as a ``\\ud800`` escape, so every string can be encoded for any front end;
* every integer is within :data:`MAX_SAFE_INTEGER` either side of zero, the range every front
  end carries exactly (a JavaScript number, a protobuf ``Value``, Terraform's number);
* every float is finite: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON, and neither is
  a number that overflows to infinity (``1e400``);
* no object has the same key twice (which of two values a reader takes is up to the reader);
* nesting is at most :data:`MAX_DEPTH` deep.

Anything else is a :class:`~provider.errors.ResponseFormatError` that says why and, past the
syntax, names the field (``chainlets[0].autoscaling_settings.max_replica``). Field names and
numbers come from the server: they are passed through the caller's ``redact`` and shortened
before they are shown.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from .errors import ResponseFormatError

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer every front end carries exactly (JavaScript's ``MAX_SAFE_INTEGER``)."""
MAX_DEPTH = 64
"""The deepest nesting accepted (a chain deployment is 4 levels deep)."""
_MAX_NAME_CHARS = 40
_MAX_PATH_CHARS = 200
# More digits than this cannot be within MAX_SAFE_INTEGER (16 digits); int() is never asked.
_MAX_INT_DIGITS = 17
_SURROGATE = re.compile("[\ud800-\udfff]")


class ResponseTooDeepError(ResponseFormatError):
    """A JSON body nested more deeply than :data:`MAX_DEPTH` (far deeper than any answer)."""


class _Refused(ValueError):
    """Found while decoding; turned into a :class:`ResponseFormatError` with the field path."""

    def __init__(
        self, path: tuple[int | str, ...], reason: str, *, deep: bool = False, number: str = ""
    ) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason
        self.deep = deep
        self.number = number


class _HugeInt:
    """An integer literal too long to be in range (its value is never computed)."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


class _Duplicated(dict[str, Any]):
    """An object that named ``key`` more than once."""

    key: str = ""


def _parse_int(text: str) -> int | _HugeInt:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return _HugeInt(text)
    return int(text)


class _Constant:
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's decoder takes them, JSON has none."""

    def __init__(self, name: str) -> None:
        self.name = name


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            duplicated = _Duplicated(found)
            duplicated.key = key
            return duplicated
        seen.add(key)
    return found  # unreachable: fewer keys than pairs means one repeats


def decode_json(
    body: bytes, *, redact: Callable[[str], str], show_surrogates: bool = False
) -> Any:
    """``body`` decoded as strict JSON (see the module's promises), or a
    :class:`ResponseFormatError` naming the field at fault; ``redact`` is applied to every
    field name shown.

    ``show_surrogates`` is for an error body, read only for the words it shows: a lone
    surrogate escape in one of its strings stays the text it was sent as (``\\ud800``, a
    backslash and five characters) instead of refusing the body, so the message still says
    what the server said. The value holds no lone surrogate either way."""
    if not body.strip():
        raise ResponseFormatError("the response body is empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResponseFormatError(
            f"the response body is not UTF-8 (byte 0x{body[exc.start]:02x} at offset "
            f"{exc.start}: {exc.reason})"
        ) from None
    try:
        value = json.loads(
            text, parse_int=_parse_int, parse_constant=_Constant, object_pairs_hook=_object
        )
        if show_surrogates:
            value = _shown_surrogates(value)
        _check(value, (), 0)
    except _Refused as exc:
        shown = _shown_path(exc.path, redact)
        where = f" (at field {shown!r})" if shown else ""
        error_type = ResponseTooDeepError if exc.deep else ResponseFormatError
        reason = exc.reason
        if exc.number:
            # A number the server sent: redacted (before it is cut), like every name.
            reason = _out_of_range(redact(exc.number))
        raise error_type(
            f"the response body cannot be used{where}: {reason}", field=shown or None
        ) from None
    except RecursionError:
        raise ResponseTooDeepError("the response body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        # The decoder's message names a position, never the text there.
        truncated = exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip())
        kind = "truncated JSON" if truncated else "not valid JSON"
        raise ResponseFormatError(f"the response body is {kind} ({exc})") from None
    return value


def _check(value: Any, path: tuple[int | str, ...], depth: int) -> None:
    """Raise :class:`_Refused` at the first value that breaks a promise of the module."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise _Refused(path, "a string holds a lone surrogate (\\ud800-\\udfff)")
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise _Refused(path, "out of range", number=str(value))
    elif isinstance(value, _HugeInt):
        raise _Refused(path, "out of range", number=value.digits)
    elif isinstance(value, _Constant):
        raise _Refused(path, f"{value.name} is not a JSON number")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Refused(path, "a number is too large to be represented")
    elif depth >= MAX_DEPTH:
        raise _Refused(path, f"nested more than {MAX_DEPTH} levels deep", deep=True)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, (*path, index), depth + 1)
    elif isinstance(value, dict):
        if isinstance(value, _Duplicated):
            raise _Refused((*path, value.key), "an object has this key more than once")
        for key, item in value.items():
            if _SURROGATE.search(key):
                raise _Refused(path, "a key holds a lone surrogate (\\ud800-\\udfff)")
            _check(item, (*path, key), depth + 1)


def _shown_surrogates(value: Any) -> Any:
    """``value`` with each lone surrogate in its strings (keys too) written as its escape."""
    if isinstance(value, str):
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if isinstance(value, list):
        return [_shown_surrogates(v) for v in value]
    if isinstance(value, _Duplicated):
        return value  # refused as it is by _check
    if isinstance(value, dict):
        return {_shown_surrogates(k): _shown_surrogates(v) for k, v in value.items()}
    return value


def _out_of_range(digits: str) -> str:
    shown = digits if len(digits) <= 24 else f"{digits[:12]}... ({len(digits)} characters)"
    return f"the integer {shown} is out of range (at most {MAX_SAFE_INTEGER} either side of 0)"


def _shown_path(path: tuple[int | str, ...], redact: Callable[[str], str]) -> str:
    """``chainlets[0].name``: list indices in brackets, names redacted and shortened (and
    escaped where they hold what no terminal should see)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        name = redact(part)
        if len(name) > _MAX_NAME_CHARS:
            name = name[: _MAX_NAME_CHARS - 3] + "..."
        name = name.encode("utf-8", "backslashreplace").decode("utf-8")
        out += f".{name}" if out else name
    return out if len(out) <= _MAX_PATH_CHARS else out[: _MAX_PATH_CHARS - 3] + "..."
