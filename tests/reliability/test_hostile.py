"""The hostile-server matrix: a raw-socket server on 127.0.0.1 (:mod:`tests.hostile_server`)
that holds the protocol hostage or answers what no honest server would, run through the three
ways in:

* ``library``: :meth:`DeploymentQuery.resolve` on a :class:`BasetenClient`, as a program
  uses it (gated cases with a :data:`TIMEOUT` deadline; ungated ones bounded by the client's
  own budget, :data:`CLIENT_BUDGET`);
* ``cli``: ``python -m provider get CHAIN DEP --timeout 2 [--wait-for ACTIVE]`` as a process;
* ``provider``: the real ``python -m pulumi.dynamic`` host, ``Check`` then ``Create`` of a
  ``ChainDeployment`` with ``timeout_seconds`` = :data:`TIMEOUT`.

Every case asserts a time bound (the deadline plus :data:`SLACK`, whatever the server does),
that no run of 8 characters of the key appears anywhere the run left a trace (errors, outputs,
stdout, stderr, log records, the host's transcript), and the documented outcome: the error
class, or the command line's exit code (2 invalid input, 3 API error, 4 not ready).

The runs happen in one module fixture, concurrently: first the library and provider runs (at
most four calls per host, as a host serves them), then the command lines, a few at a time (on a
small machine, starting Python processes would starve the hosts). So the matrix costs about as
long as its slowest few cases; the tests then check each recorded run. Times go to the
scorecard.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from provider.client import BasetenClient, RetryPolicy
from provider.deadline import Deadline
from provider.emulator import deployment_path, make_deployment
from provider.errors import (
    EXIT_API,
    EXIT_NOT_READY,
    EXIT_OK,
    PRESENTATIONS,
    BasetenError,
    DeploymentTimeoutError,
    RateLimitedError,
    RequestRejectedError,
    ResponseFormatError,
    TransportError,
)
from provider.lookup import DeploymentQuery
from tests.conftest import TEST_KEY
from tests.hostile_server import (
    Behaviour,
    Exchange,
    HostileServer,
    chunk_trickle,
    continue_storm,
    header_trickle,
    key_fragments,
    respond,
    silent,
)
from tests.provider_host import PROJECT_DIR, ProviderHost, ProviderHostError
from tests.reliability import report

pytestmark = pytest.mark.family("hostile")

CHAIN = "ch7k2p9q"
TIMEOUT = 2.0
"""The caller's deadline: the gate's timeout, ``--timeout``, ``timeout_seconds``."""
CLIENT_BUDGET = 2.0
"""The library client's own budget (``RetryPolicy.max_elapsed``) for ungated calls."""
SLACK = 2.0
"""What the promise allows beyond the deadline: a call returns within deadline + 2 s."""
STARTUP = 5.0
"""Starting ``python -m provider`` and importing, up to its first request (a loaded CI box)."""
CLI_AT_ONCE = 4
HOSTS = 2
HOST_WORKERS = 4  # the dynamic provider host serves four calls at a time
NO_API_ENV: dict[str, str | None] = {"BASETEN_API_KEY": None, "BASETEN_API_URL": None}
ESC = "\x1b"
PATHS = ("library", "cli", "provider")


@dataclass(frozen=True)
class Case:
    """One hostile answer and its documented outcome: ``error`` (``None``: a deployment) and
    the command line's ``exit_code``. Each path asks for its own deployment id
    (:func:`deployment_id`), so the server can tell when each one's first request came."""

    name: str
    slug: str
    serve: Callable[[str], Behaviour]  # the behaviour, given the deployment id asked for
    gated: bool
    error: type[BasetenError] | None
    exit_code: int
    # Extra check on everything the command line printed (stdout + stderr).
    printed: Callable[[str], bool] | None = None
    # It answers 429 with Retry-After, which pauses every request of the process to the
    # endpoint (the rate limiter's promise): such cases run after the others (see runs()).
    throttles: bool = False


def _deployment(slug: str, **changes: Any) -> dict[str, Any]:
    body = make_deployment(CHAIN, slug)
    body.update(changes)
    return body


def _with_chainlet(slug: str, index: int, **changes: Any) -> dict[str, Any]:
    body = _deployment(slug)
    body["chainlets"][index].update(changes)
    return body


def _late_echo_page() -> str:
    # The key starts after about 150 characters of text, where a cut at 200 would keep 8-11.
    return (
        "<html><head><title>400 Bad Request</title></head><body><h1>Bad Request</h1><p>"
        + "The request could not be understood by the server. " * 2
        + "</p><pre>Authorization: {auth}</pre></body></html>"
    )


def _echo_in_a_broken_header(exchange: Exchange) -> None:
    # urllib3 logs header lines it cannot parse, as they came.
    exchange.send(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\n" + exchange.authorization.encode("latin-1") + b"\r\n\r\n{}"
    )


