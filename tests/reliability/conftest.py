"""Shared by the reliability matrices: the ``family`` marker the scorecard groups by, and the
proof that nothing ever mutates: every request any emulator of the process records during a
reliability test is tallied by method, each test fails if its share holds anything but GET, and
the session fails (and reports the totals) if the whole run does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provider.emulator import Emulator
from tests.reliability import report

FAMILIES = ("faults", "bad_inputs", "leaks", "mutations", "load", "properties", "hostile", "fuzz")
HERE = Path(__file__).resolve().parent

_methods: dict[str, int] = {}
_tests_counted = 0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "family(name): the scorecard family a reliability test counts in"
    )


def family_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("family")
    return str(marker.args[0]) if marker and marker.args else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE not in Path(str(item.path)).resolve().parents:
            continue
        family = family_of(item)
        if family not in FAMILIES:
            raise pytest.UsageError(
                f"{item.nodeid}: reliability tests need @pytest.mark.family(one of {FAMILIES}), "
                f"got {family!r}"
            )


@pytest.fixture(autouse=True)
def _only_get_was_sent() -> Iterator[None]:
    """This test's share of the process-wide method tally holds nothing but GET."""
    global _tests_counted  # noqa: PLW0603 - a session-wide tally, reported at the end
    before = Emulator.methods_seen_by_all()
    yield
    after = Emulator.methods_seen_by_all()
    delta = {m: n - before.get(m, 0) for m, n in after.items() if n != before.get(m, 0)}
    for method, count in delta.items():
        _methods[method] = _methods.get(method, 0) + count
    _tests_counted += 1
    mutating = {m: n for m, n in delta.items() if m != "GET"}
    assert not mutating, f"an emulator received mutating requests: {mutating}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    mutating = sum(n for m, n in _methods.items() if m != "GET")
    report.record(
        "mutations",
        methods=dict(_methods),
        requests=sum(_methods.values()),
        mutating=mutating,
        tests=_tests_counted,
        emulators=Emulator.emulators_started(),
    )
    report.dump()
    if mutating and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
