"""The inputs of the reads, declared once: names, types, defaults, descriptions and validation.

:class:`InputField` declares one input; :func:`check_inputs` checks a set of them, with their
"exactly one of" pairs (:data:`CHAIN_CHOICE`: ``chain_id`` or ``chain_name``), and returns the
validated values and *every* problem at once, given which values are known. This is the one
place a value is validated: past it the core takes the checked values (an id is a
:data:`~provider.validation.Id`). A front end only translates the errors into its own form (a
``CheckFailure``, a diagnostic, an exit code).

:data:`INPUTS` are the inputs of the chain deployment lookup (the ``ChainDeployment`` resource,
``get_chain_deployment``): the chain, exactly one of ``chain_deployment_id`` and
``environment`` (:data:`TARGETS`), the gate's ``wait_for`` and the ``timeout_seconds``. The
other reads (:mod:`provider.reads`) reuse :data:`CHAIN_ID`, :data:`CHAIN_NAME` and
:data:`TIMEOUT`. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import validation
from .errors import InvalidInputError
from .fields import FieldType, ListOf, Scalar, camel
from .status import DEFAULT_READY

DEFAULT_TIMEOUT_SECONDS = 900.0
RESOURCE_WAIT_FOR: tuple[str, ...] = tuple(sorted(DEFAULT_READY))
"""The resource's gate unless ``wait_for`` says otherwise: it holds dependents back until
ACTIVE. The functions, the command line and Terraform's data source read without waiting."""

MAX_NAME_LENGTH = 256


@dataclass(frozen=True)
class InputField:
    """One input of a read.

    ``check`` returns the validated value or raises :class:`InvalidInputError` naming the
    field. ``identity`` inputs say *which* thing is read: changing one replaces a resource.
    ``default`` is the read's own default (``None``: not given). ``filled`` says whether a
    front end that echoes inputs (Terraform) fills it in from the output of the same name
    when it is not given (``None``: when such an output exists). On the command line the
    input is ``flags`` (default ``--name-with-dashes``), or a positional argument called
    ``metavar`` when ``positional``. ``example`` is a value for the reference documentation.
    """

    name: str
    type: FieldType
    description: str
    check: Callable[[Any], Any]
    required: bool = False
    identity: bool = False
    default: Any = None
    filled: bool | None = None
    positional: bool = False
    flags: tuple[str, ...] = ()
    metavar: str | None = None
    example: Any = None

    @property
    def camel_name(self) -> str:
        return camel(self.name)

    @property
    def cli_flags(self) -> tuple[str, ...]:
        return self.flags or ("--" + self.name.replace("_", "-"),)


def _id_check(name: str) -> Callable[[Any], Any]:
    return lambda value: validation.check_id(name, value)


