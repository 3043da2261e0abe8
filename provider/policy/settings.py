"""Rule settings as pydantic models: one declaration gives the config parser and its JSON schema.

What a caller may rely on:

* A :class:`RuleSettings` subclass is frozen; its field defaults are the documented defaults;
  its config keys are the camelCase aliases of its fields, and only those (``maxReplica``, never
  ``max_replica``); unknown keys are refused, so a typo cannot silently switch a limit off.
* :meth:`RuleSettings.from_config` builds the settings from config properties or raises
  :class:`~provider.errors.InvalidInputError` whose ``field`` is ``<rule>.<path>`` of the first
  problem (``replica-bounds.overrides.Generator.maxReplica``) and whose ``reason`` says what is
  wrong with it, in JSON's words, and lists any further problems.
* :meth:`RuleSettings.config_schema` is the JSON schema of those properties (defaults and
  descriptions included, every ``$ref`` inlined), the shape CrossGuard's ``PolicyConfigSchema``
  takes.
* Integers are strict (JSON integers) but :func:`integral` lets an integral float count as one,
  because protobuf Structs (the engine's ``Configure`` call) carry every number as a float;
  fractions, booleans and strings are refused. :data:`Names` is a list of non-empty strings,
  de-duplicated in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from ..errors import InvalidInputError
from ..fields import camel

if TYPE_CHECKING:
    from ..models import ChainDeployment


def integral(value: object) -> object:
    """An integral float as the integer it is; anything else as it is (a ``BeforeValidator``
    for strict integers: ``Annotated[int, Field(strict=True, ...), BeforeValidator(integral)]``,
    in that order, so that bounds stay JSON schema ``minimum``)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _dedupe(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def one_of(known: tuple[str, ...], what: str) -> Callable[[str], str]:
    """A validator refusing any string outside ``known``, naming them."""

    def check(value: str) -> str:
        if value not in known:
            raise ValueError(f"{value!r} is not {what}; known: {', '.join(known)}")
        return value

    return check


Name = Annotated[str, Field(strict=True, min_length=1)]
Names = Annotated[tuple[Name, ...], AfterValidator(_dedupe)]

# pydantic's error types in the words of a JSON config (lists, objects, integers).
_REASONS = {
    "tuple_type": "must be a list",
    "frozen_set_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "int_type": "must be an integer",
    "string_type": "must be a string",
    "greater_than_equal": "must be at least {ge}",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
}


class RuleSettings(BaseModel):
    """The base of every rule's settings; ``rule`` (the rule's name) prefixes error fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=camel)

    rule: ClassVar[str]

    @classmethod
    def from_config(cls, props: Mapping[str, Any] | None = None) -> Self:
        """The settings from config properties, defaults for whatever is missing."""
        try:
            return cls.model_validate(dict(props or {}))
        except ValidationError as exc:
            raise cls._invalid(exc) from None

    @classmethod
    def config_schema(cls) -> dict[str, dict[str, Any]]:
        """The config properties as self-contained JSON schemas, by config key."""
        schema = cls.model_json_schema(by_alias=True)
        properties: dict[str, dict[str, Any]] = _inline(schema, schema.get("$defs", {}))[
            "properties"
        ]
        return properties

    def unmatched_overrides(self, deployment: ChainDeployment) -> tuple[str, ...]:
        """The chainlet names the settings override that ``deployment`` has no chainlet of
        (none, unless the rule has per-chainlet overrides), in config order."""
        return ()

    @classmethod
    def _invalid(cls, exc: ValidationError) -> InvalidInputError:
        problems = []
        for error in exc.errors(include_url=False):
            # A model validator names a place below the model through ctx["at"].
            loc = (*error["loc"], *error.get("ctx", {}).get("at", ()))
            problems.append((".".join([cls.rule, *map(str, loc)]), cls._reason(error, loc)))
        (field, reason), *more = problems
        return InvalidInputError(field, reason + "".join(f"; also {w}: {r}" for w, r in more))

    @classmethod
    def _reason(cls, error: ErrorDetails, loc: tuple[Any, ...]) -> str:
        kind = error["type"]
        if kind == "extra_forbidden":
            known = ", ".join(_properties_at(cls.config_schema(), loc[:-1])) or "no settings"
            return f"unknown setting; takes: {known}"
        if kind not in _REASONS:
            return error["msg"].removeprefix("Value error, ")
        got = repr(error["input"])
        got = got if len(got) <= 60 else got[:57] + "..."
        return _REASONS[kind].format(**error.get("ctx", {})) + f", got {got}"


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    """``node`` with every ``$ref`` replaced by its definition (CrossGuard has no ``$defs``)
    and pydantic's titles dropped (restated field names; the descriptions say more)."""
    if isinstance(node, Mapping):
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
        return {
            key: _inline(value, defs)
            for key, value in node.items()
            if key != "$defs" and not (key == "title" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def _properties_at(properties: Mapping[str, Any], path: tuple[Any, ...]) -> list[str]:
    """The property names of the object at ``path`` of an inlined schema (map keys included)."""
    node: Mapping[str, Any] = {"properties": properties}
    for part in path:
        node = node.get("properties", {}).get(part) or node.get("additionalProperties") or {}
    return list(node.get("properties", {}))
