"""What the tests share, in one place: the keys (defined with the leak oracle,
:mod:`tests.leakscan`), the fast retry policy, the emulator fixtures (one per test, one per
module, and one with the emulator's own default key), a client and environment pointed at
the emulator, and the command-line runners that check every output for the keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest

from provider import cli, connection, ratelimit
from provider.backoff import Backoff
from provider.client import BasetenClient, RetryPolicy
from provider.emulator import Emulator
from tests.leakscan import TEST_KEY, WRONG_KEY, assert_no_key

__all__ = [
    "AUTOSCALING_FIELDS",
    "CHAINLET_FIELDS",
    "FAST_RETRY",
    "PROJECT_DIR",
    "TEST_KEY",
    "WRONG_KEY",
    "FakeClock",
    "cli_env",
    "run_cli",
    "run_cli_process",
    "run_make",
]

PROJECT_DIR = Path(__file__).resolve().parents[1]
SUBPROCESS_TIMEOUT = 30.0
MAKE_STAMP = ".venv/.installed"

# Retries in tests: same logic, millisecond waits, bounded in attempts and total time.
FAST_RETRY = RetryPolicy(
    max_attempts=4, max_elapsed=5.0, backoff=Backoff(initial=0.01, cap=0.05), max_retry_after=0.05
)


CHAINLET_FIELDS = frozenset(
    {"id", "name", "autoscaling_settings", "instance_type_name", "active_replica_count", "status"}
)
"""The fields of Baseten's ``ChainletV1``."""
AUTOSCALING_FIELDS = frozenset(
    {
        "min_replica",
        "max_replica",
        "autoscaling_window",
        "scale_down_delay",
        "concurrency_target",
        "target_utilization_percentage",
        "target_in_flight_tokens",
    }
)
"""The fields of Baseten's ``AutoscalingSettingsV1``."""


@dataclass
class FakeClock:
    """A clock the test moves by hand (``clock.now += 3``)."""

    now: float = 100.0

    def __call__(self) -> float:
        return self.now


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Each test starts with no rate-limit history: a 429 one test provoked (and the pause its
    ``Retry-After`` imposed on the process) must not hold back the next test's requests to a
    server on the same port."""
    ratelimit.reset()
    yield


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh emulator with the default fixtures, accepting :data:`TEST_KEY`."""
    with Emulator(api_key=TEST_KEY) as emu:
        yield emu


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[Emulator]:
    """One emulator accepting :data:`TEST_KEY` for the whole module, for tests that pair it
    with something costly to start (a provider host); each test resets what it changes."""
    with Emulator(api_key=TEST_KEY) as emu:
        yield emu


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A fresh ``Emulator()`` as it comes: default fixtures and its own default key, for the
    tests of the emulator itself."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emulator: Emulator) -> Iterator[BasetenClient]:
    with BasetenClient(
        api_key=TEST_KEY, base_url=emulator.url, retry=FAST_RETRY, timeout=(2.0, 2.0)
    ) as c:
        yield c


@pytest.fixture
def api_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """BASETEN_API_KEY / BASETEN_API_URL pointing at the emulator, shared clients reset."""
    monkeypatch.setenv("BASETEN_API_KEY", TEST_KEY)
    monkeypatch.setenv("BASETEN_API_URL", emulator.url)
    connection.close_shared_clients()
    yield emulator
    connection.close_shared_clients()


# -- the command line -------------------------------------------------------------------------


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``provider.cli.main(argv)`` in-process: (exit code, stdout, stderr); fails if either
    holds a key in any form."""
    out, err = StringIO(), StringIO()
    code = cli.main(list(argv), out=out, err=err)
    assert_no_key(out.getvalue(), err.getvalue())
    return code, out.getvalue(), err.getvalue()


def cli_env(emulator: Emulator, **extra: str) -> dict[str, str]:
    """This process's environment without ``BASETEN_*``, pointed at ``emulator`` with
    :data:`TEST_KEY`, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASETEN_")}
    env.update(BASETEN_API_KEY=TEST_KEY, BASETEN_API_URL=emulator.url, **extra)
    return env


def run_cli_process(
    *argv: str, env: dict[str, str], check_keys: bool = True
) -> subprocess.CompletedProcess[str]:
    """``python -m provider ARGV`` from the project directory, bounded in time; fails if
    stdout or stderr holds a key in any form (unless ``check_keys`` is False: the caller scans
    the output itself)."""
    proc = subprocess.run(
        [sys.executable, "-m", "provider", *argv],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    if check_keys:
        assert_no_key(proc.stdout, proc.stderr)
    return proc


# -- make -----------------------------------------------------------------------------------------


def run_make(
    *args: str,
    cwd: Path = PROJECT_DIR,
    env: dict[str, str] | None = None,
    timeout: float = SUBPROCESS_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in ``cwd``, bounded in time. A test never installs: where ``.venv`` is
    missing or out of date (pytest run without make, or a copy of the clone), the install step
    is left out (``-o .venv/.installed``) and this Python runs the recipe instead."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not on PATH")
    argv = [make, "--no-print-directory", *args]
    up_to_date = subprocess.run(
        [make, "-q", MAKE_STAMP], cwd=cwd, capture_output=True, timeout=10, check=False
    )
    if up_to_date.returncode != 0:
        argv += ["-o", MAKE_STAMP, f"PY={sys.executable}"]
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
