"""What statuses mean for a gate: classify() and assess()."""

from __future__ import annotations

from typing import Any

import pytest

from provider.emulator import make_chainlet, make_deployment
from provider.models import KNOWN_STATUSES, ChainDeployment, DeploymentStatus
from provider.status import (
    DEFAULT_READY,
    STATUS_CLASSES,
    StatusClass,
    Verdict,
    assess,
    classify,
)

CHAIN = "ch7k2p9q"
DEP = "dp3m8x1v"
NAMES = ("Entrypoint", "Retriever", "Generator")
BOTH_READY = frozenset({"ACTIVE", "SCALED_TO_ZERO"})

EXPECTED_CLASSES = {
    "BUILDING": StatusClass.IN_PROGRESS,
    "DEPLOYING": StatusClass.IN_PROGRESS,
    "LOADING_MODEL": StatusClass.IN_PROGRESS,
    "UPDATING": StatusClass.IN_PROGRESS,
    "WAKING_UP": StatusClass.IN_PROGRESS,
    "ACTIVE": StatusClass.READY,
    "SCALED_TO_ZERO": StatusClass.READY,
    "BUILD_FAILED": StatusClass.FAILED,
    "BUILD_STOPPED": StatusClass.FAILED,
    "DEPLOY_FAILED": StatusClass.FAILED,
    "FAILED": StatusClass.FAILED,
    "UNHEALTHY": StatusClass.DEGRADED,
    "DEACTIVATING": StatusClass.SWITCHED_OFF,
    "INACTIVE": StatusClass.SWITCHED_OFF,
}
IN_PROGRESS = sorted(s for s, c in EXPECTED_CLASSES.items() if c is StatusClass.IN_PROGRESS)
FOR_GOOD = ["BUILD_FAILED", "DEPLOY_FAILED", "BUILD_STOPPED", "FAILED", "DEACTIVATING", "INACTIVE"]


def deployment(status: str = "ACTIVE", **chainlets: str) -> ChainDeployment:
    """A parsed deployment whose chainlets share ``status`` unless named in ``chainlets``."""
    built: list[dict[str, Any]] = [
        make_chainlet(name, status=chainlets.get(name, status)) for name in NAMES
    ]
    return ChainDeployment.model_validate(
        make_deployment(CHAIN, DEP, status=status, chainlets=built)
    )


# -- classify ------------------------------------------------------------------------------


def test_expected_table_covers_all_fourteen_statuses() -> None:
    assert set(EXPECTED_CLASSES) == KNOWN_STATUSES
    assert set(STATUS_CLASSES) == KNOWN_STATUSES


@pytest.mark.parametrize(("status", "expected"), sorted(EXPECTED_CLASSES.items()))
def test_classify_documented_status(status: str, expected: StatusClass) -> None:
    assert classify(status) is expected
    assert classify(DeploymentStatus(status)) is expected


@pytest.mark.parametrize("status", ["QUANTUM_FLUX", "active", "", "ACTIVE "])
def test_classify_anything_else_is_unknown(status: str) -> None:
    assert classify(status) is StatusClass.UNKNOWN


# -- assess: ready -------------------------------------------------------------------------


def test_ready_when_deployment_and_every_chainlet_are_active() -> None:
    result = assess(deployment("ACTIVE"))

    assert result.verdict is Verdict.READY
    assert result.not_ready == ()
    assert DEP in result.reason


def test_ready_with_a_mix_of_statuses_all_in_the_ready_set() -> None:
    dep = deployment("ACTIVE", Retriever="SCALED_TO_ZERO")

    assert assess(dep, BOTH_READY).verdict is Verdict.READY


def test_deployment_without_chainlets_is_judged_on_its_own_status() -> None:
    dep = ChainDeployment.model_validate(make_deployment(CHAIN, DEP, chainlets=[]))

    assert assess(dep).verdict is Verdict.READY


# -- assess: keep waiting ------------------------------------------------------------------


@pytest.mark.parametrize("status", IN_PROGRESS)
def test_wait_while_in_progress(status: str) -> None:
    result = assess(deployment(status))

    assert result.verdict is Verdict.WAIT
    assert len(result.not_ready) == 4  # the deployment and its three chainlets


def test_wait_on_unhealthy_which_may_recover() -> None:
    result = assess(deployment("UNHEALTHY"))

    assert result.verdict is Verdict.WAIT
    assert {p.status_class for p in result.not_ready} == {StatusClass.DEGRADED}


def test_wait_on_unhealthy_chainlet_of_active_deployment() -> None:
    result = assess(deployment("ACTIVE", Generator="UNHEALTHY"))

    assert result.verdict is Verdict.WAIT
    assert "chainlet Generator is UNHEALTHY" in result.reason


