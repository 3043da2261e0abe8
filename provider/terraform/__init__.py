"""Terraform provider ``local.invalid/pulumi-baseten-chains/baseten``, written with ``tf``.

One data source per read of the catalog (``baseten_chain_deployment``, ``baseten_chain``,
``baseten_chain_environments``, ...: :data:`provider.reads.READS`): the same reads as the
Pulumi side, through the same core (validation, client, models, readiness gate); nothing here
restates that logic. Layout:

* :mod:`provider.terraform.tf_types` - the Terraform object type ``tf`` lacks, derived from the
  models;
* :mod:`provider.terraform.data_sources` - the data sources, derived from the reads, and the
  diagnostics;
* :mod:`provider.terraform.provider` - :class:`TerraformProvider` and the process serving it;
* :mod:`provider.terraform.mirror` - a filesystem-mirror entry that ``terraform init`` installs
  offline, beside a backend, modules and registry providers;
* :mod:`provider.terraform.cliconfig` - a CLI config with ``dev_overrides`` that points
  terraform at this installation (no registry, no ``terraform init``).

:func:`main` is the ``terraform-provider-baseten`` console script. Importing this package does
not import ``tf`` (an optional dependency, extra ``terraform``), so the CLI config and the
mirror entry can be written without it; without it, :func:`main` says which extra to install
and exits 2 instead of dying with a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .._version import __version__

EXTRA_HINT = "pip install 'pulumi-baseten-chains[terraform]'"
USAGE = (
    "usage: terraform-provider-baseten [--version] [--dev]\n\n"
    "The Terraform provider local.invalid/pulumi-baseten-chains/baseten (data sources\n"
    "baseten_chain_deployment and baseten_chain). terraform starts it: install it for\n"
    "terraform init with python -m provider.terraform.mirror terraform.d/plugins.\n"
    "--dev serves it for TF_REATTACH_PROVIDERS (a debugger)."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``terraform-provider-baseten``: serve the provider to terraform.

    Returns the exit status (the console script passes it to ``sys.exit``). ``--version`` and
    ``--help`` print and return 0, with or without tf; terraform starts the plugin with no
    arguments (the go-plugin handshake is in the environment), so they never meet.
    """
    words = list(sys.argv if argv is None else argv)[1:]
    if "--version" in words:
        print(f"terraform-provider-baseten {__version__}")
        return 0
    if {"-h", "--help"} & set(words):
        print(USAGE)
        return 0
    try:
        # Imported here: importing the package must not need tf (see the module docstring).
        from .provider import serve  # noqa: PLC0415
    except ModuleNotFoundError as exc:
        if exc.name != "tf" and not (exc.name or "").startswith("tf."):
            raise
        print(
            f"error: the Terraform provider needs the framework tf, which is not installed: "
            f"{EXTRA_HINT}",
            file=sys.stderr,
        )
        return 2
    return serve(argv)


__all__ = ["main"]
