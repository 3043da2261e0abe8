"""The plugin's package schema: derived from the declarations, and valid for Pulumi.

Pulumi's package metaschema (``pkg/codegen/schema/pulumi.json`` in pulumi/pulumi) is not shipped
by any package this project can install, and CI reaches package registries only. So:

* :func:`test_schema_follows_the_metaschema_rules` checks, always, the rules of the metaschema
  this schema relies on (token, name and version patterns; a type reference is exactly one of
  primitive, array, map or named type; the keys each section may have) and Pulumi's own binding
  rules (every ``$ref`` names a declared type, every required name is a property);
* :func:`test_schema_is_valid_against_pulumis_metaschema` validates against the metaschema
  itself: the copy in ``../shared/pulumi-package-metaschema.json`` beside the repository (CI
  has it), or the file ``PULUMI_METASCHEMA`` names (a developer's checkout of pulumi/pulumi),
  converting its ECMA regex groups ``(?<name>...)`` to Python's.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from provider.fields import FieldType, ListOf, MapOf, ObjectOf, Scalar, camel, model_fields
from provider.inputs import INPUTS
from provider.models import AutoscalingSettings, Chainlet
from provider.outputs import OUTPUTS
from provider.plugin import schema as plugin_schema
from provider.plugin.schema import (
    FUNCTION_TOKEN,
    LANGUAGE,
    RESOURCE_TOKEN,
    object_types,
    package_schema,
    type_token,
)

SCHEMA = package_schema()
TOKEN = re.compile(r"^[a-zA-Z][-a-zA-Z0-9_]*:([^0-9][a-zA-Z0-9._/-]*)?:[^0-9][a-zA-Z0-9._/-]*$")
NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9_]*$")
SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
PACKAGE_KEYS = {
    "name", "displayName", "version", "description", "keywords", "homepage", "license",
    "attribution", "repository", "logoUrl", "pluginDownloadURL", "configurationDocsUrl",
    "validateCredentialsOnNew", "publisher", "namespace", "meta", "config", "types",
    "dependencies", "provider", "resources", "functions", "language", "parameterization",
    "allowedPackageNames",
}  # fmt: skip
PROPERTY_KEYS = {
    "type", "items", "additionalProperties", "$ref", "plain", "description", "const",
    "default", "defaultInfo", "deprecationMessage", "language", "secret", "replaceOnChanges",
    "willReplaceOnChanges",
}  # fmt: skip
OBJECT_KEYS = {"description", "properties", "type", "required", "language", "isOverlay"}
RESOURCE_KEYS = OBJECT_KEYS | {
    "inputProperties", "requiredInputs", "stateInputs", "aliases", "deprecationMessage",
    "isComponent", "methods",
}  # fmt: skip
FUNCTION_KEYS = {"description", "inputs", "outputs", "deprecationMessage", "language"}
LANGUAGE_KEYS = {
    "python": {"packageName", "readme", "compatibility", "requires", "respectSchemaVersion",
               "pyproject"},
    "nodejs": {"packageName", "packageDescription", "readme", "dependencies", "devDependencies",
               "typescriptVersion", "respectSchemaVersion", "compatibility",
               "disableUnionOutputTypes"},
    "go": {"importBasePath", "generateExtraInputTypes", "generateResourceContainerTypes",
           "respectSchemaVersion"},
    "csharp": {"rootNamespace", "packageReferences", "namespaces", "compatibility",
               "respectSchemaVersion"},
}  # fmt: skip


def property_specs(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every property spec in the schema, with where it is."""
    found: list[tuple[str, dict[str, Any]]] = []
    for name, spec in schema["config"]["variables"].items():
        found.append((f"config.{name}", spec))
    for name, spec in schema["provider"]["inputProperties"].items():
        found.append((f"provider.{name}", spec))
    for token, resource in schema["resources"].items():
        for section in ("inputProperties", "properties"):
            found += [(f"{token}.{section}.{n}", s) for n, s in resource[section].items()]
    for token, function in schema["functions"].items():
        for section in ("inputs", "outputs"):
            found += [
                (f"{token}.{section}.{n}", s) for n, s in function[section]["properties"].items()
            ]
    for token, type_spec in schema["types"].items():
        found += [(f"{token}.{n}", s) for n, s in type_spec["properties"].items()]
    return found


