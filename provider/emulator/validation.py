"""Argument checks shared by the emulator's value types, its fault queue and its command line."""

from __future__ import annotations

import math

from ..errors import InvalidInputError


def check_seconds(name: str, value: float) -> None:
    """:class:`InvalidInputError` naming ``name`` unless ``value`` is a finite number of
    seconds >= 0."""
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(name, f"must be a finite number of seconds >= 0, got {value!r}")


def check_status_and_times(status: int, times: int | None) -> None:
    """:class:`InvalidInputError` unless ``status`` is an HTTP status and ``times`` a count
    or None."""
    if not 100 <= status <= 599:
        raise InvalidInputError("status", f"must be an HTTP status (100-599), got {status}")
    if times is not None and (isinstance(times, bool) or times < 1):
        raise InvalidInputError("times", "must be None (forever) or a positive integer")
