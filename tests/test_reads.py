"""The catalog's reads in every front end, against the emulator: the Python functions (plain
and under Pulumi's test runtime), the native plugin's Invoke and resource (the real plugin
process), the dynamic resource (the real provider host), Terraform (the real binary) and the
command line (a process). Every read takes ``chain_id`` or ``chain_name``; a name matching no
chain, or two, is an error naming the chain names seen."""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from provider import InvalidInputError, NotFoundError, functions
from provider.emulator import Emulator, chain_path
from provider.reads import READS
from provider.testing import run_program
from tests import terraform_plan as example_plan
from tests.conftest import TEST_KEY
from tests.conftest import cli_env as process_env
from tests.conftest import run_cli_process as run_process
from tests.engine_steps import diff_again, up
from tests.plugin_engine import PluginProcess, RecordingEngine, is_secret, reveal, secret
from tests.provider_host import ProviderHost
from tests.readme import python_block
from tests.test_terraform import Workspace, require_terraform

CHAIN, NAME, DEPLOYMENT = "ch7k2p9q", "rag-pipeline", "dp3m8x1v"
NO_API_ENV: dict[str, str | None] = {"BASETEN_API_KEY": None, "BASETEN_API_URL": None}


def get(read: str, *args: Any, **kwargs: Any) -> Any:
    return getattr(functions, f"get_{read}")(*args, **kwargs)


# -- Python -----------------------------------------------------------------------------------


def test_every_read_has_its_functions_and_result_class() -> None:
    for read in READS:
        result = getattr(functions, read.result_name)
        assert result.__name__ == read.result_name
        function = getattr(functions, read.function_name)
        parameters = list(inspect.signature(function).parameters)
        assert parameters[: len(read.inputs)] == list(read.input_names)
        assert function.__doc__ == read.description
        assert callable(getattr(functions, f"{read.function_name}_output"))


def test_get_chain_by_id_and_by_name_give_the_same_chain(api_env: Emulator) -> None:
    by_id = get("chain", CHAIN)
    by_name = get("chain", chain_name=NAME)
    assert by_id == by_name
    assert (by_id.id, by_id.name, by_id.team_name) == (CHAIN, NAME, "ml-platform")
    assert by_id.deployments_count == 5
    # By name: the list already holds the chain, so one request each.
    assert [r.path for r in api_env.requests] == [chain_path(CHAIN), "/v1/chains"]


def test_get_chain_environments_lists_each_environment_and_what_it_serves(
    api_env: Emulator,
) -> None:
    result = get("chain_environments", chain_name=NAME)
    assert result.chain_id == CHAIN
    assert result.deployment_ids == {"production": DEPLOYMENT, "staging": "dp9w4n2r"}
    production = next(e for e in result.environments if e["name"] == "production")
    assert production["current_deployment"]["id"] == DEPLOYMENT
    assert [r.path for r in api_env.requests] == ["/v1/chains", f"{chain_path(CHAIN)}/environments"]


def test_get_chain_deployment_takes_the_chain_by_name(api_env: Emulator) -> None:
    result = get("chain_deployment", chain_name=NAME, environment="staging")
    assert (result.chain_id, result.chain_deployment_id) == (CHAIN, "dp9w4n2r")
    assert result == get("chain_deployment", CHAIN, environment="staging")


@pytest.mark.parametrize("read", [r.name for r in READS])
def test_a_name_matching_no_chain_names_the_chains_seen(api_env: Emulator, read: str) -> None:
    extra = {"environment": "production"} if read == "chain_deployment" else {}
    with pytest.raises(NotFoundError) as info:
        get(read, chain_name="rag-pipelin", **extra)
    message = str(info.value)
    assert "no chain is named 'rag-pipelin'" in message
    assert "'audio-transcriber', 'rag-pipeline'" in message
    assert [r.path for r in api_env.requests] == ["/v1/chains"]