def _no_escape(text: str) -> bool:
    return ESC not in text and "\x07" not in text


def _no_forged_line(text: str) -> bool:
    return "\nFORGED" not in text and ESC not in text


def _always(behaviour: Behaviour) -> Callable[[str], Behaviour]:
    return lambda _deployment_id: behaviour


RATE_LIMITED = {"error": "Rate limit exceeded. Please try again later."}

CASES: list[Case] = [
    Case(
        "1xx storm, gated",
        "dpstorm1",
        _always(continue_storm(1.0)),
        True,
        DeploymentTimeoutError,
        4,
    ),
    Case("1xx storm", "dpstorm2", _always(continue_storm(1.0)), False, TransportError, 3),
    Case(
        "header trickle, gated",
        "dptrick1",
        _always(header_trickle(0.2)),
        True,
        DeploymentTimeoutError,
        4,
    ),
    Case("header trickle", "dptrick2", _always(header_trickle(0.2)), False, TransportError, 3),
    Case(
        "chunk trickle, gated",
        "dpchunk1",
        _always(chunk_trickle(0.2)),
        True,
        DeploymentTimeoutError,
        4,
    ),
    Case("chunk trickle", "dpchunk2", _always(chunk_trickle(0.2)), False, TransportError, 3),
    Case("silent server, gated", "dpsilen1", _always(silent), True, DeploymentTimeoutError, 4),
    Case("silent server", "dpsilen2", _always(silent), False, TransportError, 3),
    Case(
        "429 Retry-After 30, gated",
        "dpretry1",
        _always(respond(429, RATE_LIMITED, {"Retry-After": "30"})),
        True,
        DeploymentTimeoutError,
        4,
        throttles=True,
    ),
    Case(
        "429 Retry-After 30",
        "dpretry2",
        _always(respond(429, RATE_LIMITED, {"Retry-After": "30"})),
        False,
        RateLimitedError,
        3,
        throttles=True,
    ),
    Case(
        "429 Retry-After overflowing date",
        "dpretry3",
        _always(
            respond(429, RATE_LIMITED, {"Retry-After": "Mon, 01 Jan 99999999999 00:00:00 GMT"})
        ),
        False,
        RateLimitedError,
        3,
        throttles=True,
    ),
    Case(
        "key echoed late in a 400 HTML page",
        "dpecho01",
        _always(respond(400, _late_echo_page(), {"Content-Type": "text/html"})),
        False,
        RequestRejectedError,
        3,
    ),
    Case(
        "key echoed in a JSON error whose message is an object",
        "dpecho02",
        _always(
            respond(400, {"message": {"detail": "x" * 150, "header": "Authorization: {auth}"}})
        ),
        False,
        RequestRejectedError,
        3,
    ),
    Case(
        "key echoed in a header line that does not parse",
        "dpecho05",
        _always(_echo_in_a_broken_header),
        False,
        RequestRejectedError,
        3,
    ),
    Case(
        "key echoed in a 200 (extra field)",
        "dpecho03",
        lambda dp: respond(200, _deployment(dp, debug={"authorization": "{auth}"})),
        False,
        None,
        0,
    ),
    Case(
        "key echoed in a chainlet name",
        "dpecho04",
        lambda dp: respond(200, _with_chainlet(dp, 1, name="Retriever {auth}")),
        False,
        None,
        0,
    ),
    Case(
        "200 for another deployment",
        "dpwrong1",
        lambda dp: respond(200, _deployment(dp, id="other-dp")),
        False,
        ResponseFormatError,
        3,
    ),
    Case(
        "200 for another chain",
        "dpwrong2",
        lambda dp: respond(200, _deployment(dp, chain_id="evil")),
        False,
        ResponseFormatError,
        3,
    ),
    Case(
        "replica count '1_000'",
        "dptype01",
        lambda dp: respond(200, _with_chainlet(dp, 0, active_replica_count="1_000")),
        False,
        ResponseFormatError,
        3,
    ),
    Case(
        "replica count true",
        "dptype02",
        lambda dp: respond(200, _with_chainlet(dp, 0, active_replica_count=True)),
        False,
        ResponseFormatError,
        3,
    ),
    Case(
        "created_at without a time zone",
        "dptype03",
        lambda dp: respond(200, _deployment(dp, created_at="2026-11-20T09:30:00")),
        False,
        ResponseFormatError,
        3,
    ),
    Case(
        "created_at as a Unix number",
        "dptype04",
        lambda dp: respond(200, _deployment(dp, created_at=1795167000)),
        False,
        ResponseFormatError,
        3,
    ),
    Case(
        "escape sequences in chainlet names",
        "dpescap1",
        lambda dp: respond(200, _with_chainlet(dp, 0, name="\x1b]0;pwned\x07Entry\x1b[2J\x1b[H")),
        False,
        None,
        0,
        printed=_no_escape,
    ),
    Case(
        "newline in a status, gated",
        "dpescap2",
        lambda dp: respond(200, _deployment(dp, status="BUILDING\nFORGED: ACTIVE")),
        True,
        DeploymentTimeoutError,
        4,
        printed=_no_forged_line,
    ),
]
BY_NAME = {c.name: c for c in CASES}


