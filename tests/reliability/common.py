"""Helpers shared by the reliability matrices."""

from __future__ import annotations

import gc
import socket
import time
import traceback
from dataclasses import dataclass

from provider.client import RetryPolicy
from provider.emulator import Emulator, deployment_path
from tests.provider_host import wait_until

CHAIN = "ch7k2p9q"
DEP = "dp3m8x1v"
DEP_PATH = deployment_path(CHAIN, DEP)
MISSING_CHAIN = "chnope99"
MISSING_DEP = "dpnope99"

# What the provider (and the CLI and the functions) use: the client's defaults.
DEFAULT_POLICY = RetryPolicy()
DEFAULT_TIMEOUT = (10.0, 30.0)


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def renderings(exc: BaseException) -> list[str]:
    """Every way an error is likely to be shown: str, repr, traceback, attributes."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    texts += [repr(v) for v in vars(exc).values()]
    return texts


def max_waits(policy: RetryPolicy, retries: int, *, advised: float | None = None) -> float:
    """The longest the retry loop may sleep over ``retries`` retries: backoff (jitter only
    shortens it) or the server's advice, each clipped to ``max_retry_after``."""
    total = 0.0
    for n in range(retries):
        wait = advised if advised is not None else policy.backoff.initial * policy.backoff.factor**n
        total += min(wait, policy.backoff.cap if advised is None else wait, policy.max_retry_after)
    return total


def time_bound(
    policy: RetryPolicy,
    timeout: tuple[float, float],
    attempts: int,
    *,
    advised: float | None = None,
    slack: float = 2.0,
) -> float:
    """What the client guarantees for ``attempts`` attempts on loopback (connects are
    immediate): each attempt ends within the read timeout, the waits are bounded as above and
    the whole call ends within ``max_elapsed`` plus one attempt. ``slack`` covers the
    process's own scheduling (and a provider host's gRPC round trip)."""
    by_attempts = attempts * timeout[1] + max_waits(policy, attempts - 1, advised=advised)
    return min(by_attempts, policy.max_elapsed + timeout[1]) + slack


@dataclass
class Stopwatch:
    started: float = 0.0
    seconds: float = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.started




def wait_for_log(emulator: Emulator, path: str, count: int, timeout: float = 5.0) -> None:
    """Let requests still being answered (a hang, a trickle) reach the log; bounded."""
    wait_until(lambda: len(emulator.requests_for(path)) >= count, timeout)


def collect_failed_run() -> None:
    """Collect what a failed :func:`provider.testing.run_program` left behind, now.

    A failed run leaves Output futures holding exceptions nobody retrieved; when the garbage
    collector finalizes them, asyncio logs each with its traceback, and formatting a traceback
    calls ``ast.parse``. Should that collection happen inside another ``ast.parse`` (pytest
    rewriting a module at import), CPython 3.11.7 reports "AST constructor recursion depth
    mismatch" (CPython gh-106905). Collecting right after the failed run keeps it harmless.
    """
    gc.collect()
