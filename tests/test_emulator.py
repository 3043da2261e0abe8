"""Tests of provider.emulator, the local Baseten API stand-in, seen from an HTTP client.

Every request goes to 127.0.0.1 with an explicit (connect, read) timeout, and every loop is
bounded, so a broken emulator fails these tests instead of hanging them.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from provider.emulator import (
    DEFAULT_API_KEY,
    IN_PROGRESS_STATUSES,
    SCENARIOS,
    Answer,
    CannedAnswer,
    Emulator,
    Step,
    apply_scenario,
    chain_path,
    deployment_path,
    environment_path,
    main,
    make_chainlet,
    make_deployment,
)
from provider.errors import InvalidInputError
from tests.conftest import AUTOSCALING_FIELDS, PROJECT_DIR, FakeClock
from tests.emulator_faults import FAULT_KINDS, Fault
from tests.readme import run_all, sh_block

TIMEOUT = (2.0, 5.0)
AUTH = {"Authorization": f"Api-Key {DEFAULT_API_KEY}"}
CHAIN = "ch7k2p9q"
DEP = "dp3m8x1v"
DEP_PATH = deployment_path(CHAIN, DEP)
BASETEN_ID = re.compile(r"^[a-z0-9]{8}$")


def get(emu: Emulator, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    kw.setdefault("timeout", TIMEOUT)
    return requests.get(emu.url + path, headers=AUTH if headers is None else headers, **kw)


def wait_for(predicate: Any, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


# ---------------------------------------------------------------------------------------------
# Auth


def test_missing_header_is_401_and_recorded_unauthorized(emu: Emulator) -> None:
    r = get(emu, DEP_PATH, headers={})
    assert r.status_code == 401
    assert r.json() == {"message": "Invalid or missing API key"}
    assert r.headers["Content-Type"] == "application/json"
    [rec] = emu.requests
    assert (rec.status, rec.authorized) == (401, False)


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key wrong-key",
        "Bearer wrong-key",
        f"Token {DEFAULT_API_KEY}",
        DEFAULT_API_KEY,
        "Api-Key ",
        f"Api-Key {DEFAULT_API_KEY}x",
    ],
)
def test_wrong_credentials_are_401(emu: Emulator, header: str) -> None:
    r = get(emu, DEP_PATH, headers={"Authorization": header})
    assert r.status_code == 401
    assert emu.requests[-1].authorized is False


@pytest.mark.parametrize("scheme", ["Api-Key", "Bearer", "api-key", "bearer"])
def test_api_key_and_bearer_schemes_are_accepted(emu: Emulator, scheme: str) -> None:
    r = get(emu, DEP_PATH, headers={"Authorization": f"{scheme} {DEFAULT_API_KEY}"})
    assert r.status_code == 200
    assert emu.requests[-1].authorized is True


def test_custom_api_key() -> None:
    with Emulator("s3cret-key") as emu:
        assert emu.api_key == "s3cret-key"
        assert get(emu, DEP_PATH).status_code == 401
        ok = get(emu, DEP_PATH, headers={"Authorization": "Bearer s3cret-key"})
        assert ok.status_code == 200


def test_empty_api_key_is_refused() -> None:
    with pytest.raises(ValueError):
        Emulator("")


def test_unauthorized_request_does_not_consume_faults(emu: Emulator) -> None:
    emu.add_fault(Fault("status", status=503))
    assert get(emu, DEP_PATH, headers={}).status_code == 401
    assert get(emu, DEP_PATH).status_code == 503
    assert get(emu, DEP_PATH).status_code == 200


# ---------------------------------------------------------------------------------------------
# Routes


def test_chains_list(emu: Emulator) -> None:
    r = get(emu, "/v1/chains")
    assert r.status_code == 200
    chains = {c["id"]: c for c in r.json()["chains"]}
    assert set(chains) == {"ch7k2p9q", "chq2v8n4"}
    rag = chains["ch7k2p9q"]
    assert set(rag) == {"id", "created_at", "name", "deployments_count", "team_name"}
    assert rag["name"] == "rag-pipeline"
    assert rag["deployments_count"] == 5
    assert rag["created_at"].endswith("Z")
    assert chains["chq2v8n4"]["name"] == "audio-transcriber"
    assert chains["chq2v8n4"]["deployments_count"] == 1


def test_chain_by_id_and_unknown_chain(emu: Emulator) -> None:
    assert get(emu, chain_path(CHAIN)).json()["name"] == "rag-pipeline"
    r = get(emu, chain_path("nochain1"))
    assert r.status_code == 404
    assert r.json() == {"message": "Chain not found"}


def test_deployments_list(emu: Emulator) -> None:
    r = get(emu, f"{chain_path(CHAIN)}/deployments")
    assert r.status_code == 200
    statuses = {d["id"]: d["status"] for d in r.json()["deployments"]}
    assert statuses == {
        "dp3m8x1v": "ACTIVE",
        "dp9w4n2r": "ACTIVE",
        "dpbuild1": "BUILDING",
        "dpfail01": "BUILD_FAILED",
        "dpzero01": "SCALED_TO_ZERO",
    }
    missing = get(emu, f"{chain_path('nochain1')}/deployments")
    assert (missing.status_code, missing.json()) == (404, {"message": "Chain not found"})


def test_deployment_by_id(emu: Emulator) -> None:
    r = get(emu, DEP_PATH)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert int(r.headers["Content-Length"]) == len(r.content)
    body = r.json()
    assert (body["id"], body["chain_id"], body["environment"]) == (DEP, CHAIN, "production")
    assert body["status"] == "ACTIVE"
    assert body["created_at"].endswith("Z")
    assert len(body["chainlets"]) == 3
    for chainlet in body["chainlets"]:
        assert BASETEN_ID.match(chainlet["id"])
        assert set(chainlet["autoscaling_settings"]) == AUTOSCALING_FIELDS
        assert chainlet["status"] == "ACTIVE"
        assert chainlet["active_replica_count"] >= 1


def test_deployment_404_messages(emu: Emulator) -> None:
    r = get(emu, deployment_path("nochain1", DEP))
    assert (r.status_code, r.json()) == (404, {"message": "Chain not found"})
    r = get(emu, deployment_path(CHAIN, "nodeploy"))
    assert (r.status_code, r.json()) == (404, {"message": "Chain deployment not found"})


def test_environment(emu: Emulator) -> None:
    body = get(emu, environment_path(CHAIN, "production")).json()
    assert body["name"] == "production"
    assert body["chain_id"] == CHAIN
    assert body["created_at"].endswith("Z")
    assert isinstance(body["promotion_settings"], dict)
    assert [s["chainlet_name"] for s in body["chainlet_settings"]] == [
        "Entrypoint",
        "Retriever",
        "Generator",
    ]
    assert body["current_deployment"]["id"] == DEP
    assert body["candidate_deployment"] is None
    staging = get(emu, environment_path(CHAIN, "staging")).json()
    assert staging["current_deployment"]["id"] == "dp9w4n2r"
    audio = get(emu, environment_path("chq2v8n4", "production")).json()
    assert audio["current_deployment"]["id"] == "dpa1b2c3"


def test_environment_404s(emu: Emulator) -> None:
    r = get(emu, environment_path(CHAIN, "nosuchenv"))
    assert (r.status_code, r.json()) == (404, {"message": "Environment not found"})
    r = get(emu, environment_path("nochain1", "production"))
    assert (r.status_code, r.json()) == (404, {"message": "Chain not found"})


def test_environment_candidate_and_repointing(emu: Emulator) -> None:
    emu.set_environment(CHAIN, "production", "dp9w4n2r", "dpbuild1")
    body = get(emu, environment_path(CHAIN, "production")).json()
    assert body["current_deployment"]["id"] == "dp9w4n2r"
    assert body["current_deployment"]["environment"] == "production"
    assert body["candidate_deployment"]["id"] == "dpbuild1"
    # The deployment that used to be production no longer claims it.
    assert get(emu, DEP_PATH).json()["environment"] is None
    with pytest.raises(KeyError):
        emu.set_environment(CHAIN, "production", "nodeploy")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v1",
        "/v2/chains",
        "/v1/chain",
        f"{chain_path(CHAIN)}/models",
        f"{DEP_PATH}/chainlets",
        f"{environment_path(CHAIN, 'production')}/extra",
    ],
)
def test_other_paths_are_404_not_found(emu: Emulator, path: str) -> None:
    r = get(emu, path)
    assert (r.status_code, r.json()) == (404, {"message": "Not found"})


def test_query_string_is_ignored_for_routing_but_recorded(emu: Emulator) -> None:
    r = get(emu, DEP_PATH + "?expand=chainlets&x=1")
    assert r.status_code == 200
    assert r.json()["id"] == DEP
    assert emu.requests[-1].path == DEP_PATH + "?expand=chainlets&x=1"
    assert [q.status for q in emu.requests_for(DEP_PATH)] == [200]


def test_percent_encoded_segments_stay_one_id(emu: Emulator) -> None:
    emu.add_deployment("team/chain", make_deployment("team/chain", "dp 1/x"))
    path = deployment_path("team/chain", "dp 1/x")
    assert path == "/v1/chains/team%2Fchain/deployments/dp%201%2Fx"
    body = get(emu, path).json()
    assert (body["id"], body["chain_id"]) == ("dp 1/x", "team/chain")
    # Unencoded, the same characters are path separators and match no route.
    assert get(emu, "/v1/chains/team/chain/deployments/dp").status_code == 404
    assert get(emu, "/v1/chains/ch7k2p9q%2Fdeployments").json() == {"message": "Chain not found"}


def test_fixtures_false_starts_empty() -> None:
    with Emulator(fixtures=False) as emu:
        assert get(emu, "/v1/chains").json() == {"chains": []}
        emu.add_chain("chabc123", "solo", team_name="t", created_at="2026-01-01T00:00:00Z")
        assert get(emu, "/v1/chains").json()["chains"] == [
            {
                "id": "chabc123",
                "created_at": "2026-01-01T00:00:00Z",
                "name": "solo",
                "deployments_count": 0,
                "team_name": "t",
            }
        ]


def test_add_deployment_auto_creates_chain_and_copies(emu: Emulator) -> None:
    deployment = make_deployment("chnew001", "dpnew001")
    stored = emu.add_deployment("chnew001", deployment)
    deployment["status"] = "FAILED"  # the emulator kept its own copy
    assert stored["status"] == "ACTIVE"
    assert get(emu, chain_path("chnew001")).json()["deployments_count"] == 1
    assert get(emu, deployment_path("chnew001", "dpnew001")).json()["status"] == "ACTIVE"


def test_keep_alive_survives_request_bodies(emu: Emulator) -> None:
    with requests.Session() as session:
        session.headers.update(AUTH)
        for _ in range(3):
            # Baseten's own sample sends json={} with a GET; the body must be drained.
            r = session.get(emu.url + DEP_PATH, json={"a": "b" * 1000}, timeout=TIMEOUT)
            assert r.status_code == 200
            assert r.json()["id"] == DEP
        r = session.delete(emu.url + DEP_PATH, data=b"x" * 5000, timeout=TIMEOUT)
        assert r.status_code == 405
        assert session.get(emu.url + "/v1/chains", timeout=TIMEOUT).status_code == 200


# ---------------------------------------------------------------------------------------------
# Request log


def test_request_log_records_method_path_status(emu: Emulator) -> None:
    get(emu, DEP_PATH)
    get(emu, "/v1/nothing")
    get(emu, "/v1/chains", headers={})
    log = emu.requests
    assert [(r.method, r.path, r.status, r.authorized) for r in log] == [
        ("GET", DEP_PATH, 200, True),
        ("GET", "/v1/nothing", 404, True),
        ("GET", "/v1/chains", 401, False),
    ]
    for rec in log:
        assert rec.started <= rec.finished
    log.clear()  # a copy: the emulator's log is untouched
    assert len(emu.requests) == 3
    emu.clear_requests()
    assert emu.requests == []


def test_key_never_appears_in_the_log(emu: Emulator) -> None:
    get(emu, DEP_PATH)
    get(emu, DEP_PATH, headers={"Authorization": "Api-Key wrong-but-secret"})
    get(emu, f"/v1/chains?api_key={DEFAULT_API_KEY}")
    requests.delete(emu.url + DEP_PATH, headers=AUTH, timeout=TIMEOUT)
    log = emu.requests
    assert len(log) == 4
    for rec in log:
        assert DEFAULT_API_KEY not in repr(rec)
        assert "wrong-but-secret" not in repr(rec)
        assert "Api-Key" not in repr(rec)
    assert log[2].path == "/v1/chains?api_key=***"


def test_non_get_methods_are_405_and_recorded(emu: Emulator) -> None:
    url = emu.url + DEP_PATH
    for method in ("DELETE", "POST", "PUT", "PATCH", "OPTIONS"):
        r = requests.request(method, url, headers=AUTH, json={}, timeout=TIMEOUT)
        assert r.status_code == 405, method
        assert r.json() == {"message": "Method not allowed"}
    head = requests.head(url, headers=AUTH, timeout=TIMEOUT)
    assert head.status_code == 405
    assert head.content == b""
    unauthorized = requests.delete(url, timeout=TIMEOUT)
    assert unauthorized.status_code == 401
    assert emu.methods() == {"DELETE", "POST", "PUT", "PATCH", "OPTIONS", "HEAD"}
    deletes = [r for r in emu.requests_for(DEP_PATH) if r.method == "DELETE"]
    assert [(r.status, r.authorized) for r in deletes] == [(405, True), (401, False)]
    # The deployment is still there.
    assert get(emu, DEP_PATH).status_code == 200


def test_non_get_does_not_consume_faults(emu: Emulator) -> None:
    emu.add_fault(Fault("status", status=502))
    assert requests.delete(emu.url + DEP_PATH, headers=AUTH, timeout=TIMEOUT).status_code == 405
    assert get(emu, DEP_PATH).status_code == 502


# ---------------------------------------------------------------------------------------------
# Latency


def test_latency_applies_per_request_concurrently(emu: Emulator) -> None:
    emu.latency = 0.2
    barrier = threading.Barrier(10, timeout=5)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            assert get(emu, DEP_PATH).status_code == 200
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not errors
    log = emu.requests
    assert len(log) == 10
    assert all(r.finished - r.started >= 0.19 for r in log)
    # Sweep over start/finish events: how many requests were in flight at once.
    events = sorted([(r.started, 1) for r in log] + [(r.finished, -1) for r in log])
    in_flight = peak = 0
    for _, delta in events:
        in_flight += delta
        peak = max(peak, in_flight)
    assert peak >= 5, f"latency was serialized: at most {peak} requests overlapped"


def test_latency_is_settable_and_validated(emu: Emulator) -> None:
    emu.latency = 0.1
    start = time.monotonic()
    get(emu, "/v1/chains")
    assert time.monotonic() - start >= 0.09
    emu.latency = 0
    with pytest.raises(ValueError):
        emu.latency = -1
    with pytest.raises(ValueError):
        emu.latency = float("inf")


# ---------------------------------------------------------------------------------------------
# Timelines


def test_timeline_by_request_count(emu: Emulator) -> None:
    emu.set_timeline(
        CHAIN,
        "dp9w4n2r",
        [
            Step("BUILDING"),
            Step("DEPLOYING", after_requests=2),
            Step("ACTIVE", after_requests=4),
        ],
    )
    path = deployment_path(CHAIN, "dp9w4n2r")
    # The list does not count as serving the deployment.
    listed = get(emu, f"{chain_path(CHAIN)}/deployments").json()["deployments"]
    assert {d["id"]: d["status"] for d in listed}["dp9w4n2r"] == "BUILDING"
    seen = [get(emu, path).json()["status"] for _ in range(6)]
    assert seen == ["BUILDING", "BUILDING", "DEPLOYING", "DEPLOYING", "ACTIVE", "ACTIVE"]


def test_environment_lookups_count_for_the_current_deployment(emu: Emulator) -> None:
    emu.set_timeline(CHAIN, DEP, [Step("UPDATING"), Step("ACTIVE", after_requests=2)])
    env = environment_path(CHAIN, "production")
    first = get(emu, env).json()["current_deployment"]
    assert first["status"] == "UPDATING"
    assert get(emu, DEP_PATH).json()["status"] == "UPDATING"
    assert get(emu, env).json()["current_deployment"]["status"] == "ACTIVE"
    # Staging's lookups do not count for production's deployment.
    emu.set_timeline(CHAIN, DEP, [Step("UPDATING"), Step("ACTIVE", after_requests=1)])
    get(emu, environment_path(CHAIN, "staging"))
    assert get(emu, DEP_PATH).json()["status"] == "UPDATING"


def test_timeline_by_fake_clock_rollout_scenario() -> None:
    clock = FakeClock()
    with Emulator(clock=clock, fixtures=False) as emu:
        apply_scenario(emu, "rollout")
        path = deployment_path(CHAIN, "dprollout")
        env = environment_path(CHAIN, "production")

        def statuses() -> tuple[str, dict[str, str]]:
            body = get(emu, path).json()
            return body["status"], {c["name"]: c["status"] for c in body["chainlets"]}

        assert get(emu, env).json()["current_deployment"]["id"] == "dprollout"
        building = get(emu, path).json()
        assert building["status"] == "BUILDING"
        for chainlet in building["chainlets"]:
            assert chainlet["status"] == "BUILDING"
            assert chainlet["autoscaling_settings"] is None
            assert chainlet["active_replica_count"] == 0
        clock.now += 2.9
        assert statuses()[0] == "BUILDING"
        clock.now += 0.1
        assert statuses() == (
            "DEPLOYING",
            dict.fromkeys(["Entrypoint", "Retriever", "Generator"], "DEPLOYING"),
        )
        clock.now += 3
        body = get(emu, path).json()
        by_name = {c["name"]: c for c in body["chainlets"]}
        assert body["status"] == "DEPLOYING"
        assert by_name["Generator"]["status"] == "LOADING_MODEL"
        assert by_name["Generator"]["autoscaling_settings"] is None
        assert by_name["Entrypoint"]["status"] == "ACTIVE"
        assert set(by_name["Entrypoint"]["autoscaling_settings"]) == AUTOSCALING_FIELDS
        assert by_name["Entrypoint"]["active_replica_count"] >= 1
        clock.now += 2
        final = get(emu, path).json()
        assert final["status"] == "ACTIVE"
        assert all(c["autoscaling_settings"] is not None for c in final["chainlets"])
        # The timeline shows everywhere the deployment is served.
        assert get(emu, env).json()["current_deployment"]["status"] == "ACTIVE"
        listed = get(emu, f"{chain_path(CHAIN)}/deployments").json()["deployments"]
        assert {d["id"]: d["status"] for d in listed}["dprollout"] == "ACTIVE"
        # Recorded times come from the injected clock.
        assert emu.requests[-1].started == clock.now


def test_step_with_both_triggers_starts_on_the_first() -> None:
    clock = FakeClock()
    with Emulator(clock=clock) as local:
        local.set_timeline(
            CHAIN, DEP, [Step("WAKING_UP"), Step("ACTIVE", after_requests=3, after_seconds=5)]
        )
        assert get(local, DEP_PATH).json()["status"] == "WAKING_UP"
        clock.now += 5
        assert get(local, DEP_PATH).json()["status"] == "ACTIVE"


def test_timeline_validation(emu: Emulator) -> None:
    with pytest.raises(ValueError):
        emu.set_timeline(CHAIN, DEP, [])
    with pytest.raises(ValueError):
        emu.set_timeline(CHAIN, DEP, [Step("ACTIVE", {"NoSuchChainlet": "FAILED"})])
    with pytest.raises(KeyError):
        emu.set_timeline(CHAIN, "nodeploy", [Step("ACTIVE")])
    with pytest.raises(ValueError):
        Step("ACTIVE", after_seconds=-1)
    assert emu.timeline(CHAIN, DEP) == ()


def test_in_progress_fixture_chainlets_have_null_autoscaling(emu: Emulator) -> None:
    body = get(emu, deployment_path(CHAIN, "dpbuild1")).json()
    assert body["status"] == "BUILDING"
    for chainlet in body["chainlets"]:
        assert chainlet["autoscaling_settings"] is None
        assert chainlet["active_replica_count"] == 0
    for status in IN_PROGRESS_STATUSES:
        assert make_chainlet("X", status=status)["autoscaling_settings"] is None
    assert set(make_chainlet("X")["autoscaling_settings"]) == AUTOSCALING_FIELDS


def test_fixture_statuses(emu: Emulator) -> None:
    failed = get(emu, deployment_path(CHAIN, "dpfail01")).json()
    assert failed["status"] == "BUILD_FAILED"
    assert "BUILD_FAILED" in {c["status"] for c in failed["chainlets"]}
    zero = get(emu, deployment_path(CHAIN, "dpzero01")).json()
    assert zero["status"] == "SCALED_TO_ZERO"
    assert all(c["active_replica_count"] == 0 for c in zero["chainlets"])
    assert all(c["autoscaling_settings"]["min_replica"] == 0 for c in zero["chainlets"])


# ---------------------------------------------------------------------------------------------
# Faults, each seen from the client


def test_fault_rate_limit_with_header_and_body(emu: Emulator) -> None:
    emu.add_fault(Fault("rate_limit", retry_after=1, retry_after_body=37))
    r = get(emu, DEP_PATH)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    assert r.json() == {"error": "Rate limit exceeded. Please try again later.", "retry_after": 37}
    assert get(emu, DEP_PATH).status_code == 200


def test_fault_rate_limit_bare(emu: Emulator) -> None:
    emu.add_fault(Fault("rate_limit", retry_after=0.5))
    r = get(emu, DEP_PATH)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "0.5"
    assert r.json() == {"error": "Rate limit exceeded. Please try again later."}
    emu.add_fault(Fault("rate_limit"))
    r = get(emu, DEP_PATH)
    assert "Retry-After" not in r.headers
    assert "retry_after" not in r.json()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 401, 403, 404, 400, 418])
def test_fault_status(emu: Emulator, status: int) -> None:
    emu.add_fault(Fault("status", status=status))
    r = get(emu, DEP_PATH)
    assert r.status_code == status
    assert r.headers["Content-Type"] == "application/json"
    message = r.json()["message"]
    assert isinstance(message, str)
    assert message
    assert emu.requests[-1].status == status


def test_fault_drop(emu: Emulator) -> None:
    emu.add_fault(Fault("drop"))
    with pytest.raises(requests.ConnectionError):
        get(emu, DEP_PATH)
    wait_for(lambda: len(emu.requests) == 1)
    assert emu.requests[0].status == 0
    assert get(emu, DEP_PATH).status_code == 200


def test_fault_hang(emu: Emulator) -> None:
    emu.add_fault(Fault("hang", seconds=0.5))
    with pytest.raises(requests.ReadTimeout):
        get(emu, DEP_PATH, timeout=(2.0, 0.2))
    wait_for(lambda: len(emu.requests) == 1)
    rec = emu.requests[0]
    assert rec.status == 0
    assert rec.finished - rec.started >= 0.45
    assert get(emu, DEP_PATH).status_code == 200


def test_fault_hang_ends_by_itself(emu: Emulator) -> None:
    emu.add_fault(Fault("hang", seconds=0.2))
    with pytest.raises(requests.ConnectionError):
        get(emu, DEP_PATH, timeout=(2.0, 3.0))


def test_fault_malformed_json(emu: Emulator) -> None:
    emu.add_fault(Fault("malformed_json"))
    r = get(emu, DEP_PATH)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        r.json()


def test_fault_truncated_json(emu: Emulator) -> None:
    full = get(emu, DEP_PATH).content
    emu.add_fault(Fault("truncated_json"))
    try:
        r = get(emu, DEP_PATH)
    except requests.RequestException:
        pass
    else:
        assert len(r.content) < len(full)
        with pytest.raises(ValueError):
            json.loads(r.content)
    assert get(emu, DEP_PATH).content == full


def test_fault_html(emu: Emulator) -> None:
    emu.add_fault(Fault("html"))
    r = get(emu, DEP_PATH)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<html>" in r.text


def test_fault_empty_body(emu: Emulator) -> None:
    emu.add_fault(Fault("empty_body"))
    r = get(emu, DEP_PATH)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Content-Length"] == "0"
    assert r.content == b""


def test_fault_wrong_content_type(emu: Emulator) -> None:
    normal = get(emu, DEP_PATH).json()
    emu.add_fault(Fault("wrong_content_type"))
    r = get(emu, DEP_PATH)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert json.loads(r.text) == normal


def test_fault_slow_trickle(emu: Emulator) -> None:
    normal = get(emu, DEP_PATH).content
    emu.add_fault(Fault("slow_trickle", seconds=0.4))
    start = time.monotonic()
    r = get(emu, DEP_PATH)
    assert time.monotonic() - start >= 0.35
    assert r.content == normal
    # Each gap is short, so a read timeout larger than a gap never fires: the body takes as
    # long as the fault says, which is what makes slow_trickle different from hang.
    emu.add_fault(Fault("slow_trickle", seconds=0.4))
    assert get(emu, DEP_PATH, timeout=(2.0, 0.2)).content == normal


def test_fault_unknown_status(emu: Emulator) -> None:
    emu.add_fault(Fault("unknown_status"))
    body = get(emu, DEP_PATH).json()
    assert body["status"] == "QUANTUM_FLUX"
    assert {c["status"] for c in body["chainlets"]} == {"QUANTUM_FLUX"}
    emu.add_fault(Fault("unknown_status", value="HIBERNATING"))
    assert get(emu, DEP_PATH).json()["status"] == "HIBERNATING"
    assert get(emu, DEP_PATH).json()["status"] == "ACTIVE"


def test_fault_unknown_chainlet_status(emu: Emulator) -> None:
    emu.add_fault(Fault("unknown_chainlet_status", value="MIGRATING"))
    body = get(emu, DEP_PATH).json()
    assert body["status"] == "ACTIVE"
    assert [c["status"] for c in body["chainlets"]] == ["MIGRATING", "ACTIVE", "ACTIVE"]


def test_fault_extra_fields(emu: Emulator) -> None:
    normal = get(emu, DEP_PATH).json()
    emu.add_fault(Fault("extra_fields"))
    body = get(emu, DEP_PATH).json()
    assert set(body) > set(normal)
    for before, after in zip(normal["chainlets"], body["chainlets"], strict=True):
        assert set(after) > set(before)
        assert set(after["autoscaling_settings"]) > set(before["autoscaling_settings"])
        for key, value in before.items():
            if key != "autoscaling_settings":
                assert after[key] == value
    for key, value in normal.items():
        if key != "chainlets":
            assert body[key] == value


def test_fault_missing_field(emu: Emulator) -> None:
    emu.add_fault(Fault("missing_field"))
    assert "status" not in get(emu, DEP_PATH).json()
    emu.add_fault(Fault("missing_field", field="chainlets.0.status"))
    body = get(emu, DEP_PATH).json()
    assert "status" not in body["chainlets"][0]
    assert "status" in body["chainlets"][1]
    emu.add_fault(Fault("missing_field", field="chainlets.0.autoscaling_settings.min_replica"))
    body = get(emu, DEP_PATH).json()
    assert "min_replica" not in body["chainlets"][0]["autoscaling_settings"]
    emu.add_fault(Fault("missing_field", field="no.such.field"))
    assert get(emu, DEP_PATH).json()["status"] == "ACTIVE"


def test_fault_null_chainlets(emu: Emulator) -> None:
    emu.add_fault(Fault("null_chainlets"))
    body = get(emu, DEP_PATH).json()
    assert body["chainlets"] is None
    assert body["id"] == DEP


def test_content_fault_applies_inside_an_environment(emu: Emulator) -> None:
    env = environment_path(CHAIN, "production")
    emu.add_fault(Fault("unknown_status"), env)
    assert get(emu, env).json()["current_deployment"]["status"] == "QUANTUM_FLUX"
    assert get(emu, env).json()["current_deployment"]["status"] == "ACTIVE"


def test_content_fault_leaves_error_answers_alone(emu: Emulator) -> None:
    emu.add_fault(Fault("extra_fields"))
    r = get(emu, deployment_path(CHAIN, "nodeploy"))
    assert (r.status_code, r.json()) == (404, {"message": "Chain deployment not found"})


def test_every_fault_kind_is_covered_here() -> None:
    names = [name for name in globals() if name.startswith("test_fault_")]
    missing = {k for k in FAULT_KINDS if not any(n.startswith(f"test_fault_{k}") for n in names)}
    assert not missing


def test_fault_times_two_then_stops(emu: Emulator) -> None:
    emu.add_fault(Fault("status", status=500, times=2))
    assert [get(emu, DEP_PATH).status_code for _ in range(4)] == [500, 500, 200, 200]


def test_fault_forever_until_cleared(emu: Emulator) -> None:
    emu.add_fault(Fault("status", status=503, times=None))
    assert [get(emu, DEP_PATH).status_code for _ in range(5)] == [503] * 5
    assert emu.pending_fault(DEP_PATH) is not None
    emu.clear_faults()
    assert emu.pending_fault(DEP_PATH) is None
    assert get(emu, DEP_PATH).status_code == 200


def test_faults_apply_in_order_and_by_path(emu: Emulator) -> None:
    other = deployment_path(CHAIN, "dp9w4n2r")
    emu.add_fault(Fault("status", status=502), DEP_PATH)
    emu.add_fault(Fault("status", status=503))
    emu.add_fault(Fault("status", status=504), DEP_PATH)
    assert [f.status for f, _ in emu.faults] == [502, 503, 504]
    assert get(emu, other).status_code == 503  # first fault matching `other`
    assert get(emu, DEP_PATH + "?q=1").status_code == 502  # query string is ignored
    assert get(emu, other).status_code == 200
    assert get(emu, DEP_PATH).status_code == 504
    assert get(emu, DEP_PATH).status_code == 200


def test_fault_given_is_not_mutated(emu: Emulator) -> None:
    fault = Fault("status", status=500, times=2)
    emu.add_fault(fault)
    get(emu, DEP_PATH)
    get(emu, DEP_PATH)
    assert fault.times == 2
    assert emu.faults == []


def test_the_runtime_queues_any_misbehaviour_and_refuses_an_unknown_delivery(
    emu: Emulator,
) -> None:
    # The runtime knows no vocabulary of faults (that is tests/emulator_faults.py): it takes
    # any object with an answer and a delivery, and refuses a delivery its server cannot do.
    emu.add_fault(CannedAnswer(Answer(418, b'{"message": "teapot"}'), times=1))
    assert get(emu, DEP_PATH).status_code == 418
    assert get(emu, DEP_PATH).status_code == 200

    odd = CannedAnswer(Answer(200, b"{}"))
    odd.delivery = "sideways"  # type: ignore[misc]
    with pytest.raises(InvalidInputError) as exc:
        emu.add_fault(odd)
    assert exc.value.field == "delivery"
    assert emu.faults == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "nope"},
        {"kind": "status", "times": 0},
        {"kind": "status", "status": 99},
        {"kind": "hang", "seconds": float("inf")},
        {"kind": "rate_limit", "retry_after": -1},
    ],
)
def test_fault_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Fault(**kwargs)


# ---------------------------------------------------------------------------------------------
# Shutdown


def test_exit_is_prompt_while_a_hang_is_in_progress() -> None:
    emu = Emulator()
    emu.__enter__()
    emu.add_fault(Fault("hang", seconds=30))
    outcome: list[BaseException] = []

    def client() -> None:
        try:
            get(emu, DEP_PATH, timeout=(2.0, 10.0))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    wait_for(lambda: emu.pending_fault(DEP_PATH) is None)  # the hang has begun
    start = time.monotonic()
    emu.__exit__(None, None, None)
    assert time.monotonic() - start < 1.0
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert isinstance(outcome[0], requests.ConnectionError)
    wait_for(lambda: len(emu.requests) == 1)
    assert emu.requests[0].status == 0


def test_exit_closes_the_port_and_idle_keep_alive_connections() -> None:
    with Emulator() as emu, requests.Session() as session:
        url = emu.url
        assert session.get(url + DEP_PATH, headers=AUTH, timeout=TIMEOUT).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(url + DEP_PATH, headers=AUTH, timeout=TIMEOUT)
    with pytest.raises(RuntimeError):
        _ = emu.url
    with pytest.raises(RuntimeError):
        emu.start()


def test_binds_to_loopback_only(emu: Emulator) -> None:
    assert emu.url.startswith("http://127.0.0.1:")
    assert emu.port > 0


# ---------------------------------------------------------------------------------------------
# Scenarios


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_applies_to_an_empty_emulator(name: str) -> None:
    description, _ = SCENARIOS[name]
    assert description
    with Emulator(fixtures=False) as emu:
        apply_scenario(emu, name)
        assert {"ch7k2p9q", "chq2v8n4"} <= set(emu.chain_ids())


def test_scenario_flaky() -> None:
    with Emulator(fixtures=False) as emu:
        apply_scenario(emu, "flaky")
        first, second, third = (get(emu, DEP_PATH) for _ in range(3))
        assert first.status_code == 503
        assert second.status_code == 429
        assert second.headers["Retry-After"] == "1"
        assert second.json()["retry_after"] == 1
        assert third.status_code == 200


def test_scenario_build_failed() -> None:
    clock = FakeClock()
    with Emulator(clock=clock) as emu:
        apply_scenario(emu, "build-failed")
        env = environment_path(CHAIN, "production")
        assert get(emu, env).json()["current_deployment"]["status"] == "BUILDING"
        clock.now += 10
        body = get(emu, env).json()["current_deployment"]
        assert body["status"] == "BUILD_FAILED"
        assert [c["status"] for c in body["chainlets"]].count("BUILD_FAILED") == 1


def test_scenario_scaled_to_zero() -> None:
    with Emulator() as emu:
        apply_scenario(emu, "scaled-to-zero")
        env = get(emu, environment_path(CHAIN, "production")).json()
        assert env["current_deployment"]["id"] == "dpzero01"
        assert env["current_deployment"]["status"] == "SCALED_TO_ZERO"


@pytest.mark.parametrize(
    ("name", "first", "later"),
    [("rollout", "BUILDING", "ACTIVE"), ("build-failed", "BUILDING", "BUILD_FAILED")],
)
def test_a_timed_scenario_starts_at_its_first_request_not_at_the_emulators_start(
    name: str, first: str, later: str
) -> None:
    clock = FakeClock()
    with Emulator(clock=clock) as emu:
        apply_scenario(emu, name)
        clock.now += 600  # the user tries it ten minutes after starting the emulator
        env = environment_path(CHAIN, "production")
        assert get(emu, env).json()["current_deployment"]["status"] == first
        clock.now += 60
        assert get(emu, env).json()["current_deployment"]["status"] == later


def test_the_stuck_scenario_stays_in_progress_forever() -> None:
    clock = FakeClock()
    with Emulator(clock=clock) as emu:
        apply_scenario(emu, "stuck")
        env = environment_path(CHAIN, "production")
        for _ in range(3):
            body = get(emu, env).json()["current_deployment"]
            assert body["id"] == "dpstuck1" and body["status"] == "DEPLOYING"
            by_name = {c["name"]: c["status"] for c in body["chainlets"]}
            assert by_name["Generator"] == "LOADING_MODEL"
            clock.now += 10**6


WAIT_1S = ("--wait-for", "ACTIVE", "--timeout", "1")


def test_the_stuck_scenario_lets_a_user_try_a_timeout_from_the_command_line() -> None:
    with Emulator() as emu:
        apply_scenario(emu, "stuck")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BASETEN_")}
        env.update(BASETEN_API_URL=emu.url, BASETEN_API_KEY=DEFAULT_API_KEY)
        result = subprocess.run(
            [sys.executable, "-m", "provider", "get", CHAIN, "-e", "production", *WAIT_1S],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 4, result.stderr
    assert "dpstuck1" in result.stderr and "DEPLOYING" in result.stderr


def test_scenario_drift() -> None:
    with Emulator() as emu:
        apply_scenario(emu, "drift")
        body = get(emu, deployment_path(CHAIN, "dpdrift1")).json()
        assert body["status"] == "QUANTUM_FLUX"
        assert "labels" in body
        assert "max_scale_down_rate" in body["chainlets"][0]["autoscaling_settings"]
        # Still drifting on the next call; other deployments are untouched.
        assert get(emu, deployment_path(CHAIN, "dpdrift1")).json()["status"] == "QUANTUM_FLUX"
        assert get(emu, DEP_PATH).json()["status"] == "ACTIVE"


def test_unknown_scenario() -> None:
    with pytest.raises(KeyError, match="rollout"):
        apply_scenario(Emulator(fixtures=False), "nope")


def test_make_deployment_shapes() -> None:
    deployment = make_deployment("chabc123", "dpabc123", environment="staging")
    assert deployment["environment"] == "staging"
    ids = [c["id"] for c in deployment["chainlets"]]
    assert len(set(ids)) == 3
    assert all(BASETEN_ID.match(i) for i in ids)
    assert make_deployment("chabc123", "dpabc123") == make_deployment("chabc123", "dpabc123")
    custom = make_deployment("c", "d", chainlets=[make_chainlet("Only", min_replica=2)])
    assert [c["name"] for c in custom["chainlets"]] == ["Only"]
    assert custom["chainlets"][0]["active_replica_count"] == 2


# ---------------------------------------------------------------------------------------------
# Command line


def test_cli_help_lists_scenarios() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "provider.emulator", "--help"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name, (description, _) in SCENARIOS.items():
        assert name in result.stdout
        assert description.split()[0] in result.stdout
    assert "--port" in result.stdout
    assert "--latency" in result.stdout


def test_cli_rejects_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--scenario", "nope"])
    assert exc.value.code == 2
    assert "nope" in capsys.readouterr().err


def test_cli_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with Emulator() as busy:
        assert main(["--port", str(busy.port)]) == 1
    assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err


def test_cli_serves_a_scenario_until_terminated() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "provider.emulator", "--port", "0", "--scenario", "rollout"],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=20), "no output from the emulator"
        line = proc.stdout.readline()
        match = re.search(r"on (http://127\.0\.0\.1:\d+) \(scenario: rollout\)", line)
        assert match, line
        url = match.group(1)
        assert f"BASETEN_API_URL={url}" in line
        assert f"BASETEN_API_KEY={DEFAULT_API_KEY}" in line
        r = requests.get(url + deployment_path(CHAIN, "dprollout"), headers=AUTH, timeout=TIMEOUT)
        assert r.status_code == 200
        assert r.json()["status"] == "BUILDING"
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_readmes_emulator_commands_run_as_shown(tmp_path: Path) -> None:
    # README, "The emulator": start it, then `get` against it, from a user's folder. Port 8900
    # may be taken here, so a free port stands in for it in both commands.
    start, get = sh_block("python -m provider.emulator --port 8900")
    port = {"8900": str(_free_port())}
    start, get = start.resolve(sys.executable, port), get.resolve(sys.executable, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASETEN_")}
    with subprocess.Popen(
        start.argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as emulator:
        try:
            assert emulator.stdout is not None
            with selectors.DefaultSelector() as selector:
                selector.register(emulator.stdout, selectors.EVENT_READ)
                assert selector.select(timeout=20), "no output from the emulator"
            assert f"{get.env['BASETEN_API_URL']} (scenario: rollout)" in emulator.stdout.readline()
            (result,) = run_all([get], cwd=tmp_path, env=env, timeout=30)
        finally:
            emulator.terminate()
            emulator.communicate(timeout=10)
    assert result.returncode == 0, result.stderr
    assert "chain deployment dprollout of chain ch7k2p9q" in result.stdout
    assert "status       BUILDING" in result.stdout  # the rollout's first step
