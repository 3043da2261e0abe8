"""The Pulumi reference, laid out as Pulumi's registry lays out a package, from its schema.

Input: the package schema (:func:`provider.plugin.schema.package_schema`, what ``GetSchema``
returns). Output (paths relative to the Pulumi tree):

* ``_index.md`` - the package: what it is, an example, its resources and functions;
* ``installation-configuration.md`` - the SDK package of each language and the configuration
  variables (the schema's ``config``) and the explicit provider's arguments;
* ``api-docs/<name>.md`` (lower case, as the registry's URLs) - one page per resource and per
  function: an example in Python, TypeScript, Go, C# and YAML, then every input and output (a
  resource's properties; a function's arguments and result) as each language declares it, with
  its description, then the object types they reach ("Supporting Types").

Examples show the inputs named in :data:`EXAMPLE_VALUES`, wherever a resource or function has
them, and every required input (its schema default, else a placeholder of its type).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from .languages import (
    LANGUAGES,
    TITLES,
    declaration,
    go_optional,
    literal,
    pascal,
    property_name,
    snake,
    token_name,
)
from .markdown import code_block, first_sentence, front_matter

EXAMPLE_VALUES: Mapping[str, Any] = {"chainId": "ch7k2p9q", "environment": "production"}
"""What the examples pass for these inputs, wherever a resource or function takes them."""
EXAMPLE_EXPORTS = ("status", "ready", "name")
"""The outputs an example would rather export (see :func:`example_export`)."""
_PLACEHOLDERS = {"string": "example", "integer": 1, "number": 1.0, "boolean": True}


def page_path(token: str) -> str:
    """The page of a resource or function token: ``api-docs/getchain.md``."""
    return f"api-docs/{token_name(token).lower()}.md"


class Package:
    """The names of the package that every language's example needs."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.name: str = schema["name"]
        language = schema.get("language", {})
        self.python = language.get("python", {}).get("packageName", f"pulumi_{self.name}")
        self.nodejs = language.get("nodejs", {}).get("packageName", f"@pulumi/{self.name}")
        self.go = language.get("go", {}).get(
            "importBasePath", f"github.com/pulumi/pulumi-{self.name}/sdk/go/{self.name}"
        )
        root = language.get("csharp", {}).get("rootNamespace", "Pulumi")
        self.csharp = f"{root}.{pascal(self.name)}"
        self.resource_names = {token_name(t) for t in schema.get("resources", {})}

    def go_function(self, token: str) -> str:
        """Go's name of a function: ``GetX``, or ``LookupX`` when a resource ``X`` exists."""
        name = pascal(token_name(token))
        if name.startswith("Get") and name[3:] in self.resource_names:
            return "Lookup" + name[3:]
        return name


# -- properties ------------------------------------------------------------------------------


def _notes(spec: Mapping[str, Any], *, required: bool, resource: bool = False) -> str:
    notes = ["Required." if required else ""]
    if spec.get("secret"):
        notes.append("Secret.")
    if resource and spec.get("willReplaceOnChanges"):
        notes.append("Changing it replaces the resource.")
    if "default" in spec:
        notes.append(f"Default `{spec['default']!r}`.".replace("'", '"'))
    environment = spec.get("defaultInfo", {}).get("environment", [])
    if environment:
        notes.append(
            "Default from the environment: " + ", ".join(f"`{e}`" for e in environment) + "."
        )
    return " ".join(n for n in notes if n)


def properties(
    props: Mapping[str, Any],
    required: Collection[str],
    *,
    is_input: bool,
    level: str = "####",
    resource: bool = False,
) -> list[str]:
    """One block per property: its declaration in each language, its description."""
    lines: list[str] = []
    for name, spec in props.items():
        needed = name in required
        cells = [
            f"`{declaration(lang, name, spec, is_input=is_input, required=needed)}`"
            for lang in LANGUAGES
        ]
        notes = _notes(spec, required=needed, resource=resource)
        lines += [
            f"{level} {name}",
            "",
            "| " + " | ".join(TITLES[lang] for lang in LANGUAGES) + " |",
            "|" + "---|" * len(LANGUAGES),
            "| " + " | ".join(cells) + " |",
            "",
            " ".join(p for p in (spec.get("description", ""), notes) if p),
            "",
        ]
    return lines


