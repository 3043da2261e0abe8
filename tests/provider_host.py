"""Drive the REAL Pulumi dynamic provider host over gRPC, the way the engine does.

The engine starts ``python -u -m pulumi.dynamic`` with the Pulumi project directory as its
working directory, reads the port from the first line of its stdout and then calls the
``ResourceProvider`` gRPC service: ``Configure`` once with the stack config (secrets wrapped
in the secret signature), then ``Check``/``Diff``/``Create``/``Update``/``Read``/``Delete`` with
property Structs built by ``pulumi.runtime.rpc.serialize_properties``. ``__provider`` travels as
a plain string (the engine strips the secret wrapper before calling the host).

:class:`ProviderHost` does exactly that, with plain Python dicts in and out, a deadline on
every call, and a record of everything that came back (``raw_responses``, ``errors`` and the
host's ``stderr``) so a test can search all of it for a credential.
"""

from __future__ import annotations

import asyncio
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import grpc
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from provider.resource import ChainDeploymentProvider

PROJECT_DIR = Path(__file__).resolve().parents[1]
PROJECT_NAME = "baseten-chain-gate"
PROVIDER_KEY = "__provider"
# The package the engine configures for Python dynamic resources; ``variables`` use the old
# ``<package>:config:<key>`` spelling, ``args`` the ``namespace:key`` one.
DYNAMIC_PACKAGE = "pulumi-python"
UNKNOWN = rpc.UNKNOWN

_DIFF_NAMES = {
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "DIFF_UNKNOWN",
    provider_pb2.DiffResponse.DIFF_NONE: "DIFF_NONE",
    provider_pb2.DiffResponse.DIFF_SOME: "DIFF_SOME",
}


class ProviderHostError(Exception):
    """A gRPC call to the host failed. ``details`` holds the host's text (a traceback)."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        self.method = method
        self.code = code
        self.details = details
        super().__init__(f"{method} failed with {code.name}: {details}")


def secret(value: Any) -> dict[str, Any]:
    """``value`` wrapped as the engine sends a secret property."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def provider_string() -> str:
    """What the SDK stores in ``__provider`` for a :class:`ChainDeploymentProvider`."""
    return str(serialize_provider(ChainDeploymentProvider()))


def _serialize(props: Mapping[str, Any]) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
    finally:
        loop.close()


def _deserialize(struct: Any) -> dict[str, Any]:
    out = rpc.deserialize_properties(struct, keep_unknowns=True)
    return dict(out) if out else {}


