"""``BasetenClient``: one safe, typed way to read chains from the Baseten management API.

What a caller may rely on:

* Inputs are checked before anything is sent (:mod:`provider.validation`); ids are percent-encoded
  into single path segments, so no id can reach another path.
* Only ``GET`` is ever sent. Redirects are not followed (the key goes to the base URL only):
  a ``3xx`` is a :class:`~provider.errors.RequestRejectedError` naming where it pointed.
* One keep-alive ``requests.Session`` per client; the client is safe to share between threads.
* One deadline per call. Each call runs until the caller's :class:`~provider.deadline.Deadline`
  or the client's own budget (:attr:`RetryPolicy.max_elapsed`), whichever comes first, and
  that bound reaches every socket operation: connecting, the status line and headers (``1xx``
  responses included), every body read, chunked or not (:mod:`provider.transport`). Each
  attempt must also be complete within the read timeout. An ungated call therefore ends
  within ``max_elapsed`` (plus the last attempt's 50 ms floor), whatever the server does; a DNS
  lookup is bounded only by the system resolver.
* Requests are paced per API key and endpoint by the process-wide limiter of
  :mod:`provider.ratelimit` (``max_requests_per_second``, default ``$BASETEN_MAX_RPS`` or
  100): every attempt, retries included, takes a turn, and waiting for it counts against the
  deadline; a 429 also slows the limiter down for every thread of the process.
* 429 (honouring ``Retry-After`` and a ``retry_after`` body field, capped at
  :attr:`RetryPolicy.max_retry_after`), 500/502/503/504, dropped connections and timeouts are
  retried with capped exponential backoff and jitter, at most :attr:`RetryPolicy.max_attempts`
  times; a failed DNS lookup or a refused connection is tried twice at most, a refused TLS
  certificate or a body that cannot be decoded (``Content-Encoding``) once. A wait that
  would not leave time for another attempt is not started: the call ends at once, and when it
  was the caller's deadline (not the client's budget) that was short, the error has
  ``out_of_time`` set. Waits end at once when the deadline's cancel signal is set
  (:class:`~provider.errors.CancelledError`), and so does a blocked read, within 0.2 s.
* Every failure is a :class:`~provider.errors.ApiError` subclass with the HTTP status and
  Baseten's message; a :class:`~provider.errors.TransportError` names the host (or the proxy
  on the way, never its credentials) and the cause in words. Bodies over
  :data:`MAX_RESPONSE_BYTES` (decoded) are refused.
* Nothing of the API key, not even :data:`~provider.redaction.FRAGMENT` characters of it,
  appears in any message, ``repr``, log line, pickle or returned model: whatever the server
  sends back (error texts, headers, every string of a 200 body) is redacted after decoding and
  before it is shortened or validated, and a response that echoed the key is reported through
  ``on_warning``. A body is decoded once, strictly (:mod:`provider.decoding`), and the model
  validates that value once redacted; redacting a 200 counts against the call's deadline.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from pydantic import BaseModel, ValidationError

from . import credentials, ratelimit, transport, validation
from ._version import __version__
from .backoff import Backoff
from .deadline import Deadline
from .decoding import decode_json
from .errors import (
    ApiError,
    AuthenticationError,
    CancelledError,
    InvalidInputError,
    NotFoundError,
    NotPicklableError,
    RateLimitedError,
    RequestRejectedError,
    ResponseFormatError,
    ServerError,
    TransportError,
)
from .models import Chain, ChainDeployment, ChainEnvironment
from .redaction import RedactionTimeoutError, Redactor, guard_logs
from .text import printable

log = logging.getLogger(__name__)

USER_AGENT = f"pulumi-baseten-chains/{__version__} python-requests/{requests.__version__}"
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""Largest response body read (a chain deployment is a few KB); a larger one is refused."""
MAX_MESSAGE_CHARS = 200
"""A server's error text is shortened to this many characters (after redaction)."""
MAX_ERROR_BODY_BYTES = 256 * 1024
"""The most of an error body searched for its message (a real one is a few hundred bytes): the
work of redacting it stays small whatever the server sends, and nothing past it is shown."""
MAX_ADVISED_WAIT = 24 * 3600.0
"""Server advice beyond a day is read as a day (it is capped far lower before any wait)."""
ECHO_WARNING = (
    "the Baseten API's response echoed the API key; it was redacted from everything this "
    "provider shows, logs or stores"
)
_READ_CHUNK = 64 * 1024
# No attempt is started with less time than this, so the last one in a budget is not doomed.
_MIN_ATTEMPT_SECONDS = 0.05
# A DNS failure or a refused connection is rarely transient: one retry, not the whole policy.
_UNREACHABLE_ATTEMPTS = 2
_M = TypeVar("_M", bound=BaseModel)
Warn = Callable[[str], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before it raises.

    ``max_attempts`` counts requests (the first one included); ``max_elapsed`` bounds the
    seconds from the first request to the end of the call, waits and attempts included: a
    wait that would not leave an attempt time to run is not started, and each attempt gets at
    most the time left (at least 50 ms). Server-advised waits are capped at
    ``max_retry_after``.
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
        raise NotPicklableError("credentials cannot be pickled")


@dataclass(frozen=True)
class _Retry:
    """One attempt failed in a way worth retrying; ``final`` builds the error to give up with.
    ``max_attempts`` lowers the policy's count for failures that are rarely transient."""

    final: Callable[[int], ApiError]
    advised_wait: float | None
    max_attempts: int | None = None
    throttled: bool = False


@dataclass(frozen=True)
class _Cancelled:
    """The cancel signal cut an attempt short."""


class BasetenClient:
    """Reads chains, chain deployments and environments.

    ``api_key`` defaults to ``$BASETEN_API_KEY``; ``base_url`` to ``$BASETEN_API_URL`` and then
    ``https://api.baseten.co`` (a URL ending in ``/v1``, as Baseten's docs print it, means the
    same). Both are checked here, before any connection is made. ``timeout`` is
    ``(connect, read)`` seconds; ``read`` bounds the whole response of one attempt, from the
    request sent to the last byte of the body. ``on_warning`` receives a sentence when a
    response echoed the API key (default: this module's logger). ``sleep`` and ``clock`` are
    injectable so tests can run retries in simulated time: they replace the deadline's
    cancellable wait and the clock of the client's own budget (each attempt's socket bound is
    measured on the real monotonic clock, since it is about real I/O). ``pool_size`` is how
    many connections are kept open for reuse; more threads than that still work, but their
    extra connections are closed after each call. ``max_in_flight`` bounds the requests this
    client has open at once (waiting for a turn counts against the caller's deadline).
    ``max_requests_per_second`` is the key's rate limit per endpoint (see
    :mod:`provider.ratelimit`; ``math.inf`` turns the limiter off).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: tuple[float, float] = (10.0, 30.0),
        retry: RetryPolicy | None = None,
        pool_size: int = 32,
        max_in_flight: int | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_warning: Callable[[str], None] | None = None,
        max_requests_per_second: float | None = None,
    ) -> None:
        found = credentials.resolve(api_key, base_url)
        rate = credentials.resolve_max_rps(max_requests_per_second)
        key = validation.check_api_key(found.api_key)
        self._redactor = Redactor(key)
        pasted = isinstance(found.base_url, str) and self._redactor.found_in(found.base_url)
        pasted_key = InvalidInputError(
            "base_url", "holds the API key (pasted into the wrong place?)"
        )
        try:
            self.base_url = validation.check_base_url(found.base_url)
        except InvalidInputError as exc:
            # A reason that quotes part of the URL (its host, lower-cased) would echo the key.
            if pasted and "'" in exc.reason:
                raise pasted_key from None
            raise
        if pasted:  # the key would be sent to that URL, in its path or host
            raise pasted_key
        if not isinstance(timeout, tuple) or len(timeout) != 2:
            raise InvalidInputError("timeout", "must be a (connect, read) pair of seconds")
        self._timeout = (
            validation.check_timeout(timeout[0], "timeout"),
            validation.check_timeout(timeout[1], "timeout"),
        )
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._limiter = ratelimit.limiter(key, self.base_url, rate, clock=clock)
        # Turns are timed on the limiter's clock: simulated waits only with a simulated clock.
        self._limiter_sleep = sleep if clock is not time.monotonic else None
        guard_logs(self._redactor)
        self._on_warning = on_warning or log.warning
        self._max_in_flight = max_in_flight
        self._turns = None if max_in_flight is None else threading.BoundedSemaphore(max_in_flight)
        if not validation.is_loopback_url(self.base_url):
            # requests reads a CA bundle from the environment (not for loopback: trust_env is
            # off there); a broken one is named now, not met as an OSError at the first request.
            credentials.check_ca_bundle()
        parts = urlsplit(self.base_url)
        self._hostname = parts.hostname or ""
        self._host = parts.netloc
        self._session = requests.Session()
        self._session.auth = _ApiKeyAuth(key)
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        if validation.is_loopback_url(self.base_url):
            # A proxy from the environment has no business seeing loopback traffic.
            self._session.trust_env = False
        adapter = transport.BoundedAdapter(
            pool_connections=1, pool_maxsize=pool_size, max_retries=0
        )
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    # -- the calls ---------------------------------------------------------------------------

    # Typed conveniences over :meth:`get`, one endpoint each (a chain named by name resolves
    # through :class:`provider.chains.ChainRef`, the one place that does it).

    def get_chain_deployment(
        self,
        chain_id: str,
        chain_deployment_id: str,
        *,
        deadline: Deadline | None = None,
        on_warning: Warn | None = None,
    ) -> ChainDeployment:
        """``GET /v1/chains/{chain_id}/deployments/{chain_deployment_id}``."""
        c, d = self._id("chain_id", chain_id), self._id("chain_deployment_id", chain_deployment_id)
        what = f"chain deployment {chain_deployment_id!r} of chain {chain_id!r}"
        path = validation.api_path("chains", c, "deployments", d)
        return self.get(path, ChainDeployment, what=what, deadline=deadline, on_warning=on_warning)

    def get_chain(self, chain_id: str, *, deadline: Deadline | None = None) -> Chain:
        """``GET /v1/chains/{chain_id}``."""
        path = validation.api_path("chains", self._id("chain_id", chain_id))
        return self.get(path, Chain, what=f"chain {chain_id!r}", deadline=deadline)

    def get_chain_environment(
        self,
        chain_id: str,
        env_name: str,
        *,
        deadline: Deadline | None = None,
        on_warning: Warn | None = None,
    ) -> ChainEnvironment:
        """``GET /v1/chains/{chain_id}/environments/{env_name}``."""
        c, e = self._id("chain_id", chain_id), self._id("environment", env_name)
        path = validation.api_path("chains", c, "environments", e)
        what = f"environment {env_name!r} of chain {chain_id!r}"
        return self.get(path, ChainEnvironment, what=what, deadline=deadline, on_warning=on_warning)

    def get(
        self,
        path: validation.ApiPath,
        model: type[_M],
        *,
        what: str,
        deadline: Deadline | None = None,
        on_warning: Warn | None = None,
    ) -> _M:
        """``GET path`` (built by :func:`provider.validation.api_path` from checked ids) as
        ``model``: the one call every read of :mod:`provider.catalog` makes, with the retries,
        the redaction and the checks above. ``what`` names the thing read in errors."""
        for checked in path.ids:
            self._refuse_key(checked.field, checked)
        return self._get_model(path, model, what=what, deadline=deadline, on_warning=on_warning)

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
        raise NotPicklableError("BasetenClient holds credentials and cannot be pickled")

    # -- the machinery -----------------------------------------------------------------------

    def _id(self, field: str, value: object) -> validation.Id:
        """A checked id, refused first when it holds the API key (so no error echoes it)."""
        self._refuse_key(field, value)
        return validation.check_id(field, value)

    def _refuse_key(self, field: str, value: object) -> None:
        """Refuse an id that holds the API key (pasted into the wrong place): it is then
        neither sent in a URL nor echoed in an error."""
        if isinstance(value, str) and self._redactor.found_in(value):
            raise InvalidInputError(
                field, "holds the API key (pasted into the wrong place?); nothing was sent"
            )

    def _get_model(
        self,
        path: str,
        model: type[_M],
        *,
        what: str,
        deadline: Deadline | None = None,
        on_warning: Warn | None = None,
    ) -> _M:
        """GET ``path`` and return the answer as ``model``: the body decoded once, strictly
        (:func:`~provider.decoding.decode_json`), redacted within the call's bound, and that
        redacted value validated; the model never sees anything redaction did not."""
        warn = on_warning or self._on_warning
        bound, callers = self._bound(deadline)
        body = self._get(path, what=what, deadline=deadline, warn=warn)
        decoded = decode_json(body, redact=self._redactor.text)
        try:
            clean, echoed = self._redactor.value(decoded, bound, source=body.decode("utf-8"))
        except RedactionTimeoutError:
            late = RedactionTimeoutError(bound.budget, host=self._host)
            late.out_of_time = callers
            raise late from None
        if echoed:
            warn(ECHO_WARNING)
        try:
            # Re-encoded, the checked value is validated as JSON (the models' rules are JSON's:
            # an RFC 3339 string is a timestamp); allow_nan=False holds the decoder's promise.
            return model.model_validate_json(json.dumps(clean, allow_nan=False))
        except ValidationError as exc:
            error = _format_error(exc, self._redactor.text)
        # Raised outside the except block: the error carries no chain back to the body.
        raise error

    def _bound(self, deadline: Deadline | None) -> tuple[Deadline, bool]:
        """The bound of one call: the caller's ``deadline`` or the client's own budget,
        whichever ends first; and whether it is the caller's (then a shortfall of time is
        charged to the caller: ``out_of_time``)."""
        policy = self._retry
        if deadline is None:
            return Deadline.after(policy.max_elapsed, clock=self._clock), False
        bound = deadline.sooner(policy.max_elapsed)
        return bound, bound.at >= deadline.at

    def _take_turn(self, bound: Deadline, callers: bool) -> None:
        """Wait for one of the ``max_in_flight`` turns, no longer than ``bound`` allows; the
        cancel signal ends the wait as it ends a socket read (within a poll interval)."""
        if self._turns is None:
            return
        waited = False  # only a wait for a turn may blame the requests in flight
        while True:
            bound.raise_if_cancelled()
            left = bound.remaining()
            if left <= 0:
                break
            waited = True
            if self._turns.acquire(timeout=min(left, transport.CANCEL_POLL_SECONDS)):
                return
        why = (
            f"the limit of {self._max_in_flight} requests in flight at once held until the deadline"
            if waited
            else "the deadline had passed before it could start"
        )
        error = TransportError(f"no request could be sent: {why}", attempts=0)
        error.out_of_time = callers
        raise error

    def _get(self, path: str, *, what: str, deadline: Deadline | None, warn: Warn) -> bytes:
        """GET ``path`` with retries, within ``deadline`` and the client's own budget; the
        raw body of a 200."""
        policy = self._retry
        bound, callers = self._bound(deadline)
        read_timeout = self._timeout[1]
        bucket = self._limiter.bucket(path)
        attempt = 0
        outcome: bytes | _Retry | _Cancelled | None = None
        waited_out = -math.inf  # the end of a rate-limit pause this call waited for itself
        while True:
            bound.raise_if_cancelled()
            attempt += 1
            if not bucket.acquire(bound, self._limiter_sleep, waited_out=waited_out):
                raise self._no_turn(outcome, attempt - 1, callers, bucket.paused_for())
            self._take_turn(bound, callers)
            try:
                limit = min(read_timeout, max(bound.remaining(), _MIN_ATTEMPT_SECONDS))
                outcome = self._attempt(path, what, limit, bound, warn)
            finally:
                if self._turns is not None:
                    self._turns.release()
            if isinstance(outcome, _Cancelled):
                raise CancelledError("cancelled by the caller")
            if not isinstance(outcome, _Retry):
                bucket.answered()
                return outcome
            wait = outcome.advised_wait
            if wait is None:
                wait = policy.backoff.delay(attempt - 1)
            wait = min(max(wait, 0.0), policy.max_retry_after)
            if outcome.throttled:
                waited_out = bucket.throttled(None if outcome.advised_wait is None else wait)
            allowed = policy.max_attempts
            if outcome.max_attempts is not None:
                allowed = min(allowed, outcome.max_attempts)
            if attempt >= allowed:
                raise outcome.final(attempt)
            if wait + _MIN_ATTEMPT_SECONDS > bound.remaining():
                # No time for the wait and another attempt: end now, not after a doomed sleep.
                error = outcome.final(attempt)
                error.out_of_time = callers
                raise error
            log.info("GET %s failed (attempt %d); retrying in %.2fs", path, attempt, wait)
            bound.sleep(wait, self._sleep)

    def _no_turn(
        self,
        previous: bytes | _Retry | _Cancelled | None,
        attempts: int,
        callers: bool,
        paused_for: float,
    ) -> ApiError:
        """The error when the rate limiter's next turn comes after the deadline: the last
        attempt's failure if there was one, as when a backoff would outlast the deadline; a
        429 when the server's ``Retry-After`` (seen by any thread) holds the turn back."""
        error: ApiError
        if isinstance(previous, _Retry):
            error = previous.final(attempts)
        elif paused_for > 0:
            error = RateLimitedError(
                f"rate limited: Baseten asked this process to wait {paused_for:.0f}s more "
                "(Retry-After of an earlier 429 for this key and endpoint), past the deadline",
                retry_after=paused_for,
                attempts=attempts,
            )
        else:
            error = TransportError(
                f"no request could be sent: the rate limit of {self._limiter.limit:g} "
                "requests/s per endpoint gave no turn before the deadline",
                attempts=0,
            )
        error.out_of_time = callers
        return error

    def _attempt(
        self, path: str, what: str, limit: float, bound: Deadline, warn: Warn
    ) -> bytes | _Retry | _Cancelled:
        """One request, given ``limit`` seconds in all: the body of a 200, a :class:`_Retry`,
        :class:`_Cancelled`, or a raised final error."""
        scope = transport.Scope(at=time.monotonic() + limit, cancel=bound.cancel)
        failure: _Retry | None = None
        with transport.bounded(scope):
            try:
                resp = self._session.get(
                    self.base_url + path,
                    timeout=(min(self._timeout[0], limit), limit),
                    allow_redirects=False,
                    stream=True,
                )
            except requests.exceptions.RequestException as exc:
                # Kept, not raised here: no exception chain may lead back to the request (and
                # its Authorization header) from an error we raise later.
                failure = self._transport_failure(exc, scope, limit)
            else:
                try:
                    body = _read_body(resp)
                except (
                    urllib3.exceptions.HTTPError,
                    requests.exceptions.RequestException,
                    OSError,
                ) as exc:
                    resp.close()
                    encoding = resp.headers.get("Content-Encoding", "")
                    failure = self._transport_failure(exc, scope, limit, encoding)
        if scope.ended_by == "cancel":
            return _Cancelled()
        if failure is not None:
            return failure
        if isinstance(body, int):
            resp.close()
            raise ResponseFormatError(
                f"the response body is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB",
                status=resp.status_code,
            )
        status = resp.status_code
        if status == 200:
            self._check_json_content_type(resp)
            return body
        if 300 <= status < 400 and "Location" in resp.headers:
            raise RequestRejectedError(_refused_redirect(resp, self._redactor), status=status)
        message, echoed, parsed = _server_message(resp, body, self._redactor)
        if echoed:
            warn(ECHO_WARNING)
        if status in (401, 403):
            raise AuthenticationError(message, status=status)
        if status == 404:
            raise NotFoundError(message, what=what)
        if status == 429:
            advice = _retry_after(resp, parsed)
            return _Retry(
                lambda n: RateLimitedError(message, retry_after=advice, attempts=n),
                advice,
                throttled=True,
            )
        if status in RETRYABLE_STATUSES:
            return _Retry(lambda n: ServerError(message, status=status, attempts=n), None)
        if status >= 500:
            raise ServerError(message, status=status, attempts=1)
        raise RequestRejectedError(message, status=status)

    def _transport_failure(
        self, exc: BaseException, scope: transport.Scope, limit: float, encoding: str = ""
    ) -> _Retry:
        """A failure below HTTP as a retry: its cause in words, where it happened (the API's
        host, or the proxy on the way), and how often it is worth trying."""
        proxy = self._proxy_host() if _through_proxy(exc) else ""
        cause = _describe_transport(
            exc, scope, limit, self._timeout[0], host=self._host, encoding=encoding
        )
        if proxy:
            host = proxy
            words = f"could not connect through the proxy {proxy}: {cause.words}"
        else:
            host = self._hostname if cause.words.startswith("DNS") else self._host
            words = cause.words
        message = self._redactor.text(words)

        def final(attempts: int) -> ApiError:
            return TransportError(message, attempts=attempts, host=host)

        return _Retry(final, None, cause.max_attempts)

    def _proxy_host(self) -> str:
        """``host:port`` of the proxy the session sends this client's requests through (from
        ``HTTPS_PROXY`` and the like), never its credentials; empty when there is none."""
        settings = self._session.merge_environment_settings(self.base_url, {}, None, None, None)
        proxy = requests.utils.select_proxy(self.base_url + "/", settings.get("proxies") or {})
        if not proxy:
            return ""
        try:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            host, port = parts.hostname or "", parts.port
        except ValueError:
            return "(a malformed proxy URL)"
        if ":" in host:
            host = f"[{host}]"
        return printable(_shorten(f"{host}:{port}" if port else host, 100))

    def _check_json_content_type(self, resp: requests.Response) -> None:
        content_type = resp.headers.get("Content-Type", "")
        given = content_type.split(";", 1)[0].strip()
        mime = given.lower()
        if mime and mime != "application/json" and not mime.endswith("+json"):
            # Shown as sent (redacted before any change of case), lower-cased only if clean.
            shown = self._redactor.text(given)
            shown = _shorten(mime if shown == given else shown, 80)
            raise ResponseFormatError(f"expected a JSON body, got Content-Type {shown!r}")


