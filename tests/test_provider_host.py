"""ChainDeploymentProvider run by the REAL Pulumi provider host (``python -u -m pulumi.dynamic``).

Every engine step goes over gRPC exactly as the engine sends it (see ``provider_host.py``):
Configure with the API key as a *secret* stack config value and ``BASETEN_API_KEY`` absent from
the host's environment, so every successful call proves the key came from ``Configure``. The
emulator (a real HTTP server on 127.0.0.1) answers; its request log is the evidence of what the
provider sent. One host and one emulator serve the whole module (the host caches one configured
provider per ``__provider`` string, as under the engine); the emulator is reset per test.
"""

from __future__ import annotations

import base64
import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from provider import outputs
from provider.emulator import (
    Emulator,
    Step,
    deployment_path,
    environment_path,
    load_default_fixtures,
    make_deployment,
)
from provider.resource import ChainDeploymentProvider
from tests.conftest import AUTOSCALING_FIELDS, CHAINLET_FIELDS, TEST_KEY, WRONG_KEY
from tests.emulator_faults import Fault
from tests.engine_steps import (
    clean_deployment,
    diff_after_a_refresh_while_unhealthy,
    diff_again,
    up,
)
from tests.leakscan import assert_no_key
from tests.provider_host import (
    UNKNOWN,
    ProviderHost,
    ProviderHostError,
    provider_string,
    wait_until,
)

CHAIN = "ch7k2p9q"
ACTIVE_ID = "dp3m8x1v"
# AutoscalingSettingsV1 fields that hold a value in the default fixtures (target_in_flight_tokens
# is null there, and Pulumi drops null map entries on the wire).
SET_AUTOSCALING_FIELDS = AUTOSCALING_FIELDS - {"target_in_flight_tokens"}
NO_API_ENV: dict[str, str | None] = {"BASETEN_API_KEY": None, "BASETEN_API_URL": None}

_methods_seen: set[str] = set()


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def host(shared_emulator: Emulator) -> Iterator[ProviderHost]:
    """The real provider host, configured as the engine does: key as a secret config value."""
    with ProviderHost(env=NO_API_ENV) as h:
        h.configure_api(TEST_KEY, shared_emulator.url)
        yield h


@pytest.fixture(autouse=True)
def emulator(shared_emulator: Emulator) -> Iterator[Emulator]:
    """The module's emulator, reset for every test; afterwards it must have seen only GETs."""
    shared_emulator.clear_faults()
    load_default_fixtures(shared_emulator)
    shared_emulator.latency = 0.0
    shared_emulator.clear_requests()
    yield shared_emulator
    _methods_seen.update(shared_emulator.methods())
    assert shared_emulator.methods() <= {"GET"}, shared_emulator.methods()


def gets(emulator: Emulator, path: str | None = None) -> list[Any]:
    requests = emulator.requests if path is None else emulator.requests_for(path)
    return [r for r in requests if r.method == "GET"]


def by_id(deployment_id: str = ACTIVE_ID, **extra: Any) -> dict[str, Any]:
    """The inputs a ``ChainDeployment(chain_id=..., chain_deployment_id=...)`` registers."""
    return {
        "chain_id": CHAIN,
        "chain_deployment_id": deployment_id,
        "wait_for": ["ACTIVE"],
        "timeout_seconds": 900.0,
        **extra,
    }


def by_env(environment: str = "production", **extra: Any) -> dict[str, Any]:
    return {
        "chain_id": CHAIN,
        "environment": environment,
        "wait_for": ["ACTIVE"],
        "timeout_seconds": 900.0,
        **extra,
    }


# -- the serialized provider ------------------------------------------------------------------


def test_serialized_provider_is_small_and_by_reference() -> None:
    text = provider_string()
    print(f"serialized provider: {len(text)} characters")
    assert len(text) < 512
    raw = base64.b64decode(text)
    assert b"provider.resource" in raw and b"ChainDeploymentProvider" in raw
    assert b"co_code" not in raw and b"_create_code" not in raw  # no code pickled by value
    provider = dill.loads(raw)
    assert isinstance(provider, ChainDeploymentProvider)
    assert provider._api_key is None and provider._api_url is None
    assert_no_key(text)


