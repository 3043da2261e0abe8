"""Run a Pulumi Python program without the Pulumi CLI, with dynamic resources made real.

:func:`run_program` runs a program (a ``__main__.py`` path or a callable) under Pulumi's own
mock runtime (``pulumi.runtime.set_mocks``), so its ``Output`` chains, ``apply`` callbacks,
``depends_on`` and exports run exactly as they would under the engine. What the mocks normally
fake, it does for real for every dynamic resource: it unpickles the resource's ``__provider``
the way the provider host does, calls ``configure`` with the stack config, ``check``, and then
``create`` (update mode) or nothing (preview mode, where the engine leaves a new resource's
outputs unknown). ``ChainDeployment.get`` goes through ``read``. Any other resource type is
echoed back with its inputs as outputs.

Differences from the engine that remain: there is no state between runs (every run is a
fresh stack, so ``diff``/``update`` are exercised through the provider host instead, see the
tests), and resources are registered in-process rather than over gRPC.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import logging
import runpy
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dill
import pulumi
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider
from pulumi.runtime import mocks, rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import ROOT, SETTINGS, get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .resource import is_unknown

PROVIDER_KEY = "__provider"


class Unknown:
    """Stands for an output whose value is not known (preview)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = Unknown()


@dataclass
class RegisteredResource:
    type: str
    name: str
    id: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass
class ProgramResult:
    """What a run produced: the stack outputs, the resources and the log lines."""

    outputs: dict[str, Any]
    secret_outputs: set[str]
    resources: list[RegisteredResource]
    logs: list[tuple[str, str]] = field(default_factory=list)

    def resource(self, name: str) -> RegisteredResource:
        for res in self.resources:
            if res.name == name:
                return res
        raise KeyError(name)


class ProgramError(RuntimeError):
    """The program (or a provider call it triggered) failed; ``logs`` holds what was logged."""

    def __init__(self, message: str, logs: list[tuple[str, str]]) -> None:
        self.logs = logs
        super().__init__(message)


