"""Shared fixtures: a running emulator on 127.0.0.1 and a client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from provider import connection
from provider.backoff import Backoff
from provider.client import BasetenClient, RetryPolicy
from provider.emulator import Emulator

# A recognisable key: tests search every output for it.
TEST_KEY = "sk-test-LEAKCHECK-7f3a9c2e"

# Retries in tests: same logic, millisecond waits, bounded in attempts and total time.
FAST_RETRY = RetryPolicy(
    max_attempts=4, max_elapsed=5.0, backoff=Backoff(initial=0.01, cap=0.05), max_retry_after=0.05
)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=TEST_KEY) as emu:
        yield emu


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
