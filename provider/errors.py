"""Every error this package raises, under one root, and how each front end presents it.

:class:`BasetenError` is the root (as ``requests.RequestException`` is for ``requests``), so a
caller can ``except BasetenError`` once. Below it, by cause:

* :class:`InvalidInputError` - the caller's input was refused before any request was sent. It
  names the offending ``field`` and the ``reason``; it never echoes a credential.
* :class:`ApiError` - the Baseten API (or the way to it) failed. ``status`` is the HTTP status
  of the response that decided it, ``None`` when there was none (no response, or a 200 whose
  content was the problem); ``message`` is Baseten's own message or a description of what went
  wrong on the way.
* :class:`DeploymentNotReadyError` - the readiness gate did not open: the API answered fine, the
  deployment did not become ready (failed for good, or not within the deadline).
* :class:`CancelledError` - the caller's cancel signal stopped the call (Ctrl-C, ``terraform``
  stopping the provider, the engine's ``Cancel``).

:data:`PRESENTATIONS` is the one table that says, per class, the command line's exit code and
the title a front end shows (a Terraform diagnostic's summary, the first words of a Pulumi
error); :func:`presentation` looks an error up in it. No message built here contains an API key:
the client redacts the key from anything the server sends back before it reaches these classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .text import printable

if TYPE_CHECKING:
    from .models import ChainDeployment


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def _restore(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class BasetenError(Exception):
    """The root of every error this package raises on purpose. Its text (``str``) is
    :func:`provider.text.printable`: escaped, encodable and bounded, whatever the server sent."""

    def __str__(self) -> str:
        return printable(super().__str__())

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take keyword arguments; pickle by state so errors cross processes.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class InvalidInputError(BasetenError, ValueError):
    """An input was refused before any request was sent."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"invalid {field}: {reason}")


class ApiError(BasetenError):
    """The Baseten API could not answer the call.

    ``status`` is the HTTP status that decided the failure (``None`` if no response arrived or
    the failure was in a 200's content); ``message`` is Baseten's own message for it (or a
    description of what went wrong on the way). ``out_of_time`` is true when the call gave up
    because the caller's deadline left no time for another attempt or wait.
    """

    out_of_time: bool = False

    def __init__(self, message: str, *, status: int | None = None, hint: str = "") -> None:
        self.status = status
        self.message = message
        self.hint = hint
        prefix = f"HTTP {status}: " if status is not None else ""
        text = f"{prefix}{message}"
        super().__init__(f"{text} ({hint})" if hint else text)


class AuthenticationError(ApiError):
    """401 or 403: the API key is wrong or lacks access. Front ends add where to set it."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, status=status, hint="the API key was refused")


class NotFoundError(ApiError):
    """The chain, the deployment or the environment's current deployment does not exist.

    ``status`` is 404 when Baseten said so; ``None`` when the API answered but the thing is
    absent (an environment with no current deployment, no chain of that name). ``field`` names
    the input at fault when it is known (``chain_id`` when the chain itself is missing).
    """

    def __init__(
        self, message: str, *, what: str, status: int | None = 404, field: str | None = None
    ) -> None:
        self.what = what
        self.field = field
        said = f"; Baseten said: {message}" if status is not None else f": {message}"
        super().__init__(f"{what} was not found{said}", status=status)


class RateLimitedError(ApiError):
    """429 that outlasted the retry budget. ``retry_after`` is the server's last advice."""

    def __init__(self, message: str, *, retry_after: float | None, attempts: int) -> None:
        self.retry_after = retry_after
        self.attempts = attempts
        advice = f"; Baseten asked to retry after {retry_after:g}s" if retry_after else ""
        super().__init__(f"{message} (gave up after {_attempts(attempts)}{advice})", status=429)