def _strip_secrets(value: Any) -> Any:
    """The engine hands providers plain values: the dynamic host does not accept secrets."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: _strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_secrets(v) for v in value]
    return value


@contextlib.contextmanager
def _thread_event_loop() -> Iterator[None]:
    """An event loop for this worker thread for the length of one call, then closed.

    Pulumi's mock monitor runs in the run loop's executor threads and makes itself a loop there
    that nobody closes; closing ours means no stray loop is finalized later, mid-test.
    """
    policy = asyncio.get_event_loop_policy()
    try:
        policy.get_event_loop()
        created = None
    except RuntimeError:
        created = asyncio.new_event_loop()
        asyncio.set_event_loop(created)
    try:
        yield
    finally:
        if created is not None:
            asyncio.set_event_loop(None)
            created.close()


class _UnknownPreservingMonitor(mocks.MockMonitor):
    """The stock mock monitor turns unknown inputs into ``None``; the engine keeps them unknown.

    Same steps as ``MockMonitor.RegisterResource``, deserializing with ``keep_unknowns``.
    """

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        with _thread_event_loop():
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            id_, state = self.mocks.new_resource(
                mocks.MockResourceArgs(
                    typ=request.type,
                    name=request.name,
                    inputs=inputs,
                    provider=request.provider,
                    resource_id=request.importId,
                    custom=request.custom or False,
                )
            )
            obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, id_ or "", state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=obj_proto)

    def ReadResource(self, request: Any) -> Any:
        with _thread_event_loop():
            return super().ReadResource(request)  # type: ignore[no-untyped-call]

    def Invoke(self, request: Any) -> Any:
        with _thread_event_loop():
            return super().Invoke(request)  # type: ignore[no-untyped-call]


class DynamicResourceMocks(mocks.Mocks):
    """Mocks that execute dynamic resources through their real providers."""

    def __init__(self, config: Mapping[str, Any], project: str, preview: bool) -> None:
        self.config = dict(config)
        self.project = project
        self.preview = preview
        self.resources: list[RegisteredResource] = []
        self._providers: dict[str, ResourceProvider] = {}
        self._lock = threading.Lock()

    def _provider(self, serialized: str) -> ResourceProvider:
        with self._lock:
            provider = self._providers.get(serialized)
            if provider is None:
                # Our own program's pickle, as the provider host loads it.
                provider = dill.loads(base64.b64decode(serialized))  # noqa: S301
                provider.configure(ConfigureRequest(Config(self.config, self.project)))
                self._providers[serialized] = provider
            return provider

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = _strip_secrets(args.inputs)
        if not args.typ.startswith("pulumi-python:dynamic"):
            outputs = {k: v for k, v in inputs.items() if not is_unknown(v)}
            return self._record(args, f"{args.name}-id", inputs, outputs)
        provider = self._provider(inputs.pop(PROVIDER_KEY))
        if args.resource_id:
            read = provider.read(args.resource_id, inputs)
            if not read.id:
                raise RuntimeError(f"{args.typ} {args.name!r}: {args.resource_id} does not exist")
            return self._record(args, read.id, inputs, read.outs or {})
        checked = provider.check({}, inputs)
        if checked.failures:
            reasons = "; ".join(f"{f.property}: {f.reason}" for f in checked.failures)
            raise RuntimeError(f"{args.typ} {args.name!r} failed its check: {reasons}")
        if self.preview:
            # The engine does not create during preview: computed outputs stay unknown.
            return self._record(args, None, checked.inputs, dict(checked.inputs))
        created = provider.create(dict(checked.inputs))
        return self._record(args, created.id, checked.inputs, created.outs or {})

    def _record(
        self,
        args: mocks.MockResourceArgs,
        id_: str | None,
        inputs: dict[str, Any],
        outs: dict[str, Any],
    ) -> tuple[str | None, dict[str, Any]]:
        with self._lock:
            self.resources.append(RegisteredResource(args.typ, args.name, id_, inputs, outs))
        return id_, outs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise NotImplementedError(f"no invoke is mocked: {args.token}")


class _LogCollector(logging.Handler):
    def __init__(self, echo: Callable[[str], None] | None) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, str]] = []
        self.echo = echo

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.records.append((record.levelname.lower(), message))
        if self.echo is not None and record.levelno >= logging.INFO:
            self.echo(f"{record.levelname.lower()}: {message}")


def run_program(
    program: str | Path | Callable[[], object],
    *,
    config: Mapping[str, str] | None = None,
    secret_keys: Sequence[str] = (),
    preview: bool = False,
    project: str = "project",
    stack: str = "dev",
    echo: Callable[[str], None] | None = None,
) -> ProgramResult:
    """Run ``program`` once as a fresh stack; return its outputs or raise :class:`ProgramError`.

    ``program`` is the path of a project directory or its ``__main__.py``, or a callable.
    ``config`` holds full keys (``"baseten:apiKey"``, ``"myproj:chainId"``); ``secret_keys``
    marks the secret ones. ``echo`` receives each log line as it happens (for a live demo).
    """
    result: list[ProgramResult] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(
                _run_in_fresh_context(
                    program, dict(config or {}), list(secret_keys), preview, project, stack, echo
                )
            )
        except BaseException as exc:
            failure.append(exc)

    # A new thread starts with an empty contextvars context: Pulumi's settings, config and root
    # stack live there, so consecutive runs cannot see each other.
    thread = threading.Thread(target=target, name="pulumi-program", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def _program_callable(program: str | Path | Callable[[], object]) -> Callable[[], object]:
    if callable(program):
        return program
    path = Path(program)
    main = path / "__main__.py" if path.is_dir() else path
    project_dir = str(main.parent.resolve())

    def run_main() -> object:
        # As `python -m` in the project directory: its packages are importable.
        if project_dir not in sys.path:
            sys.path.insert(0, project_dir)
        return runpy.run_path(str(main), run_name="__main__")

    return run_main


def _run_in_fresh_context(
    program: str | Path | Callable[[], object],
    config: dict[str, str],
    secret_keys: list[str],
    preview: bool,
    project: str,
    stack: str,
    echo: Callable[[str], None] | None,
) -> ProgramResult:
    logger = logging.getLogger(f"provider.testing.run-{threading.get_ident()}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    collector = _LogCollector(echo)
    logger.addHandler(collector)
    loop = asyncio.new_event_loop()
    # A failed run leaves outputs whose exception nobody awaits; it was already raised once.
    loop.set_exception_handler(_quiet_unretrieved)
    asyncio.set_event_loop(loop)
    try:
        ROOT.set(None)
        # Pulumi keeps pending outputs in a set shared across contexts; a failed run leaves
        # tasks of its closed loop there (pulumi.runtime.test clears it the same way).
        SETTINGS.outputs.clear()
        test_mocks = DynamicResourceMocks(config, project, preview)
        mocks.set_mocks(
            test_mocks,
            project=project,
            stack=stack,
            preview=preview,
            logger=logger,
            monitor=_UnknownPreservingMonitor(test_mocks),
        )
        set_all_config(config, secret_keys)
        func = _program_callable(program)
        try:
            loop.run_until_complete(run_pulumi_func(func))  # type: ignore[arg-type]
            outputs, secret = loop.run_until_complete(_stack_outputs())
        except Exception as exc:
            raise ProgramError(f"{type(exc).__name__}: {exc}", collector.records) from exc
        return ProgramResult(outputs, secret, test_mocks.resources, collector.records)
    finally:
        logger.removeHandler(collector)
        # A failed run leaves dependent outputs pending: cancel them before closing the loop.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        # Finalize the failed run's futures now, on this thread, not at a random later point
        # (on CPython 3.11 a collection inside another ast.parse can crash: gh-106905).
        gc.collect()


def _quiet_unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if "never retrieved" not in str(context.get("message", "")):
        loop.default_exception_handler(context)


async def _stack_outputs() -> tuple[dict[str, Any], set[str]]:
    stack = get_root_resource()
    exported: dict[str, Any] = getattr(stack, "outputs", {})
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for name, value in exported.items():
        out = pulumi.Output.from_input(value)
        resolved = await out.future(with_unknowns=True)
        known = await out.is_known()
        values[name] = _plain(resolved) if known else UNKNOWN
        if await out.is_secret():
            secret.add(name)
    return values, secret


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    return value
