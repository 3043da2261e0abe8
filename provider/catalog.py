"""What a read is: one declaration from which every front end derives its form of it.

A :class:`Read` says which endpoints it calls, its inputs (:class:`provider.inputs.InputField`:
type, validation, default, description, identity, example), which pairs of them are
"exactly one of", its outputs (:class:`provider.outputs.OutputField`, most derived from the
API models), its description, and two functions: ``query`` (checked values to the typed
query) and ``fetch`` (the query to the answer, under one deadline). The reads themselves are
declared in :mod:`provider.reads`, one module each; the front ends walk
:data:`provider.reads.READS`:

* Python: ``get_X`` / ``get_X_output`` and ``GetXResult`` (:mod:`provider.functions`);
* the native plugin: function ``baseten:index:getX`` in the schema and ``Invoke``
  (:mod:`provider.plugin`);
* Terraform: data source ``baseten_X`` (:mod:`provider.terraform.data_sources`);
* the command line: subcommand :attr:`Read.command` (:mod:`provider.cli`).

Values are validated once, by :meth:`Read.check`; past it the core takes the checked values.
Nothing here does I/O but :meth:`Read.run` and :func:`get_of_chain`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from .chains import ChainRef, check_answer
from .client import BasetenClient
from .deadline import Deadline
from .errors import InvalidInputError
from .inputs import CHAIN_CHOICE, InputField, check_inputs
from .outputs import OutputField
from .validation import Id, api_path
from .waiting import Progress


class Query(Protocol):
    """What every read's query offers the front ends."""

    @property
    def timeout_seconds(self) -> float: ...

    def describe(self) -> str: ...


Q = TypeVar("Q", bound=Query)
A = TypeVar("A")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Hooks:
    """Where a read reports while it runs: warnings, the gate's progress, and its sleep
    (a simulated clock's, in tests)."""

    on_warning: Callable[[str], None] | None = None
    on_progress: Callable[[Progress], None] | None = None
    sleep: Callable[[float], None] | None = None


def _never(_value: object) -> bool:
    return False


def pascal(name: str) -> str:
    """``chain_deployments`` -> ``ChainDeployments``."""
    return "".join(part.capitalize() for part in name.split("_"))