class ServerError(ApiError):
    """5xx that outlasted the retry budget (or a 5xx that is not worth retrying)."""

    def __init__(self, message: str, *, status: int, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(f"{message} (after {_attempts(attempts)})", status=status)


class TransportError(ApiError):
    """No usable response: the host could not be reached, the connection dropped, or the
    answer did not arrive in time. ``host`` names where the call went."""

    def __init__(self, message: str, *, attempts: int, host: str = "") -> None:
        self.attempts = attempts
        self.host = host
        where = f" ({host})" if host and host not in message else ""
        super().__init__(f"{message}{where} (after {_attempts(attempts)})", status=None)


class RequestRejectedError(ApiError):
    """Any other 4xx: Baseten refused the request as sent."""


class ResponseFormatError(ApiError):
    """A response whose body is not the documented JSON, or that answers another question.

    ``field`` names the first offending field (dotted path, list indices in brackets) when the
    body parsed but did not match the schema. ``status`` is the status of the response whose
    body it was (200, unless the body of an error response was the problem).
    """

    def __init__(self, message: str, *, status: int | None = 200, field: str | None = None) -> None:
        self.field = field
        super().__init__(message, status=status)


class DeploymentNotReadyError(BasetenError):
    """The readiness gate did not open. ``deployment`` is the last state seen (if any);
    ``accept``, when not empty, the ``wait_for`` that would accept the state it rests in (the
    message shows it in the core's spelling; a front end may show it in its own)."""

    def __init__(
        self,
        message: str,
        deployment: ChainDeployment | None,
        *,
        accept: tuple[str, ...] = (),
    ) -> None:
        self.deployment = deployment
        self.accept = accept
        super().__init__(message)


class DeploymentFailedError(DeploymentNotReadyError):
    """A status that will not turn ready by itself (failed, switched off, settled elsewhere)."""


class DeploymentTimeoutError(DeploymentNotReadyError):
    """The deadline passed while the deployment was still on its way (or unreachable)."""


class CancelledError(BasetenError):
    """The caller's cancel signal stopped the call before it finished."""


class UnknownNameError(BasetenError, KeyError):
    """A name looked up in something this package holds (a chainlet of a deployment, an
    emulator scenario or stored deployment, a resource of a program run) does not exist."""

    def __str__(self) -> str:
        # KeyError's own str() quotes its argument; a message reads better as it is.
        return printable(str(self.args[0])) if self.args else ""


class UsageError(BasetenError, RuntimeError):
    """An object used out of its order (an emulator started twice, or used before it was)."""


class SetupError(BasetenError, OSError):
    """Something this package needs from the machine is missing (a ``terraform`` binary, an
    installed console script) or cannot work here (the platform)."""


class NotPicklableError(BasetenError, TypeError):
    """An object that holds the API key refuses to be pickled (it would end up in state)."""


class SchemaError(BasetenError, TypeError):
    """A declared type no schema can express: a model change that a front end's schema cannot
    follow fails when the schema is built (in the tests), never in a user's run."""


# -- how each front end shows them -----------------------------------------------------------

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_NOT_READY = 4
EXIT_INTERNAL = 5
EXIT_CANCELLED = 130


@dataclass(frozen=True)
class Presentation:
    """How a front end shows one kind of error: the command line's exit code and a title
    (Terraform's diagnostic summary; the start of the Pulumi message)."""

    exit_code: int
    title: str


PRESENTATIONS: Mapping[type[BaseException], Presentation] = {
    InvalidInputError: Presentation(EXIT_USAGE, "Invalid input"),
    AuthenticationError: Presentation(EXIT_API, "Baseten rejected the API key"),
    NotFoundError: Presentation(EXIT_API, "Not found"),
    RateLimitedError: Presentation(EXIT_API, "Baseten API rate limit exhausted"),
    ServerError: Presentation(EXIT_API, "Baseten API server error"),
    TransportError: Presentation(EXIT_API, "Could not reach the Baseten API"),
    ResponseFormatError: Presentation(EXIT_API, "Unexpected response from the Baseten API"),
    RequestRejectedError: Presentation(EXIT_API, "Baseten refused the request"),
    ApiError: Presentation(EXIT_API, "Baseten API error"),
    DeploymentFailedError: Presentation(EXIT_NOT_READY, "Chain deployment will not become ready"),
    DeploymentTimeoutError: Presentation(EXIT_NOT_READY, "Timed out waiting for the deployment"),
    DeploymentNotReadyError: Presentation(EXIT_NOT_READY, "Chain deployment is not ready"),
    CancelledError: Presentation(EXIT_CANCELLED, "Cancelled"),
    BasetenError: Presentation(EXIT_API, "Baseten error"),
}
INTERNAL = Presentation(EXIT_INTERNAL, "Internal error in the Baseten provider")
"""Anything that is not a :class:`BasetenError`: a bug, shown in one line, never a traceback."""


def presentation(exc: BaseException) -> Presentation:
    """The row of :data:`PRESENTATIONS` for ``exc`` (its nearest listed class), else
    :data:`INTERNAL`."""
    for cls in type(exc).__mro__:
        found = PRESENTATIONS.get(cls)
        if found is not None:
            return found
    return INTERNAL


def headline(exc: BaseException) -> str:
    """``Title: message`` in one line, as Pulumi shows a failed call: the title of
    :func:`presentation` and :func:`one_line`."""
    return f"{presentation(exc).title}: {one_line(exc)}"


def is_about_api_key(exc: BaseException) -> bool:
    """Whether the fix for ``exc`` is the API key (missing, malformed or refused): then each
    front end adds where *its* users set it."""
    return getattr(exc, "field", None) == "api_key" or isinstance(exc, AuthenticationError)


def one_line(exc: BaseException) -> str:
    """``exc`` as a single line for a terminal or a diagnostic: a :class:`BasetenError`'s own
    message, anything else as ``TypeName: message``; passed through
    :func:`provider.text.printable` (escaped, encodable, bounded)."""
    text = str(exc) if isinstance(exc, BasetenError) else f"{type(exc).__name__}: {exc}"
    return printable(text.strip()) or type(exc).__name__
