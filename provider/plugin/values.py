"""Values between the engine's form and the core's, derived from the declarations.

The engine speaks camelCase property names (``chainDeploymentId``, ``instanceTypeName``) in
:class:`~pulumi.provider.experimental.property_value.PropertyValue` trees; the core speaks the
snake_case names of :data:`provider.inputs.INPUTS`, :data:`provider.outputs.OUTPUTS` and the
API models, in plain JSON-ready values. This module is the one translation between the two:

* :func:`plain` / :func:`property_value` - PropertyValue trees to plain values and back
  (integers become numbers, tuples lists; a preview's unknown stays the string
  :data:`UNKNOWN`, as the engine sends it to a provider that does not accept outputs);
* :func:`inputs_from_wire` and :func:`outputs_from_wire` - top-level names back to snake_case;
* :func:`outputs_to_wire` - a lookup's outputs as the engine stores them: nulls dropped from
  maps (:func:`provider.outputs.to_engine`) and object keys camelCased *by type*, so chainlet
  fields are renamed but the chainlet names that key ``chainletsByName`` are not;
* :func:`secret_inputs`, :func:`outputs_property_map`, :func:`inputs_property_map` - which
  values are secret: an input as the engine sent it, an output when derived from a secret
  input (:data:`OUTPUT_SOURCES`) or showing its text;
* :func:`camel_text` - a core message with the snake_case names a user of the plugin never
  sees replaced by the names in its schema.

Nothing here does I/O.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime import rpc
from pydantic import BaseModel

from .. import credentials
from ..errors import SchemaError
from ..fields import FieldType, ListOf, MapOf, ObjectOf, camel, model_fields
from ..inputs import IDENTITY_NAMES, INPUTS, InputField
from ..outputs import OUTPUTS, OUTPUTS_BY_NAME, OutputField, to_engine
from ..reads import READS

UNKNOWN: str = rpc.UNKNOWN
"""A value the engine does not know yet (preview), as it reaches this provider."""

INPUT_WIRE_NAMES: Mapping[str, str] = {f.name: f.camel_name for f in INPUTS}
OUTPUT_WIRE_NAMES: Mapping[str, str] = {f.name: f.camel_name for f in OUTPUTS}

CONFIG_NAMES: Mapping[str, str] = {
    "api_key": credentials.PULUMI_API_KEY,
    "base_url": credentials.PULUMI_API_URL,
    credentials.MAX_RPS_SETTING: credentials.PULUMI_MAX_RPS,
}
"""The core's names of the two settings (:mod:`provider.validation`), and the plugin's."""


def is_unknown(value: object) -> bool:
    """True for a value not known yet, or a list holding one (the engine sends unknown list
    items inside known lists)."""
    if isinstance(value, list | tuple):
        return any(is_unknown(item) for item in value)
    return value == UNKNOWN


# -- PropertyValue trees ----------------------------------------------------------------------


def plain(value: PropertyValue) -> Any:
    """``value`` as plain Python: secrets unwrapped, sequences as lists, maps as dicts,
    a computed value as :data:`UNKNOWN`."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [plain(v) for v in inner]
    return inner


