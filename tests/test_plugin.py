"""``pulumi-resource-baseten`` driven over gRPC as the Pulumi engine drives a provider plugin.

The console script is started with flags and then the address of a test Engine service that
records ``Log`` calls (``plugin_engine.py``); the API key reaches it only as a *secret* stack
config value (``CheckConfig``, then ``Configure``), with ``BASETEN_API_KEY`` absent from its
environment. The emulator (127.0.0.1) answers; its request log is the evidence of what the
plugin sent, and nothing but GET is ever allowed.

The module's plugin runs its gates on a simulated clock (``BASETEN_PLUGIN_SIMULATED_TIME``), so
rollouts of minutes, heartbeats and timeouts take milliseconds; the tests about real time
(Cancel, concurrency) start their own plugin on the real clock. Everything every plugin sent
back, wrote to stderr or logged to the engine is searched for the key at the end.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from pulumi.runtime import rpc

from provider.emulator import (
    Emulator,
    Step,
    deployment_path,
    environment_path,
    load_default_fixtures,
    make_chainlet,
    make_deployment,
)
from provider.functions import MAX_IN_FLIGHT
from provider.models import ChainDeployment
from provider.plugin.server import engine_address
from provider.reads import READS
from tests.conftest import TEST_KEY
from tests.emulator_faults import Fault
from tests.engine_steps import (
    clean_deployment,
    diff_after_a_refresh_while_unhealthy,
    diff_again,
    up,
)
from tests.leakscan import scan
from tests.plugin_engine import (
    UNKNOWN,
    PluginCallError,
    PluginProcess,
    RecordingEngine,
    is_secret,
    reveal,
    secret,
    urn_of,
)
from tests.provider_host import wait_until

CHAIN = "ch7k2p9q"
ACTIVE_ID = "dp3m8x1v"
URN = urn_of("gate")
NO_API_ENV: dict[str, str | None] = {"BASETEN_API_KEY": None, "BASETEN_API_URL": None}
SIMULATED = {**NO_API_ENV, "BASETEN_PLUGIN_SIMULATED_TIME": "1"}
REAL_TIME = {**NO_API_ENV, "BASETEN_PLUGIN_SIMULATED_TIME": None}

_places: dict[str, str] = {}


def remember(name: str, plugin: PluginProcess, engine: RecordingEngine | None = None) -> None:
    """Keep everything ``plugin`` produced (and the engine's log) for the final key scan."""
    for place, text in plugin.transcript().items():
        _places[f"{name}: {place}"] = text
    if engine is not None:
        for i, line in enumerate(engine.lines):
            _places[f"{name}: log {i}"] = line.message


def configured(
    plugin: PluginProcess, engine: RecordingEngine, url: str, key: str = TEST_KEY
) -> None:
    """What the engine does first: Handshake, then CheckConfig and Configure with the stack's
    config (the key set with ``pulumi config set --secret``)."""
    plugin.handshake(engine.address)
    checked = plugin.check_config({"apiKey": secret(key), "apiUrl": url, "version": "0.1.0"})
    assert checked["failures"] == []
    plugin.configure(checked["inputs"])


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=TEST_KEY) as emu:
        yield emu


@pytest.fixture(scope="module")
def engine() -> Iterator[RecordingEngine]:
    with RecordingEngine() as eng:
        yield eng


@pytest.fixture(scope="module")
def plugin(emulator: Emulator, engine: RecordingEngine) -> Iterator[PluginProcess]:
    with PluginProcess(engine.address, env=SIMULATED) as p:
        configured(p, engine, emulator.url)
        yield p
        remember("module plugin", p)


@pytest.fixture(autouse=True)
def _fresh(emulator: Emulator, engine: RecordingEngine) -> Iterator[None]:
    emulator.clear_faults()
    load_default_fixtures(emulator)
    emulator.latency = 0.0
    emulator.clear_requests()
    engine.clear()
    yield
    for i, line in enumerate(engine.lines):
        _places[f"log {len(_places)} {i}"] = line.message
    assert emulator.methods() <= {"GET"}, emulator.methods()


def gets(emulator: Emulator, path: str | None = None) -> list[Any]:
    requests = emulator.requests if path is None else emulator.requests_for(path)
    return [r for r in requests if r.method == "GET"]


def by_id(deployment_id: str = ACTIVE_ID, **extra: Any) -> dict[str, Any]:
    return {"chainId": CHAIN, "chainDeploymentId": deployment_id, **extra}


def by_env(environment: str = "production", **extra: Any) -> dict[str, Any]:
    return {"chainId": CHAIN, "environment": environment, **extra}


def assert_clean(error: PluginCallError) -> None:
    """An error as the engine should show it: one line of ours, no traceback, no key."""
    assert "Unexpected" not in error.details
    assert "Traceback" not in error.details and 'File "' not in error.details
    assert "\n" not in error.details
    assert scan({"error": error.details}, TEST_KEY) == []


# -- start-up ----------------------------------------------------------------------------------


def test_the_first_line_of_stdout_is_the_port_alone(plugin: PluginProcess) -> None:
    assert re.fullmatch(rb"\d+\n", plugin.first_line)
    assert int(plugin.first_line) == plugin.port
    assert plugin.running


@pytest.mark.parametrize(
    ("argv", "address"),
    [
        (["127.0.0.1:5000"], "127.0.0.1:5000"),
        (["--logtostderr", "-v=9", "127.0.0.1:5000"], "127.0.0.1:5000"),
        (["--tracing", "http://127.0.0.1:9411", "127.0.0.1:5000"], "127.0.0.1:5000"),
        (["--logflow", "--logtostderr", "-v=3", "--tracing", "t:1", "h:2"], "h:2"),
        (["--logtostderr"], None),
    ],
)
def test_the_engine_address_is_the_last_argument_not_a_flag_value(
    argv: list[str], address: str | None
) -> None:
    assert engine_address(argv) == address


