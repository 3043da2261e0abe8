"""The Pulumi package schema of the ``baseten`` plugin, derived from the declarations.

Nothing here lists a field: the resource's inputs come from :data:`provider.inputs.INPUTS`, its
outputs from :data:`provider.outputs.OUTPUTS`, one function ``baseten:index:getX`` per read of
the catalog (:data:`provider.reads.READS`: its inputs, outputs and description), and the object
types (``baseten:index:Chainlet``, ``baseten:index:AutoscalingSettings``, ``Chain``,
``Deployment``, ...) from the API models through :func:`provider.fields.model_fields`. A field
or a read added to any of them appears in the schema, and so in every SDK generated from it.
Property names are camelCase (:func:`provider.fields.camel`), as Pulumi's are; descriptions
are Markdown.

:func:`package_schema` returns the schema as a dict; the plugin serves it (JSON) from
``GetSchema``. It is valid against Pulumi's package metaschema
(``pkg/codegen/schema/pulumi.json``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .._version import __version__
from ..catalog import Read
from ..credentials import (
    API_KEY_ENV,
    API_URL_ENV,
    DEFAULT_BASE_URL,
    MAX_RPS_ENV,
    PULUMI_API_KEY,
    PULUMI_API_URL,
    PULUMI_MAX_RPS,
    PULUMI_NAMESPACE,
)
from ..fields import FieldType, ListOf, MapOf, ObjectOf, Scalar, camel, model_fields, schema_name
from ..inputs import INPUTS, InputField
from ..outputs import OUTPUTS, OutputField
from ..reads import READS

PACKAGE = PULUMI_NAMESPACE
MODULE = "index"
RESOURCE_TOKEN = f"{PACKAGE}:{MODULE}:ChainDeployment"
FUNCTION_TOKENS: Mapping[str, Read[Any, Any]] = {
    f"{PACKAGE}:{MODULE}:{read.token_name}": read for read in READS
}
"""Every read's function token, ``baseten:index:getX``."""
FUNCTION_TOKEN = f"{PACKAGE}:{MODULE}:getChainDeployment"
PROVIDER_TYPE = f"pulumi:providers:{PACKAGE}"

CONFIG_API_KEY = PULUMI_API_KEY
CONFIG_API_URL = PULUMI_API_URL
CONFIG_MAX_RPS = PULUMI_MAX_RPS

LANGUAGE: Mapping[str, Mapping[str, Any]] = {
    # respectSchemaVersion: a generated SDK takes the schema's version (this release's), as
    # Pulumi's own providers publish theirs; pyproject: a Python SDK with a pyproject.toml.
    "python": {
        "packageName": "pulumi_baseten",
        "respectSchemaVersion": True,
        "pyproject": {"enabled": True},
    },
    "nodejs": {"packageName": "@baseten-chains/pulumi-baseten", "respectSchemaVersion": True},
    "go": {
        "importBasePath": "github.com/baseten-chains/pulumi-baseten/sdk/go/baseten",
        "respectSchemaVersion": True,
    },
    "csharp": {
        "rootNamespace": "BasetenChains",
        "packageReferences": {"Pulumi": "3.*"},
        "respectSchemaVersion": True,
    },
}
"""The package names of the SDKs generated from this schema, per language."""

DOWNLOAD_URL_FILE = "download_url.txt"
"""In this package (``provider/plugin``), written only by ``make release PLUGIN_DOWNLOAD_URL=...``
(:mod:`provider.release`): where that release's plugin tarballs are published."""


def plugin_download_url() -> str | None:
    """The ``pluginDownloadURL`` this installation was released with, or ``None`` (the default:
    the engine then needs the plugin installed from a file or a git URL)."""
    try:
        text = Path(__file__).with_name(DOWNLOAD_URL_FILE).read_text("utf-8")
    except FileNotFoundError:
        return None
    return text.strip() or None


def type_token(model: type[BaseModel]) -> str:
    """``baseten:index:Chainlet`` for :class:`provider.models.Chainlet`."""
    return f"{PACKAGE}:{MODULE}:{schema_name(model)}"