def test_pickling_a_configured_provider_never_includes_the_key() -> None:
    provider = dill.loads(base64.b64decode(provider_string()))
    config = Config(
        raw_config={"baseten:apiKey": TEST_KEY, "baseten:apiUrl": "http://127.0.0.1:1"},
        project_name="baseten-chain-gate",
    )
    provider.configure(ConfigureRequest(config=config))
    assert provider._api_key == TEST_KEY  # configured for real
    again = serialize_provider(provider)
    assert again == provider_string()  # configuring changes nothing that is stored
    for blob in (
        base64.b64decode(again),
        pickle.dumps(provider),
        dill.dumps(provider, recurse=True),
    ):
        assert TEST_KEY.encode() not in blob
        assert_no_key(blob.decode("latin-1"))
    restored = pickle.loads(pickle.dumps(provider))
    assert restored._api_key is None


# -- Configure and Check ----------------------------------------------------------------------


def test_configure_took_the_secret_config(host: ProviderHost) -> None:
    configured = host.raw_responses[0]
    # acceptSecrets False: the engine sends secret config decrypted, as the host expects.
    assert configured.acceptSecrets is False
    assert_no_key(str(configured))
    assert host.running


@pytest.mark.parametrize(
    "news",
    [by_id(), by_env(), {"chain_id": CHAIN, "chain_deployment_id": ACTIVE_ID}],
    ids=["by-id", "by-environment", "defaults-omitted"],
)
def test_check_accepts_valid_inputs_without_any_request(
    host: ProviderHost, emulator: Emulator, news: dict[str, Any]
) -> None:
    result = host.check({}, news)
    assert result["failures"] == []
    inputs = dict(result["inputs"])
    assert inputs.pop("__provider") == host.provider
    assert inputs == news
    assert emulator.requests == []


def test_check_drops_properties_that_are_not_inputs(host: ProviderHost) -> None:
    # Even if a program passed the key as a property, it must not become a stored input.
    result = host.check({}, by_id(api_key=TEST_KEY, status="ACTIVE"))
    assert result["failures"] == []
    assert "api_key" not in result["inputs"] and "status" not in result["inputs"]
    assert_no_key(str(host.raw_responses[-1]))


@pytest.mark.parametrize(
    ("news", "prop"),
    [
        ({"chain_deployment_id": ACTIVE_ID}, "chain_id"),
        (by_id(environment="production"), "environment"),
        ({"chain_id": CHAIN}, "chain_deployment_id"),
        ({"chain_id": CHAIN, "chain_deployment_id": "a/b"}, "chain_deployment_id"),
        ({"chain_id": "a/b", "chain_deployment_id": ACTIVE_ID}, "chain_id"),
        (by_id(wait_for=["ACTIVE", "READY_ISH"]), "wait_for"),
        (by_id(timeout_seconds=-5.0), "timeout_seconds"),
        (by_id(timeout_seconds=0), "timeout_seconds"),
    ],
    ids=[
        "missing-chain-id",
        "both-id-and-environment",
        "neither",
        "bad-deployment-id",
        "bad-chain-id",
        "unknown-wait-for-status",
        "negative-timeout",
        "zero-timeout",
    ],
)
def test_check_names_the_property_at_fault(
    host: ProviderHost, emulator: Emulator, news: dict[str, Any], prop: str
) -> None:
    result = host.check({}, news)
    assert prop in [p for p, _ in result["failures"]], result["failures"]
    for failed, reason in result["failures"]:
        assert failed and reason
    assert emulator.requests == []


def test_check_reports_every_bad_property(host: ProviderHost) -> None:
    result = host.check({}, by_id("a/b", wait_for=["NOPE"], timeout_seconds=-1.0))
    assert {p for p, _ in result["failures"]} == {
        "chain_deployment_id",
        "wait_for",
        "timeout_seconds",
    }


@pytest.mark.parametrize(
    "news",
    [
        by_id(UNKNOWN),
        by_id(wait_for=UNKNOWN),
        by_id(wait_for=["ACTIVE", UNKNOWN]),
        by_id(timeout_seconds=UNKNOWN),
        by_id(chain_id=UNKNOWN),
    ],
    ids=["deployment-id", "wait-for", "wait-for-item", "timeout", "chain-id"],
)
def test_check_accepts_unknowns_during_preview(
    host: ProviderHost, emulator: Emulator, news: dict[str, Any]
) -> None:
    result = host.check({}, news)
    assert emulator.requests == []
    assert result["failures"] == []


