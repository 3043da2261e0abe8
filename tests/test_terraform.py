"""The Terraform provider, driven by the real ``terraform`` binary against the emulator.

Each terraform test gets a fresh emulator on 127.0.0.1 (conftest's ``emulator``) and a copy of
``examples/terraform`` in its own directory; terraform finds the provider through a generated
CLI config with ``dev_overrides`` (no ``terraform init``, no registry, ``CHECKPOINT_DISABLE=1``),
and every run has a timeout. After each test, the key is searched for in everything terraform
printed and in every file it left behind.

The ``terraform init`` tests install the provider the other way, from a filesystem mirror in
the configuration folder (``python -m provider.terraform.mirror terraform.d/plugins``), with a
CLI config that has no ``provider_installation`` block and proxies that lead nowhere, so any
attempt to reach a registry fails the test instead of passing quietly.

Without ``terraform`` on PATH these tests fail, saying how to install it, unless
``BASETEN_SKIP_TERRAFORM=1`` is set (then they are skipped). The in-process tests at the end
(schema, validation with unknown values, CLI config, mirror layout) need no terraform.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from tf.checker import check_attributes
from tf.types import Unknown
from tf.utils import Diagnostics

import provider.terraform
from provider import __version__
from provider.emulator import Emulator, Step, chain_path, deployment_path, make_deployment
from provider.errors import DeploymentFailedError, SetupError
from provider.fields import type_of
from provider.models import AutoscalingSettings, Chain, ChainDeployment, Chainlet
from provider.outputs import CHAINLET as CHAINLET_FIELD
from provider.terraform import cliconfig, mirror
from provider.terraform import provider as tf_provider
from provider.terraform.data_sources import DATA_SOURCES, DATA_SOURCES_BY_NAME, add_diagnostic
from provider.terraform.schema_json import schema_json
from provider.terraform.tf_types import Object, tf_type
from tests import terraform_plan as example_plan
from tests.conftest import TEST_KEY, run_make
from tests.readme import sh_block

CHAIN = "ch7k2p9q"
TF_TIMEOUT = 60.0  # per terraform command; each takes about a second here
SKIP_VARIABLE = "BASETEN_SKIP_TERRAFORM"
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "terraform"
INIT_EXAMPLE = EXAMPLE / "init"
STANDIN = Path(__file__).resolve().parent / "terraform" / "standin_provider.py"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def require_terraform(env: Mapping[str, str]) -> str:
    """terraform's path; otherwise fail saying how to get it (skip only on explicit opt-out)."""
    found = shutil.which("terraform", path=env.get("PATH", ""))
    if found is not None:
        return found
    message = (
        f"{example_plan.INSTALL_HINT}. The Terraform tests need the real binary; to skip them "
        f"instead, set {SKIP_VARIABLE}=1."
    )
    if env.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"{SKIP_VARIABLE}=1: {message}")
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="module")
def tf_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """HOME for terraform and the provider (tf caches its TLS certificate there)."""
    require_terraform(os.environ)
    try:
        cliconfig.find_plugin_dir()
    except SetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    home = tmp_path_factory.mktemp("tf-home")
    example_plan.write_cli_config(home)
    return home


class Workspace:
    """A directory holding the example, and terraform runs in it against one emulator."""

    def __init__(self, directory: Path, home: Path, emulator: Emulator) -> None:
        self.dir = directory
        self.emulator = emulator
        self.vars: dict[str, str] = {"baseten_api_key": TEST_KEY}
        self.env: dict[str, str] = {"BASETEN_API_URL": emulator.url, "HOME": str(home)}
        self.cli_config = home / "terraformrc"
        self.transcript: list[str] = []

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        extra = {**self.env, **{f"TF_VAR_{k}": v for k, v in self.vars.items()}}
        env = example_plan.offline_env(self.cli_config, extra)
        if "BASETEN_API_KEY" not in self.env:
            # Only what the test chose: a developer's own key must not leak into the runs.
            env.pop("BASETEN_API_KEY", None)
        result = example_plan.run_terraform(
            [*args, "-no-color"], cwd=self.dir, env=env, timeout=TF_TIMEOUT
        )
        self.transcript.append(result.stdout + result.stderr)
        return result

    def plan(self) -> subprocess.CompletedProcess[str]:
        return self.run("plan", "-input=false")

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.dir / "terraform.tfstate").read_text())
        return state

    def data_source(self, type_: str, name: str) -> dict[str, Any]:
        for resource in self.state()["resources"]:
            if resource["mode"] == "data" and (resource["type"], resource["name"]) == (type_, name):
                attributes: dict[str, Any] = resource["instances"][0]["attributes"]
                return attributes
        raise KeyError(f"data.{type_}.{name} is not in the state")


