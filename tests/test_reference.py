"""The generated reference (``make docs``, :mod:`provider.reference`): committed, complete, stable.

* The committed ``docs/`` is exactly what the generator writes now, no file more or less: a
  declaration changed without ``make docs`` fails here, so the reference cannot rot.
* ``make docs`` is idempotent: a second run changes nothing; a page no longer generated is
  removed, an edited page restored.
* Every input and output of every resource and function of the package schema is on its page
  under each language's own spelling (computed here, independently of the generator); every
  attribute of every Terraform data source (nested objects' too) in its group; every flag
  ``--help`` lists, in its command's section.
* A read that only exists in the descriptions (a function or data source added to the schema)
  gets its page: the generator knows no read by name.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from provider import reference
from provider.cli import _parser
from provider.plugin.schema import package_schema
from provider.reads import READS, READS_BY_NAME
from provider.reference import pulumi, python_sdk, terraform
from provider.terraform.schema_json import schema_json
from tests.conftest import PROJECT_DIR, run_make

DOCS = PROJECT_DIR / "docs"


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return reference.render()


def committed() -> dict[str, str]:
    return {
        p.relative_to(DOCS).as_posix(): p.read_text("utf-8")
        for p in sorted(DOCS.rglob("*"))
        if p.is_file()
    }


def test_the_committed_docs_are_exactly_what_make_docs_writes(rendered: dict[str, str]) -> None:
    on_disk = committed()
    stale = sorted(p for p in rendered if on_disk.get(p) != rendered[p])
    extra = sorted(set(on_disk) - set(rendered))
    assert not stale and not extra, (
        f"docs/ is out of date (run make docs and commit): differs {stale}, not generated {extra}"
    )


def test_rendering_twice_gives_the_same_bytes(rendered: dict[str, str]) -> None:
    assert reference.render() == rendered


def test_make_docs_is_idempotent_and_removes_pages_no_longer_generated(tmp_path: Path) -> None:
    out = tmp_path / "docs"
    first = run_make("docs", f"DOCS={out}", timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert f"{len(files)} files, {len(files)} changed" in first.stdout
    again = run_make("docs", f"DOCS={out}", timeout=120)
    assert f"{len(files)} files, 0 changed" in again.stdout, again.stdout + again.stderr
    gone = out / "terraform" / "data-sources" / "gone.md"
    gone.write_text("a read that was removed\n")
    (out / "cli.md").write_text("edited by hand\n")
    third = run_make("docs", f"DOCS={out}", timeout=120)
    assert not gone.exists()
    assert "removed" in third.stdout and f"wrote {out / 'cli.md'}" in third.stdout
    assert (out / "cli.md").read_text() == (DOCS / "cli.md").read_text()


# -- every Pulumi input and output, in each language --------------------------------------------


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def spellings(name: str) -> dict[str, str]:
    """What each language's cell must start (or, for C#, end) with."""
    pascal = name[0].upper() + name[1:]
    return {
        "python": f"`{_snake(name)}: ",
        "typescript": f"`{name}",
        "go": f"`{pascal} ",
        "csharp": f" {pascal}`",
        "yaml": f"`{name}: ",
    }


def _section(page: str, start: str, end: str | None) -> str:
    assert start in page, f"no {start!r} section"
    body = page.split(start, 1)[1]
    return body.split(end, 1)[0] if end and end in body else body


def _property_row(section: str, name: str) -> list[str]:
    match = re.search(rf"^#### {re.escape(name)}\n\n[^\n]*\n[^\n]*\n([^\n]*)\n", section, re.M)
    assert match, f"property {name} is not in the section"
    return [c.strip() for c in match.group(1).strip("|").split(" | ")]


def assert_properties(section: str, props: Mapping[str, Any]) -> None:
    for name, spec in props.items():
        cells = _property_row(section, name)
        expected = spellings(name)
        assert cells[0].startswith(expected["python"]), (name, cells)
        assert re.match(rf"{re.escape(expected['typescript'])}\??: ", cells[1]), (name, cells)
        assert cells[2].startswith(expected["go"]), (name, cells)
        assert cells[3].endswith(expected["csharp"]), (name, cells)
        assert cells[4].startswith(expected["yaml"]), (name, cells)
        if spec.get("type") == "string":
            assert cells[0].endswith(": str`") and cells[1].endswith("string`"), cells
        if spec.get("description"):
            assert " ".join(spec["description"].split()) in section


