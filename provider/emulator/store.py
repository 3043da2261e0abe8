"""What the emulated account holds: chains with their deployments, environments and
timelines (:class:`ChainStore`), and the normal answer to every ``GET`` route."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import unquote

from ..errors import InvalidInputError, UnknownNameError
from .shapes import DEFAULT_CREATED_AT, IN_PROGRESS_STATUSES, chainlets_of
from .validation import check_seconds

__all__ = ["ChainStore", "Step"]

_PROMOTION_SETTINGS: dict[str, Any] = {
    "redeploy_on_promotion": False,
    "rolling_deploy": False,
    "rolling_deploy_config": None,
    "ramp_up_while_promoting": False,
    "ramp_up_duration_seconds": 600,
}


@dataclass(frozen=True)
class Step:
    """One stage of a deployment's timeline (see :meth:`ChainStore.set_timeline`).

    The deployment takes ``status``; each chainlet takes ``chainlet_statuses[name]`` if given,
    else ``status``. A step is reached once the deployment has been served ``after_requests``
    times before the current request, or once ``after_seconds`` of emulator-clock time have
    passed since the timeline's clock started (whichever comes first): at ``set_timeline``, or
    at the deployment's first request when it was set with ``start="first_request"``. A step
    with neither is reached at once. The last reached step is the one served.
    """

    status: str
    chainlet_statuses: Mapping[str, str] | None = None
    after_requests: int | None = None
    after_seconds: float | None = None

    def __post_init__(self) -> None:
        if not self.status:
            raise InvalidInputError("status", "must not be empty")
        if self.chainlet_statuses is not None:
            # A private read-only copy: editing the caller's dict later must not move a timeline.
            object.__setattr__(
                self, "chainlet_statuses", MappingProxyType(dict(self.chainlet_statuses))
            )
        if self.after_requests is not None and self.after_requests < 0:
            raise InvalidInputError("after_requests", "must not be negative")
        if self.after_seconds is not None:
            check_seconds("after_seconds", self.after_seconds)

    def reached(self, served: int, elapsed: float) -> bool:
        """Whether this step applies after ``served`` serves and ``elapsed`` seconds."""
        if self.after_requests is None and self.after_seconds is None:
            return True
        by_count = self.after_requests is not None and served >= self.after_requests
        by_time = self.after_seconds is not None and elapsed >= self.after_seconds
        return by_count or by_time

    def chainlet_status(self, name: str) -> str:
        """The status this step gives the chainlet called ``name``."""
        if self.chainlet_statuses is not None and name in self.chainlet_statuses:
            return self.chainlet_statuses[name]
        return self.status


@dataclass
class _Timeline:
    steps: tuple[Step, ...]
    started: float | None  # None: the clock starts at the deployment's first request
    served: int = 0


@dataclass
class _Environment:
    name: str
    created_at: str
    current: str | None
    candidate: str | None


@dataclass
class _Chain:
    meta: dict[str, Any]
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    environments: dict[str, _Environment] = field(default_factory=dict)
    timelines: dict[str, _Timeline] = field(default_factory=dict)


class ChainStore:
    """Chains, deployments, environments and timelines. Thread-safe; every dict handed in or
    out is a copy. ``clock`` drives timelines' ``after_seconds`` and may be replaced at any
    time. The :class:`~provider.emulator.Emulator` is one (its attribute names are its own)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._chains_lock = threading.RLock()
        self._chains: dict[str, _Chain] = {}

    # -- setting up ---------------------------------------------------------------------------

    def add_chain(
        self,
        chain_id: str,
        name: str,
        *,
        team_name: str = "default",
        created_at: str = DEFAULT_CREATED_AT,
    ) -> dict[str, Any]:
        """Add (or rename) a chain; its deployments and environments are kept. Returns the
        ``ChainV1`` dict as served."""
        meta = {"id": chain_id, "created_at": created_at, "name": name, "team_name": team_name}
        with self._chains_lock:
            chain = self._chains.get(chain_id)
            if chain is None:
                self._chains[chain_id] = chain = _Chain(meta=meta)
            else:
                chain.meta = meta
            return self._chain_body(chain)

    def remove_chain(self, chain_id: str) -> None:
        """Forget a chain with its deployments, environments and timelines (if it exists)."""
        with self._chains_lock:
            self._chains.pop(chain_id, None)

    def add_deployment(self, chain_id: str, deployment: dict[str, Any]) -> dict[str, Any]:
        """Store a raw ``ChainDeploymentV1`` dict (served as given, apart from timelines).

        The chain is created (named after its id) if missing; ``chain_id`` is filled in if the
        dict has none. A deployment with the same ``id`` is replaced and loses its timeline.
        Returns a copy of what is stored.
        """
        if not isinstance(deployment.get("id"), str) or not deployment["id"]:
            raise InvalidInputError("id", "a deployment needs a non-empty string 'id'")
        stored = copy.deepcopy(deployment)
        stored.setdefault("chain_id", chain_id)
        with self._chains_lock:
            if chain_id not in self._chains:
                self.add_chain(chain_id, chain_id)
            chain = self._chains[chain_id]
            chain.deployments[stored["id"]] = stored
            chain.timelines.pop(stored["id"], None)
            return copy.deepcopy(stored)

    def set_environment(
        self,
        chain_id: str,
        name: str,
        current_deployment_id: str | None,
        candidate_deployment_id: str | None = None,
        *,
        created_at: str = DEFAULT_CREATED_AT,
    ) -> None:
        """Create or repoint environment ``name`` of a chain.

        The current deployment's ``environment`` field becomes ``name``, and any other
        deployment of the chain that claimed ``name`` gets ``environment: null`` (one current
        deployment per environment, as after a promotion). :class:`UnknownNameError` (a
        ``KeyError``) if the chain or a named deployment is unknown. An existing environment
        keeps its ``created_at``.
        """
        with self._chains_lock:
            chain = self._chain(chain_id)
            for dep_id in (current_deployment_id, candidate_deployment_id):
                if dep_id is not None and dep_id not in chain.deployments:
                    raise UnknownNameError(f"chain {chain_id!r} has no deployment {dep_id!r}")
            existing = chain.environments.get(name)
            chain.environments[name] = _Environment(
                name=name,
                created_at=existing.created_at if existing else created_at,
                current=current_deployment_id,
                candidate=candidate_deployment_id,
            )
            for dep_id, deployment in chain.deployments.items():
                if dep_id == current_deployment_id:
                    deployment["environment"] = name
                elif deployment.get("environment") == name:
                    deployment["environment"] = None

    def set_timeline(
        self,
        chain_id: str,
        deployment_id: str,
        steps: Sequence[Step],
        *,
        start: Literal["now", "first_request"] = "now",
    ) -> None:
        """Make a stored deployment change status over time (see :class:`Step`).

        The served count resets now; the clock starts now, or with ``start="first_request"``
        when the deployment is first served (how the scenarios run: a rollout tried a minute
        after the emulator started still starts at its first step).

        Store the deployment in its final settled shape: while a step gives a chainlet an
        in-progress status its ``autoscaling_settings`` is served as null and
        ``active_replica_count`` as 0; otherwise the stored values are served. "Served" counts
        GETs of the deployment path and environment lookups whose current deployment this is.
        :class:`UnknownNameError` (a ``KeyError``) for an unknown deployment;
        :class:`InvalidInputError` (a ``ValueError``) for no steps or a step naming an unknown
        chainlet.
        """
        steps = tuple(steps)
        if not steps:
            raise InvalidInputError("steps", "a timeline needs at least one step")
        with self._chains_lock:
            chain = self._chain(chain_id)
            stored = chain.deployments.get(deployment_id)
            if stored is None:
                raise UnknownNameError(f"chain {chain_id!r} has no deployment {deployment_id!r}")
            names = {c.get("name") for c in chainlets_of(stored)}
            for step in steps:
                unknown = set(step.chainlet_statuses or ()) - names
                if unknown:
                    raise InvalidInputError(
                        "steps", f"a step names unknown chainlets {sorted(unknown)}"
                    )
            started = self.clock() if start == "now" else None
            chain.timelines[deployment_id] = _Timeline(steps=steps, started=started)

    # -- reading ------------------------------------------------------------------------------

    def timeline(self, chain_id: str, deployment_id: str) -> tuple[Step, ...]:
        """The steps set for a deployment (empty if it has no timeline)."""
        with self._chains_lock:
            chain = self._chains.get(chain_id)
            timeline = chain.timelines.get(deployment_id) if chain else None
            return timeline.steps if timeline else ()

    def _chain(self, chain_id: str) -> _Chain:
        # Callers hold the lock. A KeyError that says what was missing, not a bare key.
        chain = self._chains.get(chain_id)
        if chain is None:
            raise UnknownNameError(f"no chain {chain_id!r}")
        return chain

    def chain_ids(self) -> list[str]:
        """Ids of every chain, in insertion order."""
        with self._chains_lock:
            return list(self._chains)

    def deployment_ids(self, chain_id: str) -> list[str]:
        """Ids of a chain's deployments, in insertion order (:class:`UnknownNameError`, a
        ``KeyError``, if the chain is unknown)."""
        with self._chains_lock:
            return list(self._chain(chain_id).deployments)

    def environment_names(self, chain_id: str) -> list[str]:
        """Names of a chain's environments (:class:`UnknownNameError`, a ``KeyError``, if the
        chain is unknown)."""
        with self._chains_lock:
            return list(self._chain(chain_id).environments)

    def answer(self, path: str) -> tuple[int, Any]:
        """The normal answer (status, JSON body) to an authorized ``GET`` of ``path`` (no
        query string). Serving a deployment, or an environment's current one, counts for its
        timeline's ``after_requests``; a chain or a candidate does not, nor does the list of
        deployments (the list of environments serves each current one, and counts)."""
        segments = path.split("/")
        if len(segments) < 3 or segments[0] != "" or segments[1:3] != ["v1", "chains"]:
            return 404, {"message": "Not found"}
        # Split first, decode after, so an encoded "/" (%2F) stays inside its segment.
        parts = [unquote(s) for s in segments[3:]]
        with self._chains_lock:
            match parts:
                case []:
                    chains = [self._chain_body(c) for c in self._chains.values()]
                    return 200, {"chains": chains}
                case (
                    [_]
                    | [_, "deployments"]
                    | [_, "deployments", _]
                    | [_, "environments"]
                    | [_, "environments", _]
                ):
                    pass
                case _:
                    return 404, {"message": "Not found"}
            chain = self._chains.get(parts[0])
            if chain is None:
                return 404, {"message": "Chain not found"}
            match parts:
                case [_, "deployments"]:
                    deployments = [
                        self._serve_deployment(chain, d, count=False) for d in chain.deployments
                    ]
                    return 200, {"deployments": deployments}
                case [_, "deployments", deployment_id]:
                    if deployment_id not in chain.deployments:
                        return 404, {"message": "Chain deployment not found"}
                    return 200, self._serve_deployment(chain, deployment_id, count=True)
                case [_, "environments"]:
                    environments = [
                        self._environment_body(chain, env) for env in chain.environments.values()
                    ]
                    return 200, {"environments": environments}
                case [_, "environments", env_name]:
                    if env_name not in chain.environments:
                        return 404, {"message": "Environment not found"}
                    return 200, self._environment_body(chain, chain.environments[env_name])
                case _:
                    return 200, self._chain_body(chain)

    def _chain_body(self, chain: _Chain) -> dict[str, Any]:
        meta = chain.meta
        return {
            "id": meta["id"],
            "created_at": meta["created_at"],
            "name": meta["name"],
            "deployments_count": len(chain.deployments),
            "team_name": meta["team_name"],
        }

    def _serve_deployment(
        self, chain: _Chain, deployment_id: str, *, count: bool
    ) -> dict[str, Any]:
        deployment = copy.deepcopy(chain.deployments[deployment_id])
        timeline = chain.timelines.get(deployment_id)
        if timeline is None:
            return deployment
        now = self.clock()
        if timeline.started is None:
            timeline.started = now
        elapsed = now - timeline.started
        step = None
        for candidate in timeline.steps:
            if candidate.reached(timeline.served, elapsed):
                step = candidate
        if count:
            timeline.served += 1
        if step is not None:
            deployment["status"] = step.status
            for chainlet in chainlets_of(deployment):
                chainlet["status"] = step.chainlet_status(str(chainlet.get("name")))
                if chainlet["status"] in IN_PROGRESS_STATUSES:
                    chainlet["autoscaling_settings"] = None
                    chainlet["active_replica_count"] = 0
        return deployment

    def _environment_body(self, chain: _Chain, env: _Environment) -> dict[str, Any]:
        current = None
        settings: list[dict[str, Any]] = []
        if env.current is not None and env.current in chain.deployments:
            for chainlet in chainlets_of(chain.deployments[env.current]):
                settings.append(
                    {
                        "chainlet_name": chainlet.get("name"),
                        "instance_type_name": chainlet.get("instance_type_name"),
                        "autoscaling_settings": copy.deepcopy(chainlet.get("autoscaling_settings")),
                    }
                )
            current = self._serve_deployment(chain, env.current, count=True)
        candidate = None
        if env.candidate is not None and env.candidate in chain.deployments:
            candidate = self._serve_deployment(chain, env.candidate, count=False)
        return {
            "name": env.name,
            "created_at": env.created_at,
            "chain_id": chain.meta["id"],
            "promotion_settings": copy.deepcopy(_PROMOTION_SETTINGS),
            "chainlet_settings": settings,
            "current_deployment": current,
            "candidate_deployment": candidate,
        }
