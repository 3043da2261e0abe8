"""Start-up and gRPC plumbing of ``pulumi-resource-baseten``.

The engine starts a provider plugin as ``pulumi-resource-baseten [--logtostderr] [-v=N]
[--tracing ENDPOINT] ENGINE_ADDRESS``: the engine's address is the last argument. The plugin
serves ``pulumirpc.ResourceProvider`` on 127.0.0.1 and prints its port, alone, on the first
line of stdout. That is what the SDK's ``pulumi.provider.experimental.server.main`` does, with
the differences that the engine needs, hence this module:

* the arguments are filtered here (``server.main`` would take ``--tracing``'s endpoint for the
  engine's address); ``--help`` and ``--version`` print and exit 0;
* ``Attach`` is answered: started with no engine address, the plugin takes it from there, as
  ``PULUMI_DEBUG_PROVIDERS=baseten:PORT`` needs (the SDK's UNIMPLEMENTED fails the engine);
* ``Handshake``, the engine's first call, is answered (the SDK's server leaves it
  unimplemented), naming what the plugin accepts exactly as ``Configure`` does;
* every failure reaches the engine as the plugin's own one-line message and a fitting status
  code (:class:`provider.plugin.errors.PluginError`), where the SDK's server would send
  ``Unexpected <class 'Exception'>`` and a Python traceback.

The request/response translation itself is the SDK's (``ProviderServicer``, which
``server.main`` uses too); it is the one SDK name used here beyond the public ``Provider``
API, and this module is the only one that touches it. Nothing is written to stdout but the
port; stderr (which the engine shows to the user) gets errors only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
import grpc.aio
from google.protobuf import empty_pb2
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from .._version import __version__
from ..errors import INTERNAL, one_line
from ..text import log_handler, printable
from .errors import PluginError
from .provider import ACCEPTS, BasetenProvider

GRPC_OPTIONS = [
    # As the SDK's server: large property bags, and requests that wait in a busy queue.
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.server_max_unrequested_time_in_server", 30 * 60),
]


def engine_address(args: Sequence[str]) -> str | None:
    """The engine's address among the plugin's arguments: the last one that is not a flag or
    a flag's value (``--tracing ENDPOINT``). ``None`` if there is none."""
    positional: list[str] = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg == "--tracing":
            skip_next = True
        elif not arg.startswith("-"):
            positional.append(arg)
    return positional[-1] if positional else None


def status_for(
    exc: BaseException, redact: Callable[[str], str] = lambda text: text
) -> tuple[grpc.StatusCode, str]:
    """The gRPC status an engine call that raised ``exc`` answers with.

    The SDK's server re-raises a provider's exception as a new ``Exception`` carrying the
    traceback, raised while handling the original, so the original is on the chain: a
    :class:`PluginError` there is the answer; a ``NotImplementedError`` is UNIMPLEMENTED;
    anything else is a bug, shown in one line, with ``redact`` applied (a bug's message is not
    ours to trust: it could quote a request). The text is always
    :func:`provider.text.printable`: escaped, encodable, bounded.
    """
    code, message = _status_for(exc, redact)
    # The one exit of every failed call's text: a status that cannot be encoded (a lone
    # surrogate from the server) would never be sent, and the engine sets no deadline.
    return code, printable(message)


def _status_for(exc: BaseException, redact: Callable[[str], str]) -> tuple[grpc.StatusCode, str]:
    seen: set[int] = set()
    current: BaseException | None = exc
    innermost = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PluginError):
            return current.code, current.message
        if isinstance(current, NotImplementedError):
            return grpc.StatusCode.UNIMPLEMENTED, str(current) or "not implemented"
        innermost = current
        current = current.__cause__ or current.__context__
    return grpc.StatusCode.INTERNAL, redact(f"{INTERNAL.title}: {one_line(innermost)}")


Behaviour = Callable[[Any, Any], Any]


def _clean(
    behaviour: Behaviour, redact: Callable[[str], str]
) -> Callable[[Any, Any], Awaitable[Any]]:
    async def call(request: Any, context: Any) -> Any:
        try:
            result = behaviour(request, context)
            return await result if inspect.isawaitable(result) else result
        except grpc.aio.AbortError:
            raise  # the status is already sent
        except Exception as exc:
            code, message = status_for(exc, redact)
            await context.abort(code, message)

    return call


