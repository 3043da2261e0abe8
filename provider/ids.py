"""What an id is: the one rule for every id, whether a user typed it or the API answered it.

Ids become URL path segments and resource ids (``CHAIN_ID/DEPLOYMENT_ID``), so an id that could
change which URL it lands on, or that no later read would accept, is refused wherever it comes
from: :mod:`provider.validation` applies :func:`check_id` to inputs, and the models
(:data:`provider.models.ApiId`) to the ids in answers. Nothing here does I/O or imports the rest
of the package, so both may depend on it.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidInputError

MAX_ID_LENGTH = 128
"""Baseten ids are short (8 characters today); anything longer than this is a mistake."""

# Characters that would change which URL the id lands on, or that have no business in an id.
_FORBIDDEN_ID_CHARS = re.compile(r"[\s/\\?#%\x00-\x1f\x7f]")


class Id(str):
    """An id :func:`check_id` accepted, safe to put in a URL path as one segment; ``field`` is
    the input it came from (an error about it, e.g. the client refusing an id that holds the
    API key, names that input)."""

    field: str

    def __new__(cls, value: str, field: str) -> Id:
        checked = super().__new__(cls, value)
        checked.field = field
        return checked

    def __reduce__(self) -> tuple[Any, ...]:
        return (Id, (str(self), self.field))


def check_id(field: str, value: object) -> Id:
    """Return ``value`` if it is a usable id, else raise naming ``field``.

    A usable id is a non-empty string of at most :data:`MAX_ID_LENGTH` characters with no
    whitespace, control characters, ``/``, ``\\``, ``?``, ``#``, ``%`` or ``..``.
    """
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidInputError(field, "must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInputError(field, f"is {len(value)} characters long (at most {MAX_ID_LENGTH})")
    if not encodable(value):
        raise InvalidInputError(
            field, "contains characters that cannot be encoded as UTF-8 (a non-UTF-8 byte?)"
        )
    bad = _FORBIDDEN_ID_CHARS.search(value)
    if bad:
        raise InvalidInputError(field, f"contains {bad.group()!r}, which is not allowed in an id")
    if ".." in value or value == ".":
        raise InvalidInputError(field, "must not contain '..' or be '.'")
    return Id(value, field)


def encodable(value: str) -> bool:
    """False for strings with lone surrogates (how Python carries undecodable bytes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
