"""The typed models: every documented field, nullability, drift (extra / missing fields,
unknown statuses) and the errors a wrong body gives."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from provider.emulator import make_chainlet, make_deployment
from provider.models import (
    KNOWN_STATUSES,
    AutoscalingSettings,
    Chain,
    ChainDeployment,
    ChainEnvironment,
    Chainlet,
    DeploymentStatus,
    is_known_status,
)

CHAIN = "ch7k2p9q"
DEPLOYMENT = "dp3m8x1v"


def _deployment(**kwargs: Any) -> dict[str, Any]:
    return make_deployment(CHAIN, DEPLOYMENT, **kwargs)


def _autoscaling() -> dict[str, Any]:
    settings = make_chainlet("Entrypoint", target_in_flight_tokens=512)["autoscaling_settings"]
    assert settings is not None
    return settings


def _parse_json(body: dict[str, Any]) -> ChainDeployment:
    # The client parses raw bytes, so the JSON path is the one that matters.
    return ChainDeployment.model_validate_json(json.dumps(body))


def _locs(exc: ValidationError) -> list[tuple[int | str, ...]]:
    return [tuple(e["loc"]) for e in exc.errors()]


# -- every field, with its type -----------------------------------------------------------


def test_chain_deployment_parses_every_field_with_its_type() -> None:
    body = _deployment(environment="production", created_at="2026-11-18T16:02:45Z")
    dep = _parse_json(body)

    assert dep.id == DEPLOYMENT and type(dep.id) is str
    assert dep.chain_id == CHAIN and type(dep.chain_id) is str
    assert dep.environment == "production"
    assert isinstance(dep.created_at, datetime)
    assert dep.created_at == datetime(2026, 11, 18, 16, 2, 45, tzinfo=UTC)
    assert dep.created_at.tzinfo is not None
    assert dep.status is DeploymentStatus.ACTIVE
    assert isinstance(dep.chainlets, list)
    assert [c.name for c in dep.chainlets] == ["Entrypoint", "Retriever", "Generator"]
    assert all(isinstance(c, Chainlet) for c in dep.chainlets)
    assert dep.model_extra == {}


def test_chainlet_parses_every_field_with_its_type() -> None:
    body = make_chainlet(
        "Generator",
        instance_type_name="H100:1x20x80",
        min_replica=1,
        max_replica=4,
        concurrency_target=2,
        chainlet_id="cl000001",
    )
    chainlet = Chainlet.model_validate_json(json.dumps(body))

    assert chainlet.id == "cl000001"
    assert chainlet.name == "Generator"
    assert chainlet.instance_type_name == "H100:1x20x80"
    assert chainlet.active_replica_count == 1 and type(chainlet.active_replica_count) is int
    assert chainlet.status is DeploymentStatus.ACTIVE
    assert isinstance(chainlet.autoscaling_settings, AutoscalingSettings)


def test_autoscaling_settings_parses_all_seven_fields_as_ints() -> None:
    body = {
        "min_replica": 1,
        "max_replica": 4,
        "autoscaling_window": 60,
        "scale_down_delay": 900,
        "concurrency_target": 2,
        "target_utilization_percentage": 70,
        "target_in_flight_tokens": 512,
    }
    settings = AutoscalingSettings.model_validate_json(json.dumps(body))

    for name, value in body.items():
        parsed = getattr(settings, name)
        assert parsed == value and type(parsed) is int, name
    assert settings.model_extra == {}


@pytest.mark.parametrize(
    "field",
    [
        "autoscaling_window",
        "scale_down_delay",
        "target_utilization_percentage",
        "target_in_flight_tokens",
    ],
)
def test_nullable_autoscaling_field_accepts_null_as_server_default(field: str) -> None:
    body = _autoscaling()
    body[field] = None

    assert getattr(AutoscalingSettings.model_validate(body), field) is None


@pytest.mark.parametrize("field", ["min_replica", "max_replica", "concurrency_target"])
def test_non_nullable_autoscaling_field_refuses_null_naming_the_field(field: str) -> None:
    body = _autoscaling()
    body[field] = None

    with pytest.raises(ValidationError) as info:
        AutoscalingSettings.model_validate(body)
    assert (field,) in _locs(info.value)


def test_deployment_environment_may_be_null() -> None:
    assert _parse_json(_deployment(environment=None)).environment is None


def test_chainlet_autoscaling_settings_null_while_deploying() -> None:
    body = _deployment(status="DEPLOYING")
    dep = _parse_json(body)

    assert all(c.autoscaling_settings is None for c in dep.chainlets)
    assert all(c.status is DeploymentStatus.DEPLOYING for c in dep.chainlets)


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        (("id",), ("id",)),
        (("chain_id",), ("chain_id",)),
        (("created_at",), ("created_at",)),
        (("status",), ("status",)),
        (("chainlets", 0, "id"), ("chainlets", 0, "id")),
        (("chainlets", 1, "instance_type_name"), ("chainlets", 1, "instance_type_name")),
        (("chainlets", 2, "active_replica_count"), ("chainlets", 2, "active_replica_count")),
    ],
)
def test_non_nullable_field_set_to_null_is_refused_naming_the_field(
    path: tuple[int | str, ...], loc: tuple[int | str, ...]
) -> None:
    body = _deployment()
    node: Any = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = None

    with pytest.raises(ValidationError) as info:
        _parse_json(body)
    assert any(found[: len(loc)] == loc for found in _locs(info.value))


# -- drift: extra and missing fields ------------------------------------------------------


def test_unknown_extra_fields_are_kept_at_every_level_and_dumped_back() -> None:
    body = _deployment()
    body["is_development"] = False
    body["labels"] = {"team": "ml-platform"}
    body["chainlets"][0]["gpu_count"] = 1
    body["chainlets"][0]["autoscaling_settings"]["max_scale_down_rate"] = 2

    dep = _parse_json(body)

    assert dep.model_extra == {"is_development": False, "labels": {"team": "ml-platform"}}
    assert dep.chainlets[0].model_extra == {"gpu_count": 1}
    settings = dep.chainlets[0].autoscaling_settings
    assert settings is not None
    assert settings.max_scale_down_rate == 2

    dumped = dep.to_api()
    assert dumped["is_development"] is False
    assert dumped["labels"] == {"team": "ml-platform"}
    assert dumped["chainlets"][0]["gpu_count"] == 1
    assert dumped["chainlets"][0]["autoscaling_settings"]["max_scale_down_rate"] == 2


def test_to_api_round_trips_a_documented_body() -> None:
    body = _deployment(environment="staging", created_at="2026-11-19T10:41:03Z")
    dumped = _parse_json(body).to_api()

    assert dumped["status"] == "ACTIVE"
    assert dumped["environment"] == "staging"
    assert datetime.fromisoformat(dumped["created_at"].replace("Z", "+00:00")) == datetime(
        2026, 11, 19, 10, 41, 3, tzinfo=UTC
    )
    # Everything else comes back exactly as it went in.
    rest = {k: v for k, v in dumped.items() if k != "created_at"}
    assert rest == {k: v for k, v in body.items() if k != "created_at"}
    json.dumps(dumped)  # JSON-ready


def test_missing_target_in_flight_tokens_defaults_to_none() -> None:
    body = _autoscaling()
    del body["target_in_flight_tokens"]

    settings = AutoscalingSettings.model_validate_json(json.dumps(body))

    assert settings.target_in_flight_tokens is None
    assert "target_in_flight_tokens" not in (settings.model_extra or {})


def test_newer_max_scale_down_rate_is_a_typed_optional_field_from_1_to_50() -> None:
    body = _autoscaling()
    del body["target_in_flight_tokens"]
    assert AutoscalingSettings.model_validate(body).max_scale_down_rate is None
    assert "max_scale_down_rate" not in AutoscalingSettings.model_validate(body).to_api()

    for value in (None, 1, 50):
        settings = AutoscalingSettings.model_validate(body | {"max_scale_down_rate": value})
        assert settings.max_scale_down_rate == value
        assert settings.model_extra == {}
        assert settings.to_api()["max_scale_down_rate"] == value
    for bad in (0, 51, "3", True, 2.5):
        with pytest.raises(ValidationError):
            AutoscalingSettings.model_validate_json(json.dumps(body | {"max_scale_down_rate": bad}))


def test_missing_target_utilization_percentage_from_older_api_is_accepted() -> None:
    body = _autoscaling()
    del body["target_utilization_percentage"]

    assert AutoscalingSettings.model_validate(body).target_utilization_percentage is None


# -- status is an open string -------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(KNOWN_STATUSES))
def test_known_status_parses_to_the_enum_member_everywhere(status: str) -> None:
    dep = _parse_json(_deployment(status=status))

    assert dep.status is DeploymentStatus(status)
    assert all(c.status is DeploymentStatus(status) for c in dep.chainlets)
    assert dep.status == status  # still compares equal to the plain string
    assert str(dep.status) == status
    assert is_known_status(dep.status)


@pytest.mark.parametrize("status", ["QUANTUM_FLUX", "active", "PAUSED", ""])
def test_unknown_status_is_kept_as_a_plain_string_not_a_parse_failure(status: str) -> None:
    body = _deployment()
    body["status"] = status
    body["chainlets"][1]["status"] = status

    dep = _parse_json(body)

    assert dep.status == status
    assert type(dep.status) is str
    assert type(dep.chainlets[1].status) is str
    assert dep.chainlets[0].status is DeploymentStatus.ACTIVE
    assert not is_known_status(dep.status)
    assert dep.to_api()["status"] == status


# -- what a wrong body raises -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        (("id",), ("id",)),
        (("created_at",), ("created_at",)),
        (("chain_id",), ("chain_id",)),
        (("environment",), ("environment",)),
        (("chainlets",), ("chainlets",)),
        (("status",), ("status",)),
        (("chainlets", 0, "status"), ("chainlets", 0, "status")),
        (("chainlets", 0, "name"), ("chainlets", 0, "name")),
        (("chainlets", 2, "autoscaling_settings"), ("chainlets", 2, "autoscaling_settings")),
        (
            ("chainlets", 1, "autoscaling_settings", "min_replica"),
            ("chainlets", 1, "autoscaling_settings", "min_replica"),
        ),
        (
            ("chainlets", 1, "autoscaling_settings", "concurrency_target"),
            ("chainlets", 1, "autoscaling_settings", "concurrency_target"),
        ),
    ],
)
def test_missing_required_field_raises_validation_error_naming_it(
    path: tuple[int | str, ...], loc: tuple[int | str, ...]
) -> None:
    body = _deployment()
    node: Any = body
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]

    with pytest.raises(ValidationError) as info:
        _parse_json(body)
    errors = info.value.errors()
    assert [e["type"] for e in errors] == ["missing"]
    assert tuple(errors[0]["loc"]) == loc


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("id",), 12345),
        (("created_at",), "last tuesday"),
        (("chain_id",), ["ch7k2p9q"]),
        (("environment",), 7),
        (("chainlets",), {"Entrypoint": {}}),
        (("chainlets",), "Entrypoint"),
        (("status",), 42),
        (("chainlets", 0, "active_replica_count"), "three"),
        (("chainlets", 0, "active_replica_count"), 1.5),
        (("chainlets", 1, "autoscaling_settings"), "default"),
        (("chainlets", 1, "autoscaling_settings", "max_replica"), {"n": 1}),
        (("chainlets", 2, "status"), ["ACTIVE"]),
    ],
)
def test_wrong_type_raises_validation_error_naming_the_field(
    path: tuple[int | str, ...], value: Any
) -> None:
    body = _deployment()
    node: Any = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value

    with pytest.raises(ValidationError) as info:
        _parse_json(body)
    assert all(found[: len(path)] == path for found in _locs(info.value))


def test_null_chainlets_raises_validation_error_on_chainlets() -> None:
    body = _deployment()
    body["chainlets"] = None

    with pytest.raises(ValidationError) as info:
        _parse_json(body)
    assert _locs(info.value) == [("chainlets",)]


def test_empty_chainlet_list_is_valid() -> None:
    assert _parse_json(_deployment(chainlets=[])).chainlets == []


def test_chainlet_lookup_by_name_and_instance_types() -> None:
    dep = _parse_json(_deployment())

    assert dep.chainlet("Retriever").instance_type_name == "L4:4x16"
    assert dep.instance_types == {
        "Entrypoint": "1x4",
        "Retriever": "L4:4x16",
        "Generator": "H100:1x20x80",
    }
    with pytest.raises(KeyError):
        dep.chainlet("Nope")


def test_models_are_frozen() -> None:
    dep = _parse_json(_deployment())

    with pytest.raises(ValidationError):
        dep.status = "FAILED"  # type: ignore[misc]


# -- Chain and ChainEnvironment -----------------------------------------------------------


def test_chain_parses_every_field() -> None:
    chain = Chain.model_validate_json(
        json.dumps(
            {
                "id": CHAIN,
                "created_at": "2026-10-02T08:14:11Z",
                "name": "rag-pipeline",
                "deployments_count": 5,
                "team_name": "ml-platform",
                "owner": "someone",
            }
        )
    )

    assert chain.id == CHAIN
    assert chain.name == "rag-pipeline"
    assert chain.created_at == datetime(2026, 10, 2, 8, 14, 11, tzinfo=UTC)
    assert chain.deployments_count == 5
    assert chain.team_name == "ml-platform"
    assert chain.model_extra == {"owner": "someone"}


def test_chain_with_only_id_and_name_is_valid() -> None:
    chain = Chain.model_validate({"id": CHAIN, "name": "rag-pipeline"})

    assert (chain.created_at, chain.deployments_count, chain.team_name) == (None, None, None)


@pytest.mark.parametrize("field", ["id", "name"])
def test_chain_missing_id_or_name_is_refused(field: str) -> None:
    body = {"id": CHAIN, "name": "rag-pipeline"}
    del body[field]

    with pytest.raises(ValidationError) as info:
        Chain.model_validate(body)
    assert _locs(info.value) == [(field,)]


def _environment(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "production",
        "created_at": "2026-10-02T08:14:11Z",
        "chain_id": CHAIN,
        "promotion_settings": {"rolling_deploy": False},
        "chainlet_settings": [{"chainlet_name": "Entrypoint"}],
        "current_deployment": _deployment(environment="production"),
        "candidate_deployment": None,
    }
    body.update(overrides)
    return body


def test_environment_parses_current_deployment_and_settings() -> None:
    env = ChainEnvironment.model_validate_json(json.dumps(_environment()))

    assert env.name == "production"
    assert env.chain_id == CHAIN
    assert isinstance(env.created_at, datetime)
    assert isinstance(env.current_deployment, ChainDeployment)
    assert env.current_deployment.id == DEPLOYMENT
    assert env.current_deployment.status is DeploymentStatus.ACTIVE
    assert env.candidate_deployment is None
    assert env.promotion_settings == {"rolling_deploy": False}
    assert env.chainlet_settings == [{"chainlet_name": "Entrypoint"}]


def test_environment_with_null_current_deployment_and_no_candidate_field() -> None:
    body = _environment(current_deployment=None)
    del body["candidate_deployment"]

    env = ChainEnvironment.model_validate_json(json.dumps(body))

    assert env.current_deployment is None
    assert env.candidate_deployment is None


def test_environment_candidate_deployment_is_parsed_when_present() -> None:
    candidate = make_deployment(CHAIN, "dpcand01", status="DEPLOYING")
    env = ChainEnvironment.model_validate(_environment(candidate_deployment=candidate))

    assert env.candidate_deployment is not None
    assert env.candidate_deployment.status is DeploymentStatus.DEPLOYING


def test_environment_bad_embedded_deployment_names_the_nested_field() -> None:
    current = _deployment()
    del current["chainlets"][0]["status"]

    with pytest.raises(ValidationError) as info:
        ChainEnvironment.model_validate(_environment(current_deployment=current))
    assert _locs(info.value)[0] == ("current_deployment", "chainlets", 0, "status")


def test_environment_minimal_body_keeps_extras() -> None:
    env = ChainEnvironment.model_validate(
        {"name": "canary", "chain_id": CHAIN, "current_deployment": None, "ramp": 5}
    )

    assert env.model_extra == {"ramp": 5}
    assert env.to_api()["ramp"] == 5


def test_parsing_never_mutates_the_input() -> None:
    body = _deployment()
    body["extra"] = {"nested": [1, 2]}
    before = copy.deepcopy(body)

    ChainDeployment.model_validate(body)

    assert body == before


@pytest.mark.parametrize(
    ("model", "body", "loc"),
    [
        (ChainDeployment, {"id": "a/b"}, ("id",)),
        (ChainDeployment, {"chain_id": "../x"}, ("chain_id",)),
        (ChainDeployment, {"id": "d" * 10240}, ("id",)),
        (Chain, {"id": "x?y", "name": "n"}, ("id",)),
        (ChainEnvironment, {"name": "p", "chain_id": "c#d", "current_deployment": None}, None),
    ],
    ids=["deployment id", "chain id", "10 KB id", "chain", "environment"],
)
def test_an_answered_id_that_no_input_could_be_is_refused_naming_the_field(
    model: type[ChainDeployment | Chain | ChainEnvironment],
    body: dict[str, Any],
    loc: tuple[str, ...] | None,
) -> None:
    full = {**_deployment(), **body} if model is ChainDeployment else body
    with pytest.raises(ValidationError) as info:
        model.model_validate_json(json.dumps(full))
    assert _locs(info.value) == [loc or ("chain_id",)]
    assert "not a usable id" in str(info.value)
