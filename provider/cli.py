"""The command line: ``python -m provider COMMAND (CHAIN_ID | --chain-name NAME) ...``.

* One subcommand per read of the catalog (:data:`provider.reads.READS`), its arguments and
  flags derived from the read's inputs, ``--json`` printing what the API sent: ``get`` shows a
  deployment and its chainlets (``DEPLOYMENT_ID`` or ``--environment NAME``), optionally
  waiting until it is ready; ``chain`` a chain; ``environments`` a chain's environments and
  the deployment each serves; and so on (``--help`` lists them).
* ``check`` runs the policy rules of :mod:`provider.policy` on it (the same rules as the
  CrossGuard pack in ``examples/policy-pack``), configured by flags and/or ``--config FILE`` (the
  pack's config document), and lists the violations, readable or as JSON (``--json``).

Exit codes: 0 success (``check``: no mandatory rule violated; advisory violations are listed);
1 ``check`` only: a mandatory rule is violated; 2 bad usage or invalid input or config (nothing
was sent); 3 API error (authentication, not found, rate limit exhausted, server, response
format, connection); 4 ``get --wait-for`` only: the deployment did not become ready; 5 internal
error (a bug); 130 interrupted; 141 stdout was closed early (``| head``): the command stops
quietly, as a Unix tool killed by SIGPIPE would (128 + 13). The API key is never printed.

Every readable line goes out through :func:`say`, so through :func:`provider.text.printable`
(server text escaped, encodable, bounded); table cells are cut at :data:`CELL_CHARS`. A stdout
that cannot encode a character (``PYTHONIOENCODING=ascii``) gets it backslash-escaped. ``--json``
is written as ASCII JSON, exact.

An invalid input is named as it is typed here (``--timeout``, ``DEPLOYMENT_ID``), not by the
lookup's field name. ``BASETEN_BACKOFF_SCALE`` (a number in (0, 1], default 1) shortens every
wait between retries by that factor - the same number of attempts, the same deadline - so a
test can run the real retry policy without sleeping for seconds. It is read in one place
(:func:`retry_policy`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import math
import os
import re
import sys
import textwrap
import threading
import traceback
from collections.abc import Sequence
from typing import Any, TextIO

from . import credentials, ratelimit
from ._version import __version__
from .backoff import Backoff
from .catalog import Hooks, Read
from .client import BasetenClient, RetryPolicy
from .deadline import Deadline
from .errors import (
    EXIT_API,
    EXIT_CANCELLED,
    EXIT_INTERNAL,
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VIOLATIONS,
    ApiError,
    BasetenError,
    InvalidInputError,
    is_about_api_key,
    one_line,
    presentation,
)
from .fields import ListOf, Scalar
from .inputs import InputField
from .lookup import DeploymentQuery
from .models import ChainDeployment, is_known_status
from .policy import (
    ALLOWED_INSTANCE_TYPES,
    AUTOSCALING_CONFIGURED,
    CONFIG_READ_SECONDS,
    DEPLOYMENT_ACTIVE,
    NO_SCALE_TO_ZERO,
    REPLICA_BOUNDS,
    RULES,
    CheckReport,
    Level,
    load_config_file,
    merge_documents,
    parse_config,
)
from .reads import READS
from .reads.chain_deployment import READ as DEPLOYMENT
from .redaction import Redactor
from .text import printable
from .waiting import Progress

EXIT_BROKEN_PIPE = 141
"""stdout closed early (``... | head -1``): 128 + SIGPIPE, what a shell reports for a Unix
tool that the closed pipe stopped. Nothing is printed."""

CELL_CHARS = 80
"""The most characters a table cell shows (longer ones end with the cut marker), so one
oversized name cannot widen every row of the table."""


def say(stream: TextIO, text: str) -> None:
    """Write ``text`` and a newline to ``stream``, with the API key redacted and each line
    through :func:`provider.text.printable`: the one way a readable line leaves the command."""
    stream.write("".join(printable(line) + "\n" for line in _without_key(text).split("\n")))


def _cell(text: str) -> str:
    return printable(text, CELL_CHARS)


__all__ = [
    "EXIT_API",
    "EXIT_CANCELLED",
    "EXIT_INTERNAL",
    "EXIT_NOT_READY",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_VIOLATIONS",
    "main",
    "say",
]

_ENVIRONMENT_HELP = """\
environment:
  BASETEN_API_KEY  the API key (required; never printed)
  BASETEN_API_URL  the API base URL (default https://api.baseten.co; plain http
                   only for loopback, e.g. the emulator: python -m provider.emulator)
  BASETEN_BACKOFF_SCALE  shorten the waits between retries by this factor, in
                   (0, 1] (for tests; the attempts and the deadline stay the same)
