"""The lookup's inputs, its answers and its outputs: one declaration each, held by every path."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from provider import functions, resource
from provider.client import BasetenClient
from provider.emulator import Emulator, deployment_path, make_chainlet, make_deployment
from provider.errors import InvalidInputError, NotFoundError, ResponseFormatError
from provider.fields import ListOf, MapOf, ObjectOf, Scalar
from provider.inputs import INPUT_NAMES, input_errors
from provider.lookup import DeploymentQuery
from provider.models import ChainDeployment
from provider.outputs import (
    OUTPUT_NAMES,
    OUTPUTS_BY_NAME,
    deployment_from_outputs,
    deployment_outputs,
    from_engine,
    to_engine,
)

CHAIN = "ch7k2p9q"


def fields(errors: list[InvalidInputError]) -> list[str]:
    return [e.field for e in errors]


# -- inputs ------------------------------------------------------------------------------------


def test_input_errors_reports_every_bad_input_at_once() -> None:
    errors = input_errors(
        {
            "chain_id": "../x",
            "chain_deployment_id": "a/b",
            "environment": "prod",
            "wait_for": ["NOPE"],
            "timeout_seconds": -1,
        }
    )
    assert fields(errors) == [
        "chain_id",
        "chain_deployment_id",
        "wait_for",
        "timeout_seconds",
        "environment",  # both targets given
    ]
    assert all(e.reason for e in errors)


def test_a_missing_chain_id_and_no_target_are_both_named() -> None:
    assert fields(input_errors({})) == ["chain_id", "chain_deployment_id"]


def test_unknown_values_are_not_judged_and_hold_the_one_target_rule_back() -> None:
    unknown = object()

    def is_unknown(value: object) -> bool:
        return value is unknown

    assert input_errors({"chain_id": unknown, "environment": unknown}, unknown=is_unknown) == []
    # An unknown target may still turn out null: both-given cannot be judged yet...
    assert (
        input_errors(
            {"chain_id": CHAIN, "chain_deployment_id": unknown, "environment": "prod"},
            unknown=is_unknown,
        )
        == []
    )
    # ...but a known bad value next to an unknown one is still reported.
    assert fields(
        input_errors({"chain_id": "a b", "environment": unknown}, unknown=is_unknown)
    ) == ["chain_id"]


def test_parse_raises_the_first_error_and_fills_the_defaults() -> None:
    with pytest.raises(InvalidInputError) as info:
        DeploymentQuery.parse({"chain_id": "a/b", "wait_for": ["NOPE"]})
    assert info.value.field == "chain_id"

    query = DeploymentQuery.parse({"chain_id": CHAIN, "environment": "production"})
    assert query.timeout_seconds == 900.0
    assert query.wait_for == frozenset()
    assert (query.chain_id, query.chain_deployment_id, query.environment) == (
        CHAIN,
        None,
        "production",
    )


@pytest.mark.parametrize(
    "signature",
    [
        resource.ChainDeploymentArgs.__init__,
        functions.get_chain_deployment,
        functions.get_chain_deployment_output,
    ],
)
def test_python_signatures_spell_out_exactly_the_declared_inputs(signature: Any) -> None:
    params = [
        p.name
        for p in inspect.signature(signature).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
    ]
    assert tuple(params) == INPUT_NAMES


def test_the_resources_keyword_inputs_are_exactly_the_declared_inputs() -> None:
    params = [
        p.name
        for p in inspect.signature(resource.ChainDeployment.__init__).parameters.values()
        if p.kind is p.KEYWORD_ONLY
    ]
    assert tuple(params) == INPUT_NAMES


# -- answers -------------------------------------------------------------------------------------


def _serve(emulator: Emulator, chain_id: str, body: dict[str, Any]) -> None:
    emulator.add_raw_answer(
        json.dumps(body).encode(), deployment_path(chain_id, "dpasked1"), times=None
    )


@pytest.mark.parametrize(
    ("answered_chain", "answered_id", "field"),
    [("otherchain", "dpasked1", "chain_id"), (CHAIN, "other-dp", "id")],
)
def test_an_answer_for_another_deployment_is_a_response_format_error(
    client: BasetenClient, emulator: Emulator, answered_chain: str, answered_id: str, field: str
) -> None:
    _serve(emulator, CHAIN, make_deployment(answered_chain, answered_id))
    query = DeploymentQuery.parse({"chain_id": CHAIN, "chain_deployment_id": "dpasked1"})

    with pytest.raises(ResponseFormatError) as info:
        query.fetch(client)

    assert info.value.field == field
    assert "dpasked1" in str(info.value)


def test_an_environment_answered_for_another_chain_is_a_response_format_error(
    client: BasetenClient, emulator: Emulator
) -> None:
    body = {
        "name": "production",
        "chain_id": "otherchain",
        "current_deployment": make_deployment("otherchain", "dpother1"),
    }
    emulator.add_raw_answer(
        json.dumps(body).encode(), f"/v1/chains/{CHAIN}/environments/production", times=None
    )
    query = DeploymentQuery.parse({"chain_id": CHAIN, "environment": "production"})

    with pytest.raises(ResponseFormatError, match="otherchain"):
        query.fetch(client)


def _serve_environment(emulator: Emulator, body: dict[str, Any], name: str = "production") -> None:
    emulator.add_raw_answer(
        json.dumps(body).encode(), f"/v1/chains/{CHAIN}/environments/{name}", times=None
    )


def _environment(**changes: Any) -> dict[str, Any]:
    body = {
        "name": "production",
        "chain_id": CHAIN,
        "current_deployment": make_deployment(CHAIN, "dpcurr01", environment="production"),
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("answered_id", "reason"),
    [
        ("a/b", "contains '/'"),
        ("../x", "contains '/'"),
        ("..", "'..'"),
        ("d" * 10240, "10240 characters long"),
        ("dp 1", "contains ' '"),
    ],
    ids=["a/b", "../x", "..", "10 KB", "space"],
)
def test_a_deployment_id_in_an_environment_answer_that_no_input_could_be_is_refused(
    client: BasetenClient, emulator: Emulator, answered_id: str, reason: str
) -> None:
    # It would become the resource id CHAIN/<id>, which every later Read refuses.
    current = make_deployment(CHAIN, answered_id, environment="production")
    _serve_environment(emulator, _environment(current_deployment=current))
    query = DeploymentQuery.parse({"chain_id": CHAIN, "environment": "production"})

    with pytest.raises(ResponseFormatError) as info:
        query.fetch(client)

    assert info.value.field == "current_deployment.id"
    assert reason in str(info.value) and len(str(info.value)) < 300


@pytest.mark.parametrize(
    ("ids", "field"),
    [
        ({"id": "a/b", "chain_id": CHAIN}, "id"),
        ({"id": "dpasked1", "chain_id": "../x"}, "chain_id"),
    ],
)
def test_ids_in_a_deployment_answer_pass_the_input_rules_too(
    client: BasetenClient, emulator: Emulator, ids: dict[str, str], field: str
) -> None:
    _serve(emulator, CHAIN, {**make_deployment(CHAIN, "dpasked1"), **ids})
    query = DeploymentQuery.parse({"chain_id": CHAIN, "chain_deployment_id": "dpasked1"})

    with pytest.raises(ResponseFormatError) as info:
        query.fetch(client)

    assert info.value.field == field and "not a usable id" in str(info.value)


def test_an_environment_answer_naming_another_environment_is_refused(
    client: BasetenClient, emulator: Emulator
) -> None:
    _serve_environment(emulator, _environment(name="staging"))
    query = DeploymentQuery.parse({"chain_id": CHAIN, "environment": "production"})

    with pytest.raises(ResponseFormatError) as info:
        query.fetch(client)

    assert info.value.field == "name"
    assert "environment production" in str(info.value) and "'staging'" in str(info.value)


def test_an_environment_whose_current_deployment_belongs_to_another_chain_is_refused(
    client: BasetenClient, emulator: Emulator
) -> None:
    # The environment's own chain_id is right: only the embedded deployment's is wrong.
    current = make_deployment("otherchain", "dpcurr01", environment="production")
    _serve_environment(emulator, _environment(current_deployment=current))
    query = DeploymentQuery.parse({"chain_id": CHAIN, "environment": "production"})

    with pytest.raises(ResponseFormatError) as info:
        query.fetch(client)

    assert info.value.field == "current_deployment.chain_id"
    assert "'otherchain'" in str(info.value)


def test_the_environment_looked_up_is_the_one_the_result_carries(
    client: BasetenClient, emulator: Emulator
) -> None:
    current = make_deployment(CHAIN, "dpclaim1", environment="staging")
    body = {"name": "production", "chain_id": CHAIN, "current_deployment": current}
    emulator.add_raw_answer(
        json.dumps(body).encode(), f"/v1/chains/{CHAIN}/environments/production", times=None
    )
    query = DeploymentQuery.parse({"chain_id": CHAIN, "environment": "production"})

    found = query.fetch(client)

    assert found.environment == "production"
    outputs = deployment_outputs(query, found)
    assert outputs["environment"] == "production"
    assert json.loads(outputs["raw_json"])["environment"] == "production"


def test_an_environment_without_a_current_deployment_claims_no_http_status(
    client: BasetenClient, emulator: Emulator
) -> None:
    body = {"name": "canary", "chain_id": CHAIN, "current_deployment": None}
    emulator.add_raw_answer(
        json.dumps(body).encode(), f"/v1/chains/{CHAIN}/environments/canary", times=None
    )
    query = DeploymentQuery.parse({"chain_id": CHAIN, "environment": "canary"})

    with pytest.raises(NotFoundError) as info:
        query.fetch(client)

    assert info.value.status is None
    assert "HTTP" not in str(info.value) and "Baseten said" not in str(info.value)


def test_duplicate_chainlet_names_keep_the_first_everywhere_and_warn_naming_them(
    client: BasetenClient, emulator: Emulator
) -> None:
    chainlets = [
        make_chainlet("Gen", instance_type_name="L4:4x16"),
        make_chainlet("Gen", instance_type_name="H100:1x20x80"),
        make_chainlet("Solo"),
    ]
    _serve(emulator, CHAIN, make_deployment(CHAIN, "dpasked1", chainlets=chainlets))
    query = DeploymentQuery.parse({"chain_id": CHAIN, "chain_deployment_id": "dpasked1"})
    warnings: list[str] = []

    found = query.resolve(client, on_warning=warnings.append)
    outputs = deployment_outputs(query, found)

    assert len(outputs["chainlets"]) == 3  # the list keeps every chainlet
    assert outputs["instance_types"] == {"Gen": "L4:4x16", "Solo": "1x4"}
    assert outputs["chainlets_by_name"]["Gen"]["instance_type_name"] == "L4:4x16"
    assert found.chainlet("Gen").instance_type_name == "L4:4x16"
    assert len(warnings) == 1 and "'Gen'" in warnings[0] and "Solo" not in warnings[0]


# -- outputs -------------------------------------------------------------------------------------


def _deployment_with_drift() -> ChainDeployment:
    body = make_deployment(CHAIN, "dpdrift1")
    body["labels"] = {"team": "ml", "cost_center": None}
    body["chainlets"][0]["gpu_count"] = 2
    body["chainlets"][0]["autoscaling_settings"]["max_scale_down_rate"] = 5
    return ChainDeployment.model_validate_json(json.dumps(body))


def test_raw_json_rebuilds_the_deployment_losslessly_even_after_the_engine() -> None:
    deployment = _deployment_with_drift()
    query = DeploymentQuery.parse({"chain_id": CHAIN, "chain_deployment_id": "dpdrift1"})
    outputs = deployment_outputs(query, deployment)
    # What the engine hands back: nulls in maps dropped, integers turned into floats.
    wire = json.loads(json.dumps(to_engine(outputs)), parse_int=float)

    rebuilt = deployment_from_outputs(wire)

    assert rebuilt == deployment
    assert rebuilt.to_api() == deployment.to_api()
    assert rebuilt.model_extra == {"labels": {"team": "ml", "cost_center": None}}
    assert type(rebuilt.chainlets[0].model_extra["gpu_count"]) is int  # type: ignore[index]


def test_from_engine_restores_declared_integers_and_nulls() -> None:
    deployment = _deployment_with_drift()
    query = DeploymentQuery.parse({"chain_id": CHAIN, "chain_deployment_id": "dpdrift1"})
    outputs = deployment_outputs(query, deployment)
    chainlets = OUTPUTS_BY_NAME["chainlets"].type
    wire = json.loads(json.dumps(to_engine(outputs["chainlets"])), parse_int=float)

    restored = from_engine(chainlets, wire)

    # The same values as before the engine (nullable fields present as null, not absent)...
    assert to_engine(restored) == to_engine(outputs["chainlets"])
    assert all("max_scale_down_rate" in c["autoscaling_settings"] for c in restored)
    # ...with the declared integers integers again.
    assert all(type(c["active_replica_count"]) is int for c in restored)
    assert all(
        type(c["autoscaling_settings"]["min_replica"]) is int
        for c in restored
        if c["autoscaling_settings"]
    )


def test_every_output_has_a_type_a_description_and_a_value() -> None:
    deployment = _deployment_with_drift()
    query = DeploymentQuery.parse({"chain_id": CHAIN, "chain_deployment_id": "dpdrift1"})
    outputs = deployment_outputs(query, deployment)

    assert tuple(outputs) == OUTPUT_NAMES
    for name in OUTPUT_NAMES:
        spec = OUTPUTS_BY_NAME[name]
        assert spec.description
        assert isinstance(spec.type, Scalar | ListOf | MapOf | ObjectOf)
    # Every input comes back among the outputs: a resource's state says what it was asked.
    # But chain_name: the state holds the chain's id, so renaming the chain changes nothing.
    assert set(INPUT_NAMES) - {"chain_name"} <= set(OUTPUT_NAMES)
