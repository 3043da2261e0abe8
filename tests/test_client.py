"""BasetenClient against the emulator (a real HTTP server on 127.0.0.1).

Retries run with an injected ``sleep`` that only records the delays, so no test waits for a
backoff; attempts are counted in the emulator's request log. Every error a test provokes goes
through :func:`raises`, which also checks that the API key appears nowhere in it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from typing import Any, TypeVar

import pytest

from provider.backoff import Backoff
from provider.chains import ChainRef
from provider.client import ECHO_WARNING, USER_AGENT, BasetenClient, RetryPolicy
from provider.deadline import Deadline
from provider.emulator import (
    Emulator,
    chain_path,
    deployment_path,
    environment_path,
    make_deployment,
)
from provider.errors import (
    AuthenticationError,
    BasetenError,
    CancelledError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    RequestRejectedError,
    ResponseFormatError,
    ServerError,
    TransportError,
)
from provider.models import Chain, ChainDeployment, ChainEnvironment, ChainList, DeploymentStatus
from provider.validation import api_path
from tests.conftest import FAST_RETRY, TEST_KEY
from tests.emulator_faults import FAULT_KINDS, Fault
from tests.hostile_server import (
    Behaviour,
    Exchange,
    chunk_trickle,
    continue_storm,
    header_trickle,
    hostile,
    key_fragments,
    respond,
    silent,
)
from tests.provider_host import wait_until

CHAIN = "ch7k2p9q"
DEP = "dp3m8x1v"
DEP_PATH = deployment_path(CHAIN, DEP)
ATTEMPTS = FAST_RETRY.max_attempts
_E = TypeVar("_E", bound=BaseException)


# -- helpers -------------------------------------------------------------------------------


def assert_no_key(exc: BaseException) -> None:
    """The key is in no rendering of ``exc``: str, repr, attributes, formatted traceback."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    texts += [repr(v) for v in vars(exc).values() if not isinstance(v, ChainDeployment)]
    for text in texts:
        assert TEST_KEY not in text