# -- Create -----------------------------------------------------------------------------------


def test_create_on_an_active_deployment(host: ProviderHost, emulator: Emulator) -> None:
    created = up(host, by_id())
    assert created["id"] == f"{CHAIN}/{ACTIVE_ID}"
    out = created["properties"]
    assert out["__provider"] == host.provider
    assert out["chain_id"] == CHAIN
    assert out["chain_deployment_id"] == ACTIVE_ID
    assert out["environment"] == "production"
    assert out["lookup_by"] == "chain_deployment_id"
    assert out["status"] == "ACTIVE"
    assert out["created_at"] == "2026-11-18T16:02:45Z"
    assert out["ready"] is True
    assert out["wait_for"] == ["ACTIVE"]
    assert out["timeout_seconds"] == 900
    names = [c["name"] for c in out["chainlets"]]
    assert names == ["Entrypoint", "Retriever", "Generator"]
    for chainlet in out["chainlets"]:
        assert set(chainlet) == CHAINLET_FIELDS
        assert set(chainlet["autoscaling_settings"]) == SET_AUTOSCALING_FIELDS
        assert chainlet["status"] == "ACTIVE"
    generator = out["chainlets_by_name"]["Generator"]
    assert generator == out["chainlets"][2]
    assert generator["instance_type_name"] == "H100:1x20x80"
    assert generator["autoscaling_settings"]["min_replica"] == 1
    assert generator["autoscaling_settings"]["max_replica"] == 4
    assert generator["autoscaling_settings"]["concurrency_target"] == 2
    assert generator["active_replica_count"] == 1
    assert set(out["chainlets_by_name"]) == set(names)
    assert out["instance_types"] == {
        "Entrypoint": "1x4",
        "Retriever": "L4:4x16",
        "Generator": "H100:1x20x80",
    }
    assert len(gets(emulator)) == 1
    assert len(gets(emulator, deployment_path(CHAIN, ACTIVE_ID))) == 1


def test_create_by_environment_reads_the_current_deployment(
    host: ProviderHost, emulator: Emulator
) -> None:
    created = up(host, by_env())
    assert created["id"] == f"{CHAIN}/{ACTIVE_ID}"
    assert created["properties"]["lookup_by"] == "environment"
    assert created["properties"]["environment"] == "production"
    assert [r.path for r in gets(emulator)] == [environment_path(CHAIN, "production")]


def test_create_waits_through_a_rollout(host: ProviderHost, emulator: Emulator) -> None:
    emulator.add_deployment(CHAIN, make_deployment(CHAIN, "dproll01"))
    emulator.set_timeline(CHAIN, "dproll01", [Step("BUILDING"), Step("ACTIVE", after_requests=1)])
    created = up(host, by_id("dproll01"))
    assert created["id"] == f"{CHAIN}/dproll01"
    assert created["properties"]["ready"] is True
    assert created["properties"]["status"] == "ACTIVE"
    assert len(gets(emulator, deployment_path(CHAIN, "dproll01"))) == 2
    # Progress went to the engine's log (stderr of a host with no engine connection).
    assert wait_until(lambda: "deployment dproll01 is ACTIVE" in host.stderr)
    assert "deployment dproll01 is BUILDING" in host.stderr


def test_create_fails_fast_on_build_failed(host: ProviderHost, emulator: Emulator) -> None:
    with pytest.raises(ProviderHostError) as info:
        up(host, by_id("dpfail01"))
    details = info.value.details
    assert "Chain deployment will not become ready" in details
    assert "chainlet Generator is BUILD_FAILED" in details
    assert len(gets(emulator)) < 3
    assert_no_key(details)


def test_create_times_out_saying_what_it_waited_for(host: ProviderHost, emulator: Emulator) -> None:
    with pytest.raises(ProviderHostError) as info:
        up(host, by_id("dpbuild1", timeout_seconds=1.5))
    details = info.value.details
    assert "Timed out waiting for the deployment" in details
    assert "timed out after 1.5s" in details
    assert "not ACTIVE yet" in details and "deployment is BUILDING" in details
    assert "timeout_seconds" in details
    assert 2 <= len(gets(emulator)) <= 5