@pytest.mark.parametrize("read", [r.name for r in READS])
def test_a_name_matching_two_chains_is_an_error_naming_their_ids(
    api_env: Emulator, read: str
) -> None:
    api_env.add_chain("chtwin01", NAME)
    extra = {"environment": "production"} if read == "chain_deployment" else {}
    with pytest.raises(NotFoundError, match=f"2 chains are named '{NAME}' .*{CHAIN}.*chtwin01"):
        get(read, chain_name=NAME, **extra)


@pytest.mark.parametrize("read", [r.name for r in READS])
def test_both_or_neither_chain_input_is_refused_before_any_request(
    api_env: Emulator, read: str
) -> None:
    extra = {"environment": "production"} if read == "chain_deployment" else {}
    with pytest.raises(InvalidInputError) as both:
        get(read, chain_id=CHAIN, chain_name=NAME, **extra)
    assert (both.value.field, both.value.reason) == (
        "chain_name",
        "give either chain_id or chain_name, not both",
    )
    with pytest.raises(InvalidInputError) as neither:
        get(read, **extra)
    assert neither.value.field == "chain_id"
    with pytest.raises(InvalidInputError, match="chain_name: must not be empty"):
        get(read, chain_name=" ", **extra)
    assert api_env.requests == []


def test_an_answer_for_another_chain_is_an_error_not_a_result(api_env: Emulator) -> None:
    body = {"environments": [{"name": "production", "chain_id": "otherchain"}]}
    api_env.add_raw_answer(json.dumps(body).encode(), f"{chain_path(CHAIN)}/environments")
    with pytest.raises(Exception, match="answered for chain 'otherchain'"):
        get("chain_environments", CHAIN)


def test_the_output_forms_run_every_read_in_a_program(api_env: Emulator) -> None:
    def program() -> None:
        pulumi.export("chain", functions.get_chain_output(chain_name=NAME).id)
        environments = functions.get_chain_environments_output(chain_id=CHAIN)
        pulumi.export("served", environments.deployment_ids)
        deployment = functions.get_chain_deployment_output(chain_name=NAME, environment="staging")
        pulumi.export("deployment", deployment.chain_deployment_id)

    result = run_program(program)
    assert result.outputs == {
        "chain": CHAIN,
        "served": {"production": DEPLOYMENT, "staging": "dp9w4n2r"},
        "deployment": "dp9w4n2r",
    }


# -- the native plugin and the dynamic provider --------------------------------------------------


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[Emulator]:
    with Emulator(api_key=TEST_KEY) as emu:
        yield emu


@pytest.fixture
def emu(module_emulator: Emulator) -> Iterator[Emulator]:
    module_emulator.clear_requests()
    yield module_emulator
    module_emulator.add_chain(CHAIN, NAME, team_name="ml-platform")  # undo a rename
    module_emulator.remove_chain("chtwin01")
    assert module_emulator.methods() <= {"GET"}


@pytest.fixture(scope="module")
def plugin(module_emulator: Emulator) -> Iterator[PluginProcess]:
    with RecordingEngine() as engine, PluginProcess(engine.address, env=NO_API_ENV) as p:
        p.handshake(engine.address)
        checked = p.check_config({"apiKey": secret(TEST_KEY), "apiUrl": module_emulator.url})
        p.configure(checked["inputs"])
        yield p


@pytest.fixture(scope="module")
def host(module_emulator: Emulator) -> Iterator[ProviderHost]:
    with ProviderHost(env=NO_API_ENV) as h:
        h.configure_api(TEST_KEY, module_emulator.url)
        yield h


