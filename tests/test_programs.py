"""The root program and every example, run by provider.testing in preview and update mode;
the demo; and what the offline kit itself promises (Pulumi.yaml defaults, public API only)."""

from __future__ import annotations

import ast
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from provider.emulator import Emulator, Step, deployment_path
from provider.testing import UNKNOWN, ProgramError, project_config_defaults, run_program
from tests.conftest import TEST_KEY, run_make
from tests.leakscan import assert_no_key
from tests.readme import sh_block

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CHAIN = "ch7k2p9q"


def _project(path: Path) -> str:
    return str(yaml.safe_load((path / "Pulumi.yaml").read_text())["name"])


def _run(path: Path, emu: Emulator, preview: bool, **settings: str) -> Any:
    project = _project(path)
    config = {"baseten:apiKey": TEST_KEY, "baseten:apiUrl": emu.url}
    config.update({f"{project}:{k}": v for k, v in settings.items()})
    return run_program(
        path, config=config, secret_keys=["baseten:apiKey"], preview=preview, project=project
    )


def _assert_no_key(result: Any) -> None:
    text = json.dumps(result.outputs, default=repr) + repr(result.logs)
    text += repr([(r.inputs, r.outputs) for r in result.resources])
    assert_no_key(text)


def test_root_program_preview_sends_nothing_and_leaves_outputs_unknown(
    emulator: Emulator, tmp_path: Path
) -> None:
    result = _run(ROOT, emulator, True, chainId=CHAIN, endpointFile=str(tmp_path / "ep.json"))
    assert emulator.requests == []
    assert result.outputs["status"] is UNKNOWN
    assert not (tmp_path / "ep.json").exists()
    _assert_no_key(result)


