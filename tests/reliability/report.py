"""Figures the reliability tests hand to the scorecard (leak places, load counts, the tally of
request methods). One process-wide dict; :func:`dump` writes it as JSON when
``RELIABILITY_REPORT`` names a file, so a run in another process can be read back too."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

REPORT_ENV = "RELIABILITY_REPORT"

_lock = threading.Lock()
RESULTS: dict[str, Any] = {}


def record(section: str, **values: Any) -> None:
    """Merge ``values`` into ``RESULTS[section]``."""
    with _lock:
        RESULTS.setdefault(section, {}).update(values)


def snapshot() -> dict[str, Any]:
    with _lock:
        copied: dict[str, Any] = json.loads(json.dumps(RESULTS, default=repr))
        return copied


def clear() -> None:
    with _lock:
        RESULTS.clear()


def dump() -> Path | None:
    """Write the results to ``$RELIABILITY_REPORT`` (if set); the path written."""
    target = os.environ.get(REPORT_ENV)
    if not target:
        return None
    path = Path(target)
    path.write_text(json.dumps(snapshot(), indent=2, sort_keys=True), encoding="utf-8")
    return path
