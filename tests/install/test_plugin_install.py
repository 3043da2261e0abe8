"""Each way the Pulumi engine gets the ``baseten`` plugin, done step by step as the engine's
source does it (pulumi/pulumi; the file each step follows is named there: there is no Pulumi
CLI on these machines), from a scratch ``HOME``/``PULUMI_HOME`` and a scratch project folder
outside the clone, and each ending with a ``Create`` against the emulator:

* ``pulumi plugin install resource baseten VERSION --file <tarball>`` (the release's tarball);
* ``pulumi package add <git URL>/examples/baseten-plugin@<ref>`` (a tag, or a commit);
* ``plugins.providers[].path`` naming the source-plugin folder of a clone (the README's venv
  commands, as written); the console script on ``PATH`` is in ``test_install_paths.py``.

Installing a plugin's dependencies is the engine's pip toolchain, left out only where it would
download: ``pip install --upgrade pip setuptools wheel``, and the dependencies that the fresh
virtualenvs share with the repository's (:mod:`tests.install.common`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from provider import __version__ as VERSION
from provider.emulator import Emulator
from provider.release import PLATFORMS, tarball_name, wheel_name
from tests.conftest import TEST_KEY
from tests.engine_steps import load_and_create
from tests.install.common import (
    NOT_IN_A_CLONE,
    REPO,
    fresh_venv,
    make_in_a_clone,
    pip_install,
    run,
    share_packages,
)
from tests.plugin_engine import PluginProcess, RecordingEngine
from tests.readme import inline, sh_block

PLUGIN = "examples/baseten-plugin"
TARBALL_FILES = ["PulumiPlugin.yaml", "__main__.py", "requirements.txt", wheel_name()]
# The git URL the README's placeholder stands for, as the engine names its plugin folder.
GIT_HOST_URL = "https://example.invalid/org"


@dataclass
class Scratch:
    """A scratch home (``PULUMI_HOME`` inside) and a project folder, outside the clone."""

    pulumi_home: Path
    project: Path
    env: dict[str, str]

    @property
    def plugins(self) -> Path:
        # sdk/go/common/workspace/plugins.go, GetPluginDir: $PULUMI_HOME/plugins.
        return self.pulumi_home / "plugins"


@pytest.fixture
def scratch(folder: Path) -> Scratch:
    home = folder / "home"
    project = folder / "project"
    project.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: chains\nruntime: yaml\n")
    pulumi_home = home / ".pulumi"
    env = {
        **os.environ,
        "HOME": str(home),
        "PULUMI_HOME": str(pulumi_home),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return Scratch(pulumi_home, project, env)


def engine_installs_dependencies(plugin_dir: Path, shared: Path, scratch: Scratch) -> Path:
    """What ``pulumi plugin install`` and ``pulumi package add`` do once the plugin's files are
    in place (pkg/workspace/plugin.go, ``installDependenciesForPluginSpec``: the folder's
    ``PulumiPlugin.yaml``, the Python language host, ``InstallPluginAtPath``; then
    sdk/python/toolchain/pip.go, ``InstallDependencies``): ``python -m venv <dir>/venv`` (the
    ``virtualenv`` option, made absolute), then ``venv/bin/python -m pip install -r
    requirements.txt`` with the plugin's folder as working directory and the virtualenv
    activated. The virtualenv's Python."""
    project = yaml.safe_load((plugin_dir / "PulumiPlugin.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["toolchain"] == "pip"
    venv = plugin_dir / project["runtime"]["options"]["virtualenv"]
    python = fresh_venv(venv, shared)
    # toolchain.ActivateVirtualEnv: VIRTUAL_ENV set, its bin first on PATH.
    activated = {
        **scratch.env,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    run([python, "-m", "pip", "install", "-r", "requirements.txt"], cwd=plugin_dir, env=activated)
    return python


def engine_launches(plugin_dir: Path, engine: RecordingEngine, scratch: Scratch) -> PluginProcess:
    """sdk/python/cmd/pulumi-language-python/main.go, ``RunPlugin``: the folder has a
    ``__main__.py``, so ``<venv>/bin/python <plugin dir> ARGS`` in the program's folder, ARGS
    being sdk/go/common/resource/plugin/plugin.go's ``buildPluginArguments``: the flags, then the
    engine's address (the ``PluginProcess`` default)."""
    python = plugin_dir / "venv" / "bin" / "python"
    env: dict[str, str | None] = {
        **scratch.env,
        "BASETEN_API_KEY": None,
        "BASETEN_API_URL": None,
    }
    plugin = PluginProcess(engine.address, env=env, command=(str(python), str(plugin_dir)))
    plugin.cwd = scratch.project
    return plugin


def launch_and_create(plugin_dir: Path, scratch: Scratch, emulator: Emulator) -> dict[str, Any]:
    """Launch as the engine does, load the plugin, Create a gate; the schema it served."""
    with RecordingEngine() as engine, engine_launches(plugin_dir, engine, scratch) as plugin:
        assert plugin.plugin_info() == VERSION
        schema: dict[str, Any] = json.loads(plugin.schema())
        created = load_and_create(plugin, engine.address, emulator.url, TEST_KEY)
        assert created["properties"]["status"] == "ACTIVE"
        assert created["id"] == "ch7k2p9q/dp3m8x1v"
    assert schema["version"] == VERSION
    return schema


# -- make release -----------------------------------------------------------------------------


def test_make_release_writes_the_wheel_sdist_plugin_tarballs_and_their_checksums(
    dist: Path,
) -> None:
    tarballs = [tarball_name(platform) for platform in PLATFORMS]
    assert sorted(p.name for p in dist.iterdir()) == sorted(
        [wheel_name(), f"pulumi_baseten_chains-{VERSION}.tar.gz", "SHA256SUMS", *tarballs]
    )
    assert f"pulumi-resource-baseten-v{VERSION}-linux-amd64.tar.gz" in tarballs
    (check,) = inline("sha256sum -c")  # the README's command
    checked = run(check.argv, cwd=dist).stdout
    assert checked.count(": OK") == len(tarballs) + 2
    contents = {name: (dist / name).read_bytes() for name in tarballs}
    assert len(set(contents.values())) == 1, "the plugin is pure Python: one tarball, four names"
    with tarfile.open(dist / tarballs[0]) as tar:
        members = tar.getmembers()
        assert sorted(m.name for m in members) == sorted(TARBALL_FILES)  # at the root, no venv
        assert all(m.isfile() for m in members)
        requirements = tar.extractfile("requirements.txt").read().decode()  # type: ignore[union-attr]
        packed_wheel = tar.extractfile(wheel_name()).read()  # type: ignore[union-attr]
    lines = [line for line in requirements.splitlines() if not line.startswith("#")]
    assert lines == [f"./{wheel_name()}"]
    assert packed_wheel == (dist / wheel_name()).read_bytes()
    with zipfile.ZipFile(dist / wheel_name()) as archive:
        assert not any(n.endswith("download_url.txt") for n in archive.namelist())


def test_make_release_with_a_download_url_puts_it_in_the_schema_and_only_there(
    tmp_path: Path, shared: Path
) -> None:
    url = "https://example.invalid/pulumi-baseten-chains/releases"
    clone = make_in_a_clone(tmp_path, "release", f"PLUGIN_DOWNLOAD_URL={url}")
    assert not (clone / "provider" / "plugin" / "download_url.txt").exists()  # make dist: none
    python = fresh_venv(tmp_path / "venv", shared)
    pip_install(python, tmp_path, str(clone / "dist" / wheel_name()))
    script = "import json; from provider.plugin.schema import package_schema; "
    script += "print(json.dumps(package_schema()))"
    schema = json.loads(run([python, "-c", script], cwd=tmp_path).stdout)
    assert schema["pluginDownloadURL"] == url
    assert schema["version"] == VERSION


# -- pulumi plugin install --file -------------------------------------------------------------


def test_pulumi_plugin_install_from_the_tarball_then_a_create(
    dist: Path, shared: Path, scratch: Scratch, emulator: Emulator
) -> None:
    # The README's command, whose words say what the engine does.
    (command,) = sh_block("pulumi plugin install resource baseten")
    tarball = tarball_name("linux-amd64")
    assert command.argv == [
        "pulumi", "plugin", "install", "resource", "baseten", VERSION, "--file", f"dist/{tarball}"
    ]  # fmt: skip
    # pkg/cmd/pulumi/plugin/plugin_install.go: --file is the plugin's content; installed by
    # pkg/workspace/plugin.go, InstallPluginContent: pkg/pluginstorage/download.go,
    # UnpackContents, extracts the gzipped tar into PluginDescriptor.DirPath
    # (sdk/go/common/workspace/plugins.go: <plugins>/<kind>-<name>-v<version>).
    plugin_dir = scratch.plugins / f"resource-baseten-v{VERSION}"
    plugin_dir.mkdir(parents=True)
    with tarfile.open(dist / tarball) as tar:
        tar.extractall(plugin_dir, filter="data")
    engine_installs_dependencies(plugin_dir, shared, scratch)
    schema = launch_and_create(plugin_dir, scratch, emulator)
    assert "pluginDownloadURL" not in schema  # released without PLUGIN_DOWNLOAD_URL


# -- pulumi package add <git URL> ---------------------------------------------------------------


@pytest.fixture
def remote(folder: Path) -> Path:
    """The repository as a git host would serve it: the checkout's HEAD (what is committed)."""
    found = folder / "remote" / "pulumi-baseten-chains.git"
    run(["git", "clone", "--quiet", "--bare", REPO, found], cwd=folder)
    return found


def make_the_tag(remote: Path, folder: Path) -> None:
    """The README's commands that make the tag, run in a clone of ``remote``."""
    commands = sh_block("git tag v")
    assert [c.argv for c in commands] == [
        ["git", "tag", f"v{VERSION}"],
        ["git", "push", "origin", f"v{VERSION}"],
    ]
    work = folder / "maintainer"
    run(["git", "clone", "--quiet", remote.as_uri(), work], cwd=folder)
    for command in commands:
        run(command.argv, cwd=work)


@pytest.mark.parametrize("ref", ["commit", "tag"])
def test_pulumi_package_add_from_the_git_url_then_a_create(
    ref: str, remote: Path, folder: Path, shared: Path, scratch: Scratch, emulator: Emulator
) -> None:
    (command,) = inline("pulumi package add https://")
    source = command.argv[3]
    url, _, readme_ref = source.rpartition("@")
    assert command.argv[:3] == ["pulumi", "package", "add"]
    assert url == f"https://<your-git-host>/pulumi-baseten-chains/{PLUGIN}"
    assert readme_ref == "<commit>"
    commit = run(["git", "rev-parse", "HEAD"], cwd=remote).stdout.strip()
    # sdk/go/common/workspace/plugins.go, parsePluginSpecFromURL: a semver ref is a tag v<ref>;
    # a hex ref is a commit, version 0.0.0-x<hash>. PluginDescriptor.LocalName/Dir name the
    # folder after the URL with the subfolder, SubDir is the subfolder.
    if ref == "tag":
        make_the_tag(remote, folder)
        version = VERSION
    else:
        version = f"0.0.0-x{commit}"
    local_name = f"{GIT_HOST_URL}/pulumi-baseten-chains/{PLUGIN}".removeprefix("https://")
    root = scratch.plugins / f"resource-{local_name.replace('/', '_')}-v{version}"
    # gitSource.Download (plugins.go): a tag is cloned shallowly, that ref alone, no tags
    # (sdk/go/common/util/gitutil/git.go, gitCloneOrPull); a commit is cloned and checked out
    # (GitCloneAndCheckoutRevision). The clone is then tarred and unpacked into the plugin's
    # folder (InstallPluginContent): the same files, cloned straight there.
    if ref == "tag":
        run(
            ["git", "clone", "--quiet", "--depth", "1", "--branch", f"v{VERSION}",
             "--single-branch", "--no-tags", remote.as_uri(), root],
            cwd=folder,
        )  # fmt: skip
    else:
        run(["git", "clone", "--quiet", remote.as_uri(), root], cwd=folder)
        run(["git", "checkout", "--quiet", commit], cwd=root)
    assert run(["git", "rev-parse", "HEAD"], cwd=root).stdout.strip() == commit
    assert not (root / "dist").exists()  # no make dist: requirements.txt installs the clone
    plugin_dir = root / PLUGIN
    python = engine_installs_dependencies(plugin_dir, shared, scratch)
    where = run([python, "-c", "import provider; print(provider.__file__)"], cwd=folder).stdout
    assert Path(where.strip()).is_relative_to(plugin_dir / "venv")
    launch_and_create(plugin_dir, scratch, emulator)


# -- plugins.providers[].path -----------------------------------------------------------------


def test_a_clones_source_plugin_folder_installed_as_the_readme_says_then_a_create(
    folder: Path, shared: Path, scratch: Scratch, emulator: Emulator
) -> None:
    # README: the source-plugin folder's venv, made as the engine would (cd, venv, pip), then
    # named in Pulumi.yaml's plugins.providers[].path; the engine launches it as any source
    # plugin (pkg/workspace: the folder's PulumiPlugin.yaml, then RunPlugin as above).
    cd, make_venv, install = sh_block("cd examples/baseten-plugin")
    clone = folder / "clone"
    shutil.copytree(REPO, clone, ignore=NOT_IN_A_CLONE)
    assert cd.argv == ["cd", PLUGIN]
    plugin_dir = clone / cd.argv[1]
    assert make_venv.argv == ["python", "-m", "venv", "venv"]
    run(make_venv.resolve(sys.executable).argv, cwd=plugin_dir)
    share_packages(plugin_dir / "venv" / "bin" / "python", shared)
    assert install.argv == ["venv/bin/python", "-m", "pip", "install", "-r", "requirements.txt"]
    run([plugin_dir / install.argv[0], *install.argv[1:]], cwd=plugin_dir, env=scratch.env)
    launch_and_create(plugin_dir, scratch, emulator)
