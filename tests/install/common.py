"""What the install tests share: a copy of the clone, commands bounded in time, and fresh
virtualenvs that do not download the dependencies again.

A fresh virtualenv here is ``python -m venv --without-pip`` plus a ``.pth`` file that puts the
repository ``.venv``'s installed packages on its path, minus this package (so pip installs it
from the wheel, the path or the git URL under test, and nothing else); ``python -m pip`` runs
from there. Everything else is the command under test, run with the fresh virtualenv's Python
in a fresh folder outside the repository.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.conftest import run_make

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 180.0
OWN = ("pulumi_baseten_chains", "__editable__", "provider")
# What a clone holds: everything but what git ignores (environments, outputs, caches).
IGNORED = (".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")
NOT_IN_A_CLONE = shutil.ignore_patterns(*IGNORED, ".hypothesis", ".terraform", "download_url.txt")


def run(
    args: Sequence[str | Path],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def make_in_a_clone(where: Path, *args: str) -> Path:
    """``make ARGS`` run for real in a copy of the clone at ``where``; the copy."""
    clone = where / "pulumi-baseten-chains"
    shutil.copytree(REPO, clone, ignore=NOT_IN_A_CLONE)
    made = run_make(*args, cwd=clone, timeout=TIMEOUT)
    if made.returncode != 0:
        pytest.fail(f"make {args} exited {made.returncode}:\n{made.stdout}\n{made.stderr}")
    return clone


def shared_packages(root: Path, leave_out: Sequence[str]) -> Path:
    """A folder of links to the repository .venv's packages, except ours and ``leave_out``."""
    site = Path(sysconfig.get_paths()["purelib"])
    root.mkdir()
    for entry in site.iterdir():
        name = entry.name
        if name.startswith(OWN) or name.endswith(".pth") or name.startswith(tuple(leave_out)):
            continue
        (root / name).symlink_to(entry)
    return root


def share_packages(python: Path, shared_site: Path) -> None:
    """Put ``shared_site`` on the path of the virtualenv of ``python``."""
    purelib = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=python.parent,
    ).stdout.strip()
    Path(purelib, "shared-packages.pth").write_text(f"{shared_site}\n")


def fresh_venv(where: Path, shared_site: Path) -> Path:
    """``python -m venv where`` (pip and the dependencies shared, see the module docstring)."""
    run([sys.executable, "-m", "venv", "--without-pip", where], cwd=where.parent)
    python = where / "bin" / "python"
    share_packages(python, shared_site)
    return python


def pip_install(
    python: Path, cwd: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run(
        [python, "-m", "pip", "install", "--disable-pip-version-check", *args], cwd=cwd, env=env
    )


def imported_from(python: Path, cwd: Path) -> Path:
    out = run([python, "-c", "import provider; print(provider.__file__)"], cwd=cwd).stdout
    return Path(out.strip())