def markdown(text: str, *, names: bool = True) -> str:
    """A docstring or description as Markdown: reST ````code```` becomes ```code```, Python's
    ```None``` JSON's ```null```, and (with ``names``) a snake_case name in backticks takes its
    schema spelling (```chainDeploymentId```)."""
    text = text.replace("``", "`").replace("`None`", "`null`")
    if not names:
        return text
    return re.sub(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", lambda m: f"`{camel(m.group(1))}`", text)


def _model_description(model: type[BaseModel]) -> str:
    doc = inspect.getdoc(model) or model.__name__
    return markdown(doc.split("\n\n")[0].replace("\n", " "))


class _Types:
    """The named object types reached from the declarations, registered on first use."""

    def __init__(self) -> None:
        self.specs: dict[str, dict[str, Any]] = {}

    def spec(self, field_type: FieldType) -> dict[str, Any]:
        """The schema's type reference for ``field_type``."""
        if isinstance(field_type, Scalar):
            return {"type": field_type.value}
        if isinstance(field_type, ListOf):
            return {"type": "array", "items": self.spec(field_type.item)}
        if isinstance(field_type, MapOf):
            return {"type": "object", "additionalProperties": self.spec(field_type.item)}
        return {"$ref": f"#/types/{self.register(field_type)}"}

    def register(self, object_type: ObjectOf) -> str:
        token = type_token(object_type.model)
        if token in self.specs:
            return token
        self.specs[token] = {}  # reserved first: a model may refer to itself
        fields = model_fields(object_type.model)
        self.specs[token] = {
            "type": "object",
            "description": _model_description(object_type.model),
            "properties": {
                camel(f.name): {**self.spec(f.type), "description": markdown(f.description)}
                for f in fields
            },
            "required": sorted(camel(f.name) for f in fields if f.required and not f.nullable),
        }
        return token


def _input_property(types: _Types, spec: InputField) -> dict[str, Any]:
    prop = {**types.spec(spec.type), "description": markdown(spec.description)}
    if spec.default is not None and isinstance(spec.type, Scalar):
        prop["default"] = spec.default
    if spec.identity:
        # The provider replaces on these itself (Diff); this lets SDKs and previews say so.
        prop["willReplaceOnChanges"] = True
    return prop


def _inputs(types: _Types, inputs: Iterable[InputField] = INPUTS) -> dict[str, Any]:
    return {spec.camel_name: _input_property(types, spec) for spec in inputs}


def _required_inputs(inputs: Iterable[InputField] = INPUTS) -> list[str]:
    return [spec.camel_name for spec in inputs if spec.required]


def _outputs(types: _Types, outputs: Iterable[OutputField] = OUTPUTS) -> dict[str, Any]:
    return {
        f.camel_name: {
            **types.spec(f.type),
            # lookupBy's description quotes its values (`chain_deployment_id`), not names.
            "description": markdown(f.description, names=f.name != "lookup_by"),
        }
        for f in outputs
    }


def _required_outputs(outputs: Iterable[OutputField] = OUTPUTS) -> list[str]:
    return [f.camel_name for f in outputs if not f.nullable]


def _function(types: _Types, read: Read[Any, Any]) -> dict[str, Any]:
    return {
        "description": markdown(read.description),
        "inputs": {
            "description": f"The inputs of `{read.token_name}`.",
            "properties": _inputs(types, read.inputs),
            "required": _required_inputs(read.inputs),
        },
        "outputs": {
            "description": f"The result of `{read.token_name}`.",
            "properties": _outputs(types, read.outputs),
            "required": _required_outputs(read.outputs),
        },
    }


def _config_variables() -> dict[str, Any]:
    return {
        CONFIG_API_KEY: {
            "type": "string",
            "secret": True,
            "description": "The Baseten API key (set it with `pulumi config set --secret "
            f"baseten:apiKey`). Default: the `{API_KEY_ENV}` environment variable. It is held "
            "only in the provider's memory: never an output, never logged.",
            "defaultInfo": {"environment": [API_KEY_ENV]},
        },
        CONFIG_API_URL: {
            "type": "string",
            "description": f"The Baseten API base URL (default `{DEFAULT_BASE_URL}`, or the "
            f"`{API_URL_ENV}` environment variable). Must be https, except for a loopback "
            "host (a local emulator).",
            "defaultInfo": {"environment": [API_URL_ENV]},
        },
        CONFIG_MAX_RPS: {
            "type": "number",
            "description": "The API key's rate limit in requests per second per endpoint "
            f"(default 100, Baseten's, or the `{MAX_RPS_ENV}` environment variable); every "
            "request is paced under it. Raise it for a key with a higher limit.",
            "defaultInfo": {"environment": [MAX_RPS_ENV]},
        },
    }


RESOURCE_DESCRIPTION = (
    "A Baseten chain deployment, read by id or by environment (never created, changed or "
    "deleted on Baseten). Creating it looks the deployment up and, unless `waitFor` is empty, "
    "holds every resource that depends on it back until the deployment and all its chainlets "
    'have a status in `waitFor` (default `["ACTIVE"]`), showing the rollout\'s progress on '
    "the resource's row. Every update re-reads it: a change on Baseten, or a gate that "
    "closed, shows as an update; another deployment (a promotion) as a replacement. Import "
    "it with its id, `CHAIN_ID/CHAIN_DEPLOYMENT_ID`."
)


def package_schema() -> dict[str, Any]:
    """The package schema (JSON-ready) served by ``GetSchema``."""
    types = _Types()
    inputs = _inputs(types)
    outputs = _outputs(types)
    config = _config_variables()
    schema: dict[str, Any] = {
        "name": PACKAGE,
        "displayName": "Baseten Chains",
        "version": __version__,
        "description": "Read Baseten chain deployments (chainlets, instance types, replica "
        "counts, autoscaling) and gate other resources on their rollout.",
        "keywords": ["pulumi", "baseten", "chains", "category/cloud", "kind/native"],
        "license": "Apache-2.0",
        "publisher": "pulumi-baseten-chains",
        "meta": {"moduleFormat": "(.*)"},
        "config": {"variables": config},
        "provider": {
            "description": "The provider for Baseten chain deployments.",
            "inputProperties": config,
        },
        "resources": {
            RESOURCE_TOKEN: {
                "description": RESOURCE_DESCRIPTION,
                "inputProperties": inputs,
                "requiredInputs": _required_inputs(),
                "properties": outputs,
                "required": _required_outputs(),
            }
        },
        "functions": {token: _function(types, read) for token, read in FUNCTION_TOKENS.items()},
        "types": dict(sorted(types.specs.items())),
        "language": {name: dict(spec) for name, spec in LANGUAGE.items()},
    }
    download_url = plugin_download_url()
    if download_url:
        schema["pluginDownloadURL"] = download_url
    return schema


def object_types() -> Iterable[type[BaseModel]]:
    """The models that became named object types (for tests and docs)."""
    seen: list[type[BaseModel]] = []

    def walk(field_type: FieldType) -> None:
        if isinstance(field_type, ListOf | MapOf):
            walk(field_type.item)
        elif isinstance(field_type, ObjectOf) and field_type.model not in seen:
            seen.append(field_type.model)
            for f in model_fields(field_type.model):
                walk(f.type)

    for read in READS:
        for spec in read.inputs:
            walk(spec.type)
        for field in read.outputs:
            walk(field.type)
    return seen