def raises(exc_type: type[_E], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> _E:
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    assert_no_key(info.value)
    return info.value


class SleepRecorder:
    """An injected ``sleep`` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        assert len(self.delays) < 100, "runaway retry loop"
        self.delays.append(seconds)


def statuses(emulator: Emulator, path: str = DEP_PATH) -> list[int]:
    return [r.status for r in emulator.requests_for(path)]


def wait_for_log(emulator: Emulator, count: int, seconds: float = 3.0) -> None:
    """Let requests still being answered (a hang cut by close()) reach the log; bounded."""
    for _ in range(int(seconds / 0.01)):
        if len(emulator.requests) >= count:
            return
        time.sleep(0.01)


def closed_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(
    emulator: Emulator, sleeps: SleepRecorder
) -> Iterator[Callable[..., BasetenClient]]:
    """Clients on the emulator with recorded sleeps; closed at the end of the test."""
    made: list[BasetenClient] = []

    def make(**kwargs: Any) -> BasetenClient:
        kwargs.setdefault("api_key", TEST_KEY)
        kwargs.setdefault("base_url", emulator.url)
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("timeout", (2.0, 2.0))
        kwargs.setdefault("sleep", sleeps)
        client = BasetenClient(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def rclient(make_client: Callable[..., BasetenClient]) -> BasetenClient:
    """The default test client, with recorded (not slept) retry delays."""
    return make_client()


@pytest.fixture(autouse=True)
def _only_get_is_ever_sent(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test did, the emulator saw nothing but GETs."""
    if "emulator" not in request.fixturenames:
        yield
        return
    # Fetched during setup, so this teardown runs before the emulator's.
    emulator: Emulator = request.getfixturevalue("emulator")
    yield
    assert emulator.methods() <= {"GET"}


# A throwaway HTTP server for what the emulator does not expose (request headers, client ports,
# HTTP-date Retry-After, a server that echoes the key back).


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    port: int


@dataclass
class Scripted:
    """Answers in order (the last one repeats); records what it saw."""

    responses: list[tuple[int, dict[str, str], bytes]]
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def next(self) -> tuple[int, dict[str, str], bytes]:
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


class _ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        script: Scripted = self.server.script  # type: ignore[attr-defined]
        with script.lock:
            script.seen.append(Seen(self.path, dict(self.headers), self.client_address[1]))
            status, headers, body = script.next()
        self.send_response(status)
        headers = {"Content-Type": "application/json", **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def server_bind(self) -> None:  # no reverse DNS lookup
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


@contextlib.contextmanager
def scripted(responses: Sequence[tuple[int, dict[str, str], bytes]]) -> Iterator[Scripted]:
    script = Scripted(list(responses))
    server = _ScriptedServer(("127.0.0.1", 0), _ScriptedHandler)
    server.script = script  # type: ignore[attr-defined]
    script.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


def _body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


OK_DEPLOYMENT = (200, {}, _body(make_deployment(CHAIN, DEP)))


# -- happy paths ---------------------------------------------------------------------------


def test_get_chain_deployment_returns_the_typed_deployment(
    client: BasetenClient, emulator: Emulator
) -> None:
    dep = client.get_chain_deployment(CHAIN, DEP)

    assert isinstance(dep, ChainDeployment)
    assert (dep.id, dep.chain_id, dep.environment) == (DEP, CHAIN, "production")
    assert dep.status is DeploymentStatus.ACTIVE
    assert dep.instance_types == {
        "Entrypoint": "1x4",
        "Retriever": "L4:4x16",
        "Generator": "H100:1x20x80",
    }
    generator = dep.chainlet("Generator")
    assert generator.autoscaling_settings is not None
    assert generator.autoscaling_settings.max_replica == 4
    assert generator.autoscaling_settings.concurrency_target == 2
    [request] = emulator.requests
    assert (request.method, request.path, request.status) == ("GET", DEP_PATH, 200)
    assert request.authorized


def test_get_chain_returns_the_chain(client: BasetenClient, emulator: Emulator) -> None:
    chain = client.get_chain(CHAIN)

    assert isinstance(chain, Chain)
    assert (chain.id, chain.name, chain.team_name) == (CHAIN, "rag-pipeline", "ml-platform")
    assert chain.deployments_count == len(emulator.deployment_ids(CHAIN))
    assert [r.path for r in emulator.requests] == [chain_path(CHAIN)]


def test_the_chain_list_holds_every_chain(client: BasetenClient, emulator: Emulator) -> None:
    chains = client.get(api_path("chains"), ChainList, what="the chain list").chains

    assert [c.id for c in chains] == emulator.chain_ids()
    assert {c.name for c in chains} == {"rag-pipeline", "audio-transcriber"}
    assert [r.path for r in emulator.requests] == ["/v1/chains"]


def test_find_chain_by_name_uses_one_list_call(client: BasetenClient, emulator: Emulator) -> None:
    chain = ChainRef(None, "audio-transcriber").find(client)

    assert chain.id == "chq2v8n4"
    assert [r.path for r in emulator.requests] == ["/v1/chains"]


def test_find_chain_with_unknown_name_is_not_found(
    client: BasetenClient, emulator: Emulator
) -> None:
    exc = raises(NotFoundError, ChainRef(None, "no-such-chain").find, client)

    assert "no-such-chain" in str(exc)
    # The list call answered 200: no HTTP status is claimed, and Baseten is not quoted.
    assert exc.status is None
    assert "HTTP" not in str(exc) and "Baseten said" not in str(exc)
    assert len(emulator.requests) == 1


def test_get_chain_environment_returns_its_current_deployment(
    client: BasetenClient, emulator: Emulator
) -> None:
    env = client.get_chain_environment(CHAIN, "production")

    assert isinstance(env, ChainEnvironment)
    assert (env.name, env.chain_id) == ("production", CHAIN)
    assert env.current_deployment is not None
    assert env.current_deployment.id == DEP
    assert env.candidate_deployment is None
    assert [r.path for r in emulator.requests] == [environment_path(CHAIN, "production")]


def test_get_chain_environment_with_candidate(client: BasetenClient, emulator: Emulator) -> None:
    emulator.set_environment(CHAIN, "production", DEP, "dpbuild1")

    env = client.get_chain_environment(CHAIN, "production")

    assert env.candidate_deployment is not None
    assert env.candidate_deployment.status is DeploymentStatus.BUILDING


def test_all_five_calls_send_only_get(client: BasetenClient, emulator: Emulator) -> None:
    client.get_chain_deployment(CHAIN, DEP)
    client.get_chain(CHAIN)
    client.get(api_path("chains"), ChainList, what="the chain list")
    ChainRef(None, "rag-pipeline").find(client)
    client.get_chain_environment(CHAIN, "staging")

    assert len(emulator.requests) == 5
    assert emulator.methods() == {"GET"}
    assert all(r.authorized and r.status == 200 for r in emulator.requests)


# -- headers, auth, connection reuse -------------------------------------------------------


def test_emulator_accepts_the_api_key_auth_the_client_sends(
    client: BasetenClient, emulator: Emulator
) -> None:
    client.get_chain(CHAIN)

    assert [r.authorized for r in emulator.requests] == [True]


def test_wrong_key_is_an_authentication_error_without_retry(
    make_client: Callable[..., BasetenClient], emulator: Emulator, sleeps: SleepRecorder
) -> None:
    client = make_client(api_key="sk-some-other-key")

    exc = raises(AuthenticationError, client.get_chain_deployment, CHAIN, DEP)

    assert exc.status == 401
    assert [r.authorized for r in emulator.requests] == [False]
    assert sleeps.delays == []


def test_request_headers_name_the_client_and_carry_the_api_key_scheme() -> None:
    with (
        scripted([OK_DEPLOYMENT]) as server,
        BasetenClient(api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY) as client,
    ):
        client.get_chain_deployment(CHAIN, DEP)

    [seen] = server.seen
    assert seen.headers["User-Agent"] == USER_AGENT
    assert seen.headers["User-Agent"].startswith("pulumi-baseten-chains/")
    assert seen.headers["Authorization"] == f"Api-Key {TEST_KEY}"
    assert seen.headers["Accept"] == "application/json"
    assert seen.path == DEP_PATH


def test_one_keep_alive_connection_serves_many_calls(emulator: Emulator) -> None:
    with (
        scripted([OK_DEPLOYMENT]) as server,
        BasetenClient(api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY) as client,
    ):
        for _ in range(5):
            client.get_chain_deployment(CHAIN, DEP)

    assert len(server.seen) == 5
    assert len({s.port for s in server.seen}) == 1


def test_five_calls_reach_the_emulator_on_one_session(
    client: BasetenClient, emulator: Emulator
) -> None:
    for _ in range(5):
        client.get_chain_deployment(CHAIN, DEP)

    assert statuses(emulator) == [200] * 5


def test_redirect_is_not_followed() -> None:
    with (
        scripted([(302, {"Location": "/v1/chains/elsewhere"}, b"")]) as server,
        BasetenClient(api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY) as client,
    ):
        exc = raises(RequestRejectedError, client.get_chain_deployment, CHAIN, DEP)

    assert exc.status == 302
    assert [s.path for s in server.seen] == [DEP_PATH]


# -- rate limiting -------------------------------------------------------------------------


def test_429_with_retry_after_header_is_retried_and_succeeds(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("rate_limit", retry_after=0.03), DEP_PATH)

    assert rclient.get_chain_deployment(CHAIN, DEP).id == DEP

    assert statuses(emulator) == [429, 200]
    assert sleeps.delays == [0.03]


def test_retry_after_header_is_honoured_rather_than_the_backoff(
    make_client: Callable[..., BasetenClient], emulator: Emulator, sleeps: SleepRecorder
) -> None:
    policy = RetryPolicy(
        max_attempts=3, max_elapsed=120, backoff=Backoff(0.01, 0.05), max_retry_after=30
    )
    emulator.add_fault(Fault("rate_limit", retry_after=7), DEP_PATH)

    make_client(retry=policy).get_chain_deployment(CHAIN, DEP)

    assert sleeps.delays == [7.0]


def test_429_with_retry_after_body_field_is_retried_and_succeeds(
    make_client: Callable[..., BasetenClient], emulator: Emulator, sleeps: SleepRecorder
) -> None:
    policy = RetryPolicy(
        max_attempts=3, max_elapsed=120, backoff=Backoff(0.01, 0.05), max_retry_after=60
    )
    emulator.add_fault(Fault("rate_limit", retry_after_body=37), DEP_PATH)

    make_client(retry=policy).get_chain_deployment(CHAIN, DEP)

    assert statuses(emulator) == [429, 200]
    assert sleeps.delays == [37.0]


def test_server_advised_wait_is_capped_at_max_retry_after(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("rate_limit", retry_after_body=37), DEP_PATH)
    emulator.add_fault(Fault("rate_limit", retry_after=3600), DEP_PATH)

    rclient.get_chain_deployment(CHAIN, DEP)

    assert statuses(emulator) == [429, 429, 200]
    assert sleeps.delays == [FAST_RETRY.max_retry_after] * 2


def test_retry_after_header_wins_over_the_body_field(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("rate_limit", retry_after=0.01, retry_after_body=0.04), DEP_PATH)

    rclient.get_chain_deployment(CHAIN, DEP)

    assert sleeps.delays == [0.01]


def test_429_without_advice_backs_off(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("rate_limit", times=2), DEP_PATH)

    rclient.get_chain_deployment(CHAIN, DEP)

    assert statuses(emulator) == [429, 429, 200]
    assert len(sleeps.delays) == 2
    assert all(0 < d <= FAST_RETRY.backoff.cap for d in sleeps.delays)


def test_429_forever_is_rate_limited_after_exactly_max_attempts(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("rate_limit", times=None, retry_after_body=0.02), DEP_PATH)

    exc = raises(RateLimitedError, rclient.get_chain_deployment, CHAIN, DEP)

    assert statuses(emulator) == [429] * ATTEMPTS
    assert exc.attempts == ATTEMPTS
    assert exc.status == 429
    assert exc.retry_after == 0.02
    assert "Rate limit exceeded" in str(exc)
    assert len(sleeps.delays) == ATTEMPTS - 1


def test_retries_stop_at_max_elapsed_before_a_wait_that_would_cross_it(
    make_client: Callable[..., BasetenClient], emulator: Emulator, sleeps: SleepRecorder
) -> None:
    policy = RetryPolicy(
        max_attempts=10, max_elapsed=5, backoff=Backoff(0.01, 0.05), max_retry_after=30
    )
    emulator.add_fault(Fault("rate_limit", times=None, retry_after=20), DEP_PATH)

    exc = raises(RateLimitedError, make_client(retry=policy).get_chain_deployment, CHAIN, DEP)

    assert exc.attempts == 1
    assert statuses(emulator) == [429]
    assert sleeps.delays == []


def _retry_after_date(offset: float) -> dict[str, str]:
    return {"Retry-After": formatdate(time.time() + offset, usegmt=True)}


@pytest.mark.parametrize(
    ("offset", "low", "high"),
    [(3600, 30, 30), (20, 17, 20), (-3600, 0, 0)],
    ids=["far-future-capped", "near-future", "past"],
)
def test_retry_after_as_http_date_is_honoured(
    offset: float, low: float, high: float, sleeps: SleepRecorder
) -> None:
    policy = RetryPolicy(
        max_attempts=3, max_elapsed=10_000, backoff=Backoff(0.01, 0.05), max_retry_after=30
    )
    rate_limited = (429, _retry_after_date(offset), _body({"error": "slow down"}))
    with (
        scripted([rate_limited, OK_DEPLOYMENT]) as server,
        BasetenClient(api_key=TEST_KEY, base_url=server.url, retry=policy, sleep=sleeps) as client,
    ):
        assert client.get_chain_deployment(CHAIN, DEP).id == DEP

    assert len(server.seen) == 2
    [delay] = sleeps.delays
    assert low <= delay <= high


def test_unparseable_retry_after_falls_back_to_the_backoff(sleeps: SleepRecorder) -> None:
    rate_limited = (429, {"Retry-After": "soon-ish"}, _body({"error": "slow down"}))
    with (
        scripted([rate_limited, OK_DEPLOYMENT]) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, sleep=sleeps
        ) as client,
    ):
        client.get_chain_deployment(CHAIN, DEP)

    [delay] = sleeps.delays
    assert 0 < delay <= FAST_RETRY.backoff.cap


# -- server errors -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_retryable_5xx_is_retried_and_succeeds(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder, status: int
) -> None:
    emulator.add_fault(Fault("status", status=status), DEP_PATH)

    assert rclient.get_chain_deployment(CHAIN, DEP).id == DEP

    assert statuses(emulator) == [status, 200]
    [delay] = sleeps.delays
    assert 0 < delay <= FAST_RETRY.backoff.cap


