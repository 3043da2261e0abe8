"""``BasetenClient``: one safe, typed way to read chains from the Baseten management API.

What a caller may rely on:

* Inputs are checked before anything is sent (:mod:`provider.ids`); ids are percent-encoded
  into single path segments, so no id can reach another path.
* Only ``GET`` is ever sent. Redirects are not followed (the key goes to the base URL only).
* One keep-alive ``requests.Session`` per client; the client is safe to share between threads.
* 429 (honouring ``Retry-After`` and a ``retry_after`` body field), 500/502/503/504, dropped
  connections and timeouts are retried with capped exponential backoff and jitter, bounded by
  :attr:`RetryPolicy.max_attempts` and :attr:`RetryPolicy.max_elapsed`.
* Each attempt is bounded as a whole, not only per socket read: the response must be complete
  within the read timeout and within the retry budget left. The body is read one socket read
  at a time, each allowed only the time left, so a server that trickles bytes cannot hold a
  call past :attr:`RetryPolicy.max_elapsed` (give or take the connect timeout); status and
  headers are checked against the same deadline once they have arrived. A response that is
  not complete in time is a :class:`~provider.errors.TransportError` saying it was too slow,
  retried like a timeout. Bodies over :data:`MAX_RESPONSE_BYTES` (decoded) are refused.
* Every failure is a :class:`~provider.errors.ApiError` subclass with the HTTP status and
  Baseten's message. The API key appears in no message, ``repr``, log line or pickle.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeVar

import requests
import urllib3.exceptions
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter

from . import ids
from ._version import __version__
from .backoff import Backoff
from .deadline import Deadline
from .errors import (
    ApiError,
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    RequestRejectedError,
    ResponseFormatError,
    ServerError,
    TransportError,
)
from .models import Chain, ChainDeployment, ChainEnvironment

log = logging.getLogger(__name__)

USER_AGENT = f"pulumi-baseten-chains/{__version__} python-requests/{requests.__version__}"
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""Largest response body read (a chain deployment is a few KB); a larger one is refused."""
_READ_CHUNK = 64 * 1024
# No attempt is started with less time than this, so the last one in a budget is not doomed.
_MIN_ATTEMPT_SECONDS = 0.05
_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before it raises.

    ``max_attempts`` counts requests (the first one included); ``max_elapsed`` bounds the
    seconds from the first request to the decision to give up, waits included: a wait that
    would cross it is not started, and each attempt gets at most the time left (at least
    50 ms). Server-advised waits are capped at ``max_retry_after``.
    """

    max_attempts: int = 5
    max_elapsed: float = 60.0
    backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.5, cap=8.0))
    max_retry_after: float = 30.0


class _ApiKeyAuth(requests.auth.AuthBase):
    """Adds the Authorization header per request.

    An ``auth`` object (rather than a session header) also stops ``requests`` from replacing
    the header with credentials from ``~/.netrc``.
    """

    def __init__(self, key: str) -> None:
        self._header = f"Api-Key {key}"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._header
        return r

    def __repr__(self) -> str:
        return "<Api-Key auth (redacted)>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("credentials cannot be pickled")


@dataclass(frozen=True)
class _Retry:
    """One attempt failed in a way worth retrying; ``final`` builds the error to give up with."""

    final: Callable[[int], ApiError]
    advised_wait: float | None


def _transport_error(message: str, attempts: int) -> TransportError:
    return TransportError(message, attempts=attempts)


class BasetenClient:
    """Reads chains, chain deployments and environments.

    ``api_key`` defaults to ``$BASETEN_API_KEY``; ``base_url`` to ``$BASETEN_API_URL`` and then
    ``https://api.baseten.co``. Both are checked here, before any connection is made.
    ``timeout`` is ``(connect, read)`` seconds; ``read`` bounds both the wait for any one byte
    and the whole response, from the request sent to the last byte of the body. ``sleep`` and
    ``clock`` are injectable so tests can run retries in simulated time (the per-attempt bound
    is measured on the real monotonic clock, since it is about real I/O). ``pool_size`` is how
    many connections are kept open for reuse; more threads than that still work, but their
    extra connections are closed after each call.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: tuple[float, float] = (10.0, 30.0),
        retry: RetryPolicy | None = None,
        pool_size: int = 32,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        key = ids.check_api_key(
            api_key if api_key is not None else os.environ.get("BASETEN_API_KEY")
        )
        if base_url is None:
            base_url = os.environ.get("BASETEN_API_URL") or ids.DEFAULT_BASE_URL
        self.base_url = ids.check_base_url(base_url)
        for value in timeout:
            ids.check_timeout(value, "timeout")
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._key = key
        self._session = requests.Session()
        self._session.auth = _ApiKeyAuth(key)
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        if ids.is_loopback_url(self.base_url):
            # A proxy from the environment has no business seeing loopback traffic.
            self._session.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    # -- the calls ---------------------------------------------------------------------------

    def get_chain_deployment(
        self, chain_id: str, chain_deployment_id: str, *, deadline: Deadline | None = None
    ) -> ChainDeployment:
        """``GET /v1/chains/{chain_id}/deployments/{chain_deployment_id}``."""
        c = ids.path_segment("chain_id", chain_id)
        d = ids.path_segment("chain_deployment_id", chain_deployment_id)
        return self._get_model(
            f"/v1/chains/{c}/deployments/{d}",
            ChainDeployment,
            what=f"chain deployment {chain_deployment_id!r} of chain {chain_id!r}",
            deadline=deadline,
        )

    def get_chain(self, chain_id: str) -> Chain:
        """``GET /v1/chains/{chain_id}``."""
        c = ids.path_segment("chain_id", chain_id)
        return self._get_model(f"/v1/chains/{c}", Chain, what=f"chain {chain_id!r}")

    def list_chains(self) -> list[Chain]:
        """``GET /v1/chains``: every chain the key can see."""
        return self._get_model("/v1/chains", _ChainList, what="the chain list").chains

    def find_chain(self, name: str) -> Chain:
        """The chain called ``name`` (names are unique within a team); ``NotFoundError`` if none."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError("name", "must be a non-empty string")
        for chain in self.list_chains():
            if chain.name == name:
                return chain
        raise NotFoundError(
            "no chain with that name in GET /v1/chains", what=f"chain named {name!r}", status=None
        )

    def get_chain_environment(
        self, chain_id: str, env_name: str, *, deadline: Deadline | None = None
    ) -> ChainEnvironment:
        """``GET /v1/chains/{chain_id}/environments/{env_name}``."""
        c = ids.path_segment("chain_id", chain_id)
        e = ids.path_segment("environment", env_name)
        return self._get_model(
            f"/v1/chains/{c}/environments/{e}",
            ChainEnvironment,
            what=f"environment {env_name!r} of chain {chain_id!r}",
            deadline=deadline,
        )

    def close(self) -> None:
        """Close the pooled connections. The client must not be used afterwards."""
        self._session.close()

    def __enter__(self) -> BasetenClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"BasetenClient(base_url={self.base_url!r}, api_key=<redacted>)"

    def __reduce__(self) -> NoReturn:
        # A pickled client would carry the key into Pulumi state; refuse loudly instead.
        raise TypeError("BasetenClient holds credentials and cannot be pickled")

    # -- the machinery -----------------------------------------------------------------------

    def _get_model(
        self, path: str, model: type[_M], *, what: str, deadline: Deadline | None = None
    ) -> _M:
        body = self._get(path, what=what, deadline=deadline)
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            error = _format_error(exc, body, self._redact)
        # Raised outside the except block: the error carries no chain back to the body.
        raise error

    def _get(self, path: str, *, what: str, deadline: Deadline | None = None) -> bytes:
        """GET ``path`` with retries; the raw body of a 200."""
        policy = self._retry
        budget = policy.max_elapsed
        if deadline is not None:
            budget = min(budget, deadline.remaining())
        deadline_at = self._clock() + budget
        read_timeout = self._timeout[1]
        attempt = 0
        while True:
            attempt += 1
            left = max(deadline_at - self._clock(), _MIN_ATTEMPT_SECONDS)
            outcome = self._attempt(path, what, min(read_timeout, left))
            if not isinstance(outcome, _Retry):
                return outcome
            wait = outcome.advised_wait
            if wait is None:
                wait = policy.backoff.delay(attempt - 1)
            wait = min(max(wait, 0.0), policy.max_retry_after)
            if attempt >= policy.max_attempts:
                raise outcome.final(attempt)
            if self._clock() + wait > deadline_at:
                error = outcome.final(attempt)
                error.out_of_time = deadline is not None and budget < policy.max_elapsed
                raise error
            log.info("GET %s failed (attempt %d); retrying in %.2fs", path, attempt, wait)
            self._sleep(wait)

    def _attempt(self, path: str, what: str, limit: float) -> bytes | _Retry:
        """One request, given ``limit`` seconds in all: the body of a 200, a :class:`_Retry`,
        or a raised final error."""
        started = time.monotonic()
        try:
            resp = self._session.get(
                self.base_url + path,
                timeout=(self._timeout[0], limit),
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.RequestException as exc:
            # Returned, not raised: no exception chain may lead back to the request (and its
            # Authorization header) from an error we raise later.
            return _Retry(functools.partial(_transport_error, _describe_transport(exc)), None)
        try:
            body = _read_body(resp, started + limit)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            resp.close()
            return _Retry(functools.partial(_transport_error, _describe_body_error(exc)), None)
        if body is None:
            resp.close()
            return _Retry(functools.partial(_transport_error, _too_slow(limit)), None)
        if isinstance(body, int):
            resp.close()
            raise ResponseFormatError(
                f"the response body is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB",
                status=resp.status_code,
            )
        status = resp.status_code
        if status == 200:
            _check_json_content_type(resp)
            return body
        message = self._redact(_server_message(resp, body))
        if status in (401, 403):
            raise AuthenticationError(message, status=status)
        if status == 404:
            raise NotFoundError(message, what=what)
        if status == 429:
            advice = _retry_after(resp, body)
            return _Retry(
                lambda n: RateLimitedError(message, retry_after=advice, attempts=n), advice
            )
        if status in RETRYABLE_STATUSES:
            return _Retry(lambda n: ServerError(message, status=status, attempts=n), None)
        if status >= 500:
            raise ServerError(message, status=status, attempts=1)
        raise RequestRejectedError(message, status=status)

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "<redacted>") if self._key in text else text


class _ChainList(BaseModel):
    chains: list[Chain]


def _read_body(resp: requests.Response, deadline: float) -> bytes | int | None:
    """The whole body, read before ``deadline`` (``time.monotonic``); ``None`` if it did not
    arrive in time, the byte count if it outgrew :data:`MAX_RESPONSE_BYTES`.

    One socket read at a time (``read1``), each allowed only the time left, so a trickle of
    bytes cannot stretch the call: per-read timeouts alone would let every byte reset the
    clock. Once the body is complete urllib3 hands the connection back to the pool (and
    ``connection`` becomes ``None``), after which its socket is no longer ours to touch.
    """
    raw = resp.raw
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        conn = raw.connection
        sock = getattr(conn, "sock", None) if conn is not None else None
        if sock is not None:
            sock.settimeout(left)
        try:
            chunk = raw.read1(_READ_CHUNK, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:
            return None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return size
        chunks.append(chunk)


def _too_slow(limit: float) -> str:
    return f"the Baseten API answered too slowly (the response took longer than {limit:.3g}s)"


def _describe_body_error(exc: BaseException) -> str:
    """A short cause for a failure while the body was being read."""
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "the connection dropped in the middle of the response (truncated body)"
    if isinstance(exc, urllib3.exceptions.DecodeError):
        return "the response body could not be decoded (Content-Encoding)"
    return f"the response could not be read ({type(exc).__name__})"


def _check_json_content_type(resp: requests.Response) -> None:
    content_type = resp.headers.get("Content-Type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime and mime != "application/json" and not mime.endswith("+json"):
        raise ResponseFormatError(f"expected a JSON body, got Content-Type {mime!r}")


def _format_error(
    exc: ValidationError, body: bytes, redact: Callable[[str], str]
) -> ResponseFormatError:
    """Name the first offending field; call malformed JSON what it is."""
    first = exc.errors(include_url=False, include_input=False)[0]
    if not body.strip():
        return ResponseFormatError("the response body is empty")
    if first["type"] == "json_invalid":
        detail = str(first.get("ctx", {}).get("error", first["msg"]))
        if "EOF" in detail or "eof" in detail:
            return ResponseFormatError(f"the response body is truncated JSON ({detail})")
        return ResponseFormatError(f"the response body is not valid JSON ({detail})")
    loc = _field_path(first["loc"])
    if not loc:
        return ResponseFormatError(f"the response body has the wrong shape: {first['msg']}")
    return ResponseFormatError(
        redact(f"the response does not match the schema at field {loc!r}: {first['msg']}"),
        field=loc,
    )


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("DeploymentStatus", "str") or "[" in part:
            continue  # union branch labels, not fields
        else:
            out += f".{part}" if out else part
    return out


_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def _text(resp: requests.Response, body: bytes) -> str:
    try:
        return body.decode(resp.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


def _server_message(resp: requests.Response, body: bytes) -> str:
    """Baseten's message for an error response, whatever shape the body has."""
    text = _text(resp, body)
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        for key in ("message", "error", "detail"):
            if isinstance(parsed.get(key), str) and parsed[key]:
                return str(parsed[key])
    plain = _SPACE.sub(" ", _TAG.sub(" ", text)).strip()
    reason = resp.reason or "no reason given"
    return f"{reason}: {plain[:200]}" if plain else reason


def _retry_after(resp: requests.Response, body: bytes) -> float | None:
    """Seconds the server asked us to wait: ``Retry-After`` header, else ``retry_after`` field."""
    header = resp.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
                return max(0.0, when.timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    try:
        parsed: Any = json.loads(body)
    except (ValueError, RecursionError):
        return None
    value = parsed.get("retry_after") if isinstance(parsed, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer too large for a float: no usable advice
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _describe_transport(exc: requests.exceptions.RequestException) -> str:
    """A short cause for a failure below HTTP (the full urllib3 chain is noise)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "timed out connecting to the Baseten API"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "timed out waiting for the Baseten API to answer"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection dropped in the middle of the response (truncated body)"
    root: BaseException = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    if isinstance(root, ConnectionRefusedError):
        return "connection refused by the Baseten API host"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"the connection failed ({type(root).__name__})"
    return f"the request failed ({type(exc).__name__})"