@dataclass(frozen=True)
class Read(Generic[Q, A]):
    """One read of the Baseten API, declared once.

    ``summary`` is one line (help listings), ``description`` the full text (Markdown, with
    the read's snake_case names). ``name`` gives every front end's name: ``get_{name}``,
    ``Get{Name}Result``, ``baseten:index:get{Name}``, ``baseten_{name}``. ``command`` is the
    command line's subcommand. ``id_output`` is the output Terraform's ``id`` takes.
    ``terraform_names`` renames inputs for Terraform (``baseten_chain`` keeps its
    ``id``/``name``). ``result_extras`` adds computed attributes to the Python result (e.g.
    the typed model). ``api_json`` is what the API sent (the command line's ``--json``).
    """

    name: str
    title: str
    summary: str
    description: str
    endpoints: tuple[str, ...]
    inputs: tuple[InputField, ...]
    outputs: tuple[OutputField, ...]
    query: Callable[[Mapping[str, Any]], Q]
    fetch: Callable[[Q, BasetenClient, Deadline, Hooks], A]
    api_json: Callable[[A], Any]
    command: str
    choices: tuple[tuple[str, str], ...] = (CHAIN_CHOICE,)
    id_output: str = "chain_id"
    terraform_names: Mapping[str, str] = field(default_factory=dict)
    result_extras: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)

    # -- names -------------------------------------------------------------------------------

    @property
    def function_name(self) -> str:
        return f"get_{self.name}"

    @property
    def result_name(self) -> str:
        return f"Get{pascal(self.name)}Result"

    @property
    def token_name(self) -> str:
        """The plugin function's name within the package's module: ``getChainDeployment``."""
        return f"get{pascal(self.name)}"

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.outputs)

    def example(self) -> dict[str, Any]:
        """Example inputs, from the inputs' ``example`` values (the first of each exactly-one
        pair): for the reference documentation and the command line's help; they read the
        emulator's default fixtures."""
        seconds = {second for _, second in self.choices}
        return {
            spec.name: spec.example
            for spec in self.inputs
            if spec.example is not None and spec.name not in seconds
        }

    # -- the path of the data ------------------------------------------------------------------

    def check(
        self, values: Mapping[str, Any], *, unknown: Callable[[Any], bool] = _never
    ) -> tuple[dict[str, Any], list[InvalidInputError]]:
        """The checked values and every problem (:func:`provider.inputs.check_inputs`)."""
        return check_inputs(self.inputs, self.choices, values, unknown=unknown)

    def parse(self, values: Mapping[str, Any]) -> Q:
        """The typed query ``values`` describe; the first :class:`InvalidInputError` if any."""
        checked, errors = self.check(values)
        if errors:
            raise errors[0]
        return self.query(checked)

    def run(
        self,
        query: Q,
        client: BasetenClient,
        deadline: Deadline | None = None,
        hooks: Hooks | None = None,
    ) -> A:
        """The answer, within ``deadline`` (default: the query's ``timeout_seconds``)."""
        if deadline is None:
            deadline = Deadline.after(query.timeout_seconds)
        return self.fetch(query, client, deadline, hooks or Hooks())

    def outputs_of(self, query: Q, answer: A) -> dict[str, Any]:
        """Every output, as JSON-ready values (integers stay integers)."""
        return {f.name: f.compute(query, answer) for f in self.outputs}

    def lookup_field(self, query: Q | None) -> str | None:
        """The input that named what was not found (a Terraform diagnostic points at it)."""
        if query is None:
            return None
        by = getattr(query, "lookup_by", None)
        if isinstance(by, str):
            return by
        chain = getattr(query, "chain", None)
        if isinstance(chain, ChainRef):
            return CHAIN_CHOICE[0] if chain.chain_id is not None else CHAIN_CHOICE[1]
        return None


# -- the query of the reads that take a chain and nothing to wait for --------------------------


@dataclass(frozen=True)
class ChainQuery:
    """A checked request about one chain: the chain, the time allowed, and the read's other
    checked inputs (``options``, by name)."""

    chain: ChainRef
    timeout_seconds: float
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_checked(cls, checked: Mapping[str, Any]) -> ChainQuery:
        rest = {
            k: v
            for k, v in checked.items()
            if k not in (*CHAIN_CHOICE, "timeout_seconds") and v is not None
        }
        return cls(
            ChainRef(checked.get(CHAIN_CHOICE[0]), checked.get(CHAIN_CHOICE[1])),
            checked["timeout_seconds"],
            rest,
        )

    def describe(self) -> str:
        return self.chain.describe()


@dataclass(frozen=True)
class Found(Generic[A]):
    """An answer about one chain: the chain's id (resolved) and what the API sent."""

    chain_id: Id
    body: A


def get_of_chain(
    query: ChainQuery,
    client: BasetenClient,
    deadline: Deadline,
    hooks: Hooks,
    collection: str,
    model: type[M],
) -> Found[M]:
    """``GET /v1/chains/{chain_id}/{collection}`` as ``model``, the chain resolved first (one
    ``GET /v1/chains`` when it was named by name)."""
    chain_id = query.chain.resolve(client, deadline, on_warning=hooks.on_warning)
    body = client.get(
        api_path("chains", chain_id, collection),
        model,
        what=f"the {collection} of chain {chain_id!r}",
        deadline=deadline,
        on_warning=hooks.on_warning,
    )
    return Found(chain_id, body)


def check_chain(
    query_chain: str, answered: str | None, what: str, *, field: str = "chain_id"
) -> None:
    """The answer must be about the chain asked for: anything else is an error, not a result."""
    check_answer(f"{what} of chain {query_chain!r}", answered, query_chain, field=field)