def test_create_on_scaled_to_zero_says_how_to_accept_it(
    host: ProviderHost, emulator: Emulator
) -> None:
    with pytest.raises(ProviderHostError) as info:
        up(host, by_id("dpzero01"))
    details = info.value.details
    assert "SCALED_TO_ZERO" in details
    assert "add it to wait_for" in details
    assert len(gets(emulator)) == 1
    accepted = up(host, by_id("dpzero01", wait_for=["ACTIVE", "SCALED_TO_ZERO"]))
    assert accepted["properties"]["ready"] is True


def test_create_without_a_gate_returns_at_once(host: ProviderHost, emulator: Emulator) -> None:
    created = up(host, by_id("dpbuild1", wait_for=[]))
    out = created["properties"]
    assert out["ready"] is False
    assert out["status"] == "BUILDING"
    assert out["wait_for"] == []
    assert len(gets(emulator)) == 1


def test_outputs_of_a_deploying_chain_validate_as_the_model(host: ProviderHost) -> None:
    out = up(host, by_id("dpbuild1", wait_for=[]))["properties"]
    # Exactly what ChainDeployment.deployment feeds to the model, and what the typed
    # outputs give back after the engine dropped their nulls and floated their integers.
    deployment = outputs.deployment_from_outputs(out)
    assert deployment.chainlets[0].autoscaling_settings is None
    chainlets = outputs.from_engine(outputs.OUTPUTS_BY_NAME["chainlets"].type, out["chainlets"])
    assert chainlets == [c.to_api() | {"autoscaling_settings": None} for c in deployment.chainlets]
    assert all(type(c["active_replica_count"]) is int for c in chainlets)


@pytest.mark.parametrize(
    ("fault", "status", "message"),
    [
        (None, "HTTP 404", "Baseten said: Chain deployment not found"),
        (Fault("status", status=401, times=None), "HTTP 401", "Invalid or missing API key"),
        (Fault("status", status=403, times=None), "HTTP 403", "do not have permission"),
    ],
    ids=["404", "401", "403"],
)
def test_create_api_errors_name_status_and_message_not_key(
    host: ProviderHost, emulator: Emulator, fault: Fault | None, status: str, message: str
) -> None:
    deployment_id = "dpnope99" if fault is None else ACTIVE_ID
    if fault is not None:
        emulator.add_fault(fault, deployment_path(CHAIN, deployment_id))
    with pytest.raises(ProviderHostError) as info:
        up(host, by_id(deployment_id))
    details = info.value.details
    assert status in details and message in details
    assert len(gets(emulator)) == 1  # not retried
    assert_no_key(details)
    assert_no_key(host.stderr)


def test_a_404_message_holding_a_lone_surrogate_is_shown_escaped(
    host: ProviderHost, emulator: Emulator
) -> None:
    # Before, the host reported the encoding error of the message instead of the 404.
    body = b'{"message": "gone \\ud800 \\u001b[2J"}'
    emulator.add_raw_answer(body, deployment_path(CHAIN, "dpgone99"), status=404, times=None)
    with pytest.raises(ProviderHostError) as info:
        up(host, by_id("dpgone99"))
    details = info.value.details
    assert "HTTP 404" in details and "gone \\ud800 \\x1b[2J" in details, details
    assert "\x1b" not in details and "encode" not in details
    assert_no_key(details)


def test_four_creates_at_once_share_one_provider(host: ProviderHost, emulator: Emulator) -> None:
    # The host serves 4 calls at once with one provider instance (and one shared client).
    ids = [ACTIVE_ID, "dp9w4n2r", ACTIVE_ID, "dp9w4n2r"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda d: host.create(by_id(d)), ids, timeout=30))
    assert [r["id"] for r in results] == [f"{CHAIN}/{d}" for d in ids]
    assert all(r["properties"]["ready"] for r in results)
    assert len(gets(emulator)) == 4


# -- Diff -------------------------------------------------------------------------------------