def test_5xx_that_recovers_after_two_attempts_succeeds_on_the_third(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("status", status=503, times=2), DEP_PATH)

    rclient.get_chain_deployment(CHAIN, DEP)

    assert statuses(emulator) == [503, 503, 200]
    assert len(sleeps.delays) == 2


@pytest.mark.parametrize(("status", "message"), [(502, "Bad gateway"), (500, "Internal")])
def test_5xx_forever_is_a_server_error_naming_the_status(
    rclient: BasetenClient, emulator: Emulator, status: int, message: str
) -> None:
    emulator.add_fault(Fault("status", status=status, times=None), DEP_PATH)

    exc = raises(ServerError, rclient.get_chain_deployment, CHAIN, DEP)

    assert exc.status == status
    assert str(status) in str(exc)
    assert message in str(exc)
    assert exc.attempts == ATTEMPTS
    assert statuses(emulator) == [status] * ATTEMPTS


def test_non_retryable_5xx_fails_after_one_request(
    rclient: BasetenClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("status", status=501, times=None), DEP_PATH)

    exc = raises(ServerError, rclient.get_chain_deployment, CHAIN, DEP)

    assert (exc.status, exc.attempts) == (501, 1)
    assert statuses(emulator) == [501]


@pytest.mark.parametrize("status", [400, 409, 422])
def test_other_4xx_is_rejected_without_retry(
    rclient: BasetenClient, emulator: Emulator, status: int
) -> None:
    emulator.add_fault(Fault("status", status=status, times=None), DEP_PATH)

    exc = raises(RequestRejectedError, rclient.get_chain_deployment, CHAIN, DEP)

    assert exc.status == status
    assert statuses(emulator) == [status]


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_authentication_errors_that_say_the_key_was_refused(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder, status: int
) -> None:
    emulator.add_fault(Fault("status", status=status, times=None), DEP_PATH)

    exc = raises(AuthenticationError, rclient.get_chain_deployment, CHAIN, DEP)

    assert exc.status == status
    assert "API key was refused" in str(exc)
    # The client serves every front end: where to set the key is each front end's hint.
    assert "baseten:apiKey" not in str(exc)
    assert statuses(emulator) == [status]
    assert sleeps.delays == []


# -- 404 -------------------------------------------------------------------------------------


def test_404_for_an_unknown_chain_names_both_ids_and_basetens_message(
    client: BasetenClient, emulator: Emulator
) -> None:
    exc = raises(NotFoundError, client.get_chain_deployment, "nochain1", DEP)

    assert exc.status == 404
    assert "nochain1" in str(exc) and DEP in str(exc)
    assert "Chain not found" in str(exc)
    assert len(emulator.requests) == 1


def test_404_for_an_unknown_deployment_names_both_ids_and_basetens_message(
    client: BasetenClient, emulator: Emulator
) -> None:
    exc = raises(NotFoundError, client.get_chain_deployment, CHAIN, "nodeploy")

    assert "nodeploy" in str(exc) and CHAIN in str(exc)
    assert "Chain deployment not found" in str(exc)
    assert len(emulator.requests) == 1


def test_404_for_an_unknown_environment_names_it(client: BasetenClient, emulator: Emulator) -> None:
    exc = raises(NotFoundError, client.get_chain_environment, CHAIN, "qa")

    assert "'qa'" in str(exc) and CHAIN in str(exc)
    assert "Environment not found" in str(exc)


def test_404_for_get_chain_names_the_chain(client: BasetenClient) -> None:
    exc = raises(NotFoundError, client.get_chain, "nochain1")

    assert "nochain1" in str(exc)
    assert "Chain not found" in str(exc)


# -- below HTTP: drops, refusals, hangs --------------------------------------------------


def test_dropped_connection_is_retried_and_succeeds(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("drop"), DEP_PATH)

    assert rclient.get_chain_deployment(CHAIN, DEP).id == DEP

    assert statuses(emulator) == [0, 200]
    assert len(sleeps.delays) == 1


def test_connection_dropped_every_time_is_a_transport_error_after_max_attempts(
    rclient: BasetenClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("drop", times=None), DEP_PATH)

    exc = raises(TransportError, rclient.get_chain_deployment, CHAIN, DEP)

    assert exc.attempts == ATTEMPTS
    assert exc.status is None
    assert statuses(emulator) == [0] * ATTEMPTS


def test_connection_refused_is_retried_once_and_names_the_host(
    sleeps: SleepRecorder,
) -> None:
    port = closed_loopback_port()
    url = f"http://127.0.0.1:{port}"
    with BasetenClient(api_key=TEST_KEY, base_url=url, retry=FAST_RETRY, sleep=sleeps) as client:
        exc = raises(TransportError, client.get_chain_deployment, CHAIN, DEP)

    # A refused connection is rarely transient: one retry, not the policy's four attempts.
    assert exc.attempts == 2
    assert str(exc).startswith(f"connection refused (127.0.0.1:{port})")
    assert exc.host == f"127.0.0.1:{port}"
    assert len(sleeps.delays) == 1


