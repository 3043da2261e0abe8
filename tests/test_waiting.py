"""The readiness gate, run in simulated time (an injected clock whose sleep advances it)."""

from __future__ import annotations

import itertools
import math
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from provider.backoff import Backoff
from provider.client import BasetenClient
from provider.deadline import Deadline
from provider.emulator import Emulator, Step, deployment_path, make_chainlet, make_deployment
from provider.errors import (
    CancelledError,
    DeploymentFailedError,
    DeploymentTimeoutError,
    TransportError,
)
from provider.models import ChainDeployment
from provider.waiting import DEFAULT_POLL, LAST_POLL_RESERVE_SECONDS, Progress, wait_until_ready
from tests.conftest import FAST_RETRY, TEST_KEY

CHAIN = "ch7k2p9q"
NAMES = ("Entrypoint", "Retriever", "Generator")
CAP = DEFAULT_POLL.cap
EPS = 1e-6


class FakeTime:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self.start = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        assert len(self.sleeps) < 10_000, "runaway wait loop"
        self.sleeps.append(seconds)
        self.t += seconds

    @property
    def elapsed(self) -> float:
        return self.t - self.start


class Recorder:
    """Collects messages; for gate progress, status changes in ``messages`` and heartbeats
    in ``heartbeats``."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.heartbeats: list[str] = []

    def __call__(self, message: object) -> None:
        if isinstance(message, Progress) and not message.changed:
            self.heartbeats.append(str(message))
        else:
            self.messages.append(str(message))


def dep(status: str = "ACTIVE", dep_id: str = "dproll01", **chainlets: str) -> ChainDeployment:
    built = [make_chainlet(n, status=chainlets.get(n, status)) for n in NAMES]
    return ChainDeployment.model_validate(
        make_deployment(CHAIN, dep_id, status=status, chainlets=built)
    )


class ListFetch:
    """Serves ``states`` in order, one per call, then repeats the last one."""

    def __init__(self, states: Sequence[ChainDeployment]) -> None:
        self.states = list(states)
        self.calls = 0

    def __call__(self) -> ChainDeployment:
        self.calls += 1
        assert self.calls < 10_000, "runaway wait loop"
        return self.states[min(self.calls, len(self.states)) - 1]


class TimedFetch:
    """Serves the state whose start time (seconds of ``fake`` time) was last passed."""

    def __init__(self, fake: FakeTime, timeline: Sequence[tuple[float, ChainDeployment]]) -> None:
        self.fake = fake
        self.timeline = list(timeline)
        self.calls = 0
        self.times: list[float] = []

    def __call__(self) -> ChainDeployment:
        self.calls += 1
        assert self.calls < 10_000, "runaway wait loop"
        self.times.append(self.fake.elapsed)
        current = self.timeline[0][1]
        for at, state in self.timeline:
            if self.fake.elapsed >= at:
                current = state
        return current


def gate(
    fetch: Any, fake: FakeTime, *, timeout_seconds: float = 900.0, **kwargs: Any
) -> ChainDeployment:
    """The gate in simulated time: a deadline on ``fake``'s clock, ``fetch`` without one."""
    kwargs.setdefault("on_progress", Recorder())
    kwargs.setdefault("on_warning", Recorder())
    deadline = Deadline.after(timeout_seconds, clock=fake.now)
    return wait_until_ready(lambda _d: fetch(), deadline=deadline, sleep=fake.sleep, **kwargs)


# -- against the emulator, in simulated time ----------------------------------------------


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sim(fake: FakeTime) -> Iterator[tuple[Emulator, BasetenClient]]:
    """An emulator whose timelines follow ``fake``, and a client for it."""
    with (
        Emulator(api_key=TEST_KEY, clock=fake.now) as emu,
        BasetenClient(
            api_key=TEST_KEY, base_url=emu.url, retry=FAST_RETRY, timeout=(2.0, 2.0)
        ) as client,
    ):
        yield emu, client


def _rollout(emu: Emulator, dep_id: str, steps: Sequence[Step]) -> str:
    emu.add_deployment(CHAIN, make_deployment(CHAIN, dep_id))
    emu.set_timeline(CHAIN, dep_id, steps)
    return deployment_path(CHAIN, dep_id)


