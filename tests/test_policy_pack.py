"""The policy pack as the engine runs it, and its policies called directly.

The pack (``examples/policy-pack``) is started the way the Pulumi engine starts a Python policy
pack: ``python -u -m pulumi.policy ENGINE_ADDRESS PACK_DIR`` in the pack's directory, reading the
Analyzer's port from the first line of its stdout (bounded wait; the process is killed at the
end). The tests then speak the Analyzer gRPC service as the engine does: ``GetAnalyzerInfo``,
``Configure`` with the config the engine reconciles (schema defaults and levels, then the user's
entries), and ``AnalyzeStack`` with ``ChainDeployment`` resources whose properties are the
outputs of real resources, produced by running the provider against the emulator with
:func:`provider.testing.run_program`, serialized as the engine serializes them.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, json_format
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from provider import ChainDeployment, connection
from provider.emulator import Emulator, make_chainlet, make_deployment
from provider.outputs import deployment_from_outputs as model_from_outputs
from provider.policy import (
    CHAIN_DEPLOYMENT_TYPE,
    PACK_NAME,
    RULES,
    deployment_from_outputs,
    parse_config,
    stack_policies,
)
from provider.testing import RegisteredResource, run_program
from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parents[1]
PACK_DIR = ROOT / "examples" / "policy-pack"
EXAMPLE_CONFIG = PACK_DIR / "policy-config.example.json"
CHAIN = "ch7k2p9q"
# The engine passes its own address; a pack never dials it (pulumi_policy does not log to it).
ENGINE_ADDRESS = "127.0.0.1:1"
STARTUP_TIMEOUT = 30.0
RPC_TIMEOUT = 10.0
PROJECT = "baseten-chain-gate"
LEVEL = analyzer_pb2.EnforcementLevel
ENABLED_BY_DEFAULT = [r.name for r in RULES if r.default_level != "disabled"]


# -- the stack: outputs of real ChainDeployment resources ------------------------------------------


def _program() -> None:
    ChainDeployment("prod", chain_id=CHAIN, environment="production")
    ChainDeployment("staging", chain_id=CHAIN, environment="staging")
    ChainDeployment("building", chain_id=CHAIN, chain_deployment_id="dpbuild1", wait_for=[])


@pytest.fixture(scope="module")
def stack() -> dict[str, RegisteredResource]:
    """``prod``, ``staging``, ``building`` as after ``pulumi up``; ``new``: ``prod`` as the
    engine holds it during the preview that creates it (inputs only, no outputs yet)."""
    with Emulator(api_key=TEST_KEY) as emu:
        config = {"baseten:apiKey": TEST_KEY, "baseten:apiUrl": emu.url}
        try:
            up = run_program(_program, config=config, secret_keys=["baseten:apiKey"])
            preview = run_program(_program, config=config, preview=True)
        finally:
            connection.close_shared_clients()
    resources = {r.name: r for r in up.resources if r.type == CHAIN_DEPLOYMENT_TYPE}
    resources["new"] = preview.resource("prod")
    return resources


def urn(name: str, type_: str = CHAIN_DEPLOYMENT_TYPE) -> str:
    return f"urn:pulumi:dev::{PROJECT}::{type_}::{name}"


def wire(outputs: Mapping[str, Any]) -> Any:
    """Outputs as a protobuf Struct, serialized by the Pulumi SDK (ints become floats)."""
    return asyncio.run(rpc.serialize_properties(dict(outputs), {}))


def analyzer_resource(
    name: str, outputs: Mapping[str, Any], type_: str = CHAIN_DEPLOYMENT_TYPE
) -> Any:
    return analyzer_pb2.AnalyzerResource(
        type=type_, properties=wire(outputs), urn=urn(name, type_), name=name
    )


# -- the pack, started as the engine starts it ---------------------------------------------------


def _read_port(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """The first stdout line of the pack, within ``timeout`` seconds (how the engine finds it)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    received = b""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while b"\n" not in received:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"the policy pack printed no port within {timeout}s")
            if not selector.select(left):
                continue
            chunk = os.read(proc.stdout.fileno(), 256)
            if not chunk:
                pytest.fail(f"the policy pack exited ({proc.wait(timeout=5)}) before its port")
            received += chunk
    return int(received.split(b"\n", 1)[0])


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASETEN_")}
    # What the engine sets for a policy pack; PYTHONPATH pins the `provider` under test.
    env.update(
        PULUMI_PROJECT=PROJECT,
        PULUMI_STACK="dev",
        PULUMI_DRY_RUN="false",
        PYTHONPATH=str(ROOT),
    )
    stderr_path = tmp_path_factory.mktemp("pack") / "stderr.txt"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(PACK_DIR)],
            cwd=PACK_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        try:
            port = _read_port(proc, STARTUP_TIMEOUT)
        except BaseException:
            proc.kill()
            print(stderr_path.read_text(errors="replace"), file=sys.stderr)
            raise
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            grpc.channel_ready_future(channel).result(timeout=RPC_TIMEOUT)
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
        finally:
            channel.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()