def _refs(spec: Any) -> Iterator[str]:
    if isinstance(spec, Mapping):
        if "$ref" in spec:
            yield spec["$ref"].removeprefix("#/types/")
        for value in spec.values():
            yield from _refs(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from _refs(value)


def _reachable(schema: Mapping[str, Any], roots: Iterable[Any]) -> list[str]:
    """The type tokens reached from ``roots`` (property maps), in order of first reach."""
    seen: list[str] = []
    pending = [ref for root in roots for ref in _refs(root)]
    while pending:
        token = pending.pop(0)
        if token in seen or token not in schema.get("types", {}):
            continue
        seen.append(token)
        pending += list(_refs(schema["types"][token].get("properties", {})))
    return seen


def supporting_types(schema: Mapping[str, Any], inputs: Any, outputs: Any) -> list[str]:
    """The "Supporting Types" section: every object type the page's properties reach."""
    tokens = _reachable(schema, [inputs, outputs])
    if not tokens:
        return []
    as_input = set(_reachable(schema, [inputs]))
    lines = ["## Supporting Types", ""]
    for token in tokens:
        spec = schema["types"][token]
        name = token_name(token)
        lines += [f"### {name}", "", spec.get("description", ""), ""]
        if token in as_input:
            lines += [f"As an input: `{name}Args` (YAML: a map with these keys).", ""]
        lines += properties(
            spec.get("properties", {}), spec.get("required", []), is_input=False, level="####"
        )
    return lines


# -- examples --------------------------------------------------------------------------------


def _placeholder(spec: Mapping[str, Any]) -> Any:
    if "default" in spec:
        return spec["default"]
    if spec.get("type") == "array":
        return [_placeholder(spec.get("items", {}))]
    return _PLACEHOLDERS.get(spec.get("type", "string"), "example")


def example_inputs(
    inputs: Mapping[str, Any], required: Collection[str]
) -> list[tuple[str, Any, Mapping[str, Any], bool]]:
    """(name, value, spec, required) of each input an example passes, in schema order."""
    chosen = [
        (name, EXAMPLE_VALUES[name] if name in EXAMPLE_VALUES else _placeholder(spec), spec)
        for name, spec in inputs.items()
        if name in EXAMPLE_VALUES or name in required
    ]
    if not chosen and inputs:  # nothing required: the first input says what to pass
        name, spec = next(iter(inputs.items()))
        chosen = [(name, _placeholder(spec), spec)]
    return [(name, value, spec, name in required) for name, value, spec in chosen]


def example_export(
    outputs: Mapping[str, Any], required: Collection[str], inputs: Collection[str]
) -> str | None:
    """The output an example exports: one of :data:`EXAMPLE_EXPORTS`, else the first required
    output that is not an input, else the first output."""
    for name in EXAMPLE_EXPORTS:
        if name in outputs:
            return name
    computed = [n for n in outputs if n not in inputs]
    return next((n for n in computed if n in required), next(iter(computed or outputs), None))


def _variable(token: str) -> str:
    name = token_name(token)
    name = name[3:] if name.startswith("get") and name[3:4].isupper() else name
    return name[:1].lower() + name[1:]


def examples(package: Package, token: str, spec: Mapping[str, Any], *, resource: bool) -> list[str]:
    """``## Example Usage``: the same program in each language."""
    if resource:
        inputs, required, outputs = (
            spec.get("inputProperties", {}),
            spec.get("requiredInputs", []),
            spec.get("properties", {}),
        )
        out_required = spec.get("required", [])
    else:
        inputs = spec.get("inputs", {}).get("properties", {})
        required = spec.get("inputs", {}).get("required", [])
        outputs = spec.get("outputs", {}).get("properties", {})
        out_required = spec.get("outputs", {}).get("required", [])
    args = example_inputs(inputs, required)
    export = example_export(outputs, out_required, inputs)
    var = _variable(token)
    name = token_name(token)
    lines = ["## Example Usage", ""]
    writers = {
        "python": _python,
        "typescript": _typescript,
        "go": _go,
        "csharp": _csharp,
        "yaml": _yaml,
    }
    fence = {"python": "python", "typescript": "typescript", "go": "go", "csharp": "csharp"}
    for lang in LANGUAGES:
        code = writers[lang](package, token, name, var, args, export, resource)
        lines += [f"### {TITLES[lang]}", "", *code_block(fence.get(lang, "yaml"), code), ""]
    return lines


Args = list[tuple[str, Any, Mapping[str, Any], bool]]


def _python(
    p: Package, token: str, name: str, var: str, args: Args, export: str | None, resource: bool
) -> str:
    call = f"{p.name}.{name}(" + (f'"{var}",' if resource else "")
    words = [f"{snake(n)}={literal('python', v, s)}" for n, v, s, _ in args]
    if resource:
        body = call + "".join(f"\n    {w}," for w in words).rstrip(",") + ")"
    else:
        body = f"{p.name}.{snake(name)}(" + ",\n    ".join(words) + ")"
    lines = ["import pulumi", f"import {p.python} as {p.name}", "", f"{snake(var)} = {body}"]
    if export:
        lines.append(f'pulumi.export("{export}", {snake(var)}.{snake(export)})')
    return "\n".join(lines)


def _typescript(
    p: Package, token: str, name: str, var: str, args: Args, export: str | None, resource: bool
) -> str:
    fields = "".join(f"\n    {n}: {literal('typescript', v, s)}," for n, v, s, _ in args)
    call = f'new {p.name}.{name}("{var}", {{' if resource else f"{p.name}.{name}Output({{"
    lines = [
        'import * as pulumi from "@pulumi/pulumi";',
        f'import * as {p.name} from "{p.nodejs}";',
        "",
        f"const {var} = {call}{fields}\n}});",
    ]
    if export:
        lines.append(f"export const {export} = {var}.{export};")
    return "\n".join(lines)


def _go(
    p: Package, token: str, name: str, var: str, args: Args, export: str | None, resource: bool
) -> str:
    width = max((len(pascal(n)) + 1 for n, *_ in args), default=0)
    fields = []
    for n, v, s, needed in args:
        value = literal("go", v, s, plain=not resource)
        if not resource and not needed:
            value = go_optional(value, s)
        fields.append(f"\t\t\t{(pascal(n) + ':').ljust(width)} {value},")
    package = p.go.rsplit("/", 1)[-1]
    if resource:
        call = f'{package}.New{name}(ctx, "{var}", &{package}.{name}Args{{'
        close = "\t\t})"
        value = f"{var}.{pascal(export)}" if export else ""
    else:
        function = p.go_function(token)
        call = f"{package}.{function}(ctx, &{package}.{function}Args{{"
        close = "\t\t}, nil)"
        value = f"pulumi.Any({var}.{pascal(export)})" if export else ""
    lines = [
        "package main",
        "",
        "import (",
        f'\t"{p.go}"',
        '\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"',
        ")",
        "",
        "func main() {",
        "\tpulumi.Run(func(ctx *pulumi.Context) error {",
        f"\t\t{var if export else '_'}, err := {call}",
        *fields,
        close,
        "\t\tif err != nil {",
        "\t\t\treturn err",
        "\t\t}",
    ]
    if export:
        lines.append(f'\t\tctx.Export("{export}", {value})')
    lines += ["\t\treturn nil", "\t})", "}"]
    return "\n".join(lines)


def _csharp(
    p: Package, token: str, name: str, var: str, args: Args, export: str | None, resource: bool
) -> str:
    alias = pascal(p.name)
    fields = [f"        {pascal(n)} = {literal('csharp', v, s)}," for n, v, s, _ in args]
    if resource:
        call = f'new {alias}.{name}("{var}", new()'
        value = f"{var}.{pascal(export)}" if export else ""
    else:
        call = f"{alias}.{pascal(name)}.Invoke(new()"
        value = f"{var}.Apply(result => result.{pascal(export)})" if export else ""
    lines = [
        "using System.Collections.Generic;",
        "using System.Linq;",
        "using Pulumi;",
        f"using {alias} = {p.csharp};",
        "",
        "return await Deployment.RunAsync(() =>",
        "{",
        f"    var {var} = {call}",
        "    {",
        *fields,
        "    });",
    ]
    if export:
        lines += [
            "",
            "    return new Dictionary<string, object?>",
            "    {",
            f'        ["{export}"] = {value},',
            "    };",
        ]
    lines.append("});")
    return "\n".join(lines)


def _yaml(
    p: Package, token: str, name: str, var: str, args: Args, export: str | None, resource: bool
) -> str:
    values = [f"{n}: {literal('yaml', v, s)}" for n, v, s, _ in args]
    if resource:
        lines = ["resources:", f"  {var}:", f"    type: {token}"]
        if values:
            lines += ["    properties:", *(f"      {v}" for v in values)]
    else:
        lines = ["variables:", f"  {var}:", "    fn::invoke:", f"      function: {token}"]
        if values:
            lines += ["      arguments:", *(f"        {v}" for v in values)]
    if export:
        lines += ["outputs:", f"  {export}: ${{{var}.{export}}}"]
    return "\n".join(lines)


# -- pages -----------------------------------------------------------------------------------


def _names_line(package: Package, token: str, resource: bool) -> str:
    name = token_name(token)
    if resource:
        forms = {
            "python": f"`{package.name}.{name}`",
            "typescript": f"`new {package.name}.{name}`",
            "go": f"`{package.name}.New{name}`",
            "csharp": f"`new {pascal(package.name)}.{name}`",
            "yaml": f"`type: {token}`",
        }
    else:
        go = package.go_function(token)
        forms = {
            "python": f"`{snake(name)}`, `{snake(name)}_output`",
            "typescript": f"`{name}`, `{name}Output`",
            "go": f"`{go}`, `{go}Output`",
            "csharp": f"`{pascal(name)}.InvokeAsync`, `{pascal(name)}.Invoke`",
            "yaml": f"`fn::invoke: {{function: {token}}}`",
        }
    return "; ".join(f"{TITLES[lang]} {forms[lang]}" for lang in LANGUAGES) + "."


def _head(package: Package, token: str, spec: Mapping[str, Any], *, resource: bool) -> list[str]:
    """A page's front matter, title, names in each language, description and examples."""
    name = token_name(token)
    description = spec.get("description", "")
    return [
        *front_matter(title=name, meta_desc=first_sentence(description), layout="package"),
        f"# {name}",
        "",
        f"{'Resource' if resource else 'Function'} `{token}`. "
        + _names_line(package, token, resource),
        "",
        description,
        "",
        *examples(package, token, spec, resource=resource),
    ]


def resource_page(package: Package, token: str, spec: Mapping[str, Any]) -> str:
    """A resource's page."""
    name = token_name(token)
    inputs, outputs = spec.get("inputProperties", {}), spec.get("properties", {})
    lines = [
        *_head(package, token, spec, resource=True),
        f"## {name} Resource Properties",
        "",
        "### Inputs",
        "",
        *properties(inputs, spec.get("requiredInputs", []), is_input=True, resource=True),
        "### Outputs",
        "",
        "Every property of the resource's state (an input's value is the one in force), and "
        "the provider-assigned `id`:",
        "",
        *properties(outputs, spec.get("required", []), is_input=False),
        *supporting_types(package.schema, inputs, outputs),
        *_package_details(package),
    ]
    return "\n".join(lines)


def function_page(package: Package, token: str, spec: Mapping[str, Any]) -> str:
    """A function's page."""
    name = token_name(token)
    inputs = spec.get("inputs", {})
    outputs = spec.get("outputs", {})
    lines = [
        *_head(package, token, spec, resource=False),
        "## Arguments",
        "",
        inputs.get("description", ""),
        "",
        *properties(inputs.get("properties", {}), inputs.get("required", []), is_input=True),
        f"## {name} Result",
        "",
        outputs.get("description", ""),
        "",
        *properties(outputs.get("properties", {}), outputs.get("required", []), is_input=False),
        *supporting_types(
            package.schema, inputs.get("properties", {}), outputs.get("properties", {})
        ),
        *_package_details(package),
    ]
    return "\n".join(lines)


def _package_details(package: Package) -> list[str]:
    schema = package.schema
    return [
        "## Package Details",
        "",
        f"- Package: `{package.name}` {schema.get('version', '')}".rstrip(),
        f"- License: {schema.get('license', '')}",
        "- Installation and configuration: [installation-configuration.md]"
        "(../installation-configuration.md)",
        "",
    ]


def index_page(package: Package) -> str:
    """``_index.md``: the package, an example, its resources and functions."""
    schema = package.schema
    lines = [
        *front_matter(
            title=schema.get("displayName", package.name),
            meta_desc=first_sentence(schema.get("description", "")),
            layout="package",
        ),
        schema.get("description", ""),
        "",
        "Installing the plugin and configuring the provider: "
        "[Installation & Configuration](installation-configuration.md).",
        "",
    ]
    resources = sorted(schema.get("resources", {}).items())
    if resources:
        token, spec = resources[0]
        lines += examples(package, token, spec, resource=True)
    for title, kind in (("Resources", "resources"), ("Functions", "functions")):
        entries = sorted(schema.get(kind, {}).items())
        if entries:
            lines += [f"## {title}", ""]
            lines += [
                f"- [{token_name(t)}]({page_path(t)}): {first_sentence(s.get('description', ''))}"
                for t, s in entries
            ]
            lines.append("")
    return "\n".join(lines)


def installation_page(package: Package) -> str:
    """``installation-configuration.md``: SDK packages, config variables, provider args."""
    schema = package.schema
    title = schema.get("displayName", package.name)
    variables = schema.get("config", {}).get("variables", {})
    provider = schema.get("provider", {})
    lines = [
        *front_matter(
            title=f"{title} Installation & Configuration",
            meta_desc=f"How to install the {title} provider and configure it.",
            layout="package",
        ),
        "## Installation",
        "",
        f"The `{package.name}` resource plugin, version {schema.get('version', '')}: see the "
        "repository's [README](../../README.md) for the ways to install it (a release tarball, "
        "the git URL, a path). The SDK of each language is generated from this schema under "
        "these names (the schema's `language` section):",
        "",
        "| Language | Package |",
        "|---|---|",
        f"| Python | `{package.python}` |",
        f"| TypeScript | `{package.nodejs}` |",
        f"| Go | `{package.go}` |",
        f"| C# | `{package.csharp}` |",
        f"| YAML | (none: the plugin `{package.name}` itself) |",
        "",
        "## Configuration",
        "",
        "Set these on the stack with `pulumi config set` (secrets with `--secret`), or in the "
        "environment named:",
        "",
        "| Variable | Type | Description |",
        "|---|---|---|",
    ]
    for name, spec in variables.items():
        kind = spec.get("type", "string") + (", secret" if spec.get("secret") else "")
        notes = _notes(spec, required=name in schema.get("config", {}).get("required", []))
        text = " ".join(p for p in (spec.get("description", ""), notes) if p)
        lines.append(f"| `{package.name}:{name}` | {kind} | {text} |")
    lines += [
        "",
        "### Provider arguments",
        "",
        provider.get("description", ""),
        "",
        "An explicit provider (`new " + package.name + ".Provider(...)`) takes the same settings "
        "as arguments:",
        "",
        *properties(
            provider.get("inputProperties", {}), provider.get("requiredInputs", []), is_input=True
        ),
    ]
    return "\n".join(lines)


def pages(schema: Mapping[str, Any]) -> dict[str, str]:
    """Every page of the Pulumi reference, by path relative to its tree."""
    package = Package(schema)
    out = {
        "_index.md": index_page(package),
        "installation-configuration.md": installation_page(package),
    }
    for token, spec in sorted(schema.get("resources", {}).items()):
        out[page_path(token)] = resource_page(package, token, spec)
    for token, spec in sorted(schema.get("functions", {}).items()):
        out[page_path(token)] = function_page(package, token, spec)
    return out


__all__ = ["EXAMPLE_VALUES", "Package", "page_path", "pages", "property_name"]