def test_the_plugin_serves_every_read_by_name(emu: Emulator, plugin: PluginProcess) -> None:
    chain = plugin.invoke({"chainName": NAME}, tok="baseten:index:getChain")
    assert chain["failures"] == [] and chain["return"]["id"] == CHAIN
    envs = plugin.invoke({"chainName": NAME}, tok="baseten:index:getChainEnvironments")
    assert envs["return"]["deploymentIds"] == {"production": DEPLOYMENT, "staging": "dp9w4n2r"}
    current = envs["return"]["environments"][0]["currentDeployment"]
    assert current["chainId"] == CHAIN and current["chainlets"][0]["instanceTypeName"]
    deployment = plugin.invoke({"chainName": NAME, "environment": "production"})
    assert deployment["return"]["chainDeploymentId"] == DEPLOYMENT
    bad = plugin.invoke({"chainId": CHAIN, "chainName": NAME}, tok="baseten:index:getChain")
    assert bad["failures"] == [("chainName", "give either chainId or chainName, not both")]


def test_a_secret_chain_name_keeps_what_it_resolves_to_secret(
    emu: Emulator, plugin: PluginProcess
) -> None:
    chain = plugin.invoke({"chainName": secret(NAME)}, tok="baseten:index:getChain")
    assert is_secret(chain["return"]["id"]) and reveal(chain["return"]["id"]) == CHAIN
    created = plugin.create({"chainName": secret(NAME), "environment": "production"})
    assert is_secret(created["properties"]["chainId"])
    assert not is_secret(created["properties"]["status"])


def test_the_plugin_names_the_chains_seen_for_an_unknown_name(
    emu: Emulator, plugin: PluginProcess
) -> None:
    with pytest.raises(Exception, match="chain names seen: 'audio-transcriber', 'rag-pipeline'"):
        plugin.invoke({"chainName": "nope"}, tok="baseten:index:getChain")


@pytest.mark.parametrize("front_end", ["plugin", "host"])
def test_a_resource_named_by_chain_name_keeps_the_chain_id_and_a_rename_is_no_change(
    emu: Emulator, request: pytest.FixtureRequest, front_end: str
) -> None:
    driver = request.getfixturevalue(front_end)
    news: dict[str, Any] = (
        {"chainName": NAME, "environment": "production"}
        if front_end == "plugin"
        else {"chain_name": NAME, "environment": "production"}
    )
    created = up(driver, news)
    assert created["id"] == f"{CHAIN}/{DEPLOYMENT}"
    chain_id = created["properties"]["chainId" if front_end == "plugin" else "chain_id"]
    assert chain_id == CHAIN
    emu.add_chain(CHAIN, "rag-v2", team_name="ml-platform")  # renamed on Baseten
    renamed = {**news, ("chainName" if front_end == "plugin" else "chain_name"): "rag-v2"}
    diff = diff_again(driver, created, renamed)
    assert diff["changes"] in ("DIFF_NONE", False), diff
    assert diff["replaces"] == []


# -- Terraform ---------------------------------------------------------------------------------

READS_TF = """
terraform {
  required_providers {
    baseten = { source = "local.invalid/pulumi-baseten-chains/baseten" }
  }
}
variable "baseten_api_key" {
  type      = string
  sensitive = true
}
provider "baseten" {
  api_key = var.baseten_api_key
}
data "baseten_chain" "by_name" {
  name = "rag-pipeline"
}
data "baseten_chain_environments" "by_name" {
  chain_name = "rag-pipeline"
}
data "baseten_chain_deployment" "by_name" {
  chain_name  = "rag-pipeline"
  environment = "staging"
}
output "served" {
  value = data.baseten_chain_environments.by_name.deployment_ids
}
"""


@pytest.fixture
def tf_workspace(tmp_path: Path, emulator: Emulator) -> Workspace:
    home = tmp_path / "home"
    home.mkdir()
    require_terraform(os.environ)
    example_plan.write_cli_config(home)
    work = tmp_path / "ws"
    work.mkdir()
    (work / "main.tf").write_text(READS_TF)
    return Workspace(work, home, emulator)


