"""Named setups: the default fixtures every emulator starts with, and the scenarios built on
them for demos and the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import UnknownNameError
from .faults import CannedAnswer, StatusRewrite, error_answer, rate_limited
from .shapes import deployment_path, make_chainlet, make_deployment, short_id
from .store import Step

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = ["AUDIO_CHAIN", "RAG_CHAIN", "SCENARIOS", "apply_scenario", "load_default_fixtures"]

RAG_CHAIN = "ch7k2p9q"
AUDIO_CHAIN = "chq2v8n4"


def load_default_fixtures(emu: Emulator) -> None:
    """(Re)load the default chains, replacing whatever the emulator held under their ids.

    * ``ch7k2p9q`` "rag-pipeline": ``dp3m8x1v`` ACTIVE (production), ``dp9w4n2r`` ACTIVE
      (staging), ``dpbuild1`` BUILDING, ``dpfail01`` BUILD_FAILED (``Generator`` failed, the
      others stopped), ``dpzero01`` SCALED_TO_ZERO; environments production -> dp3m8x1v and
      staging -> dp9w4n2r, no candidates.
    * ``chq2v8n4`` "audio-transcriber": ``dpa1b2c3`` ACTIVE (production).
    """
    emu.remove_chain(RAG_CHAIN)
    emu.remove_chain(AUDIO_CHAIN)
    emu.add_chain(
        RAG_CHAIN, "rag-pipeline", team_name="ml-platform", created_at="2026-10-02T08:14:11Z"
    )
    for deployment_id, status, environment, created_at in (
        ("dp3m8x1v", "ACTIVE", "production", "2026-11-18T16:02:45Z"),
        ("dp9w4n2r", "ACTIVE", "staging", "2026-11-19T10:41:03Z"),
        ("dpbuild1", "BUILDING", None, "2026-11-20T09:12:30Z"),
        ("dpfail01", "BUILD_STOPPED", None, "2026-11-17T13:55:09Z"),
        ("dpzero01", "SCALED_TO_ZERO", None, "2026-11-10T07:20:00Z"),
    ):
        deployment = make_deployment(
            RAG_CHAIN, deployment_id, status=status, environment=environment, created_at=created_at
        )
        if deployment_id == "dpfail01":  # the Generator failed to build, the others stopped
            deployment["status"] = "BUILD_FAILED"
            deployment["chainlets"][2]["status"] = "BUILD_FAILED"
        emu.add_deployment(RAG_CHAIN, deployment)
    emu.set_environment(RAG_CHAIN, "production", "dp3m8x1v", created_at="2026-10-02T08:14:11Z")
    emu.set_environment(RAG_CHAIN, "staging", "dp9w4n2r", created_at="2026-10-05T12:00:00Z")

    emu.add_chain(
        AUDIO_CHAIN, "audio-transcriber", team_name="ml-platform", created_at="2026-09-14T11:03:27Z"
    )
    chainlets = [
        make_chainlet(
            "Entrypoint",
            instance_type_name="1x2",
            min_replica=1,
            max_replica=2,
            concurrency_target=16,
            chainlet_id=short_id("chainlet:dpa1b2c3:Entry"),
        ),
        make_chainlet(
            "Transcriber",
            instance_type_name="A10G:4x16",
            min_replica=1,
            max_replica=6,
            concurrency_target=4,
            target_in_flight_tokens=None,
            chainlet_id=short_id("chainlet:dpa1b2c3:Transcriber"),
        ),
    ]
    emu.add_deployment(
        AUDIO_CHAIN,
        make_deployment(
            AUDIO_CHAIN,
            "dpa1b2c3",
            environment="production",
            chainlets=chainlets,
            created_at="2026-11-12T15:47:51Z",
        ),
    )
    emu.set_environment(AUDIO_CHAIN, "production", "dpa1b2c3", created_at="2026-09-14T11:03:27Z")


def _scenario_default(emu: Emulator) -> None:
    load_default_fixtures(emu)


def _roll_out(emu: Emulator, deployment_id: str, steps: list[Step]) -> None:
    """The default fixtures, and a new deployment in production that goes through ``steps``,
    timed from its first request (not from the emulator's start: a user who tries it a minute
    later still sees it from the beginning)."""
    load_default_fixtures(emu)
    emu.add_deployment(
        RAG_CHAIN, make_deployment(RAG_CHAIN, deployment_id, created_at="2026-11-27T12:00:00Z")
    )
    emu.set_environment(RAG_CHAIN, "production", deployment_id)
    emu.set_timeline(RAG_CHAIN, deployment_id, steps, start="first_request")


def _scenario_rollout(emu: Emulator) -> None:
    _roll_out(
        emu,
        "dprollout",
        [
            Step("BUILDING"),
            Step("DEPLOYING", after_seconds=3),
            Step(
                "DEPLOYING",
                {"Entrypoint": "ACTIVE", "Retriever": "ACTIVE", "Generator": "LOADING_MODEL"},
                after_seconds=6,
            ),
            Step("ACTIVE", after_seconds=8),
        ],
    )


def _scenario_stuck(emu: Emulator) -> None:
    # One step and no way on: the deployment never leaves DEPLOYING, whatever the clock says.
    _roll_out(
        emu,
        "dpstuck1",
        [
            Step(
                "DEPLOYING",
                {"Entrypoint": "ACTIVE", "Retriever": "ACTIVE", "Generator": "LOADING_MODEL"},
            )
        ],
    )


def _scenario_flaky(emu: Emulator) -> None:
    load_default_fixtures(emu)
    emu.add_fault(CannedAnswer(error_answer(503)))
    emu.add_fault(CannedAnswer(rate_limited(1, 1)))


def _scenario_build_failed(emu: Emulator) -> None:
    _roll_out(
        emu,
        "dpbroken",
        [
            Step("BUILDING"),
            Step(
                "BUILDING", {"Entrypoint": "DEPLOYING", "Retriever": "DEPLOYING"}, after_seconds=2
            ),
            Step(
                "BUILD_FAILED",
                {
                    "Entrypoint": "BUILD_STOPPED",
                    "Retriever": "BUILD_STOPPED",
                    "Generator": "BUILD_FAILED",
                },
                after_seconds=4,
            ),
        ],
    )


def _scenario_scaled_to_zero(emu: Emulator) -> None:
    load_default_fixtures(emu)
    emu.set_environment(RAG_CHAIN, "production", "dpzero01")


def _scenario_drift(emu: Emulator) -> None:
    load_default_fixtures(emu)
    deployment = make_deployment(
        RAG_CHAIN, "dpdrift1", environment=None, created_at="2026-11-26T18:30:00Z"
    )
    # The schema-valid part of the drift lives in the data (extra fields are allowed); the
    # unknown status, which breaks the published schema, is a fault so it can be told apart.
    deployment["is_development"] = False
    deployment["labels"] = {"team": "ml-platform"}
    for chainlet in deployment["chainlets"]:
        chainlet["gpu_count"] = 1
        chainlet["autoscaling_settings"]["max_scale_down_rate"] = 2
    emu.add_deployment(RAG_CHAIN, deployment)
    emu.set_environment(RAG_CHAIN, "canary", "dpdrift1")
    emu.add_fault(StatusRewrite("QUANTUM_FLUX"), deployment_path(RAG_CHAIN, "dpdrift1"))


SCENARIOS: dict[str, tuple[str, Callable[[Emulator], None]]] = {
    "default": (
        "the default fixtures: chains ch7k2p9q (rag-pipeline) and chq2v8n4",
        _scenario_default,
    ),
    "rollout": (
        "ch7k2p9q/dprollout in production: BUILDING, DEPLOYING at 3 s, Generator "
        "LOADING_MODEL at 6 s, ACTIVE at 8 s (seconds from its first request)",
        _scenario_rollout,
    ),
    "stuck": (
        "ch7k2p9q/dpstuck1 in production: DEPLOYING forever (Generator LOADING_MODEL), to "
        "try --wait-for and --timeout",
        _scenario_stuck,
    ),
    "flaky": (
        "default fixtures; the first request gets 503, the second 429 with Retry-After: 1",
        _scenario_flaky,
    ),
    "build-failed": (
        "ch7k2p9q/dpbroken in production: BUILDING, then BUILD_FAILED on Generator at 4 s "
        "(from its first request)",
        _scenario_build_failed,
    ),
    "scaled-to-zero": (
        "ch7k2p9q production points at dpzero01 (SCALED_TO_ZERO)",
        _scenario_scaled_to_zero,
    ),
    "drift": (
        "ch7k2p9q/dpdrift1 (environment canary): extra fields, and status QUANTUM_FLUX "
        "on its deployment call",
        _scenario_drift,
    ),
}
"""Scenario name -> (one-line description, setup function applied to an Emulator)."""


def apply_scenario(emu: Emulator, name: str) -> None:
    """Set ``emu`` up as scenario ``name`` (meant for a fresh emulator; the default chains
    are reloaded, queued faults are kept). :class:`UnknownNameError` (a ``KeyError``) naming
    the known scenarios if unknown."""
    if name not in SCENARIOS:
        raise UnknownNameError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    SCENARIOS[name][1](emu)