def test_wait_on_unknown_status_and_report_it() -> None:
    result = assess(deployment("ACTIVE", Retriever="QUANTUM_FLUX"))

    assert result.verdict is Verdict.WAIT
    assert result.unknown_statuses == ("QUANTUM_FLUX",)
    assert "QUANTUM_FLUX" in result.reason


def test_unknown_statuses_are_listed_once_each_sorted() -> None:
    result = assess(deployment("ZETA", Entrypoint="ALPHA", Retriever="ZETA"))

    assert result.unknown_statuses == ("ALPHA", "ZETA")


def test_active_deployment_with_one_deploying_chainlet_waits() -> None:
    result = assess(deployment("ACTIVE", Generator="DEPLOYING"))

    assert result.verdict is Verdict.WAIT
    assert [(p.name, p.status) for p in result.not_ready] == [("chainlet Generator", "DEPLOYING")]


def test_deploying_deployment_with_all_chainlets_active_waits() -> None:
    result = assess(deployment("DEPLOYING", **dict.fromkeys(NAMES, "ACTIVE")))

    assert result.verdict is Verdict.WAIT
    assert [(p.name, p.status) for p in result.not_ready] == [("deployment", "DEPLOYING")]


# -- assess: failed for good ---------------------------------------------------------------


@pytest.mark.parametrize("status", FOR_GOOD)
def test_failed_when_the_deployment_is(status: str) -> None:
    result = assess(deployment(status))

    assert result.verdict is Verdict.FAILED
    assert f"deployment is {status}" in result.reason


@pytest.mark.parametrize("status", FOR_GOOD)
def test_failed_when_one_chainlet_is_even_if_the_deployment_looks_fine(status: str) -> None:
    result = assess(deployment("ACTIVE", Retriever=status))

    assert result.verdict is Verdict.FAILED
    assert f"chainlet Retriever is {status}" in result.reason
    assert [p.name for p in result.not_ready] == ["chainlet Retriever"]


@pytest.mark.parametrize("status", FOR_GOOD)
def test_failed_wins_over_in_progress_elsewhere(status: str) -> None:
    result = assess(deployment("BUILDING", Generator=status))

    assert result.verdict is Verdict.FAILED


@pytest.mark.parametrize("ready", [DEFAULT_READY, BOTH_READY])
def test_failed_even_when_a_wider_ready_set_is_given(ready: frozenset[str]) -> None:
    assert assess(deployment("ACTIVE", Entrypoint="BUILD_FAILED"), ready).verdict is (
        Verdict.FAILED
    )


def test_scaled_to_zero_waiting_for_active_fails_and_says_how_to_accept_it() -> None:
    result = assess(deployment("SCALED_TO_ZERO"), DEFAULT_READY)

    assert result.verdict is Verdict.FAILED
    assert "SCALED_TO_ZERO" in result.reason
    assert "wait_for" in result.reason
    assert {p.status_class for p in result.not_ready} == {StatusClass.READY}


def test_scaled_to_zero_is_ready_when_accepted() -> None:
    assert assess(deployment("SCALED_TO_ZERO"), BOTH_READY).verdict is Verdict.READY


def test_reason_names_every_not_ready_chainlet_with_its_status() -> None:
    result = assess(
        deployment(
            "DEPLOYING", Entrypoint="ACTIVE", Retriever="LOADING_MODEL", Generator="BUILDING"
        )
    )

    assert result.verdict is Verdict.WAIT
    for part in (
        "deployment is DEPLOYING",
        "chainlet Retriever is LOADING_MODEL",
        "chainlet Generator is BUILDING",
    ):
        assert part in result.reason
    assert "Entrypoint" not in result.reason  # it is ready
    assert "ACTIVE" in result.reason  # what it waits for


def test_failed_reason_lists_every_part_not_only_the_failed_one() -> None:
    result = assess(
        deployment("BUILD_FAILED", Entrypoint="BUILD_STOPPED", Retriever="BUILD_STOPPED")
    )

    assert result.verdict is Verdict.FAILED
    assert "chainlet Generator is BUILD_FAILED" in result.reason
    assert "chainlet Entrypoint is BUILD_STOPPED" in result.reason
    assert "chainlet Retriever is BUILD_STOPPED" in result.reason


def test_ready_set_of_plain_strings_matches_enum_statuses() -> None:
    dep = deployment("UPDATING")

    assert assess(dep, {"UPDATING"}).verdict is Verdict.READY
    assert assess(dep, [DeploymentStatus.UPDATING]).verdict is Verdict.READY