def test_rollout_of_300_simulated_seconds_opens_the_gate_within_one_cap_of_active(
    fake: FakeTime, sim: tuple[Emulator, BasetenClient]
) -> None:
    emu, client = sim
    path = _rollout(
        emu,
        "dproll01",
        [
            Step("BUILDING"),
            Step("DEPLOYING", after_seconds=120),
            Step("ACTIVE", after_seconds=300),
        ],
    )
    progress, warnings = Recorder(), Recorder()

    result = gate(
        lambda: client.get_chain_deployment(CHAIN, "dproll01"),
        fake,
        timeout_seconds=900,
        on_progress=progress,
        on_warning=warnings,
    )

    assert result.status == "ACTIVE"
    assert all(c.status == "ACTIVE" for c in result.chainlets)
    fetches = emu.requests_for(path)
    assert 10 <= len(fetches) <= 40
    assert 300 <= fake.elapsed <= 300 + CAP
    assert max(fake.sleeps) <= CAP
    assert len(fake.sleeps) == len(fetches) - 1
    # One progress message per status change, not one per poll.
    assert len(progress.messages) == 3
    for message, status in zip(progress.messages, ["BUILDING", "DEPLOYING", "ACTIVE"], strict=True):
        assert f"is {status}" in message
    assert warnings.messages == []
    assert emu.methods() == {"GET"}


def test_already_active_deployment_costs_exactly_one_fetch(
    fake: FakeTime, sim: tuple[Emulator, BasetenClient]
) -> None:
    emu, client = sim

    result = gate(lambda: client.get_chain_deployment(CHAIN, "dp3m8x1v"), fake)

    assert result.id == "dp3m8x1v"
    assert len(emu.requests_for(deployment_path(CHAIN, "dp3m8x1v"))) == 1
    assert fake.sleeps == []


def test_build_failed_mid_rollout_raises_at_once_naming_the_chainlet(
    fake: FakeTime, sim: tuple[Emulator, BasetenClient]
) -> None:
    emu, client = sim
    path = _rollout(
        emu,
        "dpbroken",
        [
            Step("BUILDING"),
            Step(
                "BUILD_FAILED",
                {
                    "Entrypoint": "BUILD_STOPPED",
                    "Retriever": "BUILD_STOPPED",
                    "Generator": "BUILD_FAILED",
                },
                after_seconds=60,
            ),
        ],
    )

    with pytest.raises(DeploymentFailedError) as info:
        gate(lambda: client.get_chain_deployment(CHAIN, "dpbroken"), fake, timeout_seconds=900)

    message = str(info.value)
    assert "chainlet Generator is BUILD_FAILED" in message
    assert "deployment is BUILD_FAILED" in message
    assert info.value.deployment is not None
    assert info.value.deployment.status == "BUILD_FAILED"
    # Raised on the first poll that saw the failure, not at the timeout.
    assert 60 <= fake.elapsed <= 60 + CAP
    assert len(emu.requests_for(path)) <= 15


def test_scaled_to_zero_when_waiting_for_active_fails_at_once(
    fake: FakeTime, sim: tuple[Emulator, BasetenClient]
) -> None:
    emu, client = sim

    with pytest.raises(DeploymentFailedError) as info:
        gate(lambda: client.get_chain_deployment(CHAIN, "dpzero01"), fake, timeout_seconds=900)

    assert "SCALED_TO_ZERO" in str(info.value)
    assert "wait_for" in str(info.value)
    assert len(emu.requests_for(deployment_path(CHAIN, "dpzero01"))) == 1
    assert fake.elapsed == 0


def test_scaled_to_zero_is_accepted_when_in_the_ready_set(
    fake: FakeTime, sim: tuple[Emulator, BasetenClient]
) -> None:
    emu, client = sim

    result = gate(
        lambda: client.get_chain_deployment(CHAIN, "dpzero01"),
        fake,
        ready={"ACTIVE", "SCALED_TO_ZERO"},
    )

    assert result.status == "SCALED_TO_ZERO"
    assert len(emu.requests_for(deployment_path(CHAIN, "dpzero01"))) == 1


