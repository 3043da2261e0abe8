"""The client-side rate limiter (provider/ratelimit.py), its hook in the client, the setting in
every front end, and the emulator's enforcement of Baseten's limit.

The bucket's arithmetic runs on an injected clock whose sleep moves it, so nothing here
depends on how fast the machine is; the figures against time live in ``make bench``.
"""

from __future__ import annotations

import itertools
import json
import math
import pickle
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import requests

from provider import ratelimit
from provider.client import BasetenClient
from provider.deadline import Deadline
from provider.emulator import Emulator, deployment_path
from provider.errors import (
    CancelledError,
    InvalidInputError,
    NotPicklableError,
    RateLimitedError,
    TransportError,
)
from provider.ratelimit import HEADROOM, Bucket, check_rate, endpoint_template, key_identity
from tests.conftest import FAST_RETRY, TEST_KEY, FakeClock, cli_env, run_cli_process
from tests.emulator_faults import Fault
from tests.plugin_engine import PluginCallError, PluginProcess, RecordingEngine, secret
from tests.provider_host import ProviderHost, ProviderHostError

CHAIN, DEP = "ch7k2p9q", "dp3m8x1v"
BAD_RATES = ["0", "-5", "nan", "inf", "lots", "1e9", ""]


class SimTime(FakeClock):
    """A clock whose sleep moves it, recording every wait."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def sim() -> SimTime:
    return SimTime()


def take(bucket: Bucket, sim: SimTime, n: int, budget: float = 1000.0) -> list[float]:
    """The times ``n`` turns were given at."""
    times = []
    for _ in range(n):
        assert bucket.acquire(Deadline.after(budget, clock=sim), sim.sleep)
        times.append(sim.now)
    return times


# -- the bucket's arithmetic -------------------------------------------------------------------


def test_turns_are_paced_evenly_at_the_rate_with_no_burst(sim: SimTime) -> None:
    bucket = Bucket(10.0, clock=sim)
    start = sim.now

    times = take(bucket, sim, 21)

    assert times[0] == start  # the first turn is free
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([0.1] * 20)
    assert times[-1] - start == pytest.approx(2.0)  # 21 turns in 2 s: 1 + rate * t


def test_an_idle_bucket_does_not_save_up_a_burst(sim: SimTime) -> None:
    bucket = Bucket(10.0, clock=sim)
    take(bucket, sim, 1)
    sim.now += 60  # a minute idle

    times = take(bucket, sim, 3)

    assert [round(t - times[0], 6) for t in times] == [0.0, 0.1, 0.2]


def test_a_turn_that_woke_late_does_not_bunch_into_a_burst(sim: SimTime) -> None:
    bucket = Bucket(10.0 * HEADROOM, clock=sim)  # a limit of 10/s: at most 9 sends a second
    sends = take(bucket, sim, 1)
    deadline = Deadline.after(100, clock=sim)

    def descheduled(seconds: float) -> None:
        # This waiter's turn comes, but its thread runs only after the others took theirs.
        sim.now += seconds
        if len(sends) > 1:
            return
        for _ in range(9):
            assert bucket.acquire(deadline, sim.sleep)
            sends.append(sim.now)

    assert bucket.acquire(deadline, descheduled)
    sends.append(sim.now)

    in_any_second = max(sum(1 for t in sends if start - 1e-9 <= t < start + 1.0) for start in sends)
    assert in_any_second <= math.floor(10 * ratelimit.WINDOW_SHARE)


def test_the_limiter_paces_at_headroom_of_the_configured_limit(sim: SimTime) -> None:
    limiter = ratelimit.limiter(TEST_KEY, "http://127.0.0.1:1", 100.0, clock=sim)
    bucket = limiter.bucket(deployment_path(CHAIN, DEP))

    assert bucket.rate() == pytest.approx(100.0 * HEADROOM)
    assert limiter.limit == pytest.approx(100.0)


def test_one_bucket_per_key_and_endpoint_template_shared_by_every_client(sim: SimTime) -> None:
    one = ratelimit.limiter(TEST_KEY, "http://127.0.0.1:1", 100.0, clock=sim)
    two = ratelimit.limiter(TEST_KEY, "http://127.0.0.1:1", 100.0, clock=sim)
    other_key = ratelimit.limiter(TEST_KEY + "x", "http://127.0.0.1:1", 100.0, clock=sim)

    a = one.bucket("/v1/chains/ch1/deployments/dp1")
    assert two.bucket("/v1/chains/ch2/deployments/dp2") is a  # another deployment, same endpoint
    assert one.bucket("/v1/chains/ch1") is not a  # another endpoint
    assert other_key.bucket("/v1/chains/ch1/deployments/dp1") is not a  # another key


def test_the_endpoint_is_the_path_template() -> None:
    assert endpoint_template("/v1/chains/ab12/deployments/cd34") == (
        "/v1/chains/{chain_id}/deployments/{deployment_id}"
    )
    assert endpoint_template("/v1/chains") == "/v1/chains"
    assert endpoint_template("/v1/chains/ab/environments/prod?x=1") == (
        "/v1/chains/{chain_id}/environments/{environment_id}"
    )


def test_the_key_is_never_held_nor_shown(sim: SimTime) -> None:
    identity = key_identity(TEST_KEY)
    limiter = ratelimit.limiter(TEST_KEY, "http://127.0.0.1:1", 100.0, clock=sim)
    bucket = limiter.bucket("/v1/chains")

    for shown in (identity, repr(limiter), repr(bucket), repr(vars(limiter)), repr(vars(bucket))):
        for i in range(len(TEST_KEY) - 7):
            assert TEST_KEY[i : i + 8] not in shown
    assert identity != key_identity(TEST_KEY + "x")
    with pytest.raises(NotPicklableError):
        pickle.dumps(limiter)


# -- adaptation after 429s ------------------------------------------------------------------------


def test_a_429_lowers_the_rate_below_what_the_server_let_through(sim: SimTime) -> None:
    bucket = Bucket(90.0, clock=sim)
    for _ in range(40):  # the server answered 40 requests in the last second
        bucket.answered()
        sim.now += 0.02
    bucket.throttled(None)

    assert bucket.rate() == pytest.approx(0.9 * 40)
    assert bucket.throttles == 1


def test_429s_of_one_episode_lower_the_rate_once(sim: SimTime) -> None:
    bucket = Bucket(90.0, clock=sim)
    for _ in range(50):
        bucket.answered()
    bucket.throttled(None)
    lowered = bucket.rate()
    for _ in range(10):  # answers to requests already sent
        bucket.throttled(None)

    assert bucket.rate() == pytest.approx(lowered)
    assert bucket.throttles == 1
    sim.now += 1.5  # a later 429 is a new episode
    bucket.throttled(None)
    assert bucket.throttles == 2
    assert bucket.rate() < lowered


def test_the_rate_never_drops_below_its_floor(sim: SimTime) -> None:
    bucket = Bucket(90.0, clock=sim)
    for _ in range(5):
        bucket.throttled(None)  # nothing answered at all
        sim.now += 2

    assert bucket.rate() >= 90.0 * ratelimit.FLOOR


def test_the_rate_recovers_gradually_to_the_ceiling(sim: SimTime) -> None:
    bucket = Bucket(90.0, clock=sim)
    bucket.throttled(None)
    rates = []
    for _ in range(40):
        rates.append(bucket.rate())
        sim.now += 1.0

    hold = int(ratelimit.HOLD)
    assert rates == sorted(rates)  # never down without a 429
    assert rates[:hold] == [rates[0]] * hold  # held low for a while
    after = rates[hold:]
    assert after[2] - after[1] < after[6] - after[5]  # then up slowly first, faster later
    assert rates[-1] == 90.0  # back at the ceiling


def test_retry_after_pauses_every_thread_including_those_already_waiting(sim: SimTime) -> None:
    bucket = Bucket(10.0, clock=sim)
    take(bucket, sim, 1)
    start = sim.now
    planned: list[float] = []

    def sleep(seconds: float) -> None:
        # While this thread waits for its turn, another thread gets a 429 with Retry-After.
        if not planned:
            bucket.throttled(5.0)
        planned.append(seconds)
        sim.now += seconds

    assert bucket.acquire(Deadline.after(100, clock=sim), sleep)

    assert planned[0] == pytest.approx(0.1)  # the turn it was first given
    assert sim.now - start == pytest.approx(5.0)  # re-planned after the pause


def test_the_thread_that_waited_out_the_pause_itself_is_not_held_twice(sim: SimTime) -> None:
    bucket = Bucket(10.0, clock=sim)
    ended = bucket.throttled(2.0)

    assert bucket.acquire(Deadline.after(1.0, clock=sim), sim.sleep, waited_out=ended)
    assert not bucket.acquire(Deadline.after(1.0, clock=sim), sim.sleep)  # others are held


# -- the deadline and cancel -----------------------------------------------------------------------


def test_a_turn_after_the_deadline_fails_at_once_and_takes_nothing(sim: SimTime) -> None:
    bucket = Bucket(1.0, clock=sim)
    take(bucket, sim, 1)

    assert not bucket.acquire(Deadline.after(0.5, clock=sim), sim.sleep)
    assert sim.waits == []  # no doomed wait
    assert bucket.acquire(Deadline.after(5.0, clock=sim), sim.sleep)
    assert sim.waits == [pytest.approx(1.0)]  # the turn refused was not used up


def test_cancel_ends_the_wait_for_a_turn() -> None:
    bucket = Bucket(0.1, clock=FakeClock(0.0))  # the next turn is 10 s away
    assert bucket.acquire(Deadline.after(1.0))
    cancel = threading.Event()
    outcome: list[BaseException | bool] = []

    def wait() -> None:
        try:
            outcome.append(bucket.acquire(Deadline.after(60, cancel=cancel)))
        except CancelledError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    cancel.set()
    thread.join(timeout=10)

    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], CancelledError)


def test_the_client_fails_at_once_when_no_turn_comes_before_the_callers_deadline(
    emulator: Emulator, sim: SimTime
) -> None:
    with BasetenClient(
        api_key=TEST_KEY,
        base_url=emulator.url,
        clock=sim,
        sleep=sim.sleep,
        max_requests_per_second=1.0,
        retry=FAST_RETRY,
    ) as client:
        client.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(5, clock=sim))
        with pytest.raises(TransportError) as info:
            client.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(0.5, clock=sim))

    assert info.value.out_of_time
    assert "rate limit of 1 requests/s" in str(info.value)
    assert len(emulator.requests) == 1  # the second lookup sent nothing


def test_after_a_429_a_turn_too_late_ends_the_call_with_the_429(
    emulator: Emulator, sim: SimTime
) -> None:
    emulator.add_fault(Fault("rate_limit", retry_after=0.1), deployment_path(CHAIN, DEP))
    client = BasetenClient(
        api_key=TEST_KEY,
        base_url=emulator.url,
        clock=sim,
        sleep=sim.sleep,
        max_requests_per_second=1.0,  # turns 1.11 s apart
    )
    with client, pytest.raises(RateLimitedError) as info:
        client.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(1.0, clock=sim))

    assert info.value.out_of_time
    assert info.value.attempts == 1
    assert [r.status for r in emulator.requests] == [429]
    assert sim.waits == [0.1]  # the backoff, not a doomed wait for the turn


def test_each_retry_takes_a_turn_and_a_429_slows_the_whole_process(sim: SimTime) -> None:
    with (
        Emulator(api_key=TEST_KEY, rate_limit=2, clock=sim) as limited,
        BasetenClient(
            api_key=TEST_KEY,
            base_url=limited.url,
            clock=sim,
            sleep=sim.sleep,
            max_requests_per_second=1000.0,
        ) as client,
    ):
        bucket = client._limiter.bucket(deployment_path(CHAIN, DEP))
        for _ in range(3):
            client.get_chain_deployment(CHAIN, DEP)

    statuses = [r.status for r in limited.requests]
    assert statuses == [200, 200, 429, 200]
    assert bucket.throttles == 1
    assert bucket.rate() < 1000.0 * HEADROOM


# -- the emulator's limit ----------------------------------------------------------------------


def get(url: str, path: str) -> requests.Response:
    return requests.get(url + path, headers={"Authorization": f"Api-Key {TEST_KEY}"}, timeout=5)


def test_the_emulator_answers_429_with_retry_after_beyond_its_limit() -> None:
    clock = FakeClock(0.0)
    with Emulator(api_key=TEST_KEY, rate_limit=2, clock=clock) as emu:
        path = deployment_path(CHAIN, DEP)
        first = [get(emu.url, path).status_code for _ in range(2)]
        clock.now = 0.4
        refused = get(emu.url, path)
        other_deployment = get(emu.url, deployment_path(CHAIN, "dpbuild1"))
        other_endpoint = get(emu.url, f"/v1/chains/{CHAIN}")
        clock.now = 1.01
        later = get(emu.url, path)

    assert first == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.json() == {
        "error": "Rate limit exceeded. Please try again later.",
        "retry_after": 1,
    }
    assert other_deployment.status_code == 429  # one endpoint, whatever the ids
    assert other_endpoint.status_code == 200
    assert later.status_code == 200
    assert emu.rate_limit is not None and emu.rate_limit.refused == 2


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_the_emulator_command_refuses_a_bad_rate_limit(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from provider.emulator.cli import main

    with pytest.raises(SystemExit) as info:
        main(["--rate-limit", value])
    assert info.value.code == 2
    assert "rate" in capsys.readouterr().err


def test_the_emulator_enforces_no_limit_unless_asked(emulator: Emulator) -> None:
    statuses = {get(emulator.url, f"/v1/chains/{CHAIN}").status_code for _ in range(30)}
    assert statuses == {200}


# -- bad settings in every front end ------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [0, -1, 0.0, math.nan, math.inf, -math.inf, 10**9, 10**400, True, "abc", None, [1]]
)
def test_bad_rates_are_refused_naming_the_setting(value: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_rate(value, "baseten:maxRequestsPerSecond")
    assert info.value.field == "baseten:maxRequestsPerSecond"
    assert "requests per second" in info.value.reason


def test_good_rates_are_taken_as_numbers() -> None:
    assert check_rate("250", "x") == 250.0
    assert check_rate(0.5, "x") == 0.5
    assert check_rate(100, "x") == 100.0


def test_a_bad_environment_rate_is_refused_by_the_client(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASETEN_MAX_RPS", "0")
    with pytest.raises(InvalidInputError) as info:
        BasetenClient(api_key=TEST_KEY, base_url=emulator.url)
    assert info.value.field == "BASETEN_MAX_RPS"


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--max-rps", "0"], {}, "--max-rps"),
        (["--max-rps", "nan"], {}, "--max-rps"),
        ([], {"BASETEN_MAX_RPS": "-3"}, "BASETEN_MAX_RPS"),
    ],
)
def test_the_cli_refuses_a_bad_rate_with_exit_2(
    emulator: Emulator, argv: list[str], env: dict[str, str], named: str
) -> None:
    proc = run_cli_process("get", CHAIN, DEP, *argv, env=cli_env(emulator, **env))

    assert proc.returncode == 2
    assert f"invalid {named}: must be a number of requests per second" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert emulator.requests == []


def test_the_provider_host_refuses_a_bad_stack_config_rate(emulator: Emulator) -> None:
    with ProviderHost({"BASETEN_API_KEY": None, "BASETEN_API_URL": None}) as host:
        host.configure(
            {
                "baseten:apiKey": TEST_KEY,
                "baseten:apiUrl": emulator.url,
                "baseten:maxRequestsPerSecond": "-1",
            },
            secret_keys=["baseten:apiKey"],
        )
        with pytest.raises(ProviderHostError) as info:
            host.create({"chain_id": CHAIN, "chain_deployment_id": DEP, "wait_for": []})

    assert "invalid baseten:maxRequestsPerSecond" in info.value.details
    assert emulator.requests == []


@pytest.fixture(scope="module")
def engine() -> Iterator[RecordingEngine]:
    with RecordingEngine() as eng:
        yield eng


def test_the_plugin_refuses_a_bad_rate_in_check_config_and_configure(
    emulator: Emulator, engine: RecordingEngine
) -> None:
    env = {"BASETEN_API_KEY": None, "BASETEN_API_URL": None}
    with PluginProcess(engine.address, env=env) as plugin:
        plugin.handshake(engine.address)
        config = {"apiKey": secret(TEST_KEY), "apiUrl": emulator.url, "maxRequestsPerSecond": 0}
        checked = plugin.check_config(config)
        with pytest.raises(PluginCallError) as info:
            plugin.configure(checked["inputs"])
        good = plugin.check_config({**config, "maxRequestsPerSecond": 250})

    assert [name for name, _ in checked["failures"]] == ["maxRequestsPerSecond"]
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "invalid baseten:maxRequestsPerSecond" in info.value.details
    assert good["failures"] == []
    assert emulator.requests == []


def test_the_plugin_schema_declares_the_rate_setting() -> None:
    from provider.plugin.schema import package_schema

    variables = package_schema()["config"]["variables"]
    assert variables["maxRequestsPerSecond"]["type"] == "number"
    assert json.dumps(variables["maxRequestsPerSecond"]).count("BASETEN_MAX_RPS") >= 1


def test_a_call_held_back_by_another_calls_retry_after_is_rate_limited_and_sends_nothing(
    emulator: Emulator, sim: SimTime
) -> None:
    emulator.add_fault(Fault("rate_limit", retry_after=30), deployment_path(CHAIN, DEP))
    first, second = (
        BasetenClient(api_key=TEST_KEY, base_url=emulator.url, clock=sim, sleep=sim.sleep)
        for _ in range(2)
    )
    with first, pytest.raises(RateLimitedError):
        first.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(5.0, clock=sim))
    sent = len(emulator.requests)

    with second, pytest.raises(RateLimitedError) as info:
        second.get_chain_deployment(CHAIN, DEP, deadline=Deadline.after(5.0, clock=sim))

    assert info.value.out_of_time
    assert "Retry-After" in str(info.value)
    assert len(emulator.requests) == sent  # the pause holds every client of the key
