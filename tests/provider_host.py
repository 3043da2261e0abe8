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
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2

from provider.resource import ChainDeploymentProvider
from tests.grpc_process import GrpcCallError, GrpcProcess

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


class ProviderHostError(GrpcCallError):
    """A gRPC call to the host failed. ``details`` holds the host's text (a traceback)."""


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


class ProviderHost(GrpcProcess):
    """The real ``python -u -m pulumi.dynamic`` host, as a context manager.

    ``env`` overrides the inherited environment; a value of ``None`` removes the variable (so a
    test can prove that the API key comes from ``Configure``, not from ``BASETEN_API_KEY``).
    """

    error_class = ProviderHostError

    def __init__(
        self,
        env: Mapping[str, str | None] | None = None,
        *,
        start_timeout: float = 30.0,
        call_timeout: float = 30.0,
    ) -> None:
        self.provider = provider_string()
        super().__init__(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            env={"PULUMI_PROJECT": PROJECT_NAME, **(env or {})},
            cwd=PROJECT_DIR,
            start_timeout=start_timeout,
            call_timeout=call_timeout,
        )

    def __enter__(self) -> ProviderHost:
        self.start()
        return self

    @property
    def raw_responses(self) -> list[Any]:
        """Every response that came back, in order."""
        return self.responses

    # -- gRPC ------------------------------------------------------------------------------------

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
        return self.call("Configure", request)

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
        response = self.call("Check", request)
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
        response = self.call("Diff", request)
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
        response = self.call("Create", request)
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
        response = self.call("Update", request)
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
        response = self.call("Read", request)
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
        self.call("Delete", request)

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