def check_name(field: str, value: object) -> str:
    """A chain's name as a user gives it: a non-empty string without control characters."""
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(field, "must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(field, f"is {len(value)} characters long (at most 256)")
    if not value.isprintable():
        raise InvalidInputError(field, "contains control or invisible characters")
    return value


CHAIN_ID = InputField(
    "chain_id",
    Scalar.STRING,
    "The chain's id. Exactly one of this and `chain_name`.",
    _id_check("chain_id"),
    identity=True,
    positional=True,
    metavar="CHAIN_ID",
    example="ch7k2p9q",
)
CHAIN_NAME = InputField(
    "chain_name",
    Scalar.STRING,
    "The chain's name, looked up in `GET /v1/chains` (it must match exactly one chain). "
    "Exactly one of this and `chain_id`; state and ids keep the chain's id, so renaming the "
    "chain later changes nothing.",
    lambda value: check_name("chain_name", value),
    identity=True,
    filled=False,
    metavar="NAME",
    example="rag-pipeline",
)
CHAIN_CHOICE: tuple[str, str] = (CHAIN_ID.name, CHAIN_NAME.name)
"""Exactly one of these names the chain, in every read that takes one."""

TIMEOUT = InputField(
    "timeout_seconds",
    Scalar.NUMBER,
    "Give up after this many seconds, waiting and retries included (default 900).",
    validation.check_timeout,
    default=DEFAULT_TIMEOUT_SECONDS,
    flags=("--timeout",),
    metavar="SECONDS",
    example=60,
)

INPUTS: tuple[InputField, ...] = (
    CHAIN_ID,
    InputField(
        "chain_deployment_id",
        Scalar.STRING,
        "The deployment to read. Exactly one of this and `environment`.",
        _id_check("chain_deployment_id"),
        identity=True,
        positional=True,
        metavar="DEPLOYMENT_ID",
        example="dp3m8x1v",
    ),
    InputField(
        "environment",
        Scalar.STRING,
        "Read the current deployment of this environment (e.g. `production`). Exactly one of "
        "this and `chain_deployment_id`.",
        _id_check("environment"),
        identity=True,
        flags=("--environment", "-e"),
        metavar="NAME",
        example="production",
    ),
    InputField(
        "wait_for",
        ListOf(Scalar.STRING),
        "Wait until the deployment and every chainlet have one of these statuses (e.g. "
        '`["ACTIVE"]`); empty: read once, no wait. The resource waits for `["ACTIVE"]` unless '
        "told otherwise; the function and the data source do not wait unless told to.",
        validation.check_wait_for,
        filled=False,
        metavar="STATUS",
        example=["ACTIVE"],
    ),
    TIMEOUT,
    # Last: positional callers of the functions and ChainDeploymentArgs keep their order.
    CHAIN_NAME,
)

INPUTS_BY_NAME: Mapping[str, InputField] = {f.name: f for f in INPUTS}
INPUT_NAMES: tuple[str, ...] = tuple(INPUTS_BY_NAME)
IDENTITY_NAMES: tuple[str, ...] = tuple(f.name for f in INPUTS if f.identity)
TARGETS: tuple[str, str] = ("chain_deployment_id", "environment")
"""Exactly one of these names the deployment."""
CHOICES: tuple[tuple[str, str], ...] = (CHAIN_CHOICE, TARGETS)
"""The "exactly one of" pairs of :data:`INPUTS`."""


def _never(_value: object) -> bool:
    return False


def check_inputs(
    inputs: Sequence[InputField],
    choices: Sequence[tuple[str, str]],
    values: Mapping[str, Any],
    *,
    unknown: Callable[[Any], bool] = _never,
) -> tuple[dict[str, Any], list[InvalidInputError]]:
    """``values`` (input name to value) checked: the validated values (defaults filled in,
    ``None`` where not given or unknown) and every problem, in declaration order.

    A name that is missing or ``None`` was not given. A value for which ``unknown`` is true
    (a preview's computed value) is not judged, and while one of a pair is unknown the
    exactly-one rule waits too: an unknown may still turn out null. Each check runs once.
    """
    checked: dict[str, Any] = {}
    errors: list[InvalidInputError] = []
    for spec in inputs:
        value = values.get(spec.name)
        checked[spec.name] = spec.default
        if value is None:
            if spec.required:
                errors.append(InvalidInputError(spec.name, "is required"))
            continue
        if unknown(value):
            checked[spec.name] = None
            continue
        try:
            checked[spec.name] = spec.check(value)
        except InvalidInputError as exc:
            errors.append(exc)
    for first, second in choices:
        pair = [values.get(first), values.get(second)]
        if any(v is not None and unknown(v) for v in pair):
            continue
        given = [v is not None for v in pair]
        if all(given):
            errors.append(InvalidInputError(second, f"give either {first} or {second}, not both"))
        elif not any(given):
            errors.append(InvalidInputError(first, f"one of {first} or {second} is required"))
    return checked, errors


def input_errors(
    values: Mapping[str, Any], *, unknown: Callable[[Any], bool] = _never
) -> list[InvalidInputError]:
    """Every problem with ``values`` as inputs of the chain deployment lookup
    (:data:`INPUTS`); see :func:`check_inputs`."""
    return check_inputs(INPUTS, CHOICES, values, unknown=unknown)[1]
