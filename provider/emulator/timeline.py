"""Deployment timelines: :class:`Step` s and the per-deployment state that plays them.

A timeline makes a stored deployment change status over time, by served-request count or by
emulator clock time (see :meth:`~provider.emulator.Emulator.set_timeline`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .validation import _check_seconds

__all__ = ["IN_PROGRESS_STATUSES", "Step"]

IN_PROGRESS_STATUSES: frozenset[str] = frozenset(
    {"BUILDING", "DEPLOYING", "LOADING_MODEL", "UPDATING", "WAKING_UP"}
)
"""Statuses during which a timeline serves a chainlet's ``autoscaling_settings`` as null."""


@dataclass(frozen=True)
class Step:
    """One stage of a deployment's timeline (see :meth:`Emulator.set_timeline`).

    The deployment takes ``status``; each chainlet takes ``chainlet_statuses[name]`` if given,
    else ``status``. A step is reached once the deployment has been served ``after_requests``
    times before the current request, or once ``after_seconds`` of emulator-clock time have
    passed since ``set_timeline`` (whichever comes first); a step with neither is reached at
    once. The last reached step is the one served.
    """

    status: str
    chainlet_statuses: Mapping[str, str] | None = None
    after_requests: int | None = None
    after_seconds: float | None = None

    def __post_init__(self) -> None:
        if not self.status:
            raise ValueError("status must not be empty")
        if self.chainlet_statuses is not None:
            # A private read-only copy: editing the caller's dict later must not move a timeline.
            object.__setattr__(
                self, "chainlet_statuses", MappingProxyType(dict(self.chainlet_statuses))
            )
        if self.after_requests is not None and self.after_requests < 0:
            raise ValueError("after_requests must not be negative")
        if self.after_seconds is not None:
            _check_seconds("after_seconds", self.after_seconds)

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
    started: float
    served: int = 0
