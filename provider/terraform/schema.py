"""Terraform types for the API models: an object type ``tf`` lacks, derived from the models.

What a caller may rely on:

* :class:`Object` is a Terraform object type (``["object", {...}]``). Its :meth:`Object.encode`
  returns exactly the declared attributes: a missing one becomes null and an undeclared one is
  dropped, because Terraform decodes an object only if every attribute is present and no other.
* :func:`object_type` builds the object type of a pydantic model from the model's own fields,
  so the Terraform schema follows :mod:`provider.models` instead of restating it: strings and
  string enums (the open ``status``) become ``string``, ints and floats ``number``, bools
  ``bool``, datetimes ``string`` (RFC 3339, as the API sends them), a nested model a nested
  object; ``None`` in a union makes the value nullable (every Terraform value is). A field of
  any other type raises :class:`TypeError` when the schema is built, so a model change that
  Terraform cannot express fails the tests, not a user's plan.
* :data:`CHAINLET` is the type of one ``ChainletV1`` (``autoscaling_settings`` nested).
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from ..models import Chainlet
from ._tf import Bool, Number, String, TfType, Unknown


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


def _members(annotation: Any) -> list[Any]:
    """The types of a (possibly optional, possibly union) annotation, ``None`` left out."""
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [] if annotation is type(None) else [annotation]


def tf_type_for(annotation: Any, where: str = "field") -> Any:
    """The Terraform type of a model field's annotation (see the module docstring)."""
    members = _members(annotation)
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    if models and len(models) == len(members):
        return object_type(models[0])
    if members and all(m is bool for m in members):
        return Bool()
    if members and all(m in (int, float) for m in members):
        return Number()
    if members and all(isinstance(m, type) and issubclass(m, str | datetime) for m in members):
        # datetime: the models dump it back to the API's RFC 3339 string (to_api).
        return String()
    raise TypeError(f"{where}: no Terraform type for {annotation!r}")


def object_type(model: type[BaseModel]) -> Object:
    """The object type of ``model``: one attribute per declared field, in declaration order."""
    return Object(
        {
            name: tf_type_for(info.annotation, f"{model.__name__}.{name}")
            for name, info in model.model_fields.items()
        }
    )


CHAINLET = object_type(Chainlet)
"""``ChainletV1`` as a Terraform object; extra fields Baseten adds later are not in it."""
