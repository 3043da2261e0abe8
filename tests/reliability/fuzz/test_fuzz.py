"""Generated API answers (:mod:`.answers`) through every front end, each example checked
against every invariant (:mod:`.oracle`).

One raw-socket server on 127.0.0.1 per module (:class:`tests.hostile_server.HostileServer`)
serves whatever answer the current example put on the :class:`Stage`, to every path. Each
front end asks for deployment :data:`~.answers.DEPLOYMENT` or environment
:data:`~.answers.ENVIRONMENT` of chain :data:`~.answers.CHAIN` with a deadline of
:data:`~.oracle.TIMEOUT`:

* ``library``: :meth:`DeploymentQuery.resolve` on a :class:`BasetenClient`, in this process;
* ``cli``: ``python -m provider get | get --json | check`` as a process;
* ``provider``: the real ``python -m pulumi.dynamic`` host over gRPC, ``Check`` + ``Create``;
* ``plugin``: ``pulumi-resource-baseten`` over gRPC, ``Invoke`` or ``Check`` + ``Create``;
* ``terraform``: the real ``terraform apply`` of a ``baseten_chain_deployment`` data source.

Examples are derandomized (a fixed seed per test) and nothing is written to a Hypothesis
database. ``FUZZ_EXAMPLES`` sets the library's examples per kind (default
:data:`DEFAULT_EXAMPLES`); the gRPC front ends run a quarter as many, the command line a
twentieth, Terraform a sixteenth (at least 2 each). ``FUZZ_SHRINK=1`` shrinks a failing example
to a minimal one (slow through processes; ``make fuzz`` sets it).

:data:`KNOWN_FAILING` lists the properties today's code does not keep, marked ``xfail``
(not strict) in this one place, so that removing an entry is all it takes once its fix lands.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from provider.catalog import Hooks
from provider.client import BasetenClient
from provider.errors import INTERNAL, AuthenticationError, NotFoundError
from provider.lifecycle import parse_resource_id
from provider.lookup import DeploymentQuery
from provider.reads import READS_BY_NAME
from tests import terraform_plan as example_plan
from tests.conftest import FAST_RETRY, PROJECT_DIR, TEST_KEY
from tests.engine_steps import up
from tests.hostile_server import Exchange, HostileServer, raw_answer
from tests.plugin_engine import PluginCallError, PluginProcess, RecordingEngine, secret
from tests.provider_host import ProviderHost, ProviderHostError
from tests.reliability.common import renderings
from tests.reliability.fuzz.answers import (
    CHAIN,
    DEPLOYMENT,
    ENVIRONMENT,
    KINDS,
    LONG_KEY,
    Answer,
    Token,
    encode,
    keyed_answers,
)
from tests.reliability.fuzz.oracle import (
    OUTPUT_FACTOR,
    SLACK,
    TIMEOUT,
    Verdict,
    asked_problems,
    expected_errors,
    key_hits,
    raw_characters,
    titles,
)

pytestmark = pytest.mark.family("fuzz")

DEFAULT_EXAMPLES = 50
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
SHRINK = os.environ.get("FUZZ_SHRINK") == "1"
BUDGETS = {
    "library": EXAMPLES,
    "provider": max(EXAMPLES // 4, 2),
    "plugin": max(EXAMPLES // 4, 2),
    "cli": max(EXAMPLES // 20, 2),
    "terraform": max(EXAMPLES // 16, 2),
}
# The longest string an answer holds, per front end: megabytes where they are cheap (and
# where a redaction costing key length times body size shows), less through processes.
# The scorecard's short run stays at about a megabyte: decoding 4 MB costs a second or two.
CAPS = {"library": 4_200_000 if EXAMPLES > DEFAULT_EXAMPLES else 1_100_000}
CAPS.update(provider=70_000, plugin=70_000)
CAPS.update(cli=1_100_000, terraform=70_000)
# Seconds one example may take at worst (a hang is cut at the call's own timeout), for the
# test's timeout: Hypothesis runs all examples of a test inside one pytest test.
WORST = {"library": 8.0, "provider": 10.0, "plugin": 10.0, "cli": 15.0, "terraform": 30.0}
CALL_TIMEOUT = TIMEOUT + SLACK + 3.0
"""A gRPC call still unanswered after this is cut (and breaks the time bound)."""
TERRAFORM_SLACK = 4.0
"""Terraform's own work after the read: the plan, the state, stopping the provider."""
CLI_MEMORY = 2 * 1024**3
"""The command line's address space: a runaway rendering fails it instead of the machine."""
NO_API_ENV: dict[str, str | None] = {
    "BASETEN_API_KEY": None,
    "BASETEN_API_URL": None,
    "BASETEN_DEBUG": None,
    "BASETEN_PLUGIN_SIMULATED_TIME": None,
}
PROVIDER_KEY = TEST_KEY
PLUGIN_KEY = LONG_KEY

