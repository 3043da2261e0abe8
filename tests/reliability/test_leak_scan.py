"""The leak scan: run the whole flow with a recognisable key, failures included, and search
everything it produced for the key, raw or base64 (:mod:`tests.leakscan`).

What is searched ("places"): every error's str, repr, traceback, attributes and pickle; the
command line's stdout and stderr (in-process and as a subprocess); the real provider host's
gRPC responses, error details and stderr; the pickled provider (configured with the key);
the Pulumi program runner's stack outputs, resources (inputs, outputs and ``__provider``),
log lines and a failing run's exception; the endpoint file the program wrote; the emulator's
request log; every log record of the process at DEBUG (urllib3 included); and whatever reached
this process's stdout/stderr. Zero hits is the assertion; the number of places goes to the
scorecard.
"""

from __future__ import annotations

import base64
import json
import logging
import pickle
import traceback
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import dill
import pulumi
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from provider import cli, connection
from provider.client import BasetenClient
from provider.emulator import Emulator, chain_path, deployment_path
from provider.errors import BasetenError, InvalidInputError
from provider.functions import get_chain_deployment, get_chain_deployment_output
from provider.resource import ChainDeploymentProvider
from provider.testing import ProgramError, run_program
from tests.conftest import FAST_RETRY, TEST_KEY, WRONG_KEY, cli_env, run_cli_process
from tests.emulator_faults import Fault
from tests.leakscan import Hit, assert_no_key, key_forms, scan
from tests.provider_host import PROJECT_DIR, ProviderHost, ProviderHostError
from tests.reliability import report
from tests.reliability.common import (
    CHAIN,
    DEP,
    DEP_PATH,
    closed_loopback_port,
    collect_failed_run,
)

pytestmark = pytest.mark.family("leaks")

KEYS = (TEST_KEY, WRONG_KEY)


class Places:
    """Named texts to scan; a name used twice gets a numbered suffix."""

    def __init__(self) -> None:
        self.texts: dict[str, str | bytes] = {}

    def add(self, name: str, value: str | bytes) -> None:
        key, n = name, 1
        while key in self.texts:
            n += 1
            key = f"{name} #{n}"
        self.texts[key] = value

    def error(self, name: str, exc: BaseException) -> None:
        self.add(f"{name}: str", str(exc))
        self.add(f"{name}: repr", repr(exc))
        self.add(f"{name}: traceback", "".join(traceback.format_exception(exc)))
        self.add(f"{name}: attributes", repr(vars(exc)))
        try:
            self.add(f"{name}: pickle", pickle.dumps(exc))
        except (TypeError, pickle.PicklingError) as failure:
            self.add(f"{name}: pickle failure", str(failure))

    def expect_error(self, name: str, fn: Callable[[], Any]) -> BaseException:
        try:
            fn()
        except Exception as exc:
            self.error(name, exc)
            return exc
        raise AssertionError(f"{name}: expected an error")


@pytest.mark.family("leaks", check=True)
def test_leak_scan_finds_the_key_in_every_form_it_looks_for() -> None:
    # The instrument: raw, inside base64 at each of the three alignments, URL-safe, in bytes.
    raw = TEST_KEY.encode()
    places: dict[str, str | bytes] = {"raw": f"x{TEST_KEY}y", "bytes": b"\x00" + raw}
    for pad in range(3):
        places[f"b64-{pad}"] = base64.b64encode(b"A" * pad + raw + b"tail").decode()
        places[f"url-{pad}"] = base64.urlsafe_b64encode(b"\xff" * pad + raw).decode()
    places["clean"] = "nothing to see " + base64.b64encode(b"sk-test-other").decode()
    hits = scan(places, TEST_KEY)
    assert {h.place for h in hits} == set(places) - {"clean"}
    assert len(key_forms(TEST_KEY)) >= 4
    # The assertion form every other test uses: it fails on any of those places, for either key.
    for name, text in places.items():
        if name != "clean":
            with pytest.raises(AssertionError, match="the API key leaked"):
                assert_no_key(text)
    with pytest.raises(AssertionError, match="leaked"):
        assert_no_key("x", base64.b64encode(WRONG_KEY.encode()).decode())
    assert_no_key(places["clean"])