def test_plugin_info_is_a_semver_version(plugin: PluginProcess) -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", plugin.plugin_info())


def test_handshake_accepts_secrets_and_resources_as_configure_does(
    plugin: PluginProcess, engine: RecordingEngine
) -> None:
    # provider.proto: a provider that implements Handshake must accept secrets and resources,
    # and its Configure answer must match its Handshake answer.
    shook = plugin.handshake(engine.address)
    assert shook.accept_secrets is True and shook.accept_resources is True
    assert shook.accept_outputs is False
    configured = next(r for r in plugin.responses if type(r).__name__ == "ConfigureResponse")
    assert configured.acceptSecrets is True and configured.supportsPreview is True
    assert configured.acceptResources is True and configured.acceptOutputs is False


def test_a_resource_reference_for_an_input_is_a_check_failure(plugin: PluginProcess) -> None:
    # Accepting resources, the plugin may receive a reference where a string belongs.
    reference = {
        rpc._special_sig_key: rpc._special_resource_sig,
        "urn": urn_of("other", "baseten:index:Other"),
        "id": "dp3m8x1v",
    }
    checked = plugin.check({}, by_id(chainDeploymentId=reference))
    assert [name for name, _ in checked["failures"]] == ["chainDeploymentId"]


def test_mappings_are_empty_answers_not_errors(plugin: PluginProcess) -> None:
    # provider.proto: "A provider should return an empty response (not an error) if it
    # doesn't have a mapping for the given key."
    for provider in ("", "baseten"):
        mapping = plugin.get_mapping("terraform", provider)
        assert mapping.provider == "" and mapping.data == b""
    assert list(plugin.get_mappings("terraform").providers) == []


def test_list_is_unimplemented_without_a_traceback(plugin: PluginProcess) -> None:
    with pytest.raises(PluginCallError) as info:
        plugin.list_resources()
    assert info.value.code == grpc.StatusCode.UNIMPLEMENTED
    assert_clean(info.value)
    assert plugin.running
    time.sleep(0.2)  # anything gRPC logs for the call reaches stderr by now
    assert "Traceback" not in plugin.stderr and "NotImplementedError" not in plugin.stderr


def test_get_schema_serves_the_derived_schema(plugin: PluginProcess) -> None:
    from provider.plugin.schema import package_schema

    served = json.loads(plugin.schema())
    assert served == json.loads(json.dumps(package_schema()))
    assert set(served["resources"]) == {"baseten:index:ChainDeployment"}
    assert (
        set(served["functions"])
        == {f"baseten:index:{read.token_name}" for read in READS}
        >= {"baseten:index:getChainDeployment", "baseten:index:getChain"}
    )
    assert served["version"] == plugin.plugin_info()


# -- configuration -----------------------------------------------------------------------------


