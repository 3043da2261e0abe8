"""A gRPC server process started as the Pulumi engine starts one, and a client for it.

The engine starts a provider (the dynamic provider host, or a plugin), reads the port from the
first line of its stdout, and calls ``pulumirpc.ResourceProvider`` on 127.0.0.1.
:class:`GrpcProcess` does exactly that, with a deadline on start-up and on every call, and
keeps everything that came back (responses, the first stdout line, stderr, errors) so a test
can search all of it for the API key. :mod:`tests.provider_host` and
:mod:`tests.plugin_engine` build their engine calls on it.
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc
from pulumi.runtime.proto import provider_pb2_grpc


class GrpcCallError(Exception):
    """A call failed: ``code`` and ``details`` are what the engine would see."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        self.method = method
        self.code = code
        self.details = details
        super().__init__(f"{method} failed with {code.name}: {details}")


class GrpcProcess:
    """``argv`` run in ``cwd`` with the inherited environment plus ``env`` (a ``None`` value
    removes a variable), as a context manager. ``error_class`` is what a failed call raises."""

    error_class: type[GrpcCallError] = GrpcCallError

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str | None] | None = None,
        cwd: Path | None = None,
        start_timeout: float = 30.0,
        call_timeout: float = 30.0,
    ) -> None:
        merged: dict[str, str | None] = {**os.environ, **(env or {})}
        self.env = {k: v for k, v in merged.items() if v is not None}
        self.argv = list(argv)
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.call_timeout = call_timeout
        self.responses: list[Any] = []
        self.methods: list[str] = []
        self.errors: list[GrpcCallError] = []
        self.port: int | None = None
        self.first_line = b""
        self.stub: Any = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stdout: queue.Queue[bytes] = queue.Queue()
        self._stderr: list[bytes] = []
        self._readers: list[threading.Thread] = []

    def __enter__(self) -> GrpcProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError("the process was already started")
        self._proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._lines, args=(self._proc.stdout,), daemon=True),
            threading.Thread(target=self._chunks, args=(self._proc.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        try:
            self.first_line = self._stdout.get(timeout=self.start_timeout)
            self.port = int(self.first_line.decode().strip())
        except (queue.Empty, ValueError):
            self.close()
            raise RuntimeError(
                f"{self.argv[0]} printed no port within {self.start_timeout}s (first line "
                f"{self.first_line!r}); stderr: {self.stderr}"
            ) from None
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def _lines(self, stream: Any) -> None:
        for line in iter(stream.readline, b""):
            self._stdout.put(line)
        stream.close()

    def _chunks(self, stream: Any) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            self._stderr.append(chunk)
        stream.close()

    @property
    def stderr(self) -> str:
        """Everything the process wrote to stderr so far (complete once closed)."""
        return b"".join(self._stderr).decode("utf-8", "replace")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def close(self, timeout: float = 5.0) -> None:
        """Terminate the process (kill it if it does not exit in ``timeout`` s); idempotent."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=timeout)

    def call(self, method: str, request: Any, timeout: float | None = None) -> Any:
        """``method`` with ``request``, bounded by ``timeout`` (default ``call_timeout``)."""
        if self.stub is None:
            raise RuntimeError("the process is not running")
        try:
            response = getattr(self.stub, method)(request, timeout=timeout or self.call_timeout)
        except grpc.RpcError as exc:
            error = self.error_class(method, exc.code(), exc.details() or "")
            self.errors.append(error)
            raise error from None
        self.responses.append(response)
        self.methods.append(method)
        return response
