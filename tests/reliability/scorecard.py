"""The reliability scorecard: run the matrices, print one line per family, fail on a shortfall.

    python -m tests.reliability.scorecard [extra pytest arguments]

Runs pytest on ``tests/reliability`` in this process with a small plugin that counts outcomes
per ``@pytest.mark.family``; leak places, load figures and the request-method tally come from
the tests themselves (:mod:`tests.reliability.report`, written to a temporary JSON file).
Tests marked ``family(..., check=True)`` check the instruments (the matrices list every case,
the network guard and the leak scanner work): they must pass but are not counted as cases.
The fuzz family (``tests/reliability/fuzz``) prints its cases per front end and how many
invariant checks held; a property it lists in ``KNOWN_FAILING`` (an xfail) is listed below
the figures, not counted as a shortfall.

Exit status: 0 only if pytest passed and every family meets its bar (below); 1 otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.report import REPORT_ENV

HERE = Path(__file__).resolve().parent

# The bars: the counts (22 faults through each of two paths, 18 bad inputs, ...).
MIN_FAULT_CASES = 2 * 22
MIN_BAD_INPUT_CASES = 18
# Each hostile server the issue lists, through the library, the command line and the provider.
MIN_HOSTILE_CASES = 3 * 17
# The fuzz suite: every front end, and each kind of answer through each (terraform: one).
FUZZ_FRONT_ENDS = ("library", "cli", "provider", "plugin", "terraform")
MIN_FUZZ_PROPERTIES = 4 * 3 + 1
LOAD_LOOKUPS = 500
LOAD_IN_FLIGHT = 32
LABEL_WIDTH = 40
MAX_LISTED = 20


@dataclass
class Tally:
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    checks_failed: list[str] = field(default_factory=list)
    # xfail: a property listed as failing on today's code (the fuzz suite's KNOWN_FAILING).
    known_failing: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + len(self.failed)


class FamilyCounter:
    """Outcome of every reliability test, grouped by family (a test fails if any phase did)."""

    def __init__(self) -> None:
        self.families: dict[str, tuple[str, bool]] = {}
        self.outcomes: dict[str, str] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:  # what runs, after -k/-m deselection
            marker = item.get_closest_marker("family")
            if marker is not None and marker.args:
                self.families[item.nodeid] = (str(marker.args[0]), bool(marker.kwargs.get("check")))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(report, "wasxfail"):
            self.outcomes[report.nodeid] = "xfailed" if report.skipped else "passed"
        elif report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped:
            self.outcomes.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            self.outcomes.setdefault(report.nodeid, "passed")

    def tallies(self) -> dict[str, Tally]:
        out: dict[str, Tally] = {}
        for nodeid, (family, is_check) in self.families.items():
            tally = out.setdefault(family, Tally())
            outcome = self.outcomes.get(nodeid, "not run")
            if is_check:
                if outcome != "passed":
                    tally.checks_failed.append(nodeid)
            elif outcome == "passed":
                tally.passed += 1
            elif outcome == "xfailed":
                tally.known_failing.append(nodeid)
            else:
                tally.failed.append(nodeid)
        return out


def _line(label: str, value: str, ok: bool) -> str:
    return f"{label:<{LABEL_WIDTH}}{value}" + ("" if ok else "   << SHORT")


def _cases_line(label: str, tally: Tally, minimum: int) -> tuple[str, bool]:
    ok = not tally.failed and not tally.checks_failed and tally.total >= minimum
    value = f"{tally.passed}/{tally.total}"
    if tally.checks_failed:
        value += f" ({len(tally.checks_failed)} instrument checks failed)"
    elif tally.total < minimum:
        value += f" (fewer than {minimum})"
    return _line(label, value, ok), ok


def scorecard(tallies: dict[str, Tally], results: dict[str, Any]) -> tuple[list[str], bool]:
    """The lines to print, and whether every family met its bar."""
    lines: list[str] = []
    verdicts: list[bool] = []

    def add(line_ok: tuple[str, bool]) -> None:
        lines.append(line_ok[0])
        verdicts.append(line_ok[1])

    add(_cases_line("faults handled", tallies.get("faults", Tally()), MIN_FAULT_CASES))
    add(
        _cases_line(
            "bad inputs rejected before any request",
            tallies.get("bad_inputs", Tally()),
            MIN_BAD_INPUT_CASES,
        )
    )

    leaks = results.get("leaks", {})
    leak_tally = tallies.get("leaks", Tally())
    hits, places = leaks.get("hits"), leaks.get("places", 0)
    leak_ok = hits == 0 and places > 0 and not leak_tally.failed and not leak_tally.checks_failed
    add(
        (
            _line("leak hits", f"{hits if hits is not None else '?'} in {places} places", leak_ok),
            leak_ok,
        )
    )

    mutations = results.get("mutations", {})
    mutation_tally = tallies.get("mutations", Tally())
    mutating, requests = mutations.get("mutating"), mutations.get("requests", 0)
    mutation_ok = (
        mutating == 0
        and requests > 0
        and not mutation_tally.failed
        and not mutation_tally.checks_failed
    )
    value = (
        f"{mutating if mutating is not None else '?'} (of {requests} requests in "
        f"{mutations.get('tests', 0)} tests, {mutations.get('emulators', 0)} emulators)"
    )
    add((_line("mutating calls", value, mutation_ok), mutation_ok))

    load = results.get("load", {})
    load_tally = tallies.get("load", Tally())
    errors = load.get("errors")
    load_ok = (
        errors == 0
        and load.get("lookups") == LOAD_LOOKUPS
        and load.get("in_flight") == LOAD_IN_FLIGHT
        and load_tally.passed >= 1
        and not load_tally.failed
    )
    value = (
        f"{errors if errors is not None else '?'} ({load.get('lookups', 0)} lookups, "
        f"{load.get('in_flight', 0)} in flight"
        + ("; sockets and threads back to start)" if load_ok else ")")
    )
    add((_line("load errors", value, load_ok), load_ok))

    add(_cases_line("properties held", tallies.get("properties", Tally()), 2))
    add(_hostile_line(tallies.get("hostile", Tally()), results.get("hostile", {})))
    fuzz_line, fuzz_ok = _fuzz_line(tallies.get("fuzz", Tally()), results.get("fuzz", {}))
    add((fuzz_line[0], fuzz_ok))
    lines += fuzz_line[1:]
    return lines, all(verdicts)


def _fuzz_line(tally: Tally, fuzz: dict[str, Any]) -> tuple[list[str], bool]:
    """``n/n properties (N cases; c/c invariant checks held; k known failing)``, then the
    cases per front end. Every front end must have run; a known-failing property (xfail) is
    listed, not counted as a shortfall."""
    front_ends: dict[str, dict[str, Any]] = fuzz.get("front_ends", {})
    cases = sum(int(e["cases"]) for e in front_ends.values())
    held = sum(h for e in front_ends.values() for h, _ in e["checks"].values())
    checked = sum(t for e in front_ends.values() for _, t in e["checks"].values())
    ok = (
        not tally.failed
        and not tally.checks_failed
        and set(front_ends) >= set(FUZZ_FRONT_ENDS)
        and tally.total + len(tally.known_failing) >= MIN_FUZZ_PROPERTIES
    )
    known = f"; {len(tally.known_failing)} known failing" if tally.known_failing else ""
    value = (
        f"{tally.passed}/{tally.total + len(tally.known_failing)} properties ({cases} cases; "
        f"{held}/{checked} invariant checks held{known})"
    )
    per_front_end = ", ".join(
        f"{name} {int(front_ends[name]['cases'])}" for name in FUZZ_FRONT_ENDS if name in front_ends
    )
    return [_line("fuzzed answers", value, ok), f"  cases per front end: {per_front_end}"], ok


def _hostile_line(tally: Tally, hostile: dict[str, Any]) -> tuple[str, bool]:
    """``n/n (worst: X.Xs under its bound, CASE)``: the run that came closest to (or went
    furthest past) its time bound."""
    line, ok = _cases_line("hostile servers", tally, MIN_HOSTILE_CASES)
    cases: dict[str, dict[str, float]] = hostile.get("cases", {})
    if not cases:
        return line, False
    name, worst = max(cases.items(), key=lambda kv: kv[1]["seconds"] - kv[1]["bound"])
    margin = worst["seconds"] - worst["bound"]
    side = "over" if margin > 0 else "under"
    detail = (
        f" (worst: {abs(margin):.1f}s {side} its bound, {worst['seconds']:.1f}s of "
        f"{worst['bound']:.1f}s: {name})"
    )
    label, _, rest = line.partition(f"{tally.passed}/{tally.total}")
    return f"{label}{tally.passed}/{tally.total}{detail}{rest}", ok and margin <= 0


def main(argv: Sequence[str] | None = None) -> int:
    extra = list(sys.argv[1:] if argv is None else argv)
    counter = FamilyCounter()
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        report_file = Path(tmp) / "report.json"
        previous = os.environ.get(REPORT_ENV)
        os.environ[REPORT_ENV] = str(report_file)
        try:
            code = pytest.main([str(HERE), "-p", "no:cacheprovider", *extra], plugins=[counter])
        finally:
            if previous is None:
                os.environ.pop(REPORT_ENV, None)
            else:
                os.environ[REPORT_ENV] = previous
        results = json.loads(report_file.read_text()) if report_file.exists() else {}
    lines, ok = scorecard(counter.tallies(), results)
    print("\nreliability scorecard")
    print("\n".join(lines))
    shortfalls = [
        f"  {family}: {counter.outcomes.get(nodeid, 'not run')}: {nodeid}"
        for family, tally in sorted(counter.tallies().items())
        for nodeid in tally.failed + tally.checks_failed + tally.known_failing
    ]
    for line in shortfalls[:MAX_LISTED]:
        print(line)
    if len(shortfalls) > MAX_LISTED:
        print(f"  ... and {len(shortfalls) - MAX_LISTED} more")
    if code != pytest.ExitCode.OK:
        print(f"pytest exited with {int(code)}")
    sys.stdout.flush()
    return 0 if ok and code == pytest.ExitCode.OK else 1


if __name__ == "__main__":
    raise SystemExit(main())
