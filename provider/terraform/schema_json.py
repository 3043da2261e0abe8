"""The provider's schema as ``terraform providers schema -json`` prints it.

:func:`schema_json` asks the provider for its schema through the plugin protocol's own
``GetProviderSchema`` (``tf``'s servicer, in process: no terraform, no handshake) and writes the
answer in terraform's JSON form (``format_version`` 1.0: ``provider_schemas`` by source address,
each with ``provider`` and ``data_source_schemas``; a block's ``attributes`` with their cty
``type``, ``description``, ``description_kind`` and the flags that are set). It is what
``tfplugindocs`` reads, and what :mod:`provider.reference` renders the Terraform reference from;
tests compare it with terraform's own output.
"""

from __future__ import annotations

import json
from typing import Any

from ._tf import GetProviderSchemaRequest, ProviderServicer
from .cliconfig import PROVIDER_ADDRESS
from .provider import TerraformProvider

FORMAT_VERSION = "1.0"
_FLAGS = ("required", "optional", "computed", "sensitive", "deprecated")


def _kind(value: int) -> str:
    # StringKind: PLAIN = 0, MARKDOWN = 1 (tfplugin6.proto).
    return "markdown" if value == 1 else "plain"


def _block(block: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    attributes = {}
    for attribute in block.attributes:
        entry: dict[str, Any] = {"type": json.loads(attribute.type)}
        if attribute.description:
            entry["description"] = attribute.description
        entry["description_kind"] = _kind(attribute.description_kind)
        entry.update({flag: True for flag in _FLAGS if getattr(attribute, flag)})
        attributes[attribute.name] = entry
    if attributes:
        out["attributes"] = attributes
    nested = {
        b.type_name: {"nesting_mode": _NESTING[b.nesting], "block": _block(b.block)}
        for b in block.block_types
    }
    if nested:
        out["block_types"] = nested
    if block.description:
        out["description"] = block.description
    out["description_kind"] = _kind(block.description_kind)
    return out


# Schema.NestedBlock.NestingMode: INVALID, SINGLE, LIST, SET, MAP, GROUP.
_NESTING = ("invalid", "single", "list", "set", "map", "group")


def _schema(schema: Any) -> dict[str, Any]:
    return {"version": schema.version, "block": _block(schema.block)}


def schema_json() -> dict[str, Any]:
    """The document ``terraform providers schema -json`` prints for this provider."""
    response = ProviderServicer(TerraformProvider()).GetProviderSchema(
        GetProviderSchemaRequest(), None
    )
    provider: dict[str, Any] = {"provider": _schema(response.provider)}
    data_sources = {
        name: _schema(response.data_source_schemas[name])
        for name in sorted(response.data_source_schemas)
    }
    if data_sources:
        provider["data_source_schemas"] = data_sources
    return {"format_version": FORMAT_VERSION, "provider_schemas": {PROVIDER_ADDRESS: provider}}


if __name__ == "__main__":
    print(json.dumps(schema_json(), indent=2))