def _client_errors(places: Places, emulator: Emulator) -> None:
    with BasetenClient(
        api_key=TEST_KEY, base_url=emulator.url, retry=FAST_RETRY, timeout=(2.0, 2.0)
    ) as client:
        places.add("client: repr", repr(client))
        places.expect_error("client: pickled", lambda: pickle.dumps(client))
        places.add("client: deployment", repr(client.get_chain_deployment(CHAIN, DEP)))
        cases: list[tuple[str, Fault | None, str]] = [
            ("401", Fault("status", status=401), DEP),
            ("403", Fault("status", status=403), DEP),
            ("404", None, "dpnope99"),
            ("500 forever", Fault("status", status=500, times=None), DEP),
            ("429 forever", Fault("rate_limit", times=None, retry_after=0), DEP),
            ("drop forever", Fault("drop", times=None), DEP),
            ("truncated forever", Fault("truncated_json", times=None), DEP),
            ("missing field", Fault("missing_field", field="chainlets.0.status"), DEP),
            ("html", Fault("html"), DEP),
        ]
        for name, fault, deployment_id in cases:
            emulator.clear_faults()
            if fault is not None:
                emulator.add_fault(fault, deployment_path(CHAIN, deployment_id))
            places.expect_error(
                f"client error {name}",
                lambda d=deployment_id: client.get_chain_deployment(CHAIN, d),  # type: ignore[misc]
            )
        emulator.clear_faults()
        # A server that echoes the key back, in JSON and in an HTML page.
        echo = json.dumps({"message": f"key {TEST_KEY} is not valid here"}).encode()
        emulator.add_raw_answer(echo, DEP_PATH, status=400)
        places.expect_error(
            "client error echoed key", lambda: client.get_chain_deployment(CHAIN, DEP)
        )
        page = f"<html><body>{TEST_KEY}</body></html>".encode()
        emulator.add_raw_answer(page, chain_path(CHAIN), status=403, content_type="text/html")
        places.expect_error("client error echoed page", lambda: client.get_chain(CHAIN))
        emulator.add_raw_answer(page, DEP_PATH, status=200, content_type="text/html")
        places.expect_error(
            "client error echoed 200", lambda: client.get_chain_deployment(CHAIN, DEP)
        )
    with BasetenClient(api_key=WRONG_KEY, base_url=emulator.url, retry=FAST_RETRY) as wrong:
        places.expect_error("client wrong key", lambda: wrong.get_chain(CHAIN))
    refused = f"http://127.0.0.1:{closed_loopback_port()}"
    with BasetenClient(api_key=TEST_KEY, base_url=refused, retry=FAST_RETRY) as dead:
        places.expect_error("client refused", lambda: dead.get_chain(CHAIN))
    for name, kwargs in {
        "key with newline": {"api_key": TEST_KEY + "\n", "base_url": emulator.url},
        "key in the URL": {"api_key": TEST_KEY, "base_url": f"https://{TEST_KEY}@x.invalid"},
        "key as the URL password": {
            "api_key": TEST_KEY,
            "base_url": f"https://user:{TEST_KEY}@x.invalid",
        },
    }.items():
        places.expect_error(f"client {name}", lambda k=kwargs: BasetenClient(**k))  # type: ignore[misc]