@pytest.fixture
def ws(tf_home: Path, emulator: Emulator, tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace(example_plan.copy_example(EXAMPLE, tmp_path / "ws"), tf_home, emulator)
    yield workspace
    # The leak check, after every terraform test: nothing printed, nothing written.
    for text in workspace.transcript:
        assert TEST_KEY not in text, "the API key appeared in terraform's output"
    for path in workspace.dir.rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), f"the API key is in {path.name}"


def flat(result: subprocess.CompletedProcess[str]) -> str:
    """terraform's output with its line wrapping undone."""
    return " ".join((result.stdout + result.stderr).split())


def raw(emulator: Emulator, path: str) -> dict[str, Any]:
    """A body exactly as the emulator serves it (the fixture), not through our client."""
    response = requests.get(
        emulator.url + path, headers={"Authorization": f"Api-Key {TEST_KEY}"}, timeout=5
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


# -- terraform plan / apply ----------------------------------------------------------------


def test_plan_and_apply_an_active_deployment_match_the_fixture(
    ws: Workspace, emulator: Emulator
) -> None:
    (ws.dir / "chains.tf").write_text(
        'data "baseten_chain" "by_id" { id = var.chain_id }\n'
        'data "baseten_chain" "by_name" { name = "rag-pipeline" }\n'
    )
    fixture = raw(emulator, deployment_path(CHAIN, "dp3m8x1v"))
    instance_types = {c["name"]: c["instance_type_name"] for c in fixture["chainlets"]}
    assert instance_types == {
        "Entrypoint": "1x4",
        "Retriever": "L4:4x16",
        "Generator": "H100:1x20x80",
    }

    plan = ws.plan()
    assert plan.returncode == 0, plan.stderr
    text = flat(plan)
    assert "Read complete after" in text and "[id=dp3m8x1v]" in text
    assert "terraform_data.gate will be created" in text
    assert 'status = "ACTIVE"' in text
    for name, instance_type in instance_types.items():
        assert f'{name} = "{instance_type}"' in text

    applied = ws.run("apply", "-input=false", "-auto-approve")
    assert applied.returncode == 0, applied.stderr
    outputs = {k: v["value"] for k, v in ws.state()["outputs"].items()}
    assert outputs["chain_deployment_id"] == "dp3m8x1v"
    assert outputs["status"] == "ACTIVE"
    assert outputs["instance_types"] == instance_types
    assert outputs["gate"] == {"chain_id": CHAIN, "chain_deployment_id": "dp3m8x1v"}
    assert outputs["replicas"] == {
        c["name"]: {
            "active": c["active_replica_count"],
            "min": c["autoscaling_settings"]["min_replica"],
            "max": c["autoscaling_settings"]["max_replica"],
        }
        for c in fixture["chainlets"]
    }

    data = ws.data_source("baseten_chain_deployment", "this")
    # Every field, autoscaling nested; optional fields the API left out are null attributes.
    assert data["chainlets"] == [CHAINLET.encode(c) for c in fixture["chainlets"]]
    assert json.loads(data["raw_json"]) == fixture
    assert {k: data[k] for k in ("id", "chain_deployment_id", "environment", "status")} == {
        "id": "dp3m8x1v",
        "chain_deployment_id": "dp3m8x1v",  # filled in: it was read by environment
        "environment": "production",
        "status": "ACTIVE",
    }
    assert data["created_at"] == fixture["created_at"]
    assert data["ready"] is True
    assert data["timeout_seconds"] == 900
    assert data["wait_for"] is None
    chain = {**raw(emulator, chain_path(CHAIN)), "timeout_seconds": None}
    assert ws.data_source("baseten_chain", "by_id") == chain
    assert ws.data_source("baseten_chain", "by_name") == chain

    again = ws.plan()
    assert again.returncode == 0, again.stderr
    assert "No changes." in again.stdout
    assert emulator.methods() == {"GET"}


def test_a_building_deployment_fails_the_postcondition_at_plan_time(ws: Workspace) -> None:
    ws.vars["chain_deployment_id"] = "dpbuild1"
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: Resource postcondition failed" in text
    assert "Chain deployment dpbuild1 is BUILDING, not ACTIVE" in text
    assert not (ws.dir / "terraform.tfstate").exists()


def test_build_failed_with_wait_for_names_the_failed_chainlet(ws: Workspace) -> None:
    ws.vars.update(chain_deployment_id="dpfail01", wait_for='["ACTIVE"]')
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: Chain deployment dpfail01 will not become ready" in text
    assert "chainlet Generator is BUILD_FAILED" in text
    assert "Resource postcondition" not in text  # the read failed before the gate was judged


def test_a_timeout_is_a_diagnostic_naming_what_was_not_ready(ws: Workspace) -> None:
    ws.vars.update(chain_deployment_id="dpbuild1", wait_for='["ACTIVE"]', timeout_seconds="1")
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: Timed out waiting for chain deployment dpbuild1" in text
    assert "timed out after 1s" in text and "chainlet Generator is BUILDING" in text


def test_not_found_names_the_ids(ws: Workspace) -> None:
    # This run takes the key from BASETEN_API_KEY instead of the sensitive variable.
    ws.vars = {"chain_deployment_id": "dpnope404"}
    ws.env["BASETEN_API_KEY"] = TEST_KEY
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: Chain deployment not found" in text
    assert "chain deployment 'dpnope404' of chain 'ch7k2p9q' was not found" in text


def test_server_text_in_a_401_reaches_terraform_escaped(ws: Workspace, emulator: Emulator) -> None:
    # Before, the 401's message went into the diagnostic raw: terraform printed the OSC title
    # sequence and the screen clear as they were.
    body = b'{"message": "bad key \\u001b]0;pwned\\u0007\\u001b[2J\\u202eevil"}'
    ws.vars["chain_deployment_id"] = "dpauth401"
    emulator.add_raw_answer(body, deployment_path(CHAIN, "dpauth401"), status=401, times=None)
    result = ws.plan()
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
    assert "bad key \\x1b]0;pwned\\x07\\x1b[2J\\u202eevil" in flat(result)


def test_a_404_message_holding_a_lone_surrogate_is_a_not_found_diagnostic(ws: Workspace) -> None:
    # Before, the diagnostic could not be encoded: terraform showed the encoding error.
    body = b'{"message": "gone \\ud800"}'
    ws.vars["chain_deployment_id"] = "dpgone404"
    ws.emulator.add_raw_answer(body, deployment_path(CHAIN, "dpgone404"), status=404, times=None)
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: Chain deployment not found" in text, text
    assert "gone \\ud800" in text


# The source line terraform quotes under a diagnostic: the attribute its path points at.
AT_CHAIN_ID = "chain_id = var.chain_id"
AT_DEPLOYMENT_ID = "chain_deployment_id = var.chain_deployment_id"
AT_ENVIRONMENT = "environment = var.chain_deployment_id == null ? var.environment : null"


def test_a_typoed_chain_id_is_a_missing_chain_underlined_at_chain_id(
    ws: Workspace, emulator: Emulator
) -> None:
    ws.vars["chain_id"] = "chtypo99"  # read by environment (production)
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: Chain not found" in text
    assert "chain 'chtypo99' was not found" in text
    assert AT_CHAIN_ID in text
    assert AT_DEPLOYMENT_ID not in text and AT_ENVIRONMENT not in text
    assert emulator.requests[-1].path == chain_path("chtypo99")  # asked, under one deadline


def test_a_missing_environment_is_underlined_at_environment(ws: Workspace) -> None:
    ws.vars["environment"] = "prodution"
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: Environment not found" in text
    assert "environment 'prodution' of chain 'ch7k2p9q' was not found" in text
    assert AT_ENVIRONMENT in text
    assert AT_CHAIN_ID not in text and AT_DEPLOYMENT_ID not in text


def test_the_way_out_of_a_resting_state_is_written_in_hcl(ws: Workspace) -> None:
    ws.vars.update(chain_deployment_id="dpzero01", wait_for='["ACTIVE"]')
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: Chain deployment dpzero01 will not become ready" in text
    assert 'wait_for = ["ACTIVE", "SCALED_TO_ZERO"]' in text
    assert "wait_for=[" not in text and "['" not in text


def test_a_rejected_key_is_an_auth_diagnostic_and_is_never_printed(
    ws: Workspace, emulator: Emulator
) -> None:
    wrong = "sk-wrong-LEAKCHECK-0b1d"
    ws.vars["baseten_api_key"] = wrong
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: Baseten rejected the API key (HTTP 401)" in text
    assert "BASETEN_API_KEY" in text  # says how to fix it
    assert wrong not in text
    assert [r.authorized for r in emulator.requests] == [False]


def test_a_missing_key_fails_when_the_provider_is_configured(
    ws: Workspace, emulator: Emulator
) -> None:
    ws.vars = {}
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    assert "Error: No usable Baseten API key" in text
    assert 'provider "baseten"' in text
    assert emulator.requests == []


INVALID = """
resource "terraform_data" "later" {
  input = "dp3m8x1v"
}
data "baseten_chain_deployment" "both" {
  chain_id            = "ch7k2p9q"
  chain_deployment_id = "dp3m8x1v"
  environment         = "production"
}
data "baseten_chain_deployment" "neither" {
  chain_id = "ch7k2p9q"
}
data "baseten_chain_deployment" "bad_values" {
  chain_id        = "ch7k/2p9q"
  environment     = "production"
  wait_for        = ["ACTIVE", "READY"]
  timeout_seconds = 0
}
data "baseten_chain_deployment" "unknown_until_apply" {
  chain_id            = "ch7k2p9q"
  chain_deployment_id = terraform_data.later.output
}
data "baseten_chain" "both" {
  id   = "ch7k2p9q"
  name = "rag-pipeline"
}
"""


def test_invalid_arguments_are_rejected_at_validation_before_any_request(
    ws: Workspace, emulator: Emulator
) -> None:
    # The example alone is valid although every variable is unknown to terraform validate.
    valid = ws.run("validate")
    assert valid.returncode == 0, valid.stderr

    (ws.dir / "invalid.tf").write_text(INVALID)
    result = ws.plan()
    assert result.returncode == 1
    text = flat(result)
    for expected in (
        'data "baseten_chain_deployment" "both"',
        "Error: Invalid environment with data.baseten_chain_deployment.both",
        "give either chain_deployment_id or environment, not both",
        "Error: Invalid chain_deployment_id with data.baseten_chain_deployment.neither",
        "one of chain_deployment_id or environment is required",
        "Error: Invalid chain_id with data.baseten_chain_deployment.bad_values",
        "contains '/', which is not allowed in an id",
        "Error: Invalid wait_for with data.baseten_chain_deployment.bad_values",
        "'READY' is not a known deployment status",
        "Error: Invalid timeout_seconds with data.baseten_chain_deployment.bad_values",
        "Error: Invalid name with data.baseten_chain.both",
    ):
        assert expected in text
    assert text.count("Error: ") == 6  # nothing about the data source fed by an unknown
    assert emulator.requests == []


def test_a_bad_max_requests_per_second_is_refused_before_any_request(
    ws: Workspace, emulator: Emulator
) -> None:
    # An override file merges into the example's provider block.
    (ws.dir / "rate_override.tf").write_text(
        'provider "baseten" {\n  max_requests_per_second = 0\n}\n'
    )
    result = ws.plan()

    assert result.returncode == 1
    text = flat(result)
    assert "Error: Invalid max_requests_per_second" in text
    assert "must be a number of requests per second from 0.1 to 100000, got 0" in text
    assert emulator.requests == []


def test_make_tf_plan_plans_the_example_offline(tf_home: Path) -> None:
    # The README's `make tf-plan`, run for real: its own emulator, CLI config and example copy.
    (command,) = sh_block("make tf-plan")
    assert command.argv == ["make", "tf-plan"]
    before = sorted(p.name for p in EXAMPLE.iterdir())
    result = run_make(
        *command.argv[1:], env={**os.environ, "HOME": str(tf_home)}, timeout=TF_TIMEOUT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = " ".join(ANSI.sub("", result.stdout).split())
    assert "Provider development overrides are in effect" in out
    assert "terraform_data.gate will be created" in out
    assert 'status = "ACTIVE"' in out
    assert sorted(p.name for p in EXAMPLE.iterdir()) == before  # no state, no .terraform


def user_env(home: Path, emulator: Emulator, exports: dict[str, str]) -> dict[str, str]:
    """A user's shell for the README's terraform commands: no terraform settings of ours or
    theirs, the key exported (as in the README), the emulator's URL, and ``exports``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "BASETEN_"))}
    env.update(HOME=str(home), BASETEN_API_KEY=TEST_KEY, BASETEN_API_URL=emulator.url)
    env.update(exports)
    return env


def test_the_readmes_dev_overrides_commands_plan_without_init(
    ws: Workspace, tf_home: Path, emulator: Emulator
) -> None:
    # README, Terraform, "a CLI config with dev_overrides is the shortcut": as written, in the
    # configuration folder, with this Python standing for venv/bin/python.
    write, export, plan = sh_block("provider.terraform.cliconfig --output terraformrc")
    made = subprocess.run(
        write.resolve(sys.executable).argv,
        cwd=ws.dir,
        capture_output=True,
        text=True,
        timeout=TF_TIMEOUT,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert export.export and set(export.env) == {"TF_CLI_CONFIG_FILE", "CHECKPOINT_DISABLE"}
    exports = export.resolve(sys.executable, {"$PWD": str(ws.dir)}).env
    assert Path(exports["TF_CLI_CONFIG_FILE"]).is_file()
    assert plan.argv == ["terraform", "plan"]
    result = example_plan.run_terraform(
        plan.argv[1:], cwd=ws.dir, env=user_env(tf_home, emulator, exports), timeout=TF_TIMEOUT
    )
    ws.transcript.append(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    out = " ".join(ANSI.sub("", result.stdout + result.stderr).split())
    assert "Provider development overrides are in effect" in out
    assert "terraform_data.gate will be created" in out
    assert not (ws.dir / ".terraform").exists()  # no terraform init
    assert emulator.methods() == {"GET"}


def test_the_schema_the_reference_is_generated_from_is_what_terraform_reports(
    ws: Workspace,
) -> None:
    # provider.reference renders docs/terraform from schema_json(), asked in process; terraform
    # asks the plugin process itself. The two must be the same document, as tfplugindocs reads.
    result = ws.run("providers", "schema", "-json")
    assert result.returncode == 0, result.stdout + result.stderr
    reported = json.loads(result.stdout)["provider_schemas"]
    ours = schema_json()["provider_schemas"]
    assert {address: reported[address] for address in ours} == ours


def test_the_references_terraform_examples_plan_as_written(ws: Workspace) -> None:
    # docs/terraform: the provider page's configuration and every data source page's example,
    # in one configuration, planned against the emulator: each reads as it says.
    docs = ROOT / "docs" / "terraform"
    pages = [docs / "index.md", *sorted((docs / "data-sources").glob("*.md"))]
    blocks = [re.findall(r"^```terraform\n(.*?)^```", p.read_text(), re.M | re.S) for p in pages]
    assert all(len(b) == 1 for b in blocks) and len(pages) > 2
    (ws.dir / "main.tf").write_text("\n".join(b[0] for b in blocks))
    result = ws.plan()
    assert result.returncode == 0, result.stdout + result.stderr
    reads = [r for r in ws.emulator.requests if r.method == "GET"]
    assert len(reads) >= len(pages) - 1


# -- without terraform ---------------------------------------------------------------------


def test_missing_terraform_fails_with_how_to_install_it() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        require_terraform({"PATH": ""})
    message = str(failed.value)
    assert "https://developer.hashicorp.com/terraform/install" in message
    assert f"{SKIP_VARIABLE}=1" in message
    with pytest.raises(pytest.skip.Exception):
        require_terraform({"PATH": "", SKIP_VARIABLE: "1"})


CHAINLET = tf_type(CHAINLET_FIELD)


def test_the_schemas_are_well_formed_and_cover_every_model_field() -> None:
    for schema in (
        tf_provider.TerraformProvider().get_provider_schema(Diagnostics()),
        *(source.get_schema() for source in DATA_SOURCES),
    ):
        diags = Diagnostics()
        check_attributes(diags, schema.attributes)
        assert not diags.diagnostics, str(diags)
        schema.to_pb()  # what terraform receives: must serialise

    kind, chainlet = json.loads(CHAINLET.tf_type())
    assert kind == "object"
    assert set(chainlet) == set(Chainlet.model_fields)
    assert chainlet["active_replica_count"] == "number"
    assert chainlet["status"] == "string"
    assert chainlet["autoscaling_settings"] == [
        "object",
        dict.fromkeys(AutoscalingSettings.model_fields, "number"),
    ]
    chain_fields = {a.name for a in DATA_SOURCES_BY_NAME["chain"].get_schema().attributes}
    assert chain_fields == set(Chain.model_fields) | {"timeout_seconds"}
    provider_schema = tf_provider.TerraformProvider().get_provider_schema(Diagnostics())
    key = next(a for a in provider_schema.attributes)
    assert (key.name, key.sensitive) == ("api_key", True)


def test_objects_carry_exactly_their_attributes() -> None:
    encoded = CHAINLET.encode(
        {
            "id": "c1",
            "name": "Entrypoint",
            "status": "ACTIVE",
            "gpu_count": 1,  # drift: not in the schema, dropped (raw_json keeps it)
            "autoscaling_settings": {"min_replica": 0, "max_scale_down_rate": 2},
        }
    )
    assert set(encoded) == set(Chainlet.model_fields)
    assert encoded["instance_type_name"] is None
    assert set(encoded["autoscaling_settings"]) == set(AutoscalingSettings.model_fields)
    assert CHAINLET.encode(None) is None and CHAINLET.encode(Unknown) is Unknown
    with pytest.raises(TypeError, match="no field type"):
        type_of(dict[str, int])
    assert Object({}).tf_type() == b'["object",{}]'


def test_every_diagnostic_and_warning_passes_the_one_sanitiser() -> None:
    # The diagnostics' summaries name the deployment and the warnings carry server text: both
    # reach terraform's output (and a protobuf string) only through provider.terraform.diagnostics.
    hostile = "dp\x1b]0;pwned\x07\ud800"
    deployment = ChainDeployment.model_validate(make_deployment(CHAIN, "dpfail001"))
    diags = Diagnostics()
    add_diagnostic(
        diags,
        DeploymentFailedError(f"chain deployment {hostile} failed", deployment),
        kind="Chain deployment",
        subject=hostile,
        lookup_field=None,
        schema_fields={},
    )
    DATA_SOURCES_BY_NAME["chain_deployment"]._warn(diags, [f"environment now serves {hostile}"])
    for pb in diags.to_pb():
        for text in (pb.summary, pb.detail):
            assert "\x1b" not in text and "\x07" not in text
            text.encode("utf-8")
        assert "dp\\x1b]0;pwned\\x07\\ud800" in pb.detail
    assert len(diags.diagnostics) == 2


def test_validation_tolerates_values_not_known_yet() -> None:
    base = {"chain_id": CHAIN, "wait_for": None, "timeout_seconds": None}
    assert not DATA_SOURCES_BY_NAME["chain_deployment"].config_errors(
        {**base, "chain_deployment_id": Unknown, "environment": None}
    )
    assert not DATA_SOURCES_BY_NAME["chain_deployment"].config_errors(
        {
            "chain_id": Unknown,
            "chain_deployment_id": None,
            "environment": "production",
            "wait_for": ["ACTIVE", Unknown],
            "timeout_seconds": Unknown,
        }
    )
    known_bad = DATA_SOURCES_BY_NAME["chain_deployment"].config_errors(
        {**base, "chain_deployment_id": Unknown, "environment": "x", "wait_for": ["NOPE"]}
    )
    assert [e.field for e in known_bad] == ["wait_for"]
    assert not DATA_SOURCES_BY_NAME["chain"].config_errors({"id": Unknown, "name": None})
    chain = DATA_SOURCES_BY_NAME["chain"]
    assert [e.field for e in chain.config_errors({"id": None, "name": " "})] == ["name"]
    assert [e.field for e in chain.config_errors({"id": None, "name": None})] == ["id"]


def test_started_by_hand_the_plugin_explains_itself(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TF_PLUGIN_MAGIC_COOKIE", raising=False)
    assert tf_provider.serve(["terraform-provider-baseten"]) == 1
    assert "is a Terraform plugin" in capsys.readouterr().err


def test_cli_config_points_dev_overrides_at_the_executable(tmp_path: Path) -> None:
    target = tmp_path / "build" / "terraformrc"
    assert cliconfig.main(["--plugin-dir", str(tmp_path), "--output", str(target)]) == 0
    text = target.read_text()
    assert f'"{cliconfig.PROVIDER_ADDRESS}" = "{tmp_path}"' in text
    assert "dev_overrides" in text and "disable_checkpoint = true" in text


def test_terraform_logs_each_status_change_while_the_read_waits(
    ws: Workspace, emulator: Emulator
) -> None:
    # The gate's progress goes to the provider's stderr, which terraform shows with TF_LOG.
    emulator.set_timeline(CHAIN, "dp3m8x1v", [Step("DEPLOYING"), Step("ACTIVE", after_requests=1)])
    ws.vars.update(wait_for='["ACTIVE"]')
    ws.env["TF_LOG"] = "DEBUG"
    result = ws.plan()
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stderr
    assert "deployment dp3m8x1v is DEPLOYING" in log
    assert "deployment dp3m8x1v is ACTIVE" in log


# -- terraform init: the filesystem mirror ---------------------------------------------------


def init_env(home: Path, emulator: Emulator, **extra: str) -> dict[str, str]:
    """Offline terraform for init: implied mirrors only, and no way out to a registry."""
    cli_config = home / "no-installation.tfrc"
    # No provider_installation block: terraform.d/plugins is searched, then the registry.
    cli_config.write_text("disable_checkpoint = true\n")
    closed = "http://127.0.0.1:9"  # nothing listens: a registry request fails at once
    env = example_plan.offline_env(
        cli_config,
        {
            "HOME": str(home),
            "HTTPS_PROXY": closed,
            "HTTP_PROXY": closed,
            "NO_PROXY": "127.0.0.1",
            "BASETEN_API_URL": emulator.url,
            "BASETEN_API_KEY": TEST_KEY,
            **extra,
        },
    )
    env.pop("https_proxy", None)
    env.pop("http_proxy", None)
    return env


def write_standin(plugins: Path) -> None:
    """basetenlabs/baseten in the same mirror: a different provider with our type name."""
    mirror.write_entry(
        plugins,
        address="registry.terraform.io/basetenlabs/baseten",
        version="0.1.0",
        command=[sys.executable, "-P", str(STANDIN)],
    )


@pytest.fixture
def init_ws(tf_home: Path, tmp_path: Path) -> Path:
    """A copy of examples/terraform/init with this provider in terraform.d/plugins."""
    work = tmp_path / "config"
    shutil.copytree(INIT_EXAMPLE, work)
    # The README's command, run in the configuration folder.
    made = subprocess.run(
        [sys.executable, "-m", "provider.terraform.mirror", "terraform.d/plugins"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=TF_TIMEOUT,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines()[-1] == cliconfig.PROVIDER_ADDRESS
    write_standin(work / "terraform.d" / "plugins")
    return work


def test_a_plain_init_installs_it_from_the_mirror_beside_a_backend_a_module_and_basetenlabs(
    init_ws: Path, tf_home: Path, emulator: Emulator
) -> None:
    (init_ws / "standin.tf").write_text(
        'data "baseten_standin" "models" {}\n'
        'output "models_provider" { value = data.baseten_standin.models.served_by }\n'
    )
    env = init_env(tf_home, emulator)
    init = example_plan.run_terraform(
        ["init", "-input=false", "-no-color"], cwd=init_ws, env=env, timeout=TF_TIMEOUT
    )
    assert init.returncode == 0, init.stdout + init.stderr
    assert "Terraform has been successfully initialized!" in init.stdout
    lock = (init_ws / ".terraform.lock.hcl").read_text()
    assert f'provider "{cliconfig.PROVIDER_ADDRESS}"' in lock
    assert 'provider "registry.terraform.io/basetenlabs/baseten"' in lock

    applied = example_plan.run_terraform(
        ["apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=init_ws,
        env=env,
        timeout=TF_TIMEOUT,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    state = json.loads((init_ws / "state" / "terraform.tfstate").read_text())  # the backend's
    outputs = {k: v["value"] for k, v in state["outputs"].items()}
    assert outputs["chain_deployment_id"] == "dp3m8x1v"
    assert outputs["instance_types"]["Generator"] == "H100:1x20x80"
    assert outputs["models_provider"] == "registry.terraform.io/basetenlabs/baseten"
    assert emulator.methods() == {"GET"}
    for path in init_ws.rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), f"the API key is in {path.name}"


def test_without_the_provider_argument_our_data_source_goes_to_basetenlabs_and_fails(
    init_ws: Path, tf_home: Path, emulator: Emulator
) -> None:
    # Why the example says `provider = baseten-chains`: the type name picks `baseten`.
    (init_ws / "unrouted.tf").write_text(
        'data "baseten_chain_deployment" "unrouted" {\n'
        '  chain_id    = "ch7k2p9q"\n'
        '  environment = "production"\n'
        "}\n"
    )
    env = init_env(tf_home, emulator)
    init = example_plan.run_terraform(
        ["init", "-input=false", "-no-color"], cwd=init_ws, env=env, timeout=TF_TIMEOUT
    )
    assert init.returncode == 0, init.stdout + init.stderr
    plan = example_plan.run_terraform(
        ["plan", "-input=false", "-no-color"], cwd=init_ws, env=env, timeout=TF_TIMEOUT
    )
    assert plan.returncode == 1
    text = flat(plan)
    unsupported = 'basetenlabs/baseten does not support data source "baseten_chain_deployment"'
    assert unsupported in text
    assert emulator.requests == []


# -- without terraform: the mirror entry, the missing extra ---------------------------------


def test_the_mirror_entry_has_terraforms_unpacked_layout_and_starts_this_python(
    tmp_path: Path,
) -> None:
    executable = mirror.write_entry(tmp_path, os_arch="linux_amd64")
    host, namespace, type_ = cliconfig.PROVIDER_ADDRESS.split("/")
    assert executable == (
        tmp_path
        / host
        / namespace
        / type_
        / __version__
        / "linux_amd64"
        / f"terraform-provider-baseten_v{__version__}"
    )
    assert os.access(executable, os.X_OK)
    text = executable.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert f'exec {sys.executable} -P -m provider.terraform "$@"' in text


def test_the_on_path_mirror_entry_is_the_same_bytes_whichever_python_wrote_it(
    tmp_path: Path,
) -> None:
    # A committed .terraform.lock.hcl holds the entry's checksum: it must not vary by machine.
    entry = mirror.write_entry(tmp_path, command=mirror.provider_command(on_path=True))
    assert sys.executable not in entry.read_text()
    assert 'exec terraform-provider-baseten "$@"' in entry.read_text()


def test_an_on_path_mirror_entry_serves_terraform_from_the_activated_virtualenv(
    tmp_path: Path, tf_home: Path, emulator: Emulator
) -> None:
    # README: "write the entry with --on-path instead ... (activate the virtualenv before
    # running terraform)": the mirror command with the flag, then init and plan with only the
    # virtualenv's bin (this Python's) on PATH to find the provider.
    (command,) = [
        c
        for c in sh_block("provider.terraform.mirror")
        if c.startswith("venv/bin/python", "-m", "provider.terraform.mirror")
    ]
    work = example_plan.copy_example(EXAMPLE, tmp_path / "config")
    made = subprocess.run(
        [*command.resolve(sys.executable).argv, "--on-path"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=TF_TIMEOUT,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines()[-1] == cliconfig.PROVIDER_ADDRESS
    (entry,) = (work / "terraform.d" / "plugins").rglob("terraform-provider-baseten_*")
    assert sys.executable not in entry.read_text()
    activated = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = init_env(tf_home, emulator, PATH=activated)
    for args in (["init", "-input=false"], ["plan", "-input=false"]):
        result = example_plan.run_terraform(
            [*args, "-no-color"], cwd=work, env=env, timeout=TF_TIMEOUT
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert "terraform_data.gate will be created" in result.stdout
    assert f'provider "{cliconfig.PROVIDER_ADDRESS}"' in (work / ".terraform.lock.hcl").read_text()


def test_the_mirror_refuses_what_terraform_could_not_install() -> None:
    assert mirror.platform_name("Darwin", "arm64") == "darwin_arm64"
    assert mirror.platform_name("Linux", "x86_64") == "linux_amd64"
    with pytest.raises(ValueError, match=r"MAJOR\.MINOR\.PATCH"):
        mirror.write_entry(Path("unused"), version="0.1.0.dev1", os_arch="linux_amd64")
    with pytest.raises(ValueError, match="HOST/NAMESPACE/TYPE"):
        mirror.split_address("baseten/baseten")
    with pytest.raises(ValueError, match="machine type"):
        mirror.platform_name("Linux", "sparc64")


def test_the_source_address_claims_no_registry_namespace() -> None:
    host, namespace, type_ = mirror.split_address(cliconfig.PROVIDER_ADDRESS)
    assert host.endswith(".invalid")  # RFC 6761: never resolves, so no registry serves it
    assert (namespace, type_) != ("baseten", "baseten") and namespace != "basetenlabs"
    assert type_ == "baseten"  # so the data sources keep their names


def test_without_tf_the_provider_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(sys.modules):
        if name == "tf" or name.startswith("tf.") or name.startswith("provider.terraform."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tf", None)  # as if not installed
    assert provider.terraform.main(["terraform-provider-baseten"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "pip install 'pulumi-baseten-chains[terraform]'" in err