KNOWN_FAILING: dict[str, str] = {}
"""``front end[kind]`` -> why today's code fails it (an xfail, not strict). Remove an entry
once its fix is merged; the scorecard then holds the property for good. Empty since issue
16's fixes were merged: before them all 13 properties failed (the commit that emptied this
list names a minimal example of each)."""


def params(front_end: str, kinds: tuple[str, ...] = KINDS) -> list[Any]:
    out = []
    for kind in kinds:
        reason = KNOWN_FAILING.get(f"{front_end}[{kind}]")
        marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
        out.append(pytest.param(kind, marks=marks, id=kind))
    return out


def profile(front_end: str) -> settings:
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if SHRINK else [])
    return settings(
        max_examples=BUDGETS[front_end],
        deadline=None,
        derandomize=True,
        database=None,
        phases=phases,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


def time_limit(front_end: str) -> pytest.MarkDecorator:
    shrinking = 4 if SHRINK else 1
    return pytest.mark.timeout(60 + WORST[front_end] * BUDGETS[front_end] * shrinking)


# -- the server -------------------------------------------------------------------------------


class Stage:
    """The module's server and the answer it gives to every request for now."""

    def __init__(self) -> None:
        self.server = HostileServer(default=self._serve, max_connections=1_000_000)
        self.answer: Answer | None = None
        self.first_request: float | None = None
        self._seen_before = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.server.url

    def put(self, answer: Answer) -> None:
        with self._lock:
            self.answer = answer
            self.first_request = None
            self._seen_before = len(self.server.seen)

    def methods(self) -> set[str]:
        return {method for method, _ in self.server.seen[self._seen_before :]}

    def _serve(self, exchange: Exchange) -> None:
        with self._lock:
            answer = self.answer
            if self.first_request is None:
                self.first_request = time.monotonic()
        if answer is None:
            return
        raw_answer(answer.status, answer.reason, answer.all_headers(), answer.body)(exchange)


@pytest.fixture(scope="module")
def stage() -> Iterator[Stage]:
    staged = Stage()
    with staged.server:
        yield staged


def _target(kind: str) -> dict[str, Any]:
    if kind == "deployment":
        return {"chain_id": CHAIN, "chain_deployment_id": DEPLOYMENT}
    return {"chain_id": CHAIN, "environment": ENVIRONMENT}


def _common(verdict: Verdict, stage: Stage) -> None:
    verdict.check("only GET", stage.methods() <= {"GET"}, sorted(stage.methods()))


# -- the library ----------------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(f"{record.getMessage()} {record.exc_text or ''}")


@time_limit("library")
@pytest.mark.parametrize("kind", params("library"))
@profile("library")
@given(data=st.data())
def test_any_answer_through_the_library_keeps_the_invariants(
    stage: Stage, kind: str, data: st.DataObject
) -> None:
    # An error's body is cut to a message: megabytes of it cost time and show nothing more.
    cap = CAPS["library"] if kind != "error" else CAPS["cli"]
    key, answer = data.draw(keyed_answers(kind, cap), label="key, answer")
    stage.put(answer)
    verdict = Verdict("library")
    said: list[str] = []
    records = _Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    query = DeploymentQuery.parse({**_target(kind), "timeout_seconds": TIMEOUT})
    result = error = None
    started = time.monotonic()
    try:
        with BasetenClient(
            api_key=key, base_url=stage.url, retry=FAST_RETRY, on_warning=said.append
        ) as client:
            result = query.resolve(
                client, on_progress=lambda p: said.append(str(p)), on_warning=said.append
            )
    except Exception as exc:
        error = exc
    finally:
        root.removeHandler(records)
        root.setLevel(level)
    verdict.on_time(time.monotonic() - started)
    allowed = expected_errors(answer, kind)
    verdict.check(
        "documented outcome",
        error is None or isinstance(error, allowed),
        f"{type(error).__name__}: {str(error)[:300]!r} (expected {[c.__name__ for c in allowed]})",
    )
    dumped = ""
    if result is not None:
        try:
            dumped = result.model_dump_json()
        except Exception as exc:  # a model no front end can write out
            verdict.check("documented outcome", False, f"the result does not dump: {exc!r}")
    places = {"result": dumped, "said": "\n".join(said), "log": "\n".join(records.texts)}
    if error is not None:
        places["error"] = "\n".join(renderings(error))
        verdict.clean("the error's message", str(error))
    # Warnings stay in this process (each front end shows them through its own way out).
    verdict.no_key(places, key)
    if result is not None:
        problems = asked_problems(answer, kind, result.chain_id, result.id)
        verdict.check("answer as asked", not problems, "; ".join(problems))
    _common(verdict, stage)
    verdict.done()


@time_limit("library")
@pytest.mark.parametrize("kind", params("library", ("deployments",)))
@profile("library")
@given(data=st.data())
def test_any_answer_to_a_catalog_list_read_keeps_the_invariants(
    stage: Stage, kind: str, data: st.DataObject
) -> None:
    # A read declared in the catalog (here get_chain_deployments) takes the same decode,
    # redaction and answer checks as the deployment lookup: the same invariants hold.
    key, answer = data.draw(keyed_answers(kind, CAPS["cli"]), label="key, answer")
    stage.put(answer)
    verdict = Verdict("library")
    read = READS_BY_NAME["chain_deployments"]
    outputs: dict[str, Any] | None = None
    error = None
    started = time.monotonic()
    try:
        query = read.parse({"chain_id": CHAIN, "timeout_seconds": TIMEOUT})
        with BasetenClient(api_key=key, base_url=stage.url, retry=FAST_RETRY) as client:
            outputs = read.outputs_of(query, read.run(query, client, hooks=Hooks()))
    except Exception as exc:
        error = exc
    verdict.on_time(time.monotonic() - started)
    allowed = expected_errors(answer, kind)
    verdict.check(
        "documented outcome",
        error is None or isinstance(error, allowed),
        f"{type(error).__name__}: {str(error)[:300]!r} (expected {[c.__name__ for c in allowed]})",
    )
    places = {"outputs": json.dumps(outputs, default=repr)}
    if error is not None:
        places["error"] = "\n".join(renderings(error))
        verdict.clean("the error's message", str(error))
    verdict.no_key(places, key)
    for deployment in (outputs or {}).get("deployments", []):
        problems = asked_problems(answer, kind, deployment["chain_id"], deployment["id"])
        verdict.check("answer as asked", not problems, "; ".join(problems))
    _common(verdict, stage)
    verdict.done()


# -- the command line -----------------------------------------------------------------------

CLI_COMMANDS = (("get", "--json"), ("get",), ("check",))


def _cli_argv(command: tuple[str, ...], kind: str) -> list[str]:
    target = [CHAIN, DEPLOYMENT] if kind == "deployment" else [CHAIN, "--environment", ENVIRONMENT]
    return [command[0], *target, *command[1:], "--timeout", f"{TIMEOUT:g}"]


@time_limit("cli")
@pytest.mark.parametrize("kind", params("cli"))
@profile("cli")
@given(data=st.data())
def test_any_answer_through_the_command_line_keeps_the_invariants(
    stage: Stage, kind: str, data: st.DataObject, tmp_path: Path
) -> None:
    command = data.draw(st.sampled_from(CLI_COMMANDS), label="command")
    key, answer = data.draw(keyed_answers(kind, CAPS["cli"]), label="key, answer")
    stage.put(answer)
    verdict = Verdict("cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASETEN_")}
    env.update(BASETEN_API_KEY=key, BASETEN_API_URL=stage.url)
    # The shell's ulimit, not preexec_fn: this process runs threads (the server's).
    argv = [
        "/bin/sh",
        "-c",
        f'ulimit -v {CLI_MEMORY // 1024} && exec "$0" "$@"',
        sys.executable,
        "-m",
        "provider",
        *_cli_argv(command, kind),
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        try:
            code: int | None = subprocess.run(
                argv,
                cwd=PROJECT_DIR,
                env=env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                timeout=60,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            code = None
        ended = time.monotonic()
        sizes = out.tell(), err.tell()
        out.seek(0)
        err.seek(0)
        stdout = out.read(8 * 1024 * 1024).decode("utf-8", "surrogateescape")
        stderr = err.read(1024 * 1024).decode("utf-8", "surrogateescape")
    verdict.on_time(ended - (stage.first_request or started))
    allowed_codes = {3}
    if answer.status == 200:
        allowed_codes |= {0, 1} if command[0] == "check" else {0}
    verdict.check(
        "documented outcome",
        code in allowed_codes and "Traceback" not in stderr,
        f"exit {code} (expected one of {sorted(allowed_codes)}): {stderr[-400:]!r}",
    )
    limit = OUTPUT_FACTOR * len(answer.body) + 100_000
    verdict.check(
        "bounded output",
        sum(sizes) <= limit,
        f"printed {sizes[0]} + {sizes[1]} bytes for an answer of {len(answer.body)} bytes",
    )
    verdict.no_key({"stdout": stdout, "stderr": stderr}, key)
    verdict.clean("stderr", stderr, multiline=True)
    if "--json" not in command:
        verdict.clean("stdout", stdout, multiline=True)
    elif code == 0:
        try:
            shown = json.loads(stdout, parse_constant=_no_constant)
        except ValueError as exc:
            verdict.check("documented outcome", False, f"--json printed no JSON: {exc}")
        else:
            problems = asked_problems(answer, kind, shown.get("chain_id"), shown.get("id"))
            verdict.check("answer as asked", not problems, "; ".join(problems))
    _common(verdict, stage)
    verdict.done()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# -- the dynamic provider host --------------------------------------------------------------


@pytest.fixture(scope="module")
def host(stage: Stage) -> Iterator[ProviderHost]:
    with ProviderHost(env=NO_API_ENV, call_timeout=CALL_TIMEOUT) as started:
        started.configure_api(PROVIDER_KEY, stage.url)
        yield started


def _resource_id_problems(answer: Answer, kind: str, id_: str) -> list[str]:
    try:
        chain_id, deployment_id = parse_resource_id(id_)
    except Exception as exc:
        return [f"the resource id {id_[:100]!r} does not parse: {exc}"]
    return asked_problems(answer, kind, chain_id, deployment_id)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@time_limit("provider")
@pytest.mark.parametrize("kind", params("provider"))
@profile("provider")
@given(data=st.data())
def test_any_answer_through_the_dynamic_provider_keeps_the_invariants(
    stage: Stage, host: ProviderHost, kind: str, data: st.DataObject
) -> None:
    key, answer = data.draw(keyed_answers(kind, CAPS["provider"], (PROVIDER_KEY,)), label="answer")
    stage.put(answer)
    verdict = Verdict("provider")
    stderr_before = len(host.stderr)
    props = {**_target(kind), "wait_for": [], "timeout_seconds": TIMEOUT}
    created: dict[str, Any] | None = None
    error: ProviderHostError | None = None
    started = time.monotonic()
    try:
        created = up(host, props)
    except ProviderHostError as exc:
        error = exc
    verdict.on_time(time.monotonic() - started)
    allowed = titles(expected_errors(answer, kind))
    if error is not None:
        last = _last_line(error.details)
        verdict.check(
            "documented outcome",
            error.code == grpc.StatusCode.UNKNOWN
            and last.startswith("provider.resource.EngineError: ")
            and any(title in last for title in allowed)
            and INTERNAL.title not in error.details,
            f"{error.code.name}: {last[:400]!r} (expected one of {allowed})",
        )
        verdict.clean("the error's message", last)
    places = {
        "outputs": json.dumps(created, default=repr) if created else "",
        "error": error.details if error else "",
        "stderr": host.stderr[stderr_before:],
    }
    verdict.no_key(places, key)
    if created is not None:
        problems = _resource_id_problems(answer, kind, created["id"])
        verdict.check("answer as asked", not problems, "; ".join(problems))
    _common(verdict, stage)
    verdict.done()


# -- the plugin -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Iterator[RecordingEngine]:
    with RecordingEngine() as started:
        yield started


@pytest.fixture(scope="module")
def plugin(stage: Stage, engine: RecordingEngine) -> Iterator[PluginProcess]:
    with PluginProcess(engine.address, env=NO_API_ENV, call_timeout=CALL_TIMEOUT) as started:
        started.handshake(engine.address)
        checked = started.check_config(
            {"apiKey": secret(PLUGIN_KEY), "apiUrl": stage.url, "version": "0.1.0"}
        )
        assert checked["failures"] == []
        started.configure(checked["inputs"])
        yield started


PLUGIN_CODES = {
    AuthenticationError: grpc.StatusCode.UNAUTHENTICATED,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
}


@time_limit("plugin")
@pytest.mark.parametrize("kind", params("plugin"))
@profile("plugin")
@given(data=st.data())
def test_any_answer_through_the_plugin_keeps_the_invariants(
    stage: Stage, plugin: PluginProcess, engine: RecordingEngine, kind: str, data: st.DataObject
) -> None:
    call = data.draw(st.sampled_from(("invoke", "create")), label="call")
    key, answer = data.draw(keyed_answers(kind, CAPS["plugin"], (PLUGIN_KEY,)), label="answer")
    stage.put(answer)
    engine.clear()
    verdict = Verdict("plugin")
    marks = len(plugin.responses), len(plugin.errors), len(plugin.stderr)
    target = _target(kind)
    args: dict[str, Any] = {"chainId": target["chain_id"], "timeoutSeconds": TIMEOUT}
    if kind == "deployment":
        args["chainDeploymentId"] = DEPLOYMENT
    else:
        args["environment"] = ENVIRONMENT
    outputs: dict[str, Any] | None = None
    resource_id = None
    error: PluginCallError | None = None
    started = time.monotonic()
    try:
        if call == "invoke":
            invoked = plugin.invoke(args)
            verdict.check("documented outcome", invoked["failures"] == [], invoked["failures"])
            outputs = invoked["return"]
        else:
            created = up(plugin, {**args, "waitFor": []})
            outputs, resource_id = created["properties"], created["id"]
    except PluginCallError as exc:
        error = exc
    verdict.on_time(time.monotonic() - started)
    allowed = expected_errors(answer, kind)
    if error is not None:
        codes = {PLUGIN_CODES.get(c, grpc.StatusCode.UNAVAILABLE) for c in allowed}
        verdict.check(
            "documented outcome",
            error.code in codes and error.details.startswith(titles(allowed)),
            f"{error.code.name}: {error.details[:400]!r} (expected {sorted(codes, key=str)})",
        )
        verdict.clean("the error's message", error.details)
    lines = [line.message for line in engine.lines]
    for i, line in enumerate(lines):
        verdict.clean(f"engine log line {i}", line)
    places = {
        "responses": "\n".join(str(r) for r in plugin.responses[marks[0] :]),
        "errors": "\n".join(e.details for e in plugin.errors[marks[1] :]),
        "stderr": plugin.stderr[marks[2] :],
        "engine log": "\n".join(lines),
    }
    verdict.no_key(places, key)
    if outputs is not None:
        if resource_id is not None:
            problems = _resource_id_problems(answer, kind, resource_id)
        else:
            problems = asked_problems(
                answer, kind, outputs.get("chainId"), outputs.get("chainDeploymentId")
            )
        verdict.check("answer as asked", not problems, "; ".join(problems))
    _common(verdict, stage)
    verdict.done()


# -- terraform ------------------------------------------------------------------------------

TERRAFORM_CONFIG = """\
terraform {
  required_providers {
    baseten = { source = "local.invalid/pulumi-baseten-chains/baseten" }
  }
}
variable "api_key" {
  type      = string
  sensitive = true
}
variable "api_url" { type = string }
provider "baseten" {
  api_key = var.api_key
  api_url = var.api_url
}
data "baseten_chain_deployment" "this" {
  chain_id        = "%(chain)s"
  %(target)s
  timeout_seconds = %(timeout)g
}
"""


@pytest.fixture(scope="module")
def tf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A configuration folder and HOME with the CLI config serving this provider."""
    from tests.test_terraform import require_terraform

    require_terraform(os.environ)
    home = tmp_path_factory.mktemp("fuzz-tf-home")
    example_plan.write_cli_config(home)
    return home


def _terraform_summaries(text: str) -> list[str]:
    return [line.split("Error: ", 1)[1] for line in text.splitlines() if "Error: " in line]


@time_limit("terraform")
@pytest.mark.parametrize("kind", params("terraform", ("any",)))
@profile("terraform")
@given(data=st.data())
def test_any_answer_through_terraform_keeps_the_invariants(
    stage: Stage, tf_dir: Path, kind: str, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    key, answer = data.draw(keyed_answers(kind, CAPS["terraform"]), label="key, answer")
    stage.put(answer)
    verdict = Verdict("terraform")
    work = tf_dir / "work"
    work.mkdir(exist_ok=True)
    for old in work.glob("terraform.tfstate*"):
        old.unlink()
    target = (
        f'chain_deployment_id = "{DEPLOYMENT}"'
        if kind == "deployment"
        else f'environment = "{ENVIRONMENT}"'
    )
    (work / "main.tf").write_text(
        TERRAFORM_CONFIG % {"chain": CHAIN, "target": target, "timeout": TIMEOUT}
    )
    env = example_plan.offline_env(
        tf_dir / "terraformrc",
        {"HOME": str(tf_dir), "TF_VAR_api_key": key, "TF_VAR_api_url": stage.url},
    )
    for name in [k for k in env if k.startswith("BASETEN_")]:
        del env[name]
    started = time.monotonic()
    try:
        done = example_plan.run_terraform(
            ["apply", "-auto-approve", "-input=false", "-no-color"], cwd=work, env=env, timeout=90
        )
        code: int | None = done.returncode
        printed = done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        code, printed = None, ""
    ended = time.monotonic()
    verdict.on_time(ended - (stage.first_request or started), TIMEOUT + TERRAFORM_SLACK)
    classes = expected_errors(answer, kind)
    allowed = titles(classes)
    summaries = _terraform_summaries(printed)
    # Terraform names what was not found ("Chain deployment not found", "Environment ...").
    missing = NotFoundError in classes
    verdict.check(
        "documented outcome",
        (code == 0 or (code == 1 and summaries))
        and all(s.startswith(allowed) or (missing and "not found" in s) for s in summaries)
        and "Traceback" not in printed,
        f"exit {code}, errors {[s[:200] for s in summaries]} (expected {allowed})",
    )
    diagnostics = "\n".join(line for line in printed.splitlines() if line.startswith("│"))
    verdict.clean("terraform's diagnostics", diagnostics, multiline=True)
    places = {"output": printed}
    for path in work.rglob("*"):
        if path.is_file():
            places[path.name] = path.read_bytes().decode("utf-8", "surrogateescape")
    verdict.no_key(places, key)
    state_file = work / "terraform.tfstate"
    if code == 0 and state_file.exists():
        state = json.loads(state_file.read_text())
        found = [r for r in state.get("resources", []) if r.get("mode") == "data"]
        attributes = found[0]["instances"][0]["attributes"] if found else {}
        problems = asked_problems(answer, kind, attributes.get("chain_id"), attributes.get("id"))
        verdict.check("answer as asked", not problems, "; ".join(problems))
    _common(verdict, stage)
    verdict.done()


# -- the instruments ------------------------------------------------------------------------


@pytest.mark.family("fuzz", check=True)
def test_the_oracle_sees_the_key_through_invisible_characters_raw_or_escaped() -> None:
    shown = "\u200b".join(TEST_KEY[i : i + 7] for i in range(0, len(TEST_KEY), 7))
    assert key_hits({"raw": shown}, TEST_KEY)
    assert key_hits({"escaped": shown.replace("\u200b", "\\u200b")}, TEST_KEY)
    assert key_hits({"fragment": f"x{TEST_KEY[3:11]}x"}, TEST_KEY)
    assert not key_hits({"apart": f"{TEST_KEY[:7]} {TEST_KEY[7:14]}"}, TEST_KEY)


@pytest.mark.family("fuzz", check=True)
def test_the_oracle_finds_raw_control_bidi_and_invisible_characters() -> None:
    for raw in ("\x1b[2J", "\x9b", "\u202e", "\u200b", "\u2028", "\ud800", "\U000e0041"):
        assert raw_characters(f"a{raw}b", multiline=True), repr(raw)
    assert raw_characters("a\nb", multiline=False)
    assert not raw_characters("a\nb\tc \\x1b \\u202e \U0001f600 \u0645", multiline=True)


@pytest.mark.family("fuzz", check=True)
def test_answers_hold_what_json_dumps_would_not_write() -> None:
    value = {"a": Token("NaN"), "b": 10**400, "c": "\ud800", "d": TEST_KEY}
    assert encode(value, "ascii") == (
        b'{"a":NaN,"b":1' + b"0" * 400 + b',"c":"\\ud800","d":"' + TEST_KEY.encode() + b'"}'
    )
    assert b"\xed\xa0\x80" in encode(value, "utf8")  # a lone surrogate as raw bytes
    hidden = encode(value, "escape_all")
    assert TEST_KEY[:8].encode() not in hidden
    assert json.loads(hidden.replace(b"NaN", b"0").replace(b"\\ud800", b""))["d"] == TEST_KEY