@dataclass
class Run:
    """What one case did through one path."""

    seconds: float = 0.0
    bound: float = 0.0
    error: BaseException | None = None
    error_text: str = ""
    exit_code: int | None = None
    texts: dict[str, str] = field(default_factory=dict)  # every place to search for the key
    result: Any = None
    startup: float = 0.0  # a process's start, up to its first request


# -- the three paths ------------------------------------------------------------------------


class _ThreadRecords(logging.Handler):
    """Every log record, filed under the thread that made it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_thread: dict[int, list[str]] = {}
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.getMessage()} {record.exc_text or ''}"
        with self.lock_:
            self.by_thread.setdefault(record.thread or 0, []).append(text)


def deployment_id(case: Case, path: str) -> str:
    """The deployment a path asks for in ``case`` (``dpstorm1`` -> ``dpstorm1c`` for cli)."""
    return case.slug + path[0]


def _query(case: Case) -> DeploymentQuery:
    return DeploymentQuery.parse(
        {
            "chain_id": CHAIN,
            "chain_deployment_id": deployment_id(case, "library"),
            "wait_for": ["ACTIVE"] if case.gated else [],
            "timeout_seconds": TIMEOUT,
        }
    )


def _library(case: Case, url: str, records: _ThreadRecords) -> Run:
    run = Run(bound=(TIMEOUT if case.gated else CLIENT_BUDGET) + SLACK)
    said: list[str] = []
    policy = RetryPolicy() if case.gated else RetryPolicy(max_elapsed=CLIENT_BUDGET)
    started = time.monotonic()
    try:
        with BasetenClient(
            api_key=TEST_KEY, base_url=url, retry=policy, on_warning=said.append
        ) as client:
            query = _query(case)
            # Gated: the gate's deadline is the caller's. Ungated: no caller deadline beyond
            # the client's own budget (a long one from the query is given, and is not used).
            deadline = None if case.gated else Deadline.after(600.0)
            run.result = query.resolve(
                client, deadline, on_progress=lambda p: said.append(str(p)), on_warning=said.append
            )
    except BasetenError as exc:
        run.error = exc
        run.error_text = f"{exc}\n{exc!r}"
    run.seconds = time.monotonic() - started
    run.texts = {
        "error": run.error_text,
        "result": run.result.model_dump_json() if run.result is not None else "",
        "said": "\n".join(said),
        "log": "\n".join(records.by_thread.get(threading.get_ident(), [])),
    }
    return run


def _cli(case: Case, server: HostileServer, gate: threading.Semaphore) -> Run:
    url = server.url
    dp = deployment_id(case, "cli")
    argv = [sys.executable, "-m", "provider", "get", CHAIN, dp, "--timeout", f"{TIMEOUT:g}"]
    if case.gated:
        argv += ["--wait-for", "ACTIVE"]
    env = {**os.environ, "BASETEN_API_KEY": TEST_KEY, "BASETEN_API_URL": url}
    env.pop("BASETEN_DEBUG", None)
    run = Run(bound=TIMEOUT + SLACK)
    with gate:
        started = time.monotonic()
        done = subprocess.run(
            argv,
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        ended = time.monotonic()
    # The deadline starts once the command has parsed its arguments, a moment before its
    # first request: time the command from there. Starting Python and importing is bounded
    # separately (STARTUP), as it depends on the machine, not on the server.
    first = server.first_seen.get(deployment_path(CHAIN, dp), ended)
    run.seconds = ended - first
    run.startup = first - started
    run.exit_code = done.returncode
    run.texts = {
        "stdout": done.stdout.decode("utf-8", "replace"),
        "stderr": done.stderr.decode("utf-8", "replace"),
    }
    return run


def _provider(case: Case, host: ProviderHost, gate: threading.Semaphore) -> Run:
    props = {
        "chain_id": CHAIN,
        "chain_deployment_id": deployment_id(case, "provider"),
        "wait_for": ["ACTIVE"] if case.gated else [],
        "timeout_seconds": TIMEOUT,
    }
    run = Run(bound=TIMEOUT + SLACK)
    with gate:
        started = time.monotonic()
        try:
            checked = host.check({}, props)
            assert checked["failures"] == [], checked["failures"]
            run.result = host.create(checked["inputs"])
        except ProviderHostError as exc:
            run.error = exc
            run.error_text = exc.details
        run.seconds = time.monotonic() - started
    run.texts = {
        "error": run.error_text,
        "outputs": json.dumps(run.result, default=repr) if run.result is not None else "",
    }
    return run


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[tuple[str, str], Run]]:
    """Every case through every path, all started at once; then the hosts' transcripts."""
    records = _ThreadRecords()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    server = HostileServer(
        {
            deployment_path(CHAIN, deployment_id(c, p)): c.serve(deployment_id(c, p))
            for c in CASES
            for p in PATHS
        }
    )
    hosts = [ProviderHost(env=NO_API_ENV) for _ in range(HOSTS)]
    out: dict[tuple[str, str], Run] = {}
    try:
        server.start()
        with ThreadPoolExecutor(len(hosts)) as starting:
            list(starting.map(lambda h: h.start(), hosts))
        for h in hosts:
            h.configure_api(TEST_KEY, server.url)
        cli_gate = threading.Semaphore(CLI_AT_ONCE)
        host_gates = [threading.Semaphore(HOST_WORKERS) for _ in hosts]
        # Two phases: starting Python processes would starve the hosts of CPU on a small
        # machine, and a host's time is measured from its gRPC call.
        # A 429's Retry-After pauses the whole process's requests to the endpoint (this one's,
        # a host's): the throttling cases run last, so they hold back none of the others.
        with ThreadPoolExecutor(len(CASES) + HOSTS * HOST_WORKERS) as pool:
            for throttling in (False, True):
                futures = {}
                for i, case in enumerate(CASES):
                    if case.throttles is not throttling:
                        continue
                    futures[("library", case.name)] = pool.submit(
                        _library, case, server.url, records
                    )
                    h = i % len(hosts)
                    futures[("provider", case.name)] = pool.submit(
                        _provider, case, hosts[h], host_gates[h]
                    )
                for key, future in futures.items():
                    out[key] = future.result(timeout=120)
        with ThreadPoolExecutor(CLI_AT_ONCE) as pool:
            futures = {("cli", c.name): pool.submit(_cli, c, server, cli_gate) for c in CASES}
            for key, future in futures.items():
                out[key] = future.result(timeout=120)
    finally:
        for h in hosts:
            h.close()
        server.close()
        root.removeHandler(records)
        root.setLevel(previous_level)
    transcripts = "\n".join(h.transcript() for h in hosts)
    for (path, _), run in out.items():
        if path == "provider":
            run.texts["host transcript"] = transcripts
    report.record(
        "hostile",
        cases={
            f"{name} via {path}": {
                "seconds": round(run.seconds, 3),
                "bound": run.bound,
                "startup": round(run.startup, 3),
            }
            for (path, name), run in out.items()
        },
    )
    yield out