def plain_map(values: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {k: plain(v) for k, v in values.items()}


# -- secrets ----------------------------------------------------------------------------------

OUTPUT_SOURCES: Mapping[str, frozenset[str]] = {
    "chain_id": frozenset({"chain_id", "chain_name"}),
    "chain_deployment_id": frozenset({"chain_deployment_id", "environment"}),
    "environment": frozenset({"environment", "chain_deployment_id"}),
    "lookup_by": frozenset(),
    "wait_for": frozenset({"wait_for"}),
    "timeout_seconds": frozenset({"timeout_seconds"}),
    "status": frozenset(),
    "created_at": frozenset(),
    "ready": frozenset({"wait_for"}),
    "chainlets": frozenset(),
    "chainlets_by_name": frozenset(),
    "instance_types": frozenset(),
    "raw_json": frozenset({"chain_id", "chain_name", "chain_deployment_id", "environment"}),
}
"""Each output, by the inputs whose value it shows or depends on: what a secret input makes
secret (an output that shows a secret input's text is secret too, whatever this says). The
other reads' outputs are not listed: any secret input makes each of them secret."""

_UNDECLARED = sorted(set(OUTPUTS_BY_NAME) ^ set(OUTPUT_SOURCES))
if _UNDECLARED:  # an output added without saying what it is derived from
    raise SchemaError(f"OUTPUT_SOURCES must name every output and no other: {_UNDECLARED}")


def secret_inputs(
    *wire_maps: Mapping[str, PropertyValue], inputs: Sequence[InputField] = INPUTS
) -> frozenset[str]:
    """The ``inputs`` (snake_case; default: the resource's) that are, or hold, a secret in any
    of ``wire_maps`` (inputs, or a stored state, which keeps the inputs among its outputs
    under the same names)."""
    return frozenset(
        spec.name
        for spec in inputs
        for values in wire_maps
        if spec.camel_name in values and values[spec.camel_name].contains_secret()
    )


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value and value != UNKNOWN else []
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    return []


def secret_outputs(
    outputs: Mapping[str, Any], secret: frozenset[str], inputs: Mapping[str, Any]
) -> frozenset[str]:
    """The outputs (wire names, as in ``outputs``) that must be secret when the inputs named in
    ``secret`` are: those derived from one (:data:`OUTPUT_SOURCES`), and any that shows the
    text of a secret identity (a chain id, deployment id or environment name: free text that
    Baseten's answer may repeat anywhere; ``inputs`` holds the plain values, snake_case).
    A secret ``wait_for`` hides the gate, not every status that happens to be one of it."""
    texts = [
        text for name in secret if name in IDENTITY_NAMES for text in _texts(inputs.get(name))
    ]
    by_wire = {f.camel_name: f.name for f in OUTPUTS}
    marked = set()
    for wire_name, value in outputs.items():
        name = by_wire.get(wire_name, wire_name)
        shown = json.dumps(value, ensure_ascii=False) if texts else ""
        if OUTPUT_SOURCES.get(name, frozenset(secret)) & secret or any(t in shown for t in texts):
            marked.add(wire_name)
    return frozenset(marked)


def outputs_property_map(
    outputs: Mapping[str, Any], secret: frozenset[str], inputs: Mapping[str, Any]
) -> dict[str, PropertyValue]:
    """``outputs`` (wire names, plain values) as PropertyValues, each secret exactly when
    :func:`secret_outputs` says so: one secret input never makes every output secret."""
    marked = secret_outputs(outputs, secret, inputs)
    return {k: property_value(v, secret=k in marked) for k, v in outputs.items()}


def inputs_property_map(
    inputs: Mapping[str, Any], secret: frozenset[str]
) -> dict[str, PropertyValue]:
    """``inputs`` (wire names, plain values) as PropertyValues, those named in ``secret``
    (snake_case) secret, the others not: a refresh keeps each input's secretness as it was."""
    secret_wire = {INPUT_WIRE_NAMES[name] for name in secret}
    return {k: property_value(v, secret=k in secret_wire) for k, v in inputs.items()}


def property_value(value: Any, *, secret: bool = False) -> PropertyValue:
    """A plain JSON-ready value as a PropertyValue (integers become numbers, as on the wire)."""
    if value is None or isinstance(value, bool | str | float):
        converted: Any = value
    elif isinstance(value, int):
        converted = float(value)
    elif isinstance(value, Mapping):
        converted = {str(k): property_value(v) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        converted = [property_value(v) for v in value]
    else:
        raise SchemaError(f"no engine value for {type(value).__name__}")
    return PropertyValue(converted, is_secret=secret)


# -- names ------------------------------------------------------------------------------------


def inputs_from_wire(
    values: Mapping[str, Any], inputs: Sequence[InputField] = INPUTS
) -> dict[str, Any]:
    """The declared ``inputs`` (default: the resource's) among ``values`` (camelCase names),
    by their snake_case names. Anything else (an API key passed as a property, a typo) is
    left out."""
    return {
        spec.name: values[spec.camel_name]
        for spec in inputs
        if values.get(spec.camel_name) is not None
    }


def outputs_from_wire(values: Mapping[str, Any]) -> dict[str, Any]:
    """The declared outputs among ``values`` (a stored state), by their snake_case names;
    the values themselves are left as the engine stored them."""
    return {
        name: values[wire]
        for name, wire in OUTPUT_WIRE_NAMES.items()
        if values.get(wire) is not None
    }


@functools.cache
def _declared(model: type[BaseModel]) -> Mapping[str, FieldType]:
    # Models are fixed at import: read their fields once, not per value.
    return {f.name: f.type for f in model_fields(model)}


def wire(field_type: FieldType, value: Any) -> Any:
    """A value of ``field_type`` with its object keys in camelCase (declared or not)."""
    if value is None:
        return None
    if isinstance(field_type, ListOf) and isinstance(value, list | tuple):
        return [wire(field_type.item, v) for v in value]
    if isinstance(field_type, MapOf) and isinstance(value, Mapping):
        return {k: wire(field_type.item, v) for k, v in value.items()}
    if isinstance(field_type, ObjectOf) and isinstance(value, Mapping):
        declared = _declared(field_type.model)
        return {camel(k): wire(declared[k], v) if k in declared else v for k, v in value.items()}
    return value


def stored_form(name: str, value: Any) -> Any:
    """Output ``name``'s value as the engine stores it (camelCase object keys, no nulls in
    maps), whether ``value`` is the core's or already the stored one: applying it twice
    changes nothing, so old and new outputs compare as the engine would."""
    return wire(OUTPUTS_BY_NAME[name].type, to_engine(value))


def outputs_to_wire(
    outputs: Mapping[str, Any], fields: Sequence[OutputField] = OUTPUTS
) -> dict[str, Any]:
    """A read's outputs (default: the resource's) exactly as the engine will store them, so
    that two output sets compare equal when the engine sees no change."""
    by_name = {f.name: f for f in fields}
    canonical = to_engine(dict(outputs))
    return {
        by_name[name].camel_name: wire(by_name[name].type, value)
        for name, value in canonical.items()
        if name in by_name
    }


_DECLARED: list[str] = [
    *(spec.name for read in READS for spec in read.inputs),
    *(field.name for read in READS for field in read.outputs),
]
_SNAKE_NAMES = {
    snake: camel_name
    for snake, camel_name in {
        **{name: camel(name) for name in _DECLARED},
        **CONFIG_NAMES,
    }.items()
    if snake != camel_name
}
_SNAKE_WORD = re.compile(r"\b(" + "|".join(sorted(_SNAKE_NAMES, key=len, reverse=True)) + r")\b")


def camel_text(text: str) -> str:
    """``text`` with the core's input, output and setting names in the plugin's spelling:
    ``invalid chain_deployment_id`` becomes ``invalid chainDeploymentId``."""
    return _SNAKE_WORD.sub(lambda m: _SNAKE_NAMES[m.group(1)], text)