def test_hang_times_out_then_the_retry_succeeds(
    make_client: Callable[..., BasetenClient], emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("hang", seconds=1.0), DEP_PATH)
    client = make_client(timeout=(1, 0.2))

    assert client.get_chain_deployment(CHAIN, DEP).id == DEP

    emulator.close()  # cut the hang short so it reaches the log
    wait_for_log(emulator, 2)
    assert sorted(statuses(emulator)) == [0, 200]
    assert len(sleeps.delays) == 1


def test_hang_every_time_is_a_timeout_after_max_attempts(
    make_client: Callable[..., BasetenClient], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("hang", seconds=1.0, times=None), DEP_PATH)
    client = make_client(timeout=(1, 0.1))

    exc = raises(TransportError, client.get_chain_deployment, CHAIN, DEP)

    assert exc.attempts == ATTEMPTS
    assert "timed out" in str(exc)
    emulator.close()
    wait_for_log(emulator, ATTEMPTS)
    assert statuses(emulator) == [0] * ATTEMPTS


def test_slow_trickle_within_the_read_timeout_succeeds(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("slow_trickle", seconds=0.3), DEP_PATH)

    dep = rclient.get_chain_deployment(CHAIN, DEP)

    assert dep.status is DeploymentStatus.ACTIVE
    assert statuses(emulator) == [200]
    assert sleeps.delays == []


def test_truncated_body_with_dropped_connection_is_retried_and_succeeds(
    rclient: BasetenClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("truncated_json"), DEP_PATH)

    assert rclient.get_chain_deployment(CHAIN, DEP).id == DEP

    assert statuses(emulator) == [200, 200]


def test_truncated_body_every_time_is_a_transport_error_after_max_attempts(
    rclient: BasetenClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("truncated_json", times=None), DEP_PATH)

    exc = raises(TransportError, rclient.get_chain_deployment, CHAIN, DEP)

    assert "truncated" in str(exc)
    assert exc.attempts == ATTEMPTS
    assert len(statuses(emulator)) == ATTEMPTS


# -- bodies that are not the documented JSON ---------------------------------------------


@pytest.mark.parametrize(
    ("fault", "text"),
    [
        (Fault("malformed_json"), "JSON"),
        (Fault("html"), "text/html"),
        (Fault("empty_body"), "empty"),
        (Fault("wrong_content_type"), "text/plain"),
    ],
    ids=lambda v: v.kind if isinstance(v, Fault) else None,
)
def test_well_framed_bad_body_is_a_response_format_error_without_retry(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder, fault: Fault, text: str
) -> None:
    emulator.add_fault(fault, DEP_PATH)

    exc = raises(ResponseFormatError, rclient.get_chain_deployment, CHAIN, DEP)

    assert text in str(exc)
    assert exc.status == 200
    assert exc.field is None
    assert statuses(emulator) == [200]
    assert sleeps.delays == []


@pytest.mark.parametrize(
    ("removed", "reported"),
    [
        ("status", "status"),
        ("created_at", "created_at"),
        ("chainlets.0.status", "chainlets[0].status"),
        ("chainlets.2.instance_type_name", "chainlets[2].instance_type_name"),
        (
            "chainlets.1.autoscaling_settings.min_replica",
            "chainlets[1].autoscaling_settings.min_replica",
        ),
    ],
)
def test_missing_required_field_is_a_format_error_naming_the_field(
    rclient: BasetenClient, emulator: Emulator, removed: str, reported: str
) -> None:
    emulator.add_fault(Fault("missing_field", field=removed), DEP_PATH)

    exc = raises(ResponseFormatError, rclient.get_chain_deployment, CHAIN, DEP)

    assert exc.field == reported
    assert repr(reported) in str(exc)
    assert statuses(emulator) == [200]


def test_missing_field_in_environment_names_the_nested_path(
    rclient: BasetenClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("missing_field", field="chainlets.0.status"))

    exc = raises(ResponseFormatError, rclient.get_chain_environment, CHAIN, "production")

    assert exc.field == "current_deployment.chainlets[0].status"


def test_null_chainlets_is_a_format_error_on_chainlets(
    rclient: BasetenClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("null_chainlets"), DEP_PATH)

    exc = raises(ResponseFormatError, rclient.get_chain_deployment, CHAIN, DEP)

    assert exc.field == "chainlets"
    assert statuses(emulator) == [200]


def test_unknown_deployment_status_parses_as_a_plain_string(
    client: BasetenClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("unknown_status", value="QUANTUM_FLUX"), DEP_PATH)

    dep = client.get_chain_deployment(CHAIN, DEP)

    assert dep.status == "QUANTUM_FLUX" and type(dep.status) is str
    assert all(c.status == "QUANTUM_FLUX" for c in dep.chainlets)


def test_unknown_chainlet_status_parses_and_leaves_the_rest_known(
    client: BasetenClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("unknown_chainlet_status", value="WARMING"), DEP_PATH)

    dep = client.get_chain_deployment(CHAIN, DEP)

    assert dep.status is DeploymentStatus.ACTIVE
    assert [str(c.status) for c in dep.chainlets] == ["WARMING", "ACTIVE", "ACTIVE"]


def test_extra_fields_are_kept(client: BasetenClient, emulator: Emulator) -> None:
    emulator.add_fault(Fault("extra_fields"), DEP_PATH)

    dep = client.get_chain_deployment(CHAIN, DEP)

    assert dep.model_extra is not None
    assert dep.model_extra["labels"] == {"team": "ml-platform"}
    assert dep.model_extra["is_development"] is False
    assert dep.chainlets[0].model_extra is not None
    assert "gpu_count" in dep.chainlets[0].model_extra
    settings = dep.chainlets[0].autoscaling_settings
    assert settings is not None
    assert settings.model_extra == {"scale_up_delay": None}
    assert settings.max_scale_down_rate == 2
    assert dep.to_api()["chainlets"][0]["autoscaling_settings"]["max_scale_down_rate"] == 2


def test_content_faults_apply_to_list_and_environment_calls_too(
    client: BasetenClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("unknown_status", value="QUANTUM_FLUX"))

    env = client.get_chain_environment(CHAIN, "production")

    assert env.current_deployment is not None
    assert env.current_deployment.status == "QUANTUM_FLUX"


def test_every_emulator_fault_kind_is_exercised_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    missing = {k for k in FAULT_KINDS if f'Fault("{k}"' not in source}
    assert missing == set()


# -- inputs refused before any request ----------------------------------------------------

BAD_IDS: list[Any] = [
    "",
    " ",
    "   ",
    "../x",
    "..",
    ".",
    "a..b",
    "a/b",
    "/",
    "a\\b",
    "%2e%2e",
    "a%2Fb",
    "?x=1",
    "#frag",
    "a b",
    "a\x00b",
    "a\x1fb",
    "a\x7f",
    "a\nb",
    "a\r\nHost: evil",
    "\tab",
    "x" * 10_240,
    42,
    None,
    b"dp3m8x1v",
    ["dp3m8x1v"],
]

