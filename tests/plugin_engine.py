"""Drive the ``pulumi-resource-baseten`` plugin over gRPC, the way the Pulumi engine does.

The engine starts a provider plugin as ``pulumi-resource-baseten [flags] ENGINE_ADDRESS``,
reads the port from the first line of its stdout, and calls ``pulumirpc.ResourceProvider``:
``GetPluginInfo``, ``Handshake``, ``GetSchema``, ``CheckConfig``/``Configure`` with the stack's
``baseten:*`` config, then ``Check``/``Diff``/``Create``/``Read``/``Update``/``Delete``/
``Invoke`` and, on Ctrl-C or at the end of a run, ``Cancel``. The plugin logs progress to the
engine's ``pulumirpc.Engine/Log`` service at ENGINE_ADDRESS.

* :class:`RecordingEngine` is that Engine service on 127.0.0.1, recording every ``Log`` call;
* :class:`PluginProcess` is the console script from this environment's ``bin`` (what a
  plain ``pip install`` puts there), started with flags and the engine's address last, with a
  client for each call taking and returning plain dicts in the engine's wire form (camelCase
  names; secrets as the engine's secret objects; unknowns as :data:`UNKNOWN`).

Everything that comes back (responses, error texts, stderr) and every log message is kept, so a
test can search all of it for the API key.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2

from tests.grpc_process import GrpcCallError, GrpcProcess

SCRIPT = Path(sys.executable).parent / "pulumi-resource-baseten"
UNKNOWN = rpc.UNKNOWN
SECRET_SIG = {rpc._special_sig_key: rpc._special_secret_sig}
RESOURCE_TYPE = "baseten:index:ChainDeployment"
PROVIDER_TYPE = "pulumi:providers:baseten"
STACK_PREFIX = "urn:pulumi:dev::chains"

DIFF_NAMES = {
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "DIFF_UNKNOWN",
    provider_pb2.DiffResponse.DIFF_NONE: "DIFF_NONE",
    provider_pb2.DiffResponse.DIFF_SOME: "DIFF_SOME",
}
KIND_NAMES = {v: k for k, v in provider_pb2.PropertyDiff.Kind.items()}


def urn_of(name: str, type_: str = RESOURCE_TYPE) -> str:
    return f"{STACK_PREFIX}::{type_}::{name}"


def _about(name: str, type_: str = RESOURCE_TYPE) -> dict[str, str]:
    """The ``urn``, ``name`` and ``type`` every resource request carries."""
    return {"urn": urn_of(name, type_), "name": name, "type": type_}


def secret(value: Any) -> dict[str, Any]:
    """``value`` as the engine sends a secret."""
    return {**SECRET_SIG, "value": value}


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and all(value.get(k) == v for k, v in SECRET_SIG.items())


def reveal(value: Any) -> Any:
    """``value`` with every secret wrapper removed."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def to_struct(values: Mapping[str, Any] | None) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values or {}))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


# -- the engine -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    severity: str
    message: str
    urn: str
    ephemeral: bool