def test_diff_unchanged_default_fixture_is_no_change(
    host: ProviderHost, emulator: Emulator
) -> None:
    created = up(host, by_id())
    emulator.clear_requests()
    result = diff_again(host, created, by_id())
    assert len(gets(emulator)) == 1
    assert result["changes"] == "DIFF_NONE"


def test_diff_unchanged_is_no_change_with_one_get(host: ProviderHost, emulator: Emulator) -> None:
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1"))
    created = up(host, by_id("dpclean1"))
    emulator.clear_requests()
    result = diff_again(host, created, by_id("dpclean1"))
    assert result["changes"] == "DIFF_NONE"
    assert result["replaces"] == []
    assert [r.path for r in gets(emulator)] == [deployment_path(CHAIN, "dpclean1")]


@pytest.mark.parametrize(
    "changed",
    [
        {"instance": "H100:1x20x80"},
        {"max_replica": 7},
    ],
    ids=["instance-type", "replica-bounds"],
)
def test_diff_after_the_remote_changed(
    host: ProviderHost, emulator: Emulator, changed: dict[str, Any]
) -> None:
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1"))
    created = up(host, by_id("dpclean1"))
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1", **changed))
    emulator.clear_requests()
    result = diff_again(host, created, by_id("dpclean1"))
    assert result["changes"] == "DIFF_SOME"
    assert result["replaces"] == []
    assert len(gets(emulator)) == 1
    # The following Update stores what is live now.
    updated = host.update(created["id"], created["properties"], by_id("dpclean1"))
    if "instance" in changed:
        assert updated["instance_types"]["Generator"] == changed["instance"]
    else:
        settings = updated["chainlets_by_name"]["Generator"]["autoscaling_settings"]
        assert settings["max_replica"] == changed["max_replica"]


def test_diff_with_a_changed_deployment_id_replaces_without_a_request(
    host: ProviderHost, emulator: Emulator
) -> None:
    created = up(host, by_id())
    emulator.clear_requests()
    result = diff_again(host, created, by_id("dp9w4n2r"))
    assert result["changes"] == "DIFF_SOME"
    assert "chain_deployment_id" in result["replaces"]
    assert emulator.requests == []


def test_diff_switching_from_id_to_an_environment_replaces_unless_it_serves_the_deployment(
    host: ProviderHost, emulator: Emulator
) -> None:
    created = up(host, by_id())  # the production deployment
    emulator.clear_requests()
    # Another environment: another deployment, known without a request.
    assert "environment" in diff_again(host, created, by_env("staging"))["replaces"]
    assert emulator.requests == []
    # The environment serving it: the same deployment, an update after one GET.
    result = diff_again(host, created, by_env("production"))
    assert result["changes"] == "DIFF_SOME" and result["replaces"] == []
    assert [r.path for r in gets(emulator)] == [environment_path(CHAIN, "production")]


def test_diff_with_an_unknown_deployment_id_replaces_without_a_request(
    host: ProviderHost, emulator: Emulator
) -> None:
    created = up(host, by_id())
    emulator.clear_requests()
    result = host.diff(
        created["id"], created["properties"], by_id(UNKNOWN), old_inputs=created["inputs"]
    )
    assert result["changes"] == "DIFF_SOME"
    assert result["replaces"] == ["chain_deployment_id"]
    assert emulator.requests == []


def test_diff_with_unknown_settings_is_a_change_without_a_request(
    host: ProviderHost, emulator: Emulator
) -> None:
    created = up(host, by_id())
    emulator.clear_requests()
    result = host.diff(
        created["id"], created["properties"], by_id(wait_for=UNKNOWN), old_inputs=created["inputs"]
    )
    assert emulator.requests == []
    assert result["changes"] == "DIFF_SOME"
    assert result["replaces"] == []


def test_diff_after_a_promotion_replaces(host: ProviderHost, emulator: Emulator) -> None:
    created = up(host, by_env())
    assert created["properties"]["chain_deployment_id"] == ACTIVE_ID
    emulator.set_environment(CHAIN, "production", "dp9w4n2r")
    emulator.clear_requests()
    result = diff_again(host, created, by_env())
    assert result["changes"] == "DIFF_SOME"
    assert result["replaces"] == ["chain_deployment_id"]
    assert [r.path for r in gets(emulator)] == [environment_path(CHAIN, "production")]


