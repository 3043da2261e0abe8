"""The small type language the input and output declarations are written in.

A front end (the dynamic resource, the functions, Terraform, the native plugin's schema)
never lists fields itself: it walks :data:`provider.inputs.INPUTS`,
:data:`provider.outputs.OUTPUTS` and the API models, and translates each :data:`FieldType`
into its own type system, as generated Pulumi SDKs derive every language from one schema.

* :class:`Scalar` - string, boolean, number (float) or integer;
* :class:`ListOf`, :class:`MapOf` - a list, or a map with string keys;
* :class:`ObjectOf` - an API model (:mod:`provider.models`), whose fields are read with
  :func:`model_fields`, so a field added to a model appears in every schema.
"""

from __future__ import annotations

import enum
import functools
import types
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel

from .errors import SchemaError


class Scalar(enum.Enum):
    STRING = "string"
    BOOLEAN = "boolean"
    NUMBER = "number"
    INTEGER = "integer"


@dataclass(frozen=True)
class ListOf:
    item: FieldType


@dataclass(frozen=True)
class MapOf:
    item: FieldType


@dataclass(frozen=True)
class ObjectOf:
    model: type[BaseModel]

    @property
    def name(self) -> str:
        """The object type's name in a schema (see :func:`schema_name`)."""
        return schema_name(self.model)


def schema_name(model: type[BaseModel]) -> str:
    """A model's name in every schema: its ``title`` if it sets one, else its class name."""
    title = model.model_config.get("title")
    return title if isinstance(title, str) else model.__name__


FieldType = Scalar | ListOf | MapOf | ObjectOf


@dataclass(frozen=True)
class ModelField:
    """One declared field of an API model, in the type language above."""

    name: str
    type: FieldType
    nullable: bool
    required: bool
    description: str


def camel(name: str) -> str:
    """``chain_deployment_id`` -> ``chainDeploymentId`` (Pulumi's property names)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _members(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    origin = get_origin(annotation)
    if origin is not None and origin not in (list, dict):
        # Annotated[...] and similar wrappers: the first argument is the type.
        return _members(get_args(annotation)[0])
    return [annotation]


def type_of(annotation: Any, where: str = "field") -> tuple[FieldType, bool]:
    """The :data:`FieldType` of a model annotation and whether it is nullable.

    Strings, string enums (the open ``status``) and datetimes (sent as RFC 3339 text) are
    strings. Any other annotation raises :class:`TypeError`, so a model change that a schema
    cannot express fails the tests, not a user's plan.
    """
    members = _members(annotation)
    nullable = type(None) in members
    members = [m for m in members if m is not type(None)]
    if len(members) == 1 and get_origin(members[0]) is list:
        item, _ = type_of(get_args(members[0])[0], where)
        return ListOf(item), nullable
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    if models and len(models) == len(members):
        return ObjectOf(models[0]), nullable
    if members and all(m is bool for m in members):
        return Scalar.BOOLEAN, nullable
    if members and all(m is int for m in members):
        return Scalar.INTEGER, nullable
    if members and all(m in (int, float) for m in members):
        return Scalar.NUMBER, nullable
    if members and all(m is AwareDatetime or issubclass(m, str | datetime) for m in members):
        return Scalar.STRING, nullable
    raise SchemaError(f"{where}: no field type for {annotation!r}")


@functools.cache
def model_fields(model: type[BaseModel]) -> tuple[ModelField, ...]:
    """The declared fields of ``model``, in declaration order (read once per model: models
    are fixed at import, and conversions ask for every value)."""
    found = []
    for name, info in model.model_fields.items():
        field_type, nullable = type_of(info.annotation, f"{model.__name__}.{name}")
        found.append(
            ModelField(name, field_type, nullable, info.is_required(), info.description or "")
        )
    return tuple(found)
