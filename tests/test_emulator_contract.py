"""Contract test: everything the emulator serves as a chain deployment obeys Baseten's schema.

The schema is Baseten's published OpenAPI document for
``GET /v1/chains/{chain_id}/deployments/{chain_deployment_id}``, kept verbatim in
``tests/contract/baseten-chain-deployment.openapi.yaml``. Every deployment body of every
scenario is validated against ``#/components/schemas/ChainDeploymentV1`` with
``OAS31Validator`` (date-time formats checked): the deployment call at every step of every
timeline, the deployments list, and each environment's current and candidate deployment.

Only bodies that a deliberately schema-breaking or non-JSON fault produced are left out; the
test tells them apart by asking the emulator which fault the next request would get.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_schema_validator import OAS31Validator

from provider.emulator import (
    DEFAULT_API_KEY,
    SCENARIOS,
    Emulator,
    apply_scenario,
    chain_path,
    deployment_path,
    environment_path,
    make_chainlet,
    make_deployment,
)
from provider.models import KNOWN_STATUSES
from tests.conftest import FakeClock
from tests.emulator_faults import FAULT_KINDS, Fault

SPEC_PATH = Path(__file__).parent / "contract" / "baseten-chain-deployment.openapi.yaml"
SEED_PATH = Path("/work/shared/seeds/000_984199e629e43323.txt")
TIMEOUT = (2.0, 5.0)
AUTH = {"Authorization": f"Api-Key {DEFAULT_API_KEY}"}
CHAIN = "ch7k2p9q"
DEP = "dp3m8x1v"

# Faults whose bodies break the schema on purpose.
SCHEMA_BREAKING = frozenset(
    {"unknown_status", "unknown_chainlet_status", "missing_field", "null_chainlets"}
)
# Faults that keep the body as served; their bodies must still validate.
BODY_PRESERVING = frozenset({"extra_fields", "wrong_content_type", "slow_trickle"})
# Every other fault answers with something other than a deployment body (checked below).
NOT_A_BODY = FAULT_KINDS - SCHEMA_BREAKING - BODY_PRESERVING
EXCLUDED = SCHEMA_BREAKING | NOT_A_BODY


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def validator(spec: dict[str, Any]) -> OAS31Validator:
    schema = {"$ref": "#/components/schemas/ChainDeploymentV1", "components": spec["components"]}
    OAS31Validator.check_schema(schema)
    return OAS31Validator(schema, format_checker=OAS31Validator.FORMAT_CHECKER)


def test_spec_copy_matches_the_seed(spec: dict[str, Any]) -> None:
    assert "/v1/chains/{chain_id}/deployments/{chain_deployment_id}" in spec["paths"]
    if not SEED_PATH.exists():
        pytest.skip("seed not available here")
    seed = SEED_PATH.read_text(encoding="utf-8")
    block = seed.split("````yaml", 1)[1].split("\n", 1)[1].split("````", 1)[0]
    lines = SPEC_PATH.read_text(encoding="utf-8").splitlines(keepends=True)
    assert all(line.startswith("#") for line in lines[:2])
    assert "".join(lines[2:]) == block


# ---------------------------------------------------------------------------------------------
# Sweeping a scenario


class Sweep:
    """Fetches every deployment body an emulator serves and validates it."""

    def __init__(self, emu: Emulator, validator: OAS31Validator) -> None:
        self.emu = emu
        self.validator = validator
        self.validated: Counter[str] = Counter()
        self.excluded: set[str] = set()
        self.seen: dict[str, set[tuple[str, tuple[str, ...]]]] = {}

    def fetch(self, path: str) -> Any:
        """The JSON body of ``path``, or None when a forever-fault excludes it."""
        for _ in range(10):
            fault = self.emu.pending_fault(path)
            # The runtime's own faults (the scenarios' 503, 429 and unknown status) all break
            # the schema; of the tests' vocabulary, the kinds in EXCLUDED do.
            if fault is not None and (not isinstance(fault, Fault) or fault.kind in EXCLUDED):
                if fault.times is None:
                    self.excluded.add(path)
                    return None
                # A one-off fault (e.g. "flaky"): let it pass, then ask again.
                with contextlib.suppress(requests.RequestException):
                    requests.get(self.emu.url + path, headers=AUTH, timeout=TIMEOUT)
                continue
            r = requests.get(self.emu.url + path, headers=AUTH, timeout=TIMEOUT)
            assert r.status_code == 200, (path, r.status_code, r.text)
            return json.loads(r.content)
        raise AssertionError(f"{path}: still faulted after 10 requests")

    def check(self, label: str, body: Any) -> None:
        errors = sorted(self.validator.iter_errors(body), key=str)
        assert not errors, f"{label}: {[e.message for e in errors]}"
        self.validated[label] += 1

    def run(self) -> None:
        for chain in self.emu.chain_ids():
            for dep in self.emu.deployment_ids(chain):
                path = deployment_path(chain, dep)
                body = self.fetch(path)
                if body is not None:
                    self.check(path, body)
                    signature = tuple(c["status"] for c in body["chainlets"])
                    self.seen.setdefault(path, set()).add((body["status"], signature))
            listing = self.fetch(f"{chain_path(chain)}/deployments")
            if listing is not None:
                for body in listing["deployments"]:
                    self.check(f"{chain}/deployments[{body['id']}]", body)
            for env in self.emu.environment_names(chain):
                env_body = self.fetch(environment_path(chain, env))
                if env_body is None:
                    continue
                assert env_body["current_deployment"] is not None
                for key in ("current_deployment", "candidate_deployment"):
                    if env_body[key] is not None:
                        self.check(f"{chain}/environments/{env}.{key}", env_body[key])


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_deployment_body_of_every_scenario_obeys_the_contract(
    name: str, validator: OAS31Validator
) -> None:
    clock = FakeClock(now=0.0)  # timelines start at 0, so a step's after_seconds is a moment
    with Emulator(clock=clock, fixtures=False) as emu:
        apply_scenario(emu, name)
        sweep = Sweep(emu, validator)
        sweep.run()
        timelines = {
            (chain, dep): emu.timeline(chain, dep)
            for chain in emu.chain_ids()
            for dep in emu.deployment_ids(chain)
            if emu.timeline(chain, dep)
        }
        steps = [step for timeline in timelines.values() for step in timeline]
        # Step every timeline through each of its times, and past every request count.
        for moment in sorted({s.after_seconds for s in steps if s.after_seconds is not None}):
            clock.now = moment
            sweep.run()
        for _ in range(max((s.after_requests or 0 for s in steps), default=0) + 1):
            sweep.run()

        # Every step of every (non-excluded) timeline was served and validated.
        for (chain, dep), timeline in timelines.items():
            path = deployment_path(chain, dep)
            if path in sweep.excluded:
                continue
            names = [
                c["name"]
                for c in requests.get(emu.url + path, headers=AUTH, timeout=TIMEOUT).json()[
                    "chainlets"
                ]
            ]
            for step in timeline:
                expected = (step.status, tuple(step.chainlet_status(n) for n in names))
                assert expected in sweep.seen[path], (path, step)

        # Every deployment was validated through the deployment call, unless excluded.
        for chain in emu.chain_ids():
            for dep in emu.deployment_ids(chain):
                path = deployment_path(chain, dep)
                assert sweep.validated[path] >= 1 or path in sweep.excluded, path

    if name == "drift":
        # The unknown status is the one thing left out, and only on its own call.
        assert sweep.excluded == {deployment_path(CHAIN, "dpdrift1")}
        assert sweep.validated[f"{CHAIN}/environments/canary.current_deployment"] >= 1
    else:
        assert not sweep.excluded
    if name in {"rollout", "build-failed"}:
        assert len(timelines) == 1


@pytest.mark.parametrize("kind", sorted(BODY_PRESERVING))
def test_body_preserving_faults_still_obey_the_contract(
    emu: Emulator, validator: OAS31Validator, kind: str
) -> None:
    path = deployment_path(CHAIN, DEP)
    env = environment_path(CHAIN, "production")
    emu.add_fault(Fault(kind, seconds=0.05), path)
    emu.add_fault(Fault(kind, seconds=0.05), env)
    body = requests.get(emu.url + path, headers=AUTH, timeout=TIMEOUT)
    validator.validate(json.loads(body.content))
    env_body = json.loads(requests.get(emu.url + env, headers=AUTH, timeout=TIMEOUT).content)
    validator.validate(env_body["current_deployment"])
    if kind == "extra_fields":
        assert "labels" in json.loads(body.content)


@pytest.mark.parametrize("kind", sorted(NOT_A_BODY))
def test_the_other_faults_serve_no_deployment_body(emu: Emulator, kind: str) -> None:
    # What a new fault kind lands in unless it is classified above: it must not serve a body.
    path = deployment_path(CHAIN, DEP)
    emu.add_fault(Fault(kind, seconds=0.05), path)
    try:
        r = requests.get(emu.url + path, headers=AUTH, timeout=TIMEOUT)
        body = json.loads(r.content) if r.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return
    assert not isinstance(body, dict) or "chainlets" not in body, (kind, r.status_code)


@pytest.mark.parametrize("kind", sorted(SCHEMA_BREAKING))
def test_schema_breaking_faults_do_break_the_contract(
    emu: Emulator, validator: OAS31Validator, kind: str
) -> None:
    path = deployment_path(CHAIN, DEP)
    emu.add_fault(Fault(kind), path)
    body = requests.get(emu.url + path, headers=AUTH, timeout=TIMEOUT).json()
    assert not validator.is_valid(body)


def test_validator_rejects_a_broken_body(validator: OAS31Validator) -> None:
    good = make_deployment(CHAIN, DEP)
    validator.validate(good)
    no_chainlets = {k: v for k, v in good.items() if k != "chainlets"}
    messages = [error.message for error in validator.iter_errors(no_chainlets)]
    assert messages == ["'chainlets' is a required property"]
    with pytest.raises(Exception, match="'chainlets' is a required property") as raised:
        validator.validate(no_chainlets)
    assert type(raised.value).__name__ == "ValidationError"
    bad_settings = make_deployment(CHAIN, DEP)
    bad_settings["chainlets"][0]["autoscaling_settings"]["min_replica"] = "one"
    assert not validator.is_valid(bad_settings)
    bad_date = make_deployment(CHAIN, DEP, created_at="last tuesday")
    assert not validator.is_valid(bad_date)


def test_builders_obey_the_contract_for_every_status(
    spec: dict[str, Any], validator: OAS31Validator
) -> None:
    statuses = spec["components"]["schemas"]["DeploymentStatusV1"]["enum"]
    # The model knows exactly the statuses the seed documents.
    assert set(statuses) == KNOWN_STATUSES
    for status in statuses:
        validator.validate(make_deployment(CHAIN, DEP, status=status, environment="production"))
        chainlet = make_chainlet("Solo", status=status, target_in_flight_tokens=64)
        validator.validate(make_deployment(CHAIN, DEP, status=status, chainlets=[chainlet]))
