"""Errors as the engine shows them: one clean line, never a traceback.

The SDK's server reports any exception from a provider method as ``Unexpected <class
'Exception'>: <message>`` followed by a Python traceback. Every engine call of the plugin
instead raises :class:`PluginError`, whose ``message`` is the whole text the user sees and whose
``code`` is the gRPC status; :mod:`provider.plugin.server` answers the call with exactly those.

Messages follow :data:`provider.errors.PRESENTATIONS` (``<title>: <the core's message>``), spell
input names as the schema does (``chainDeploymentId``), and say where to set the API key when
the key is the problem.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from .. import credentials
from ..errors import (
    ApiError,
    AuthenticationError,
    BasetenError,
    CancelledError,
    InvalidInputError,
    NotFoundError,
    headline,
    is_about_api_key,
)
from ..text import printable
from .values import camel_text

KEY_HINT = credentials.PULUMI_KEY_HINT


class PluginError(BasetenError):
    """An engine call's failure, as the engine will show it (``message``, one line, passed
    through :func:`provider.text.printable`)."""

    def __init__(
        self, message: str, code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION
    ) -> None:
        message = printable(message)
        super().__init__(message)
        self.message = message
        self.code = code


# Any code but UNKNOWN, INTERNAL and DATA_LOSS tells the engine the failure is understood and
# the resource's state is as it was: true for every BasetenError (nothing is ever changed on
# Baseten). CANCELLED and DEADLINE_EXCEEDED are left to gRPC's own meanings. The nearest class
# in an error's MRO decides, as in provider.errors.presentation.
_CODES: dict[type[BaseException], grpc.StatusCode] = {
    InvalidInputError: grpc.StatusCode.INVALID_ARGUMENT,
    AuthenticationError: grpc.StatusCode.UNAUTHENTICATED,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    CancelledError: grpc.StatusCode.ABORTED,
    ApiError: grpc.StatusCode.UNAVAILABLE,
    BasetenError: grpc.StatusCode.FAILED_PRECONDITION,
}


def _code(exc: BaseException) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return grpc.StatusCode.INTERNAL


def plugin_error(
    exc: BaseException, *, redact: Callable[[str], str] = lambda text: text
) -> PluginError:
    """``exc`` as the engine should show it. A :class:`~provider.errors.BasetenError` gets its
    title and message; anything else is a bug, shown as :data:`provider.errors.INTERNAL` in one
    line. ``redact`` removes the API key from the message, whatever the error says."""
    text = camel_text(headline(exc))
    if is_about_api_key(exc):
        text += f" ({KEY_HINT})"
    return PluginError(redact(text), _code(exc))