def test_diff_in_environment_mode_unchanged(host: ProviderHost, emulator: Emulator) -> None:
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1"))
    emulator.set_environment(CHAIN, "canary", "dpclean1")
    created = up(host, by_env("canary"))
    emulator.clear_requests()
    result = diff_again(host, created, by_env("canary"))
    assert result["changes"] == "DIFF_NONE"
    assert len(gets(emulator)) == 1


def test_diff_when_the_gate_closed(host: ProviderHost, emulator: Emulator) -> None:
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1"))
    created = up(host, by_id("dpclean1"))
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1", status="UNHEALTHY"))
    emulator.clear_requests()
    result = diff_again(host, created, by_id("dpclean1"))
    assert result["changes"] == "DIFF_SOME"
    assert result["replaces"] == []
    assert len(gets(emulator)) == 1


def test_diff_after_a_refresh_stored_a_closed_gate_waits_again(
    host: ProviderHost, emulator: Emulator
) -> None:
    diff_after_a_refresh_while_unhealthy(
        host, emulator, by_id("dpclean1"), by_id("dpclean1", wait_for=[])
    )


# -- Update -----------------------------------------------------------------------------------


def test_update_reads_and_gates(host: ProviderHost, emulator: Emulator) -> None:
    emulator.add_deployment(CHAIN, clean_deployment("dpclean1"))
    created = up(host, by_id("dpclean1"))
    emulator.clear_requests()
    news = by_id("dpclean1", timeout_seconds=60.0)
    updated = host.update(created["id"], created["properties"], news)
    assert updated["timeout_seconds"] == 60
    assert updated["ready"] is True
    assert updated["__provider"] == host.provider
    assert len(gets(emulator)) == 1

    emulator.add_deployment(CHAIN, clean_deployment("dpclean1", status="DEPLOY_FAILED"))
    with pytest.raises(ProviderHostError) as info:
        host.update(created["id"], created["properties"], by_id("dpclean1"))
    assert "DEPLOY_FAILED" in info.value.details
    assert "Chain deployment will not become ready" in info.value.details


# -- Read -------------------------------------------------------------------------------------


def test_read_for_refresh(host: ProviderHost, emulator: Emulator) -> None:
    created = up(host, by_id())
    emulator.clear_requests()
    result = host.read(created["id"], created["properties"], host.check({}, by_id())["inputs"])
    assert result["id"] == created["id"]
    assert result["properties"]["status"] == "ACTIVE"
    assert result["properties"]["instance_types"] == created["properties"]["instance_types"]
    assert result["inputs"]["chain_deployment_id"] == ACTIVE_ID
    assert result["inputs"]["wait_for"] == ["ACTIVE"]
    # The deployment's environment is an output, never an input (it would clash with the id).
    assert "environment" not in result["inputs"]
    assert host.check({}, result["inputs"])["failures"] == []
    assert len(gets(emulator)) == 1


def test_read_for_refresh_in_environment_mode_keeps_the_deployment(
    host: ProviderHost, emulator: Emulator
) -> None:
    created = up(host, by_env())
    emulator.set_environment(CHAIN, "production", "dp9w4n2r")
    emulator.clear_requests()
    result = host.read(created["id"], created["properties"], by_env())
    # Refresh re-reads this very deployment; the promotion is Diff's business.
    assert result["id"] == f"{CHAIN}/{ACTIVE_ID}"
    assert result["properties"]["lookup_by"] == "environment"
    assert result["inputs"]["environment"] == "production"
    assert "chain_deployment_id" not in result["inputs"]
    assert [r.path for r in gets(emulator)] == [deployment_path(CHAIN, ACTIVE_ID)]


def test_read_for_get(host: ProviderHost, emulator: Emulator) -> None:
    # ChainDeployment.get(...) registers wait_for=[] and the default timeout, no chain id.
    result = host.read(f"{CHAIN}/{ACTIVE_ID}", None, {"wait_for": [], "timeout_seconds": 900.0})
    assert result["id"] == f"{CHAIN}/{ACTIVE_ID}"
    out = result["properties"]
    assert out["chain_id"] == CHAIN
    assert out["chain_deployment_id"] == ACTIVE_ID
    assert out["status"] == "ACTIVE"
    assert out["ready"] is True
    assert len(out["chainlets"]) == 3
    assert result["inputs"]["chain_id"] == CHAIN
    assert result["inputs"]["chain_deployment_id"] == ACTIVE_ID
    assert result["inputs"]["wait_for"] == []
    assert [r.path for r in gets(emulator)] == [deployment_path(CHAIN, ACTIVE_ID)]