CALLS: dict[str, Callable[[BasetenClient, Any], Any]] = {
    "get_chain_deployment/chain_id": lambda c, v: c.get_chain_deployment(v, DEP),
    "get_chain_deployment/chain_deployment_id": lambda c, v: c.get_chain_deployment(CHAIN, v),
    "get_chain/chain_id": lambda c, v: c.get_chain(v),
    "get_chain_environment/chain_id": lambda c, v: c.get_chain_environment(v, "production"),
    "get_chain_environment/environment": lambda c, v: c.get_chain_environment(CHAIN, v),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda v: repr(v)[:24])
def test_bad_id_is_refused_naming_the_field_and_nothing_is_sent(
    client: BasetenClient, emulator: Emulator, call: str, bad: Any
) -> None:
    exc = raises(InvalidInputError, CALLS[call], client, bad)

    assert exc.field == call.split("/")[1]
    assert exc.field in str(exc)
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("chain_id", "deployment_id", "expected"),
    [
        ("a:b", "dp1", "/v1/chains/a%3Ab/deployments/dp1"),
        ("ch1", "ü", "/v1/chains/ch1/deployments/%C3%BC"),
        ("a@b", "c+d", "/v1/chains/a%40b/deployments/c%2Bd"),
        ("a;b=c&d", "日本", "/v1/chains/a%3Bb%3Dc%26d/deployments/%E6%97%A5%E6%9C%AC"),
        ("~x_y-z", "a.b", "/v1/chains/~x_y-z/deployments/a.b"),
    ],
)
def test_safe_unusual_ids_are_percent_encoded_into_one_segment(
    client: BasetenClient, emulator: Emulator, chain_id: str, deployment_id: str, expected: str
) -> None:
    emulator.add_deployment(chain_id, make_deployment(chain_id, deployment_id))

    dep = client.get_chain_deployment(chain_id, deployment_id)

    assert (dep.chain_id, dep.id) == (chain_id, deployment_id)
    [request] = emulator.requests
    assert request.path == expected == deployment_path(chain_id, deployment_id)
    assert request.path.split("/")[1:3] == ["v1", "chains"]
    assert len(request.path.split("/")) == 6


def test_unusual_environment_name_is_one_segment(client: BasetenClient, emulator: Emulator) -> None:
    emulator.set_environment(CHAIN, "pré:prod", "dp9w4n2r")

    env = client.get_chain_environment(CHAIN, "pré:prod")

    assert env.name == "pré:prod"
    assert [r.path for r in emulator.requests] == [environment_path(CHAIN, "pré:prod")]


@pytest.mark.parametrize(
    "key", [f"{TEST_KEY}\n", "", f" {TEST_KEY}", f"{TEST_KEY} x", "a\x00b", 12345]
)
def test_bad_api_key_is_refused_at_construction(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, key: Any
) -> None:
    monkeypatch.delenv("BASETEN_API_KEY", raising=False)

    exc = raises(InvalidInputError, BasetenClient, api_key=key, base_url=emulator.url)

    assert exc.field == "api_key"
    assert emulator.requests == []


def test_missing_api_key_in_the_environment_is_refused_in_neutral_words(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASETEN_API_KEY", raising=False)

    exc = raises(InvalidInputError, BasetenClient, base_url=emulator.url)

    assert exc.field == "api_key"
    assert "no API key" in str(exc)
    # Where to set it is each front end's hint (the CLI's, Pulumi's, Terraform's), not ours.
    assert "baseten:apiKey" not in str(exc) and "provider block" not in str(exc)


def test_api_key_and_url_come_from_the_environment(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASETEN_API_KEY", TEST_KEY)
    monkeypatch.setenv("BASETEN_API_URL", emulator.url + "/")

    with BasetenClient(retry=FAST_RETRY) as client:
        assert client.base_url == emulator.url
        client.get_chain(CHAIN)

    assert [r.authorized for r in emulator.requests] == [True]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.invalid",
        "http://10.0.0.1:8080",
        "https://u:p@x.invalid",
        f"https://user:{TEST_KEY}@x.invalid",
        "ftp://example.invalid",
        "file:///etc/passwd",
        "example.invalid",
        "   ",
        "https://",
        "https://x.invalid?x=1",
        "https://x.invalid/#frag",
        "https://x.invalid:99999",
        "https://x.invalid/\n",
        42,
    ],
)
def test_bad_base_url_is_refused_at_construction(monkeypatch: pytest.MonkeyPatch, url: Any) -> None:
    monkeypatch.delenv("BASETEN_API_URL", raising=False)

    exc = raises(InvalidInputError, BasetenClient, api_key=TEST_KEY, base_url=url)

    assert exc.field == "base_url"
    assert "base_url" in str(exc)


def test_bad_base_url_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASETEN_API_URL", "http://api.example.invalid")

    exc = raises(InvalidInputError, BasetenClient, api_key=TEST_KEY)

    assert exc.field == "base_url"


@pytest.mark.parametrize(
    "url",
    ["https://api.baseten.co", "https://api.baseten.co/", "http://localhost:1", "http://[::1]:1"],
)
def test_https_and_loopback_http_base_urls_are_accepted(url: str) -> None:
    with BasetenClient(api_key=TEST_KEY, base_url=url) as client:
        assert client.base_url == url.rstrip("/")


@pytest.mark.parametrize("timeout", [(0, 1), (1, -1), (1, float("inf")), (True, 1), ("1", 1)])
def test_bad_timeout_is_refused_at_construction(emulator: Emulator, timeout: Any) -> None:
    exc = raises(
        InvalidInputError, BasetenClient, api_key=TEST_KEY, base_url=emulator.url, timeout=timeout
    )

    assert exc.field == "timeout"


# -- the key stays secret ------------------------------------------------------------------


def test_repr_of_the_client_redacts_the_key(client: BasetenClient) -> None:
    text = repr(client)

    assert TEST_KEY not in text
    assert "redacted" in text
    assert TEST_KEY not in str(client)


def test_pickling_a_client_raises_type_error(client: BasetenClient) -> None:
    exc = raises(TypeError, pickle.dumps, client)

    assert "pickle" in str(exc)


