"""The catalog: every read this package offers, one declaration module each.

Each module declares one :class:`provider.catalog.Read` as ``READ``; :data:`READS` lists them,
and every front end derives its form of each from here (see :mod:`provider.catalog`). Adding a
read is adding a module here and a line below; no front end changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..catalog import Read
from . import chain, chain_deployment, chain_deployments, chain_environments

READS: tuple[Read[Any, Any], ...] = (
    chain_deployment.READ,
    chain.READ,
    chain_environments.READ,
    chain_deployments.READ,
)
"""Every read, in the order the front ends list them."""

READS_BY_NAME: Mapping[str, Read[Any, Any]] = {read.name: read for read in READS}
