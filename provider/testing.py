"""Run a Pulumi Python program without the Pulumi CLI, with dynamic resources made real.

A supported testing API, built only on Pulumi's public mocks API (``pulumi.runtime.set_mocks``,
``pulumi.runtime.test``, ``pulumi.runtime.mocks.MockMonitor``) and no private name.

:func:`run_program` runs a program (a project directory, its ``__main__.py``, or a callable)
under Pulumi's mock runtime, so its ``Output`` chains, ``apply`` callbacks, ``depends_on`` and
exports run exactly as they would under the engine. What the mocks normally fake, it does for
real for every dynamic resource: it unpickles the resource's ``__provider`` the way the provider
host does, calls ``configure`` with the stack config, ``check``, and then ``create`` (update
mode) or nothing (preview mode, where the engine leaves a new resource's outputs unknown).
``ChainDeployment.get`` goes through ``read``. Any other resource type is echoed back with its
inputs as outputs.

Like ``pulumi up`` in the project directory, a program given as a path runs as the project its
``Pulumi.yaml`` names, with that file's config defaults (``config: {key: {default: ...}}``, or
the older ``value``) filled in under the config it was not given.

Differences from the engine that remain: there is no state between runs (every run is a
fresh stack, so ``diff``/``update`` are exercised through the provider host instead, see the
tests), and resources are registered in-process rather than over gRPC.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
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
import yaml
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider
from pulumi.runtime import (
    MockCallArgs,
    MockResourceArgs,
    Mocks,
    get_root_resource,
    rpc,
    set_all_config,
    set_mocks,
)
from pulumi.runtime import test as run_under_mocks
from pulumi.runtime.mocks import MockMonitor

from .errors import BasetenError, InvalidInputError, UnknownNameError, UsageError
from .resource import is_unknown

DEFAULT_PROJECT = "project"
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
        raise UnknownNameError(f"the run registered no resource named {name!r}")


class ProgramError(BasetenError, RuntimeError):
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


class _LoopClosingMonitor(MockMonitor):
    """Pulumi's mock monitor, each call given an event loop of its own that is then closed.

    The monitor runs in the run loop's executor threads and makes itself a loop there that
    nobody closes; closing ours means no stray loop is finalized later, mid-test. (In preview
    it already keeps unknown inputs unknown, as the engine does.)
    """

    def RegisterResource(self, request: Any) -> Any:
        with _thread_event_loop():
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    def ReadResource(self, request: Any) -> Any:
        with _thread_event_loop():
            return super().ReadResource(request)  # type: ignore[no-untyped-call]

    def Invoke(self, request: Any) -> Any:
        with _thread_event_loop():
            return super().Invoke(request)  # type: ignore[no-untyped-call]


class DynamicResourceMocks(Mocks):
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

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = _strip_secrets(args.inputs)
        if not args.typ.startswith("pulumi-python:dynamic"):
            outputs = {k: v for k, v in inputs.items() if not is_unknown(v)}
            return self._record(args, f"{args.name}-id", inputs, outputs)
        provider = self._provider(inputs.pop(PROVIDER_KEY))
        if args.resource_id:
            read = provider.read(args.resource_id, inputs)
            if not read.id:
                raise UnknownNameError(
                    f"{args.typ} {args.name!r}: {args.resource_id} does not exist"
                )
            return self._record(args, read.id, inputs, read.outs or {})
        checked = provider.check({}, inputs)
        if checked.failures:
            reasons = "; ".join(f"{f.property}: {f.reason}" for f in checked.failures)
            raise InvalidInputError(
                "inputs", f"{args.typ} {args.name!r} failed its check: {reasons}"
            )
        if self.preview:
            # The engine does not create during preview: computed outputs stay unknown.
            return self._record(args, None, checked.inputs, dict(checked.inputs))
        created = provider.create(dict(checked.inputs))
        return self._record(args, created.id, checked.inputs, created.outs or {})

    def _record(
        self,
        args: MockResourceArgs,
        id_: str | None,
        inputs: dict[str, Any],
        outs: dict[str, Any],
    ) -> tuple[str | None, dict[str, Any]]:
        with self._lock:
            self.resources.append(RegisteredResource(args.typ, args.name, id_, inputs, outs))
        return id_, outs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise UsageError(f"no invoke is mocked: {args.token}")


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
    project: str | None = None,
    stack: str = "dev",
    echo: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> ProgramResult:
    """Run ``program`` once as a fresh stack; return its outputs or raise :class:`ProgramError`.

    ``program`` is the path of a project directory or its ``__main__.py``, or a callable.
    ``config`` holds full keys (``"baseten:apiKey"``, ``"myproj:chainId"``); ``secret_keys``
    marks the secret ones. ``project`` defaults to the name in the program's ``Pulumi.yaml``
    (``"project"`` for a callable, or without one); that file's config defaults fill in the
    keys ``config`` leaves out. ``echo`` receives each log line as it happens (a live demo).
    ``timeout`` (seconds; ``None``: none) bounds the run: a program still running then is a
    :class:`ProgramError` (its thread is a daemon, left to finish or die with the process).
    """
    project_file = _project_file(program)
    declared = _read_project_file(project_file) if project_file is not None else {}
    name = project or str(declared.get("name") or DEFAULT_PROJECT)
    full_config = {**project_config_defaults(declared, name), **dict(config or {})}
    result: list[ProgramResult] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(
                _run_in_fresh_context(
                    program, full_config, list(secret_keys), preview, name, stack, echo
                )
            )
        except BaseException as exc:
            failure.append(exc)

    # A new thread starts with an empty contextvars context: Pulumi's settings, config and root
    # stack live there, so consecutive runs cannot see each other.
    thread = threading.Thread(target=target, name="pulumi-program", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ProgramError(f"the program was still running after {timeout:g}s", [])
    if failure:
        raise failure[0]
    return result[0]


def project_config_defaults(declared: Mapping[str, Any], project: str) -> dict[str, str]:
    """The config values a ``Pulumi.yaml`` (parsed) declares, as full keys and strings.

    A key without a namespace belongs to ``project``. Each entry gives its value as
    ``default`` (typed declarations), ``value`` (the older form) or as the entry itself.
    """
    values: dict[str, str] = {}
    for key, entry in (declared.get("config") or {}).items():
        if isinstance(entry, Mapping):
            if "default" in entry:
                value = entry["default"]
            elif "value" in entry:
                value = entry["value"]
            else:
                continue
        else:
            value = entry
        full_key = key if ":" in key else f"{project}:{key}"
        values[full_key] = _config_string(value)
    return values


def _config_string(value: Any) -> str:
    # Pulumi hands config to programs as strings: get_int/get_bool/get_object parse them.
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _project_file(program: str | Path | Callable[[], object]) -> Path | None:
    if callable(program):
        return None
    path = Path(program)
    found = (path if path.is_dir() else path.parent) / "Pulumi.yaml"
    return found if found.is_file() else None


def _read_project_file(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    if not isinstance(loaded, dict):
        raise ProgramError(f"{path}: not a Pulumi project file (a mapping)", [])
    return loaded


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
    # This thread's loop, which pulumi.runtime.test runs on; ours so that it can be closed.
    loop = asyncio.new_event_loop()
    # A failed run leaves outputs whose exception nobody awaits; it was already raised once.
    loop.set_exception_handler(_quiet_unretrieved)
    asyncio.set_event_loop(loop)
    try:
        test_mocks = DynamicResourceMocks(config, project, preview)
        # set_mocks also makes this run's root stack (the thread starts with none).
        set_mocks(
            test_mocks,
            project=project,
            stack=stack,
            preview=preview,
            logger=logger,
            monitor=_LoopClosingMonitor(test_mocks),
        )
        set_all_config(config, secret_keys)
        func = _program_callable(program)

        @run_under_mocks  # type: ignore[untyped-decorator]
        def run() -> None:
            func()

        try:
            run()
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
        asyncio.set_event_loop(None)
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