"""

_EXIT_MEANINGS = {
    EXIT_OK: "success",
    EXIT_VIOLATIONS: "a mandatory rule is violated (check only; the violations are on stdout)",
    EXIT_USAGE: "bad usage, invalid input or invalid config (no request was sent)",
    EXIT_API: "Baseten API error: authentication (401/403), not found (404), rate limit "
    "exhausted (429), server error (5xx), unexpected response, connection failure",
    EXIT_NOT_READY: "the deployment did not become ready (only with --wait-for)",
    EXIT_INTERNAL: "internal error (a bug: one line; BASETEN_DEBUG=1 shows the traceback)",
    EXIT_CANCELLED: "interrupted (Ctrl-C)",
    EXIT_BROKEN_PIPE: "stdout was closed before the output was written (e.g. | head): "
    "stops quietly, as Unix tools do",
}


def _exit_help(*codes: int, success: str = _EXIT_MEANINGS[EXIT_OK]) -> str:
    """The ``exit codes:`` block of a help text, for ``codes``, then the environment."""
    lines = ["exit codes:"]
    for code in codes:
        lines.append(
            textwrap.fill(
                success if code == EXIT_OK else _EXIT_MEANINGS[code],
                width=78,
                initial_indent=f"  {code}  ",
                subsequent_indent=" " * 7,
            )
        )
    return "\n".join(lines) + "\n\n" + _ENVIRONMENT_HELP


_ALWAYS = (EXIT_USAGE, EXIT_API, EXIT_INTERNAL, EXIT_CANCELLED, EXIT_BROKEN_PIPE)
EPILOG = _exit_help(EXIT_OK, EXIT_VIOLATIONS, *_ALWAYS[:2], EXIT_NOT_READY, *_ALWAYS[2:])
GET_EPILOG = _exit_help(EXIT_OK, *_ALWAYS[:2], EXIT_NOT_READY, *_ALWAYS[2:])
READ_EPILOG = _exit_help(EXIT_OK, *_ALWAYS)


def _rules_help() -> str:
    lines = ["rules (the policy names of examples/policy-pack) and default levels:"]
    for rule in RULES:
        text = textwrap.fill(
            rule.description,
            width=78,
            initial_indent=f"  {rule.name:<24}{rule.default_level:<11}",
            subsequent_indent=" " * 37,
        )
        lines.append(text)
    return "\n".join(lines) + "\n\n"


CHECK_EPILOG = (
    _rules_help()
    + """\
--config FILE takes the policy pack's config document (JSON), e.g.
  {"allowed-instance-types": {"instanceTypes": ["1x4", "L4:4x16"]},
   "replica-bounds": {"minReplica": 1, "maxReplica": 8,
                      "overrides": {"Generator": {"maxReplica": 16}}},
   "no-scale-to-zero": {"enforcementLevel": "mandatory",
                        "environments": ["production"]}}
Flags are applied on top of the file. Advisory violations are listed but do
not fail the check (exit 0); disabled rules are skipped.

