"""``python -m tests.terraform_plan`` (``make tf-plan``): ``terraform plan`` of
``examples/terraform`` against the local emulator, offline and bounded in time. A development
helper of this repository (the make target and the Terraform tests), not part of the package.

It starts an :class:`~provider.emulator.Emulator` in this process (scenario ``default`` unless
``--scenario``), writes a CLI config with ``dev_overrides`` (:mod:`provider.terraform.cliconfig`)
into a temporary directory, copies the example there (so the example folder never gets state,
lock files or ``.terraform``) and runs ``terraform plan`` (or ``apply -auto-approve`` with
``--apply``). The exit status is terraform's, or 1 if terraform is missing or timed out.

What a caller (the make target, the tests) may rely on:

* :func:`offline_env` is the environment every terraform run here uses: the generated CLI
  config, ``CHECKPOINT_DISABLE=1``, ``TF_IN_AUTOMATION=1``, no inherited ``TF_CLI_ARGS*`` or
  ``TF_LOG``; terraform never contacts a registry or the version-check host.
* :func:`run_terraform` runs terraform in its own process group with a timeout; on timeout the
  whole group (terraform and the provider it started) is killed and
  :class:`subprocess.TimeoutExpired` raised. Input is never read (``stdin`` is closed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from provider.emulator import SCENARIOS, Emulator, apply_scenario
from provider.errors import SetupError
from provider.terraform.cliconfig import find_plugin_dir, render

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "terraform"
DEFAULT_TIMEOUT = 120.0
INSTALL_HINT = (
    "terraform (>= 1.4) is not on PATH: install it from "
    "https://developer.hashicorp.com/terraform/install (a single binary; put it on PATH)"
)

# Inherited settings that would change what terraform does here (extra arguments, logs that
# could be large, another CLI config, a plugin cache) are dropped.
_DROPPED_PREFIXES = ("TF_CLI_ARGS", "TF_LOG", "TF_PLUGIN_CACHE_DIR", "TF_REATTACH_PROVIDERS")


def find_terraform() -> str:
    """The terraform executable on PATH; :class:`~provider.errors.SetupError` saying how to
    install it."""
    found = shutil.which("terraform")
    if found is None:
        raise SetupError(INSTALL_HINT)
    return found


def write_cli_config(directory: Path) -> Path:
    """Write ``terraformrc`` (dev_overrides for this installation) into ``directory``."""
    path = directory / "terraformrc"
    path.write_text(render(find_plugin_dir()))
    return path


def offline_env(cli_config: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for an offline terraform run with ``cli_config``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
        }
    )
    env.update(extra or {})
    return env


def run_terraform(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT,
    capture: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``terraform *args`` in ``cwd``; kill its whole process group on timeout."""
    command = [find_terraform(), *args]
    pipe = subprocess.PIPE if capture else None
    # A new session: on timeout, killing the group also ends the provider terraform started.
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=pipe,
        stderr=pipe,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def copy_example(source: Path, destination: Path) -> Path:
    """Copy the ``.tf`` files of ``source`` into ``destination`` (created); return it."""
    destination.mkdir(parents=True, exist_ok=True)
    for tf_file in sorted(source.glob("*.tf")):
        shutil.copy2(tf_file, destination / tf_file.name)
    return destination


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.terraform_plan",
        description="terraform plan of examples/terraform against the local Baseten emulator "
        "(no account, no registry, no terraform init).",
    )
    parser.add_argument(
        "--scenario", default="default", choices=sorted(SCENARIOS), help="emulator scenario"
    )
    parser.add_argument(
        "--apply", action="store_true", help="terraform apply -auto-approve (state discarded)"
    )
    parser.add_argument("--example", type=Path, default=EXAMPLE_DIR, help="configuration dir")
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds (default 120)"
    )
    parser.add_argument("terraform_args", nargs="*", help="extra terraform arguments, after --")
    args = parser.parse_args(argv)
    try:
        find_terraform()
        with Emulator() as emu, tempfile.TemporaryDirectory(prefix="tf-example-") as tmp:
            apply_scenario(emu, args.scenario)
            work = copy_example(args.example, Path(tmp) / "example")
            env = offline_env(
                write_cli_config(Path(tmp)),
                {"BASETEN_API_URL": emu.url, "BASETEN_API_KEY": emu.api_key},
            )
            command = ["apply", "-auto-approve"] if args.apply else ["plan"]
            print(
                f"terraform {' '.join(command)} in a copy of {args.example}, against the "
                f"emulator at {emu.url} (scenario {args.scenario})",
                file=sys.stderr,
                flush=True,
            )
            result = run_terraform(
                [*command, "-input=false", *args.terraform_args],
                cwd=work,
                env=env,
                timeout=args.timeout,
                capture=False,
            )
            return result.returncode
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired:
        print(f"error: terraform did not finish within {args.timeout:g}s", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
