"""``get_chain_deployments`` (the catalog's fourth read) in every front end, against the
emulator: newest first, optionally filtered by status, the chain by id or by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provider import NotFoundError, ResponseFormatError, get_chain_deployments
from provider.emulator import Emulator, chain_path, make_deployment
from tests.conftest import cli_env as process_env
from tests.conftest import run_cli_process as run_process
from tests.plugin_engine import PluginProcess
from tests.test_reads import NAME, module_emulator, plugin, tf_workspace  # noqa: F401 - fixtures
from tests.test_terraform import Workspace

CHAIN = "ch7k2p9q"
NEWEST_FIRST = ["dpbuild1", "dp9w4n2r", "dp3m8x1v", "dpfail01", "dpzero01"]


def test_deployments_come_newest_first_whatever_order_the_api_sends(api_env: Emulator) -> None:
    result = get_chain_deployments(CHAIN)
    assert result.deployment_ids == NEWEST_FIRST
    assert [d["id"] for d in result.deployments] == NEWEST_FIRST
    assert result.deployments[0]["chainlets"][0]["name"] == "Entrypoint"
    assert [r.path for r in api_env.requests] == [f"{chain_path(CHAIN)}/deployments"]


def test_a_status_keeps_only_the_deployments_that_have_it(api_env: Emulator) -> None:
    assert get_chain_deployments(chain_name=NAME, status="ACTIVE").deployment_ids == [
        "dp9w4n2r",
        "dp3m8x1v",
    ]
    assert get_chain_deployments(CHAIN, status="WARMING_UP").deployment_ids == []


def test_a_deployment_of_another_chain_in_the_list_is_an_error(api_env: Emulator) -> None:
    body = {"deployments": [make_deployment("otherchain", "dpother1")]}
    api_env.add_raw_answer(json.dumps(body).encode(), f"{chain_path(CHAIN)}/deployments")
    with pytest.raises(ResponseFormatError, match="answered for chain 'otherchain'"):
        get_chain_deployments(CHAIN)


def test_an_unknown_name_names_the_chains_seen(api_env: Emulator) -> None:
    with pytest.raises(NotFoundError, match="chain names seen: 'audio-transcriber'"):
        get_chain_deployments(chain_name="nope")


def test_the_plugin_serves_get_chain_deployments(plugin: PluginProcess) -> None:  # noqa: F811
    found = plugin.invoke(
        {"chainName": NAME, "status": "ACTIVE"}, tok="baseten:index:getChainDeployments"
    )
    assert found["failures"] == []
    assert found["return"]["deploymentIds"] == ["dp9w4n2r", "dp3m8x1v"]
    assert found["return"]["deployments"][0]["chainlets"][0]["instanceTypeName"]


def test_terraform_reads_baseten_chain_deployments(tf_workspace: Workspace) -> None:  # noqa: F811
    config = """
data "baseten_chain_deployments" "active" {
  chain_name = "rag-pipeline"
  status     = "ACTIVE"
}
"""
    main = tf_workspace.dir / "main.tf"
    main.write_text(main.read_text() + config)
    applied = tf_workspace.run("apply", "-auto-approve", "-input=false")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    data = tf_workspace.data_source("baseten_chain_deployments", "active")
    assert data["deployment_ids"] == ["dp9w4n2r", "dp3m8x1v"]
    assert data["deployments"][0]["chain_id"] == CHAIN


def test_the_command_line_lists_deployments(emulator: Emulator, tmp_path: Path) -> None:
    env = process_env(emulator)
    listed = run_process("deployments", "--chain-name", NAME, "--status", "ACTIVE", env=env)
    assert listed.returncode == 0, listed.stderr
    shown = listed.stdout
    assert "dpbuild1" not in shown and shown.index("dp9w4n2r") < shown.index("dp3m8x1v")
    as_sent = run_process("deployments", CHAIN, "--json", env=env)
    assert [d["id"] for d in json.loads(as_sent.stdout)["deployments"]] == NEWEST_FIRST
