"""The policy rules and their config (``provider.policy.rules`` / ``provider.policy.config``).

Pure functions on typed deployments built with the emulator's fixture builders: each rule on
passing and violating deployments (unknown statuses, null autoscaling, overrides included), the
config document as both the pack and the pipeline check read it, and the report.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from provider.emulator import make_chainlet, make_deployment
from provider.errors import InvalidInputError
from provider.models import ChainDeployment
from provider.policy import (
    ALLOWED_INSTANCE_TYPES,
    AUTOSCALING_CONFIGURED,
    DEPLOYMENT_ACTIVE,
    NO_SCALE_TO_ZERO,
    REPLICA_BOUNDS,
    RULES,
    AllowedInstanceTypesSettings,
    AutoscalingConfiguredSettings,
    DeploymentActiveSettings,
    Level,
    NoScaleToZeroSettings,
    ReplicaBoundsSettings,
    ReplicaLimits,
    RuleSettings,
    Violation,
    allowed_instance_types,
    autoscaling_configured,
    deployment_active,
    load_config_file,
    merge_documents,
    no_scale_to_zero,
    parse_config,
    replica_bounds,
    rule,
)
from provider.policy import config as config_module

CHAIN = "ch7k2p9q"


def deployment(
    status: str = "ACTIVE",
    environment: str | None = "production",
    chainlets: list[dict[str, Any]] | None = None,
) -> ChainDeployment:
    """The default three chainlets (Entrypoint 1x4 1-3, Retriever L4:4x16 0-2,
    Generator H100:1x20x80 1-4) unless ``chainlets`` is given."""
    body = make_deployment(
        CHAIN, "dp3m8x1v", status=status, environment=environment, chainlets=chainlets
    )
    return ChainDeployment.model_validate(body)


def null_autoscaling(name: str, status: str) -> dict[str, Any]:
    chainlet = make_chainlet(name, status=status)
    chainlet["autoscaling_settings"] = None
    return chainlet


def found(violations: list[Violation]) -> list[tuple[str | None, str, Any, str]]:
    return [(v.chainlet, v.field, v.found, v.limit) for v in violations]


# -- deployment-active ----------------------------------------------------------------------------


def test_deployment_active_passes_an_active_deployment() -> None:
    assert deployment_active(deployment(), DeploymentActiveSettings()) == []


def test_deployment_active_names_the_deployment_and_every_chainlet_not_allowed() -> None:
    violations = deployment_active(deployment("BUILDING"), DeploymentActiveSettings())
    assert [v.chainlet for v in violations] == [None, "Entrypoint", "Retriever", "Generator"]
    assert {(v.field, v.found, v.limit, v.detail) for v in violations} == {
        ("status", "BUILDING", "one of ACTIVE", "in progress")
    }
    assert violations[0].message == (
        "deployment: status is BUILDING (in progress), expected one of ACTIVE"
    )
    assert violations[3].message == (
        "chainlet Generator: status is BUILDING (in progress), expected one of ACTIVE"
    )


def test_deployment_active_looks_at_chainlets_even_when_the_deployment_is_active() -> None:
    chainlets = [make_chainlet("Entrypoint"), make_chainlet("Generator", status="UNHEALTHY")]
    violations = deployment_active(deployment(chainlets=chainlets), DeploymentActiveSettings())
    assert found(violations) == [("Generator", "status", "UNHEALTHY", "one of ACTIVE")]
    assert violations[0].detail == "degraded"


def test_deployment_active_reports_failed_and_undocumented_statuses() -> None:
    chainlets = [
        make_chainlet("Entrypoint", status="BUILD_STOPPED"),
        make_chainlet("Generator", status="QUANTUM_FLUX"),
    ]
    violations = deployment_active(
        deployment("BUILD_FAILED", chainlets=chainlets), DeploymentActiveSettings()
    )
    assert [(v.found, v.detail) for v in violations] == [
        ("BUILD_FAILED", "failed"),
        ("BUILD_STOPPED", "failed"),
        ("QUANTUM_FLUX", "undocumented status"),
    ]
    assert "QUANTUM_FLUX (undocumented status)" in violations[2].message


def test_deployment_active_accepts_the_statuses_it_is_given() -> None:
    settings = DeploymentActiveSettings.from_config({"statuses": ["ACTIVE", "SCALED_TO_ZERO"]})
    assert deployment_active(deployment("SCALED_TO_ZERO"), settings) == []
    violations = deployment_active(deployment("WAKING_UP"), settings)
    assert violations[0].limit == "one of ACTIVE, SCALED_TO_ZERO"


@pytest.mark.parametrize(
    ("statuses", "reason"),
    [([], "must not be empty"), (["READY_ISH"], "not a known deployment status"), ("ACTIVE", "")],
)
def test_deployment_active_refuses_bad_statuses(statuses: object, reason: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        DeploymentActiveSettings.from_config({"statuses": statuses})
    assert caught.value.field.startswith("deployment-active.statuses")
    assert reason in caught.value.reason


# -- allowed-instance-types -----------------------------------------------------------------------


def test_no_instance_type_list_allows_any() -> None:
    assert allowed_instance_types(deployment(), AllowedInstanceTypesSettings()) == []


def test_an_instance_type_outside_the_list_is_named_with_the_list() -> None:
    settings = AllowedInstanceTypesSettings.from_config({"instanceTypes": ["1x4", "L4:4x16"]})
    violations = allowed_instance_types(deployment(), settings)
    assert found(violations) == [
        ("Generator", "instance_type_name", "H100:1x20x80", "one of 1x4, L4:4x16")
    ]
    assert violations[0].message == (
        "chainlet Generator: instance_type_name is H100:1x20x80, expected one of 1x4, L4:4x16"
    )


def test_instance_types_must_be_a_list_of_names() -> None:
    for bad in ("1x4", [""], [4]):
        with pytest.raises(InvalidInputError, match=r"allowed-instance-types\.instanceTypes"):
            AllowedInstanceTypesSettings.from_config({"instanceTypes": bad})


# -- replica-bounds --------------------------------------------------------------------------------


def test_replica_bounds_default_to_no_bounds() -> None:
    assert replica_bounds(deployment(), ReplicaBoundsSettings()) == []


def test_replica_bounds_report_the_floor_and_the_ceiling_per_chainlet() -> None:
    settings = ReplicaBoundsSettings.from_config({"minReplica": 1, "maxReplica": 3})
    assert found(replica_bounds(deployment(), settings)) == [
        ("Retriever", "min_replica", 0, "at least 1"),
        ("Generator", "max_replica", 4, "at most 3"),
    ]


def test_a_chainlet_override_replaces_only_what_it_sets() -> None:
    settings = ReplicaBoundsSettings.from_config(
        {
            "minReplica": 1,
            "maxReplica": 2,
            "overrides": {"Generator": {"maxReplica": 16}, "Retriever": {"minReplica": 0}},
        }
    )
    assert settings.limits_for("Generator") == (1, 16)
    assert settings.limits_for("Retriever") == (0, 2)
    assert settings.overrides["Generator"] == ReplicaLimits.from_config({"maxReplica": 16})
    # Entrypoint (1-3) still breaks the rule-wide ceiling; Generator (1-4) fits its override.
    assert found(replica_bounds(deployment(), settings)) == [
        ("Entrypoint", "max_replica", 3, "at most 2")
    ]
    strict = ReplicaBoundsSettings.from_config({"overrides": {"Generator": {"maxReplica": 2}}})
    assert [v.message for v in replica_bounds(deployment(), strict)] == [
        "chainlet Generator: max_replica is 4, expected at most 2 (override for Generator)"
    ]


def test_replica_bounds_skip_a_chainlet_without_autoscaling_settings() -> None:
    chainlets = [null_autoscaling("Generator", "DEPLOYING")]
    settings = ReplicaBoundsSettings.from_config({"minReplica": 5})
    assert replica_bounds(deployment(chainlets=chainlets), settings) == []


def test_replica_bounds_take_integral_floats_as_the_engine_sends_them() -> None:
    settings = ReplicaBoundsSettings.from_config(
        {"minReplica": 1.0, "maxReplica": 8.0, "overrides": {"Generator": {"maxReplica": 16.0}}}
    )
    assert (settings.min_replica, settings.max_replica) == (1, 8)
    assert isinstance(settings.max_replica, int)
    assert settings.limits_for("Generator") == (1, 16)


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"minReplica": -1}, "replica-bounds.minReplica"),
        ({"minReplica": 1.5}, "replica-bounds.minReplica"),
        ({"maxReplica": True}, "replica-bounds.maxReplica"),
        ({"maxReplica": 0}, "replica-bounds.maxReplica"),
        ({"minReplica": 3, "maxReplica": 2}, "replica-bounds"),
        ({"maxReplica": 4, "overrides": {"Generator": {"minReplica": 5}}}, "overrides.Generator"),
        ({"overrides": ["Generator"]}, "replica-bounds.overrides"),
        ({"overrides": {"Generator": {"maxReplicas": 2}}}, "Generator.maxReplicas"),
        ({"max_replica": 2}, "replica-bounds.max_replica"),
    ],
    ids=[
        "negative",
        "fraction",
        "bool",
        "zero-ceiling",
        "floor-above-ceiling",
        "override-floor-above-ceiling",
        "overrides-not-a-map",
        "override-typo",
        "setting-typo",
    ],
)
def test_replica_bounds_refuse_bad_settings(props: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ReplicaBoundsSettings.from_config(props)
    assert field in caught.value.field


# -- autoscaling-configured ------------------------------------------------------------------------


def test_autoscaling_configured_passes_chainlets_with_settings() -> None:
    assert autoscaling_configured(deployment(), AutoscalingConfiguredSettings()) == []


def test_null_autoscaling_on_a_ready_chainlet_is_a_violation() -> None:
    chainlets = [
        null_autoscaling("Entrypoint", "ACTIVE"),
        null_autoscaling("Retriever", "SCALED_TO_ZERO"),
        make_chainlet("Generator"),
    ]
    violations = autoscaling_configured(
        deployment(chainlets=chainlets), AutoscalingConfiguredSettings()
    )
    assert found(violations) == [
        ("Entrypoint", "autoscaling_settings", None, "set on a ready chainlet"),
        ("Retriever", "autoscaling_settings", None, "set on a ready chainlet"),
    ]
    assert violations[0].message == (
        "chainlet Entrypoint: autoscaling_settings is null (chainlet is ACTIVE), "
        "expected set on a ready chainlet"
    )


def test_null_autoscaling_is_fine_while_a_chainlet_is_not_ready() -> None:
    chainlets = [
        null_autoscaling("Entrypoint", "DEPLOYING"),
        null_autoscaling("Retriever", "BUILD_FAILED"),
        null_autoscaling("Generator", "QUANTUM_FLUX"),  # undocumented: not counted as ready
    ]
    settings = AutoscalingConfiguredSettings()
    assert autoscaling_configured(deployment("DEPLOYING", chainlets=chainlets), settings) == []


def test_required_autoscaling_fields_must_not_be_null() -> None:
    chainlets = [make_chainlet("Entrypoint", scale_down_delay=None), make_chainlet("Generator")]
    settings = AutoscalingConfiguredSettings.from_config({"requiredFields": ["scale_down_delay"]})
    assert found(autoscaling_configured(deployment(chainlets=chainlets), settings)) == [
        (
            "Entrypoint",
            "autoscaling_settings.scale_down_delay",
            None,
            "an explicit value (required by policy)",
        )
    ]
    with pytest.raises(InvalidInputError, match="not an autoscaling field"):
        AutoscalingConfiguredSettings.from_config({"requiredFields": ["scale_down_delays"]})


# -- no-scale-to-zero ------------------------------------------------------------------------------


def test_no_scale_to_zero_names_each_chainlet_that_can_reach_zero() -> None:
    violations = no_scale_to_zero(deployment(), NoScaleToZeroSettings())
    assert found(violations) == [
        ("Retriever", "min_replica", 0, "at least 1 (no scale to zero in production)")
    ]


def test_no_scale_to_zero_applies_only_to_the_environments_listed() -> None:
    settings = NoScaleToZeroSettings.from_config({"environments": ["production"]})
    assert len(no_scale_to_zero(deployment(environment="production"), settings)) == 1
    assert no_scale_to_zero(deployment(environment="staging"), settings) == []
    assert no_scale_to_zero(deployment(environment=None), settings) == []


def test_no_scale_to_zero_skips_chainlets_without_autoscaling_settings() -> None:
    chainlets = [null_autoscaling("Retriever", "DEPLOYING")]
    assert no_scale_to_zero(deployment(chainlets=chainlets), NoScaleToZeroSettings()) == []


# -- the registry and the schema ------------------------------------------------------------------


def test_rules_in_order_with_their_default_levels() -> None:
    assert [(r.name, r.default_level) for r in RULES] == [
        (DEPLOYMENT_ACTIVE, Level.MANDATORY),
        (ALLOWED_INSTANCE_TYPES, Level.MANDATORY),
        (REPLICA_BOUNDS, Level.MANDATORY),
        (AUTOSCALING_CONFIGURED, Level.MANDATORY),
        (NO_SCALE_TO_ZERO, Level.DISABLED),
    ]
    with pytest.raises(InvalidInputError, match="unknown rule 'replica-bound'"):
        rule("replica-bound")


@pytest.mark.parametrize("each", RULES, ids=lambda r: r.name)
def test_schema_defaults_are_the_settings_defaults(each: Any) -> None:
    schema = each.settings_type.config_schema()
    defaults = {key: spec["default"] for key, spec in schema.items() if "default" in spec}
    # What the engine fills in from the schema parses to exactly the settings of no config.
    assert each.settings(defaults) == each.settings({}) == each.settings_type()
    assert all("description" in spec for spec in schema.values())


def test_config_schemas_are_self_contained() -> None:
    # CrossGuard takes one plain schema per property: a $ref would point at nothing.
    schemas = {r.name: r.settings_type.config_schema() for r in RULES}
    assert "$ref" not in repr(schemas) and "$defs" not in repr(schemas)
    override = schemas[REPLICA_BOUNDS]["overrides"]["additionalProperties"]
    assert override["additionalProperties"] is False
    assert set(override["properties"]) == {"minReplica", "maxReplica"}
    assert schemas[DEPLOYMENT_ACTIVE]["statuses"]["items"]["enum"][0] == "ACTIVE"


@pytest.mark.parametrize(
    ("each", "props"),
    [
        (RULES[0], {"statuses": ["ACTIVE", "SCALED_TO_ZERO"]}),
        (RULES[0], {"statuses": []}),
        (RULES[0], {"statuses": ["READY_ISH"]}),
        (RULES[1], {"instanceTypes": ["1x4"]}),
        (RULES[1], {"instanceTypes": [""]}),
        (RULES[1], {"instanceTypes": "1x4"}),
        (RULES[2], {"minReplica": 1, "maxReplica": 8}),
        (RULES[2], {"maxReplica": None}),
        (RULES[2], {"minReplica": 1.5}),
        (RULES[2], {"minReplica": "1"}),
        (RULES[2], {"maxReplica": 0}),
        (RULES[2], {"overrides": {"Generator": {"maxReplica": 16}}}),
        (RULES[2], {"overrides": {"Generator": {"maxReplicas": 16}}}),
        (RULES[2], {"overrides": 0}),
        (RULES[2], {"max_replica": 2}),
        (RULES[3], {"requiredFields": ["scale_down_delay"]}),
        (RULES[3], {"requiredFields": ["scale_down_delays"]}),
        (RULES[4], {"environments": ["production"]}),
        (RULES[4], {"environments": [3]}),
    ],
)
def test_the_schema_and_the_parser_accept_the_same_config(each: Any, props: Any) -> None:
    # One declaration: what the engine validates against is what the rules parse.
    schema = {"type": "object", "properties": each.settings_type.config_schema()}
    schema["additionalProperties"] = False
    by_schema = Draft7Validator(schema).is_valid(props)
    try:
        each.settings(props)
        by_parser = True
    except InvalidInputError:
        by_parser = False
    assert by_schema == by_parser


def test_a_bad_nested_value_is_named_by_its_whole_path() -> None:
    with pytest.raises(InvalidInputError) as caught:
        ReplicaBoundsSettings.from_config({"overrides": {"Generator": {"maxReplica": 0}}})
    assert caught.value.field == "replica-bounds.overrides.Generator.maxReplica"
    assert caught.value.reason == "must be at least 1, got 0"


def test_every_problem_of_a_rule_is_reported_the_first_named() -> None:
    with pytest.raises(InvalidInputError) as caught:
        ReplicaBoundsSettings.from_config({"minReplica": -1, "maxReplica": "8"})
    assert caught.value.field == "replica-bounds.minReplica"
    assert caught.value.reason == (
        "must be at least 0, got -1; also replica-bounds.maxReplica: must be an integer, got '8'"
    )


@pytest.mark.parametrize(
    ("props", "reason"),
    [
        ({"overrides": 0}, "must be an object, got 0"),
        ({"overrides": ["Generator"]}, "must be an object, got ['Generator']"),
        ({"overrides": "Generator"}, "must be an object, got 'Generator'"),
        ({"overrides": None}, "must be an object, got None"),
    ],
    ids=["number", "list", "string", "null"],
)
def test_overrides_must_be_an_object(props: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ReplicaBoundsSettings.from_config(props)
    assert (caught.value.field, caught.value.reason) == ("replica-bounds.overrides", reason)


def test_an_unknown_setting_lists_the_known_ones_where_it_is() -> None:
    with pytest.raises(InvalidInputError) as caught:
        ReplicaBoundsSettings.from_config({"overrides": {"Generator": {"maxReplicas": 2}}})
    assert caught.value.reason == "unknown setting; takes: minReplica, maxReplica"
    with pytest.raises(InvalidInputError) as caught:
        NoScaleToZeroSettings.from_config({"environment": ["production"]})
    assert caught.value.reason == "unknown setting; takes: environments"


def test_settings_are_frozen_models() -> None:
    settings = ReplicaBoundsSettings.from_config({"maxReplica": 8})
    assert isinstance(settings, RuleSettings)
    with pytest.raises(ValueError, match="frozen"):
        settings.max_replica = 9  # type: ignore[misc]


def test_violation_as_json() -> None:
    violation = Violation(REPLICA_BOUNDS, "Generator", "max_replica", 4, "at most 2")
    assert violation.to_json() == {
        "rule": "replica-bounds",
        "chainlet": "Generator",
        "field": "max_replica",
        "found": 4,
        "limit": "at most 2",
        "message": "chainlet Generator: max_replica is 4, expected at most 2",
    }
    assert str(violation) == violation.message


# -- the config document ---------------------------------------------------------------------------


def levels(document: dict[str, Any] | None) -> dict[str, Level]:
    return {r.rule.name: r.level for r in parse_config(document).rules}


def test_an_empty_document_is_every_default() -> None:
    assert levels(None) == levels({}) == {r.name: r.default_level for r in RULES}
    config = parse_config({})
    assert config.for_rule(REPLICA_BOUNDS).settings == ReplicaBoundsSettings()


def test_levels_as_the_engine_applies_them() -> None:
    got = levels(
        {
            "all": "advisory",
            "deployment-active": "mandatory",
            "no-scale-to-zero": {"enforcementLevel": "disabled"},
            "replica-bounds": {"maxReplica": 8},
        }
    )
    assert got == {
        DEPLOYMENT_ACTIVE: Level.MANDATORY,
        ALLOWED_INSTANCE_TYPES: Level.ADVISORY,
        REPLICA_BOUNDS: Level.ADVISORY,
        AUTOSCALING_CONFIGURED: Level.ADVISORY,
        NO_SCALE_TO_ZERO: Level.DISABLED,
    }


def test_a_document_configures_each_rule_through_the_rule_parser() -> None:
    config = parse_config(
        {
            "replica-bounds": {
                "enforcementLevel": "advisory",
                "minReplica": 1,
                "overrides": {"Generator": {"maxReplica": 16}},
            },
            "no-scale-to-zero": {"enforcementLevel": "mandatory", "environments": ["production"]},
        }
    )
    bounds = config.for_rule(REPLICA_BOUNDS)
    assert bounds.level is Level.ADVISORY
    assert bounds.settings == ReplicaBoundsSettings.from_config(
        {"minReplica": 1, "overrides": {"Generator": {"maxReplica": 16}}}
    )
    assert config.for_rule(NO_SCALE_TO_ZERO).settings.environments == ("production",)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"replica-bound": {"maxReplica": 8}}, "policy"),
        ({"replica-bounds": "strict"}, "replica-bounds"),
        ({"replica-bounds": {"enforcementLevel": "blocking"}}, "replica-bounds.enforcementLevel"),
        ({"replica-bounds": 8}, "replica-bounds"),
        ({"all": {"enforcementLevel": "advisory", "maxReplica": 8}}, "all"),
        ({"allowed-instance-types": {"instanceTypes": "1x4"}}, "instanceTypes"),
    ],
    ids=[
        "unknown-rule",
        "bad-level",
        "bad-level-in-object",
        "not-an-object",
        "all-with-settings",
        "bad-setting",
    ],
)
def test_a_bad_document_names_the_entry(document: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_config(document)
    assert field in caught.value.field


def test_flags_merge_on_top_of_a_file() -> None:
    file = {
        "all": "advisory",
        "replica-bounds": {"maxReplica": 2, "overrides": {"Generator": {"maxReplica": 16}}},
        "no-scale-to-zero": "advisory",
    }
    flags = {
        "replica-bounds": {"overrides": {"Retriever": {"minReplica": 0}}, "maxReplica": 8},
        "no-scale-to-zero": {"environments": ["production"]},
    }
    assert merge_documents(file, flags) == {
        "all": "advisory",
        "replica-bounds": {
            "maxReplica": 8,
            "overrides": {"Generator": {"maxReplica": 16}, "Retriever": {"minReplica": 0}},
        },
        "no-scale-to-zero": {"enforcementLevel": "advisory", "environments": ["production"]},
    }
    assert merge_documents({}, flags) == flags


# -- the config file ------------------------------------------------------------------------------


def config_error(path: Path | str, **kwargs: Any) -> str:
    with pytest.raises(InvalidInputError) as caught:
        load_config_file(path, **kwargs)
    assert caught.value.field == "config"
    return caught.value.reason


def test_a_config_file_is_read_as_a_json_object(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{"replica-bounds": {"overrides": {"Generator": {"maxReplica": 16}}}}')
    assert load_config_file(path) == {
        "replica-bounds": {"overrides": {"Generator": {"maxReplica": 16}}}
    }


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"all": "advisory", "all": "disabled"}', "has the key 'all' twice in one object"),
        (
            '{"replica-bounds": {"overrides": {"G": {"maxReplica": 2}, "G": {}}}}',
            "has the key 'G' twice",
        ),
        ('{"replica-bounds": {"maxReplica": NaN}}', "contains NaN, which is not JSON"),
        ('{"replica-bounds": {"maxReplica": -Infinity}}', "contains -Infinity"),
        ('{"a": ' + "1" * 5000 + "}", "is not valid JSON"),
        ("[" * 17 + "]" * 17, "nested deeper than 16 levels"),
        ("[" * 100_000, "nested deeper than 16 levels"),
        ('{"a": ' * 100_000, "nested deeper than 16 levels"),
        (" " * (1 << 20) + "{}", "larger than 1048576 bytes"),
        (b'{"\xff": 1}', "is not UTF-8 text"),
    ],
    ids=[
        "duplicate-rule",
        "duplicate-override",
        "nan",
        "infinity",
        "huge-integer",
        "too-deep",
        "100k-deep-list",
        "100k-deep-object",
        "too-large",
        "not-utf8",
    ],
)
def test_an_odd_config_file_is_refused_in_one_line(
    tmp_path: Path, content: str | bytes, reason: str
) -> None:
    path = tmp_path / "policy.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    got = config_error(path)
    assert reason in got and "\n" not in got


def test_sixteen_levels_of_nesting_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{"x": ' + "[" * 15 + "]" * 15 + "}")
    assert load_config_file(path) == {"x": [[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}


def test_an_endless_device_is_refused_without_reading_it_all() -> None:
    assert config_error("/dev/zero") == "'/dev/zero' is larger than 1048576 bytes"


def test_a_directory_or_a_missing_file_cannot_be_read(tmp_path: Path) -> None:
    assert config_error(tmp_path).startswith(f"cannot read '{tmp_path}'")
    assert config_error(tmp_path / "nope.json").startswith("cannot read")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_without_a_writer_times_out_instead_of_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.fifo"
    os.mkfifo(fifo)
    assert "was not read to its end within 0.2s" in config_error(fifo, timeout=0.2)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_with_a_writer_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("w") as writer:
            writer.write('{"all": "advisory"}')

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    assert load_config_file(fifo, timeout=10) == {"all": "advisory"}
    writer.join(timeout=10)


def test_the_read_timeout_defaults_to_the_module_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("FIFOs are POSIX")
    fifo = tmp_path / "policy.fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(config_module, "CONFIG_READ_SECONDS", 0.1)
    assert "within 0.1s" in config_error(fifo)


# -- the report ------------------------------------------------------------------------------------


def test_a_report_fails_only_on_violations_of_blocking_rules() -> None:
    building = deployment("BUILDING")
    report = parse_config({}).check(building)
    assert not report.passed
    outcomes = {r.rule: r.outcome for r in report.results}
    assert outcomes == {
        DEPLOYMENT_ACTIVE: "fail",
        ALLOWED_INSTANCE_TYPES: "pass",
        REPLICA_BOUNDS: "pass",
        AUTOSCALING_CONFIGURED: "pass",
        NO_SCALE_TO_ZERO: "skip",
    }
    advisory = parse_config({"deployment-active": "advisory"}).check(building)
    assert advisory.passed
    assert advisory.results[0].outcome == "warn" and len(advisory.results[0].violations) == 4
    remediate = parse_config({"deployment-active": "remediate"}).check(building)
    assert not remediate.passed  # stack policies treat remediate as mandatory


def test_a_disabled_rule_is_not_run() -> None:
    report = parse_config({"no-scale-to-zero": "disabled"}).check(deployment())
    assert report.results[-1].violations == ()
    enabled = parse_config({"no-scale-to-zero": "mandatory"}).check(deployment())
    assert not enabled.passed and enabled.results[-1].violations[0].chainlet == "Retriever"


def test_report_json() -> None:
    body = parse_config({"no-scale-to-zero": "advisory"}).check(deployment()).to_json()
    assert body["chain_id"] == CHAIN and body["chain_deployment_id"] == "dp3m8x1v"
    assert body["environment"] == "production" and body["status"] == "ACTIVE"
    assert body["passed"] is True
    assert [r["name"] for r in body["rules"]] == [r.name for r in RULES]
    last = body["rules"][-1]
    assert last["enforcementLevel"] == "advisory" and last["outcome"] == "warn"
    assert last["violations"][0]["chainlet"] == "Retriever"


def test_an_override_naming_no_chainlet_is_reported_never_silent() -> None:
    config = parse_config(
        {
            "replica-bounds": {
                "overrides": {"Genrator": {"maxReplica": 2}, "Generator": {"maxReplica": 16}}
            }
        }
    )
    report = config.check(deployment())
    bounds = report.results[2]
    assert (bounds.rule, bounds.unmatched_overrides) == (REPLICA_BOUNDS, ("Genrator",))
    assert report.warnings == (
        "replica-bounds: the override for chainlet 'Genrator' matches no chainlet of deployment "
        "dp3m8x1v (its chainlets: Entrypoint, Retriever, Generator); did you mean 'Generator'?",
    )
    assert report.passed  # a warning, not a violation
    body = report.to_json()
    assert body["warnings"] == list(report.warnings)
    assert [r["unmatchedOverrides"] for r in body["rules"]] == [[], [], ["Genrator"], [], []]


def test_overrides_of_a_disabled_rule_are_not_reported() -> None:
    document = {"replica-bounds": {"enforcementLevel": "disabled", "overrides": {"X": {}}}}
    assert parse_config(document).check(deployment()).warnings == ()


def test_matching_overrides_and_no_overrides_give_no_warnings() -> None:
    document = {"replica-bounds": {"overrides": {"Retriever": {"minReplica": 0}}}}
    assert parse_config(document).check(deployment()).warnings == ()
    assert parse_config({}).check(deployment()).to_json()["warnings"] == []


def test_importing_the_rules_does_not_load_the_policy_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, provider.policy, provider.cli; "
        "print('pulumi_policy' in sys.modules, 'grpc' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert out.stdout.split() == ["False", "False"]
