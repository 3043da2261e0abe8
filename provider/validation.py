"""Validation of everything a caller hands us before a request is built.

Ids become URL path segments, the API key becomes a header and the base URL decides where the
key is sent, so each is checked here, with an :class:`~provider.errors.InvalidInputError` that
names the field. The id rule (:func:`check_id`, from :mod:`provider.ids`) is also the one the
models apply to the ids in the API's answers. Nothing in this module does I/O.
"""

from __future__ import annotations

import ipaddress
import math
import re
from urllib.parse import quote, urlsplit

from .errors import InvalidInputError
from .ids import MAX_ID_LENGTH, Id, check_id, encodable
from .models import KNOWN_STATUSES

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_TIMEOUT_SECONDS",
    "ApiPath",
    "Id",
    "api_path",
    "check_api_key",
    "check_base_url",
    "check_id",
    "check_timeout",
    "check_wait_for",
    "is_loopback_url",
    "path_segment",
]

MAX_TIMEOUT_SECONDS = 365 * 24 * 3600.0
"""The longest timeout accepted: a year. Longer ones are mistakes, and sockets and waits
cannot hold much longer ones."""

_KEY_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f]")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class ApiPath(str):
    """A request path built by :func:`api_path`, ready for the client; ``ids`` are the
    checked ids in it (the client refuses one that holds the API key, naming its input)."""

    ids: tuple[Id, ...]


def path_segment(field: str, value: object) -> str:
    """Validate an id and percent-encode it so it is exactly one URL path segment."""
    return quote(check_id(field, value), safe="")


def api_path(*parts: Id | str) -> ApiPath:
    """``/v1/chains/...``: the literal parts as they are, each :data:`Id` percent-encoded as
    exactly one path segment. Only checked ids (:func:`check_id`) are passed in as ids: this
    is where a validated value becomes a URL, with no second check."""
    path = ApiPath("/v1/" + "/".join(quote(part, safe="") for part in parts))
    path.ids = tuple(part for part in parts if isinstance(part, Id))
    return path


def check_api_key(value: object) -> str:
    """Return the key if it can be sent in a header; never include it in the error."""
    if value is None or value == "":
        raise InvalidInputError("api_key", "no API key was given")
    if not isinstance(value, str):
        raise InvalidInputError("api_key", f"must be a string, got {type(value).__name__}")
    if _KEY_FORBIDDEN.search(value):
        raise InvalidInputError(
            "api_key", "contains whitespace or control characters (a pasted newline?)"
        )
    if not value.isascii():
        # A header carries Latin-1 at most, and Baseten keys are ASCII: this is a paste error.
        raise InvalidInputError(
            "api_key",
            "contains non-ASCII characters, which cannot be sent in the Authorization header",
        )
    return value


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """True when ``url`` points at this machine (the only place plain http is allowed)."""
    host = urlsplit(url).hostname
    return host is not None and _is_loopback(host)


def check_base_url(value: object) -> str:
    """Return the base URL as the client uses it (no trailing ``/`` and no trailing ``/v1``:
    the client appends ``/v1/...`` itself, and Baseten's docs print the URL with it), or raise
    naming ``base_url``.

    Refused: anything that does not parse as a URL; anything but http(s); plain http to a host
    that is not loopback (the key would cross the network in clear); credentials, query or
    fragment in the URL; a host name that cannot be encoded (IDNA) or characters that cannot.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("base_url", "must be a non-empty URL string")
    if _KEY_FORBIDDEN.search(value):
        raise InvalidInputError("base_url", "contains whitespace or control characters")
    if not encodable(value):
        raise InvalidInputError("base_url", "contains characters that cannot be encoded as UTF-8")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise InvalidInputError("base_url", f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("https", "http"):
        raise InvalidInputError("base_url", f"scheme must be https, got {parts.scheme or 'none'!r}")
    if parts.username is not None or parts.password is not None:
        raise InvalidInputError(
            "base_url", "must not carry credentials; pass the API key separately"
        )
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        raise InvalidInputError("base_url", f"has an invalid port ({exc})") from None
    if not host:
        raise InvalidInputError("base_url", "has no host")
    if not _valid_host(host):
        raise InvalidInputError("base_url", f"has an invalid host name {host!r}")
    if parts.query or parts.fragment or value.rstrip().endswith(("?", "#")):
        raise InvalidInputError("base_url", "must not have a query or fragment")
    if parts.scheme == "http" and not _is_loopback(host):
        raise InvalidInputError(
            "base_url",
            f"plain http is only allowed for loopback hosts, not {host!r}; use https",
        )
    url = value.rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")].rstrip("/")
    return url


def _valid_host(host: str) -> bool:
    """A host requests can connect to: an IP address or a name that encodes (IDNA)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    if any(c in host for c in "[]@\\"):
        return False
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


def check_wait_for(value: object) -> frozenset[str]:
    """Validate the statuses counted as ready. ``None`` or empty means 'do not wait'."""
    if value is None:
        return frozenset()
    if not isinstance(value, list | tuple | set | frozenset):
        raise InvalidInputError(
            "wait_for", f"must be a list of statuses, got {type(value).__name__}"
        )
    statuses: set[str] = set()
    for item in value:
        if not isinstance(item, str) or item not in KNOWN_STATUSES:
            raise InvalidInputError(
                "wait_for",
                f"{quoted(item)} is not a known deployment status; known: "
                + ", ".join(sorted(KNOWN_STATUSES)),
            )
        statuses.add(item)
    return frozenset(statuses)


QUOTED_CHARS = 7
"""The most characters of a refused value an error quotes: fewer than a fragment of the key
(:data:`provider.redaction.FRAGMENT`), so a key pasted into the wrong field is never echoed."""


def quoted(value: object) -> str:
    """A refused value as an error may show it: a short string whole, a longer one as its first
    :data:`QUOTED_CHARS` characters and its length; anything else by its type."""
    if not isinstance(value, str):
        return f"a {type(value).__name__}"
    if len(value) <= QUOTED_CHARS:
        return repr(value)
    return f"{value[:QUOTED_CHARS]!r}... ({len(value)} characters)"


def check_timeout(value: object, field: str = "timeout_seconds") -> float:
    """A positive, finite number of seconds, at most :data:`MAX_TIMEOUT_SECONDS`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, f"must be a number of seconds, got {type(value).__name__}")
    try:
        seconds = float(value)
        shown = f"{seconds:g}"
    except OverflowError:  # an integer beyond any float, e.g. 10**400
        seconds, shown = math.inf, "an integer too large for any clock"
    if not seconds > 0 or not math.isfinite(seconds):
        raise InvalidInputError(field, f"must be a positive, finite number of seconds, got {shown}")
    if seconds > MAX_TIMEOUT_SECONDS:
        raise InvalidInputError(
            field, f"must be at most {MAX_TIMEOUT_SECONDS:.0f} seconds (a year), got {seconds:g}"
        )
    return seconds