def type_kind(spec: dict[str, Any], where: str, schema: dict[str, Any]) -> str:
    """Which of the metaschema's four type references ``spec`` is (exactly one, or fail)."""
    if "$ref" in spec:
        assert not {"items", "additionalProperties"} & set(spec), where
        ref = spec["$ref"]
        assert ref.startswith("#/types/"), where
        assert ref.removeprefix("#/types/") in schema["types"], f"{where}: {ref} is not declared"
        return "named"
    kind = spec.get("type")
    if kind == "array":
        assert "items" in spec and "additionalProperties" not in spec, where
        type_kind(spec["items"], f"{where}[]", schema)
        return "array"
    if kind == "object":
        assert "items" not in spec, where
        if "additionalProperties" in spec:
            type_kind(spec["additionalProperties"], f"{where}{{}}", schema)
        return "map"
    assert kind in {"boolean", "integer", "number", "string"}, f"{where}: type {kind!r}"
    assert not {"items", "additionalProperties"} & set(spec), where
    return "primitive"


def matches(spec: dict[str, Any], field_type: FieldType) -> bool:
    """Whether a schema type reference says what ``field_type`` says."""
    if isinstance(field_type, Scalar):
        return spec.get("type") == field_type.value and "$ref" not in spec
    if isinstance(field_type, ListOf):
        return spec.get("type") == "array" and matches(spec["items"], field_type.item)
    if isinstance(field_type, MapOf):
        return spec.get("type") == "object" and matches(
            spec["additionalProperties"], field_type.item
        )
    assert isinstance(field_type, ObjectOf)
    return spec.get("$ref") == f"#/types/{type_token(field_type.model)}"


# -- derived from the declarations -------------------------------------------------------------


def test_resource_inputs_are_the_lookup_inputs_in_camel_case() -> None:
    resource = SCHEMA["resources"][RESOURCE_TOKEN]
    assert list(resource["inputProperties"]) == [f.camel_name for f in INPUTS]
    assert list(resource["inputProperties"]) == [
        "chainId",
        "chainDeploymentId",
        "environment",
        "waitFor",
        "timeoutSeconds",
        "chainName",
    ]
    for spec in INPUTS:
        assert matches(resource["inputProperties"][spec.camel_name], spec.type), spec.name
    assert resource["requiredInputs"] == [f.camel_name for f in INPUTS if f.required]
    assert resource["inputProperties"]["timeoutSeconds"]["type"] == "number"
    assert resource["inputProperties"]["timeoutSeconds"]["default"] == 900


def test_resource_outputs_are_the_declared_outputs_in_camel_case() -> None:
    resource = SCHEMA["resources"][RESOURCE_TOKEN]
    assert list(resource["properties"]) == [f.camel_name for f in OUTPUTS]
    for field in OUTPUTS:
        assert matches(resource["properties"][field.camel_name], field.type), field.name
    assert {"status", "ready", "createdAt", "chainlets", "instanceTypes", "chainletsByName"} <= set(
        resource["properties"]
    )
    assert {"rawJson", "lookupBy"} <= set(resource["properties"])
    assert set(resource["required"]) == {f.camel_name for f in OUTPUTS if not f.nullable}
    assert "environment" not in resource["required"]


def test_the_function_takes_the_same_inputs_and_returns_the_same_result() -> None:
    function = SCHEMA["functions"][FUNCTION_TOKEN]
    resource = SCHEMA["resources"][RESOURCE_TOKEN]
    assert function["inputs"]["properties"] == resource["inputProperties"]
    assert function["inputs"]["required"] == resource["requiredInputs"]
    assert function["outputs"]["properties"] == resource["properties"]
    assert function["outputs"]["required"] == resource["required"]


