"""The fuzz suite's figures at the end of a run (``make fuzz``; the scorecard prints its own)."""

from __future__ import annotations

import pytest

from tests.reliability.fuzz.oracle import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    terminalreporter.section("fuzz: cases per front end, invariants held / checked")
    for front_end, entry in sorted(TALLY.items()):
        checks = ", ".join(
            f"{name} {held}/{total}" for name, (held, total) in entry["checks"].items() if total
        )
        terminalreporter.write_line(f"{front_end:<10} {entry['cases']:>5} cases: {checks}")
