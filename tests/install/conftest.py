"""Fixtures of the install tests: ``make release`` run once, for real, in a copy of the clone;
the shared packages of the fresh virtualenvs (:mod:`tests.install.common`); a fresh folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from provider import __version__
from tests.install.common import REPO, make_in_a_clone, shared_packages


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make release`` (which builds what ``make dist`` does, and the plugin tarballs)."""
    return make_in_a_clone(tmp_path_factory.mktemp("clone"), "release") / "dist"


@pytest.fixture(scope="session")
def wheel(dist: Path) -> Path:
    found = dist / f"pulumi_baseten_chains-{__version__}-py3-none-any.whl"
    assert found.is_file(), sorted(p.name for p in dist.iterdir())
    return found


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_packages(tmp_path_factory.mktemp("shared") / "site", ())


@pytest.fixture(scope="session")
def shared_without_tf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As if installed without the ``terraform`` extra: no ``tf``."""
    return shared_packages(tmp_path_factory.mktemp("shared-no-tf") / "site", ("tf", "tf-"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A fresh folder outside the repository."""
    assert REPO not in tmp_path.parents
    return tmp_path