def _read_body(resp: requests.Response) -> bytes | int:
    """The whole (decoded) body, or its size once it outgrew :data:`MAX_RESPONSE_BYTES`.

    Read one socket read at a time (``read1``), so a decompressed body is counted as it grows;
    the attempt's deadline bounds each read (:mod:`provider.transport`).
    """
    raw = resp.raw
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = raw.read1(_READ_CHUNK, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return size
        chunks.append(chunk)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_error(exc: ValidationError, redact: Callable[[str], str]) -> ResponseFormatError:
    """Name the first offending field (the body already parsed: see ``decode_json``)."""
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = redact(_field_path(first["loc"]))
    message = redact(str(first["msg"]))
    if not loc:
        return ResponseFormatError(f"the response body has the wrong shape: {message}")
    return ResponseFormatError(
        f"the response does not match the schema at field {loc!r}: {message}", field=loc
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


def _server_message(
    resp: requests.Response, body: bytes, redactor: Redactor
) -> tuple[str, bool, Any]:
    """Baseten's message for an error response, whatever shape the body has, with the key
    redacted before anything is cut; whether the response echoed the key; and the body as
    decoded (redacted), or :data:`_NOT_JSON`, so nothing decodes it a second time.

    The body goes through the one strict decoder (:func:`~provider.decoding.decode_json`), so
    escapes cannot hide the key, and every string of it is redacted; its
    ``message``/``error``/``detail`` string is the message, else the whole JSON (a lone
    surrogate escape in it is shown as the text ``\\ud800``). A body that looks like JSON but
    is not strict JSON (a ``NaN`` in it) is not quoted: the message says why. Any other body,
    and the first :data:`MAX_ERROR_BODY_BYTES` of a larger one, is redacted as text, stripped
    of tags and shortened.
    """
    whole = len(body) <= MAX_ERROR_BODY_BYTES
    text = _text(resp, body[:MAX_ERROR_BODY_BYTES])
    reason = _shorten(redactor.text(resp.reason or ""), 80) or "no reason given"
    echoed = redactor.found_in(resp.reason or "")
    try:
        # An oversized body is read as text (its first part): decoding it would be to no end.
        parsed: Any = (
            decode_json(body, redact=redactor.text, show_surrogates=True) if whole else _NOT_JSON
        )
    except ResponseFormatError as exc:
        if text.lstrip()[:1] in ("{", "["):
            return f"{reason}: {exc.message}", echoed, _NOT_JSON
        parsed = _NOT_JSON
    if parsed is not _NOT_JSON:
        parsed, hit = redactor.value(parsed)
        echoed = echoed or hit
    if isinstance(parsed, dict):
        for key in ("message", "error", "detail"):
            value = parsed.get(key)
            if isinstance(value, str) and value.strip():
                return _shorten(value, MAX_MESSAGE_CHARS), echoed, parsed
    if parsed is _NOT_JSON:
        echoed = echoed or redactor.found_in(text)
        # Tags become a space and runs of space one, so no two pieces of text are joined:
        # redacting after that finds whatever was there before (and the mark is no tag).
        plain = _SPACE.sub(" ", _TAG.sub(" ", text)).strip()
    else:
        plain = _SPACE.sub(" ", json.dumps(parsed, ensure_ascii=False)).strip()
    plain = redactor.text(plain)
    message = f"{reason}: {_shorten(plain, MAX_MESSAGE_CHARS)}" if plain else reason
    return message, echoed, parsed


_NOT_JSON: Any = object()

# Seconds as Retry-After gives them (RFC 9110: digits; a fraction is tolerated).
_DELAY_SECONDS = re.compile(r"\s*(\d{1,64}(?:\.\d{1,64})?)\s*")


def _advice(seconds: float) -> float | None:
    """Advice as a usable wait: non-negative, finite, at most :data:`MAX_ADVISED_WAIT`."""
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_ADVISED_WAIT)


def _retry_after_header(header: str) -> float | None:
    """``Retry-After`` as seconds: delay-seconds or an HTTP date; ``None`` if unusable."""
    if len(header) > 100:
        return None
    match = _DELAY_SECONDS.fullmatch(header)
    if match:
        return _advice(float(match.group(1)))  # float() of digits never raises; may be inf
    try:
        when = parsedate_to_datetime(header)
        seconds = when.timestamp() - time.time()
    except (TypeError, ValueError, OverflowError, IndexError, OSError):
        return None  # not a date, or one no datetime can hold (year 99999999999)
    return _advice(seconds)


def _retry_after(resp: requests.Response, parsed: Any) -> float | None:
    """Seconds the server asked us to wait: ``Retry-After`` header, else the ``retry_after``
    field of the body ``parsed`` (as :func:`_server_message` decoded it). Absurd values never
    raise: they are capped, or ignored when they mean nothing."""
    header = resp.headers.get("Retry-After")
    if header:
        advised = _retry_after_header(header)
        if advised is not None:
            return advised
    value = parsed.get("retry_after") if isinstance(parsed, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return _advice(float(value))  # the decoder holds integers within ±2**53: no overflow


_REDIRECT_REFUSED = (
    "not followed: the API key would be sent to another address; set the base URL to the "
    "address the Baseten API answers at"
)


def _refused_redirect(resp: requests.Response, redactor: Redactor) -> str:
    """A 3xx in words: where it pointed (no credentials, query or fragment; redacted, escaped,
    shortened) and why it was not followed."""
    location = resp.headers.get("Location", "")
    try:
        parts = urlsplit(location)
        netloc = parts.netloc.rpartition("@")[2]
        shown = parts._replace(netloc=netloc, query="", fragment="").geturl()
        if parts.query or parts.fragment:
            shown += "?..."
    except ValueError:
        shown = location
    shown = printable(_shorten(redactor.text(shown), 120)) or "an empty Location"
    return f"redirected to {shown} ({_REDIRECT_REFUSED})"


def _through_proxy(exc: BaseException) -> bool:
    return any(
        isinstance(c, urllib3.exceptions.ProxyError | requests.exceptions.ProxyError)
        for c in _causes(exc)
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, contexts and urllib3's ``reason`` (bounded)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 32:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
            *[a for a in current.args if isinstance(a, BaseException)],
        ):
            if isinstance(nxt, BaseException):
                pending.append(nxt)


def _words(error: BaseException) -> str:
    """An OS or TLS error in words, never its class name."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the TLS certificate was refused ({error.verify_message or 'not trusted'})"
    if isinstance(error, ssl.SSLError):
        return f"the TLS handshake failed ({error.reason or 'protocol error'})".replace("_", " ")
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[:1].lower() + error.strerror[1:]
    return ""


@dataclass(frozen=True)
class _Cause:
    """A failure below HTTP: in words (the error adds the host), and how many attempts it is
    worth (``None``: the policy's; fewer for what is rarely or never transient)."""

    words: str
    max_attempts: int | None = None


_CA_HINT = (
    "if a proxy or a private CA signs it, point REQUESTS_CA_BUNDLE at that CA's certificate file"
)


def _describe_transport(
    exc: BaseException,
    scope: transport.Scope,
    limit: float,
    connect_timeout: float,
    *,
    host: str = "",
    encoding: str = "",
) -> _Cause:
    """A failure below HTTP in words, and how often it is worth trying: an unreachable host (a
    DNS failure, a refused connection) twice, a refused certificate or a body that cannot be
    decoded once (neither changes by trying again), anything else by the policy."""
    causes = list(_causes(exc))
    if any(isinstance(c, socket.gaierror | urllib3.exceptions.NameResolutionError) for c in causes):
        return _Cause("DNS lookup failed: could not resolve the host name", _UNREACHABLE_ATTEMPTS)
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return _Cause("connection refused", _UNREACHABLE_ATTEMPTS)
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return _Cause(f"the connection failed: {_words(cause)}; {_CA_HINT}", 1)
    if isinstance(exc, requests.exceptions.ConnectTimeout) or any(
        isinstance(c, urllib3.exceptions.ConnectTimeoutError) for c in causes
    ):
        return _Cause(
            f"timed out connecting: no connection within {min(connect_timeout, limit):.3g}s"
        )
    timed_out = scope.ended_by == "deadline" or any(
        isinstance(c, TimeoutError | urllib3.exceptions.ReadTimeoutError) for c in causes
    )
    if timed_out:
        if scope.received == 0:
            return _Cause(f"timed out: no answer within {limit:.3g}s")
        return _Cause(
            f"timed out: answered too slowly, the response was not complete within {limit:.3g}s"
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or any(
        isinstance(c, urllib3.exceptions.IncompleteRead | http.client.IncompleteRead)
        for c in causes
    ):
        return _Cause("the connection dropped in the middle of the response (truncated body)")
    if any(isinstance(c, urllib3.exceptions.DecodeError) for c in causes):
        named = printable(_shorten(encoding.strip(), 40)) or "not named"
        return _Cause(f"the body could not be decoded (Content-Encoding {named})", 1)
    for cause in causes:
        # RemoteDisconnected is a BadStatusLine too, but it means no status line at all.
        if isinstance(cause, http.client.BadStatusLine) and not isinstance(
            cause, http.client.RemoteDisconnected
        ):
            line = printable(_shorten(str(cause.args[0] if cause.args else "").strip(), 60))
            return _Cause(f"malformed status line from {host or 'the server'}: {line!r}")
        if isinstance(cause, http.client.LineTooLong):
            return _Cause(f"malformed answer from {host or 'the server'}: {cause}")
    for cause in causes:
        words = _words(cause)
        if words:
            return _Cause(f"the connection failed: {words}")
    if any(isinstance(c, urllib3.exceptions.ProtocolError) for c in causes):
        if scope.received == 0:
            return _Cause("the connection was closed before any answer")
        return _Cause("the connection dropped in the middle of the response")
    for cause in causes:
        # What a proxy said when it refused the tunnel ("Tunnel connection failed: 407 ...").
        if type(cause) is OSError and cause.args and isinstance(cause.args[0], str):
            said = printable(_shorten(cause.args[0], 100))
            if said:
                return _Cause(f"the connection failed: {said}")
    return _Cause("the connection failed")
