"""The console scripts behave like programs: ``--help`` and ``--version`` print and exit 0 (the
engine's and terraform's start-up arguments are tested with each front end); and the plugin,
started without an engine address, serves once the engine sends it with ``Attach``, as
``PULUMI_DEBUG_PROVIDERS=baseten:PORT`` does (pulumi/pulumi
``sdk/go/common/resource/plugin/provider_plugin.go``, ``NewProvider``: dial the port, Handshake,
then ``Attach(host.ServerAddr())``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.proto import plugin_pb2

from provider import __version__
from provider.emulator import Emulator
from tests.conftest import TEST_KEY
from tests.engine_steps import load_and_create
from tests.plugin_engine import SCRIPT, PluginProcess, RecordingEngine, urn_of

BIN = Path(sys.executable).parent
SCRIPTS = ("pulumi-resource-baseten", "baseten-chains", "terraform-provider-baseten")
# Generous: a loaded machine starts Python slowly; what matters is that it exits by itself.
TIMEOUT = 60.0
NO_API_ENV: dict[str, str | None] = {"BASETEN_API_KEY": None, "BASETEN_API_URL": None}


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize("name", SCRIPTS)
def test_version_prints_the_package_version_and_exits_0(name: str) -> None:
    result = run_script(name, "--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{name} {__version__}\n", "")


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_prints_usage_and_exits_0(name: str) -> None:
    result = run_script(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {name} ")
    assert "--version" in result.stdout


class UnattachedPlugin(PluginProcess):
    """The console script started with no arguments at all: no engine address."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", flags=(), **kwargs)
        self.argv = [str(SCRIPT)]


def attach(plugin: PluginProcess, address: str) -> None:
    plugin.call("Attach", plugin_pb2.PluginAttach(address=address))


def test_started_without_an_engine_the_plugin_serves_after_the_engines_attach(
    emulator: Emulator,
) -> None:
    with RecordingEngine() as engine, UnattachedPlugin(env=NO_API_ENV) as plugin:
        assert plugin.port is not None  # it printed its port
        # The engine's order when attaching: Handshake (naming itself), then Attach.
        plugin.handshake(engine.address)
        attach(plugin, engine.address)
        created = load_and_create(plugin, engine.address, emulator.url, TEST_KEY)
        assert created["properties"]["status"] == "ACTIVE"
        assert plugin.errors == []


def test_attach_alone_tells_the_plugin_where_the_engine_logs(emulator: Emulator) -> None:
    # An engine that does not Handshake (it is optional) names itself only in Attach: the
    # plugin's progress must still reach that engine's log.
    with RecordingEngine() as engine, UnattachedPlugin(env=NO_API_ENV) as plugin:
        attach(plugin, engine.address)
        created = load_and_create(plugin, "", emulator.url, TEST_KEY)
        assert created["properties"]["status"] == "ACTIVE"
        assert engine.lines_for(urn_of("gate")), "nothing reached the engine's log"