def configure(stub: Any, given: Mapping[str, Any] | None = None) -> None:
    """Configure the pack as the engine does (``ReconcilePolicyPackConfig``): each policy's
    level and schema defaults, then ``all``, then each given entry on top."""
    info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    reconciled: dict[str, tuple[int, dict[str, Any]]] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema.properties)
        defaults = {k: spec["default"] for k, spec in schema.items() if "default" in spec}
        reconciled[policy.name] = (policy.enforcementLevel, defaults)
    given = dict(given or {})
    if "all" in given:
        level = LEVEL.Value(given.pop("all").upper())
        reconciled = {name: (level, props) for name, (_, props) in reconciled.items()}
    for name, entry in given.items():
        level, props = reconciled.get(name, (LEVEL.Value("ADVISORY"), {}))
        settings = {"enforcementLevel": entry} if isinstance(entry, str) else dict(entry)
        if "enforcementLevel" in settings:
            level = LEVEL.Value(settings.pop("enforcementLevel").upper())
        reconciled[name] = (level, {**props, **settings})
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, (level, props) in reconciled.items():
        request.policyConfig[name].enforcementLevel = level
        request.policyConfig[name].properties.update(props)
    stub.Configure(request, timeout=RPC_TIMEOUT)


def analyze(stub: Any, *resources: Any) -> list[Any]:
    request = analyzer_pb2.AnalyzeStackRequest(resources=list(resources))
    return list(stub.AnalyzeStack(request, timeout=RPC_TIMEOUT).diagnostics)


def summary(diagnostics: list[Any]) -> list[tuple[str, str, str]]:
    """(policy, level, last message line) per diagnostic; the first line is the description."""
    return [
        (d.policyName, LEVEL.Name(d.enforcementLevel), d.message.splitlines()[-1])
        for d in diagnostics
    ]


# -- over gRPC -------------------------------------------------------------------------------------


def test_the_engine_reads_the_policies_and_their_config_schema(pack: Any) -> None:
    info = pack.GetAnalyzerInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    assert info.name == PACK_NAME and info.supportsConfig
    assert [p.name for p in info.policies] == [r.name for r in RULES]
    assert [LEVEL.Name(p.enforcementLevel) for p in info.policies] == [
        "MANDATORY",
        "MANDATORY",
        "MANDATORY",
        "MANDATORY",
        "DISABLED",
    ]
    assert {p.policy_type for p in info.policies} == {analyzer_pb2.POLICY_TYPE_STACK}
    schemas = {p.name: json_format.MessageToDict(p.configSchema.properties) for p in info.policies}
    assert schemas["deployment-active"]["statuses"]["default"] == ["ACTIVE"]
    assert schemas["allowed-instance-types"]["instanceTypes"]["default"] == []
    assert schemas["replica-bounds"]["minReplica"]["default"] == 0
    assert schemas["replica-bounds"]["maxReplica"]["default"] is None  # no ceiling
    assert schemas["no-scale-to-zero"]["environments"]["default"] == []
    assert all(spec["description"] for props in schemas.values() for spec in props.values())


def test_a_passing_stack_has_no_diagnostics(
    pack: Any, stack: dict[str, RegisteredResource]
) -> None:
    configure(pack)
    other = analyzer_resource("bucket", {"name": "b"}, "aws:s3/bucket:Bucket")
    resources = [analyzer_resource(n, stack[n].outputs) for n in ("prod", "staging")]
    assert analyze(pack, *resources, other) == []


def test_a_building_deployment_violates_deployment_active(
    pack: Any, stack: dict[str, RegisteredResource]
) -> None:
    configure(pack)
    diagnostics = analyze(
        pack,
        analyzer_resource("prod", stack["prod"].outputs),
        analyzer_resource("building", stack["building"].outputs),
    )
    where = "ChainDeployment 'building' (chain ch7k2p9q, deployment dpbuild1)"
    assert summary(diagnostics) == [
        (
            "deployment-active",
            "MANDATORY",
            f"{where}: {subject}: status is BUILDING (in progress), expected one of ACTIVE",
        )
        for subject in (
            "deployment",
            "chainlet Entrypoint",
            "chainlet Retriever",
            "chainlet Generator",
        )
    ]
    first = diagnostics[0]
    assert first.urn == urn("building")
    assert first.policyPackName == PACK_NAME
    assert first.message.startswith(RULES[0].description + "\n")