def test_import_by_id_into_a_program_naming_the_environment_that_serves_it_is_no_replace(
    host: ProviderHost, emulator: Emulator
) -> None:
    # The engine's import: Read with the id alone (the host needs the provider among the
    # inputs), then Check with the read inputs as olds, then Diff against the program's inputs.
    imported = host.read(f"{CHAIN}/{ACTIVE_ID}", None, {})
    assert imported["properties"]["environment"] == "production"  # what it serves, recorded
    stored = {"id": imported["id"], **imported}
    emulator.clear_requests()
    result = diff_again(host, stored, by_env("production"))
    assert result["changes"] == "DIFF_SOME" and result["replaces"] == []
    assert [r.path for r in gets(emulator)] == [environment_path(CHAIN, "production")]
    # The update then stores the resource as found by its environment; nothing changes after.
    updated = host.update(imported["id"], imported["properties"], by_env("production"))
    assert updated["lookup_by"] == "environment"
    after = {"id": imported["id"], "properties": updated, "inputs": by_env("production")}
    assert diff_again(host, after, by_env("production"))["changes"] == "DIFF_NONE"
    # An environment that serves another deployment (staging) still replaces.
    assert "environment" in diff_again(host, stored, by_env("staging"))["replaces"]


def test_read_of_a_deleted_deployment_returns_no_id(host: ProviderHost, emulator: Emulator) -> None:
    result = host.read(f"{CHAIN}/dpgone01", by_id("dpgone01"), by_id("dpgone01"))
    assert result["id"] == ""
    assert len(gets(emulator)) == 1


def test_read_of_a_malformed_id_fails_without_a_request(
    host: ProviderHost, emulator: Emulator
) -> None:
    with pytest.raises(ProviderHostError) as info:
        host.read("no-slash-here", None, {"wait_for": []})
    assert "CHAIN_ID/CHAIN_DEPLOYMENT_ID" in info.value.details
    assert emulator.requests == []


# -- Delete -----------------------------------------------------------------------------------


def test_delete_sends_nothing(host: ProviderHost, emulator: Emulator) -> None:
    created = up(host, by_id())
    emulator.clear_requests()
    host.delete(created["id"], created["properties"])
    assert emulator.requests == []


# -- credentials --------------------------------------------------------------------------------


def test_a_wrong_configured_key_gets_401_and_leaks_neither_key(emulator: Emulator) -> None:
    with ProviderHost(env=NO_API_ENV) as other:
        other.configure_api(WRONG_KEY, emulator.url)
        with pytest.raises(ProviderHostError) as info:
            other.create(by_id())
        assert "HTTP 401" in info.value.details
        assert "Invalid or missing API key" in info.value.details
        assert [r.authorized for r in emulator.requests] == [False]
    transcript = other.transcript()
    assert_no_key(transcript)


def test_no_key_anywhere_fails_before_any_request(emulator: Emulator) -> None:
    with ProviderHost(env=NO_API_ENV) as other:
        other.configure({"baseten:apiUrl": emulator.url})
        with pytest.raises(ProviderHostError) as info:
            other.create(by_id())
        assert "no API key" in info.value.details
        assert "baseten:apiKey" in info.value.details
    assert emulator.requests == []


def test_the_key_never_left_the_host(host: ProviderHost, emulator: Emulator) -> None:
    """Runs last: every response, every error and the host's stderr, read after it exited."""
    with pytest.raises(ProviderHostError):
        host.create(by_id("dpnope99"))  # at least one failure, even when run on its own
    host.close()
    assert host.returncode is not None
    assert host.raw_responses and host.errors
    assert "dpnope99" in host.transcript()
    assert_no_key(host.transcript())
    assert_no_key(host.provider)
    assert _methods_seen | emulator.methods() == {"GET"}