"""
    + _exit_help(
        EXIT_OK,
        EXIT_VIOLATIONS,
        *_ALWAYS,
        success="every enabled rule passed (advisory violations may be listed)",
    )
)


def _chainlet_number(text: str) -> tuple[str, int]:
    """``NAME=N`` for the per-chainlet replica flags."""
    name, sep, number = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected CHAINLET=N, got {text!r}")
    try:
        return name, int(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer after '=', got {text!r}") from None


def _rule_level(text: str) -> tuple[str, str]:
    """``RULE=LEVEL`` for ``--level``; names and levels are checked with the config."""
    name, sep, level = text.partition("=")
    if not sep or not name or not level:
        raise argparse.ArgumentTypeError(f"expected RULE=LEVEL, got {text!r}")
    return name, level


SPELLING: dict[str, str] = {"api_key": credentials.API_KEY_ENV, "base_url": "--api-url"}
"""How this command line spells each field an error can name (an input's flag or argument),
filled in as the parser declares them; a field not listed keeps its own name."""


def _named(action: argparse.Action) -> argparse.Action:
    """Record how the command line spells ``action``'s field (its long flag or metavar)."""
    flags = [f for f in action.option_strings if f.startswith("--")]
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    SPELLING[action.dest] = flags[0] if flags else metavar
    return action


INPUT_NAMES = sorted({spec.name for read in READS for spec in read.inputs}, key=len, reverse=True)
_FIELD_WORD = re.compile(r"\b(" + "|".join(INPUT_NAMES) + r")\b")


def spelled(exc: InvalidInputError) -> str:
    """``exc`` as this command line names things: ``invalid --timeout: ...``, with the input
    names in its reason (``give either chain_deployment_id or environment``) spelled as flags
    and arguments too."""
    field = SPELLING.get(exc.field, exc.field)
    reason = exc.reason
    if exc.field in INPUT_NAMES:
        reason = _FIELD_WORD.sub(lambda m: SPELLING.get(m.group(1), m.group(1)), reason)
    return f"invalid {field}: {reason}"


def _help(spec: InputField) -> str:
    repeat = " (repeatable)" if isinstance(spec.type, ListOf) else ""
    return spec.description.replace("`", "") + repeat


def _add_inputs(
    parser: argparse.ArgumentParser, read: Read[Any, Any], skip: tuple[str, ...] = ()
) -> None:
    """One argument or flag per input of ``read`` (its spelling from the declaration, recorded
    in :data:`SPELLING`); the destinations are the inputs' names. Defaults are the read's."""
    for spec in read.inputs:
        if spec.name in skip:
            continue
        if spec.positional:
            argument = parser.add_argument(
                spec.name, metavar=spec.metavar, nargs="?", help=_help(spec)
            )
            _named(argument)
            continue
        kind: dict[str, Any] = {"metavar": spec.metavar}
        if isinstance(spec.type, ListOf):
            kind["action"] = "append"
        elif spec.type is Scalar.NUMBER:
            kind["type"] = float
        elif spec.type is Scalar.INTEGER:
            kind["type"] = int
        elif spec.type is Scalar.BOOLEAN:
            kind = {"action": "store_const", "const": True}
        _named(parser.add_argument(*spec.cli_flags, dest=spec.name, help=_help(spec), **kind))


def _add_target(parser: argparse.ArgumentParser) -> None:
    """The deployment to read: CHAIN_ID (or --chain-name) and DEPLOYMENT_ID or --environment."""
    _add_inputs(parser, DEPLOYMENT, skip=("wait_for",))


def example_command(read: Read[Any, Any]) -> str:
    """The command line of ``read``'s example inputs (:meth:`provider.catalog.Read.example`)."""
    words = ["python -m provider", read.command]
    for spec in read.inputs:
        value = read.example().get(spec.name)
        for item in value if isinstance(value, list) else [] if value is None else [value]:
            words += [str(item)] if spec.positional else [spec.cli_flags[0], str(item)]
    return " ".join(words)


def _positionals(args: argparse.Namespace, read: Read[Any, Any]) -> None:
    """Give the positional values to the positional inputs whose partner flag was not used:
    with ``--chain-name NAME``, ``get NAME_FLAG DEPLOYMENT_ID`` has no CHAIN_ID before it."""
    specs = [s for s in read.inputs if s.positional]
    given = [getattr(args, s.name) for s in specs if getattr(args, s.name, None) is not None]
    partners = {a: b for pair in read.choices for a, b in (pair, pair[::-1])}
    short = len(given) < len(specs)  # all given: the exactly-one rule judges them as they are
    for spec in specs:
        partner = partners.get(spec.name)
        taken = short and partner is not None and getattr(args, partner, None) is not None
        setattr(args, spec.name, None if taken or not given else given.pop(0))
    if given:
        raise InvalidInputError(specs[-1].name, f"unexpected extra argument {given[0]!r}")


def _add_check_flags(check: argparse.ArgumentParser) -> None:
    check.add_argument(
        "--config", metavar="FILE", help="policy config (JSON, the policy pack's config shape)"
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    rules = check.add_argument_group("rule settings (applied on top of --config)")
    rules.add_argument(
        "--allowed-status",
        metavar="STATUS",
        action="append",
        help="deployment-active: a status the deployment and chainlets may have "
        "(repeatable; default ACTIVE)",
    )
    rules.add_argument(
        "--instance-type",
        metavar="NAME",
        action="append",
        help="allowed-instance-types: an approved instance type (repeatable; default: any)",
    )
    rules.add_argument(
        "--min-replica",
        metavar="N",
        type=int,
        help="replica-bounds: lowest min_replica a chainlet may have (default 0)",
    )
    rules.add_argument(
        "--max-replica",
        metavar="M",
        type=int,
        help="replica-bounds: highest max_replica a chainlet may have (default: none)",
    )
    rules.add_argument(
        "--chainlet-min-replica",
        metavar="CHAINLET=N",
        type=_chainlet_number,
        action="append",
        help="replica-bounds: --min-replica for one chainlet (repeatable)",
    )
    rules.add_argument(
        "--chainlet-max-replica",
        metavar="CHAINLET=M",
        type=_chainlet_number,
        action="append",
        help="replica-bounds: --max-replica for one chainlet (repeatable)",
    )
    rules.add_argument(
        "--require-autoscaling-field",
        metavar="FIELD",
        action="append",
        help="autoscaling-configured: also require this autoscaling field to be set, "
        "e.g. scale_down_delay (repeatable)",
    )
    rules.add_argument(
        "--no-scale-to-zero",
        action="store_true",
        help="enable no-scale-to-zero (mandatory) for this deployment",
    )
    rules.add_argument(
        "--no-scale-to-zero-in",
        metavar="ENV",
        action="append",
        help="enable no-scale-to-zero (mandatory) for deployments of environment ENV (repeatable)",
    )
    rules.add_argument(
        "--level",
        metavar="RULE=LEVEL",
        type=_rule_level,
        action="append",
        help="enforcement level of a rule (or 'all'): advisory, mandatory, disabled (repeatable)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m provider" if sys.argv[0].endswith("__main__.py") else None,
        description="Read Baseten chain deployments and check them against policy rules.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for read in READS:
        command = commands.add_parser(
            read.command,
            help=read.summary,
            description=textwrap.fill(read.description.replace("`", ""), width=78),
            epilog=f"example:\n  {example_command(read)}\n\n"
            + (GET_EPILOG if read is DEPLOYMENT else READ_EPILOG),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_inputs(command, read)
        command.add_argument("--json", action="store_true", help="print the API's JSON")
        command.add_argument("--api-url", metavar="URL", help="overrides BASETEN_API_URL")
        _add_rate_flag(command)
    check = commands.add_parser(
        "check",
        help="check a chain deployment against the policy rules (for CI)",
        description="Check a chain deployment (by id, or the current one of an environment) "
        "against the policy rules of the policy pack, without Pulumi.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_target(check)
    _add_check_flags(check)
    check.add_argument("--api-url", metavar="URL", help="overrides BASETEN_API_URL")
    _add_rate_flag(check)
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
        printable(f"chain deployment {deployment.id} of chain {deployment.chain_id}"),
        f"  status       {printable(status)}{unknown}",
        f"  environment  {printable(deployment.environment or '-')}",
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
                _cell(chainlet.name),
                _cell(str(chainlet.status)),
                _cell(chainlet.instance_type_name),
                _cell(str(chainlet.active_replica_count)),
                _cell(bounds),
                _cell(_autoscaling(auto.to_api() if auto else None)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def flags_document(args: argparse.Namespace) -> dict[str, Any]:
    """The ``check`` flags as a config document (the shape of ``--config FILE``)."""
    document: dict[str, dict[str, Any]] = {}

    def put(rule: str, key: str, value: object) -> None:
        document.setdefault(rule, {})[key] = value

    if args.allowed_status:
        put(DEPLOYMENT_ACTIVE, "statuses", args.allowed_status)
    if args.instance_type:
        put(ALLOWED_INSTANCE_TYPES, "instanceTypes", args.instance_type)
    if args.min_replica is not None:
        put(REPLICA_BOUNDS, "minReplica", args.min_replica)
    if args.max_replica is not None:
        put(REPLICA_BOUNDS, "maxReplica", args.max_replica)
    overrides: dict[str, dict[str, int]] = {}
    for key, given in (
        ("minReplica", args.chainlet_min_replica),
        ("maxReplica", args.chainlet_max_replica),
    ):
        for chainlet, number in given or []:
            overrides.setdefault(chainlet, {})[key] = number
    if overrides:
        put(REPLICA_BOUNDS, "overrides", overrides)
    if args.require_autoscaling_field:
        put(AUTOSCALING_CONFIGURED, "requiredFields", args.require_autoscaling_field)
    if args.no_scale_to_zero or args.no_scale_to_zero_in:
        put(NO_SCALE_TO_ZERO, "enforcementLevel", Level.MANDATORY.value)
    if args.no_scale_to_zero_in:
        put(NO_SCALE_TO_ZERO, "environments", args.no_scale_to_zero_in)
    # Last, so that an explicit --level wins over the level a flag above implies.
    for rule, level in args.level or []:
        put(rule, "enforcementLevel", level)
    return document


def render_report(report: CheckReport) -> str:
    """The readable report: the deployment, one line per rule, its violations under it."""
    deployment = report.deployment
    lines = [
        printable(f"chain deployment {deployment.id} of chain {deployment.chain_id}"),
        f"  status       {printable(str(deployment.status))}",
        f"  environment  {printable(deployment.environment or '-')}",
        "",
    ]
    width = max(len(r.rule) for r in report.results)
    for result in report.results:
        count = len(result.violations)
        found = f"  {count} violation{'s' if count != 1 else ''}" if count else ""
        level = f"{result.level:<9}"
        lines.append(f"{result.outcome.upper():4}  {result.rule:<{width}}  {level}{found}".rstrip())
        lines += [f"      {printable(violation.message)}" for violation in result.violations]
    blocking = sum(len(r.violations) for r in report.results if r.outcome == "fail")
    advisory = sum(len(r.violations) for r in report.results if r.outcome == "warn")
    note = f" ({advisory} advisory)" if advisory else ""
    verdict = (
        f"passed{note}" if report.passed else f"FAILED: {blocking} mandatory violation(s){note}"
    )
    lines += ["", f"check {verdict}"]
    return "\n".join(lines)


def _values(args: argparse.Namespace, read: Read[Any, Any]) -> dict[str, Any]:
    # The parser's destinations are the inputs' names (check has no --wait-for: no wait).
    _positionals(args, read)
    return {name: getattr(args, name, None) for name in read.input_names}


def _query(args: argparse.Namespace) -> DeploymentQuery:
    return DEPLOYMENT.parse(_values(args, DEPLOYMENT))


BACKOFF_SCALE_ENV = "BASETEN_BACKOFF_SCALE"


def retry_policy(environ: dict[str, str] | os._Environ[str] = os.environ) -> RetryPolicy:
    """The client's default retry policy, its waits scaled by ``$BASETEN_BACKOFF_SCALE``
    (default 1): the one place the command line reads it. Only shorter waits are allowed, so
    the seam cannot make a run slower or try more often."""
    policy = RetryPolicy()
    text = environ.get(BACKOFF_SCALE_ENV, "").strip()
    if not text:
        return policy
    try:
        scale = float(text)
    except ValueError:
        scale = math.nan
    if not 0 < scale <= 1:
        raise InvalidInputError(BACKOFF_SCALE_ENV, "must be a number in (0, 1]")
    backoff = policy.backoff
    return dataclasses.replace(
        policy,
        backoff=Backoff(
            initial=backoff.initial * scale,
            cap=backoff.cap * scale,
            factor=backoff.factor,
            jitter=backoff.jitter,
        ),
        max_retry_after=policy.max_retry_after * scale,
    )


def _add_rate_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-rps",
        metavar="N",
        help=f"the API key's rate limit, requests/s per endpoint (overrides "
        f"{credentials.MAX_RPS_ENV}; default {ratelimit.DEFAULT_MAX_RPS:g})",
    )


def _client(args: argparse.Namespace) -> BasetenClient:
    # The client resolves the key, URL and rate (provider.credentials): flags, else the env.
    rate = None if args.max_rps is None else ratelimit.check_rate(args.max_rps, "--max-rps")
    return BasetenClient(
        base_url=args.api_url, retry=retry_policy(), max_requests_per_second=rate
    )


def _check(args: argparse.Namespace, out: TextIO, err: TextIO, cancel: threading.Event) -> int:
    """``check``: everything is validated before the one request; raises like ``get``."""
    query = _query(args)
    # One deadline for the whole command, reading the config file included.
    deadline = Deadline.after(query.timeout_seconds, cancel=cancel)
    document = {}
    if args.config is not None:
        document = load_config_file(
            args.config, timeout=min(deadline.remaining(), CONFIG_READ_SECONDS)
        )
    parse_config(document)  # the file alone first: a flag must not hide a bad entry in it
    config = parse_config(merge_documents(document, flags_document(args)))
    status = StatusLine(err)
    with _client(args) as client:
        deployment = query.resolve(client, deadline, on_warning=status.warning)
    report = config.check(deployment)
    for warning in report.warnings:  # also in --json; a warning never changes the exit code
        status.warning(warning)
    if args.json:
        json.dump(report.to_json(), out, indent=2)
        out.write("\n")
    else:
        say(out, render_report(report))
    return EXIT_OK if report.passed else EXIT_VIOLATIONS


class StatusLine:
    """Progress on stderr: one line per status change; heartbeats in between. On a terminal
    the heartbeat rewrites a single status line in place; in a log, each is a line."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.live = err.isatty()
        self.open_line = False

    def progress(self, progress: Progress) -> None:
        if self.live and not progress.changed:
            # The one deliberate control sequence: return and clear the line, then the text.
            self.err.write(f"\r\x1b[K{printable(_without_key(str(progress)))}")
            self.open_line = True
        else:
            self.end_line()
            say(self.err, str(progress))
        self.err.flush()

    def warning(self, message: str) -> None:
        self.end_line()
        say(self.err, f"warning: {message}")

    def end_line(self) -> None:
        if self.open_line:
            self.err.write("\n")
            self.open_line = False


def _read(
    read: Read[Any, Any],
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    cancel: threading.Event,
) -> int:
    """A read's subcommand: the answer as a table, or as the API sent it (``--json``)."""
    query = read.parse(_values(args, read))
    status = StatusLine(err)
    try:
        with _client(args) as client:
            answer = read.run(
                query,
                client,
                Deadline.after(query.timeout_seconds, cancel=cancel),
                Hooks(on_progress=status.progress, on_warning=status.warning),
            )
    finally:
        status.end_line()
    if args.json:
        json.dump(read.api_json(answer), out, indent=2)
        out.write("\n")
    elif isinstance(answer, ChainDeployment):
        say(out, render(answer))
    else:
        say(out, render_outputs(read, read.outputs_of(query, answer)))
    return EXIT_OK


def _table(rows: list[dict[str, Any]]) -> list[str]:
    columns = [k for k in rows[0] if all(not isinstance(r.get(k), dict | list) for r in rows)]
    cells = [[k.upper() for k in columns]]
    cells += [[_cell("-" if r.get(k) is None else str(r[k])) for k in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]


def render_outputs(read: Read[Any, Any], outputs: dict[str, Any]) -> str:
    """A read's outputs, readable: a line per value (a list of values on one line), a map as
    aligned pairs, then a table per list of objects with their flat fields (``--json`` has
    everything)."""
    lines, tables = [read.title.lower()], []
    width = max(len(name) for name in outputs)
    for name, value in outputs.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables += ["", f"{name}:", *_table(value)]
        elif isinstance(value, dict):
            lines.append(f"  {name}:")
            keys = max((len(_cell(str(k))) for k in value), default=0)
            lines += [f"    {_cell(str(k)):<{keys}}  {_cell(str(v))}" for k, v in value.items()]
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            lines.append(f"  {name:<{width}}  {_cell('-' if shown in (None, '') else str(shown))}")
    return "\n".join(lines + tables)


def _without_key(text: str) -> str:
    """``text`` with the API key (from the environment) redacted: whatever was pasted where
    (an id, a config file, a flag), no line the command prints echoes the key."""
    key = os.environ.get(credentials.API_KEY_ENV)
    return _redactor(key).text(text) if key else text


@functools.lru_cache(maxsize=1)
def _redactor(key: str) -> Redactor:
    # Every line printed (a progress line each poll) is redacted: the key's fragments are
    # indexed once, not once per line.
    return Redactor(key)


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    cancel: threading.Event | None = None,
) -> int:
    """Run the command line; return the exit code. Never raises and never prints a
    traceback for a failure: an unexpected one is exit 5 in one line (``BASETEN_DEBUG=1``
    adds the traceback). Ctrl-C, or setting ``cancel``, stops a wait at once (exit 130)."""
    if out is None:
        out = sys.stdout
        _escape_unencodable(out)
    err = err or sys.stderr
    cancel = cancel or threading.Event()
    parser = _parser()
    try:
        # argparse writes --help and usage errors itself: send them to the caller's streams.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        if args.command == "check":
            code = _check(args, out, err, cancel)
        else:
            read = next(read for read in READS if read.command == args.command)
            code = _read(read, args, out, err, cancel)
        out.flush()  # here, so that a closed pipe is met inside this try
        return code
    except BrokenPipeError:
        _silence(out)
        return EXIT_BROKEN_PIPE
    except BasetenError as exc:
        named = f"{type(exc).__name__}: " if isinstance(exc, ApiError) else ""
        hint = f" (export {credentials.API_KEY_ENV})" if is_about_api_key(exc) else ""
        text = spelled(exc) if isinstance(exc, InvalidInputError) else one_line(exc)
        say(err, f"error: {named}{text}{hint}")
        return presentation(exc).exit_code
    except KeyboardInterrupt:
        cancel.set()
        say(err, "error: interrupted")
        return EXIT_CANCELLED
    except Exception as exc:  # the one place a bug becomes a message instead of a traceback
        if os.environ.get("BASETEN_DEBUG"):
            traceback.print_exc(file=err)
        say(
            err,
            f"error: internal error, please report it: {one_line(exc)} "
            "(BASETEN_DEBUG=1 shows the traceback)",
        )
        return EXIT_INTERNAL


def _escape_unencodable(stream: TextIO) -> None:
    # A stdout that is not UTF-8 (PYTHONIOENCODING=ascii, a C locale) would fail on the first
    # non-ASCII name; backslash-escaping what it cannot encode keeps the output readable.
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="backslashreplace")


def _silence(stream: TextIO) -> None:
    # Python's documented handling of SIGPIPE: point the closed stdout at devnull, so the
    # interpreter's final flush does not complain on stderr.
    with contextlib.suppress(ValueError, OSError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
