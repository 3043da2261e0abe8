"""What the command line shows: escaped server text, the progress line, one-line failures."""

from __future__ import annotations

import json
import threading
import time
from io import StringIO

import pytest

from provider import cli
from provider.emulator import Emulator, deployment_path, make_chainlet, make_deployment
from provider.models import ChainDeployment
from provider.waiting import Progress
from tests.conftest import TEST_KEY

CHAIN = "ch7k2p9q"
HOSTILE = "Gen\x1b]0;pwned\x07\x1b[2J\nFAKE ROW ACTIVE"


def run(*argv: str, cancel: threading.Event | None = None) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = cli.main(list(argv), out=out, err=err, cancel=cancel)
    assert TEST_KEY not in out.getvalue() + err.getvalue()
    return code, out.getvalue(), err.getvalue()


def _serve_hostile(emulator: Emulator, status: str = "ACTIVE") -> None:
    body = make_deployment(
        CHAIN, "dphostl1", status=status, chainlets=[make_chainlet(HOSTILE, status=status)]
    )
    emulator.add_raw_answer(
        json.dumps(body).encode(), deployment_path(CHAIN, "dphostl1"), times=None
    )


def test_control_characters_from_the_server_are_escaped_in_the_table(api_env: Emulator) -> None:
    _serve_hostile(api_env)

    code, out, err = run("get", CHAIN, "dphostl1")

    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert "Gen\\x1b]0;pwned\\x07\\x1b[2J\\nFAKE ROW ACTIVE" in out
    assert not any(line.startswith("FAKE ROW") for line in out.splitlines())


def test_json_output_stays_exactly_what_the_server_sent(api_env: Emulator) -> None:
    _serve_hostile(api_env)

    code, out, _ = run("get", CHAIN, "dphostl1", "--json")

    assert code == 0
    assert json.loads(out)["chainlets"][0]["name"] == HOSTILE


def test_progress_and_failure_messages_escape_server_text(api_env: Emulator) -> None:
    _serve_hostile(api_env, status="BUILD_FAILED")

    code, _, err = run("get", CHAIN, "dphostl1", "--wait-for", "ACTIVE", "--timeout", "5")

    assert code == 4
    assert "\x1b" not in err and "\x07" not in err
    assert "\\x1b]0;pwned" in err
    assert all(not line.startswith("FAKE ROW") for line in err.splitlines())


def test_the_timeout_bounds_a_command_that_does_not_wait(api_env: Emulator) -> None:
    api_env.latency = 5.0
    started = time.monotonic()

    code, _, err = run("get", CHAIN, "dp3m8x1v", "--timeout", "0.5")

    assert time.monotonic() - started < 2.5
    assert code == 3, err
    assert "TransportError" in err


def test_a_cancel_stops_a_wait_at_once_with_exit_130(api_env: Emulator) -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()

    code, _, err = run(
        "get", CHAIN, "dpbuild1", "--wait-for", "ACTIVE", "--timeout", "60", cancel=cancel
    )

    assert time.monotonic() - started < 3.0
    assert code == 130, err
    assert "cancelled" in err


def test_an_unexpected_error_is_exit_5_in_one_line_without_a_traceback(
    api_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_deployment: ChainDeployment) -> str:
        raise RuntimeError("a bug in rendering")

    monkeypatch.setattr(cli, "render", broken)
    monkeypatch.delenv("BASETEN_DEBUG", raising=False)

    code, _, err = run("get", CHAIN, "dp3m8x1v")

    assert code == 5
    assert err.count("\n") == 1
    assert "internal error" in err and "RuntimeError: a bug in rendering" in err
    assert "Traceback" not in err


def test_baseten_debug_adds_the_traceback_to_an_internal_error(
    api_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README, exit codes: "`5` internal error (a bug, shown in one line; `BASETEN_DEBUG=1` adds
    # the traceback)".
    def broken(_deployment: ChainDeployment) -> str:
        raise RuntimeError("a bug in rendering")

    monkeypatch.setattr(cli, "render", broken)
    monkeypatch.setenv("BASETEN_DEBUG", "1")

    code, _, err = run("get", CHAIN, "dp3m8x1v")

    assert code == 5
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: a bug in rendering" in err


class _Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def _progress(status: str, elapsed: float, changed: bool) -> Progress:
    deployment = ChainDeployment.model_validate(make_deployment(CHAIN, "dproll01", status=status))
    return Progress(deployment, f"deployment dproll01 is {status}", elapsed, changed, 10.0)


def test_on_a_terminal_heartbeats_rewrite_one_status_line() -> None:
    err = _Terminal()
    line = cli.StatusLine(err)

    line.progress(_progress("BUILDING", 0, changed=True))
    line.progress(_progress("BUILDING", 30, changed=False))
    line.progress(_progress("BUILDING", 60, changed=False))
    line.progress(_progress("ACTIVE", 70, changed=True))
    line.end_line()

    text = err.getvalue()
    assert text.count("\r\x1b[K") == 2
    assert "still BUILDING after 1m00s; next check in 10s" in text
    # Status changes each keep a line of their own; the heartbeats share one.
    assert text.count("\n") == 3


def test_in_a_log_every_heartbeat_is_a_line_of_its_own() -> None:
    err = StringIO()
    line = cli.StatusLine(err)

    line.progress(_progress("BUILDING", 0, changed=True))
    line.progress(_progress("BUILDING", 30, changed=False))
    line.progress(_progress("BUILDING", 60, changed=False))

    lines = err.getvalue().splitlines()
    assert len(lines) == 3 and "\x1b" not in err.getvalue()
    assert lines[1].startswith("still BUILDING after 30s; next check in 10s")
