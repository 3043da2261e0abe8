"""The command line ``python -m provider get ...`` against the emulator, and what ``get`` and
``check`` share (invalid input, the key, API errors: each case runs both); the check's rules
are in ``test_cli_check.py``.

Most cases call :func:`provider.cli.main` in-process with ``out``/``err`` buffers (environment
from the ``api_env`` fixture); a few run ``python -m provider`` as a subprocess, as a user or a
pipeline would. Every case checks that the API key appears in neither stdout nor stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from provider._version import __version__
from provider.cli import BACKOFF_SCALE_ENV, retry_policy
from provider.client import RetryPolicy
from provider.emulator import Emulator, deployment_path, environment_path
from provider.models import ChainDeployment
from tests.conftest import CHAINLET_FIELDS, TEST_KEY, WRONG_KEY
from tests.conftest import cli_env as process_env
from tests.conftest import run_cli as run
from tests.conftest import run_cli_process as run_process
from tests.emulator_faults import Fault
from tests.leakscan import assert_no_key
from tests.readme import run_all, sh_block

CHAIN = "ch7k2p9q"
ACTIVE_ID = "dp3m8x1v"


def chainlet_row(out: str, name: str) -> list[str]:
    rows = [line.split() for line in out.splitlines() if line.startswith(name + " ")]
    assert len(rows) == 1, out
    return rows[0]


# -- success ----------------------------------------------------------------------------------


def test_get_by_id_prints_the_deployment_and_a_row_per_chainlet(api_env: Emulator) -> None:
    code, out, err = run("get", CHAIN, ACTIVE_ID)
    assert code == 0, err
    assert f"chain deployment {ACTIVE_ID} of chain {CHAIN}" in out
    assert "status       ACTIVE" in out
    assert "environment  production" in out
    assert "INSTANCE TYPE" in out and "REPLICAS" in out and "AUTOSCALING" in out
    generator = chainlet_row(out, "Generator")
    assert generator[:5] == ["Generator", "ACTIVE", "H100:1x20x80", "1", "1-4"]
    assert "concurrency 2" in " ".join(generator)
    assert chainlet_row(out, "Retriever")[:5] == ["Retriever", "ACTIVE", "L4:4x16", "1", "0-2"]
    assert chainlet_row(out, "Entrypoint")[2] == "1x4"
    assert "window 60s" in out and "scale-down 900s" in out
    assert [r.path for r in api_env.requests] == [deployment_path(CHAIN, ACTIVE_ID)]


def test_get_a_deploying_chain_shows_no_autoscaling_yet(api_env: Emulator) -> None:
    code, out, _ = run("get", CHAIN, "dpbuild1")
    assert code == 0
    assert "status       BUILDING" in out
    assert "environment  -" in out
    assert chainlet_row(out, "Generator")[:5] == ["Generator", "BUILDING", "H100:1x20x80", "0", "-"]
    assert out.count("not deployed yet") == 3


def test_get_json_prints_the_api_fields(api_env: Emulator) -> None:
    code, out, _ = run("get", CHAIN, ACTIVE_ID, "--json")
    assert code == 0
    body = json.loads(out)
    assert set(body) == {"id", "created_at", "chain_id", "environment", "chainlets", "status"}
    assert body["id"] == ACTIVE_ID and body["status"] == "ACTIVE"
    chainlet = body["chainlets"][2]
    assert set(chainlet) == CHAINLET_FIELDS
    assert chainlet["autoscaling_settings"] == {
        "min_replica": 1,
        "max_replica": 4,
        "autoscaling_window": 60,
        "scale_down_delay": 900,
        "concurrency_target": 2,
        "target_utilization_percentage": 70,
        "target_in_flight_tokens": None,
    }
    model = ChainDeployment.model_validate(body)
    assert model.instance_types["Generator"] == "H100:1x20x80"


def test_get_json_keeps_fields_baseten_added(api_env: Emulator) -> None:
    api_env.add_fault(Fault("extra_fields"), deployment_path(CHAIN, ACTIVE_ID))
    code, out, _ = run("get", CHAIN, ACTIVE_ID, "--json")
    assert code == 0
    body = json.loads(out)
    assert body["labels"] == {"team": "ml-platform"}
    assert body["is_development"] is False
    assert all(c["gpu_count"] == 0 for c in body["chainlets"])
    assert body["chainlets"][0]["autoscaling_settings"]["max_scale_down_rate"] == 2
    model = ChainDeployment.model_validate(body)
    assert model.model_extra is not None and model.model_extra["labels"] == body["labels"]


def test_get_by_environment_resolves_the_current_deployment(api_env: Emulator) -> None:
    code, out, _ = run("get", CHAIN, "--environment", "production")
    assert code == 0
    assert f"chain deployment {ACTIVE_ID} of chain {CHAIN}" in out
    api_env.set_environment(CHAIN, "production", "dp9w4n2r")
    code, out, _ = run("get", CHAIN, "-e", "production", "--json")
    assert code == 0
    assert json.loads(out)["id"] == "dp9w4n2r"
    assert [r.path for r in api_env.requests] == [environment_path(CHAIN, "production")] * 2


def test_get_marks_a_status_it_does_not_know(api_env: Emulator) -> None:
    api_env.add_fault(Fault("unknown_status"), deployment_path(CHAIN, ACTIVE_ID))
    code, out, _ = run("get", CHAIN, ACTIVE_ID)
    assert code == 0
    assert "QUANTUM_FLUX (status unknown to this tool)" in out


def test_api_url_option_overrides_the_environment(
    api_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASETEN_API_URL", "http://127.0.0.1:9")
    code, _, err = run("get", CHAIN, ACTIVE_ID, "--api-url", api_env.url)
    assert code == 0, err
    assert len(api_env.requests) == 1


def test_wait_for_active_on_an_active_deployment(api_env: Emulator) -> None:
    code, out, err = run("get", CHAIN, ACTIVE_ID, "--wait-for", "ACTIVE")
    assert code == 0
    assert "status       ACTIVE" in out
    assert f"deployment {ACTIVE_ID} is ACTIVE" in err  # progress goes to stderr
    assert len(api_env.requests) == 1


# -- exit 2: bad usage, nothing sent ------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["get", CHAIN, ACTIVE_ID, "--timeout", "soon"],
        ["frobnicate", CHAIN],
    ],
    ids=["no-args", "non-numeric-timeout", "unknown-command"],
)
def test_argparse_usage_errors_exit_2(
    api_env: Emulator, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert "usage:" in err and "error:" in err
    # argparse's text goes to the streams given to main(), not to the process's.
    assert capsys.readouterr() == ("", "")
    assert api_env.requests == []


def test_main_writes_help_to_the_given_stream(
    api_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run("get", "--help")
    assert code == 0
    assert "exit codes:" in out and "BASETEN_API_KEY" in out
    assert err == ""
    assert capsys.readouterr() == ("", "")
    code, out, _ = run("--version")
    # The program's name as it was run (`python -m provider`, the console script's, or the test
    # runner's here), then the version.
    assert code == 0 and out.endswith(f" {__version__}\n")


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["get", CHAIN, ACTIVE_ID, "--environment", "production"], "--environment"),
        (["get", CHAIN], "DEPLOYMENT_ID"),
        (["get", CHAIN, "a/b"], "DEPLOYMENT_ID"),
        (["get", "a/b", ACTIVE_ID], "CHAIN_ID"),
        (["get", CHAIN, ACTIVE_ID, "--wait-for", "READY_ISH"], "--wait-for"),
        (["get", CHAIN, ACTIVE_ID, "--wait-for", "ACTIVE", "--timeout", "-1"], "--timeout"),
        (["get", CHAIN, ACTIVE_ID, "--api-url", "http://example.com"], "--api-url"),
        (["check", CHAIN, ACTIVE_ID, "--environment", "production"], "--environment"),
        (["check", CHAIN, "a/b"], "DEPLOYMENT_ID"),
        (
            ["check", CHAIN, ACTIVE_ID, "--allowed-status", "READY_ISH"],
            "deployment-active.statuses",
        ),
        (["check", CHAIN, ACTIVE_ID, "--min-replica", "4", "--max-replica", "2"], "replica-bounds"),
        (["check", CHAIN, ACTIVE_ID, "--max-replica", "0"], "replica-bounds.maxReplica"),
        (
            ["check", CHAIN, ACTIVE_ID, "--require-autoscaling-field", "min_replicas"],
            "autoscaling-configured.requiredFields",
        ),
        (["check", CHAIN, ACTIVE_ID, "--level", "replica-bound=advisory"], "policy"),
        (["check", CHAIN, ACTIVE_ID, "--level", "replica-bounds=strict"], "enforcementLevel"),
        (["check", CHAIN, ACTIVE_ID, "--api-url", "http://example.com"], "--api-url"),
    ],
    ids=[
        "id-and-environment",
        "neither",
        "bad-deployment-id",
        "bad-chain-id",
        "unknown-wait-for-status",
        "negative-timeout",
        "plain-http-to-a-remote-host",
        "check-id-and-environment",
        "check-bad-deployment-id",
        "check-unknown-status",
        "check-floor-above-ceiling",
        "check-zero-ceiling",
        "check-unknown-autoscaling-field",
        "check-unknown-rule",
        "check-unknown-level",
        "check-plain-http-to-a-remote-host",
    ],
)
def test_invalid_input_exits_2_without_a_request(
    api_env: Emulator, argv: list[str], field: str
) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith("error: invalid ") and field in err
    assert api_env.requests == []


@pytest.mark.parametrize("command", ["get", "check"])
def test_missing_api_key_exits_2(
    api_env: Emulator, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.delenv("BASETEN_API_KEY")
    code, _, err = run(command, CHAIN, ACTIVE_ID)
    assert code == 2
    assert "BASETEN_API_KEY" in err
    assert api_env.requests == []


def test_a_key_with_a_newline_is_refused_without_echoing_it(
    api_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASETEN_API_KEY", TEST_KEY + "\n")
    code, _, err = run("get", CHAIN, ACTIVE_ID)
    assert code == 2
    assert "whitespace" in err
    assert api_env.requests == []


def test_credentials_in_the_api_url_are_refused_without_echoing_them(api_env: Emulator) -> None:
    url = f"http://user:{TEST_KEY}@127.0.0.1:{api_env.port}"
    code, _, err = run("get", CHAIN, ACTIVE_ID, "--api-url", url)
    assert code == 2
    assert "must not carry credentials" in err
    assert api_env.requests == []


# -- exit 3: the API failed -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["get", "check"])
def test_wrong_key_exits_3(
    api_env: Emulator, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("BASETEN_API_KEY", WRONG_KEY)
    code, out, err = run(command, CHAIN, ACTIVE_ID)
    assert code == 3
    assert out == ""
    assert "AuthenticationError" in err and "HTTP 401" in err
    assert "Invalid or missing API key" in err
    assert [r.authorized for r in api_env.requests] == [False]


@pytest.mark.parametrize(
    "argv", [["get", CHAIN, "dpnope99"], ["check", CHAIN, "dpnope99", "--json"]]
)
def test_not_found_exits_3(api_env: Emulator, argv: list[str]) -> None:
    code, out, err = run(*argv)
    assert code == 3
    assert out == ""
    assert "NotFoundError" in err and "HTTP 404" in err
    assert "'dpnope99'" in err and "Chain deployment not found" in err
    assert len(api_env.requests) == 1


@pytest.mark.parametrize("command", ["get", "check"])
def test_environment_without_a_deployment_exits_3(api_env: Emulator, command: str) -> None:
    api_env.set_environment(CHAIN, "empty", None)
    code, _, err = run(command, CHAIN, "--environment", "empty")
    assert code == 3
    assert "no current deployment" in err


def test_rate_limited_forever_exits_3_after_bounded_retries(api_env: Emulator) -> None:
    api_env.add_fault(Fault("rate_limit", times=None, retry_after=0))
    code, _, err = run("get", CHAIN, ACTIVE_ID)
    assert code == 3
    assert "RateLimitedError" in err and "HTTP 429" in err
    assert "gave up after 5 attempts" in err
    assert [r.status for r in api_env.requests] == [429] * 5


def test_a_non_retryable_server_error_exits_3_at_once(api_env: Emulator) -> None:
    api_env.add_fault(Fault("status", status=501, times=None))
    code, _, err = run("get", CHAIN, ACTIVE_ID)
    assert code == 3
    assert "ServerError" in err and "HTTP 501" in err and "after 1 attempt)" in err
    assert len(api_env.requests) == 1


def test_server_error_forever_exits_3_after_the_default_retries(
    api_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI uses the default retry policy: 5 attempts, backing off ~0.5+1+2+4 s in between,
    # here scaled down by the CLI's documented seam (same attempts, same deadline).
    monkeypatch.setenv(BACKOFF_SCALE_ENV, "0.01")
    api_env.add_fault(Fault("status", status=503, times=None))
    code, _, err = run("get", CHAIN, ACTIVE_ID)
    assert code == 3
    assert "ServerError" in err and "HTTP 503" in err and "Service unavailable" in err
    assert "after 5 attempts" in err
    assert [r.status for r in api_env.requests] == [503] * 5


def test_the_backoff_seam_shortens_only_the_waits_of_the_default_policy() -> None:
    default = RetryPolicy()
    scaled = retry_policy({BACKOFF_SCALE_ENV: "0.01"})
    assert retry_policy({}) == default
    assert (scaled.max_attempts, scaled.max_elapsed) == (default.max_attempts, default.max_elapsed)
    assert scaled.backoff.initial == pytest.approx(default.backoff.initial * 0.01)
    assert scaled.backoff.cap == pytest.approx(default.backoff.cap * 0.01)
    assert scaled.max_retry_after == pytest.approx(default.max_retry_after * 0.01)


@pytest.mark.parametrize("value", ["0", "-1", "2", "nan", "fast"])
def test_a_backoff_scale_that_would_not_shorten_the_waits_exits_2_naming_it(
    api_env: Emulator, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(BACKOFF_SCALE_ENV, value)
    code, _, err = run("get", CHAIN, ACTIVE_ID)
    assert code == 2
    assert f"invalid {BACKOFF_SCALE_ENV}" in err
    assert api_env.requests == []


def test_the_backoff_seam_reaches_the_command_line_process(emulator: Emulator) -> None:
    emulator.add_fault(Fault("status", status=503, times=None))
    proc = run_process(
        "get", CHAIN, ACTIVE_ID, env=process_env(emulator, **{BACKOFF_SCALE_ENV: "0.001"})
    )
    assert proc.returncode == 3, proc.stderr
    assert "after 5 attempts" in proc.stderr
    assert [r.status for r in emulator.requests] == [503] * 5


@pytest.mark.parametrize(
    ("argv", "named", "not_named"),
    [
        (["get", CHAIN, ACTIVE_ID, "--timeout", "-1"], "invalid --timeout:", "timeout_seconds"),
        (["get", CHAIN, "a/b"], "invalid DEPLOYMENT_ID:", "chain_deployment_id"),
        (["get", CHAIN], "one of DEPLOYMENT_ID or --environment", "chain_deployment_id"),
        (
            ["get", CHAIN, ACTIVE_ID, "-e", "production"],
            "give either DEPLOYMENT_ID or --environment",
            "chain_deployment_id",
        ),
        (["get", CHAIN, ACTIVE_ID, "--wait-for", "NOPE"], "invalid --wait-for:", "wait_for"),
        (["get", "a b", ACTIVE_ID], "invalid CHAIN_ID:", "chain_id"),
        (["get", CHAIN, ACTIVE_ID, "--api-url", "ftp://x"], "invalid --api-url:", "base_url"),
    ],
)
def test_an_invalid_input_is_named_as_the_command_line_spells_it(
    api_env: Emulator, argv: list[str], named: str, not_named: str
) -> None:
    code, _, err = run(*argv)
    assert code == 2
    assert named in err
    assert not_named not in err


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("malformed_json", ("JSON",)),
        ("html", ("expected a JSON body",)),
        ("empty_body", ("empty", "JSON")),
    ],
)
def test_a_response_that_is_not_the_documented_json_exits_3(
    api_env: Emulator, kind: str, expected: tuple[str, ...]
) -> None:
    api_env.add_fault(Fault(kind))
    code, out, err = run("get", CHAIN, ACTIVE_ID)
    assert code == 3
    assert out == ""
    assert "ResponseFormatError" in err
    assert any(text in err for text in expected), err
    assert len(api_env.requests) == 1


def test_a_response_with_the_wrong_shape_names_the_field(api_env: Emulator) -> None:
    api_env.add_fault(Fault("missing_field", field="chainlets.0.status"))
    code, _, err = run("get", CHAIN, ACTIVE_ID)
    assert code == 3
    assert "chainlets[0].status" in err


# -- exit 4: not ready -------------------------------------------------------------------------


def test_wait_for_active_on_a_failed_build_exits_4(api_env: Emulator) -> None:
    code, out, err = run("get", CHAIN, "dpfail01", "--wait-for", "ACTIVE")
    assert code == 4
    assert out == ""
    assert "will not become ACTIVE" in err and "chainlet Generator is BUILD_FAILED" in err
    assert len(api_env.requests) == 1


def test_wait_for_times_out_with_exit_4(api_env: Emulator) -> None:
    code, _, err = run("get", CHAIN, "dpbuild1", "--wait-for", "ACTIVE", "--timeout", "0.5")
    assert code == 4
    assert "timed out after 0.5s" in err and "deployment is BUILDING" in err
    assert 2 <= len(api_env.requests) <= 4


def test_wait_for_accepts_several_statuses(api_env: Emulator) -> None:
    code, out, _ = run(
        "get", CHAIN, "dpzero01", "--wait-for", "ACTIVE", "--wait-for", "SCALED_TO_ZERO"
    )
    assert code == 0
    assert "status       SCALED_TO_ZERO" in out


# -- as a user runs it ------------------------------------------------------------------------


def test_help_documents_exit_codes_and_environment(emulator: Emulator) -> None:
    for argv in (["--help"], ["get", "--help"]):
        proc = run_process(*argv, env=process_env(emulator))
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout
        assert "exit codes:" in text
        for code in ("0  success", "2  bad usage", "3  Baseten API error", "4  the deployment"):
            assert code in text
        assert "BASETEN_API_KEY" in text and "BASETEN_API_URL" in text
    assert "--wait-for" in text and "--environment" in text and "--json" in text
    assert emulator.requests == []


def test_process_get_prints_the_table(emulator: Emulator) -> None:
    proc = run_process("get", CHAIN, ACTIVE_ID, env=process_env(emulator))
    assert proc.returncode == 0, proc.stderr
    assert "status       ACTIVE" in proc.stdout
    assert chainlet_row(proc.stdout, "Generator")[2] == "H100:1x20x80"
    assert len(emulator.requests) == 1


def test_process_exit_codes(emulator: Emulator) -> None:
    assert run_process(env=process_env(emulator)).returncode == 2
    missing = process_env(emulator)
    del missing["BASETEN_API_KEY"]
    assert run_process("get", CHAIN, ACTIVE_ID, env=missing).returncode == 2
    assert emulator.requests == []
    not_found = run_process("get", CHAIN, "dpnope99", env=process_env(emulator))
    assert not_found.returncode == 3
    assert "HTTP 404" in not_found.stderr
    failed = run_process(
        "get", CHAIN, "dpfail01", "--wait-for", "ACTIVE", env=process_env(emulator)
    )
    assert failed.returncode == 4
    assert "BUILD_FAILED" in failed.stderr


def test_the_readmes_command_line_section_runs_as_shown(emulator: Emulator, tmp_path: Path) -> None:
    # README, "Command line": each command as written, from a user's folder, all at once.
    export, *commands = sh_block("python -m provider get CHAIN_ID DEPLOYMENT_ID")
    assert export.export and set(export.env) == {"BASETEN_API_KEY"}  # cli_env sets it
    assert len(commands) == 7 and all(c.startswith("python", "-m", "provider") for c in commands)
    ids = {"CHAIN_ID": CHAIN, "DEPLOYMENT_ID": ACTIVE_ID}
    by_id, by_environment, waiting, by_name, chain, environments, check = run_all(
        [c.resolve(sys.executable, ids) for c in commands],
        cwd=tmp_path,
        env=process_env(emulator),
        timeout=30,
    )
    for result in (by_id, by_environment, waiting, by_name, chain, environments, check):
        assert result.returncode == 0, (result.args, result.stderr)
        assert_no_key(result.stdout, result.stderr)
    assert chainlet_row(by_id.stdout, "Generator")[:3] == ["Generator", "ACTIVE", "H100:1x20x80"]
    assert json.loads(by_environment.stdout)["id"] == ACTIVE_ID
    assert "status       ACTIVE" in waiting.stdout
    assert f"deployment {ACTIVE_ID} is ACTIVE" in waiting.stderr
    assert f"chain deployment {ACTIVE_ID} of chain {CHAIN}" in by_name.stdout
    assert json.loads(chain.stdout)["name"] == "rag-pipeline"
    assert "production" in environments.stdout and ACTIVE_ID in environments.stdout
    assert check.stdout.rstrip().endswith("check passed")
    assert emulator.methods() == {"GET"}


@pytest.mark.parametrize(
    "argv",
    [
        ["get", CHAIN, TEST_KEY],
        ["get", TEST_KEY, ACTIVE_ID],
        ["get", CHAIN, "--environment", TEST_KEY],
        ["get", CHAIN, ACTIVE_ID, "--wait-for", TEST_KEY],
        ["check", CHAIN, ACTIVE_ID, "--config", TEST_KEY],
        ["check", CHAIN, ACTIVE_ID, "--level", f"{TEST_KEY}=advisory"],
    ],
    ids=["deployment-id", "chain-id", "environment", "wait-for", "config-path", "level"],
)
def test_a_key_pasted_into_an_argument_is_refused_without_echoing_it(
    api_env: Emulator, argv: list[str]
) -> None:
    code, _, err = run(*argv)  # run() fails the test if any 8 characters of the key show
    assert code == 2, err
    assert err.startswith("error: invalid ")
    assert api_env.requests == []  # the key is not sent in a URL either


def test_a_key_pasted_as_an_allowed_instance_type_is_not_echoed_in_the_report(
    api_env: Emulator,
) -> None:
    # Not an error: the check runs and reports the violation, whose text quotes the setting.
    code, out, _ = run("check", CHAIN, ACTIVE_ID, "--instance-type", TEST_KEY)
    assert code == 1, out  # run() fails the test if any 8 characters of the key show
    assert "expected one of <redacted>" in out


@pytest.mark.parametrize(
    "document",
    [
        {"allowed-instance-types": {"instanceTypes": TEST_KEY}},
        {"replica-bounds": {"minReplica": TEST_KEY}},
        {TEST_KEY: {}},
        {"allowed-instance-types": {TEST_KEY: 1}},
    ],
    ids=["list-value", "number-value", "rule-name", "setting-name"],
)
def test_a_key_pasted_into_the_config_file_is_not_echoed(
    api_env: Emulator, tmp_path: Path, document: dict[str, object]
) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps(document))
    code, _, err = run("check", CHAIN, ACTIVE_ID, "--config", str(config))
    assert code == 2, err
    assert "invalid" in err
    assert api_env.requests == []
