"""How each Pulumi language spells a schema's names, types and values.

The rules are those of Pulumi's SDK generators (``pkg/codegen/{python,nodejs,go,dotnet}``):
Python snake_case, TypeScript and YAML camelCase, Go and C# PascalCase; object types are
``XArgs`` where they are inputs; a Go function ``getX`` is ``LookupX`` when the package has a
resource ``X`` (its ``GetX`` is taken by the resource's own lookup). Nothing here knows a
property of this package: everything comes from the schema passed in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("python", "typescript", "go", "csharp", "yaml")
TITLES = {
    "python": "Python",
    "typescript": "TypeScript",
    "go": "Go",
    "csharp": "C#",
    "yaml": "YAML",
}


def snake(name: str) -> str:
    """``chainDeploymentId`` -> ``chain_deployment_id`` (Python)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def pascal(name: str) -> str:
    """``chainId`` -> ``ChainId`` (Go, C#)."""
    return name[:1].upper() + name[1:]


def property_name(language: str, name: str) -> str:
    """A schema property's name (camelCase) as ``language`` spells it."""
    if language == "python":
        return snake(name)
    if language in ("go", "csharp"):
        return pascal(name)
    return name


def token_name(token: str) -> str:
    """``baseten:index:getChain`` -> ``getChain``."""
    return token.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Spelling:
    """One language's spelling of a type: scalars, list, map and named object types."""

    scalars: Mapping[str, str]
    array: Callable[[str], str]
    mapping: Callable[[str], str]
    object_input: Callable[[str], str]
    object_output: Callable[[str], str]


SPELLINGS: Mapping[str, Spelling] = {
    "python": Spelling(
        {"string": "str", "integer": "int", "number": "float", "boolean": "bool"},
        lambda t: f"Sequence[{t}]",
        lambda t: f"Mapping[str, {t}]",
        lambda n: f"{n}Args",
        lambda n: n,
    ),
    "typescript": Spelling(
        {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"},
        lambda t: f"{t}[]",
        lambda t: f"{{[key: string]: {t}}}",
        lambda n: f"{n}Args",
        lambda n: n,
    ),
    "go": Spelling(
        {"string": "string", "integer": "int", "number": "float64", "boolean": "bool"},
        lambda t: f"[]{t}",
        lambda t: f"map[string]{t}",
        lambda n: f"{n}Args",
        lambda n: n,
    ),
    "csharp": Spelling(
        {"string": "string", "integer": "int", "number": "double", "boolean": "bool"},
        lambda t: f"List<{t}>",
        lambda t: f"Dictionary<string, {t}>",
        lambda n: f"{n}Args",
        lambda n: n,
    ),
    "yaml": Spelling(
        {"string": "String", "integer": "Number", "number": "Number", "boolean": "Boolean"},
        lambda t: f"List<{t}>",
        lambda t: f"Map<{t}>",
        lambda n: "Property Map",
        lambda n: "Property Map",
    ),
}


def type_name(language: str, spec: Mapping[str, Any], *, is_input: bool) -> str:
    """The type of a property spec (``type``/``items``/``additionalProperties``/``$ref``)."""
    spelling = SPELLINGS[language]
    if "$ref" in spec:
        name = token_name(spec["$ref"])
        return (spelling.object_input if is_input else spelling.object_output)(name)
    kind = spec.get("type", "string")
    if kind == "array":
        return spelling.array(type_name(language, spec.get("items", {}), is_input=is_input))
    if kind == "object":
        item = spec.get("additionalProperties", {"type": "string"})
        return spelling.mapping(type_name(language, item, is_input=is_input))
    return spelling.scalars.get(kind, spelling.scalars["string"])


def declaration(
    language: str, name: str, spec: Mapping[str, Any], *, is_input: bool, required: bool
) -> str:
    """A property as ``language`` declares it: ``chain_id: str``, ``chainId?: string``,
    ``ChainId string``, ``string ChainId``, ``chainId: String``."""
    spelled = property_name(language, name)
    kind = type_name(language, spec, is_input=is_input)
    if language == "go":
        return f"{spelled} {kind}"
    if language == "csharp":
        return f"{kind} {spelled}"
    if language == "typescript" and not required:
        return f"{spelled}?: {kind}"
    return f"{spelled}: {kind}"


# -- values in examples -----------------------------------------------------------------------


def literal(language: str, value: Any, spec: Mapping[str, Any], *, plain: bool = False) -> str:
    """``value`` written in ``language``. Go resource arguments are wrapped as inputs
    (``pulumi.String("x")``); ``plain`` (a Go function's arguments) leaves them bare."""
    if isinstance(value, list):
        item_spec = spec.get("items", {})
        items = [literal(language, v, item_spec, plain=plain) for v in value]
        if language == "go":
            element = type_name("go", item_spec, is_input=True)
            wrapper = f"[]{element}" if plain else f"pulumi.{pascal(_go_kind(item_spec))}Array"
            return f"{wrapper}{{{', '.join(items)}}}"
        if language == "csharp":
            return f"new[] {{ {', '.join(items)} }}"
        return f"[{', '.join(items)}]"
    if isinstance(value, bool):
        text = {"python": str(value), "csharp": str(value).lower()}.get(language, json.dumps(value))
    elif isinstance(value, int | float):
        text = repr(value) if language == "python" else json.dumps(value)
    elif language == "yaml" and re.fullmatch(r"[A-Za-z][\w.-]*", str(value)):
        text = str(value)
    else:
        text = json.dumps(str(value))
    if language == "go" and not plain and not isinstance(value, list):
        return f"pulumi.{pascal(_go_kind(spec))}({text})"
    return text


def _go_kind(spec: Mapping[str, Any]) -> str:
    return {"integer": "int", "number": "float64", "boolean": "bool"}.get(
        spec.get("type", "string"), "string"
    )


def go_optional(value: str, spec: Mapping[str, Any]) -> str:
    """A Go function's optional scalar argument is a pointer: ``pulumi.StringRef("x")``."""
    if spec.get("type") in ("array", "object") or "$ref" in spec:
        return value
    return f"pulumi.{pascal(_go_kind(spec))}Ref({value})"
