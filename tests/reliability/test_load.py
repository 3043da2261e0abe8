"""Load: 500 lookups through ``get_chain_deployment_output`` with 32 in flight against an
emulator answering after 5 ms. Zero errors, at most 32 requests ever in flight at the server,
and afterwards the open sockets and the threads are back to their starting counts.

What persists by design is accounted for explicitly: the lookup thread pool of
:mod:`provider.functions` (created on first use and kept; its threads are named
``baseten-lookup``) and the cached client of :mod:`provider.connection` (closed with
``close_shared_clients()``). The baseline is taken after one warm-up lookup; sockets and
threads are compared once the shared clients are closed (the emulator's handler threads end
when their connection does, so the comparison polls, bounded), and the pool's threads are
counted separately, then the pool is shut down and the thread count must equal the start.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from provider import connection, functions
from provider.emulator import Emulator, RecordedRequest
from provider.functions import get_chain_deployment_output
from provider.testing import ProgramError, run_program
from tests.provider_host import wait_until
from tests.reliability import report
from tests.reliability.common import CHAIN, DEP_PATH

pytestmark = pytest.mark.family("load")

LOOKUPS = 500
IN_FLIGHT = 32
LATENCY = 0.005
DEPLOYMENTS = ["dp3m8x1v", "dp9w4n2r", "dpbuild1", "dpfail01", "dpzero01"]
POOL_PREFIX = "baseten-lookup"
FD_DIR = Path("/proc/self/fd")


def open_sockets() -> int:
    count = 0
    for entry in os.listdir(FD_DIR):
        try:
            if os.readlink(FD_DIR / entry).startswith("socket:"):
                count += 1
        except OSError:  # closed between listdir and readlink (the listing's own fd)
            continue
    return count


def pool_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith(POOL_PREFIX))


def other_threads() -> int:
    return threading.active_count() - pool_threads()


def peak_in_flight(requests: list[RecordedRequest]) -> int:
    """Most requests the server was answering at once (from their start and finish times)."""
    events = sorted([(r.started, 1) for r in requests] + [(r.finished, -1) for r in requests])
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def _reset_pool() -> None:
    functions.shutdown_lookup_pool()


@pytest.fixture
def lookups_in_flight() -> Iterator[int]:
    """The function path with IN_FLIGHT lookups at once; the default is restored afterwards."""
    functions.set_max_in_flight(IN_FLIGHT)
    yield IN_FLIGHT
    functions.set_max_in_flight(functions.MAX_IN_FLIGHT)


def _lookups(n: int) -> Any:
    def program() -> None:
        outputs = [
            get_chain_deployment_output(CHAIN, DEPLOYMENTS[i % len(DEPLOYMENTS)]).status
            for i in range(n)
        ]
        pulumi.export("statuses", pulumi.Output.all(*outputs))

    return program


@pytest.mark.skipif(not FD_DIR.is_dir(), reason="needs /proc to count open sockets")
def test_500_lookups_with_32_in_flight_have_no_errors_and_leave_nothing_open(
    api_env: Emulator, lookups_in_flight: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A key whose limit is above this load: the test measures the in-flight bound and what is
    # left open, not the rate limiter (tests/test_ratelimit.py), which at the default 100/s
    # would pace 5 ms requests one at a time.
    monkeypatch.setenv("BASETEN_MAX_RPS", "100000")
    emulator = api_env
    emulator.latency = LATENCY
    connection.close_shared_clients()
    gc.collect()  # sockets of earlier tests' dropped sessions must not count as ours
    start_threads, start_sockets = threading.active_count(), open_sockets()

    warm = run_program(_lookups(1))
    assert warm.outputs["statuses"] == ["ACTIVE"]
    base_other, base_pool, base_sockets = other_threads(), pool_threads(), open_sockets()
    emulator.clear_requests()

    errors = 0
    statuses: list[str] = []
    try:
        statuses = run_program(_lookups(LOOKUPS)).outputs["statuses"]
    except ProgramError:
        errors = LOOKUPS
    requests = emulator.requests
    errors += sum(1 for r in requests if r.status != 200)
    errors += LOOKUPS - len(statuses)
    expected = [
        {"dpbuild1": "BUILDING", "dpfail01": "BUILD_FAILED", "dpzero01": "SCALED_TO_ZERO"}.get(
            DEPLOYMENTS[i % len(DEPLOYMENTS)], "ACTIVE"
        )
        for i in range(LOOKUPS)
    ]
    errors += sum(1 for got, want in zip(statuses, expected, strict=False) if got != want)
    peak = peak_in_flight(requests)
    pool_after = pool_threads()
    during = {"threads": threading.active_count(), "sockets": open_sockets()}

    connection.close_shared_clients()
    sockets_back = wait_until(lambda: open_sockets() == start_sockets, timeout=5.0)
    threads_back = wait_until(lambda: other_threads() == start_threads, timeout=5.0)
    end_sockets, end_other = open_sockets(), other_threads()
    _reset_pool()
    all_threads_back = wait_until(lambda: threading.active_count() == start_threads, 5.0)
    report.record(
        "load",
        lookups=LOOKUPS,
        in_flight=lookups_in_flight,
        latency_ms=LATENCY * 1000,
        errors=errors,
        requests=len(requests),
        peak_in_flight=peak,
        start={"threads": start_threads, "sockets": start_sockets},
        after_warm_up={"threads": base_other, "pool": base_pool, "sockets": base_sockets},
        during=during,
        pool_threads_after=pool_after,
        end={"threads": end_other, "sockets": end_sockets},
    )

    assert errors == 0
    assert len(requests) == LOOKUPS
    assert all(r.method == "GET" and r.status == 200 for r in requests)
    assert len(emulator.requests_for(DEP_PATH)) == LOOKUPS // len(DEPLOYMENTS)
    # In flight: all 32 workers were busy, and the server never saw more than 32 at once.
    assert base_pool == 1 and pool_after == lookups_in_flight
    assert 1 < peak <= lookups_in_flight
    # Back to the starting counts once the shared client is closed; the pool's threads are
    # the only ones left, then none once it is shut down.
    assert sockets_back, f"{end_sockets} sockets open, {start_sockets} at the start"
    assert threads_back, f"{end_other} threads besides the pool, {start_threads} at the start"
    assert all_threads_back
