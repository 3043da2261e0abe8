"""The bad-input matrix: inputs refused before any request, on every surface that takes them.

Surfaces: the client (its calls and its constructor), the resource (``check`` as the engine
calls it; the key and base URL arrive through ``configure`` and are checked at ``create``),
the plain function, the ``Output`` function inside a Pulumi program, and the command line.
Each case must end in an error that names the field, with the emulator's log empty and no
connection (or DNS lookup) attempted at all: sockets' ``connect`` and ``getaddrinfo`` are
guarded for the length of each test. Base URLs use hosts under ``.invalid``.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from typing import Any

import dill
import pulumi
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from provider import cli
from provider.client import BasetenClient, RetryPolicy
from provider.emulator import Emulator
from provider.errors import InvalidInputError, TransportError
from provider.functions import get_chain_deployment, get_chain_deployment_output
from provider.resource import ChainDeploymentProvider, EngineError
from provider.testing import ProgramError, run_program
from tests.conftest import TEST_KEY
from tests.reliability.common import CHAIN, DEP, collect_failed_run

pytestmark = pytest.mark.family("bad_inputs")

SURFACES = ("client", "resource", "function", "output_function", "cli")
ALL = frozenset(SURFACES)


@dataclass(frozen=True)
class Bad:
    """One bad input. Unset values are valid; ``field`` is what the error must name
    (``client_field`` where the client's own parameter has another name)."""

    name: str
    field: str
    chain_id: Any = CHAIN
    deployment_id: Any = DEP
    environment: Any = None
    wait_for: Any = ()
    timeout: Any = 900.0
    api_key: str | None = None
    base_url: str | None = None
    surfaces: frozenset[str] = ALL
    client_field: str | None = None


CASES: list[Bad] = [
    Bad("empty id", "chain_id", chain_id=""),
    Bad("whitespace id", "chain_id", chain_id="   "),
    Bad("../x", "chain_deployment_id", deployment_id="../x"),
    Bad("a/b", "chain_id", chain_id="a/b"),
    Bad("%2e%2e", "chain_deployment_id", deployment_id="%2e%2e"),
    Bad("?x=1", "chain_deployment_id", deployment_id="?x=1"),
    Bad("#frag", "environment", deployment_id=None, environment="#frag"),
    Bad("control characters", "chain_id", chain_id="ch\x00\x1b[2J"),
    Bad("tab in an environment", "environment", deployment_id=None, environment="prod\tuction"),
    Bad(
        "newline in an id (header injection)",
        "chain_deployment_id",
        deployment_id="dp\r\nHost: evil.invalid",
    ),
    Bad("newline in the key (header injection)", "api_key", api_key=TEST_KEY + "\r\nX-Evil: 1"),
    Bad("10 KB id", "chain_id", chain_id="c" * 10_240),
    Bad("non-string id", "chain_deployment_id", deployment_id=12345678, surfaces=ALL - {"cli"}),
    Bad(
        "both deployment id and environment",
        "environment",
        environment="production",
        surfaces=ALL - {"client"},
    ),
    Bad(
        "neither deployment id nor environment",
        "chain_deployment_id",
        deployment_id=None,
        surfaces=ALL - {"client"},
    ),
    Bad("negative timeout", "timeout_seconds", timeout=-1, client_field="timeout"),
    Bad("zero timeout", "timeout_seconds", timeout=0, client_field="timeout"),
    Bad(
        "unknown status in wait_for",
        "wait_for",
        wait_for=("READY",),
        surfaces=ALL - {"client"},
    ),
    Bad("plain-http remote base URL", "base_url", base_url="http://api.baseten.invalid"),
    Bad(
        "base URL with credentials",
        "base_url",
        base_url="https://user:hunter2@api.baseten.invalid",
    ),
    Bad(
        "base URL with the key in it",
        "base_url",
        base_url=f"https://{TEST_KEY}@api.baseten.invalid/v1",
    ),
    Bad("base URL with another scheme", "base_url", base_url="ftp://api.baseten.invalid"),
]

MATRIX = [(case, surface) for case in CASES for surface in SURFACES if surface in case.surfaces]


# -- no connection at all ------------------------------------------------------------------


@dataclass
class NetworkGuard:
    attempts: list[str]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    """Record (and refuse) any connect or name lookup made by this process during the test."""
    guard = NetworkGuard([])

    def refuse_connect(self: socket.socket, address: Any) -> None:
        guard.attempts.append(f"connect {address!r}")
        raise ConnectionRefusedError("network use during a bad-input test")

    def refuse_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.attempts.append(f"getaddrinfo {host!r}")
        raise socket.gaierror("network use during a bad-input test")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    yield guard


# -- the surfaces --------------------------------------------------------------------------


def _key(case: Bad) -> str:
    return case.api_key if case.api_key is not None else TEST_KEY


def _url(case: Bad, emulator: Emulator) -> str:
    return case.base_url if case.base_url is not None else emulator.url


def _via_client(case: Bad, emulator: Emulator) -> tuple[str, str]:
    timeout = (10.0, case.timeout) if case.timeout != 900.0 else (10.0, 30.0)
    try:
        with BasetenClient(api_key=_key(case), base_url=_url(case, emulator), timeout=timeout) as c:
            if case.environment is not None:
                c.get_chain_environment(case.chain_id, case.environment)
            else:
                c.get_chain_deployment(case.chain_id, case.deployment_id)
    except InvalidInputError as exc:
        return exc.field, str(exc)
    raise AssertionError(f"{case.name}: the client accepted it")


def _resource_inputs(case: Bad) -> dict[str, Any]:
    news: dict[str, Any] = {
        "chain_id": case.chain_id,
        "wait_for": list(case.wait_for) or ["ACTIVE"],
        "timeout_seconds": case.timeout,
    }
    if case.deployment_id is not None:
        news["chain_deployment_id"] = case.deployment_id
    if case.environment is not None:
        news["environment"] = case.environment
    return news


def _engine_provider(config: dict[str, str]) -> Any:
    """The provider as the host gets it: unpickled from ``__provider``, then configured."""
    provider = dill.loads(base64.b64decode(serialize_provider(ChainDeploymentProvider())))
    provider.configure(ConfigureRequest(Config(config, "project")))
    return provider


def _via_resource(case: Bad, emulator: Emulator) -> tuple[str, str]:
    provider = _engine_provider(
        {"baseten:apiKey": _key(case), "baseten:apiUrl": _url(case, emulator)}
    )
    news = _resource_inputs(case)
    checked = provider.check({}, news)
    if checked.failures:
        failure = checked.failures[0]
        return failure.property, f"{failure.property}: {failure.reason}"
    try:
        provider.create(checked.inputs)
    except EngineError as exc:
        assert isinstance(exc.cause, InvalidInputError), exc
        assert str(exc.cause) in str(exc)
        return exc.cause.field, str(exc.cause)
    raise AssertionError(f"{case.name}: check and create accepted it")


def _function_kwargs(case: Bad, emulator: Emulator) -> dict[str, Any]:
    return {
        "chain_id": case.chain_id,
        "chain_deployment_id": case.deployment_id,
        "environment": case.environment,
        "wait_for": list(case.wait_for) or None,
        "timeout_seconds": case.timeout,
        "api_key": _key(case),
        "api_url": _url(case, emulator),
    }


def _via_function(case: Bad, emulator: Emulator) -> tuple[str, str]:
    try:
        get_chain_deployment(**_function_kwargs(case, emulator))
    except InvalidInputError as exc:
        return exc.field, str(exc)
    raise AssertionError(f"{case.name}: the function accepted it")


def _via_output_function(case: Bad, emulator: Emulator) -> tuple[str, str]:
    kwargs = _function_kwargs(case, emulator)

    def program() -> None:
        pulumi.export("status", get_chain_deployment_output(**kwargs).status)

    try:
        run_program(program)
    except ProgramError as exc:
        collect_failed_run()
        cause = exc.__cause__
        assert isinstance(cause, InvalidInputError), f"{case.name}: {exc}"
        return cause.field, str(exc)
    raise AssertionError(f"{case.name}: the program ran")


def _via_cli(case: Bad, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setenv("BASETEN_API_KEY", _key(case))
    monkeypatch.setenv("BASETEN_API_URL", emulator.url)
    argv = ["get", case.chain_id]
    if case.deployment_id is not None:
        argv.append(case.deployment_id)
    if case.environment is not None:
        argv += ["--environment", case.environment]
    argv += [f"--wait-for={status}" for status in case.wait_for]
    argv.append(f"--timeout={case.timeout}")
    if case.base_url is not None:
        argv.append(f"--api-url={case.base_url}")
    out, err = StringIO(), StringIO()
    code = cli.main(argv, out=out, err=err)
    assert code == cli.EXIT_USAGE, f"{case.name}: exit {code}: {err.getvalue()}"
    assert out.getvalue() == ""
    text = err.getvalue()
    prefix = "error: invalid "
    assert text.startswith(prefix), text
    return text[len(prefix) :].split(":", 1)[0], text


@pytest.mark.parametrize(("case", "surface"), MATRIX, ids=[f"{s}-{c.name}" for c, s in MATRIX])
def test_bad_input_is_refused_naming_the_field_before_any_request(
    api_env: Emulator,
    no_network: NetworkGuard,
    monkeypatch: pytest.MonkeyPatch,
    case: Bad,
    surface: str,
) -> None:
    emulator = api_env
    if surface == "client":
        field, message = _via_client(case, emulator)
    elif surface == "resource":
        field, message = _via_resource(case, emulator)
    elif surface == "function":
        field, message = _via_function(case, emulator)
    elif surface == "output_function":
        field, message = _via_output_function(case, emulator)
    else:
        field, message = _via_cli(case, emulator, monkeypatch)

    expected = case.client_field if surface == "client" and case.client_field else case.field
    if surface == "cli":  # the command line names a field as it is typed there (--timeout)
        expected = cli.SPELLING.get(expected, expected)
    assert field == expected, f"{case.name} via {surface}: named {field!r}: {message}"
    assert emulator.requests == []
    assert no_network.attempts == []
    assert TEST_KEY not in message
    assert "hunter2" not in message


@pytest.mark.family("bad_inputs", check=True)
def test_the_network_guard_catches_a_request_that_would_be_sent(
    api_env: Emulator, no_network: NetworkGuard
) -> None:
    # The instrument itself: a valid lookup under the guard is stopped before it connects.
    with (
        BasetenClient(
            api_key=TEST_KEY, base_url=api_env.url, retry=RetryPolicy(max_attempts=1)
        ) as client,
        pytest.raises(TransportError),
    ):
        client.get_chain_deployment(CHAIN, DEP)
    assert no_network.attempts  # the lookup before the connect was already caught
    assert api_env.requests == []


@pytest.mark.family("bad_inputs", check=True)
def test_the_matrix_has_every_listed_bad_input_on_every_surface() -> None:
    assert len(CASES) >= 18
    listed = {
        "empty id",
        "whitespace id",
        "../x",
        "a/b",
        "%2e%2e",
        "?x=1",
        "#frag",
        "control characters",
        "newline in an id (header injection)",
        "newline in the key (header injection)",
        "10 KB id",
        "non-string id",
        "both deployment id and environment",
        "neither deployment id nor environment",
        "negative timeout",
        "zero timeout",
        "unknown status in wait_for",
        "plain-http remote base URL",
        "base URL with credentials",
    }
    assert listed <= {c.name for c in CASES}
    for surface in SURFACES:
        assert sum(1 for _, s in MATRIX if s == surface) >= 18 or surface == "client"