def _cli(places: Places, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASETEN_API_KEY", TEST_KEY)
    monkeypatch.setenv("BASETEN_API_URL", emulator.url)
    connection.close_shared_clients()
    runs: list[tuple[str, list[str], Fault | None]] = [
        ("table", ["get", CHAIN, DEP], None),
        ("json", ["get", CHAIN, "--environment", "production", "--json"], None),
        ("404", ["get", CHAIN, "dpnope99"], None),
        ("401", ["get", CHAIN, DEP], Fault("status", status=401)),
        ("429 forever", ["get", CHAIN, DEP], Fault("rate_limit", times=None, retry_after=0)),
        ("format", ["get", CHAIN, DEP], Fault("null_chainlets")),
        ("not ready", ["get", CHAIN, "dpfail01", "--wait-for", "ACTIVE"], None),
        ("bad id", ["get", CHAIN, "a/b"], None),
        ("key in url", ["get", CHAIN, DEP, f"--api-url=https://{TEST_KEY}@x.invalid"], None),
    ]
    for name, argv, fault in runs:
        emulator.clear_faults()
        if fault is not None:
            emulator.add_fault(fault, DEP_PATH)
        out, err = StringIO(), StringIO()
        cli.main(argv, out=out, err=err)
        places.add(f"cli {name}: stdout", out.getvalue())
        places.add(f"cli {name}: stderr", err.getvalue())
    emulator.clear_faults()
    monkeypatch.setenv("BASETEN_API_KEY", TEST_KEY + "\r\nX-Evil: 1")
    err = StringIO()
    cli.main(["get", CHAIN, DEP], out=StringIO(), err=err)
    places.add("cli key with newline: stderr", err.getvalue())
    monkeypatch.setenv("BASETEN_API_KEY", TEST_KEY)

    for name, argv in {
        "table": ["get", CHAIN, DEP],
        "404": ["get", CHAIN, "dpnope99"],
        "bad url": ["get", CHAIN, DEP, f"--api-url=http://user:{TEST_KEY}@x.invalid"],
    }.items():
        proc = run_cli_process(*argv, env=cli_env(emulator), check_keys=False)
        places.add(f"cli process {name}: stdout", proc.stdout)
        places.add(f"cli process {name}: stderr", proc.stderr)


def _provider_host(places: Places, emulator: Emulator) -> None:
    env: dict[str, str | None] = {"BASETEN_API_KEY": None, "BASETEN_API_URL": None}
    inputs = {
        "chain_id": CHAIN,
        "chain_deployment_id": DEP,
        "wait_for": ["ACTIVE"],
        "timeout_seconds": 60.0,
    }
    with ProviderHost(env=env) as host:
        host.configure_api(TEST_KEY, emulator.url)
        checked = host.check({}, inputs)
        created = host.create(checked["inputs"])
        host.diff(created["id"], created["properties"], checked["inputs"])
        host.read(created["id"], created["properties"], checked["inputs"])
        host.update(created["id"], created["properties"], checked["inputs"])
        host.delete(created["id"], created["properties"])
        failing: list[tuple[str, dict[str, Any], Fault | None]] = [
            ("404", {**inputs, "chain_deployment_id": "dpnope99"}, None),
            ("401", inputs, Fault("status", status=401)),
            ("format", inputs, Fault("malformed_json")),
            ("failed build", {**inputs, "chain_deployment_id": "dpfail01"}, None),
        ]
        for name, props, fault in failing:
            emulator.clear_faults()
            if fault is not None:
                emulator.add_fault(fault, DEP_PATH)
            try:
                host.create(props)
            except ProviderHostError as exc:
                places.add(f"host create {name}: error details", exc.details)
            else:
                raise AssertionError(f"host create {name} should have failed")
        emulator.clear_faults()
        host.check({}, {**inputs, "chain_id": "a/b"})
    for n, response in enumerate(host.raw_responses):
        places.add(f"host response {n}", str(response))
        places.add(f"host response {n}: bytes", response.SerializeToString())
    places.add("host stderr", host.stderr)


def _pickled_providers(places: Places, emulator: Emulator) -> None:
    fresh = serialize_provider(ChainDeploymentProvider())
    places.add("serialized provider", fresh)
    places.add("serialized provider: bytes", base64.b64decode(fresh))
    configured = ChainDeploymentProvider()
    configured.configure(
        ConfigureRequest(
            Config({"baseten:apiKey": TEST_KEY, "baseten:apiUrl": emulator.url}, "project")
        )
    )
    again = serialize_provider(configured)
    places.add("serialized configured provider", again)
    places.add("serialized configured provider: bytes", base64.b64decode(again))
    places.add("dill of configured provider", dill.dumps(configured))
    places.add("pickle of configured provider", pickle.dumps(configured))


def _programs(places: Places, emulator: Emulator, tmp_path: Path) -> None:
    config = {
        "baseten:apiKey": TEST_KEY,
        "baseten:apiUrl": emulator.url,
        "baseten-chain-gate:chainId": CHAIN,
        "baseten-chain-gate:endpointFile": str(tmp_path / "endpoint.json"),
    }
    for preview in (True, False):
        result = run_program(
            PROJECT_DIR, config=config, secret_keys=["baseten:apiKey"], preview=preview
        )
        mode = "preview" if preview else "up"
        places.add(f"program {mode}: outputs", json.dumps(result.outputs, default=repr))
        places.add(f"program {mode}: logs", repr(result.logs))
        for resource in result.resources:
            places.add(f"program {mode}: {resource.name} inputs", repr(resource.inputs))
            places.add(f"program {mode}: {resource.name} outputs", repr(resource.outputs))
    places.add("program: endpoint file", (tmp_path / "endpoint.json").read_bytes())
    failing = {**config, "baseten-chain-gate:chainDeploymentId": "dpfail01"}
    error = places.expect_error(
        "program failed build",
        lambda: run_program(PROJECT_DIR, config=failing, secret_keys=["baseten:apiKey"]),
    )
    assert isinstance(error, ProgramError)
    places.add("program failed build: logs", repr(error.logs))
    collect_failed_run()
    wrong = {**config, "baseten:apiKey": WRONG_KEY}
    error = places.expect_error(
        "program wrong key",
        lambda: run_program(PROJECT_DIR, config=wrong, secret_keys=["baseten:apiKey"]),
    )
    assert isinstance(error, ProgramError)
    places.add("program wrong key: logs", repr(error.logs))
    collect_failed_run()

    def lookups() -> None:
        found = get_chain_deployment_output(CHAIN, environment="production")
        pulumi.export("status", found.status)
        pulumi.export("chainlets", found.chainlets)

    result = run_program(lookups, config=config, secret_keys=["baseten:apiKey"])
    places.add("function program: outputs", json.dumps(result.outputs, default=repr))
    places.add("function program: logs", repr(result.logs))
    found = get_chain_deployment(CHAIN, DEP, api_key=TEST_KEY, api_url=emulator.url)
    places.add("function result", repr(found))
    places.expect_error(
        "function 404",
        lambda: get_chain_deployment(CHAIN, "dpnope99", api_key=TEST_KEY, api_url=emulator.url),
    )


def test_the_key_appears_nowhere_the_whole_flow_leaves_a_trace(
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    places = Places()
    try:
        _client_errors(places, emulator)
        _cli(places, emulator, monkeypatch)
        _provider_host(places, emulator)
        _pickled_providers(places, emulator)
        _programs(places, emulator, tmp_path)
    finally:
        connection.close_shared_clients()
    places.add("emulator request log", repr(emulator.requests))
    for n, record in enumerate(caplog.records):
        text = f"{record.name} {record.levelname} {record.getMessage()} {record.args!r}"
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        places.add(f"log record {n} ({record.name})", text)
    places.add("log text", caplog.text)
    captured = capfd.readouterr()
    places.add("process stdout", captured.out)
    places.add("process stderr", captured.err)

    hits: list[Hit] = []
    for key in KEYS:
        hits += scan(places.texts, key)
    kinds = sorted(
        {name.split(":")[0].split(" #")[0].rstrip("0123456789 ") for name in places.texts}
    )
    report.record("leaks", hits=len(hits), places=len(places.texts), kinds=len(kinds))
    assert any("urllib3" in name for name in places.texts), "urllib3 debug records were captured"
    assert len(places.texts) >= 100
    assert hits == [], "\n".join(f"{h.place}: {h.form!r} at {h.offset}" for h in hits)


def test_errors_raised_for_bad_keys_never_quote_them() -> None:
    # A key that is itself bad (a pasted newline) is refused without being echoed.
    with pytest.raises(InvalidInputError) as caught:
        BasetenClient(api_key=TEST_KEY + "\n", base_url="https://api.baseten.invalid")
    assert scan({"error": "".join(traceback.format_exception(caught.value))}, TEST_KEY) == []
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, BasetenError)
