"""Terraform provider ``registry.terraform.io/baseten/baseten``, written with ``tf``.

Data sources ``baseten_chain_deployment`` and ``baseten_chain``: the same lookups as the
Pulumi side, through the same core (validation, client, models, readiness gate); nothing here
restates that logic. Layout:

* :mod:`provider.terraform.schema` - the Terraform object type ``tf`` lacks, derived from the
  models;
* :mod:`provider.terraform.data_sources` - the two data sources and the diagnostics;
* :mod:`provider.terraform.plugin` - the provider and the plugin process;
* :mod:`provider.terraform.cliconfig` - a CLI config with ``dev_overrides`` that points
  terraform at this installation (no registry, no ``terraform init``);
* :mod:`provider.terraform.example_plan` - ``terraform plan`` of ``examples/terraform``
  against the emulator, offline and time-bounded.

:func:`main` is the ``terraform-provider-baseten`` console script. Importing this package does
not import ``tf`` (an optional dependency, extra ``terraform``), so the CLI config can be
rendered without it.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``terraform-provider-baseten``: serve the provider to terraform.

    Returns the exit status (the console script passes it to ``sys.exit``).
    """
    # Imported here: importing the package must not need tf (see the module docstring).
    from .plugin import serve  # noqa: PLC0415

    return serve(argv)


__all__ = ["main"]
