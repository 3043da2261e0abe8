"""The errors this package raises, and what a caller may rely on in each.

Two families:

* :class:`InvalidInputError` - the caller's input was refused before any request was sent. It
  names the offending ``field`` and the ``reason``; it never echoes a credential.
* :class:`BasetenError` - the Baseten API (or the way to it) failed. It carries the HTTP
  ``status`` (``None`` when no response arrived) and Baseten's own ``message``. Subclasses say
  what kind of failure it was, so callers can ``except`` by cause.

:class:`DeploymentNotReadyError` and its subclasses come from the readiness gate: the API
answered fine, but the deployment did not become ready.

No message built here contains an API key: the client redacts the key from anything the
server sends back before it reaches one of these classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import ChainDeployment


def _restore(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class _Picklable:
    """Errors here take keyword arguments; pickle them by state so they cross processes."""

    def __reduce__(self) -> tuple[Any, ...]:
        assert isinstance(self, BaseException)
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class InvalidInputError(_Picklable, ValueError):
    """An input was refused before any request was sent."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"invalid {field}: {reason}")


class BasetenError(_Picklable, Exception):
    """The Baseten API could not answer the call.

    ``status`` is the HTTP status of the last response (``None`` if none arrived) and
    ``message`` is Baseten's own message for it (or a description of what went wrong on the way).
    """

    def __init__(self, message: str, *, status: int | None = None, hint: str = "") -> None:
        self.status = status
        self.message = message
        self.hint = hint
        prefix = f"HTTP {status}: " if status is not None else ""
        text = f"{prefix}{message}"
        super().__init__(f"{text} ({hint})" if hint else text)


class AuthenticationError(BasetenError):
    """401 or 403: the API key is missing, wrong or lacks access."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(
            message,
            status=status,
            hint="check BASETEN_API_KEY or the Pulumi config baseten:apiKey",
        )


class NotFoundError(BasetenError):
    """404: the chain, the deployment or the environment does not exist (or is not visible)."""

    def __init__(self, message: str, *, what: str) -> None:
        self.what = what
        super().__init__(f"{what} was not found; Baseten said: {message}", status=404)


class RateLimitedError(BasetenError):
    """429 that outlasted the retry budget. ``retry_after`` is the server's last advice."""

    def __init__(self, message: str, *, retry_after: float | None, attempts: int) -> None:
        self.retry_after = retry_after
        self.attempts = attempts
        advice = f"; Baseten asked to retry after {retry_after:g}s" if retry_after else ""
        super().__init__(
            f"{message} (gave up after {attempts} attempts{advice})",
            status=429,
        )


class ServerError(BasetenError):
    """5xx that outlasted the retry budget (or a 5xx that is not worth retrying)."""

    def __init__(self, message: str, *, status: int, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(f"{message} (after {attempts} attempts)", status=status)


class TransportError(BasetenError):
    """No usable response: connection refused or dropped, or a timeout, after the retries."""

    def __init__(self, message: str, *, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(f"{message} (after {attempts} attempts)", status=None)


class RequestRejectedError(BasetenError):
    """Any other 4xx: Baseten refused the request as sent."""


class ResponseFormatError(BasetenError):
    """A 200 whose body is not the documented JSON: not JSON, truncated, or the wrong shape.

    ``field`` names the first offending field (dotted path, list indices in brackets) when the
    body parsed but did not match the schema.
    """

    def __init__(self, message: str, *, status: int | None = 200, field: str | None = None) -> None:
        self.field = field
        super().__init__(message, status=status)


class DeploymentNotReadyError(_Picklable, Exception):
    """The readiness gate did not open. ``deployment`` is the last state seen."""

    def __init__(self, message: str, deployment: ChainDeployment | None) -> None:
        self.deployment = deployment
        super().__init__(message)


class DeploymentFailedError(DeploymentNotReadyError):
    """A status that will not turn ready by itself (failed, switched off, settled elsewhere)."""


class DeploymentTimeoutError(DeploymentNotReadyError):
    """``timeout_seconds`` passed while the deployment was still on its way."""