# -- the checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_a_hostile_server_gets_the_documented_outcome_on_time_and_no_key(
    runs: dict[tuple[str, str], Run], name: str, path: str
) -> None:
    case = BY_NAME[name]
    run = runs[(path, name)]

    assert run.seconds <= run.bound, f"{run.seconds:.2f}s > bound {run.bound:.2f}s"
    assert run.startup <= STARTUP, f"{run.startup:.2f}s to start the command"
    for place, text in run.texts.items():
        assert key_fragments(text, TEST_KEY) == set(), f"a key fragment in the {place}"
    if path == "cli":
        printed = run.texts["stdout"] + run.texts["stderr"]
        assert run.exit_code == case.exit_code, printed
        assert "Traceback" not in printed
        if case.printed is not None:
            assert case.printed(printed), printed
        return
    if case.error is None:
        assert run.error is None, run.error_text
        assert run.result is not None
        return
    if path == "library":
        assert isinstance(run.error, case.error), run.error_text
    else:
        assert isinstance(run.error, ProviderHostError), "expected an error from Create"
        title = PRESENTATIONS[case.error].title
        assert case.error.__name__ in run.error_text or title in run.error_text, run.error_text


@pytest.mark.family("hostile", check=True)
def test_the_matrix_covers_every_hostile_server_the_issue_lists() -> None:
    listed = {
        "1xx storm, gated",
        "header trickle, gated",
        "chunk trickle",
        "silent server",
        "429 Retry-After 30",
        "429 Retry-After overflowing date",
        "key echoed late in a 400 HTML page",
        "key echoed in a JSON error whose message is an object",
        "key echoed in a 200 (extra field)",
        "key echoed in a chainlet name",
        "200 for another deployment",
        "replica count '1_000'",
        "replica count true",
        "created_at without a time zone",
        "created_at as a Unix number",
        "escape sequences in chainlet names",
        "newline in a status, gated",
    }
    assert listed <= set(BY_NAME)
    assert {EXIT_OK, EXIT_API, EXIT_NOT_READY} == {c.exit_code for c in CASES}
