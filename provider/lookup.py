"""One lookup of a chain deployment, shared by every front end.

The data's path: :meth:`DeploymentQuery.parse` validates the caller's inputs (declared in
:mod:`provider.inputs`; no I/O); :meth:`DeploymentQuery.fetch` makes exactly one GET (the
deployment by id, or the environment, whose current deployment comes embedded; plus
``GET /v1/chains`` first when the chain is named by ``chain_name``) and checks that the answer
is the one asked for; :meth:`DeploymentQuery.resolve` adds the readiness gate under
one :class:`~provider.deadline.Deadline`; :func:`provider.outputs.deployment_outputs` turns the
result into outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .chains import ChainRef, check_answer
from .client import BasetenClient
from .deadline import Deadline
from .errors import ApiError, NotFoundError
from .inputs import CHOICES, INPUTS, check_inputs
from .models import Chain, ChainDeployment, ChainEnvironment, duplicate_names
from .outputs import LOOKUP_BY_ENVIRONMENT, LOOKUP_BY_ID
from .status import DEFAULT_READY, Verdict, assess, unknown_status_warning
from .validation import Id, api_path
from .waiting import Progress, wait_until_ready


@dataclass(frozen=True)
class DeploymentQuery:
    """A validated request for one chain deployment, and how long to wait for it. The chain
    is ``chain_id``, or the one called ``chain_name`` (:meth:`resolved` looks it up)."""

    chain_id: Id | None
    chain_deployment_id: Id | None
    environment: Id | None
    wait_for: frozenset[str]
    timeout_seconds: float
    chain_name: str | None = None

    @classmethod
    def parse(cls, values: Mapping[str, Any]) -> DeploymentQuery:
        """The query an input mapping describes (names of :data:`provider.inputs.INPUTS`;
        missing or ``None`` inputs take their defaults). Raises the first
        :class:`~provider.errors.InvalidInputError` of :func:`~provider.inputs.check_inputs`."""
        checked, errors = check_inputs(INPUTS, CHOICES, values)
        if errors:
            raise errors[0]
        return cls.from_checked(checked)

    @classmethod
    def from_checked(cls, checked: Mapping[str, Any]) -> DeploymentQuery:
        """The query of values :func:`~provider.inputs.check_inputs` accepted (no check)."""
        return cls(**{**checked, "wait_for": checked["wait_for"] or frozenset()})

    @property
    def chain(self) -> ChainRef:
        return ChainRef(self.chain_id, self.chain_name)

    def resolved(
        self,
        client: BasetenClient,
        deadline: Deadline | None = None,
        *,
        on_warning: Callable[[str], None] | None = None,
    ) -> DeploymentQuery:
        """This query with the chain's id (one ``GET /v1/chains`` if it was named by name)."""
        if self.chain_id is not None:
            return self
        chain_id = self.chain.resolve(client, deadline, on_warning=on_warning)
        return replace(self, chain_id=chain_id)

    @property
    def lookup_by(self) -> str:
        return LOOKUP_BY_ID if self.chain_deployment_id is not None else LOOKUP_BY_ENVIRONMENT

    def describe(self) -> str:
        chain = self.chain.describe()
        if self.chain_deployment_id is not None:
            return f"deployment {self.chain_deployment_id} of {chain}"
        return f"the current deployment of environment {self.environment} of {chain}"

    def fetch(
        self,
        client: BasetenClient,
        deadline: Deadline | None = None,
        *,
        on_warning: Callable[[str], None] | None = None,
    ) -> ChainDeployment:
        """Exactly one GET: the deployment by id, or the environment's current deployment.

        The answer must match the question: a deployment of another chain, or with another
        id, an environment of another name or chain, or one whose current deployment belongs
        to another chain, is a :class:`ResponseFormatError`, never a result (the ids in it
        passed the same checks as the inputs, :data:`~provider.models.ApiId`). A deployment
        found through an environment carries that environment, whatever its own field says.
        """
        if self.chain_id is None:
            return self.resolved(client, deadline, on_warning=on_warning).fetch(
                client, deadline, on_warning=on_warning
            )
        if self.chain_deployment_id is not None:
            found = client.get(
                api_path("chains", self.chain_id, "deployments", self.chain_deployment_id),
                ChainDeployment,
                what=f"chain deployment {self.chain_deployment_id!r} of chain {self.chain_id!r}",
                deadline=deadline,
                on_warning=on_warning,
            )
            self._check_answer("chain_id", found.chain_id, self.chain_id)
            self._check_answer("id", found.id, self.chain_deployment_id)
            return found
        assert self.environment is not None
        env = self._environment(client, deadline, on_warning)
        # The list of environments may leave chain_id out; this call's answer must name it.
        self._check_answer("chain_id", env.chain_id or "", self.chain_id)
        self._check_answer("name", env.name, self.environment)
        current = env.current_deployment
        if current is None:
            raise NotFoundError(
                "the environment has no current deployment (nothing was promoted to it yet)",
                what=f"a current deployment of environment {self.environment!r} "
                f"of chain {self.chain_id!r}",
                status=None,
            )
        self._check_answer("current_deployment.chain_id", current.chain_id, self.chain_id)
        return current.model_copy(update={"environment": self.environment})

    def _environment(
        self,
        client: BasetenClient,
        deadline: Deadline | None,
        on_warning: Callable[[str], None] | None,
    ) -> ChainEnvironment:
        """The environment asked for. On a 404 one more GET, of the chain, under the same
        deadline, tells which input is at fault (a typo'd chain id is no missing environment):
        the :class:`NotFoundError` raised has ``field`` ``chain_id`` or ``environment``."""
        assert self.chain_id is not None and self.environment is not None
        try:
            return client.get(
                api_path("chains", self.chain_id, "environments", self.environment),
                ChainEnvironment,
                what=f"environment {self.environment!r} of chain {self.chain_id!r}",
                deadline=deadline,
                on_warning=on_warning,
            )
        except NotFoundError as exc:
            missing = exc
        try:
            client.get(
                api_path("chains", self.chain_id),
                Chain,
                what=f"chain {self.chain_id!r}",
                deadline=deadline,
            )
        except NotFoundError as exc:
            exc.field = "chain_id"
            chain_missing = exc
        except ApiError:
            raise missing from None  # unsure which input is at fault: Baseten's 404 as it was
        else:
            missing.field = "environment"
            raise missing
        raise chain_missing

    def _check_answer(self, field: str, answered: str, asked: str | None) -> None:
        kind = {"id": "deployment", "name": "environment"}.get(field, "chain")
        check_answer(self.describe(), answered, asked, field=field, kind=kind)

    def resolve(
        self,
        client: BasetenClient,
        deadline: Deadline | None = None,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> ChainDeployment:
        """Fetch, then wait until ready if ``wait_for`` is not empty; warn (``on_warning``)
        about chainlet names used twice, and about undocumented statuses when not waiting.

        ``deadline`` defaults to ``timeout_seconds`` from now; a caller with a cancel signal
        (Ctrl-C, Terraform's stop, the engine's Cancel) makes it with that signal.
        """
        if deadline is None:
            deadline = Deadline.after(self.timeout_seconds)
        if self.chain_id is None:  # the name is looked up once, before any wait
            return self.resolved(client, deadline, on_warning=on_warning).resolve(
                client, deadline, on_progress=on_progress, on_warning=on_warning, sleep=sleep
            )
        if self.wait_for:
            found = wait_until_ready(
                lambda d: self.fetch(client, d, on_warning=on_warning),
                self.wait_for,
                deadline,
                sleep=sleep,
                on_progress=on_progress,
                on_warning=on_warning,
            )
        else:
            found = self.fetch(client, deadline, on_warning=on_warning)
        for message in warnings_for(found, gated=bool(self.wait_for)):
            if on_warning is not None:
                on_warning(message)
        return found

    def is_ready(self, deployment: ChainDeployment) -> bool:
        """Whether ``deployment`` passes this query's gate (``ACTIVE`` when it has none)."""
        return assess(deployment, self.wait_for or DEFAULT_READY).verdict is Verdict.READY


def warnings_for(deployment: ChainDeployment, *, gated: bool) -> list[str]:
    """What a user should hear about a result that is not an error: chainlet names used
    twice, and (when the gate did not already say so) statuses this provider does not know."""
    found = []
    repeated = duplicate_names(deployment.chainlets)
    if repeated:
        found.append(
            f"deployment {deployment.id} has several chainlets named "
            + ", ".join(repr(n) for n in repeated)
            + "; maps by name keep the first of each"
        )
    if not gated:
        found += [
            unknown_status_warning(deployment.id, status)
            for status in assess(deployment).unknown_statuses
        ]
    return found
