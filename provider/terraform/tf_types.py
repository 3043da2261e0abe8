"""Terraform types for the API models: an object type ``tf`` lacks, derived from the models.

What a caller may rely on:

* :class:`Object` is a Terraform object type (``["object", {...}]``). Its :meth:`Object.encode`
  returns exactly the declared attributes: a missing one becomes null and an undeclared one is
  dropped, because Terraform decodes an object only if every attribute is present and no other.
* :func:`tf_type` translates a declared field type (:mod:`provider.fields`, the language of
  :data:`provider.inputs.INPUTS` and :data:`provider.outputs.OUTPUTS`) into Terraform's:
  strings, bools, numbers (integers included), lists, maps and objects; every Terraform value
  is nullable. :func:`object_type` builds an API model's object from the model's own fields, so
  the Terraform schema follows :mod:`provider.models` instead of restating it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ..fields import FieldType, ListOf, MapOf, ObjectOf, Scalar, model_fields
from ._tf import Bool, List, Map, Number, String, TfType, Unknown


class Object(TfType):  # type: ignore[misc]  # tf is untyped: TfType is Any to mypy
    """A Terraform object: named attributes, each of its own type. Null and unknown pass."""

    def __init__(self, attributes: Mapping[str, Any]) -> None:
        self.attributes: dict[str, Any] = dict(attributes)

    def encode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return {name: t.encode(value.get(name)) for name, t in self.attributes.items()}

    def decode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return {name: t.decode(value.get(name)) for name, t in self.attributes.items()}

    def tf_type(self) -> bytes:
        # The cty JSON type notation: ["object", {"name": <type>, ...}]; attribute types are
        # already JSON, so they are spliced in rather than parsed and dumped again.
        members = ",".join(
            f"{json.dumps(name)}:{t.tf_type().decode()}" for name, t in self.attributes.items()
        )
        return f'["object",{{{members}}}]'.encode()


def tf_type(field_type: FieldType) -> Any:
    """The Terraform type of a declared field type (:mod:`provider.fields`): strings, bools and
    numbers (integers are Terraform numbers), lists, maps, and objects of an API model."""
    if isinstance(field_type, ObjectOf):
        return object_type(field_type.model)
    if isinstance(field_type, ListOf):
        return List(tf_type(field_type.item))
    if isinstance(field_type, MapOf):
        return Map(tf_type(field_type.item))
    return {Scalar.STRING: String, Scalar.BOOLEAN: Bool}.get(field_type, Number)()


def object_type(model: type[BaseModel]) -> Object:
    """The object type of ``model``: one attribute per declared field, in declaration order."""
    return Object({f.name: tf_type(f.type) for f in model_fields(model)})
