"""``python -m provider.terraform.mirror DIR``: this installation as a Terraform mirror entry.

Terraform installs a provider that no registry serves from a *filesystem mirror*, in the
unpacked layout ``DIR/HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/terraform-provider-TYPE_vVERSION``.
With ``DIR`` = ``terraform.d/plugins`` inside a configuration folder (one of Terraform's implied
mirror directories) a plain ``terraform init`` finds it offline, next to a backend, modules and
providers from the registry, and records it in ``.terraform.lock.hcl``; ``dev_overrides``
(:mod:`provider.terraform.cliconfig`) cannot do that, because ``init`` ignores overrides and
asks the registry.

The executable is a small ``/bin/sh`` wrapper, since the provider is Python code in an
installed package, not a binary. By default it names the Python that ran this command, so it
works without an activated virtualenv; ``--on-path`` writes one that starts
``terraform-provider-baseten`` from ``PATH`` instead, whose bytes (and so the lock file's
checksum) are the same on every machine. Either way ``python -P`` or the console script keeps
the configuration folder off ``sys.path``, so a ``provider.py`` or ``provider/`` there cannot
shadow the package.

What a caller may rely on: :func:`write_entry` is the whole job and returns the executable's
path; :func:`main` prints what it wrote to stderr and the provider's source address as the last
line of stdout (``SOURCE=$(python -m provider.terraform.mirror DIR)``). Windows is refused
with a message: Terraform would need an ``.exe`` there, and ``dev_overrides`` works instead.
"""

from __future__ import annotations

import argparse
import platform
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from .._version import __version__
from ..errors import BasetenError, InvalidInputError, SetupError
from .cliconfig import EXECUTABLE, PROVIDER_ADDRESS

# Terraform's own names for the platforms it ships on (GOOS_GOARCH).
_ARCHES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "i386": "386",
    "i686": "386",
    "armv7l": "arm",
    "armv6l": "arm",
}
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_ADDRESS = re.compile(r"^[a-z0-9.-]+/[a-z0-9-]+/[a-z0-9-]+$")


def platform_name(system: str | None = None, machine: str | None = None) -> str:
    """This machine as Terraform names it: ``linux_amd64``, ``darwin_arm64``..."""
    system = (system or platform.system()).lower()
    machine = (machine or platform.machine()).lower()
    arch = _ARCHES.get(machine)
    if arch is None:
        raise InvalidInputError(
            "machine", f"no Terraform platform name for the machine type {machine!r}"
        )
    return f"{system}_{arch}"


def split_address(address: str) -> tuple[str, str, str]:
    """``HOST/NAMESPACE/TYPE`` of a fully qualified source address, checked."""
    if not _ADDRESS.match(address):
        raise InvalidInputError(
            "address",
            f"{address!r} is not a fully qualified provider source address (HOST/NAMESPACE/TYPE, "
            "lower case)",
        )
    host, namespace, type_ = address.split("/")
    return host, namespace, type_


def wrapper_script(command: Sequence[str]) -> str:
    """A ``/bin/sh`` script that replaces itself with ``command`` plus terraform's arguments."""
    return (
        "#!/bin/sh\n"
        "# Written by `python -m provider.terraform.mirror`: starts the Terraform provider of\n"
        "# the pulumi-baseten-chains package. Write it again if that Python environment moves.\n"
        f'exec {shlex.join(command)} "$@"\n'
    )


def provider_command(on_path: bool) -> list[str]:
    """What the wrapper runs: this Python's provider, or the console script found on PATH."""
    if on_path:
        return [EXECUTABLE]
    # -P: terraform starts plugins in the configuration folder; keep it off sys.path.
    return [sys.executable, "-P", "-m", "provider.terraform"]


def write_entry(
    directory: Path,
    *,
    address: str = PROVIDER_ADDRESS,
    version: str = __version__,
    command: Sequence[str] | None = None,
    os_arch: str | None = None,
) -> Path:
    """Write the unpacked mirror entry for ``address`` under ``directory``; return the executable.

    ``command`` defaults to :func:`provider_command` (this Python). An existing entry for the
    same address, version and platform is replaced.
    """
    if sys.platform == "win32" and os_arch is None:
        raise SetupError(
            "the mirror entry is a /bin/sh wrapper, which Terraform cannot start on Windows; "
            "use dev_overrides there (python -m provider.terraform.cliconfig)"
        )
    if not _SEMVER.match(version):
        raise InvalidInputError(
            "version", f"Terraform needs a MAJOR.MINOR.PATCH version, not {version!r}"
        )
    host, namespace, type_ = split_address(address)
    entry = Path(directory, host, namespace, type_, version, os_arch or platform_name())
    entry.mkdir(parents=True, exist_ok=True)
    executable = entry / f"terraform-provider-{type_}_v{version}"
    executable.write_text(wrapper_script(command or provider_command(on_path=False)))
    executable.chmod(0o755)
    return executable


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m provider.terraform.mirror",
        description="Write a Terraform filesystem-mirror entry for this installation's provider "
        "under DIR (use terraform.d/plugins in your configuration folder; then terraform init). "
        "Prints the provider's source address last.",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="the mirror directory")
    parser.add_argument(
        "--on-path",
        action="store_true",
        help=f"start {EXECUTABLE} from PATH instead of this Python: the same bytes (and lock "
        "file checksum) on every machine",
    )
    args = parser.parse_args(argv)
    try:
        executable = write_entry(args.directory, command=provider_command(args.on_path))
    except (BasetenError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {executable}", file=sys.stderr)
    print(PROVIDER_ADDRESS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
