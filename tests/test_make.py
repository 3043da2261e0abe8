"""The README's ``make`` targets that install nothing and are cheap, run for real: ``make
terraformrc`` in the clone, ``make clean`` and the Python version check in a copy of the
Makefile (never on the clone: clean would remove the .venv running these tests).

Run elsewhere: ``make demo`` (tests/test_programs.py), ``make tf-plan`` (tests/test_terraform.py),
``make dist`` (tests/install, the wheel every install path uses), ``make fuzz`` (here, on one
front end with few examples: the scorecard runs the same suite); ``make test``,
``make install-check``, ``make scorecard`` and ``make bench-quick`` are what CI (.ci/run) runs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from provider.terraform import cliconfig
from tests.conftest import PROJECT_DIR, run_make
from tests.readme import README, sh_block

STAMP_INPUTS = ("Makefile", "requirements.txt", "requirements-dev.txt", "pyproject.toml")


def make_in_copy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in a folder holding a copy of the Makefile and what its install reads."""
    for name in STAMP_INPUTS:
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not on PATH")
    return subprocess.run(
        [make, "--no-print-directory", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_make_clean_removes_the_venv_build_dist_and_the_caches(tmp_path: Path) -> None:
    removed = [
        ".venv/bin/python",
        ".pytest_cache/v",
        ".mypy_cache/3.11",
        ".ruff_cache/0",
        "build/install.log",
        "dist/pulumi_baseten_chains-0.1.0-py3-none-any.whl",
        "pulumi_baseten_chains.egg-info/PKG-INFO",
    ]
    kept = ["README.md", "provider/__init__.py", "examples/terraform/main.tf"]
    for name in removed + kept:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")

    result = make_in_copy(tmp_path, "clean")

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*STAMP_INPUTS, "README.md", "provider", "examples"]
    )
    assert all((tmp_path / name).is_file() for name in kept)


def test_an_old_python_is_refused_in_one_line_naming_the_fix(tmp_path: Path) -> None:
    # `make demo PYTHON=python3.11` picks another one; this one is too old.
    old = tmp_path / "bin" / "python3.10"
    old.parent.mkdir()
    old.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && { echo "Python 3.10.13"; exit 0; }\nexit 1\n'
    )
    old.chmod(0o755)

    result = make_in_copy(tmp_path, "demo", f"PYTHON={old}")

    assert result.returncode != 0
    assert result.stdout == (
        f"error: Python >= 3.11 is needed; '{old}' is Python 3.10.13. "
        "Try: make demo PYTHON=python3.11\n"
    )
    assert not (tmp_path / ".venv").exists() and not (tmp_path / "build").exists()


def test_a_missing_python_is_refused_in_one_line(tmp_path: Path) -> None:
    result = make_in_copy(tmp_path, "demo", "PYTHON=no-such-python3")

    assert result.returncode != 0
    assert result.stdout == (
        "error: Python >= 3.11 is needed; 'no-such-python3' is missing. "
        "Try: make demo PYTHON=python3.11\n"
    )


def test_make_terraformrc_writes_build_terraformrc_serving_the_venvs_provider() -> None:
    result = run_make("terraformrc")

    assert result.returncode == 0, result.stdout + result.stderr
    written = (PROJECT_DIR / "build" / "terraformrc").read_text()
    assert written == cliconfig.render(cliconfig.find_plugin_dir())
    assert f'"{cliconfig.PROVIDER_ADDRESS}" = "' in written
    readme = " ".join(README.read_text().split())
    assert "`make terraformrc` writes the same file for `.venv` as `build/terraformrc`" in readme


def test_make_fuzz_runs_the_fuzz_suite_with_the_examples_and_front_ends_asked_for() -> None:
    result = run_make("fuzz", "FUZZ_EXAMPLES=2", "FUZZ_ARGS=-k library", timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    # The suite's own summary: a line per front end that ran, with its cases and invariants.
    ran = [line.split()[0] for line in result.stdout.splitlines() if " cases: " in line]
    assert ran == ["library"], result.stdout
    assert "3 passed" in result.stdout


def test_the_readmes_test_command_is_the_one_ci_runs() -> None:
    # Running `make test` from inside the suite would recurse: CI runs it (.ci/run), and this
    # test keeps the README's command and CI's the same.
    (command,) = sh_block("make test")
    assert command.argv == ["make", "test"]
    ci = (PROJECT_DIR / ".ci" / "run").read_text("utf-8").splitlines()
    assert any(line.split("#")[0].split() == command.argv for line in ci)