def test_key_never_reaches_the_log_even_at_debug(
    rclient: BasetenClient,
    emulator: Emulator,
    make_client: Callable[..., BasetenClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.add_fault(Fault("rate_limit", retry_after=0.01), DEP_PATH)
    emulator.add_fault(Fault("status", status=503), DEP_PATH)
    emulator.add_fault(Fault("drop"), DEP_PATH)
    rclient.get_chain_deployment(CHAIN, DEP)
    emulator.add_fault(Fault("missing_field", field="chainlets.0.status"), DEP_PATH)
    raises(ResponseFormatError, rclient.get_chain_deployment, CHAIN, DEP)
    raises(NotFoundError, rclient.get_chain_deployment, CHAIN, "nodeploy")
    raises(InvalidInputError, rclient.get_chain, "a/b")
    raises(AuthenticationError, make_client(api_key="other").get_chain, CHAIN)
    raises(InvalidInputError, BasetenClient, api_key=TEST_KEY + "\n", base_url=emulator.url)

    assert len(caplog.records) >= 5  # retries and urllib3 debug lines were captured
    assert any("retrying" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert TEST_KEY not in record.getMessage()
        assert TEST_KEY not in repr(record.args)
    assert TEST_KEY not in caplog.text


def test_key_echoed_back_by_the_server_is_redacted_from_errors(sleeps: SleepRecorder) -> None:
    echo = _body({"message": f"key {TEST_KEY} is not valid for this team"})
    responses = [(400, {}, echo), (404, {}, echo)] + [(500, {}, echo)] * ATTEMPTS
    responses += [(429, {}, echo)]  # then forever
    with (
        scripted(responses) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, sleep=sleeps
        ) as client,
    ):
        for expected in (RequestRejectedError, NotFoundError, ServerError, RateLimitedError):
            exc = raises(expected, client.get_chain_deployment, CHAIN, DEP)
            assert "<redacted>" in str(exc)

    assert len(server.seen) == 2 + 2 * ATTEMPTS


def test_key_echoed_in_an_html_error_page_is_redacted(sleeps: SleepRecorder) -> None:
    page = f"<html><body><h1>Forbidden</h1><p>{TEST_KEY}</p></body></html>".encode()
    with (
        scripted([(403, {"Content-Type": "text/html"}, page)]) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, sleep=sleeps
        ) as client,
    ):
        exc = raises(AuthenticationError, client.get_chain, CHAIN)

    assert "Forbidden" in str(exc)


def test_every_error_type_is_a_baseten_error_or_input_error() -> None:
    for cls in (
        AuthenticationError,
        NotFoundError,
        RateLimitedError,
        ServerError,
        TransportError,
        RequestRejectedError,
        ResponseFormatError,
    ):
        assert issubclass(cls, BasetenError)
    assert issubclass(InvalidInputError, ValueError)


def test_errors_survive_pickling_with_their_fields() -> None:
    for error in (
        TransportError("refused", attempts=2),
        NotFoundError("Chain not found", what="chain 'x'"),
        InvalidInputError("chain_id", "must not be empty"),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert copy.__dict__ == error.__dict__


def test_transport_error_carries_no_chain_back_to_the_request(
    emulator: Emulator, client: BasetenClient
) -> None:
    emulator.add_fault(Fault("drop", times=None))
    with pytest.raises(TransportError) as caught:
        client.get_chain_deployment("ch7k2p9q", "dp3m8x1v")
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_explicit_empty_base_url_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        BasetenClient(api_key=TEST_KEY, base_url="")
    assert caught.value.field == "base_url"


# -- one deadline, down to every socket read ----------------------------------------------
# A raw-socket server (tests/hostile_server.py) that keeps the protocol itself hostage. Every
# call here would hang for as long as the server likes if any read escaped the deadline.

# Slack for scheduling: a call ends at its deadline, plus this.
SLACK = 0.75


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()``'s result (or the BasetenError it raised) and the seconds it took."""
    started = time.monotonic()
    try:
        result: Any = fn()
    except BasetenError as exc:
        result = exc
    return result, time.monotonic() - started


def hostile_client(url: str, **kwargs: Any) -> BasetenClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=5, max_elapsed=60.0))
    kwargs.setdefault("timeout", (2.0, 30.0))
    return BasetenClient(api_key=TEST_KEY, base_url=url, **kwargs)


@pytest.mark.parametrize(
    "behaviour",
    [continue_storm(0.2), header_trickle(0.1), chunk_trickle(0.1), silent],
    ids=["100-continue storm", "header trickle", "chunk-size trickle", "silent server"],
)
def test_the_callers_deadline_bounds_every_read_whatever_the_server_sends(
    behaviour: Behaviour,
) -> None:
    with hostile(default=behaviour) as server, hostile_client(server.url) as client:
        deadline = Deadline.after(1.0)
        error, seconds = timed(lambda: client.get_chain_deployment(CHAIN, DEP, deadline=deadline))

    assert isinstance(error, TransportError), error
    assert seconds <= 1.0 + SLACK
    assert error.out_of_time  # the caller's deadline, not the client's budget, ran out
    assert "timed out" in str(error) and error.host == server.url.removeprefix("http://")
    assert_no_key(error)


def test_the_clients_own_budget_bounds_an_ungated_call_against_a_chunk_trickle() -> None:
    policy = RetryPolicy(max_attempts=5, max_elapsed=1.0)
    with (
        hostile(default=chunk_trickle(0.1)) as server,
        hostile_client(server.url, retry=policy) as client,
    ):
        error, seconds = timed(lambda: client.get_chain_deployment(CHAIN, DEP))

    assert isinstance(error, TransportError), error
    assert seconds <= 1.0 + SLACK
    assert not error.out_of_time  # the client's budget is not the caller's deadline
    assert "answered too slowly" in str(error)


def test_a_silent_server_is_reported_as_no_answer_within_the_time_given() -> None:
    with hostile(default=silent) as server, hostile_client(server.url) as client:
        error, _ = timed(
            lambda: client.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(0.5))
        )

    assert isinstance(error, TransportError)
    assert "no answer within" in str(error)


def test_the_read_timeout_bounds_a_whole_attempt_not_each_byte() -> None:
    # Headers trickle faster than any per-read timeout would notice.
    policy = RetryPolicy(max_attempts=2, max_elapsed=60.0, backoff=Backoff(0.01, 0.01))
    with (
        hostile(default=header_trickle(0.05)) as server,
        hostile_client(server.url, retry=policy, timeout=(1.0, 0.4)) as client,
    ):
        error, seconds = timed(lambda: client.get_chain_deployment(CHAIN, DEP))

    assert isinstance(error, TransportError) and error.attempts == 2
    assert seconds <= 2 * 0.4 + SLACK
    assert len(server.seen) == 2


def test_cancel_ends_a_blocked_read_promptly() -> None:
    cancel = threading.Event()
    asked = threading.Event()

    def answer_nothing(exchange: Exchange) -> None:
        asked.set()
        silent(exchange)

    with hostile(default=answer_nothing) as server, hostile_client(server.url) as client:
        deadline = Deadline.after(30.0, cancel=cancel)
        canceller = threading.Thread(target=lambda: asked.wait(5) and cancel.set())
        canceller.start()
        error, seconds = timed(lambda: client.get_chain_deployment(CHAIN, DEP, deadline=deadline))
        canceller.join(5)

    assert isinstance(error, CancelledError), error
    assert seconds <= 1.0 + SLACK


def test_cancel_ends_a_retry_wait_promptly() -> None:
    cancel = threading.Event()
    asked = threading.Event()
    rate_limited = respond(429, {"error": "slow down"}, {"Retry-After": "20"})

    def answer(exchange: Exchange) -> None:
        rate_limited(exchange)
        asked.set()

    policy = RetryPolicy(max_attempts=5, max_elapsed=60.0, max_retry_after=30.0)
    with hostile(default=answer) as server, hostile_client(server.url, retry=policy) as client:
        deadline = Deadline.after(50.0, cancel=cancel)
        canceller = threading.Thread(target=lambda: asked.wait(5) and cancel.set())
        canceller.start()
        error, seconds = timed(lambda: client.get_chain_deployment(CHAIN, DEP, deadline=deadline))
        canceller.join(5)

    assert isinstance(error, CancelledError), error
    assert seconds <= 1.0 + SLACK
    assert len(server.seen) == 1