def test_unhealthy_then_active_waits_and_succeeds(
    fake: FakeTime, sim: tuple[Emulator, BasetenClient]
) -> None:
    emu, client = sim
    path = _rollout(emu, "dpsick01", [Step("UNHEALTHY"), Step("ACTIVE", after_seconds=45)])

    result = gate(lambda: client.get_chain_deployment(CHAIN, "dpsick01"), fake)

    assert result.status == "ACTIVE"
    assert 45 <= fake.elapsed <= 45 + CAP
    assert 2 <= len(emu.requests_for(path)) <= 15


def test_unknown_status_warns_once_and_keeps_waiting(
    fake: FakeTime, sim: tuple[Emulator, BasetenClient]
) -> None:
    emu, client = sim
    path = _rollout(emu, "dpflux01", [Step("QUANTUM_FLUX"), Step("ACTIVE", after_seconds=60)])
    warnings = Recorder()

    result = gate(lambda: client.get_chain_deployment(CHAIN, "dpflux01"), fake, on_warning=warnings)

    assert result.status == "ACTIVE"
    assert len(emu.requests_for(path)) >= 3  # several polls saw the unknown status...
    assert len(warnings.messages) == 1  # ...but it was reported once
    assert "QUANTUM_FLUX" in warnings.messages[0]


def test_timeout_says_what_it_still_waited_for_and_ends_at_the_deadline(
    fake: FakeTime, sim: tuple[Emulator, BasetenClient]
) -> None:
    emu, client = sim
    path = _rollout(
        emu,
        "dpslow01",
        [Step("DEPLOYING", {"Entrypoint": "ACTIVE", "Retriever": "ACTIVE"})],
    )

    with pytest.raises(DeploymentTimeoutError) as info:
        gate(lambda: client.get_chain_deployment(CHAIN, "dpslow01"), fake, timeout_seconds=95)

    message = str(info.value)
    assert "95" in message
    assert "deployment is DEPLOYING" in message
    assert "chainlet Generator is DEPLOYING" in message
    assert "Entrypoint" not in message  # it was ready
    assert "timeout_seconds" in message
    assert info.value.deployment is not None
    # The last poll leaves LAST_POLL_RESERVE_SECONDS for its request; none comes after it.
    assert 95 - LAST_POLL_RESERVE_SECONDS - EPS <= fake.elapsed <= 95 + EPS
    assert max(fake.sleeps) <= CAP
    assert len(emu.requests_for(path)) == len(fake.sleeps) + 1 <= 20


# -- with a fetch function -----------------------------------------------------------------


def test_progress_is_reported_once_per_status_change_not_per_poll(fake: FakeTime) -> None:
    states = [dep("BUILDING")] * 4 + [dep("DEPLOYING")] * 3
    states += [dep("DEPLOYING", Entrypoint="ACTIVE")] * 2 + [dep("ACTIVE")]
    fetch = ListFetch(states)
    progress = Recorder()

    gate(fetch, fake, on_progress=progress)

    assert fetch.calls == 10
    assert len(progress.messages) == 4
    assert "Entrypoint ACTIVE" in progress.messages[2]
    assert all("dproll01" in m for m in progress.messages)


def test_first_poll_is_immediate_and_ready_returns_the_fetched_deployment(
    fake: FakeTime,
) -> None:
    final = dep("ACTIVE", dep_id="dpfinal1")
    fetch = ListFetch([final])

    assert gate(fetch, fake) is final
    assert fetch.calls == 1
    assert fake.sleeps == []


def test_failure_after_waiting_raises_on_the_first_failed_poll(fake: FakeTime) -> None:
    fetch = ListFetch([dep("BUILDING")] * 3 + [dep("BUILDING", Retriever="DEPLOY_FAILED")])

    with pytest.raises(DeploymentFailedError) as info:
        gate(fetch, fake, timeout_seconds=10_000)

    assert fetch.calls == 4
    assert "chainlet Retriever is DEPLOY_FAILED" in str(info.value)


