"""Argument checks shared by the emulator's value types, the :class:`~provider.emulator.Emulator`
and the command line."""

from __future__ import annotations

import math


def _check_seconds(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
