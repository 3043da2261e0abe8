"""The plugin's examples: the source-plugin folder and the Pulumi YAML program.

No Pulumi CLI runs here, so the YAML program is checked against the schema the plugin serves
(every type, function, property and output it names must be declared), and the source plugin
is started the way the Python language runtime starts one: ``python <folder> [flags]
ENGINE_ADDRESS``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from provider.plugin.schema import FUNCTION_TOKEN, RESOURCE_TOKEN, package_schema
from tests.plugin_engine import PluginProcess, RecordingEngine

ROOT = Path(__file__).resolve().parents[1]
SOURCE_PLUGIN = ROOT / "examples" / "baseten-plugin"
PROGRAM = ROOT / "examples" / "yaml" / "Pulumi.yaml"
SCHEMA = package_schema()


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def test_the_source_plugin_folder_is_a_python_plugin_built_from_this_package() -> None:
    plugin = load(SOURCE_PLUGIN / "PulumiPlugin.yaml")
    assert plugin["runtime"]["name"] == "python"
    requirements = (SOURCE_PLUGIN / "requirements.txt").read_text().splitlines()
    # This clone, from the plugin's folder (the engine's working directory for pip): no wheel
    # to build first, so a git URL of the repository installs too (tests/install).
    assert [line for line in requirements if not line.startswith("#")] == ["../.."]
    assert (SOURCE_PLUGIN / "__main__.py").is_file()


def test_the_source_plugin_runs_as_the_python_runtime_starts_it() -> None:
    with (
        RecordingEngine() as engine,
        PluginProcess(
            engine.address, command=(sys.executable, str(SOURCE_PLUGIN)), flags=("-v=9",)
        ) as plugin,
    ):
        assert re.fullmatch(rb"\d+\n", plugin.first_line)
        assert plugin.plugin_info() == SCHEMA["version"]
        assert json.loads(plugin.schema())["name"] == "baseten"


def test_the_yaml_program_names_the_plugin_folder() -> None:
    program = load(PROGRAM)
    assert program["runtime"] == "yaml"
    providers = program["plugins"]["providers"]
    assert [p["name"] for p in providers] == ["baseten"]
    folder = (PROGRAM.parent / providers[0]["path"]).resolve()
    assert folder == SOURCE_PLUGIN.resolve()


def test_the_yaml_program_uses_only_what_the_schema_declares() -> None:
    program = load(PROGRAM)
    resource = SCHEMA["resources"][RESOURCE_TOKEN]
    function = SCHEMA["functions"][FUNCTION_TOKEN]
    resources = program["resources"]
    for name, spec in resources.items():
        assert spec["type"] == RESOURCE_TOKEN, name
        assert set(spec["properties"]) <= set(resource["inputProperties"]), name
        assert set(resource["requiredInputs"]) <= set(spec["properties"]), name
    invokes = {
        name: value["fn::invoke"]
        for name, value in program["variables"].items()
        if isinstance(value, dict) and "fn::invoke" in value
    }
    assert invokes
    for name, call in invokes.items():
        assert call["function"] == FUNCTION_TOKEN, name
        assert set(call["arguments"]) <= set(function["inputs"]["properties"]), name
    # The downstream resource waits for the gated one.
    gated = [n for n, s in resources.items() if s["properties"].get("waitFor") != []]
    waiting = [
        n
        for n, s in resources.items()
        if f"${{{gated[0]}}}" in s.get("options", {}).get("dependsOn", [])
    ]
    assert gated and waiting
    # Every output reads a declared output of a resource or of the invoke's result.
    for name, expression in program["outputs"].items():
        found = re.fullmatch(r"\$\{(\w+)\.(\w+)(.*)\}", expression)
        assert found, name
        source, first, rest = found.groups()
        assert source in resources or source in invokes, name
        assert first in resource["properties"], name
        for field in re.findall(r"\.(\w+)", rest):
            assert any(field in t["properties"] for t in SCHEMA["types"].values()), (name, field)