def test_policy_config_reaches_the_rules_through_configure(
    pack: Any, stack: dict[str, RegisteredResource]
) -> None:
    resources = [analyzer_resource(n, stack[n].outputs) for n in ("prod", "staging")]
    example = json.loads(EXAMPLE_CONFIG.read_text())
    configure(pack, example)
    assert summary(analyze(pack, *resources)) == [
        (
            "no-scale-to-zero",
            "MANDATORY",
            "ChainDeployment 'prod' (chain ch7k2p9q, deployment dp3m8x1v): chainlet Retriever: "
            "min_replica is 0, expected at least 1 (no scale to zero in production)",
        )
    ]
    configure(
        pack,
        {
            "allowed-instance-types": {
                "enforcementLevel": "advisory",
                "instanceTypes": ["1x4", "L4:4x16"],
            },
            "replica-bounds": {"maxReplica": 3, "overrides": {"Generator": {"maxReplica": 2}}},
        },
    )
    got = summary(analyze(pack, resources[0]))
    prefix = "ChainDeployment 'prod' (chain ch7k2p9q, deployment dp3m8x1v): chainlet Generator: "
    assert got == [
        (
            "allowed-instance-types",
            "ADVISORY",
            prefix + "instance_type_name is H100:1x20x80, expected one of 1x4, L4:4x16",
        ),
        (
            "replica-bounds",
            "MANDATORY",
            prefix + "max_replica is 4, expected at most 2 (override for Generator)",
        ),
    ]


def test_the_pack_and_the_pipeline_check_report_the_same_violations(
    pack: Any, stack: dict[str, RegisteredResource]
) -> None:
    document = {
        "all": "mandatory",
        "allowed-instance-types": {"instanceTypes": ["1x4"]},
        "replica-bounds": {"minReplica": 1, "maxReplica": 3},
    }
    configure(pack, document)
    outputs = stack["prod"].outputs
    from_pack = [
        (d.policyName, d.message.splitlines()[-1])
        for d in analyze(pack, analyzer_resource("prod", outputs))
    ]
    # The pipeline check's model, rebuilt from the same outputs the pack received.
    report = parse_config(document).check(model_from_outputs(outputs))
    where = "ChainDeployment 'prod' (chain ch7k2p9q, deployment dp3m8x1v)"
    from_check = [(r.rule, f"{where}: {v.message}") for r in report.results for v in r.violations]
    assert from_pack == from_check
    assert {name for name, _ in from_pack} == {
        "allowed-instance-types",
        "replica-bounds",
        "no-scale-to-zero",
    }


def test_an_unknown_deployment_is_an_advisory_note_not_a_failure(
    pack: Any, stack: dict[str, RegisteredResource]
) -> None:
    configure(pack)
    unknown = {**stack["prod"].outputs, "raw_json": rpc.UNKNOWN}
    diagnostics = analyze(
        pack,
        analyzer_resource("prod", unknown),
        analyzer_resource("building", stack["building"].outputs),
    )
    advisory = [d for d in diagnostics if d.enforcementLevel == LEVEL.Value("ADVISORY")]
    mandatory = [d for d in diagnostics if d.enforcementLevel == LEVEL.Value("MANDATORY")]
    # The known resource is still checked; the unknown one gets one note per enabled policy.
    assert [d.urn for d in mandatory] == [urn("building")] * 4
    assert [d.policyName for d in advisory] == ENABLED_BY_DEFAULT
    for note in advisory:
        assert note.message == (
            f"can't run policy '{note.policyName}' from policy pack '{PACK_NAME}@v0.0.1' during "
            "preview: ChainDeployment 'prod': string value at .raw_json can't be known during "
            "preview"
        )


def test_the_pack_reads_the_deployment_from_raw_json_alone(
    pack: Any, stack: dict[str, RegisteredResource]
) -> None:
    # An unknown value deep in the typed outputs is not read: raw_json describes the whole
    # deployment, so the rules run on it (and find the instance type the typed output hides).
    configure(pack, {"allowed-instance-types": {"instanceTypes": ["1x4", "L4:4x16"]}})
    outputs = json.loads(json.dumps(stack["prod"].outputs))
    outputs["chainlets"][2]["instance_type_name"] = rpc.UNKNOWN
    outputs["status"] = rpc.UNKNOWN
    assert summary(analyze(pack, analyzer_resource("prod", outputs))) == [
        (
            "allowed-instance-types",
            "MANDATORY",
            "ChainDeployment 'prod' (chain ch7k2p9q, deployment dp3m8x1v): chainlet Generator: "
            "instance_type_name is H100:1x20x80, expected one of 1x4, L4:4x16",
        )
    ]
    configure(pack)


