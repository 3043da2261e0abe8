"""The pipeline check, ``python -m provider check ...``, against the emulator.

Exit codes: 0 every enabled rule passed, 1 a mandatory rule is violated (listed on stdout), 2
bad usage or invalid input/config with no request sent, 3 API errors. Most cases call
:func:`provider.cli.main` in-process (environment from the ``api_env`` fixture); a few run
``python -m provider check`` as a CI job would. Every case checks that the API key appears in
neither stdout nor stderr. What ``check`` shares with ``get`` (invalid input, the key, not
found) is tested for both in ``test_cli.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from provider.emulator import (
    Emulator,
    deployment_path,
    environment_path,
    make_chainlet,
    make_deployment,
)
from tests.conftest import PROJECT_DIR, cli_env, run_cli, run_cli_process
from tests.emulator_faults import Fault
from tests.leakscan import assert_no_key
from tests.readme import run_all, sh_block

EXAMPLE_CONFIG = PROJECT_DIR / "examples" / "policy-pack" / "policy-config.example.json"
CHAIN = "ch7k2p9q"
ACTIVE_ID = "dp3m8x1v"


def run(*argv: str) -> tuple[int, str, str]:
    """``main(["check", *argv])`` in-process: (exit code, stdout, stderr), key checked absent."""
    return run_cli("check", *argv)


def run_json(*argv: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(*argv, "--json")
    return code, json.loads(out)


def rule_lines(out: str) -> dict[str, str]:
    """Rule name to its status line (``PASS  deployment-active  mandatory``) in the report."""
    lines = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in ("PASS", "FAIL", "WARN", "SKIP"):
            lines[parts[1]] = " ".join(parts)
    return lines


def violations(body: dict[str, Any]) -> list[tuple[str, str | None, Any, str]]:
    return [
        (v["rule"], v["chainlet"], v["found"], v["limit"])
        for rule in body["rules"]
        for v in rule["violations"]
    ]


# -- exit 0 -----------------------------------------------------------------------------------


def test_an_active_deployment_passes_the_default_rules(api_env: Emulator) -> None:
    code, out, err = run(CHAIN, ACTIVE_ID)
    assert code == 0, err
    assert out.startswith(f"chain deployment {ACTIVE_ID} of chain {CHAIN}\n")
    assert rule_lines(out) == {
        "deployment-active": "PASS deployment-active mandatory",
        "allowed-instance-types": "PASS allowed-instance-types mandatory",
        "replica-bounds": "PASS replica-bounds mandatory",
        "autoscaling-configured": "PASS autoscaling-configured mandatory",
        "no-scale-to-zero": "SKIP no-scale-to-zero disabled",
    }
    assert out.rstrip().endswith("check passed")
    assert err == ""
    assert [r.path for r in api_env.requests] == [deployment_path(CHAIN, ACTIVE_ID)]


def test_by_environment_checks_the_current_deployment(api_env: Emulator) -> None:
    code, body = run_json(CHAIN, "--environment", "staging", "--no-scale-to-zero-in", "production")
    assert code == 0
    assert (body["chain_deployment_id"], body["environment"]) == ("dp9w4n2r", "staging")
    assert body["passed"] is True
    assert [r.path for r in api_env.requests] == [environment_path(CHAIN, "staging")]


def test_advisory_violations_are_listed_but_pass(api_env: Emulator) -> None:
    code, out, _ = run(
        CHAIN, ACTIVE_ID, "--instance-type", "1x4", "--level", "allowed-instance-types=advisory"
    )
    assert code == 0
    assert rule_lines(out)["allowed-instance-types"] == (
        "WARN allowed-instance-types advisory 2 violations"
    )
    assert "chainlet Generator: instance_type_name is H100:1x20x80, expected one of 1x4" in out
    assert out.rstrip().endswith("check passed (2 advisory)")


# -- exit 1 -----------------------------------------------------------------------------------


def test_a_building_deployment_fails_deployment_active(api_env: Emulator) -> None:
    code, out, err = run(CHAIN, "dpbuild1")
    assert code == 1
    assert err == ""  # the violations are the result: stdout
    assert rule_lines(out)["deployment-active"] == "FAIL deployment-active mandatory 4 violations"
    assert "      deployment: status is BUILDING (in progress), expected one of ACTIVE" in out
    assert "chainlet Generator: status is BUILDING (in progress), expected one of ACTIVE" in out
    assert out.rstrip().endswith("check FAILED: 4 mandatory violation(s)")
    assert len(api_env.requests) == 1


def test_each_rule_setting_flag(api_env: Emulator) -> None:
    code, body = run_json(
        CHAIN,
        "-e",
        "production",
        "--allowed-status",
        "ACTIVE",
        "--instance-type",
        "1x4",
        "--instance-type",
        "L4:4x16",
        "--min-replica",
        "1",
        "--max-replica",
        "3",
        "--chainlet-min-replica",
        "Retriever=0",
        "--chainlet-max-replica",
        "Generator=2",
        "--require-autoscaling-field",
        "target_in_flight_tokens",
        "--no-scale-to-zero",
        "--level",
        "autoscaling-configured=advisory",
    )
    assert code == 1
    assert body["passed"] is False
    assert violations(body) == [
        ("allowed-instance-types", "Generator", "H100:1x20x80", "one of 1x4, L4:4x16"),
        ("replica-bounds", "Generator", 4, "at most 2 (override for Generator)"),
        *[
            (
                "autoscaling-configured",
                name,
                None,
                "an explicit value (required by policy)",
            )
            for name in ("Entrypoint", "Retriever", "Generator")
        ],
        ("no-scale-to-zero", "Retriever", 0, "at least 1 (no scale to zero in production)"),
    ]
    levels = {r["name"]: (r["enforcementLevel"], r["outcome"]) for r in body["rules"]}
    assert levels == {
        "deployment-active": ("mandatory", "pass"),
        "allowed-instance-types": ("mandatory", "fail"),
        "replica-bounds": ("mandatory", "fail"),
        "autoscaling-configured": ("advisory", "warn"),
        "no-scale-to-zero": ("mandatory", "fail"),
    }
    first = body["rules"][1]["violations"][0]
    assert first["field"] == "instance_type_name"
    assert first["message"] == (
        "chainlet Generator: instance_type_name is H100:1x20x80, expected one of 1x4, L4:4x16"
    )


def test_the_environment_looked_up_by_counts_when_the_deployment_names_none(
    api_env: Emulator,
) -> None:
    # dpzero01 carries "environment": null; the resource's output would say "canary".
    api_env.set_environment(CHAIN, "canary", "dpzero01")
    code, body = run_json(
        CHAIN,
        "-e",
        "canary",
        "--allowed-status",
        "SCALED_TO_ZERO",
        "--no-scale-to-zero-in",
        "canary",
    )
    assert code == 1
    assert body["environment"] == "canary"
    assert [v[:3] for v in violations(body)] == [
        ("no-scale-to-zero", name, 0) for name in ("Entrypoint", "Retriever", "Generator")
    ]


def test_an_unknown_status_fails_deployment_active(api_env: Emulator) -> None:
    api_env.add_fault(Fault("unknown_chainlet_status"), deployment_path(CHAIN, ACTIVE_ID))
    code, out, _ = run(CHAIN, ACTIVE_ID)
    assert code == 1
    assert "chainlet Entrypoint: status is QUANTUM_FLUX (undocumented status)" in out


def test_null_autoscaling_on_an_active_chainlet_fails(api_env: Emulator) -> None:
    chainlet = make_chainlet("Generator", instance_type_name="H100:1x20x80")
    chainlet["autoscaling_settings"] = None
    api_env.add_deployment(CHAIN, make_deployment(CHAIN, "dpnoauto", chainlets=[chainlet]))
    code, body = run_json(CHAIN, "dpnoauto")
    assert code == 1
    assert violations(body) == [
        ("autoscaling-configured", "Generator", None, "set on a ready chainlet")
    ]


def test_config_file_in_the_pack_shape_with_flags_on_top(api_env: Emulator, tmp_path: Path) -> None:
    # The pack's example config: production must not scale to zero (Retriever does).
    code, body = run_json(CHAIN, "-e", "production", "--config", str(EXAMPLE_CONFIG))
    assert code == 1
    assert violations(body) == [
        ("no-scale-to-zero", "Retriever", 0, "at least 1 (no scale to zero in production)")
    ]
    config = tmp_path / "policy.json"
    config.write_text(
        json.dumps(
            {
                "all": "mandatory",
                "replica-bounds": {"maxReplica": 2, "overrides": {"Generator": {"maxReplica": 4}}},
            }
        )
    )
    code, body = run_json(CHAIN, ACTIVE_ID, "--config", str(config))
    assert code == 1
    assert violations(body) == [
        ("replica-bounds", "Entrypoint", 3, "at most 2"),
        ("no-scale-to-zero", "Retriever", 0, "at least 1 (no scale to zero in production)"),
    ]
    # Flags merge into the file: a second override keeps the first; a level replaces "all".
    code, body = run_json(
        CHAIN,
        ACTIVE_ID,
        "--config",
        str(config),
        "--chainlet-max-replica",
        "Entrypoint=3",
        "--level",
        "no-scale-to-zero=disabled",
    )
    assert code == 0, body
    assert body["rules"][-1]["outcome"] == "skip"


def test_an_override_naming_no_chainlet_is_a_warning_in_both_outputs(
    api_env: Emulator,
) -> None:
    argv = [CHAIN, ACTIVE_ID, "--chainlet-max-replica", "Genrator=2"]
    warning = (
        "warning: replica-bounds: the override for chainlet 'Genrator' matches no chainlet of "
        "deployment dp3m8x1v (its chainlets: Entrypoint, Retriever, Generator); did you mean "
        "'Generator'?\n"
    )
    code, out, err = run(*argv)
    assert code == 0  # 1 stays reserved for violations
    assert err == warning
    assert out.rstrip().endswith("check passed")
    code, out, err = run(*argv, "--json")
    assert code == 0
    assert err == warning
    body = json.loads(out)
    assert body["warnings"] == [warning.removeprefix("warning: ").rstrip("\n")]
    bounds = next(r for r in body["rules"] if r["name"] == "replica-bounds")
    assert bounds["unmatchedOverrides"] == ["Genrator"]


def test_no_scale_to_zero_for_production_follows_the_environment_looked_up(
    api_env: Emulator,
) -> None:
    # The embedded deployment claims "staging": the environment asked for is what counts, so a
    # production rule cannot be bypassed by the deployment's own field.
    current = make_deployment(CHAIN, "dpclaim1", environment="staging")
    body = {"name": "production", "chain_id": CHAIN, "current_deployment": current}
    api_env.add_raw_answer(
        json.dumps(body).encode(), environment_path(CHAIN, "production"), times=None
    )
    code, report = run_json(CHAIN, "-e", "production", "--no-scale-to-zero-in", "production")
    assert code == 1
    assert (report["chain_deployment_id"], report["environment"]) == ("dpclaim1", "production")
    assert violations(report) == [
        ("no-scale-to-zero", "Retriever", 0, "at least 1 (no scale to zero in production)")
    ]


# -- exit 2: nothing sent ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([CHAIN, ACTIVE_ID, "--min-replica", "one"], "invalid int value"),
        ([CHAIN, ACTIVE_ID, "--chainlet-max-replica", "Generator"], "expected CHAINLET=N"),
        ([CHAIN, ACTIVE_ID, "--chainlet-max-replica", "Generator=x"], "expected an integer"),
        ([CHAIN, ACTIVE_ID, "--level", "replica-bounds"], "expected RULE=LEVEL"),
        ([CHAIN, ACTIVE_ID, "--frobnicate"], "unrecognized arguments"),
    ],
    ids=["min-replica", "override-form", "override-number", "level-form", "unknown-flag"],
)
def test_usage_errors_exit_2(api_env: Emulator, argv: list[str], message: str) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert "usage:" in err and message in err
    assert api_env.requests == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"replica-bounds": {"maxReplicas": 8}}', "replica-bounds.maxReplicas"),
        ('{"no-scale-to-zero": {"environments": "production"}}', "environments"),
    ],
    ids=["missing", "not-json", "not-an-object", "unknown-setting", "wrong-type"],
)
def test_a_bad_config_file_exits_2_without_a_request(
    api_env: Emulator, tmp_path: Path, content: str | None, message: str
) -> None:
    config = tmp_path / "policy.json"
    if content is not None:
        config.write_text(content)
    code, out, err = run(CHAIN, ACTIVE_ID, "--config", str(config))
    assert code == 2
    assert out == ""
    assert err.startswith("error: invalid ") and message in err
    assert api_env.requests == []


@pytest.mark.parametrize(
    ("content", "flags", "message"),
    [
        (None, [], "invalid config: '/dev/zero' is larger than 1048576 bytes"),
        ("[" * 100_000, [], "is nested deeper than 16 levels"),
        ('{"a": ' * 100_000, [], "is nested deeper than 16 levels"),
        (
            '{"no-scale-to-zero": "mandatory", "no-scale-to-zero": "disabled"}',
            [],
            "has the key 'no-scale-to-zero' twice in one object",
        ),
        (
            '{"replica-bounds": {"overrides": 0}}',
            [],
            "invalid replica-bounds.overrides: must be an object, got 0",
        ),
        # A flag merged over the file must not hide the file's bad entry.
        (
            '{"replica-bounds": {"overrides": "Generator"}}',
            ["--chainlet-max-replica", "Generator=4"],
            "invalid replica-bounds.overrides: must be an object, got 'Generator'",
        ),
    ],
    ids=[
        "dev-zero",
        "100k-deep-list",
        "100k-deep-object",
        "duplicate-keys",
        "overrides-not-an-object",
        "overrides-not-an-object-under-a-flag",
    ],
)
def test_an_odd_config_file_exits_2_in_one_line(
    api_env: Emulator, tmp_path: Path, content: str | None, flags: list[str], message: str
) -> None:
    config = "/dev/zero"
    if content is not None:
        config = str(tmp_path / "policy.json")
        Path(config).write_text(content)
    code, out, err = run(CHAIN, ACTIVE_ID, "--config", config, *flags)
    assert code == 2
    assert out == ""
    assert err.startswith("error: invalid ") and message in err
    assert err.count("\n") == 1
    assert api_env.requests == []


# -- exit 3: the API failed -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [(Fault("status", status=501, times=None), "ServerError"), (Fault("html"), "ResponseFormat")],
    ids=["server-error", "html-page"],
)
def test_server_and_format_errors_exit_3(api_env: Emulator, fault: Fault, error: str) -> None:
    api_env.add_fault(fault)
    code, out, err = run(CHAIN, ACTIVE_ID)
    assert code == 3
    assert out == ""
    assert error in err


# -- as a CI job runs it -------------------------------------------------------------------------


def run_process(*argv: str, emulator: Emulator) -> subprocess.CompletedProcess[str]:
    return run_cli_process("check", *argv, env=cli_env(emulator))


def test_help_documents_the_flags_rules_and_exit_codes(emulator: Emulator) -> None:
    proc = run_process("--help", emulator=emulator)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for flag in (
        "--config FILE",
        "--json",
        "--environment",
        "--allowed-status",
        "--instance-type",
        "--min-replica",
        "--max-replica",
        "--chainlet-min-replica",
        "--chainlet-max-replica",
        "--require-autoscaling-field",
        "--no-scale-to-zero",
        "--no-scale-to-zero-in",
        "--level",
    ):
        assert flag in text
    for rule in (
        "deployment-active",
        "allowed-instance-types",
        "replica-bounds",
        "autoscaling-configured",
        "no-scale-to-zero",
    ):
        assert rule in text
    for code in (
        "0  every enabled rule passed",
        "1  a mandatory rule",
        "2  bad usage",
        "3  Baseten",
    ):
        assert code in text
    assert "BASETEN_API_KEY" in text
    assert emulator.requests == []


def test_a_ci_job_gates_on_the_exit_code(emulator: Emulator) -> None:
    passed = run_process(CHAIN, "--environment", "production", emulator=emulator)
    assert passed.returncode == 0, passed.stderr
    assert "check passed" in passed.stdout
    failed = run_process(CHAIN, "dpfail01", "--json", emulator=emulator)
    assert failed.returncode == 1, failed.stderr
    body = json.loads(failed.stdout)
    assert body["passed"] is False
    assert ("deployment-active", "Generator", "BUILD_FAILED", "one of ACTIVE") in violations(body)
    usage = run_process(CHAIN, emulator=emulator)
    assert usage.returncode == 2
    assert "DEPLOYMENT_ID" in usage.stderr
    assert len(emulator.requests) == 2


def test_the_readmes_pipeline_commands_run_as_shown(emulator: Emulator) -> None:
    # README, "In a pipeline": each command as written, from the clone (the --config path is
    # relative to it), all at once.
    export, *commands = sh_block("python -m provider check ch7k2p9q dp3m8x1v")
    assert export.export and set(export.env) == {"BASETEN_API_KEY"}  # cli_env sets it
    assert len(commands) == 3 and all(c.startswith("python", "-m", "provider") for c in commands)
    defaults, flags, config = run_all(
        [c.resolve(sys.executable) for c in commands],
        cwd=PROJECT_DIR,
        env=cli_env(emulator),
        timeout=30,
    )
    for result in (defaults, flags, config):
        assert_no_key(result.stdout, result.stderr)
        assert result.stderr == "", (result.args, result.stderr)
    assert defaults.returncode == 0 and "check passed" in defaults.stdout
    assert flags.returncode == 1
    assert violations(json.loads(flags.stdout)) == [
        ("allowed-instance-types", "Generator", "H100:1x20x80", "one of 1x4, L4:4x16"),
        ("replica-bounds", "Retriever", 0, "at least 1"),
        ("no-scale-to-zero", "Retriever", 0, "at least 1 (no scale to zero in production)"),
    ]
    assert config.returncode == 1
    assert rule_lines(config.stdout)["replica-bounds"] == "PASS replica-bounds advisory"
    assert rule_lines(config.stdout)["no-scale-to-zero"] == (
        "FAIL no-scale-to-zero mandatory 1 violation"
    )
    assert emulator.methods() == {"GET"}
