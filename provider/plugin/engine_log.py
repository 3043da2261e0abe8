"""The engine's ``Log`` service: where the gate's progress and warnings reach the user.

A native plugin gets the engine's address on its command line (and again in ``Handshake``);
:class:`EngineLog` calls ``pulumirpc.Engine/Log`` there. Progress goes out *ephemeral* on the
resource's URN, so it shows as the live status of the resource's row (as pulumi-kubernetes
shows its await progress) and does not pile up in the final output; warnings go out as
ordinary warning-severity diagnostics.

What a caller may rely on: :meth:`EngineLog.send` is thread-safe, never raises (an engine that
is gone or slow costs at most :data:`LOG_TIMEOUT_SECONDS` per message, and the message is
dropped), and passes every message through ``redact`` first, so no message carries the key.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TypeAlias

import grpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from ..text import printable

LOG_TIMEOUT_SECONDS = 5.0

Severity: TypeAlias = engine_pb2.LogSeverity.ValueType

INFO = engine_pb2.INFO
WARNING = engine_pb2.WARNING


def _no_redaction(text: str) -> str:
    return text


class EngineLog:
    """A client of the engine's ``Log`` service at ``address`` (``None``: nowhere, for a
    plugin started by hand). The channel opens on first use."""

    def __init__(
        self, address: str | None, *, redact: Callable[[str], str] = _no_redaction
    ) -> None:
        self._address = address or None
        self._redact = redact
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self._stub: engine_pb2_grpc.EngineStub | None = None

    @property
    def address(self) -> str | None:
        return self._address

    def retarget(self, address: str) -> None:
        """Use ``address`` from now on (``Handshake`` names the engine again)."""
        if not address or address == self._address:
            return
        with self._lock:
            self._address = address
            self._close_locked()

    def send(
        self, severity: Severity, message: str, *, urn: str = "", ephemeral: bool = False
    ) -> None:
        """Log ``message`` (redacted, control characters escaped) on ``urn``."""
        stub = self._connect()
        if stub is None:
            return
        request = engine_pb2.LogRequest(
            severity=severity,
            message=printable(self._redact(message)),
            urn=urn,
            ephemeral=ephemeral,
        )
        # Progress is a courtesy: an engine that cannot take it must not fail the gate.
        with contextlib.suppress(grpc.RpcError):
            stub.Log(request, timeout=LOG_TIMEOUT_SECONDS)

    def _connect(self) -> engine_pb2_grpc.EngineStub | None:
        with self._lock:
            if self._stub is None and self._address is not None:
                self._channel = grpc.insecure_channel(self._address)
                self._stub = engine_pb2_grpc.EngineStub(self._channel)
            return self._stub

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._channel = None
        self._stub = None