def test_a_resource_being_created_in_preview_is_an_advisory_note(
    pack: Any, stack: dict[str, RegisteredResource]
) -> None:
    configure(pack)
    new = stack["new"].outputs
    assert "raw_json" not in new and new["chain_id"] == CHAIN  # inputs only, as in a preview
    diagnostics = analyze(pack, analyzer_resource("prod", {**new, "__provider": "<pickle>"}))
    assert [(d.policyName, LEVEL.Name(d.enforcementLevel)) for d in diagnostics] == [
        (name, "ADVISORY") for name in ENABLED_BY_DEFAULT
    ]
    assert diagnostics[0].message.endswith(
        "ChainDeployment 'prod': raw_json not known yet (read when the resource is created or "
        "updated)"
    )


def test_an_override_naming_no_chainlet_is_an_advisory_note(
    pack: Any, stack: dict[str, RegisteredResource]
) -> None:
    configure(
        pack, {"replica-bounds": {"maxReplica": 3, "overrides": {"Genrator": {"maxReplica": 8}}}}
    )
    diagnostics = analyze(pack, analyzer_resource("prod", stack["prod"].outputs))
    where = "ChainDeployment 'prod' (chain ch7k2p9q, deployment dp3m8x1v)"
    # The violation stays at the rule's level; the unmatched override never blocks.
    assert summary(diagnostics) == [
        (
            "replica-bounds",
            "MANDATORY",
            f"{where}: chainlet Generator: max_replica is 4, expected at most 3",
        ),
        (
            "replica-bounds",
            "ADVISORY",
            f"can't run policy 'replica-bounds' from policy pack '{PACK_NAME}@v0.0.1' during "
            f"preview: {where}: policy config note, not a violation: the override for chainlet "
            "'Genrator' matches no chainlet of deployment dp3m8x1v (its chainlets: Entrypoint, "
            "Retriever, Generator); did you mean 'Generator'?",
        ),
    ]
    configure(pack)


def test_a_config_the_rules_refuse_is_reported_not_a_crash(
    pack: Any, stack: dict[str, RegisteredResource]
) -> None:
    configure(pack, {"replica-bounds": {"minReplica": 3, "maxReplica": 2}})
    diagnostics = analyze(pack, analyzer_resource("prod", stack["prod"].outputs))
    assert summary(diagnostics) == [
        (
            "replica-bounds",
            "MANDATORY",
            "invalid policy config: invalid replica-bounds: minReplica 3 is above maxReplica 2",
        )
    ]
    assert diagnostics[0].urn == ""
    configure(pack)  # back to the defaults for whoever runs next


# -- the policies called directly ------------------------------------------------------------------


def policy_resource(
    name: str, outputs: Mapping[str, Any], resource_type: str = CHAIN_DEPLOYMENT_TYPE
) -> PolicyResource:
    """A stack resource as the analyzer hands it to a policy (wire values, unknown-checking)."""
    props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(wire(outputs))))
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    return PolicyResource(resource_type, props, urn(name), name, options, None, None, [], {})


def test_the_native_plugins_chain_deployments_are_checked_from_their_rawjson_output(
    stack: dict[str, RegisteredResource],
) -> None:
    outputs = stack["prod"].outputs
    # The plugin's outputs are camelCase: the same deployment, under rawJson.
    plugin_outputs = {"chainId": outputs["chain_id"], "rawJson": outputs["raw_json"]}
    config = {"maxReplica": 1}

    from_plugin = validate(
        "replica-bounds",
        [policy_resource("prod", plugin_outputs, "baseten:index:ChainDeployment")],
        config,
    )
    from_dynamic = validate("replica-bounds", [policy_resource("prod", outputs)], config)

    assert from_plugin and [m for m, _ in from_plugin] == [m for m, _ in from_dynamic]
    # Another provider's resource with a rawJson output is none of the pack's business.
    assert validate("replica-bounds", [policy_resource("x", plugin_outputs, "aws:s3:Bucket")]) == []


def test_server_text_in_a_violation_reaches_the_engine_escaped() -> None:
    hostile = "Gen\x1b]0;pwned\x07\u200b\nFAKE"
    body = make_deployment(
        CHAIN, "dphostl1", status="BUILDING", chainlets=[make_chainlet(hostile, status="BUILDING")]
    )
    outputs = {"chainId": CHAIN, "rawJson": json.dumps(body)}
    reported = validate(
        "deployment-active", [policy_resource("x", outputs, "baseten:index:ChainDeployment")]
    )
    messages = " ".join(m for m, _ in reported)
    assert "Gen\\x1b]0;pwned\\x07\\u200b\\nFAKE" in messages, messages
    assert "\x1b" not in messages and "\u200b" not in messages and "\n" not in messages


