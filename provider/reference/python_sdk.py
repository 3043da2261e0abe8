"""The typed Python functions, generated (``make docs``): ``provider/generated_functions.py``.

For each read of :data:`provider.reads.READS`, as generated Pulumi SDKs have them: a
``GetXResult`` class whose attributes carry the types of the read's outputs, ``get_X`` (plain
values) and ``get_X_output`` (Inputs, returning an ``Output``) with the read's inputs, types
and defaults spelled out, so type checkers and IDEs see them. Each body only calls
:func:`provider.function_calls.call` / ``call_output``: behaviour lives there, never here.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

from ..catalog import Read
from ..fields import FieldType, ListOf, MapOf, ObjectOf, Scalar

PATH = Path(__file__).resolve().parents[1] / "generated_functions.py"
"""Where ``make docs`` writes the module (inside the package)."""

SETTINGS = (("api_key", "str"), ("api_url", "str"), ("max_requests_per_second", "float"))
_SCALARS = {Scalar.STRING: "str", Scalar.BOOLEAN: "bool", Scalar.NUMBER: "float"}


def annotation(field_type: FieldType) -> str:
    """The Python type of a value of ``field_type`` as the functions take and return it
    (objects are the API's JSON objects, as the outputs hold them)."""
    if isinstance(field_type, Scalar):
        return _SCALARS.get(field_type, "int")
    if isinstance(field_type, ListOf):
        return f"Sequence[{annotation(field_type.item)}]"
    if isinstance(field_type, MapOf):
        return f"Mapping[str, {annotation(field_type.item)}]"
    if isinstance(field_type, ObjectOf):
        return "Mapping[str, Any]"
    raise TypeError(f"no Python type for {field_type!r}")


def _text(text: str) -> str:
    """A string literal of ``text`` (a docstring: triple-quoted when that spells it exactly)."""
    if "\\" in text or '"""' in text or text.endswith('"') or not text.isprintable():
        return repr(text)
    return f'"""{text}"""'


def _default(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    raise TypeError(f"no Python literal for the default {value!r}")


def _extra_type(read: Read[Any, Any], name: str, imports: set[str]) -> str:
    returned = typing.get_type_hints(read.result_extras[name]).get("return", Any)
    module = getattr(returned, "__module__", "")
    if not isinstance(returned, type) or not module.startswith("provider."):
        return "Any"
    imports.add(f"from .{module.removeprefix('provider.')} import {returned.__qualname__}")
    return returned.__qualname__


def _result(read: Read[Any, Any], imports: set[str]) -> list[str]:
    from ..function_calls import ReadResult  # noqa: PLC0415 - imports pulumi: only when rendering

    taken = set(dir(ReadResult))
    lines = [
        f"class {read.result_name}(ReadResult):",
        f'    """The result of :func:`{read.function_name}`."""',
        "",
        f"    read = READS_BY_NAME[{json.dumps(read.name)}]",
    ]
    for spec in read.outputs:
        if spec.name in taken:
            raise ValueError(f"{read.name}: output {spec.name!r} hides ReadResult.{spec.name}")
        kind = annotation(spec.type) + (" | None" if spec.nullable else "")
        lines += ["", f"    {spec.name}: {kind}", f"    {_text(spec.description)}"]
    for name in read.result_extras:
        lines += ["", f"    {name}: {_extra_type(read, name, imports)}"]
    return lines


def _function(read: Read[Any, Any], *, output: bool) -> list[str]:
    name = read.function_name + ("_output" if output else "")
    result = f"pulumi.Output[{read.result_name}]" if output else read.result_name
    params = []
    for spec in read.inputs:
        kind = f"{annotation(spec.type)} | None"
        if output:
            kind = f"pulumi.Input[{kind}]"
        params.append(f"    {spec.name}: {kind} = {_default(spec.default)},")
    doc = (
        f":func:`{read.function_name}` over Inputs, returning an ``Output`` of the result."
        if output
        else read.description
    )
    return [
        f"def {name}(",
        *params,
        "    *,",
        *(f"    {setting}: {kind} | None = None," for setting, kind in SETTINGS),
        f") -> {result}:",
        f"    {_text(doc)}",
        f"    return {'call_output' if output else 'call'}(",
        f"        {read.result_name},",
        "        {",
        *(f"            {json.dumps(spec.name)}: {spec.name}," for spec in read.inputs),
        "        },",
        *(f"        {setting}={setting}," for setting, _ in SETTINGS),
        "    )",
    ]


def render(reads: typing.Sequence[Read[Any, Any]] | None = None) -> str:
    """The module's source for ``reads`` (default: the catalog), deterministic."""
    if reads is None:
        from ..reads import READS  # noqa: PLC0415 - the catalog, only when rendering

        reads = READS
    imports: set[str] = set()
    body: list[str] = []
    names: list[str] = []
    for read in reads:
        body += ["", "", *_result(read, imports)]
        body += ["", "", *_function(read, output=False)]
        body += ["", "", *_function(read, output=True)]
        names += [read.result_name, read.function_name, f"{read.function_name}_output"]
    text = "\n".join(body)
    typing_names = [n for n in ("Any",) if f"{n}]" in text or f"{n} " in text]
    abc_names = [n for n in ("Mapping", "Sequence") if f"{n}[" in text]
    head = [
        '"""Every read\'s typed Python functions: ``GetXResult``, ``get_X`` and ``get_X_output``',
        "(see :mod:`provider.functions`, which exports them).",
        "",
        "Generated by ``make docs`` (python -m provider.reference) from provider/reads:",
        "do not edit.",
        '"""',
        "",
        "# ruff: noqa: E501",
        "",
        "from __future__ import annotations",
        "",
    ]
    if abc_names:
        head.append(f"from collections.abc import {', '.join(abc_names)}")
    if typing_names:
        head.append(f"from typing import {', '.join(typing_names)}")
    head += ["", "import pulumi", ""]
    head += sorted(
        [
            "from .function_calls import ReadResult, call, call_output",
            "from .reads import READS_BY_NAME",
            *imports,
        ]
    )
    head += ["", "__all__ = ["] + [f"    {json.dumps(n)}," for n in sorted(names)] + ["]"]
    return "\n".join(head + body) + "\n"


def write(path: Path = PATH, text: str | None = None) -> bool:
    """Write the module to ``path`` if it differs; whether it changed."""
    text = render() if text is None else text
    if path.is_file() and path.read_text("utf-8") == text:
        return False
    path.write_text(text, "utf-8", newline="\n")
    return True