def test_an_advised_wait_longer_than_the_callers_deadline_ends_the_call_at_once() -> None:
    policy = RetryPolicy(max_attempts=5, max_elapsed=60.0, max_retry_after=60.0)
    rate_limited = respond(429, {"error": "slow down"}, {"Retry-After": "30"})
    with (
        hostile(default=rate_limited) as server,
        hostile_client(server.url, retry=policy) as client,
    ):
        error, seconds = timed(
            lambda: client.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(4.0))
        )

    assert isinstance(error, RateLimitedError), error
    assert seconds <= SLACK  # no sleeping into a certain failure
    assert error.out_of_time
    assert (error.attempts, error.retry_after) == (1, 30.0)


def test_an_advised_wait_longer_than_the_clients_budget_is_not_charged_to_the_caller() -> None:
    policy = RetryPolicy(max_attempts=5, max_elapsed=4.0, max_retry_after=60.0)
    rate_limited = respond(429, {"error": "slow down"}, {"Retry-After": "30"})
    with (
        hostile(default=rate_limited) as server,
        hostile_client(server.url, retry=policy) as client,
    ):
        error, seconds = timed(
            lambda: client.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(600.0))
        )

    assert isinstance(error, RateLimitedError)
    assert seconds <= SLACK
    assert not error.out_of_time


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Mon, 01 Jan 99999999999 00:00:00 GMT", None),  # no datetime holds it
        ("Mon, 01 Jan 0000 00:00:00 GMT", 0.0),  # read as 2000: in the past, retry now
        ("9" * 60, 0.05),  # capped like any long advice
        ("1e999", None),
        ("nan", None),
        ("inf", None),
        ("-5", None),
        ("1_000", None),
        ("x" * 10_000, None),
    ],
)
def test_absurd_retry_after_never_raises_and_is_capped_or_ignored(
    header: str, expected: float | None, sleeps: SleepRecorder
) -> None:
    rate_limited = (429, {"Retry-After": header}, _body({"error": "slow down"}))
    with (
        scripted([rate_limited, OK_DEPLOYMENT]) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, sleep=sleeps
        ) as client,
    ):
        assert client.get_chain_deployment(CHAIN, DEP).id == DEP

    [delay] = sleeps.delays
    if expected is None:  # no usable advice: the backoff decides
        assert 0 < delay <= FAST_RETRY.backoff.cap
    else:
        assert delay == expected


def test_injected_sleep_runs_retries_in_simulated_time_under_a_callers_deadline(
    rclient: BasetenClient, emulator: Emulator, sleeps: SleepRecorder
) -> None:
    emulator.add_fault(Fault("rate_limit", retry_after=0.03), DEP_PATH)

    dep = rclient.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(10.0))

    assert dep.id == DEP
    assert sleeps.delays == [0.03]


def test_a_dns_failure_names_the_host_in_words_and_is_retried_once(
    monkeypatch: pytest.MonkeyPatch, sleeps: SleepRecorder
) -> None:
    lookups: list[str] = []

    def no_such_host(host: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # No resolver is asked: the lookup fails here, as it would for a name that does not exist.
    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with BasetenClient(
        api_key=TEST_KEY, base_url="https://api.example.invalid", retry=FAST_RETRY, sleep=sleeps
    ) as client:
        exc = raises(TransportError, client.get_chain_deployment, CHAIN, DEP)

    assert str(exc).startswith("DNS lookup failed: could not resolve the host name")
    assert exc.host == "api.example.invalid" and "api.example.invalid" in str(exc)
    assert "gaierror" not in str(exc) and "Error" not in str(exc)
    assert exc.attempts == 2 and lookups == ["api.example.invalid"] * 2


# -- nothing of the key, ever ---------------------------------------------------------------


def assert_no_fragment(*texts: str) -> None:
    for text in texts:
        assert key_fragments(text, TEST_KEY) == set(), text


def test_a_key_echoed_late_in_an_html_page_is_redacted_before_the_message_is_cut(
    sleeps: SleepRecorder,
) -> None:
    # The key starts around character 150 of the text: cutting at 200 first would keep
    # its first 8-11 characters.
    page = (
        "<html><body><h1>Bad Request</h1><p>" + "x" * 130 + "</p>"
        "<pre>Authorization: {auth}</pre></body></html>"
    )
    warnings: list[str] = []
    html = respond(400, page, {"Content-Type": "text/html"})
    with (
        hostile(default=html) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, on_warning=warnings.append
        ) as client,
    ):
        exc = raises(RequestRejectedError, client.get_chain_deployment, CHAIN, DEP)

    assert_no_fragment(str(exc), repr(exc), *warnings)
    assert "Bad Request" in str(exc)
    assert warnings == [ECHO_WARNING]


@pytest.mark.parametrize(
    "body",
    [
        {"message": {"detail": "x" * 150 + " Authorization: {auth}"}},
        {"message": ["Authorization: {auth}"], "code": 400},
        {"errors": [{"header": "Authorization: {auth}"}]},
        {"message": "x" * 150 + " {auth}"},
    ],
    ids=["message is an object", "message is a list", "no message", "message string"],
)
def test_a_key_echoed_in_a_json_error_of_any_shape_is_redacted(body: Any) -> None:
    warnings: list[str] = []
    with (
        hostile(default=respond(400, body)) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, on_warning=warnings.append
        ) as client,
    ):
        exc = raises(RequestRejectedError, client.get_chain_deployment, CHAIN, DEP)

    assert_no_fragment(str(exc), repr(exc))
    assert "Authorization" in str(exc) or "x" * 150 in str(exc)
    assert warnings == [ECHO_WARNING]