class ProviderHost:
    """The real ``python -u -m pulumi.dynamic`` host, as a context manager.

    ``env`` overrides the inherited environment; a value of ``None`` removes the variable (so a
    test can prove that the API key comes from ``Configure``, not from ``BASETEN_API_KEY``).
    """

    def __init__(
        self,
        env: Mapping[str, str | None] | None = None,
        *,
        start_timeout: float = 30.0,
        call_timeout: float = 30.0,
    ) -> None:
        self.provider = provider_string()
        self.start_timeout = start_timeout
        self.call_timeout = call_timeout
        merged: dict[str, str | None] = {**os.environ, "PULUMI_PROJECT": PROJECT_NAME}
        merged.update(env or {})
        self.env = {k: v for k, v in merged.items() if v is not None}
        self.raw_responses: list[Any] = []
        self.errors: list[ProviderHostError] = []
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: Any = None
        self._stdout_lines: queue.Queue[bytes] = queue.Queue()
        self._stderr_chunks: list[bytes] = []
        self._readers: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> ProviderHost:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError("the host was already started")
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            cwd=PROJECT_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._readers = [
            threading.Thread(
                target=self._pump_lines, args=(self._proc.stdout,), daemon=True, name="host-out"
            ),
            threading.Thread(
                target=self._pump_chunks, args=(self._proc.stderr,), daemon=True, name="host-err"
            ),
        ]
        for reader in self._readers:
            reader.start()
        try:
            line = self._stdout_lines.get(timeout=self.start_timeout)
        except queue.Empty:
            self.close()
            raise RuntimeError(
                f"the provider host printed no port within {self.start_timeout}s; "
                f"stderr: {self.stderr}"
            ) from None
        try:
            self.port = int(line.decode().strip())
        except ValueError:
            self.close()
            raise RuntimeError(f"unexpected first line from the host: {line!r}") from None
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def _pump_lines(self, stream: Any) -> None:
        for line in iter(stream.readline, b""):
            self._stdout_lines.put(line)
        stream.close()

    def _pump_chunks(self, stream: Any) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            self._stderr_chunks.append(chunk)
        stream.close()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    @property
    def stderr(self) -> str:
        """Everything the host wrote to stderr so far (complete once closed)."""
        return b"".join(self._stderr_chunks).decode("utf-8", "replace")

    def close(self, timeout: float = 5.0) -> None:
        """Terminate the host (kill it if it does not exit in ``timeout`` s); idempotent."""
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

    # -- gRPC ------------------------------------------------------------------------------------

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise RuntimeError("the host is not running")
        try:
            response = getattr(self._stub, method)(request, timeout=self.call_timeout)
        except grpc.RpcError as exc:
            error = ProviderHostError(method, exc.code(), exc.details() or "")
            self.errors.append(error)
            raise error from None
        self.raw_responses.append(response)
        return response

    def _with_provider(self, props: Mapping[str, Any] | None) -> dict[str, Any]:
        out = dict(props or {})
        out.setdefault(PROVIDER_KEY, self.provider)
        return out

    def configure(self, config: Mapping[str, Any], secret_keys: Iterable[str] = ()) -> Any:
        """``Configure`` with stack config ``{"namespace:key": value}``; ``secret_keys`` go
        wrapped as secrets in ``args`` (``variables`` carry every value as a string, as the
        engine's legacy config map does)."""
        secrets = set(secret_keys)
        args = {k: secret(v) if k in secrets else v for k, v in config.items()}
        variables = {f"{DYNAMIC_PACKAGE}:config:{k}": str(v) for k, v in config.items()}
        request = provider_pb2.ConfigureRequest(
            variables=variables,
            args=_serialize(args),
            acceptSecrets=True,
            acceptResources=True,
        )
        return self._call("Configure", request)

    def configure_api(self, api_key: str, api_url: str) -> Any:
        """``Configure`` as a stack with ``baseten:apiKey`` (secret) and ``baseten:apiUrl``."""
        return self.configure(
            {"baseten:apiKey": api_key, "baseten:apiUrl": api_url}, secret_keys=["baseten:apiKey"]
        )

    def check(
        self, olds: Mapping[str, Any] | None, news: Mapping[str, Any], *, urn: str = ""
    ) -> dict[str, Any]:
        """``{"inputs": {...}, "failures": [(property, reason), ...]}``."""
        request = provider_pb2.CheckRequest(
            **_meta(urn),
            olds=_serialize(self._with_provider(olds) if olds else {}),
            news=_serialize(self._with_provider(news)),
        )
        response = self._call("Check", request)
        return {
            "inputs": _deserialize(response.inputs),
            "failures": [(f.property, f.reason) for f in response.failures],
        }

    def diff(
        self,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        urn: str = "",
    ) -> dict[str, Any]:
        """``{"changes": "DIFF_NONE"|"DIFF_SOME"|"DIFF_UNKNOWN", "replaces": [...],
        "delete_before_replace": bool}``. ``olds`` are the stored outputs, ``news`` the checked
        inputs; ``old_inputs`` (the stored inputs) is sent too, as the engine does, though the
        Python host does not pass it on."""
        request = provider_pb2.DiffRequest(
            id=id_,
            **_meta(urn),
            olds=_serialize(self._with_provider(olds)),
            news=_serialize(self._with_provider(news)),
            old_inputs=_serialize(self._with_provider(old_inputs) if old_inputs else {}),
        )
        response = self._call("Diff", request)
        return {
            "changes": _DIFF_NAMES.get(response.changes, str(response.changes)),
            "replaces": list(response.replaces),
            "delete_before_replace": response.deleteBeforeReplace,
        }

    def create(self, props: Mapping[str, Any], *, urn: str = "") -> dict[str, Any]:
        """``{"id": ..., "properties": {...}}``."""
        request = provider_pb2.CreateRequest(
            **_meta(urn),
            properties=_serialize(self._with_provider(props)),
            timeout=self.call_timeout,
        )
        response = self._call("Create", request)
        return {"id": response.id, "properties": _deserialize(response.properties)}

    def update(
        self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], *, urn: str = ""
    ) -> dict[str, Any]:
        """The new outputs."""
        request = provider_pb2.UpdateRequest(
            id=id_,
            **_meta(urn),
            olds=_serialize(self._with_provider(olds)),
            news=_serialize(self._with_provider(news)),
            timeout=self.call_timeout,
        )
        response = self._call("Update", request)
        return _deserialize(response.properties)

    def read(
        self,
        id_: str,
        props: Mapping[str, Any] | None,
        inputs: Mapping[str, Any] | None = None,
        *,
        urn: str = "",
    ) -> dict[str, Any]:
        """``{"id": ..., "properties": {...}, "inputs": {...}}``. ``props`` empty/None is a
        ``.get`` (the engine sends only the program's inputs); non-empty is a refresh."""
        request = provider_pb2.ReadRequest(
            id=id_,
            **_meta(urn),
            properties=_serialize(self._with_provider(props) if props else {}),
            inputs=_serialize(self._with_provider(inputs) if inputs is not None else {}),
        )
        response = self._call("Read", request)
        return {
            "id": response.id,
            "properties": _deserialize(response.properties),
            "inputs": _deserialize(response.inputs),
        }

    def delete(self, id_: str, props: Mapping[str, Any], *, urn: str = "") -> None:
        request = provider_pb2.DeleteRequest(
            id=id_,
            **_meta(urn),
            properties=_serialize(self._with_provider(props)),
            timeout=self.call_timeout,
        )
        self._call("Delete", request)

    # -- for leak checks --------------------------------------------------------------------

    def transcript(self) -> str:
        """Every response, every error text and the stderr so far, as one string."""
        parts = [str(r) for r in self.raw_responses]
        parts += [e.details for e in self.errors]
        parts.append(self.stderr)
        return "\n".join(parts)


RESOURCE_TYPE = "pulumi-python:dynamic/baseten:ChainDeployment"


def _meta(urn: str = "", name: str = "gate") -> dict[str, str]:
    """The urn, name and type fields the engine fills in on every resource call."""
    if not urn:
        urn = f"urn:pulumi:dev::{PROJECT_NAME}::{RESOURCE_TYPE}::{name}"
    return {"urn": urn, "name": urn.rsplit("::", 1)[-1], "type": RESOURCE_TYPE}


def wait_until(predicate: Any, timeout: float = 5.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` (bounded in time and count); True once it holds."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 1):
        if predicate():
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    return bool(predicate())