@pytest.mark.parametrize("status", ["DEACTIVATING", "INACTIVE", "FAILED", "BUILD_STOPPED"])
def test_switched_off_or_failed_raises_at_once(fake: FakeTime, status: str) -> None:
    fetch = ListFetch([dep(status)])

    with pytest.raises(DeploymentFailedError):
        gate(fetch, fake)

    assert fetch.calls == 1


def test_new_unknown_status_later_is_warned_about_too(fake: FakeTime) -> None:
    fetch = ListFetch([dep("QUANTUM_FLUX")] * 3 + [dep("NEUTRINO_SYNC")] * 3 + [dep("ACTIVE")])
    warnings = Recorder()

    gate(fetch, fake, on_warning=warnings)

    assert len(warnings.messages) == 2
    assert "QUANTUM_FLUX" in warnings.messages[0]
    assert "NEUTRINO_SYNC" in warnings.messages[1]


def test_polls_back_off_up_to_the_cap_and_never_beyond(fake: FakeTime) -> None:
    fetch = ListFetch([dep("BUILDING")])

    with pytest.raises(DeploymentTimeoutError):
        gate(fetch, fake, timeout_seconds=600)

    body = fake.sleeps[:-1]  # the last one is cut to the deadline
    assert max(fake.sleeps) <= CAP
    # Exponential start: 1, 2, 4, 8 seconds nominal, jitter only ever shortens.
    for n, delay in enumerate(body[:4]):
        nominal = DEFAULT_POLL.initial * DEFAULT_POLL.factor**n
        assert nominal * (1 - DEFAULT_POLL.jitter) - EPS <= delay <= nominal + EPS
    assert all(CAP * (1 - DEFAULT_POLL.jitter) - EPS <= d <= CAP for d in body[5:])
    assert math.isclose(sum(fake.sleeps), 600 - LAST_POLL_RESERVE_SECONDS)
    assert fetch.calls == len(fake.sleeps) + 1 <= 600 / (CAP * 0.8) + 6


def test_timeout_cuts_the_last_sleep_to_the_deadline(fake: FakeTime) -> None:
    times: list[float] = []
    fetch = ListFetch([dep("LOADING_MODEL")])

    def watched() -> ChainDeployment:
        times.append(fake.elapsed)
        return fetch()

    with pytest.raises(DeploymentTimeoutError) as info:
        gate(watched, fake, timeout_seconds=20, poll=Backoff(initial=7, cap=7, jitter=0))

    assert fake.sleeps == [7, 7, 4]
    assert times == [0, 7, 14, 18]  # the last poll 2 s before the deadline, time for its request
    assert "LOADING_MODEL" in str(info.value)


def test_ready_on_the_last_poll_at_the_deadline_succeeds(fake: FakeTime) -> None:
    fetch = TimedFetch(fake, [(0, dep("UPDATING")), (18, dep("ACTIVE"))])

    result = gate(fetch, fake, timeout_seconds=20, poll=Backoff(initial=7, cap=7, jitter=0))

    assert result.status == "ACTIVE"
    assert fetch.times == [0, 7, 14, 18]


def test_gate_opens_within_one_cap_of_readiness_for_many_ready_times() -> None:
    rng = random.Random(7)
    for _ in range(25):
        clock = FakeTime()
        ready_at = rng.uniform(0, 400)
        fetch = TimedFetch(clock, [(0, dep("BUILDING")), (ready_at, dep("ACTIVE"))])

        gate(fetch, clock, timeout_seconds=900)

        assert ready_at <= clock.elapsed <= ready_at + CAP
        assert max(clock.sleeps, default=0) <= CAP


def test_progress_message_reports_simulated_elapsed_seconds(fake: FakeTime) -> None:
    fetch = TimedFetch(fake, [(0, dep("BUILDING")), (30, dep("ACTIVE"))])
    progress = Recorder()

    gate(fetch, fake, on_progress=progress, poll=Backoff(initial=10, cap=10, jitter=0))

    assert progress.messages[0].endswith("after 0s")
    assert progress.messages[1].endswith("after 30s")