def test_check_config_returns_the_config_with_the_key_secret(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    # The engine sends config to CheckConfig with secrets as plain values.
    checked = plugin.check_config({"apiKey": TEST_KEY, "apiUrl": emulator.url, "version": "0.1.0"})
    assert checked["failures"] == []
    assert is_secret(checked["inputs"]["apiKey"])
    assert reveal(checked["inputs"]) == {
        "apiKey": TEST_KEY,
        "apiUrl": emulator.url,
        "version": "0.1.0",
    }


@pytest.mark.parametrize(
    ("config", "prop"),
    [
        ({"apiUrl": "http://api.example.com"}, "apiUrl"),
        ({"apiUrl": "https://user:pw@api.baseten.co"}, "apiUrl"),
        ({"apiKey": "sk-test-LEAKCHECK-7f3a9c2e\n"}, "apiKey"),
    ],
    ids=["plain-http", "credentials-in-url", "newline-in-key"],
)
def test_check_config_names_a_bad_setting_without_echoing_the_key(
    plugin: PluginProcess, config: dict[str, str], prop: str
) -> None:
    checked = plugin.check_config(config)
    assert [p for p, _ in checked["failures"]] == [prop]
    assert scan({"failures": str(checked["failures"])}, TEST_KEY) == []


def test_check_config_lets_unknown_settings_pass(plugin: PluginProcess) -> None:
    checked = plugin.check_config({"apiKey": UNKNOWN, "apiUrl": UNKNOWN})
    assert checked["failures"] == []


def test_an_unexpected_config_key_is_a_warning_on_the_provider(
    plugin: PluginProcess, engine: RecordingEngine
) -> None:
    checked = plugin.check_config({"apiKye": "x"})
    assert checked["failures"] == []
    warnings = [line for line in engine.lines if line.severity == "WARNING"]
    assert len(warnings) == 1 and "baseten:apiKye" in warnings[0].message
    assert warnings[0].urn == urn_of("default", "pulumi:providers:baseten")


def test_a_config_change_is_left_for_the_engine_to_compare(plugin: PluginProcess) -> None:
    olds = {"apiKey": secret(TEST_KEY), "apiUrl": "https://api.baseten.co"}
    news = {"apiKey": secret(TEST_KEY), "apiUrl": "https://eu.api.baseten.co"}
    assert plugin.diff_config(olds, news) == "DIFF_UNKNOWN"


def test_handshake_names_the_engine_that_gets_the_log(
    emulator: Emulator, engine: RecordingEngine
) -> None:
    # Started with an address where nothing listens; Handshake brings the real one.
    with PluginProcess("127.0.0.1:9", env=SIMULATED) as retargeted:
        configured(retargeted, engine, emulator.url)
        up(retargeted, by_id())
        remember("retargeted plugin", retargeted)
    assert any("deployment dp3m8x1v is ACTIVE" in line.message for line in engine.lines_for(URN))


def test_without_any_key_the_error_says_where_to_set_it(
    emulator: Emulator, engine: RecordingEngine
) -> None:
    with PluginProcess(engine.address, env=SIMULATED) as keyless:
        keyless.handshake(engine.address)
        checked = keyless.check_config({"apiUrl": emulator.url})
        keyless.configure(checked["inputs"])
        with pytest.raises(PluginCallError) as info:
            up(keyless, by_id())
        remember("keyless plugin", keyless)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details.startswith("Invalid input: invalid apiKey: no API key")
    assert "pulumi config set --secret baseten:apiKey" in info.value.details
    assert_clean(info.value)
    assert emulator.requests == []


# -- Check -------------------------------------------------------------------------------------


def test_check_fills_in_the_defaults_and_keeps_only_the_inputs(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    checked = plugin.check({}, by_id(apiKey=TEST_KEY, status="ACTIVE"))
    assert checked["failures"] == []
    assert checked["inputs"] == {
        "chainId": CHAIN,
        "chainDeploymentId": ACTIVE_ID,
        "waitFor": ["ACTIVE"],
        "timeoutSeconds": 900,
    }
    explicit = plugin.check({}, by_env(waitFor=[], timeoutSeconds=60))
    assert explicit["inputs"]["waitFor"] == [] and explicit["inputs"]["timeoutSeconds"] == 60
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("news", "prop"),
    [
        ({"chainDeploymentId": ACTIVE_ID}, "chainId"),
        (by_id(environment="production"), "environment"),
        ({"chainId": CHAIN}, "chainDeploymentId"),
        (by_id("a/b"), "chainDeploymentId"),
        ({"chainId": "../x", "environment": "production"}, "chainId"),
        (by_id(waitFor=["ACTIVE", "READY_ISH"]), "waitFor"),
        (by_id(timeoutSeconds=0), "timeoutSeconds"),
        (by_id(timeoutSeconds="soon"), "timeoutSeconds"),
    ],
    ids=[
        "missing-chain-id",
        "both-id-and-environment",
        "neither",
        "bad-deployment-id",
        "bad-chain-id",
        "unknown-status",
        "zero-timeout",
        "timeout-not-a-number",
    ],
)
def test_check_names_the_property_at_fault_in_the_schemas_spelling(
    plugin: PluginProcess, emulator: Emulator, news: dict[str, Any], prop: str
) -> None:
    failures = plugin.check({}, news)["failures"]
    assert [p for p, _ in failures] == [prop]
    for _, reason in failures:
        assert reason and "_id" not in reason and "wait_for" not in reason
    assert emulator.requests == []


def test_check_names_every_bad_property_at_once(plugin: PluginProcess) -> None:
    failures = plugin.check({}, by_id("a/b", waitFor=["NOPE"], timeoutSeconds=-1))["failures"]
    assert {p for p, _ in failures} == {"chainDeploymentId", "waitFor", "timeoutSeconds"}


@pytest.mark.parametrize(
    "news",
    [
        by_id(UNKNOWN),
        by_id(waitFor=UNKNOWN),
        by_id(waitFor=["ACTIVE", UNKNOWN]),
        by_id(timeoutSeconds=UNKNOWN),
        by_id(chainId=UNKNOWN),
        {"chainId": CHAIN, "environment": UNKNOWN},
    ],
    ids=["deployment-id", "wait-for", "wait-for-item", "timeout", "chain-id", "environment"],
)
def test_check_lets_unknowns_pass_during_preview(
    plugin: PluginProcess, emulator: Emulator, news: dict[str, Any]
) -> None:
    checked = plugin.check({}, news)
    assert checked["failures"] == []
    assert emulator.requests == []


def _secret_names(values: dict[str, Any]) -> set[str]:
    return {name for name, value in values.items() if is_secret(value)}


@pytest.mark.parametrize(
    ("news", "secret_outputs"),
    [
        (by_id(chainId=secret(CHAIN)), {"chainId", "rawJson"}),
        (
            by_id(chainDeploymentId=secret(ACTIVE_ID)),
            {"chainDeploymentId", "environment", "rawJson"},
        ),
        (by_env(environment=secret("production")), {"chainDeploymentId", "environment", "rawJson"}),
        (by_id(timeoutSeconds=secret(600)), {"timeoutSeconds"}),
        (by_id(waitFor=secret(["ACTIVE", "UNHEALTHY"])), {"waitFor", "ready"}),
    ],
    ids=["chain-id", "deployment-id", "environment", "timeout", "wait-for"],
)
def test_an_output_is_secret_only_when_derived_from_a_secret_input(
    plugin: PluginProcess, news: dict[str, Any], secret_outputs: set[str]
) -> None:
    secret_input = _secret_names(news)
    checked = plugin.check({}, news)
    assert checked["failures"] == []
    assert _secret_names(checked["inputs"]) == secret_input
    created = plugin.create(checked["inputs"])
    assert _secret_names(created["properties"]) == secret_outputs
    assert reveal(created["properties"])["status"] == "ACTIVE"
    # A refresh keeps each input, and each output, as secret as it was; no more.
    read = plugin.read(created["id"], created["properties"], checked["inputs"])
    assert _secret_names(read["inputs"]) == secret_input
    assert _secret_names(read["properties"]) == secret_outputs
    # The preview of the same resource, and the function form, mark the same outputs.
    preview = plugin.create(checked["inputs"], preview=True)["properties"]
    assert _secret_names(preview) <= secret_outputs
    assert _secret_names(plugin.invoke(news)["return"]) == secret_outputs


def test_an_output_that_repeats_a_secret_identity_is_secret(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    # Baseten's answer may repeat a chain id anywhere, e.g. in a chainlet's name.
    named = [make_chainlet(f"{CHAIN}-worker", instance_type_name="T4:1x4")]
    emulator.add_deployment(CHAIN, make_deployment(CHAIN, "dpnamed1", chainlets=named))
    checked = plugin.check({}, by_id("dpnamed1", chainId=secret(CHAIN)))
    created = plugin.create(checked["inputs"])
    assert _secret_names(created["properties"]) == {
        "chainId",
        "rawJson",
        "chainlets",
        "chainletsByName",
        "instanceTypes",
    }


# -- Create ------------------------------------------------------------------------------------


def test_preview_create_answers_at_once_with_unknown_outputs(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    checked = plugin.check({}, by_id())["inputs"]
    preview = plugin.create(checked, preview=True)
    out = preview["properties"]
    assert preview["id"] == ""
    assert out["chainId"] == CHAIN and out["chainDeploymentId"] == ACTIVE_ID
    assert out["lookupBy"] == "chain_deployment_id"
    assert out["waitFor"] == ["ACTIVE"] and out["timeoutSeconds"] == 900
    for name in ("status", "ready", "createdAt", "chainlets", "instanceTypes", "rawJson"):
        assert out[name] == UNKNOWN, name
    assert out["environment"] == UNKNOWN  # the environment it serves is not read yet
    by_environment = plugin.create(plugin.check({}, by_env())["inputs"], preview=True)
    assert by_environment["properties"]["chainDeploymentId"] == UNKNOWN
    assert by_environment["properties"]["environment"] == "production"
    unknown_id = plugin.create(by_id(UNKNOWN, waitFor=["ACTIVE"]), preview=True)
    assert unknown_id["properties"]["chainDeploymentId"] == UNKNOWN
    assert emulator.requests == []


def test_create_on_an_active_deployment(
    plugin: PluginProcess, emulator: Emulator, engine: RecordingEngine
) -> None:
    created = up(plugin, by_id())
    assert created["id"] == f"{CHAIN}/{ACTIVE_ID}"
    out = created["properties"]
    assert out["chainId"] == CHAIN and out["chainDeploymentId"] == ACTIVE_ID
    assert out["environment"] == "production" and out["lookupBy"] == "chain_deployment_id"
    assert out["status"] == "ACTIVE" and out["ready"] is True
    assert out["createdAt"] == "2026-11-18T16:02:45Z"
    assert out["waitFor"] == ["ACTIVE"] and out["timeoutSeconds"] == 900
    assert [c["name"] for c in out["chainlets"]] == ["Entrypoint", "Retriever", "Generator"]
    generator = out["chainletsByName"]["Generator"]  # chainlet names are keys, not renamed
    assert generator == out["chainlets"][2]
    assert set(generator) == {
        "id",
        "name",
        "autoscalingSettings",
        "instanceTypeName",
        "activeReplicaCount",
        "status",
    }
    assert generator["instanceTypeName"] == "H100:1x20x80"
    assert generator["activeReplicaCount"] == 1
    assert generator["autoscalingSettings"]["minReplica"] == 1
    assert generator["autoscalingSettings"]["maxReplica"] == 4
    assert generator["autoscalingSettings"]["concurrencyTarget"] == 2
    assert out["instanceTypes"] == {
        "Entrypoint": "1x4",
        "Retriever": "L4:4x16",
        "Generator": "H100:1x20x80",
    }
    model = ChainDeployment.model_validate_json(out["rawJson"])  # lossless, the API's names
    assert model.chainlet("Generator").autoscaling_settings is not None
    assert [r.path for r in gets(emulator)] == [deployment_path(CHAIN, ACTIVE_ID)]
    lines = engine.lines_for(URN)
    assert lines and all(line.ephemeral and line.severity == "INFO" for line in lines)
    assert "deployment dp3m8x1v is ACTIVE" in lines[-1].message


def test_create_waits_through_a_rollout_showing_each_status_on_the_row(
    plugin: PluginProcess, emulator: Emulator, engine: RecordingEngine
) -> None:
    emulator.add_deployment(CHAIN, make_deployment(CHAIN, "dproll01"))
    emulator.set_timeline(
        CHAIN,
        "dproll01",
        [Step("BUILDING"), Step("DEPLOYING", after_requests=2), Step("ACTIVE", after_requests=4)],
    )
    created = up(plugin, by_id("dproll01"))
    assert created["properties"]["status"] == "ACTIVE" and created["properties"]["ready"]
    assert len(gets(emulator, deployment_path(CHAIN, "dproll01"))) == 5
    messages = [line.message for line in engine.lines_for(URN)]
    for status in ("BUILDING", "DEPLOYING", "ACTIVE"):
        assert any(f"deployment dproll01 is {status}" in m for m in messages), status
    assert all(line.ephemeral for line in engine.lines_for(URN))


def _elapsed(message: str) -> int:
    found = re.search(r"after (?:(\d+)m)?(\d+)s", message)
    assert found, message
    return int(found.group(1) or 0) * 60 + int(found.group(2))


def test_a_long_rollout_reports_at_least_every_30_seconds(
    plugin: PluginProcess, emulator: Emulator, engine: RecordingEngine
) -> None:
    emulator.add_deployment(CHAIN, make_deployment(CHAIN, "dpslow01"))
    emulator.set_timeline(CHAIN, "dpslow01", [Step("BUILDING"), Step("ACTIVE", after_requests=20)])
    up(plugin, by_id("dpslow01"))  # about 3 simulated minutes
    messages = [line.message for line in engine.lines_for(URN)]
    heartbeats = [m for m in messages if m.startswith("still BUILDING after")]
    assert len(heartbeats) >= 4
    assert any(re.match(r"still BUILDING after 2m\d\ds; next check in \d+s", m) for m in heartbeats)
    times = [_elapsed(m) for m in messages]
    assert times == sorted(times)
    assert max(b - a for a, b in itertools.pairwise(times)) <= 30


def test_create_fails_fast_on_build_failed(plugin: PluginProcess, emulator: Emulator) -> None:
    with pytest.raises(PluginCallError) as info:
        up(plugin, by_id("dpfail01"))
    assert info.value.details.startswith("Chain deployment will not become ready: ")
    assert "chainlet Generator is BUILD_FAILED" in info.value.details
    assert info.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert_clean(info.value)
    assert len(gets(emulator)) == 1


def test_create_times_out_saying_what_it_waited_for(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    with pytest.raises(PluginCallError) as info:
        up(plugin, by_id("dpbuild1"))  # BUILDING for ever; 900 simulated seconds
    details = info.value.details
    assert details.startswith("Timed out waiting for the deployment: timed out after 900s")
    assert "deployment is BUILDING" in details
    assert "Raise timeoutSeconds" in details
    assert_clean(info.value)
    assert 80 <= len(gets(emulator)) <= 100  # every 10 s after the first 15 s


def test_the_engines_custom_timeout_caps_the_wait(plugin: PluginProcess) -> None:
    with pytest.raises(PluginCallError) as info:
        up(plugin, by_id("dpbuild1"), timeout=60.0)
    assert "timed out after 60s" in info.value.details
    # Nothing else was in flight: the message must not blame the bound on requests in flight.
    assert "in flight" not in info.value.details


@pytest.mark.parametrize(
    ("fault", "code", "text"),
    [
        (None, grpc.StatusCode.NOT_FOUND, "Not found: HTTP 404: chain deployment 'dpnope99'"),
        (
            Fault("status", status=401, times=None),
            grpc.StatusCode.UNAUTHENTICATED,
            "Baseten rejected the API key: HTTP 401",
        ),
        (
            Fault("status", status=403, times=None),
            grpc.StatusCode.UNAUTHENTICATED,
            "Baseten rejected the API key: HTTP 403",
        ),
    ],
    ids=["404", "401", "403"],
)
def test_api_errors_are_one_clean_line(
    plugin: PluginProcess,
    emulator: Emulator,
    fault: Fault | None,
    code: grpc.StatusCode,
    text: str,
) -> None:
    deployment_id = "dpnope99" if fault is None else ACTIVE_ID
    if fault is not None:
        emulator.add_fault(fault, deployment_path(CHAIN, deployment_id))
    with pytest.raises(PluginCallError) as info:
        up(plugin, by_id(deployment_id))
    assert info.value.code == code
    assert info.value.details.startswith(text)
    if fault is not None:
        assert "pulumi config set --secret baseten:apiKey" in info.value.details
    assert_clean(info.value)
    assert len(gets(emulator)) == 1


GONE_BODY = b'{"message": "gone \\ud800 \\u001b]0;pwned\\u0007"}'
"""A 404 whose message holds a lone surrogate (valid JSON, not encodable) and an OSC sequence."""


@pytest.mark.parametrize("call", ["create", "invoke"])
def test_a_404_message_holding_a_lone_surrogate_is_answered_escaped(
    plugin: PluginProcess, emulator: Emulator, call: str
) -> None:
    # Before, the status could not be encoded and the call was never answered (the engine sets
    # no deadline on Create or Invoke): the call timeout here stands in for the engine's patience.
    emulator.add_raw_answer(GONE_BODY, deployment_path(CHAIN, "dpgone99"), status=404, times=None)
    with pytest.raises(PluginCallError) as info:
        if call == "create":
            plugin.create(by_id("dpgone99"), call_timeout=10.0)
        else:
            plugin.invoke(by_id("dpgone99"))
    assert info.value.code == grpc.StatusCode.NOT_FOUND, info.value.details
    assert "HTTP 404" in info.value.details
    assert "gone \\ud800 \\x1b]0;pwned\\x07" in info.value.details
    assert_clean(info.value)
    assert plugin.running


def test_a_request_the_sdk_cannot_read_is_one_line_not_a_traceback(plugin: PluginProcess) -> None:
    broken_secret = {k: v for k, v in secret(CHAIN).items() if k != "value"}
    with pytest.raises(PluginCallError) as info:
        plugin.create(by_id(chainId=broken_secret))
    assert info.value.code == grpc.StatusCode.INTERNAL
    assert info.value.details == (
        "Internal error in the Baseten provider: ValueError: Secret value missing 'value' field."
    )
    assert_clean(info.value)
    assert plugin.running


# -- Diff --------------------------------------------------------------------------------------


def test_diff_with_nothing_changed_is_none_after_one_get(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    for deployment in (clean_deployment("dpclean1"), None):
        if deployment is not None:
            emulator.add_deployment(CHAIN, deployment)
        target = "dpclean1" if deployment is not None else ACTIVE_ID  # with nulls in it
        created = up(plugin, by_id(target))
        emulator.clear_requests()
        result = diff_again(plugin, created, by_id(target))
        assert result["changes"] == "DIFF_NONE", result
        assert result["replaces"] == [] and result["detailed"] == {}
        assert [r.path for r in gets(emulator)] == [deployment_path(CHAIN, target)]


@pytest.mark.parametrize(
    ("changed", "properties"),
    [
        ({"instance": "H100:1x20x80"}, {"instanceTypes", "chainlets", "chainletsByName"}),
        ({"max_replica": 7}, {"chainlets", "chainletsByName"}),
    ],
    ids=["instance-type", "replica-bounds"],
)
def test_diff_after_a_remote_change_names_what_changed(
    plugin: PluginProcess, emulator: Emulator, changed: dict[str, Any], properties: set[str]
) -> None:
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1"))
    created = up(plugin, by_id("dpclean1"))
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1", **changed))
    emulator.clear_requests()
    result = diff_again(plugin, created, by_id("dpclean1"))
    assert result["changes"] == "DIFF_SOME" and result["replaces"] == []
    assert set(result["detailed"]) == properties | {"rawJson"}
    assert all(kind == ("UPDATE", False) for kind in result["detailed"].values())
    assert len(gets(emulator)) == 1
    # The engine's Update then stores what is live now.
    updated = plugin.update(created["id"], created["properties"], created["inputs"])
    generator = updated["chainletsByName"]["Generator"]
    if "instance" in changed:
        assert updated["instanceTypes"]["Generator"] == changed["instance"]
    else:
        assert generator["autoscalingSettings"]["maxReplica"] == changed["max_replica"]
    again = plugin.diff(created["id"], updated, created["inputs"])
    assert again["changes"] == "DIFF_NONE"


@pytest.mark.parametrize(
    ("news", "replaced"),
    [
        (by_id("dp9w4n2r"), "chainDeploymentId"),
        (by_env("staging"), "environment"),  # the deployment serves production
        ({"chainId": "chother1", "chainDeploymentId": ACTIVE_ID}, "chainId"),
    ],
    ids=["deployment-id", "id-to-another-environment", "chain-id"],
)
def test_diff_with_a_changed_identity_replaces_without_a_request(
    plugin: PluginProcess, emulator: Emulator, news: dict[str, Any], replaced: str
) -> None:
    created = up(plugin, by_id())
    emulator.clear_requests()
    result = diff_again(plugin, created, news)
    assert result["changes"] == "DIFF_SOME"
    assert replaced in result["replaces"]
    assert result["detailed"][replaced] == ("UPDATE_REPLACE", True)
    assert result["delete_before_replace"] is False
    assert emulator.requests == []


def test_diff_with_unknowns_needs_no_request(plugin: PluginProcess, emulator: Emulator) -> None:
    created = up(plugin, by_id())
    emulator.clear_requests()
    unknown_id = plugin.diff(created["id"], created["properties"], by_id(UNKNOWN))
    assert unknown_id["changes"] == "DIFF_SOME"
    assert unknown_id["replaces"] == ["chainDeploymentId"]
    unknown_wait = plugin.diff(created["id"], created["properties"], by_id(waitFor=UNKNOWN))
    assert unknown_wait["changes"] == "DIFF_SOME" and unknown_wait["replaces"] == []
    assert unknown_wait["detailed"] == {"waitFor": ("UPDATE", True)}
    assert emulator.requests == []


def test_diff_of_a_changed_gate_setting_is_an_update(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    created = up(plugin, by_id())
    result = diff_again(plugin, created, by_id(waitFor=["ACTIVE", "SCALED_TO_ZERO"]))
    assert result["changes"] == "DIFF_SOME" and result["replaces"] == []
    assert result["detailed"]["waitFor"] == ("UPDATE", True)


def test_diff_after_a_promotion_replaces(plugin: PluginProcess, emulator: Emulator) -> None:
    created = up(plugin, by_env())
    assert created["properties"]["chainDeploymentId"] == ACTIVE_ID
    emulator.set_environment(CHAIN, "production", "dp9w4n2r")
    emulator.clear_requests()
    result = diff_again(plugin, created, by_env())
    assert result["changes"] == "DIFF_SOME"
    assert result["replaces"] == ["chainDeploymentId"]
    assert [r.path for r in gets(emulator)] == [environment_path(CHAIN, "production")]


def test_diff_when_the_gate_closed(plugin: PluginProcess, emulator: Emulator) -> None:
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1"))
    created = up(plugin, by_id("dpclean1"))
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1", status="UNHEALTHY"))
    result = diff_again(plugin, created, by_id("dpclean1"))
    assert result["changes"] == "DIFF_SOME" and result["replaces"] == []
    assert result["detailed"]["ready"] == ("UPDATE", False)
    assert result["detailed"]["status"] == ("UPDATE", False)


def test_diff_after_a_refresh_stored_a_closed_gate_waits_again(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    result = diff_after_a_refresh_while_unhealthy(
        plugin, emulator, by_id("dpclean1"), by_id("dpclean1", waitFor=[])
    )
    assert result["detailed"] == {"ready": ("UPDATE", False)}


def test_diff_from_id_to_the_environment_serving_it_is_an_update(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    created = up(plugin, by_id())  # production serves it
    emulator.clear_requests()
    result = diff_again(plugin, created, by_env("production"))
    assert result["changes"] == "DIFF_SOME" and result["replaces"] == []
    assert all(kind == "UPDATE" for kind, _ in result["detailed"].values())
    assert [r.path for r in gets(emulator)] == [environment_path(CHAIN, "production")]


def test_update_during_a_preview_sends_nothing(plugin: PluginProcess, emulator: Emulator) -> None:
    created = up(plugin, by_id())
    emulator.clear_requests()
    preview = plugin.update(created["id"], created["properties"], created["inputs"], preview=True)
    assert preview["status"] == UNKNOWN and preview["chainId"] == CHAIN
    assert emulator.requests == []


# -- Read --------------------------------------------------------------------------------------


def test_refresh_rereads_the_deployment_with_one_get(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    created = up(plugin, by_id())
    emulator.clear_requests()
    read = plugin.read(created["id"], created["properties"], created["inputs"])
    assert read["id"] == created["id"]
    assert read["properties"] == created["properties"]
    assert read["inputs"] == {"chainId": CHAIN, "chainDeploymentId": ACTIVE_ID, **_gate()}
    assert len(gets(emulator)) == 1


def _gate() -> dict[str, Any]:
    return {"waitFor": ["ACTIVE"], "timeoutSeconds": 900}


def test_refresh_of_a_resource_found_by_environment_keeps_saying_so(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    created = up(plugin, by_env())
    emulator.set_environment(CHAIN, "production", "dp9w4n2r")  # refresh does not follow it
    read = plugin.read(created["id"], created["properties"], created["inputs"])
    assert read["id"] == f"{CHAIN}/{ACTIVE_ID}"
    assert read["properties"]["lookupBy"] == "environment"
    assert read["properties"]["environment"] == "production"
    assert read["inputs"] == {"chainId": CHAIN, "environment": "production", **_gate()}
    assert [r.path for r in gets(emulator)] == [
        environment_path(CHAIN, "production"),
        deployment_path(CHAIN, ACTIVE_ID),
    ]


def test_import_by_id_alone_returns_outputs_and_inputs(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    read = plugin.read(f"{CHAIN}/dp9w4n2r")
    assert read["id"] == f"{CHAIN}/dp9w4n2r"
    assert read["properties"]["status"] == "ACTIVE"
    assert read["properties"]["environment"] == "staging"
    assert read["inputs"] == {
        "chainId": CHAIN,
        "chainDeploymentId": "dp9w4n2r",
        "waitFor": ["ACTIVE"],
    }
    # The engine then checks those inputs as the olds, and diffs: nothing to do.
    checked = plugin.check(read["inputs"], read["inputs"])
    assert checked["failures"] == []
    result = plugin.diff(read["id"], read["properties"], checked["inputs"])
    assert result["changes"] == "DIFF_NONE"
    assert len(gets(emulator)) == 2


def test_import_by_id_into_a_program_naming_the_environment_that_serves_it_is_no_replace(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    read = plugin.read(f"{CHAIN}/{ACTIVE_ID}")  # pulumi import: the id alone
    assert read["properties"]["environment"] == "production"  # what it serves, recorded
    imported = {"id": read["id"], "properties": read["properties"], "inputs": read["inputs"]}
    emulator.clear_requests()
    # The engine checks the program's inputs against the imported ones, then diffs.
    result = diff_again(plugin, imported, by_env("production"))
    assert result["changes"] == "DIFF_SOME" and result["replaces"] == []
    assert [r.path for r in gets(emulator)] == [environment_path(CHAIN, "production")]
    checked = plugin.check(read["inputs"], by_env("production"))["inputs"]
    updated = plugin.update(read["id"], read["properties"], checked)
    assert updated["lookupBy"] == "environment" and updated["chainDeploymentId"] == ACTIVE_ID
    after = {"id": read["id"], "properties": updated, "inputs": checked}
    assert diff_again(plugin, after, by_env("production"))["changes"] == "DIFF_NONE"
    # Once production serves another deployment, the same import would replace.
    emulator.set_environment(CHAIN, "production", "dp9w4n2r")
    assert diff_again(plugin, imported, by_env("production"))["replaces"] == ["chainDeploymentId"]
    # And an environment the deployment does not serve replaces without a request.
    emulator.clear_requests()
    assert diff_again(plugin, imported, by_env("staging"))["replaces"] == ["environment"]
    assert emulator.requests == []


def test_read_of_a_gone_deployment_says_it_is_gone(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    read = plugin.read(f"{CHAIN}/dpnope99")
    assert read == {"id": "", "properties": {}, "inputs": {}}
    assert len(gets(emulator)) == 1


def test_read_with_a_malformed_id_is_a_clean_error(
    plugin: PluginProcess, emulator: Emulator
) -> None:
    with pytest.raises(PluginCallError) as info:
        plugin.read("just-one-part")
    assert info.value.details.startswith("Invalid input: invalid id: ")
    assert "CHAIN_ID/CHAIN_DEPLOYMENT_ID" in info.value.details
    assert_clean(info.value)
    assert emulator.requests == []


# -- Delete ------------------------------------------------------------------------------------


def test_delete_sends_nothing(plugin: PluginProcess, emulator: Emulator) -> None:
    created = up(plugin, by_id())
    emulator.clear_requests()
    plugin.delete(created["id"], created["properties"])
    assert emulator.requests == []


# -- Invoke ------------------------------------------------------------------------------------


def test_invoke_reads_without_waiting(
    plugin: PluginProcess, emulator: Emulator, engine: RecordingEngine
) -> None:
    result = plugin.invoke({"chainId": CHAIN, "chainDeploymentId": "dpbuild1"})
    assert result["failures"] == []
    out = result["return"]
    assert out["status"] == "BUILDING" and out["ready"] is False and out["waitFor"] == []
    assert out["chainlets"][0]["status"] == "BUILDING"
    assert "autoscalingSettings" not in out["chainlets"][0]  # null while deploying
    assert len(gets(emulator)) == 1


def test_invoke_returns_what_a_resource_would_output(plugin: PluginProcess) -> None:
    created = up(plugin, by_env("staging", waitFor=[]))
    result = plugin.invoke({"chainId": CHAIN, "environment": "staging"})
    assert result["return"] == {**created["properties"], "timeoutSeconds": 900}


def test_invoke_with_wait_for_waits(plugin: PluginProcess, emulator: Emulator) -> None:
    emulator.add_deployment(CHAIN, make_deployment(CHAIN, "dproll02"))
    emulator.set_timeline(CHAIN, "dproll02", [Step("DEPLOYING"), Step("ACTIVE", after_requests=2)])
    result = plugin.invoke(by_id("dproll02", waitFor=["ACTIVE"]))
    assert result["return"]["ready"] is True
    assert len(gets(emulator)) == 3


def test_invoke_names_every_bad_argument(plugin: PluginProcess, emulator: Emulator) -> None:
    result = plugin.invoke({"chainId": "a b", "waitFor": ["NOPE"]})
    assert {p for p, _ in result["failures"]} == {"chainId", "waitFor", "chainDeploymentId"}
    assert result["return"] == {}
    assert emulator.requests == []


def test_invoke_of_an_unknown_function_is_a_clean_error(plugin: PluginProcess) -> None:
    with pytest.raises(PluginCallError) as info:
        plugin.invoke({"chainId": CHAIN}, tok="baseten:index:getChainz")
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "baseten:index:getChainDeployment" in info.value.details
    assert_clean(info.value)


# -- warnings ----------------------------------------------------------------------------------


def test_surprises_in_the_answer_are_warnings_on_the_resource(
    plugin: PluginProcess, emulator: Emulator, engine: RecordingEngine
) -> None:
    chainlets = [make_chainlet("Twin", chainlet_id="twin0001"), make_chainlet("Twin")]
    deployment = make_deployment(CHAIN, "dpodd001", status="HIBERNATING", chainlets=chainlets)
    emulator.add_deployment(CHAIN, deployment)
    created = up(plugin, by_id("dpodd001", waitFor=[]))
    assert created["properties"]["status"] == "HIBERNATING"
    warnings = [line for line in engine.lines_for(URN) if line.severity == "WARNING"]
    assert any("several chainlets named 'Twin'" in w.message for w in warnings)
    assert any("'HIBERNATING', which this provider does not know" in w.message for w in warnings)
    assert not any(w.ephemeral for w in warnings)


def test_a_key_in_basetens_answer_is_replaced_with_a_warning(
    plugin: PluginProcess, emulator: Emulator, engine: RecordingEngine
) -> None:
    leaky = make_deployment(
        CHAIN, "dpleak01", chainlets=[make_chainlet(f"echo-{TEST_KEY}", chainlet_id="leak0001")]
    )
    emulator.add_deployment(CHAIN, leaky)
    created = up(plugin, by_id("dpleak01"))
    assert [c["name"] for c in created["properties"]["chainlets"]] == ["echo-<redacted>"]
    assert scan({"outputs": json.dumps(created)}, TEST_KEY) == []
    warnings = [line for line in engine.lines_for(URN) if line.severity == "WARNING"]
    assert any("echoed the API key" in w.message for w in warnings)
    assert scan({str(i): line.message for i, line in enumerate(engine.lines)}, TEST_KEY) == []


# -- real time: Cancel and concurrency ---------------------------------------------------------


def test_cancel_stops_a_waiting_gate_promptly_with_a_clear_error(
    emulator: Emulator, engine: RecordingEngine
) -> None:
    with PluginProcess(engine.address, env=REAL_TIME) as live:
        configured(live, engine, emulator.url)
        outcome: dict[str, Any] = {}

        def create() -> None:
            started = time.monotonic()
            try:
                up(live, by_id("dpbuild1", timeoutSeconds=120))
            except PluginCallError as exc:
                outcome["error"] = exc
            outcome["seconds"] = time.monotonic() - started

        waiting = threading.Thread(target=create)
        waiting.start()
        assert wait_until(lambda: len(gets(emulator)) >= 2, timeout=10)  # it is sleeping
        live.cancel()
        waiting.join(timeout=15)
        assert not waiting.is_alive()
        error = outcome["error"]
        assert error.code == grpc.StatusCode.ABORTED
        assert error.details.startswith("Cancelled: stopped waiting for deployment dpbuild1")
        assert "the engine cancelled the operation" in error.details
        assert_clean(error)
        assert outcome["seconds"] < 10  # the gate's own bound was 120 s
        assert live.plugin_info()  # still answering
        remember("cancel plugin", live)


def _peak_in_flight(requests: list[Any]) -> int:
    edges = sorted([(r.started, 1) for r in requests] + [(r.finished, -1) for r in requests])
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def test_fifty_concurrent_invokes_run_together_within_the_request_bound(
    emulator: Emulator, engine: RecordingEngine
) -> None:
    # A key whose rate limit is far above this burst: the in-flight bound is what is measured.
    with PluginProcess(engine.address, env={**REAL_TIME, "BASETEN_MAX_RPS": "10000"}) as live:
        configured(live, engine, emulator.url)
        live.invoke({"chainId": CHAIN, "chainDeploymentId": ACTIVE_ID})  # warm up
        emulator.latency = 0.05
        emulator.clear_requests()
        started = time.monotonic()
        with ThreadPoolExecutor(50) as pool:
            results = list(
                pool.map(
                    lambda _: live.invoke({"chainId": CHAIN, "chainDeploymentId": ACTIVE_ID}),
                    range(50),
                )
            )
        elapsed = time.monotonic() - started
        remember("concurrency plugin", live)
    assert all(r["return"]["status"] == "ACTIVE" for r in results)
    assert len(gets(emulator)) == 50
    assert _peak_in_flight(gets(emulator)) == MAX_IN_FLIGHT  # many at once, never more
    # Sequentially this is 2.5 s; four waves of 50 ms, plus overhead, stay well under 1 s.
    assert elapsed < 1.0, elapsed


# -- the key -----------------------------------------------------------------------------------


def test_the_key_appears_nowhere_but_as_the_secret_config(plugin: PluginProcess) -> None:
    remember("module plugin", plugin)
    assert plugin.stderr == ""  # the engine shows a plugin's stderr to the user: nothing there
    places = dict(_places)
    assert places  # every response, error text, stderr and log line so far
    assert scan(places, TEST_KEY) == []
    # CheckConfig must hand the configuration back to the engine: the key only as a secret.
    for answer in plugin.config_answers():
        for name, value in answer.items():
            if name != "apiKey":
                assert scan({name: json.dumps(value)}, TEST_KEY) == []
        if "apiKey" in answer:
            assert is_secret(answer["apiKey"])