def _escaped(text: str) -> str:
    """``text`` as a JSON string body, every character escaped (``\\u0073k-...``)."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


def test_a_key_hidden_behind_json_escapes_is_redacted() -> None:
    body = '{"message": "key ' + _escaped(TEST_KEY) + ' refused"}'
    with (
        scripted([(400, {}, body.encode())]) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, on_warning=lambda m: None
        ) as client,
    ):
        exc = raises(RequestRejectedError, client.get_chain_deployment, CHAIN, DEP)

    assert_no_fragment(str(exc))
    assert "key <redacted> refused" in str(exc)


def test_a_fragment_of_the_key_echoed_by_the_server_is_redacted() -> None:
    body = _body({"message": f"unknown key {TEST_KEY[:10]}... for this team"})
    with (
        scripted([(403, {}, body)]) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, on_warning=lambda m: None
        ) as client,
    ):
        exc = raises(AuthenticationError, client.get_chain_deployment, CHAIN, DEP)

    assert_no_fragment(str(exc))
    assert "unknown key <redacted>... for this team" in str(exc)


def test_a_200_that_echoes_the_key_is_redacted_everywhere_and_reported() -> None:
    deployment = make_deployment(CHAIN, DEP)
    deployment["debug"] = {"request_headers": {"Authorization": "{auth}"}}
    deployment["chainlets"][0]["name"] = "Entry {auth}"
    warnings: list[str] = []
    with (
        hostile(default=respond(200, deployment)) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, on_warning=warnings.append
        ) as client,
    ):
        dep = client.get_chain_deployment(CHAIN, DEP)

    assert_no_fragment(repr(dep), dep.model_dump_json(), json.dumps(dep.to_api()))
    assert dep.chainlets[0].name == "Entry Api-Key <redacted>"
    assert dep.model_extra == {
        "debug": {"request_headers": {"Authorization": "Api-Key <redacted>"}}
    }
    assert warnings == [ECHO_WARNING]


def test_a_200_that_echoes_the_key_through_json_escapes_is_redacted() -> None:
    raw = json.dumps(make_deployment(CHAIN, DEP))
    raw = raw[:-1] + ', "note": "' + _escaped(TEST_KEY) + '"}'
    with (
        scripted([(200, {}, raw.encode())]) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, on_warning=lambda m: None
        ) as client,
    ):
        dep = client.get_chain_deployment(CHAIN, DEP)

    assert dep.model_extra == {"note": "<redacted>"}


def test_an_echoed_key_is_reported_to_the_log_by_default(caplog: pytest.LogCaptureFixture) -> None:
    deployment = make_deployment(CHAIN, DEP)
    deployment["chainlets"][1]["name"] = "{auth}"
    with (
        hostile(default=respond(200, deployment)) as server,
        BasetenClient(api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY) as client,
    ):
        client.get_chain_deployment(CHAIN, DEP)

    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        ECHO_WARNING
    ]
    assert_no_fragment(caplog.text)


def test_a_200_without_the_key_is_not_reported(client: BasetenClient) -> None:
    warnings: list[str] = []
    client._on_warning = warnings.append

    client.get_chain_deployment(CHAIN, DEP)

    assert warnings == []


def test_a_key_in_the_reason_phrase_or_content_type_is_redacted() -> None:
    def answer(exchange: Exchange) -> None:
        auth = exchange.authorization
        exchange.send(
            f"HTTP/1.1 200 {auth}\r\nContent-Type: text/x-{auth.split()[-1]}\r\n"
            "Content-Length: 2\r\n\r\n{}".encode()
        )

    with (
        hostile(default=answer) as server,
        BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, on_warning=lambda m: None
        ) as client,
    ):
        exc = raises(ResponseFormatError, client.get_chain_deployment, CHAIN, DEP)
        reason = respond(418, "teapot", reason="I echo {auth}")
        server.default = reason
        rejected = raises(RequestRejectedError, client.get_chain_deployment, CHAIN, DEP)

    assert_no_fragment(str(exc), str(rejected))
    assert "Content-Type" in str(exc) and "I echo Api-Key <redacted>" in str(rejected)


# -- inputs that used to end in a traceback -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.baseten.co/v1", "https://api.baseten.co"),
        ("https://api.baseten.co/v1/", "https://api.baseten.co"),
        ("https://gateway.example.com/baseten/v1", "https://gateway.example.com/baseten"),
        ("http://127.0.0.1:8900/v1", "http://127.0.0.1:8900"),
    ],
)
def test_a_base_url_copied_with_v1_from_the_docs_means_the_root(url: str, expected: str) -> None:
    with BasetenClient(api_key=TEST_KEY, base_url=url) as client:
        assert client.base_url == expected


def test_the_v1_suffix_is_not_sent_twice(emulator: Emulator) -> None:
    with BasetenClient(api_key=TEST_KEY, base_url=emulator.url + "/v1") as client:
        client.get_chain_deployment(CHAIN, DEP)

    assert [r.path for r in emulator.requests] == [DEP_PATH]


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "https://[not-an-ip]/",
        "https://" + "a" * 64 + ".example.com",
        "https://api.example.com/\udcff",
        "https://api.example.com?",
    ],
)
def test_a_malformed_base_url_is_refused_naming_base_url(url: str) -> None:
    exc = raises(InvalidInputError, BasetenClient, api_key=TEST_KEY, base_url=url)

    assert exc.field == "base_url"


@pytest.mark.parametrize("key", ["sk-€uro-key", "sk-\udcff", "clé-secrète"])
def test_a_key_that_cannot_go_in_a_header_is_refused_without_echoing_it(key: str) -> None:
    exc = raises(InvalidInputError, BasetenClient, api_key=key, base_url="http://127.0.0.1:1")

    assert exc.field == "api_key"
    assert key not in str(exc) and "€" not in str(exc)


@pytest.mark.parametrize("bad", ["\udcff", "dp\udc80x", "a\ud800"])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_an_id_that_cannot_be_encoded_is_refused_before_any_request(
    client: BasetenClient, emulator: Emulator, call: str, bad: str
) -> None:
    exc = raises(InvalidInputError, CALLS[call], client, bad)

    assert exc.field == call.split("/")[1]
    assert emulator.requests == []
    str(exc).encode("utf-8")  # printable: the message does not carry the surrogate


@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), float("inf"), float("nan"), 1e300],
    ids=["10**400", "-10**400", "inf", "nan", "1e300"],
)
def test_a_huge_or_non_finite_timeout_is_refused_naming_the_field(value: float) -> None:
    exc = raises(
        InvalidInputError,
        BasetenClient,
        api_key=TEST_KEY,
        base_url="http://127.0.0.1:1",
        timeout=(1.0, value),
    )

    assert exc.field == "timeout"


def test_a_key_echoed_in_a_header_line_that_does_not_parse_stays_out_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # urllib3 logs header lines it could not parse, raw: a colon-less line with the key.
    def answer(exchange: Exchange) -> None:
        exchange.send(
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n" + exchange.authorization.encode() + b"\r\n\r\n{}"
        )

    caplog.set_level(logging.DEBUG)
    with (
        hostile(default=answer) as server,
        BasetenClient(api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY) as client,
    ):
        raises(RequestRejectedError, client.get_chain_deployment, CHAIN, DEP)

    assert any("parse headers" in r.getMessage() for r in caplog.records)
    assert_no_fragment(caplog.text, *(r.getMessage() for r in caplog.records))


# -- max_in_flight -----------------------------------------------------------------------------


def test_a_client_with_max_in_flight_never_has_more_requests_open(emulator: Emulator) -> None:
    emulator.latency = 0.2
    with BasetenClient(
        api_key=TEST_KEY, base_url=emulator.url, retry=FAST_RETRY, max_in_flight=2
    ) as bounded:
        threads = [
            threading.Thread(target=bounded.get_chain_deployment, args=(CHAIN, DEP))
            for _ in range(6)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        elapsed = time.monotonic() - started

    assert len(emulator.requests) == 6
    # Six requests two at a time at 0.2 s each take three rounds, not one.
    assert elapsed >= 0.55


def test_waiting_for_a_turn_ends_at_once_on_cancel_and_at_the_deadline() -> None:
    # A server that never answers holds the only turn for as long as the holder's deadline.
    with hostile(default=silent) as server:
        bounded = BasetenClient(
            api_key=TEST_KEY, base_url=server.url, retry=FAST_RETRY, max_in_flight=1
        )
        holder_cancel = threading.Event()

        def hold() -> None:
            with contextlib.suppress(BasetenError):
                bounded.get_chain_deployment(
                    CHAIN, DEP, deadline=Deadline.after(30, cancel=holder_cancel)
                )

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        assert wait_until(lambda: len(server.seen) == 1)
        cancel = threading.Event()
        threading.Timer(0.3, cancel.set).start()
        started = time.monotonic()
        with pytest.raises(CancelledError):
            bounded.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(30, cancel=cancel))
        assert time.monotonic() - started < 1.5

        with pytest.raises(TransportError) as info:
            bounded.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(0.3))
        assert info.value.out_of_time and "in flight" in str(info.value)
        assert len(server.seen) == 1  # neither waiting call sent anything
        holder_cancel.set()
        holder.join(timeout=5)
        bounded.close()