def validate(name: str, resources: list[PolicyResource], config: Any = None) -> list[Any]:
    reported: list[tuple[str, str | None]] = []
    policy = next(p for p in stack_policies() if p.name == name)
    policy.validate(
        StackValidationArgs(resources, config), lambda m, u=None: reported.append((m, u))
    )
    return reported


def test_the_pack_directory_is_a_python_policy_pack() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python" and project["version"]
    requirements = (PACK_DIR / "requirements.txt").read_text().splitlines()
    # The rules come from this repository's package (with its policy extra), found beside
    # the file whatever the working directory (tests/install runs the install itself).
    assert "--find-links ../../dist" in requirements
    assert any(line.startswith("pulumi-baseten-chains[policy]") for line in requirements)
    # The example config is valid for the pipeline check as well (test_cli_check runs it).
    parse_config(json.loads(EXAMPLE_CONFIG.read_text()))


def test_the_resource_type_is_the_one_chain_deployments_register(
    stack: dict[str, RegisteredResource],
) -> None:
    assert stack["prod"].type == CHAIN_DEPLOYMENT_TYPE


def test_outputs_that_crossed_the_wire_rebuild_the_typed_model(
    stack: dict[str, RegisteredResource],
) -> None:
    model = deployment_from_outputs(policy_resource("prod", stack["prod"].outputs).props)
    assert (model.chain_id, model.id, model.environment) == (CHAIN, "dp3m8x1v", "production")
    auto = model.chainlet("Generator").autoscaling_settings
    assert auto is not None and auto.max_replica == 4 and isinstance(auto.max_replica, int)
    assert auto.target_in_flight_tokens is None  # a null the wire may drop comes back


def test_validate_called_directly(stack: dict[str, RegisteredResource]) -> None:
    building = policy_resource("building", stack["building"].outputs)
    prod = policy_resource("prod", stack["prod"].outputs)
    reported = validate("deployment-active", [prod, building])
    assert len(reported) == 4 and {u for _, u in reported} == {urn("building")}
    assert (
        validate("deployment-active", [prod, building], {"statuses": ["ACTIVE", "BUILDING"]}) == []
    )
    assert validate("allowed-instance-types", [building], {"instanceTypes": ["1x4"]}) == [
        (
            "ChainDeployment 'building' (chain ch7k2p9q, deployment dpbuild1): chainlet "
            f"{name}: instance_type_name is {type_}, expected one of 1x4",
            urn("building"),
        )
        for name, type_ in (("Retriever", "L4:4x16"), ("Generator", "H100:1x20x80"))
    ]


def test_validate_reports_known_resources_before_the_unknown_note(
    stack: dict[str, RegisteredResource],
) -> None:
    unknown = policy_resource("prod", {**stack["prod"].outputs, "raw_json": rpc.UNKNOWN})
    building = policy_resource("building", stack["building"].outputs)
    reported: list[str] = []
    policy = stack_policies()[0]
    with pytest.raises(UnknownValueError) as caught:
        policy.validate(
            StackValidationArgs([unknown, building]), lambda m, u=None: reported.append(m)
        )
    assert len(reported) == 4
    assert caught.value.message == (
        "ChainDeployment 'prod': string value at .raw_json can't be known during preview"
    )


@pytest.mark.parametrize(
    ("raw_json", "error"),
    [
        ({"chainlets": "none"}, "chainlets: Input should be a valid array"),
        ("not json", "(Invalid JSON"),
        (7, "JSON input should be string"),
    ],
    ids=["not-a-deployment", "not-json", "not-a-string"],
)
def test_a_raw_json_that_is_not_a_deployment_is_a_violation(
    stack: dict[str, RegisteredResource], raw_json: Any, error: str
) -> None:
    outputs = stack["prod"].outputs
    if isinstance(raw_json, dict):  # the real deployment with these fields replaced
        raw_json = json.dumps({**json.loads(outputs["raw_json"]), **raw_json})
    broken = policy_resource("prod", {**outputs, "raw_json": raw_json})
    reported = validate("deployment-active", [broken])
    assert len(reported) == 1
    message, where = reported[0]
    assert where == urn("prod")
    assert message.startswith(
        "ChainDeployment 'prod': outputs do not describe a chain deployment ("
    )
    assert error in message