def test_chainlets_and_autoscaling_are_named_object_types_from_the_models() -> None:
    assert list(object_types())[:2] == [Chainlet, AutoscalingSettings]
    assert {"baseten:index:Chainlet", "baseten:index:AutoscalingSettings"} <= set(SCHEMA["types"])
    # The other reads' models are types too; the deployment's is not called like the resource.
    assert "baseten:index:Deployment" in SCHEMA["types"]
    assert RESOURCE_TOKEN not in SCHEMA["types"]
    for model in (Chainlet, AutoscalingSettings):
        spec = SCHEMA["types"][type_token(model)]
        assert spec["type"] == "object"
        fields = model_fields(model)
        assert list(spec["properties"]) == [camel(f.name) for f in fields]
        for field in fields:
            assert matches(spec["properties"][camel(field.name)], field.type), field.name
        assert set(spec["required"]) == {
            camel(f.name) for f in fields if f.required and not f.nullable
        }
    chainlet = SCHEMA["types"]["baseten:index:Chainlet"]["properties"]
    assert chainlet["instanceTypeName"]["type"] == "string"
    assert chainlet["activeReplicaCount"]["type"] == "integer"
    assert chainlet["autoscalingSettings"] == {
        "$ref": "#/types/baseten:index:AutoscalingSettings",
        "description": chainlet["autoscalingSettings"]["description"],
    }
    scaling = SCHEMA["types"]["baseten:index:AutoscalingSettings"]
    assert scaling["properties"]["minReplica"]["type"] == "integer"
    assert "minReplica" in scaling["required"]
    assert "autoscalingWindow" not in scaling["required"]  # nullable: absent when null


def test_a_field_added_to_a_model_appears_in_its_type() -> None:
    class Grown(BaseModel):
        """``GrownV1``: a model that gained a field."""

        known: int = Field(description="Was there.")
        max_scale_up_rate: int | None = Field(default=None, description="New in the API.")

    types = plugin_schema._Types()
    ref = types.spec(ObjectOf(Grown))
    spec = types.specs[ref["$ref"].removeprefix("#/types/")]
    assert spec["properties"]["maxScaleUpRate"] == {
        "type": "integer",
        "description": "New in the API.",
    }
    assert spec["required"] == ["known"]
    assert spec["description"] == "`GrownV1`: a model that gained a field."


def test_config_declares_the_key_secret_and_every_setting_defaults_from_the_environment() -> None:
    variables = SCHEMA["config"]["variables"]
    assert set(variables) == {"apiKey", "apiUrl", "maxRequestsPerSecond"}
    assert variables["apiKey"]["secret"] is True
    assert "secret" not in variables["apiUrl"]
    assert variables["apiKey"]["defaultInfo"] == {"environment": ["BASETEN_API_KEY"]}
    assert variables["apiUrl"]["defaultInfo"] == {"environment": ["BASETEN_API_URL"]}
    assert variables["maxRequestsPerSecond"]["defaultInfo"] == {"environment": ["BASETEN_MAX_RPS"]}
    assert SCHEMA["provider"]["inputProperties"] == variables


def test_everything_has_a_description() -> None:
    for where, spec in property_specs(SCHEMA):
        assert spec.get("description", "").strip(), where
    for token, spec in {**SCHEMA["resources"], **SCHEMA["functions"], **SCHEMA["types"]}.items():
        assert spec.get("description", "").strip(), token
    assert SCHEMA["description"].strip() and SCHEMA["provider"]["description"].strip()


def test_descriptions_use_the_schemas_names() -> None:
    text = json.dumps({k: v for k, v in SCHEMA.items() if k in {"resources", "functions", "types"}})
    # Descriptions quote names in backticks; a snake_case name there would be the core's.
    quoted = set(re.findall(r"`([a-z]+(?:_[a-z0-9]+)+)`", text))
    # lookupBy's *values* are snake_case ("chain_deployment_id"): they are data, not names.
    assert quoted <= {"chain_deployment_id"}, quoted
    assert "`None`" not in text and "``" not in text


def test_language_sections_name_the_python_nodejs_go_and_dotnet_packages() -> None:
    language = SCHEMA["language"]
    assert set(language) == {"python", "nodejs", "go", "csharp"}
    assert language["python"]["packageName"].isidentifier()
    assert language["nodejs"]["packageName"].startswith("@")
    assert language["go"]["importBasePath"].endswith("/baseten")
    assert language["csharp"]["rootNamespace"]
    assert language == {k: dict(v) for k, v in LANGUAGE.items()}


# -- the metaschema ----------------------------------------------------------------------------


