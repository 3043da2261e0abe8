"""The command line: ``python -m provider get CHAIN_ID (DEPLOYMENT_ID | --environment NAME)``.

Exit codes: 0 success; 2 bad usage or invalid input (nothing was sent); 3 API error
(authentication, not found, rate limit exhausted, server, response format, connection);
4 the deployment did not become ready (``--wait-for``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from ._version import __version__
from .client import BasetenClient
from .errors import BasetenError, DeploymentNotReadyError, InvalidInputError
from .lookup import DeploymentQuery
from .models import ChainDeployment, is_known_status

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_API = 3
EXIT_NOT_READY = 4

EPILOG = """\
exit codes:
  0  success
  2  bad usage or invalid input (no request was sent)
  3  Baseten API error: authentication (401/403), not found (404), rate limit
     exhausted (429), server error (5xx), malformed response, connection failure
  4  the deployment did not become ready (only with --wait-for)

environment:
  BASETEN_API_KEY  the API key (required; never printed)
  BASETEN_API_URL  the API base URL (default https://api.baseten.co; plain http
                   only for loopback, e.g. the emulator: python -m provider.emulator)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m provider",
        description="Read Baseten chain deployments.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    get = commands.add_parser(
        "get",
        help="show a chain deployment and its chainlets",
        description="Show a chain deployment: by id, or the current one of an environment.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    get.add_argument("chain_id", metavar="CHAIN_ID")
    get.add_argument("chain_deployment_id", metavar="DEPLOYMENT_ID", nargs="?")
    get.add_argument("--environment", "-e", metavar="NAME", help="e.g. production")
    get.add_argument("--json", action="store_true", help="print the API's JSON")
    get.add_argument(
        "--wait-for",
        metavar="STATUS",
        action="append",
        help="wait until the deployment and every chainlet has this status (repeatable)",
    )
    get.add_argument("--timeout", type=float, default=900.0, help="seconds to wait (900)")
    get.add_argument("--api-url", metavar="URL", help="overrides BASETEN_API_URL")
    return parser


def _autoscaling(settings: dict[str, object] | None) -> str:
    if settings is None:
        return "not deployed yet"
    parts = [f"window {settings['autoscaling_window']}s"] if settings["autoscaling_window"] else []
    parts.append(f"concurrency {settings['concurrency_target']}")
    if settings.get("scale_down_delay") is not None:
        parts.append(f"scale-down {settings['scale_down_delay']}s")
    return ", ".join(parts)


def render(deployment: ChainDeployment) -> str:
    """The readable summary: the deployment, then one row per chainlet."""
    status = str(deployment.status)
    unknown = "" if is_known_status(status) else " (status unknown to this tool)"
    lines = [
        f"chain deployment {deployment.id} of chain {deployment.chain_id}",
        f"  status       {status}{unknown}",
        f"  environment  {deployment.environment or '-'}",
        f"  created      {deployment.created_at.isoformat()}",
        "",
    ]
    header = ("CHAINLET", "STATUS", "INSTANCE TYPE", "REPLICAS", "MIN-MAX", "AUTOSCALING")
    rows = [header]
    for chainlet in deployment.chainlets:
        auto = chainlet.autoscaling_settings
        bounds = f"{auto.min_replica}-{auto.max_replica}" if auto else "-"
        rows.append(
            (
                chainlet.name,
                str(chainlet.status),
                chainlet.instance_type_name,
                str(chainlet.active_replica_count),
                bounds,
                _autoscaling(auto.to_api() if auto else None),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit code (never raises for expected failures)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _parser()
    try:
        # argparse writes --help and usage errors itself: send them to the caller's streams.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        query = DeploymentQuery.parse(
            args.chain_id,
            args.chain_deployment_id,
            args.environment,
            args.wait_for or [],
            args.timeout,
        )
        with BasetenClient(base_url=args.api_url) as client:
            deployment = query.resolve(
                client,
                on_progress=lambda m: print(m, file=err),
                on_warning=lambda m: print(f"warning: {m}", file=err),
            )
    except InvalidInputError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    except BasetenError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=err)
        return EXIT_API
    except DeploymentNotReadyError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_NOT_READY
    if args.json:
        json.dump(deployment.to_api(), out, indent=2)
        out.write("\n")
    else:
        print(render(deployment), file=out)
    return EXIT_OK
