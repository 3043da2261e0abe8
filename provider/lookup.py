"""One lookup of a chain deployment, shared by the resource, the functions and the CLI.

The data's path: :meth:`DeploymentQuery.parse` validates the caller's ids and settings (no
I/O); :meth:`DeploymentQuery.fetch` makes exactly one GET (the deployment by id, or the
environment, whose current deployment comes embedded); :meth:`DeploymentQuery.resolve` adds the
readiness gate; :func:`deployment_outputs` turns the typed model into the flat, JSON-ready
values Pulumi stores as outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import ids
from .client import BasetenClient
from .deadline import Deadline
from .errors import NotFoundError
from .models import ChainDeployment
from .status import DEFAULT_READY, Verdict, assess
from .waiting import DEFAULT_TIMEOUT_SECONDS, Progress, wait_until_ready

LOOKUP_BY_ID = "chain_deployment_id"
LOOKUP_BY_ENVIRONMENT = "environment"


@dataclass(frozen=True)
class DeploymentQuery:
    """A validated request for one chain deployment, and how long to wait for it."""

    chain_id: str
    chain_deployment_id: str | None
    environment: str | None
    wait_for: frozenset[str]
    timeout_seconds: float

    @classmethod
    def parse(
        cls,
        chain_id: object,
        chain_deployment_id: object = None,
        environment: object = None,
        wait_for: object = None,
        timeout_seconds: object = DEFAULT_TIMEOUT_SECONDS,
    ) -> DeploymentQuery:
        """Validate everything; raise :class:`InvalidInputError` naming the first bad field."""
        chain = ids.check_id("chain_id", chain_id)
        ids.check_one_target(chain_deployment_id is not None, environment is not None)
        deployment = (
            ids.check_id("chain_deployment_id", chain_deployment_id)
            if chain_deployment_id is not None
            else None
        )
        env = ids.check_id("environment", environment) if environment is not None else None
        return cls(
            chain_id=chain,
            chain_deployment_id=deployment,
            environment=env,
            wait_for=ids.check_wait_for(wait_for),
            timeout_seconds=ids.check_timeout(timeout_seconds),
        )

    @property
    def lookup_by(self) -> str:
        return LOOKUP_BY_ID if self.chain_deployment_id is not None else LOOKUP_BY_ENVIRONMENT

    def describe(self) -> str:
        if self.chain_deployment_id is not None:
            return f"deployment {self.chain_deployment_id} of chain {self.chain_id}"
        return f"the current deployment of environment {self.environment} of chain {self.chain_id}"

    def fetch(self, client: BasetenClient, deadline: Deadline | None = None) -> ChainDeployment:
        """Exactly one GET: the deployment by id, or the environment's current deployment."""
        if self.chain_deployment_id is not None:
            return client.get_chain_deployment(
                self.chain_id, self.chain_deployment_id, deadline=deadline
            )
        assert self.environment is not None
        env = client.get_chain_environment(self.chain_id, self.environment, deadline=deadline)
        current = env.current_deployment
        if current is None:
            raise NotFoundError(
                "the environment has no current deployment (nothing was promoted to it yet)",
                what=f"a current deployment of environment {self.environment!r} "
                f"of chain {self.chain_id!r}",
                status=None,
            )
        if current.environment is None:
            # It serves this environment, whatever its own field says: every caller (outputs,
            # policies, Terraform) should see the environment it was looked up by.
            current = current.model_copy(update={"environment": self.environment})
        return current

    def resolve(
        self,
        client: BasetenClient,
        deadline: Deadline | None = None,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> ChainDeployment:
        """Fetch, then wait until ready if ``wait_for`` is not empty.

        ``deadline`` defaults to ``timeout_seconds`` from now; a caller with a cancel signal
        (Ctrl-C, Terraform's stop, the engine's Cancel) makes it with that signal.
        """
        if deadline is None:
            deadline = Deadline.after(self.timeout_seconds)
        if not self.wait_for:
            return self.fetch(client, deadline)
        return wait_until_ready(
            lambda d: self.fetch(client, d),
            self.wait_for,
            deadline,
            sleep=sleep,
            on_progress=on_progress,
            on_warning=on_warning,
        )

    def is_ready(self, deployment: ChainDeployment) -> bool:
        """Whether ``deployment`` passes this query's gate (``ACTIVE`` when it has none)."""
        return assess(deployment, self.wait_for or DEFAULT_READY).verdict is Verdict.READY

    def inputs(self) -> dict[str, Any]:
        """The query as the resource's input properties."""
        return {
            "chain_id": self.chain_id,
            "chain_deployment_id": self.chain_deployment_id,
            "environment": self.environment,
            "wait_for": sorted(self.wait_for),
            "timeout_seconds": self.timeout_seconds,
        }


OUTPUT_KEYS = (
    "chain_id",
    "chain_deployment_id",
    "environment",
    "lookup_by",
    "wait_for",
    "timeout_seconds",
    "status",
    "created_at",
    "ready",
    "chainlets",
    "chainlets_by_name",
    "instance_types",
)


def deployment_outputs(query: DeploymentQuery, deployment: ChainDeployment) -> dict[str, Any]:
    """Every output of a lookup, as JSON-ready values (ints stay ints until the wire)."""
    api = deployment.to_api()
    chainlets: list[dict[str, Any]] = api["chainlets"]
    return {
        "chain_id": deployment.chain_id,
        "chain_deployment_id": deployment.id,
        "environment": deployment.environment,
        "lookup_by": query.lookup_by,
        "wait_for": sorted(query.wait_for),
        "timeout_seconds": query.timeout_seconds,
        "status": str(deployment.status),
        "created_at": api["created_at"],
        "ready": query.is_ready(deployment),
        "chainlets": chainlets,
        "chainlets_by_name": {c["name"]: c for c in chainlets},
        "instance_types": deployment.instance_types,
    }