class CleanErrors(grpc.aio.ServerInterceptor):  # type: ignore[misc]  # grpc is untyped
    """Answers every failed unary call with :func:`status_for`'s status, redacted."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        self._redact = redact

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            _clean(handler.unary_unary, self._redact),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class BasetenServicer(ProviderServicer):
    """The SDK's servicer, plus ``Handshake``, and the optional calls answered as
    provider.proto asks of a provider that has nothing to offer: ``GetMapping`` and
    ``GetMappings`` with an empty response (not an error), the streaming ``List`` with
    UNIMPLEMENTED and nothing on stderr."""

    def __init__(self, provider: BasetenProvider, engine: str | None, args: list[str]) -> None:
        super().__init__(args, __version__, provider, engine or "")
        self._baseten = provider

    async def Handshake(self, request: Any, context: Any) -> Any:
        if request.engine_address:
            self._baseten.attach_engine(request.engine_address)
        return provider_pb2.ProviderHandshakeResponse(**ACCEPTS)

    async def Attach(self, request: Any, context: Any) -> Any:
        # PULUMI_DEBUG_PROVIDERS=baseten:PORT: the engine dials a plugin started without its
        # address, then sends it here (sdk/go/common/resource/plugin/provider_plugin.go,
        # NewProvider); the SDK's answer, UNIMPLEMENTED, fails the engine's load.
        if request.address:
            self._baseten.attach_engine(request.address)
        return empty_pb2.Empty()

    async def GetMapping(self, request: Any, context: Any) -> Any:
        # No mappings from another ecosystem: empty provider and data, as the proto asks.
        return provider_pb2.GetMappingResponse()

    async def GetMappings(self, request: Any, context: Any) -> Any:
        return provider_pb2.GetMappingsResponse()

    # The SDK's servicer overrides the generated stream method with a coroutine, as this does.
    async def List(self, request: Any, context: Any) -> Any:  # type: ignore[override]
        # A server-streaming call, which CleanErrors leaves alone: the SDK's servicer raises
        # NotImplementedError here, and gRPC prints that with a traceback to stderr (which the
        # engine shows). Aborting answers the same status quietly, with an empty stream.
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, "List is not implemented by the baseten provider"
        )


def _print_port(port: int) -> None:
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()


async def serve(
    engine: str | None,
    *,
    args: Sequence[str] = (),
    provider: BasetenProvider | None = None,
    announce: Callable[[int], None] = _print_port,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set (or SIGTERM/SIGINT arrives), then cancel every gate and
    shut down. ``announce`` receives the port once the server listens."""
    provider = provider or BasetenProvider(engine)
    server = grpc.aio.server(options=GRPC_OPTIONS, interceptors=[CleanErrors(provider.redact)])
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(
        BasetenServicer(provider, engine, list(args)), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    announce(port)
    try:
        await stop.wait()
    finally:
        provider.close()
        await server.stop(grace=1.0)


def _parser() -> argparse.ArgumentParser:
    """``--help`` and ``--version``, and the start-up arguments the engine passes (parsed here
    for the usage text; :func:`engine_address` picks the address)."""
    parser = argparse.ArgumentParser(
        prog="pulumi-resource-baseten",
        description="The Pulumi resource provider plugin for Baseten chain deployments. The "
        "Pulumi engine starts it; it prints its port and serves until stopped. Started "
        "without ENGINE_ADDRESS, it waits for the engine's Attach "
        "(PULUMI_DEBUG_PROVIDERS=baseten:PORT).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--logtostderr", action="store_true", help="(from the engine; ignored)")
    parser.add_argument("-v", metavar="LEVEL", help="(from the engine; ignored)")
    parser.add_argument("--tracing", metavar="ENDPOINT", help="(from the engine; ignored)")
    parser.add_argument(
        "engine", metavar="ENGINE_ADDRESS", nargs="?", help="the engine's gRPC address"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """The console script ``pulumi-resource-baseten``. ``--help`` and ``--version`` print and
    exit 0; any flag it does not know is left alone (a newer engine may pass more)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _parser().parse_known_args(args)
    # stderr reaches the user as engine output: errors only (e.g. not urllib3's pool notes).
    logging.basicConfig(
        level=logging.ERROR,
        handlers=[log_handler(sys.stderr, "baseten plugin: %(name)s: %(message)s")],
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(engine_address(args), args=args))