# -- Backoff -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backoff",
    [
        DEFAULT_POLL,
        Backoff(initial=0.5, cap=8.0),
        Backoff(initial=3, cap=3, factor=1, jitter=0),
        Backoff(initial=0.01, cap=100, factor=10, jitter=0.99),
    ],
)
def test_backoff_never_exceeds_the_cap(backoff: Backoff) -> None:
    for attempt in [*range(100), 1_000, 10**9]:
        for rand in (0.0, 0.5, 0.999999):
            delay = backoff.delay(attempt, rand=lambda r=rand: r)
            assert 0 < delay <= backoff.cap


def test_backoff_grows_exponentially_until_the_cap_without_jitter() -> None:
    backoff = Backoff(initial=1, cap=10, factor=2, jitter=0.2)

    delays = [backoff.delay(n, rand=lambda: 0.0) for n in range(7)]

    assert delays == [1, 2, 4, 8, 10, 10, 10]


def test_backoff_jitter_only_shortens() -> None:
    backoff = Backoff(initial=4, cap=4, jitter=0.25)

    assert backoff.delay(0, rand=lambda: 0.0) == 4
    assert backoff.delay(0, rand=lambda: 1.0) == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": 0, "cap": 1},
        {"initial": -1, "cap": 1},
        {"initial": 2, "cap": 1},
        {"initial": 1, "cap": 2, "factor": 0.5},
        {"initial": 1, "cap": 2, "jitter": 1.0},
        {"initial": 1, "cap": 2, "jitter": -0.1},
    ],
)
def test_backoff_rejects_inconsistent_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="inconsistent backoff"):
        Backoff(**kwargs)


def test_a_long_wait_reports_a_heartbeat_at_least_every_30_seconds(fake: FakeTime) -> None:
    fetch = TimedFetch(fake, [(0, dep("BUILDING")), (600, dep("ACTIVE"))])
    progress = Recorder()

    gate(fetch, fake, on_progress=progress)

    assert len(progress.messages) == 2  # BUILDING, then ACTIVE
    assert len(progress.heartbeats) >= 600 // 30 - 1
    assert all("still BUILDING after" in h and "next check in" in h for h in progress.heartbeats)
    assert "still BUILDING after 5m" in " ".join(progress.heartbeats)


def test_a_cancel_stops_the_wait_between_polls_at_once() -> None:
    cancel = threading.Event()
    fetch = ListFetch([dep("BUILDING")])
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()

    with pytest.raises(CancelledError):
        wait_until_ready(lambda _d: fetch(), deadline=Deadline.after(60, cancel=cancel))

    assert time.monotonic() - started < 2.0
    assert fetch.calls <= 2


def test_a_fetch_that_runs_out_of_time_is_a_timeout_naming_the_last_status_and_cause(
    fake: FakeTime,
) -> None:
    calls = 0

    def fetch() -> ChainDeployment:
        nonlocal calls
        calls += 1
        if calls == 1:
            return dep("BUILDING")
        error = TransportError("no answer within 3s", attempts=1, host="127.0.0.1")
        error.out_of_time = True
        raise error

    with pytest.raises(DeploymentTimeoutError) as info:
        gate(fetch, fake, timeout_seconds=20)

    message = str(info.value)
    assert "deployment is BUILDING" in message
    assert "no answer within 3s" in message
    assert info.value.deployment is not None


def test_a_failing_fetch_with_time_left_is_raised_as_it_is(fake: FakeTime) -> None:
    def fetch() -> ChainDeployment:
        raise TransportError("connection refused", attempts=2)

    with pytest.raises(TransportError):
        gate(fetch, fake, timeout_seconds=600)


def test_heartbeats_are_never_more_than_30_seconds_apart(fake: FakeTime) -> None:
    fetch = TimedFetch(fake, [(0, dep("BUILDING")), (600, dep("ACTIVE"))])
    times: list[float] = []

    def record(progress: object) -> None:
        times.append(fake.elapsed)

    gate(fetch, fake, on_progress=record)

    assert times[0] == 0
    assert max(b - a for a, b in itertools.pairwise(times)) <= 30
