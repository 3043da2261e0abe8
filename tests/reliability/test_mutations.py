"""Mutations are impossible: nothing this package does sends anything but GET.

Every test of the reliability suite already fails if an emulator saw another method during it
(``conftest._only_get_was_sent``), and the session fails on the process-wide tally
(:meth:`Emulator.methods_seen_by_all`). The tests here drive every engine operation, including
those named after mutations (``Create``, ``Update``, ``Delete``), and every client call, and
check the request log directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pulumi
import pytest

from provider import cli, connection
from provider.chains import ChainRef
from provider.client import BasetenClient
from provider.emulator import Emulator
from provider.functions import get_chain_deployment, get_chain_deployment_output
from provider.resource import ChainDeployment
from provider.testing import run_program
from tests.conftest import TEST_KEY
from tests.emulator_faults import Fault
from tests.provider_host import ProviderHost
from tests.reliability.common import CHAIN, DEP, DEP_PATH

pytestmark = pytest.mark.family("mutations")


@pytest.fixture
def host(emulator: Emulator) -> Iterator[ProviderHost]:
    with ProviderHost(env={"BASETEN_API_KEY": None, "BASETEN_API_URL": None}) as h:
        h.configure_api(TEST_KEY, emulator.url)
        yield h


def test_every_engine_operation_sends_only_get_and_delete_sends_nothing(
    host: ProviderHost, emulator: Emulator
) -> None:
    inputs = {"chain_id": CHAIN, "chain_deployment_id": DEP, "wait_for": ["ACTIVE"]}
    checked = host.check({}, inputs)
    created = host.create(checked["inputs"])
    host.diff(created["id"], created["properties"], checked["inputs"])
    host.update(created["id"], created["properties"], checked["inputs"])
    host.read(created["id"], created["properties"], checked["inputs"])
    host.read(created["id"], None, {"chain_id": CHAIN})
    emulator.add_fault(Fault("status", status=503))
    host.create(checked["inputs"])  # a retried create is still a GET
    before_delete = len(emulator.requests)
    host.delete(created["id"], created["properties"])

    assert len(emulator.requests) == before_delete  # delete is not ours to send
    assert before_delete >= 7
    assert {r.method for r in emulator.requests} == {"GET"}


def test_every_client_call_function_and_command_sends_only_get(
    api_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = api_env
    with BasetenClient(api_key=TEST_KEY, base_url=emulator.url) as client:
        client.get_chain_deployment(CHAIN, DEP)
        client.get_chain(CHAIN)
        ChainRef(None, "rag-pipeline").find(client)  # GET /v1/chains
        client.get_chain_environment(CHAIN, "production")
    get_chain_deployment(CHAIN, environment="staging")

    def program() -> None:
        existing = ChainDeployment.get("existing", f"{CHAIN}/{DEP}")
        gated = ChainDeployment("gated", chain_id=CHAIN, environment="production")
        looked_up = get_chain_deployment_output(CHAIN, DEP)
        pulumi.export("statuses", [existing.status, gated.status, looked_up.status])

    result = run_program(
        program, config={"baseten:apiKey": TEST_KEY, "baseten:apiUrl": emulator.url}
    )
    assert result.outputs["statuses"] == ["ACTIVE"] * 3
    assert cli.main(["get", CHAIN, DEP, "--wait-for", "ACTIVE"], StringIO(), StringIO()) == 0
    connection.close_shared_clients()

    assert len(emulator.requests) >= 9
    assert {r.method for r in emulator.requests} == {"GET"}
    assert len(emulator.requests_for(DEP_PATH)) >= 4


@pytest.mark.family("mutations", check=True)
def test_the_process_wide_tally_counts_every_emulator(emulator: Emulator) -> None:
    # The instrument the session check relies on: two emulators, both counted.
    before = Emulator.methods_seen_by_all().get("GET", 0)
    started = Emulator.emulators_started()
    with Emulator(api_key=TEST_KEY) as other:
        for emu in (emulator, other):
            with BasetenClient(api_key=TEST_KEY, base_url=emu.url) as client:
                client.get_chain(CHAIN)
    assert Emulator.methods_seen_by_all().get("GET", 0) == before + 2
    assert Emulator.emulators_started() == started + 1