def test_root_program_update_gates_then_writes_the_endpoint_file(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.set_timeline(
        CHAIN, "dp3m8x1v", [Step("DEPLOYING"), Step("ACTIVE", after_requests=1)]
    )
    endpoint = tmp_path / "ep.json"
    result = _run(ROOT, emulator, False, chainId=CHAIN, endpointFile=str(endpoint))
    assert result.outputs["status"] == "ACTIVE"
    assert result.outputs["ready"] is True
    assert result.outputs["instance_types"]["Generator"] == "H100:1x20x80"
    bounds = result.outputs["replica_bounds"]["Generator"]
    assert bounds == {"min": 1, "max": 4} and isinstance(bounds["min"], int)
    document = json.loads(endpoint.read_text())
    assert document["chain_deployment_id"] == "dp3m8x1v"
    assert result.outputs["invoke_url"].endswith("/environments/production/run_remote")
    # The gate saw DEPLOYING first, so the downstream resource was registered after it opened.
    assert [r.name for r in result.resources] == ["chain", "endpoint-config"]
    assert any("DEPLOYING" in message for _, message in result.logs)
    assert len(emulator.requests) == 2
    _assert_no_key(result)


def test_root_program_fails_fast_on_a_failed_build_and_writes_nothing(
    emulator: Emulator, tmp_path: Path
) -> None:
    endpoint = tmp_path / "ep.json"
    with pytest.raises(ProgramError) as failure:
        _run(
            ROOT, emulator, False, chainId=CHAIN, chainDeploymentId="dpfail01",
            endpointFile=str(endpoint),
        )
    assert "BUILD_FAILED" in str(failure.value)
    assert TEST_KEY not in str(failure.value) + repr(failure.value.logs)
    assert not endpoint.exists()
    assert len(emulator.requests) == 1


def test_gate_downstream_example_accepts_scaled_to_zero(
    emulator: Emulator, tmp_path: Path
) -> None:
    path = EXAMPLES / "gate-downstream"
    route = tmp_path / "route.json"
    preview = _run(path, emulator, True, chainId=CHAIN, chainDeploymentId="dpzero01",
                   routeFile=str(route))
    assert preview.outputs["status"] is UNKNOWN and emulator.requests == []
    result = _run(path, emulator, False, chainId=CHAIN, chainDeploymentId="dpzero01",
                  routeFile=str(route))
    assert result.outputs["status"] == "SCALED_TO_ZERO"
    assert result.outputs["invoke_url"].endswith("/deployment/dpzero01/run_remote")
    assert json.loads(route.read_text())["chain_id"] == CHAIN
    _assert_no_key(result)


def test_outputs_per_chainlet_example_exports_one_output_per_chainlet(
    emulator: Emulator,
) -> None:
    path = EXAMPLES / "outputs-per-chainlet"
    preview = _run(path, emulator, True, chainId=CHAIN)
    assert preview.outputs["chainlet_Generator"] is UNKNOWN
    result = _run(path, emulator, False, chainId=CHAIN, environment="staging")
    generator = result.outputs["chainlet_Generator"]
    assert generator["instance_type"] and isinstance(generator["min_replica"], int)
    assert {k for k in result.outputs if k.startswith("chainlet_")} == {
        "chainlet_Entrypoint", "chainlet_Retriever", "chainlet_Generator"
    }
    assert result.outputs["deployment"] == "dp9w4n2r"
    _assert_no_key(result)


def test_lookup_by_environment_example_reads_every_environment(emulator: Emulator) -> None:
    path = EXAMPLES / "lookup-by-environment"
    result = _run(path, emulator, False, chainId=CHAIN, environments="production,staging")
    assert result.outputs["production_deployment"] == "dp3m8x1v"
    assert result.outputs["staging_deployment"] == "dp9w4n2r"
    assert result.outputs["production_status"] == "ACTIVE"
    assert isinstance(result.outputs["drift"], dict)
    assert len(emulator.requests) == 2
    assert "drift" not in result.secret_outputs
    _assert_no_key(result)


def test_lookup_by_environment_example_preview_also_reads(emulator: Emulator) -> None:
    # Known inputs: the function form reads during preview too, as an invoke would.
    result = _run(EXAMPLES / "lookup-by-environment", emulator, True, chainId=CHAIN,
                  environments="production")
    assert result.outputs["production_status"] == "ACTIVE"
    assert {r.method for r in emulator.requests} == {"GET"}
    assert deployment_path(CHAIN, "dp3m8x1v") not in {r.path for r in emulator.requests}


def test_lookup_by_environment_looks_up_the_default_environments_of_its_pulumi_yaml(
    emulator: Emulator,
) -> None:
    # No `environments` given: Pulumi.yaml's default (production,staging) applies, under the
    # project name Pulumi.yaml declares, as `pulumi up` in that folder would do.
    path = EXAMPLES / "lookup-by-environment"
    result = run_program(
        path,
        config={
            "baseten:apiKey": TEST_KEY,
            "baseten:apiUrl": emulator.url,
            "chain-lookup-by-environment:chainId": CHAIN,
        },
    )
    assert result.outputs["production_deployment"] == "dp3m8x1v"
    assert result.outputs["staging_deployment"] == "dp9w4n2r"


def test_pulumi_yaml_config_defaults_become_full_keys_and_strings() -> None:
    declared = {
        "config": {
            "chainId": {"type": "string"},  # no default: left to the caller
            "timeoutSeconds": {"type": "integer", "default": 900},
            "waitForStatuses": {"default": "ACTIVE"},
            "legacy": {"value": True},
            "shorthand": "x",
            "baseten:apiUrl": {"default": "https://api.baseten.co"},
            "tags": {"default": ["a", "b"]},
        }
    }
    assert project_config_defaults(declared, "proj") == {
        "proj:timeoutSeconds": "900",
        "proj:waitForStatuses": "ACTIVE",
        "proj:legacy": "true",
        "proj:shorthand": "x",
        "baseten:apiUrl": "https://api.baseten.co",
        "proj:tags": '["a", "b"]',
    }


def test_given_config_wins_over_the_pulumi_yaml_default(emulator: Emulator) -> None:
    result = _run(
        EXAMPLES / "lookup-by-environment", emulator, False, chainId=CHAIN, environments="staging"
    )
    assert "production_status" not in result.outputs
    assert result.outputs["staging_status"] == "ACTIVE"


def test_preview_keeps_inputs_from_unknown_outputs_unknown(
    emulator: Emulator, tmp_path: Path
) -> None:
    result = _run(ROOT, emulator, True, chainId=CHAIN, endpointFile=str(tmp_path / "ep.json"))
    endpoint = result.resource("endpoint-config")
    assert endpoint.inputs["chain_id"] == CHAIN
    assert repr(endpoint.inputs["chain_deployment_id"]).startswith("<pulumi.output.Unknown")


def test_a_programs_apply_sees_integers_as_int_and_declared_nulls_as_none(
    emulator: Emulator,
) -> None:
    # The engine turns every number into a float (1.0) and drops nulls inside maps; a program
    # reading chainlets, by list, by name or through get(), sees the declared types.
    seen: dict[str, Any] = {}

    def program() -> None:
        import pulumi

        from provider.resource import ChainDeployment

        created = ChainDeployment("created", chain_id=CHAIN, chain_deployment_id="dp3m8x1v")
        read = ChainDeployment.get("read", f"{CHAIN}/dp3m8x1v")
        pulumi.export("list", created.chainlets.apply(lambda v: seen.setdefault("list", v)))
        pulumi.export(
            "by_name", created.chainlets_by_name.apply(lambda v: seen.setdefault("by_name", v))
        )
        pulumi.export("get", read.chainlets.apply(lambda v: seen.setdefault("get", v)))

    run_program(program, config={"baseten:apiKey": TEST_KEY, "baseten:apiUrl": emulator.url})
    chainlets = [*seen["list"], *seen["by_name"].values(), *seen["get"]]
    assert len(chainlets) == 9
    for chainlet in chainlets:
        assert type(chainlet["active_replica_count"]) is int
        settings = chainlet["autoscaling_settings"]
        for name in ("min_replica", "max_replica", "concurrency_target", "autoscaling_window"):
            assert type(settings[name]) is int, (name, settings[name])
        assert "target_in_flight_tokens" in settings and settings["target_in_flight_tokens"] is None


def test_make_demo_runs_the_root_program_and_prints_integers_as_integers() -> None:
    # The README's quick start, as written, run for real (`python -m provider.demo` under make).
    (demo,) = sh_block("make demo")
    assert demo.argv == ["make", "demo"]
    result = run_make(*demo.argv[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "requests sent to Baseten: 0" in out  # the preview
    assert "deployment dprollout is BUILDING" in out  # the gate logs each status change
    assert "deployment dprollout is ACTIVE" in out
    assert "gate opened after" in out
    assert "endpoint file written after the gate" in out
    assert '"active_replica_count": 1,' in out
    assert not any(
        token.endswith(".0") for token in out.replace(",", " ").replace("}", " ").split()
    )


def _pulumi_imports(tree: ast.AST) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pulumi":
            found += [(node.module or "", alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.split(".")[0] == "pulumi"]
    return found


def test_no_module_imports_a_private_pulumi_name() -> None:
    private = []
    for module in sorted((ROOT / "provider").rglob("*.py")):
        for path, name in _pulumi_imports(ast.parse(module.read_text())):
            if any(part.startswith("_") for part in [*path.split("."), name] if part):
                private.append(f"{module.relative_to(ROOT)}: {path} {name}".strip())
    assert private == []
    assert _pulumi_imports(ast.parse("from pulumi.runtime.sync_await import _sync_await")) == [
        ("pulumi.runtime.sync_await", "_sync_await")
    ]


def test_a_program_that_never_ends_is_a_program_error_at_the_timeout() -> None:
    release = threading.Event()
    started = time.monotonic()

    with pytest.raises(ProgramError, match=r"still running after 0\.3s"):
        run_program(lambda: release.wait(10), timeout=0.3)

    assert time.monotonic() - started < 2.0
    release.set()  # let the abandoned program thread end
