"""The command line against its environment, run as a process as a user or a pipeline would:
a pipe closed early, a stdout that is not UTF-8, a CA bundle variable naming nothing, and
server text too large or too strange for a terminal. None of them is an internal error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from provider.emulator import Emulator, deployment_path, make_chainlet, make_deployment
from tests.conftest import PROJECT_DIR, SUBPROCESS_TIMEOUT
from tests.conftest import cli_env as process_env
from tests.conftest import run_cli_process as run_process
from tests.leakscan import assert_no_key

CHAIN = "ch7k2p9q"


def serve(emulator: Emulator, deployment_id: str, chainlets: list[dict[str, object]]) -> None:
    body = make_deployment(CHAIN, deployment_id, chainlets=chainlets)
    emulator.add_raw_answer(
        json.dumps(body).encode(), deployment_path(CHAIN, deployment_id), times=None
    )


def test_a_pipe_closed_early_ends_quietly_with_141(emulator: Emulator) -> None:
    # `get ... | head -1`, made deterministic: the reader is gone before the first write.
    serve(emulator, "dpmany01", [make_chainlet(f"Chainlet{i:04d}") for i in range(50)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "provider", "get", CHAIN, "dpmany01"],
        cwd=PROJECT_DIR,
        env=process_env(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=SUBPROCESS_TIMEOUT)
    assert proc.returncode == 141, err
    assert err == ""  # no traceback, no "Exception ignored", no internal error


def test_a_stdout_that_is_not_utf8_gets_backslash_escapes(emulator: Emulator) -> None:
    serve(emulator, "dpascii1", [make_chainlet("Générateur✓")])
    proc = run_process(
        "get", CHAIN, "dpascii1", env=process_env(emulator, PYTHONIOENCODING="ascii")
    )
    assert proc.returncode == 0, proc.stderr
    assert "G\\xe9n\\xe9rateur\\u2713" in proc.stdout


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_variable_naming_a_missing_file_is_exit_2_naming_it(
    emulator: Emulator, variable: str
) -> None:
    missing = str(PROJECT_DIR / "no-such-dir" / "ca.pem")
    env = process_env(emulator, **{variable: missing})
    # A non-loopback https URL (the only kind that uses a CA bundle) that cannot resolve, and
    # a proxy on a closed loopback port: nothing may leave the machine even if a request did.
    env.update(BASETEN_API_URL="https://baseten.invalid", HTTPS_PROXY="http://127.0.0.1:9")
    env.pop("REQUESTS_CA_BUNDLE" if variable == "CURL_CA_BUNDLE" else "CURL_CA_BUNDLE", None)
    proc = run_process("get", CHAIN, "dp3m8x1v", env=env)
    assert proc.returncode == 2, proc.stderr
    assert variable in proc.stderr and missing in proc.stderr
    assert "no such file" in proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_megabyte_chainlet_name_does_not_widen_every_row(emulator: Emulator) -> None:
    # Before, every row was padded to the longest name: 3 rows of a 1 MB name printed 3 MB.
    huge = "N" * 1_000_000
    serve(emulator, "dphuge01", [make_chainlet(huge), make_chainlet("Small")])
    proc = run_process("get", CHAIN, "dphuge01", env=process_env(emulator))
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) < 4000
    rows = proc.stdout.splitlines()
    assert max(len(row) for row in rows) < 400
    assert "more characters cut]" in proc.stdout
    assert any(row.startswith("Small ") for row in rows)


def test_a_404_message_holding_a_lone_surrogate_is_exit_3_escaped(emulator: Emulator) -> None:
    body = b'{"message": "gone \\ud800 \\u200b\\u2028"}'
    emulator.add_raw_answer(body, deployment_path(CHAIN, "dpgone99"), status=404, times=None)
    proc = run_process("get", CHAIN, "dpgone99", env=process_env(emulator))
    assert proc.returncode == 3, proc.stderr
    assert "HTTP 404" in proc.stderr and "gone \\ud800 \\u200b\\u2028" in proc.stderr
    assert_no_key(proc.stdout, proc.stderr)