def test_schema_follows_the_metaschema_rules() -> None:
    assert set(SCHEMA) <= PACKAGE_KEYS
    assert NAME.match(SCHEMA["name"]) and SCHEMA["name"] == "baseten"
    assert SEMVER.match(SCHEMA["version"])
    assert set(SCHEMA["meta"]) <= {"moduleFormat", "supportPack"}
    re.compile(SCHEMA["meta"]["moduleFormat"])
    assert set(SCHEMA["config"]) <= {"variables", "defaults"}
    for section in ("resources", "functions", "types"):
        for token in SCHEMA[section]:
            assert TOKEN.match(token), token
            assert token.startswith("baseten:index:"), token
    kinds = set()
    for where, spec in property_specs(SCHEMA):
        assert set(spec) <= PROPERTY_KEYS, (where, set(spec) - PROPERTY_KEYS)
        kinds.add(type_kind(spec, where, SCHEMA))
        if "default" in spec:
            assert isinstance(spec["default"], bool | int | float | str), where
        if "defaultInfo" in spec:
            assert set(spec["defaultInfo"]) <= {"environment", "language"}, where
            assert all(isinstance(v, str) for v in spec["defaultInfo"]["environment"]), where
    assert kinds == {"primitive", "array", "map", "named"}
    for token, resource in SCHEMA["resources"].items():
        assert set(resource) <= RESOURCE_KEYS, token
        assert set(resource["requiredInputs"]) <= set(resource["inputProperties"]), token
        assert set(resource["required"]) <= set(resource["properties"]), token
    assert set(SCHEMA["provider"]) <= RESOURCE_KEYS
    for token, function in SCHEMA["functions"].items():
        assert set(function) <= FUNCTION_KEYS, token
        for section in ("inputs", "outputs"):
            assert set(function[section]) <= OBJECT_KEYS, (token, section)
            assert set(function[section]["required"]) <= set(function[section]["properties"])
    for token, type_spec in SCHEMA["types"].items():
        assert set(type_spec) <= OBJECT_KEYS, token
        assert type_spec["type"] == "object", token
        assert set(type_spec["required"]) <= set(type_spec["properties"]), token
    for language, spec in SCHEMA["language"].items():
        assert set(spec) <= LANGUAGE_KEYS[language], language
        assert all(isinstance(v, str | dict | bool) for v in spec.values()), language
    json.dumps(SCHEMA)  # plain JSON, nothing else


SHARED_METASCHEMA = (
    Path(__file__).resolve().parents[2] / "shared" / "pulumi-package-metaschema.json"
)


def _metaschema_path() -> Path | None:
    named = os.environ.get("PULUMI_METASCHEMA")
    if named:
        return Path(named)
    return SHARED_METASCHEMA if SHARED_METASCHEMA.is_file() else None


def _metaschema() -> dict[str, Any] | None:
    path = _metaschema_path()
    if path is None:
        return None
    # The metaschema's patterns use ECMA named groups; Python's re spells them (?P<name>...).
    text = re.sub(r"\(\?<([A-Za-z_])", r"(?P<\1", Path(path).read_text())
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.mark.skipif(
    _metaschema_path() is None,
    reason="no ../shared/pulumi-package-metaschema.json beside the repository, and no "
    "PULUMI_METASCHEMA naming a copy of pulumi/pulumi's pkg/codegen/schema/pulumi.json",
)
def test_schema_is_valid_against_pulumis_metaschema() -> None:
    import jsonschema

    metaschema = _metaschema()
    assert metaschema is not None
    validator_class = jsonschema.validators.validator_for(metaschema)
    validator_class.check_schema(metaschema)
    validator = validator_class(metaschema, format_checker=validator_class.FORMAT_CHECKER)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(SCHEMA)]
    assert errors == []
    languages = validator_class({"$ref": "#/$defs/languageSpec", "$defs": metaschema["$defs"]})
    assert [e.message for e in languages.iter_errors(SCHEMA["language"])] == []
    broken = json.loads(json.dumps(SCHEMA))
    broken["resources"][RESOURCE_TOKEN]["inputProperties"]["chainId"]["type"] = "int"
    assert list(validator.iter_errors(broken))  # the check can fail


def test_the_schema_names_a_plugin_download_url_only_when_released_with_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # make release PLUGIN_DOWNLOAD_URL=... writes the file plugin_download_url() reads (the
    # build itself is tested in tests/install/test_plugin_install.py).
    assert "pluginDownloadURL" not in SCHEMA
    url = "https://example.invalid/releases"
    monkeypatch.setattr(plugin_schema, "plugin_download_url", lambda: url)
    released = plugin_schema.package_schema()
    assert released["pluginDownloadURL"] == url
    assert {k: v for k, v in released.items() if k != "pluginDownloadURL"} == SCHEMA
    metaschema = _metaschema()
    if metaschema is not None:
        import jsonschema

        validator = jsonschema.validators.validator_for(metaschema)(metaschema)
        assert [e.message for e in validator.iter_errors(released)] == []
