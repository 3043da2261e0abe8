"""The README's install paths, each run as its audience would: in a fresh folder outside the
repository, with a fresh virtualenv, from the wheel ``make dist`` builds (or a path or git URL).

What is tested is *our* packaging: the distribution's metadata, its console scripts, and
``import provider`` from outside the clone. To stay fast, the fresh virtualenvs do not download
the dependencies again (:mod:`tests.install.common`). Everything else is the README's commands,
run with the fresh virtualenv's Python in the fresh folder. How the Pulumi engine installs the
plugin is in ``test_plugin_install.py``.

Run by ``make install-check`` (``.ci/run`` does), not ``make test``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from provider import __version__ as VERSION
from provider.emulator import Emulator
from tests.conftest import TEST_KEY
from tests.install.common import REPO, fresh_venv, imported_from, pip_install, run
from tests.readme import README, sh_block
from tests.test_terraform import init_env, require_terraform, write_standin

CHAIN = "ch7k2p9q"


@pytest.fixture
def emulator_process(folder: Path, shared: Path, wheel: Path) -> Iterator[tuple[Path, str]]:
    """A fresh virtualenv with the wheel, and ``python -m provider.emulator`` started from it."""
    python = fresh_venv(folder / "venv", shared)
    pip_install(python, folder, str(wheel))
    with subprocess.Popen(
        [python, "-m", "provider.emulator", "--port", "0"],
        cwd=folder,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            match = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
            assert match, "the emulator did not print its URL"
            yield python, match.group(0)
        finally:
            process.terminate()
            process.wait(timeout=10)


# -- the package itself ---------------------------------------------------------------------


def test_make_dist_builds_a_wheel_and_an_sdist_with_the_license(dist: Path, wheel: Path) -> None:
    # The file the README names, at this version.
    assert f"`make dist` builds `dist/{wheel.name}`" in " ".join(README.read_text().split())
    assert wheel.name == f"pulumi_baseten_chains-{VERSION}-py3-none-any.whl"
    assert len(list(dist.glob("pulumi_baseten_chains-*.tar.gz"))) == 1
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        scripts = archive.read(next(n for n in names if n.endswith("entry_points.txt")))
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert b"License-Expression: Apache-2.0" in metadata
    assert b"baseten-chains = provider.cli:main" in scripts
    assert not any(n.startswith("tests/") for n in names)


def test_a_failed_make_install_says_so_shows_its_log_and_removes_the_venv(folder: Path) -> None:
    # README: the install prints one line, pip's output goes to build/install.log, printed only
    # if the install fails, and a failed install removes .venv. Here pip cannot find a
    # requirement (no index: nothing is downloaded).
    for name in ("Makefile", "requirements.txt", "pyproject.toml"):
        shutil.copy(REPO / name, folder / name)
    (folder / "requirements-dev.txt").write_text("no-such-requirement-for-this-test==1\n")
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    make = ["make", "--no-print-directory", "demo", f"PYTHON={sys.executable}"]
    result = run(make, cwd=folder, env=env, check=False)
    assert result.returncode != 0
    lines = result.stdout.splitlines()
    readme = " ".join(README.read_text().split())
    assert f"The install prints one line, `{lines[0]}`" in readme
    assert lines[0] == "installing into .venv (first run takes a minute; log: build/install.log)..."
    log = (folder / "build" / "install.log").read_text()
    assert "no-such-requirement-for-this-test" in log and log.strip() in result.stdout
    assert lines[-1] == (
        "error: installing into .venv failed (log above, and in build/install.log); "
        ".venv was removed"
    )
    assert not (folder / ".venv").exists()


# -- 1. a Python Pulumi program -------------------------------------------------------------


def _requirement(kind: str, wheel: Path) -> str:
    if kind == "wheel":
        # The README's own line (its `echo ... > requirements.txt`), naming the wheel built here.
        (echo,) = [c for c in sh_block("cd my-stack") if c.startswith("echo")]
        placeholder = f"file:///path/to/pulumi_baseten_chains-{VERSION}-py3-none-any.whl"
        assert echo.argv[2:] == [">", "requirements.txt"] and placeholder in echo.argv[1]
        return echo.argv[1].replace(placeholder, wheel.as_uri())
    if kind == "path":
        return f"pulumi-baseten-chains @ {REPO.as_uri()}"
    # The README's git line: at a commit, which needs no tag.
    (line,) = re.findall(r"or: (pulumi-baseten-chains @ git\+\S+@<commit>)", README.read_text())
    commit = run(["git", "rev-parse", "HEAD"], cwd=REPO).stdout.strip()
    return line.replace("https://<your-git-host>/pulumi-baseten-chains", REPO.as_uri()).replace(
        "<commit>", commit
    )


@pytest.mark.parametrize("kind", ["wheel", "path", "git"])
def test_a_pulumi_program_installs_the_package_from_a_requirements_line(
    kind: str, folder: Path, shared: Path, wheel: Path, emulator: Emulator
) -> None:
    stack = folder / "my-stack"
    stack.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / "examples" / "gate-downstream" / name, stack / name)
    (stack / "requirements.txt").write_text(_requirement(kind, wheel) + "\n")
    python = fresh_venv(stack / "venv", shared)
    pip_install(python, stack, "-r", "requirements.txt")
    assert (stack / "venv") in imported_from(python, stack).parents

    # The offline kit, from the installed package: the program as `pulumi up` would run it.
    script = (
        "import json, sys\n"
        "from provider.testing import run_program\n"
        "config = {'baseten:apiKey': sys.argv[1], 'baseten:apiUrl': sys.argv[2],\n"
        "          'chain-gate-downstream:chainId': 'ch7k2p9q',\n"
        "          'chain-gate-downstream:chainDeploymentId': 'dp3m8x1v'}\n"
        "print(json.dumps(run_program('.', config=config).outputs))\n"
    )
    out = run([python, "-c", script, TEST_KEY, emulator.url], cwd=stack).stdout
    outputs = json.loads(out.splitlines()[-1])
    assert outputs["status"] == "ACTIVE"
    assert (stack / "build" / "gateway-route.json").is_file()  # the Pulumi.yaml default


def test_a_local_provider_py_shadows_the_package_with_an_error_naming_it(
    folder: Path, shared: Path, wheel: Path
) -> None:
    python = fresh_venv(folder / "venv", shared)
    pip_install(python, folder, str(wheel))
    (folder / "provider.py").write_text("# a tutorial's dynamic provider\n")
    result = run([python, "-c", "from provider import ChainDeployment"], cwd=folder, check=False)
    assert result.returncode == 1
    assert "cannot import name 'ChainDeployment' from 'provider'" in result.stderr
    assert str(folder / "provider.py") in result.stderr


@pytest.mark.parametrize(
    "example",
    [
        # Not baseten-plugin: like the engine, it installs from its own folder (see
        # test_plugin_install.py).
        "gate-downstream",
        "lookup-by-environment",
        "outputs-per-chainlet",
        "policy-pack",
    ],
)
def test_an_examples_requirements_install_from_any_working_directory(
    example: str, folder: Path, shared: Path, wheel: Path
) -> None:
    # The clone's layout: examples/<name>/requirements.txt and the wheel in dist/.
    clone = folder / "clone"
    (clone / "examples" / example).mkdir(parents=True)
    shutil.copy(REPO / "examples" / example / "requirements.txt", clone / "examples" / example)
    (clone / "dist").mkdir()
    shutil.copy(wheel, clone / "dist")
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    python = fresh_venv(folder / "venv", shared)
    pip_install(python, elsewhere, "-r", str(clone / "examples" / example / "requirements.txt"))
    assert (folder / "venv") in imported_from(python, elsewhere).parents


# -- 2. the native plugin, for programs in other languages ----------------------------------


def test_the_native_plugin_is_on_the_virtualenvs_path_after_install(
    folder: Path, shared: Path, wheel: Path
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        scripts = archive.read(
            next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        ).decode()
    if "pulumi-resource-baseten" not in scripts:
        pytest.skip("pulumi-resource-baseten is not a console script of this version yet")
    python = fresh_venv(folder / "venv", shared)
    pip_install(python, folder, str(wheel))
    # Pulumi finds plugins on PATH (an activated virtualenv's bin), or at plugins.providers.path.
    assert (python.parent / "pulumi-resource-baseten").is_file()


# -- 3. Terraform ---------------------------------------------------------------------------


def test_terraform_init_and_apply_use_the_installed_provider_from_the_mirror(
    folder: Path, shared: Path, wheel: Path, emulator: Emulator
) -> None:
    # README, Terraform, "To use it for real": the block's commands, in the configuration folder.
    make_venv, install, write_mirror, export, init, apply = sh_block("provider.terraform.mirror")
    require_terraform({"PATH": os.environ.get("PATH", "")})
    infra = folder / "infra"
    shutil.copytree(REPO / "examples" / "terraform" / "init", infra)
    # README, "Releases and pinning": the version pinned in required_providers, which the
    # mirror entry must satisfy.
    (source, version) = re.findall(
        r'baseten-chains = \{ source = "([^"]+)", version = "([^"]+)" \}', README.read_text()
    )[0]
    assert version == VERSION
    main_tf = infra / "main.tf"
    pinned = main_tf.read_text().replace(
        f'source = "{source}"', f'source = "{source}"\n      version = "{version}"'
    )
    assert pinned != main_tf.read_text()
    main_tf.write_text(pinned)
    assert make_venv.argv == ["python", "-m", "venv", "venv"]
    python = fresh_venv(infra / "venv", shared)  # the same, sharing the dependencies
    readme_wheel = f"file:///path/to/pulumi_baseten_chains-{VERSION}-py3-none-any.whl"
    install = install.resolve(str(python), {readme_wheel: wheel.as_uri()})
    assert install.argv[1:4] == ["-m", "pip", "install"] and wheel.as_uri() in install.argv[-1]
    no_check = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    run(install.argv, cwd=infra, env=no_check)
    made = run(write_mirror.resolve(str(python)).argv, cwd=infra)
    assert made.stdout.splitlines()[-1] == "local.invalid/pulumi-baseten-chains/baseten"
    (entry,) = (infra / "terraform.d" / "plugins" / "local.invalid").rglob("terraform-provider-*")
    assert str(python) in entry.read_text()  # the fresh virtualenv's, not the repository's
    write_standin(infra / "terraform.d" / "plugins")
    home = folder / "home"
    home.mkdir()
    assert export.export and set(export.env) == {"BASETEN_API_KEY"}
    env = init_env(home, emulator)  # BASETEN_API_KEY exported, registries out of reach
    assert (init.argv, apply.argv) == (["terraform", "init"], ["terraform", "apply"])
    run([*init.argv, "-input=false", "-no-color"], cwd=infra, env=env)
    # -auto-approve answers apply's "yes" prompt, which a test cannot type.
    applied = run([*apply.argv, "-auto-approve", "-no-color"], cwd=infra, env=env)
    assert 'chain_deployment_id = "dp3m8x1v"' in applied.stdout
    lock = (infra / ".terraform.lock.hcl").read_text()
    # What the README says the lock file records: the version chosen, the pin, the checksums.
    entry = lock[lock.index('provider "local.invalid/pulumi-baseten-chains/baseten"') :]
    entry = entry[: entry.index("}")]
    assert re.search(rf'version\s+= "{re.escape(VERSION)}"', entry), entry
    assert re.search(rf'constraints\s+= "{re.escape(VERSION)}"', entry), entry
    assert "hashes" in entry


def test_without_the_terraform_extra_the_plugin_names_it_in_one_line(
    folder: Path, shared_without_tf: Path, wheel: Path
) -> None:
    python = fresh_venv(folder / "venv", shared_without_tf)
    pip_install(python, folder, str(wheel))
    result = run([python.parent / "terraform-provider-baseten"], cwd=folder, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "pip install 'pulumi-baseten-chains[terraform]'" in result.stderr


# -- 4. a CI policy check -------------------------------------------------------------------


def test_a_ci_policy_check_runs_against_the_emulator_started_from_the_package(
    folder: Path, emulator_process: tuple[Path, str]
) -> None:
    python, url = emulator_process
    env = {
        **dict(os.environ),
        "BASETEN_API_URL": url,
        "BASETEN_API_KEY": "emulator-key",
    }
    script = python.parent / "baseten-chains"
    usage = run([script, "--help"], cwd=folder).stdout
    assert usage.startswith("usage: baseten-chains ")
    passed = run([script, "check", CHAIN, "--environment", "production"], cwd=folder, env=env)
    assert "deployment-active" in passed.stdout
    failed = run(
        [python, "-m", "provider", "check", CHAIN, "-e", "production", "--max-replica", "1"],
        cwd=folder,
        env=env,
        check=False,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "max_replica is" in failed.stdout
