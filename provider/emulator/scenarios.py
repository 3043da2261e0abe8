"""Named scenarios: ready-made emulator setups for demos and the command line."""

from __future__ import annotations

from collections.abc import Callable

from .faults import Fault
from .fixtures import RAG_CHAIN, deployment_path, load_default_fixtures, make_deployment
from .server import Emulator
from .timeline import Step

__all__ = ["SCENARIOS", "apply_scenario"]


def _scenario_default(emu: Emulator) -> None:
    load_default_fixtures(emu)


def _scenario_rollout(emu: Emulator) -> None:
    load_default_fixtures(emu)
    emu.add_deployment(
        RAG_CHAIN, make_deployment(RAG_CHAIN, "dprollout", created_at="2026-11-27T12:00:00Z")
    )
    emu.set_environment(RAG_CHAIN, "production", "dprollout")
    emu.set_timeline(
        RAG_CHAIN,
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


def _scenario_flaky(emu: Emulator) -> None:
    load_default_fixtures(emu)
    emu.add_fault(Fault("status", status=503))
    emu.add_fault(Fault("rate_limit", retry_after=1, retry_after_body=1))


def _scenario_build_failed(emu: Emulator) -> None:
    load_default_fixtures(emu)
    emu.add_deployment(
        RAG_CHAIN, make_deployment(RAG_CHAIN, "dpbroken", created_at="2026-11-27T12:00:00Z")
    )
    emu.set_environment(RAG_CHAIN, "production", "dpbroken")
    emu.set_timeline(
        RAG_CHAIN,
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
    emu.add_fault(Fault("unknown_status", times=None), deployment_path(RAG_CHAIN, "dpdrift1"))


SCENARIOS: dict[str, tuple[str, Callable[[Emulator], None]]] = {
    "default": (
        "the default fixtures: chains ch7k2p9q (rag-pipeline) and chq2v8n4",
        _scenario_default,
    ),
    "rollout": (
        "ch7k2p9q/dprollout in production: BUILDING, DEPLOYING at 3 s, Generator "
        "LOADING_MODEL at 6 s, ACTIVE at 8 s",
        _scenario_rollout,
    ),
    "flaky": (
        "default fixtures; the first request gets 503, the second 429 with Retry-After: 1",
        _scenario_flaky,
    ),
    "build-failed": (
        "ch7k2p9q/dpbroken in production: BUILDING, then BUILD_FAILED on Generator at 4 s",
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
    are reloaded, queued faults are kept). ``KeyError`` naming the known scenarios if unknown."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    SCENARIOS[name][1](emu)
