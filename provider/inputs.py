"""The lookup's inputs, declared once: names, types, defaults, descriptions and validation.

:data:`INPUTS` is the one declaration of the five inputs of a chain deployment lookup.
Every front end derives from it: the Python resource's ``check``, the functions, the command
line, Terraform's arguments and validation, and the native plugin's schema (in camelCase).
:func:`input_errors` returns *every* problem at once, given which values are known; a
front end only translates the errors into its own form (a ``CheckFailure``, a diagnostic, an
exit code). :func:`provider.lookup.DeploymentQuery.parse` raises the first.

Exactly one of ``chain_deployment_id`` and ``environment`` names the deployment
(:data:`TARGETS`). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


@dataclass(frozen=True)
class InputField:
    """One input of the lookup.

    ``check`` returns the validated value or raises :class:`InvalidInputError` naming the
    field. ``identity`` inputs say *which* deployment is read: changing one replaces a
    resource. ``default`` is the lookup's own default (``None``: not given).
    """

    name: str
    type: FieldType
    description: str
    check: Callable[[Any], Any]
    required: bool = False
    identity: bool = False
    default: Any = None

    @property
    def camel_name(self) -> str:
        return camel(self.name)


def _id_check(name: str) -> Callable[[Any], Any]:
    return lambda value: validation.check_id(name, value)


INPUTS: tuple[InputField, ...] = (
    InputField(
        "chain_id",
        Scalar.STRING,
        "The chain's id.",
        _id_check("chain_id"),
        required=True,
        identity=True,
    ),
    InputField(
        "chain_deployment_id",
        Scalar.STRING,
        "The deployment to read. Exactly one of this and `environment`.",
        _id_check("chain_deployment_id"),
        identity=True,
    ),
    InputField(
        "environment",
        Scalar.STRING,
        "Read the current deployment of this environment (e.g. `production`). Exactly one of "
        "this and `chain_deployment_id`.",
        _id_check("environment"),
        identity=True,
    ),
    InputField(
        "wait_for",
        ListOf(Scalar.STRING),
        "Wait until the deployment and every chainlet have one of these statuses (e.g. "
        '`["ACTIVE"]`); empty: read once, no wait. The resource waits for `["ACTIVE"]` unless '
        "told otherwise; the function and the data source do not wait unless told to.",
        validation.check_wait_for,
    ),
    InputField(
        "timeout_seconds",
        Scalar.NUMBER,
        "Give up after this many seconds, waiting included (default 900).",
        validation.check_timeout,
        default=DEFAULT_TIMEOUT_SECONDS,
    ),
)

INPUTS_BY_NAME: Mapping[str, InputField] = {f.name: f for f in INPUTS}
INPUT_NAMES: tuple[str, ...] = tuple(INPUTS_BY_NAME)
IDENTITY_NAMES: tuple[str, ...] = tuple(f.name for f in INPUTS if f.identity)
TARGETS: tuple[str, str] = ("chain_deployment_id", "environment")
"""Exactly one of these names the deployment."""


def _never(_value: object) -> bool:
    return False


def input_errors(
    values: Mapping[str, Any], *, unknown: Callable[[Any], bool] = _never
) -> list[InvalidInputError]:
    """Every problem with ``values`` (input name to value), in declaration order.

    A name that is missing or ``None`` was not given. A value for which ``unknown`` is true
    (a preview's computed value) is not judged, and while a target is unknown the
    exactly-one rule waits too: an unknown may still turn out null.
    """
    errors: list[InvalidInputError] = []
    for spec in INPUTS:
        value = values.get(spec.name)
        if value is None:
            if spec.required:
                errors.append(InvalidInputError(spec.name, "is required"))
            continue
        if unknown(value):
            continue
        try:
            spec.check(value)
        except InvalidInputError as exc:
            errors.append(exc)
    targets = [values.get(name) for name in TARGETS]
    if not any(v is not None and unknown(v) for v in targets):
        given = [v is not None for v in targets]
        if all(given):
            errors.append(
                InvalidInputError(TARGETS[1], f"give either {TARGETS[0]} or {TARGETS[1]}, not both")
            )
        elif not any(given):
            errors.append(
                InvalidInputError(TARGETS[0], f"one of {TARGETS[0]} or {TARGETS[1]} is required")
            )
    return errors