def test_terraform_reads_every_data_source_by_name(tf_workspace: Workspace) -> None:
    applied = tf_workspace.run("apply", "-auto-approve", "-input=false")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    chain = tf_workspace.data_source("baseten_chain", "by_name")
    assert (chain["id"], chain["name"]) == (CHAIN, NAME)
    envs = tf_workspace.data_source("baseten_chain_environments", "by_name")
    assert envs["chain_id"] == CHAIN and envs["chain_name"] == NAME
    assert envs["deployment_ids"] == {"production": DEPLOYMENT, "staging": "dp9w4n2r"}
    deployment = tf_workspace.data_source("baseten_chain_deployment", "by_name")
    assert (deployment["chain_id"], deployment["id"]) == (CHAIN, "dp9w4n2r")
    again = tf_workspace.plan()
    assert "No changes." in again.stdout, again.stdout + again.stderr
    assert tf_workspace.emulator.methods() == {"GET"}
    assert all(TEST_KEY not in text for text in tf_workspace.transcript)


def test_terraform_names_the_chains_seen_for_an_unknown_name(tf_workspace: Workspace) -> None:
    (tf_workspace.dir / "main.tf").write_text(READS_TF.replace('= "rag-pipeline"', '= "nope"', 1))
    plan = tf_workspace.plan()
    assert plan.returncode == 1
    text = " ".join((plan.stdout + plan.stderr).split())
    assert "Chain not found" in text
    assert "chain names seen: 'audio-transcriber', 'rag-pipeline'" in text


# -- the command line, as a process -----------------------------------------------------------


def test_the_command_line_has_a_subcommand_per_read_by_id_or_by_name(emulator: Emulator) -> None:
    env = process_env(emulator)
    chain = run_process("chain", "--chain-name", NAME, "--json", env=env)
    assert chain.returncode == 0, chain.stderr
    assert json.loads(chain.stdout)["id"] == CHAIN  # what the API sent
    envs = run_process("environments", CHAIN, env=env)
    assert envs.returncode == 0, envs.stderr
    assert "production" in envs.stdout and DEPLOYMENT in envs.stdout
    by_name = run_process("get", "--chain-name", NAME, DEPLOYMENT, env=env)
    assert by_name.returncode == 0, by_name.stderr
    assert f"chain deployment {DEPLOYMENT} of chain {CHAIN}" in by_name.stdout
    unknown = run_process("environments", "--chain-name", "nope", env=env)
    assert unknown.returncode == 3
    assert "chain names seen: 'audio-transcriber', 'rag-pipeline'" in unknown.stderr
    both = run_process("chain", CHAIN, "--chain-name", NAME, env=env)
    assert both.returncode == 2 and "not both" in both.stderr


def test_the_readmes_reads_example_runs_as_written(api_env: Emulator) -> None:
    block = python_block("get_chain_environments_output")
    scope: dict[str, Any] = {}

    def program() -> None:
        exec(block, scope)
        pulumi.export("served", scope["served"])

    result = run_program(program)
    assert result.outputs["served"] == {"production": DEPLOYMENT, "staging": "dp9w4n2r"}
    assert scope["chain"].id == CHAIN


@pytest.mark.parametrize("read", READS, ids=[r.name for r in READS])
def test_each_reads_example_runs_as_a_function_and_as_its_help_shows(
    api_env: Emulator, read: Any
) -> None:
    result = getattr(functions, read.function_name)(**read.example())
    assert set(result.outputs()) == set(read.output_names)
    help_text = run_process(read.command, "--help", env=process_env(api_env)).stdout
    command = help_text.split("example:\n", 1)[1].splitlines()[0].split()
    assert command[:3] == ["python", "-m", "provider"]
    ran = run_process(*command[3:], env=process_env(api_env))
    assert ran.returncode == 0, ran.stderr


@pytest.mark.parametrize("read", [r.name for r in READS])
def test_a_key_pasted_as_the_chain_id_is_refused_and_never_sent(
    api_env: Emulator, read: str
) -> None:
    extra = {"environment": "production"} if read == "chain_deployment" else {}
    with pytest.raises(InvalidInputError) as info:
        get(read, chain_id=TEST_KEY, **extra)
    assert info.value.field == "chain_id" and TEST_KEY not in str(info.value)
    assert api_env.requests == []