def test_every_resource_input_and_output_is_on_its_page_in_every_language(
    rendered: dict[str, str],
) -> None:
    schema = package_schema()
    assert schema["resources"]
    for token, spec in schema["resources"].items():
        page = rendered[f"pulumi/api-docs/{token.rsplit(':', 1)[1].lower()}.md"]
        assert_properties(_section(page, "### Inputs", "### Outputs"), spec["inputProperties"])
        assert_properties(_section(page, "### Outputs", "\n## "), spec["properties"])


def test_every_function_argument_and_result_is_on_its_page_in_every_language(
    rendered: dict[str, str],
) -> None:
    schema = package_schema()
    assert schema["functions"]
    for token, spec in schema["functions"].items():
        name = token.rsplit(":", 1)[1]
        page = rendered[f"pulumi/api-docs/{name.lower()}.md"]
        assert_properties(_section(page, "## Arguments", "\n## "), spec["inputs"]["properties"])
        result = _section(page, f"## {name} Result", "\n## ")
        assert_properties(result, spec["outputs"]["properties"])
        for language in ("python", "typescript", "go", "csharp", "yaml"):
            assert f"```{language}" in page, f"{name}: no {language} example"


def test_every_object_type_is_under_supporting_types_with_every_property(
    rendered: dict[str, str],
) -> None:
    schema = package_schema()
    supporting = [
        _section(page, "## Supporting Types", "## Package Details")
        for path, page in rendered.items()
        if path.startswith("pulumi/api-docs/") and "## Supporting Types" in page
    ]
    for token, spec in schema["types"].items():
        heading = f"### {token.rsplit(':', 1)[1]}\n"
        found = [section for section in supporting if heading in section]
        assert found, f"{token} is on no page"
        assert_properties(_section(found[0], heading, "\n### "), spec["properties"])


def test_go_names_a_function_lookup_when_a_resource_takes_get(rendered: dict[str, str]) -> None:
    # Pulumi's Go generator: getX becomes LookupX when a resource X exists (GetX is its lookup).
    page = rendered["pulumi/api-docs/getchaindeployment.md"]
    assert "baseten.LookupChainDeployment(ctx, &baseten.LookupChainDeploymentArgs{" in page


def test_every_configuration_variable_is_in_installation_and_configuration(
    rendered: dict[str, str],
) -> None:
    page = rendered["pulumi/installation-configuration.md"]
    schema = package_schema()
    for name in schema["config"]["variables"]:
        assert f"| `baseten:{name}` |" in page
    assert_properties(page, schema["provider"]["inputProperties"])


# -- every Terraform attribute ---------------------------------------------------------------


def _members(cty: Any) -> dict[str, Any] | None:
    while isinstance(cty, list):
        if cty[0] == "object":
            return dict(cty[1])
        cty = cty[1]
    return None


