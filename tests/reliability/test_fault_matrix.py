"""The fault matrix: every way the API (or the way to it) can misbehave, through the client and
through the dynamic provider, each with its expected outcome and a bound on attempts and time.

* Through the client: a :class:`BasetenClient` with the test retry policy (``FAST_RETRY``:
  4 attempts, millisecond waits) and short timeouts where a case is about time.
* Through the provider: the real ``python -m pulumi.dynamic`` host over gRPC (one for the
  module, as under the engine), configured with the key as a secret; ``Check`` then ``Create``,
  with the provider's own defaults (5 attempts, 0.5 s initial backoff, 30 s read timeout). So
  cases that end in an error after every retry use server advice of 0 s (``Retry-After: 0``)
  or cost the real backoff (connection refused, retried once: about 0.5 s).

Attempts are counted in the emulator's request log (exactly); time is checked against what the
retry policy guarantees (:func:`tests.reliability.common.time_bound`), never against a target.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from provider.client import MAX_RESPONSE_BYTES, BasetenClient, RetryPolicy
from provider.emulator import (
    Emulator,
    deployment_path,
    load_default_fixtures,
    make_deployment,
)
from provider.errors import (
    PRESENTATIONS,
    AuthenticationError,
    BasetenError,
    NotFoundError,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
    TransportError,
)
from provider.models import ChainDeployment
from provider.outputs import deployment_from_outputs
from tests.conftest import FAST_RETRY, TEST_KEY
from tests.emulator_faults import Fault
from tests.provider_host import ProviderHost, ProviderHostError
from tests.reliability.common import (
    CHAIN,
    DEFAULT_POLICY,
    DEFAULT_TIMEOUT,
    DEP,
    MISSING_CHAIN,
    MISSING_DEP,
    Stopwatch,
    closed_loopback_port,
    renderings,
    time_bound,
    wait_for_log,
)

pytestmark = pytest.mark.family("faults")

NO_API_ENV: dict[str, str | None] = {"BASETEN_API_KEY": None, "BASETEN_API_URL": None}
UNKNOWN = "QUANTUM_FLUX"


@dataclass(frozen=True)
class Outcome:
    """What a case must end in: a deployment (``error is None``) or ``error`` whose message
    holds ``text``, after exactly ``attempts`` requests (``None``: none reach the emulator)."""

    attempts: int | None
    error: type[BasetenError] | None = None
    text: str = ""
    check: Callable[[ChainDeployment], bool] | None = None
    advised_wait: float | None = None
    # Attempts made when none reach the emulator (None: the policy's max_attempts).
    tries: int | None = None


@dataclass(frozen=True)
class Case:
    """One fault, queued on the deployment path (``provider_faults`` where the provider's
    default timeouts call for a variant), and its outcome through each path (``None``: not
    run through that path)."""

    name: str
    faults: tuple[Fault, ...] = ()
    chain_id: str = CHAIN
    deployment_id: str = DEP
    refused: bool = False
    timeout: tuple[float, float] = (2.0, 2.0)
    wait_for: tuple[str, ...] = ("ACTIVE",)
    client: Outcome | None = None
    provider: Outcome | None = None
    provider_faults: tuple[Fault, ...] | None = None
    raw_answer: tuple[bytes, tuple[tuple[str, str], ...]] | None = None

    @property
    def path(self) -> str:
        return deployment_path(self.chain_id, self.deployment_id)


def ok(attempts: int, check: Callable[[ChainDeployment], bool] | None = None) -> Outcome:
    return Outcome(attempts, check=check)


def fails(
    error: type[BasetenError], text: str, attempts: int | None, advised: float | None = None
) -> Outcome:
    return Outcome(attempts, error, text, advised_wait=advised)


GZIPPED = gzip.compress(json.dumps(make_deployment(CHAIN, DEP)).encode())
GZIP_BOMB = gzip.compress(b"[" + b" " * (MAX_RESPONSE_BYTES + 1) + b"]")
C_ATTEMPTS = FAST_RETRY.max_attempts
P_ATTEMPTS = DEFAULT_POLICY.max_attempts


def _status(value: str) -> Callable[[ChainDeployment], bool]:
    return lambda d: str(d.status) == value


def _first_chainlet_status(value: str) -> Callable[[ChainDeployment], bool]:
    return lambda d: str(d.chainlets[0].status) == value and str(d.status) == "ACTIVE"


def _extras_kept(d: ChainDeployment) -> bool:
    extra = d.model_extra or {}
    return extra.get("labels") == {"team": "ml-platform"} and d.chainlets[0].name == "Entrypoint"


CASES: list[Case] = [
    Case(
        "429 with Retry-After header",
        (Fault("rate_limit", retry_after=0),),
        client=ok(2),
        provider=ok(2),
    ),
    Case(
        "429 with retry_after body field",
        (Fault("rate_limit", retry_after_body=0),),
        client=ok(2),
        provider=ok(2),
    ),
    Case(
        "429 forever",
        (Fault("rate_limit", times=None, retry_after=0),),
        client=fails(RateLimitedError, f"gave up after {C_ATTEMPTS} attempts", C_ATTEMPTS, 0),
        provider=fails(RateLimitedError, f"gave up after {P_ATTEMPTS} attempts", P_ATTEMPTS, 0),
    ),
    *[
        Case(f"{status} once", (Fault("status", status=status),), client=ok(2), provider=ok(2))
        for status in (500, 502, 503, 504)
    ],
    Case(
        "5xx that recovers after two attempts",
        (Fault("status", status=503, times=2),),
        client=ok(3),
        provider=ok(3),
    ),
    Case(
        "5xx forever",
        (Fault("status", status=502, times=None),),
        client=fails(ServerError, f"HTTP 502: Bad gateway (after {C_ATTEMPTS} attempts)", 4),
    ),
    Case("dropped connection", (Fault("drop"),), client=ok(2), provider=ok(2)),
    Case(
        "connection refused",
        refused=True,
        # Rarely transient: one retry, whatever the policy allows.
        client=Outcome(None, TransportError, "connection refused (127.0.0.1:", tries=2),
        provider=Outcome(None, TransportError, "connection refused (127.0.0.1:", tries=2),
    ),
    Case(
        "read hang (timeout)",
        (Fault("hang", seconds=1.0, times=None),),
        timeout=(1.0, 0.2),
        client=fails(TransportError, "timed out: no answer within 0.2s", 4),
        # Through the provider (30 s read timeout) the hang ends with the server closing the
        # connection after 0.3 s: a dead answer, retried.
        provider_faults=(Fault("hang", seconds=0.3),),
        provider=ok(2),
    ),
    Case(
        "slow trickle within the bound",
        (Fault("slow_trickle", seconds=0.3),),
        client=ok(1),
        provider=ok(1),
    ),
    Case(
        "slow trickle past the bound, once",
        (Fault("slow_trickle", seconds=1.0),),
        timeout=(1.0, 0.25),
        client=ok(2),
    ),
    Case(
        "slow trickle past the bound, forever",
        (Fault("slow_trickle", seconds=1.0, times=None),),
        timeout=(1.0, 0.25),
        client=fails(TransportError, "answered too slowly", C_ATTEMPTS),
    ),
    Case(
        "malformed JSON",
        (Fault("malformed_json"),),
        client=fails(ResponseFormatError, "the response body is truncated JSON", 1),
        provider=fails(ResponseFormatError, "the response body is truncated JSON", 1),
    ),
    Case("truncated JSON", (Fault("truncated_json"),), client=ok(2), provider=ok(2)),
    Case(
        "HTML error page with 200",
        (Fault("html"),),
        client=fails(ResponseFormatError, "Content-Type 'text/html'", 1),
        provider=fails(ResponseFormatError, "Content-Type 'text/html'", 1),
    ),
    Case(
        "empty body",
        (Fault("empty_body"),),
        client=fails(ResponseFormatError, "the response body is empty", 1),
        provider=fails(ResponseFormatError, "the response body is empty", 1),
    ),
    Case(
        "wrong content type",
        (Fault("wrong_content_type"),),
        client=fails(ResponseFormatError, "Content-Type 'text/plain'", 1),
        provider=fails(ResponseFormatError, "Content-Type 'text/plain'", 1),
    ),
    Case(
        "missing required field",
        (Fault("missing_field", field="chainlets.0.instance_type_name"),),
        client=fails(ResponseFormatError, "chainlets[0].instance_type_name", 1),
        provider=fails(ResponseFormatError, "chainlets[0].instance_type_name", 1),
    ),
    Case(
        "null chainlets",
        (Fault("null_chainlets"),),
        client=fails(ResponseFormatError, "field 'chainlets'", 1),
        provider=fails(ResponseFormatError, "field 'chainlets'", 1),
    ),
    Case(
        "unknown deployment status",
        (Fault("unknown_status", value=UNKNOWN),),
        wait_for=(),
        client=ok(1, _status(UNKNOWN)),
        provider=ok(1, _status(UNKNOWN)),
    ),
    Case(
        "unknown chainlet status",
        (Fault("unknown_chainlet_status", value=UNKNOWN),),
        wait_for=(),
        client=ok(1, _first_chainlet_status(UNKNOWN)),
        provider=ok(1, _first_chainlet_status(UNKNOWN)),
    ),
    Case(
        "extra fields",
        (Fault("extra_fields"),),
        client=ok(1, _extras_kept),
        provider=ok(1, lambda d: d.chainlets[0].name == "Entrypoint"),
    ),
    Case(
        "gzip-encoded body",
        raw_answer=(GZIPPED, (("Content-Encoding", "gzip"),)),
        client=ok(1, lambda d: d.chainlets[2].name == "Generator"),
        provider=ok(1, lambda d: d.chainlets[2].name == "Generator"),
    ),
    Case(
        "oversized body (a gzip bomb)",
        raw_answer=(GZIP_BOMB, (("Content-Encoding", "gzip"),)),
        client=fails(ResponseFormatError, "larger than 16 MiB", 1),
        provider=fails(ResponseFormatError, "larger than 16 MiB", 1),
    ),
    Case(
        "401",
        (Fault("status", status=401),),
        client=fails(AuthenticationError, "HTTP 401: Invalid or missing API key", 1),
        provider=fails(AuthenticationError, "HTTP 401: Invalid or missing API key", 1),
    ),
    Case(
        "403",
        (Fault("status", status=403),),
        client=fails(AuthenticationError, "HTTP 403: You do not have permission", 1),
        provider=fails(AuthenticationError, "HTTP 403: You do not have permission", 1),
    ),
    Case(
        "404 for the chain",
        chain_id=MISSING_CHAIN,
        client=fails(NotFoundError, f"of chain '{MISSING_CHAIN}' was not found", 1),
        provider=fails(NotFoundError, f"of chain '{MISSING_CHAIN}' was not found", 1),
    ),
    Case(
        "404 for the deployment",
        deployment_id=MISSING_DEP,
        client=fails(NotFoundError, f"deployment '{MISSING_DEP}' of chain '{CHAIN}'", 1),
        provider=fails(NotFoundError, f"deployment '{MISSING_DEP}' of chain '{CHAIN}'", 1),
    ),
]

CLIENT_CASES = [c for c in CASES if c.client is not None]
PROVIDER_CASES = [c for c in CASES if c.provider is not None]


def _slow_requests_need_time(case: Case) -> bool:
    return any(f.kind in ("hang", "slow_trickle") for f in case.faults)


# -- through the client --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CLIENT_CASES, ids=lambda c: c.name)
def test_fault_through_the_client_has_its_defined_outcome_within_bounds(
    emulator: Emulator, case: Case
) -> None:
    outcome = case.client
    assert outcome is not None
    for fault in case.faults:
        emulator.add_fault(fault, case.path)
    if case.raw_answer is not None:
        emulator.add_raw_answer(case.raw_answer[0], case.path, headers=case.raw_answer[1])
    url = f"http://127.0.0.1:{closed_loopback_port()}" if case.refused else emulator.url
    policy: RetryPolicy = FAST_RETRY
    result: ChainDeployment | None = None
    error: BasetenError | None = None
    with (
        BasetenClient(api_key=TEST_KEY, base_url=url, retry=policy, timeout=case.timeout) as c,
        Stopwatch() as watch,
    ):
        try:
            result = c.get_chain_deployment(case.chain_id, case.deployment_id)
        except BasetenError as exc:
            error = exc

    attempts = outcome.attempts if outcome.attempts is not None else policy.max_attempts
    attempts = outcome.tries or attempts
    bound = time_bound(policy, case.timeout, attempts, advised=outcome.advised_wait)
    assert watch.seconds <= bound, f"{case.name}: {watch.seconds:.2f}s > bound {bound:.2f}s"
    if outcome.error is None:
        assert error is None, f"{case.name}: expected success, got {error!r}"
        assert result is not None and result.chain_id == CHAIN
        if outcome.check is not None:
            assert outcome.check(result)
    else:
        assert isinstance(error, outcome.error), f"{case.name}: got {error!r}"
        assert outcome.text in str(error)
        for text in renderings(error):
            assert TEST_KEY not in text
        if isinstance(error, RateLimitedError | ServerError | TransportError):
            assert error.attempts == attempts
    if outcome.attempts is None:
        assert emulator.requests == []
        return
    if _slow_requests_need_time(case):
        emulator.close()  # cut hangs and trickles short so every attempt reaches the log
        wait_for_log(emulator, case.path, outcome.attempts)
    assert len(emulator.requests_for(case.path)) == outcome.attempts
    for fault in case.faults:
        if fault.kind == "slow_trickle" and case.timeout[1] < fault.seconds:
            # Each trickle was abandoned by the client before its last byte was due.
            trickled = emulator.requests_for(case.path)
            assert any(r.finished - r.started < fault.seconds for r in trickled)


# -- through the dynamic provider (the real host) -------------------------------------------


@pytest.fixture(scope="module")
def host(shared_emulator: Emulator) -> Iterator[ProviderHost]:
    with ProviderHost(env=NO_API_ENV) as h:
        h.configure_api(TEST_KEY, shared_emulator.url)
        yield h


def _inputs(case: Case) -> dict[str, Any]:
    return {
        "chain_id": case.chain_id,
        "chain_deployment_id": case.deployment_id,
        "wait_for": list(case.wait_for),
        "timeout_seconds": 60.0,
    }


def _up(h: ProviderHost, case: Case) -> dict[str, Any]:
    checked = h.check({}, _inputs(case))
    assert checked["failures"] == []
    return h.create(checked["inputs"])


@pytest.mark.parametrize("case", PROVIDER_CASES, ids=lambda c: c.name)
def test_fault_through_the_provider_has_its_defined_outcome_within_bounds(
    shared_emulator: Emulator, host: ProviderHost, case: Case
) -> None:
    emulator = shared_emulator
    outcome = case.provider
    assert outcome is not None
    emulator.clear_faults()
    load_default_fixtures(emulator)
    emulator.clear_requests()
    for fault in case.provider_faults if case.provider_faults is not None else case.faults:
        emulator.add_fault(fault, case.path)
    if case.raw_answer is not None:
        emulator.add_raw_answer(case.raw_answer[0], case.path, headers=case.raw_answer[1])
    created: dict[str, Any] | None = None
    error: ProviderHostError | None = None
    if case.refused:
        refused_host = ProviderHost(env=NO_API_ENV)
        refused_host.start()
        try:
            refused_host.configure(
                {
                    "baseten:apiKey": TEST_KEY,
                    "baseten:apiUrl": f"http://127.0.0.1:{closed_loopback_port()}",
                },
                secret_keys=["baseten:apiKey"],
            )
            with Stopwatch() as watch:
                try:
                    created = _up(refused_host, case)
                except ProviderHostError as exc:
                    error = exc
        finally:
            refused_host.close()
            transcript = refused_host.transcript()
    else:
        with Stopwatch() as watch:
            try:
                created = _up(host, case)
            except ProviderHostError as exc:
                error = exc
        transcript = host.transcript()

    attempts = outcome.attempts if outcome.attempts is not None else P_ATTEMPTS
    attempts = outcome.tries or attempts
    bound = time_bound(DEFAULT_POLICY, DEFAULT_TIMEOUT, attempts, advised=outcome.advised_wait)
    assert watch.seconds <= bound, f"{case.name}: {watch.seconds:.2f}s > bound {bound:.2f}s"
    assert TEST_KEY not in transcript
    if outcome.error is None:
        assert error is None, f"{case.name}: expected success, got {error}"
        assert created is not None
        assert created["id"] == f"{CHAIN}/{case.deployment_id}"
        props = created["properties"]
        deployment = deployment_from_outputs(props)
        if outcome.check is not None:
            assert outcome.check(deployment)
    else:
        assert error is not None, f"{case.name}: expected {outcome.error.__name__}"
        # The engine shows the error's title from the one presentation table.
        title = next(PRESENTATIONS[c] for c in outcome.error.__mro__ if c in PRESENTATIONS)
        assert f"{title.title}: " in error.details
        assert outcome.text in error.details
    if outcome.attempts is None:
        assert emulator.requests == []
    else:
        wait_for_log(emulator, case.path, outcome.attempts)
        assert len(emulator.requests_for(case.path)) == outcome.attempts


@pytest.mark.family("faults", check=True)
def test_the_matrix_covers_every_listed_fault_through_both_paths() -> None:
    listed = {
        "429 with Retry-After header",
        "429 with retry_after body field",
        "429 forever",
        "500 once",
        "502 once",
        "503 once",
        "504 once",
        "5xx that recovers after two attempts",
        "dropped connection",
        "connection refused",
        "read hang (timeout)",
        "slow trickle within the bound",
        "malformed JSON",
        "truncated JSON",
        "HTML error page with 200",
        "empty body",
        "wrong content type",
        "missing required field",
        "null chainlets",
        "unknown deployment status",
        "unknown chainlet status",
        "extra fields",
        "401",
        "403",
        "404 for the chain",
        "404 for the deployment",
    }
    assert listed <= {c.name for c in CLIENT_CASES}
    assert listed <= {c.name for c in PROVIDER_CASES}
    assert len(listed) >= 22
