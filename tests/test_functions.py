"""get_chain_deployment and get_chain_deployment_output, the data-source form."""

from __future__ import annotations

import pulumi
import pytest

from provider import (
    ChainDeployment,
    DeploymentFailedError,
    InvalidInputError,
    get_chain_deployment,
    get_chain_deployment_output,
)
from provider.emulator import Emulator
from provider.testing import UNKNOWN, run_program
from tests.conftest import TEST_KEY

CHAIN = "ch7k2p9q"


def test_plain_lookup_by_id_returns_typed_plain_values(api_env: Emulator) -> None:
    result = get_chain_deployment(CHAIN, "dp3m8x1v")
    assert result.status == "ACTIVE" and result.ready is True
    assert result.instance_types["Generator"] == "H100:1x20x80"
    assert result.deployment.chainlet("Generator").autoscaling_settings is not None
    assert set(result.chainlets_by_name) == {"Entrypoint", "Retriever", "Generator"}
    assert len(api_env.requests) == 1


def test_plain_lookup_by_environment_reads_the_current_deployment(api_env: Emulator) -> None:
    result = get_chain_deployment(CHAIN, environment="staging")
    assert result.chain_deployment_id == "dp9w4n2r"
    assert [r.path for r in api_env.requests] == [f"/v1/chains/{CHAIN}/environments/staging"]


def test_plain_lookup_does_not_wait_unless_asked(api_env: Emulator) -> None:
    result = get_chain_deployment(CHAIN, "dpbuild1")
    assert result.status == "BUILDING" and result.ready is False
    with pytest.raises(DeploymentFailedError):
        get_chain_deployment(CHAIN, "dpfail01", wait_for=["ACTIVE"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"chain_id": "a/b", "chain_deployment_id": "x"}, "chain_id"),
        ({"chain_id": CHAIN}, "chain_deployment_id"),
        ({"chain_id": CHAIN, "chain_deployment_id": "x", "environment": "y"}, "environment"),
        ({"chain_id": CHAIN, "chain_deployment_id": "x", "wait_for": ["READY"]}, "wait_for"),
        ({"chain_id": CHAIN, "chain_deployment_id": "x", "timeout_seconds": 0}, "timeout_seconds"),
    ],
)
def test_plain_lookup_rejects_bad_input_before_any_request(
    api_env: Emulator, kwargs: dict, field: str
) -> None:
    with pytest.raises(InvalidInputError) as error:
        get_chain_deployment(**kwargs)
    assert error.value.field == field
    assert api_env.requests == []


def test_output_lookups_run_at_once(api_env: Emulator) -> None:
    api_env.latency = 0.2
    ids = ["dp3m8x1v", "dp9w4n2r", "dpbuild1", "dpfail01", "dpzero01"] * 2

    def program() -> None:
        for n, deployment_id in enumerate(ids):
            result = get_chain_deployment_output(CHAIN, deployment_id)
            pulumi.export(f"status{n}", result.status)

    result = run_program(program)
    assert result.outputs["status0"] == "ACTIVE"
    requests = api_env.requests
    assert len(requests) == 10
    # All ten were in flight together: each started before any of them finished.
    assert max(r.started for r in requests) < min(r.finished for r in requests)


def test_output_lookup_with_unknown_input_sends_nothing_and_is_unknown(
    api_env: Emulator,
) -> None:
    def program() -> None:
        chain = ChainDeployment("chain", chain_id=CHAIN, environment="production", wait_for=[])
        # In preview the resource's resolved deployment id is unknown.
        result = get_chain_deployment_output(CHAIN, chain.chain_deployment_id)
        pulumi.export("status", result.status)

    result = run_program(program, preview=True)
    assert result.outputs["status"] is UNKNOWN
    assert api_env.requests == []


def test_output_lookup_is_secret_only_when_an_input_is(api_env: Emulator) -> None:
    def program() -> None:
        plain = get_chain_deployment_output(CHAIN, "dp3m8x1v")
        secret = get_chain_deployment_output(pulumi.Output.secret(CHAIN), "dp3m8x1v")
        pulumi.export("plain", plain.status)
        pulumi.export("secret", secret.status)

    result = run_program(program)
    assert result.outputs == {"plain": "ACTIVE", "secret": "ACTIVE"}
    assert result.secret_outputs == {"secret"}


def test_output_lookup_reads_credentials_from_stack_config(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASETEN_API_KEY", raising=False)
    monkeypatch.delenv("BASETEN_API_URL", raising=False)

    def program() -> None:
        pulumi.export("status", get_chain_deployment_output(CHAIN, "dp3m8x1v").status)

    result = run_program(
        program,
        config={"baseten:apiKey": TEST_KEY, "baseten:apiUrl": emulator.url},
        secret_keys=["baseten:apiKey"],
    )
    assert result.outputs["status"] == "ACTIVE"
    assert TEST_KEY not in repr(result.logs)