class RecordingEngine(engine_pb2_grpc.EngineServicer):  # type: ignore[misc]
    """The engine's Log service on 127.0.0.1, recording every call (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: list[LogLine] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        engine_pb2_grpc.add_EngineServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{self.port}"

    def __enter__(self) -> RecordingEngine:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(grace=None)

    def Log(self, request: Any, context: Any) -> Any:
        line = LogLine(
            engine_pb2.LogSeverity.Name(request.severity),
            request.message,
            request.urn,
            request.ephemeral,
        )
        with self._lock:
            self._lines.append(line)
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()

    @property
    def lines(self) -> list[LogLine]:
        with self._lock:
            return list(self._lines)

    def lines_for(self, urn: str) -> list[LogLine]:
        return [line for line in self.lines if line.urn == urn]

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()


# -- the plugin -------------------------------------------------------------------------------


class PluginCallError(GrpcCallError):
    """A call to the plugin failed: ``code`` and ``details`` are what the engine would see."""


class PluginProcess(GrpcProcess):
    """The console script (or another ``command``), started as the engine starts a plugin,
    and a client for each call."""

    error_class = PluginCallError

    def __init__(
        self,
        engine_address: str,
        *,
        env: Mapping[str, str | None] | None = None,
        flags: tuple[str, ...] = ("--logtostderr", "-v=9", "--tracing", "127.0.0.1:9"),
        command: tuple[str, ...] = (str(SCRIPT),),
        start_timeout: float = 30.0,
        call_timeout: float = 20.0,
    ) -> None:
        super().__init__(
            [*command, *flags, engine_address],
            env=env,
            start_timeout=start_timeout,
            call_timeout=call_timeout,
        )

    def __enter__(self) -> PluginProcess:
        self.start()
        return self

    # -- calls ------------------------------------------------------------------------------

    def plugin_info(self) -> str:
        return str(self.call("GetPluginInfo", empty_pb2.Empty()).version)

    def schema(self) -> str:
        return str(self.call("GetSchema", provider_pb2.GetSchemaRequest(version=0)).schema)

    def handshake(self, engine_address: str) -> Any:
        return self.call(
            "Handshake",
            provider_pb2.ProviderHandshakeRequest(
                engine_address=engine_address,
                configure_with_urn=True,
                invoke_with_preview=True,
            ),
        )

    def check_config(self, news: Mapping[str, Any], *, name: str = "default") -> dict[str, Any]:
        response = self.call(
            "CheckConfig",
            provider_pb2.CheckRequest(
                **_about(name, PROVIDER_TYPE),
                olds=to_struct({}),
                news=to_struct(news),
            ),
        )
        return {
            "inputs": from_struct(response.inputs),
            "failures": [(f.property, f.reason) for f in response.failures],
        }

    def diff_config(
        self, olds: Mapping[str, Any], news: Mapping[str, Any], *, name: str = "default"
    ) -> str:
        response = self.call(
            "DiffConfig",
            provider_pb2.DiffRequest(
                **_about(name, PROVIDER_TYPE),
                olds=to_struct(olds),
                news=to_struct(news),
                old_inputs=to_struct(olds),
            ),
        )
        return DIFF_NAMES[response.changes]

    def configure(self, args: Mapping[str, Any], *, name: str = "default") -> Any:
        """``Configure`` as the engine sends it: ``args`` as checked (secrets wrapped), and the
        deprecated ``variables`` with every value as plain text."""
        variables = {
            f"baseten:config:{k}": str(reveal(v)) for k, v in args.items() if k != "version"
        }
        return self.call(
            "Configure",
            provider_pb2.ConfigureRequest(
                variables=variables,
                args=to_struct(args),
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
                **_about(name, PROVIDER_TYPE),
            ),
        )

    def check(
        self, olds: Mapping[str, Any] | None, news: Mapping[str, Any], *, name: str = "gate"
    ) -> dict[str, Any]:
        response = self.call(
            "Check",
            provider_pb2.CheckRequest(
                **_about(name),
                olds=to_struct(olds),
                news=to_struct(news),
            ),
        )
        return {
            "inputs": from_struct(response.inputs),
            "failures": [(f.property, f.reason) for f in response.failures],
        }

    def create(
        self,
        props: Mapping[str, Any],
        *,
        name: str = "gate",
        preview: bool = False,
        timeout: float = 0.0,
        call_timeout: float | None = None,
    ) -> dict[str, Any]:
        response = self.call(
            "Create",
            provider_pb2.CreateRequest(
                **_about(name),
                properties=to_struct(props),
                timeout=timeout,
                preview=preview,
            ),
            timeout=call_timeout,
        )
        return {"id": response.id, "properties": from_struct(response.properties)}

    def update(
        self,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        name: str = "gate",
        preview: bool = False,
    ) -> dict[str, Any]:
        response = self.call(
            "Update",
            provider_pb2.UpdateRequest(
                id=id_,
                **_about(name),
                olds=to_struct(olds),
                news=to_struct(news),
                old_inputs=to_struct(old_inputs),
                preview=preview,
            ),
        )
        return from_struct(response.properties)

    def diff(
        self,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        name: str = "gate",
    ) -> dict[str, Any]:
        response = self.call(
            "Diff",
            provider_pb2.DiffRequest(
                id=id_,
                **_about(name),
                olds=to_struct(olds),
                news=to_struct(news),
                old_inputs=to_struct(old_inputs),
            ),
        )
        return {
            "changes": DIFF_NAMES[response.changes],
            "replaces": list(response.replaces),
            "diffs": list(response.diffs),
            "detailed": {
                k: (KIND_NAMES[v.kind], v.inputDiff) for k, v in response.detailedDiff.items()
            },
            "has_detailed_diff": response.hasDetailedDiff,
            "delete_before_replace": response.deleteBeforeReplace,
        }

    def read(
        self,
        id_: str,
        props: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
        *,
        name: str = "gate",
    ) -> dict[str, Any]:
        response = self.call(
            "Read",
            provider_pb2.ReadRequest(
                id=id_,
                **_about(name),
                properties=to_struct(props),
                inputs=to_struct(inputs),
            ),
        )
        return {
            "id": response.id,
            "properties": from_struct(response.properties),
            "inputs": from_struct(response.inputs),
        }

    def delete(self, id_: str, props: Mapping[str, Any], *, name: str = "gate") -> None:
        self.call(
            "Delete",
            provider_pb2.DeleteRequest(
                id=id_,
                **_about(name),
                properties=to_struct(props),
                old_inputs=to_struct(props),
            ),
        )

    def invoke(self, args: Mapping[str, Any], *, tok: str = "") -> dict[str, Any]:
        response = self.call(
            "Invoke",
            provider_pb2.InvokeRequest(
                tok=tok or "baseten:index:getChainDeployment", args=to_struct(args)
            ),
        )
        return {
            "return": from_struct(getattr(response, "return")),
            "failures": [(f.property, f.reason) for f in response.failures],
        }

    def cancel(self) -> None:
        self.call("Cancel", empty_pb2.Empty())

    def get_mapping(self, key: str = "terraform", provider: str = "") -> Any:
        return self.call("GetMapping", provider_pb2.GetMappingRequest(key=key, provider=provider))

    def get_mappings(self, key: str = "terraform") -> Any:
        return self.call("GetMappings", provider_pb2.GetMappingsRequest(key=key))

    def list_resources(self, token: str = RESOURCE_TYPE) -> list[Any]:
        """``List``, a server-streaming call: every item of the stream (a failure raises
        :class:`PluginCallError` as any call's does)."""
        stream = self.call("List", provider_pb2.ListRequest(token=token, query=to_struct({})))
        try:
            return list(stream)
        except grpc.RpcError as exc:
            error = PluginCallError("List", exc.code(), exc.details() or "")
            self.errors.append(error)
            raise error from None

    # -- for leak checks --------------------------------------------------------------------

    def config_answers(self) -> list[dict[str, Any]]:
        """The inputs of every ``CheckConfig`` answer."""
        return [
            from_struct(r.inputs)
            for method, r in zip(self.methods, self.responses, strict=True)
            if method == "CheckConfig"
        ]

    def transcript(self) -> dict[str, str]:
        """Every response, every error text and stderr, by place. ``CheckConfig``'s answers are
        left out: they *are* the provider's configuration, the key included (as a secret, see
        :meth:`config_answers`)."""
        places = {
            f"response {i} ({method})": str(r)
            for i, (method, r) in enumerate(zip(self.methods, self.responses, strict=True))
            if method != "CheckConfig"
        }
        places.update({f"error {i}": e.details for i, e in enumerate(self.errors)})
        places["stderr"] = self.stderr
        places["stdout first line"] = self.first_line.decode("latin-1")
        return places