def _nested(path: str, attributes: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(nested-schema path, attribute name, cty type) of every object member, at any depth."""
    for name, cty in attributes.items():
        members = _members(cty)
        if members is not None:
            inner = f"{path}.{name}" if path else name
            for member, member_type in members.items():
                yield inner, member, member_type
            yield from _nested(inner, members)


def test_every_terraform_attribute_is_in_its_group_and_every_nested_member_too(
    rendered: dict[str, str],
) -> None:
    (address, provider), *_ = schema_json()["provider_schemas"].items()
    prefix = address.rsplit("/", 1)[1] + "_"
    assert provider["data_source_schemas"]
    pages = {"index.md": provider["provider"]} | {
        f"data-sources/{name.removeprefix(prefix)}.md": schema
        for name, schema in provider["data_source_schemas"].items()
    }
    for path, schema in pages.items():
        page = rendered[f"terraform/{path}"]
        attributes = schema["block"]["attributes"]
        for name, attribute in attributes.items():
            group = (
                "Required"
                if attribute.get("required")
                else "Optional"
                if attribute.get("optional")
                else "Read-Only"
            )
            assert f"- `{name}` (" in _section(page, f"### {group}\n", "\n### "), (path, name)
        types = {name: a["type"] for name, a in attributes.items()}
        for nested_path, member, _ in _nested("", types):
            section = _section(page, f"### Nested Schema for `{nested_path}`\n", "\n### ")
            assert f"- `{member}` (" in section, (path, nested_path, member)
        if path != "index.md":
            assert f'data "{prefix}{path[13:-3]}" "example" {{' in page


# -- every flag of the command line ----------------------------------------------------------


def test_every_flag_and_argument_help_lists_is_in_its_commands_section(
    rendered: dict[str, str],
) -> None:
    page = rendered["cli.md"]
    # The subcommands as the top-level --help lists them: "    get   show a chain ...".
    names = re.findall(r"^    ([a-z][\w-]*)  ", _parser().format_help(), re.M)
    assert names
    for name in names:
        helptext = subprocess.run(
            [sys.executable, "-m", "provider", name, "--help"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env={"COLUMNS": "200", "PATH": ""},
        ).stdout
        section = _section(page, f"## baseten-chains {name}\n", "\n## baseten-chains ")
        # The invocations of the options: "  --environment NAME, -e NAME   e.g. production".
        invocations = re.findall(r"^  (-\S.*?)(?:\s{2,}|$)", helptext, re.M)
        flags = {f for line in invocations for f in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", line)}
        flags -= {"-h", "--help"}
        assert flags
        for flag in flags:
            assert f"`{flag}" in section, f"{name}: {flag} is not in docs/cli.md"
        positionals = helptext.split("positional arguments:\n", 1)[-1].split("\n\n")[0]
        for metavar in re.findall(r"^  ([A-Z][A-Z_]+)", positionals, re.M):
            assert f"`{metavar}`" in section, f"{name}: {metavar} is not in docs/cli.md"
    assert "exit codes:" in page


# -- a read known only from the descriptions -------------------------------------------------


def test_a_function_and_data_source_only_in_the_schema_get_their_pages() -> None:
    schema = package_schema()
    function = copy.deepcopy(schema["functions"]["baseten:index:getChainDeployment"])
    function["inputs"]["properties"]["releaseTrain"] = {"type": "string", "description": "A."}
    schema["functions"]["baseten:index:getReleaseTrain"] = function
    page = pulumi.pages(schema)["api-docs/getreleasetrain.md"]
    assert "`release_train: str`" in page and "`ReleaseTrain string`" in page
    assert "baseten.GetReleaseTrain(ctx, &baseten.GetReleaseTrainArgs{" in page

    document = schema_json()
    provider = next(iter(document["provider_schemas"].values()))
    source = copy.deepcopy(provider["data_source_schemas"]["baseten_chain"])
    source["block"]["attributes"]["train"] = {"type": "string", "computed": True}
    provider["data_source_schemas"]["baseten_release_train"] = source
    tf_page = terraform.pages(document, "0.0.0")["data-sources/release_train.md"]
    assert "- `train` (String)" in tf_page
    assert (
        "[baseten_release_train](data-sources/release_train.md)"
        in terraform.pages(document, "0.0.0")["index.md"]
    )


# -- links ---------------------------------------------------------------------------------------

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_CODE = re.compile(r"^```.*?^```", re.M | re.S)


def _anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page: one per heading (a repeated one numbered), and every
    ``<a id="...">``."""
    found: set[str] = set(re.findall(r'<a id="([^"]+)"></a>', text))
    for heading in re.findall(r"^#+ (.+)$", _CODE.sub("", text), re.M):
        base = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slug, n = base, 0
        while slug in found:
            n += 1
            slug = f"{base}-{n}"
        found.add(slug)
    return found


def test_every_relative_link_of_the_guides_and_the_reference_leads_somewhere() -> None:
    pages = [PROJECT_DIR / n for n in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")]
    pages = [p for p in pages if p.is_file()] + sorted(DOCS.rglob("*.md"))
    broken = []
    for page in pages:
        text = page.read_text("utf-8")
        for target in _LINK.findall(_CODE.sub("", text)):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto: - not ours to check here
            path, _, fragment = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(PROJECT_DIR)}: {target} (no such file)")
            elif (
                fragment
                and linked.suffix == ".md"
                and fragment not in _anchors(linked.read_text("utf-8"))
            ):
                broken.append(f"{page.relative_to(PROJECT_DIR)}: {target} (no such anchor)")
    assert not broken, "\n".join(broken)


# -- the README: a guide that links here -----------------------------------------------------

README_MAX_LINES = 350


def test_the_readme_is_a_users_guide_of_at_most_350_lines_linking_the_reference() -> None:
    readme = (PROJECT_DIR / "README.md").read_text("utf-8")
    assert len(readme.splitlines()) <= README_MAX_LINES
    links = set(_LINK.findall(readme))
    for target in ("docs/pulumi/_index.md", "docs/terraform/index.md", "docs/cli.md"):
        assert target in links, f"the README does not link {target}"
    assert "CONTRIBUTING.md" in links
    # The maintainers' material is in CONTRIBUTING.md, not in the guide.
    contributing = (PROJECT_DIR / "CONTRIBUTING.md").read_text("utf-8")
    for heading in ("## Layout", "## Tests", "## Benchmarks", "## The reference"):
        assert heading + "\n" in contributing and heading + "\n" not in readme
    for change in ("(a) the wait policy", "(b) an output", "(c) a policy rule", "(d) a new read"):
        assert change in contributing


def test_every_sh_block_of_the_readme_is_read_by_a_test() -> None:
    # A test runs a README command by reading it (tests/readme.py's sh_block), so that the
    # command and its test cannot drift apart; a block no test reads is a command none runs.
    readme = (PROJECT_DIR / "README.md").read_text("utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```", readme, re.M | re.S)
    keys = {
        key
        for path in (PROJECT_DIR / "tests").rglob("*.py")
        for key in re.findall(r'sh_block\(\s*"([^"]+)"', path.read_text("utf-8"))
    }
    unread = [block.splitlines()[0] for block in blocks if not any(k in block for k in keys)]
    assert blocks and not unread, f"README sh blocks that no test reads: {unread}"


# -- the typed Python functions (provider/generated_functions.py) -------------------------------

GENERATED_FUNCTIONS = PROJECT_DIR / "provider" / "generated_functions.py"


def test_the_committed_python_functions_are_exactly_what_make_docs_writes() -> None:
    assert GENERATED_FUNCTIONS.read_text("utf-8") == python_sdk.render(), (
        "provider/generated_functions.py is out of date (run make docs and commit)"
    )


def test_the_reference_entry_point_writes_the_python_functions_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "generated_functions.py"
    args = ["--output", str(tmp_path / "docs"), "--python", str(target)]
    assert reference.main(args) == 0
    assert f"wrote {target}" in capsys.readouterr().out
    assert target.read_text("utf-8") == GENERATED_FUNCTIONS.read_text("utf-8")
    assert reference.main(args) == 0
    assert f"wrote {target}" not in capsys.readouterr().out


def test_a_read_added_to_the_catalog_gets_typed_functions_and_result() -> None:
    extra = replace(READS_BY_NAME["chain"], name="chain_twin")
    source = python_sdk.render((*READS, extra))
    assert "class GetChainTwinResult(ReadResult):" in source
    assert 'read = READS_BY_NAME["chain_twin"]' in source
    assert "def get_chain_twin(\n    chain_id: str | None = None," in source
    assert ") -> pulumi.Output[GetChainTwinResult]:" in source


TYPED_PROGRAM = """\
from provider import get_chain_environments
from provider.functions import get_chain, get_chain_deployment, get_chain_output

reveal_type(get_chain(chain_id="c").name)
reveal_type(get_chain(chain_name="n").deployments_count)
reveal_type(get_chain_deployment(chain_id="c", environment="production").chainlets)
reveal_type(get_chain_deployment(chain_id="c", environment="production").deployment)
reveal_type(get_chain_output(chain_id="c"))
get_chain(chain_id=1)
get_chain(chain_id="c", api_key=2)
reveal_type(get_chain_environments(chain_id="c").deployment_ids)
"""


def test_mypy_sees_every_functions_argument_and_result_type(tmp_path: Path) -> None:
    program = tmp_path / "typed_program.py"
    program.write_text(TYPED_PROGRAM)
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--follow-imports=silent",
            f"--cache-dir={tmp_path / 'cache'}",
            "--no-error-summary",
            str(program),
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line.split(": ", 1)[1] for line in checked.stdout.splitlines() if ": " in line]
    assert lines == [
        'note: Revealed type is "str"',
        'note: Revealed type is "int | None"',
        'note: Revealed type is "typing.Sequence[typing.Mapping[str, Any]]"',
        'note: Revealed type is "provider.models.ChainDeployment"',
        'note: Revealed type is "pulumi.output.Output['
        'provider.generated_functions.GetChainResult]"',
        'error: Argument "chain_id" to "get_chain" has incompatible type "int"; '
        'expected "str | None"  [arg-type]',
        'error: Argument "api_key" to "get_chain" has incompatible type "int"; '
        'expected "str | None"  [arg-type]',
        'note: Revealed type is "typing.Mapping[str, str]"',
    ], checked.stdout + checked.stderr
