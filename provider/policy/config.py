"""The policy config document and the check it drives, shared by the pack and the pipeline check.

The document has the shape of a Pulumi policy pack config file (``pulumi preview --policy-pack
DIR --policy-pack-config FILE``), so one file serves both uses::

    {
      "all": "mandatory",
      "deployment-active": {"statuses": ["ACTIVE"]},
      "allowed-instance-types": {"instanceTypes": ["1x4", "L4:4x16", "H100:1x20x80"]},
      "replica-bounds": {"minReplica": 1, "maxReplica": 8,
                         "overrides": {"Generator": {"maxReplica": 16}}},
      "autoscaling-configured": {"requiredFields": ["scale_down_delay"]},
      "no-scale-to-zero": {"enforcementLevel": "mandatory", "environments": ["production"]}
    }

Each key is a rule name; its value is an enforcement level (``"advisory"``, ``"mandatory"``,
``"remediate"``, ``"disabled"``) or an object of the rule's settings with an optional
``"enforcementLevel"``. ``"all"`` sets the level of every rule first, then each rule's own entry
applies, as in the engine. What a caller may rely on:

* :func:`parse_config` turns a document into a :class:`PolicyConfig` (every rule, with its
  default level and settings where the document is silent) or raises
  :class:`~provider.errors.InvalidInputError` naming the bad entry. Unlike the engine, which
  ignores entries for policies a pack does not have, it refuses unknown rule names: in a
  pipeline a typo must not pass silently.
* The settings part of each entry is parsed by :meth:`Rule.settings <provider.policy.rules.Rule>`,
  the same call the policy pack makes on the config the engine hands it.
* :meth:`PolicyConfig.check` runs every enabled rule on a deployment; the report fails when a
  rule at ``mandatory`` (or ``remediate``) level has a violation. Advisory violations are
  reported and do not fail it. An override naming a chainlet the deployment does not have is
  never silent: it is listed (``RuleResult.unmatched_overrides``, ``CheckReport.warnings``)
  and never fails the report.
"""

from __future__ import annotations

import json
import os
import select
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BasetenError, InvalidInputError
from ..models import ChainDeployment
from .rules import RULES, Level, Rule, Violation, rule, unmatched_override_note

ALL = "all"
LEVEL_KEY = "enforcementLevel"


def parse_level(where: str, value: object) -> Level:
    """An enforcement level from its name; :class:`InvalidInputError` naming ``where``."""
    for level in Level:
        if value == level.value:
            return level
    raise InvalidInputError(
        where, f"{value!r} is not an enforcement level; use one of {', '.join(Level)}"
    )


def _entry(name: str, value: object) -> tuple[Level | None, dict[str, Any]]:
    """(level or None, settings) of one document entry: a level name or an object."""
    if isinstance(value, str):
        return parse_level(name, value), {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(name, f"must be an enforcement level or an object, got {value!r}")
    props = dict(value)
    level = props.pop(LEVEL_KEY, None)
    return (None if level is None else parse_level(f"{name}.{LEVEL_KEY}", level)), props


@dataclass(frozen=True)
class RuleResult:
    """One rule's verdict on one deployment. ``unmatched_overrides``: the chainlet names its
    settings override that the deployment has no chainlet of (they did nothing; a typo?)."""

    rule: str
    level: Level
    violations: tuple[Violation, ...]
    unmatched_overrides: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        """``skip`` (disabled), ``pass``, ``warn`` (advisory violations) or ``fail``."""
        if self.level is Level.DISABLED:
            return "skip"
        if not self.violations:
            return "pass"
        return "fail" if self.level.blocks else "warn"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.rule,
            "enforcementLevel": self.level.value,
            "outcome": self.outcome,
            "violations": [v.to_json() for v in self.violations],
            "unmatchedOverrides": list(self.unmatched_overrides),
        }


@dataclass(frozen=True)
class CheckReport:
    """Every rule's result for one deployment. ``passed``: no blocking violation.
    ``warnings``: one line per override that matched no chainlet (they never fail it)."""

    deployment: ChainDeployment
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        return not any(r.outcome == "fail" for r in self.results)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(
            f"{r.rule}: {unmatched_override_note(name, self.deployment)}"
            for r in self.results
            for name in r.unmatched_overrides
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.deployment.chain_id,
            "chain_deployment_id": self.deployment.id,
            "environment": self.deployment.environment,
            "status": str(self.deployment.status),
            "passed": self.passed,
            "warnings": list(self.warnings),
            "rules": [r.to_json() for r in self.results],
        }


@dataclass(frozen=True)
class RuleConfig:
    """A rule with its enforcement level and parsed settings."""

    rule: Rule[Any]
    level: Level
    settings: Any

    def check(self, deployment: ChainDeployment) -> RuleResult:
        if self.level is Level.DISABLED:
            return RuleResult(self.rule.name, self.level, ())
        found = self.rule.check(deployment, self.settings)
        unmatched = self.settings.unmatched_overrides(deployment)
        return RuleResult(self.rule.name, self.level, tuple(found), unmatched)


@dataclass(frozen=True)
class PolicyConfig:
    """Every rule, configured. Build it with :func:`parse_config`."""

    rules: tuple[RuleConfig, ...]

    def check(self, deployment: ChainDeployment) -> CheckReport:
        return CheckReport(deployment, tuple(r.check(deployment) for r in self.rules))

    def for_rule(self, name: str) -> RuleConfig:
        """The configured rule called ``name`` (:class:`InvalidInputError` if there is none)."""
        wanted = rule(name)
        return next(r for r in self.rules if r.rule is wanted)


def parse_config(document: Mapping[str, Any] | None = None) -> PolicyConfig:
    """The configured rules a document describes (all defaults for ``None`` or ``{}``)."""
    document = document or {}
    if not isinstance(document, Mapping):
        raise InvalidInputError("config", f"must be a JSON object, got {document!r}")
    for name in document:
        if name != ALL:
            rule(name)  # refuses unknown names before anything else is looked at
    all_level = None
    if ALL in document:
        all_level, rest = _entry(ALL, document[ALL])
        if rest:
            raise InvalidInputError(ALL, f"takes only {LEVEL_KEY}, got {', '.join(sorted(rest))}")
    configured = []
    for each in RULES:
        level = all_level or each.default_level
        props: dict[str, Any] = {}
        if each.name in document:
            own_level, props = _entry(each.name, document[each.name])
            level = own_level or level
        configured.append(RuleConfig(each, level, each.settings(props)))
    return PolicyConfig(tuple(configured))


def merge_documents(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` on top of ``base``, rule by rule: settings objects merge key by key
    (recursively, so one chainlet override can be added to a file's), anything else is
    replaced. A bare level counts as ``{"enforcementLevel": level}``."""
    merged: dict[str, Any] = dict(base)
    for name, value in overlay.items():
        merged[name] = (
            _deep_merge(_as_object(merged[name]), _as_object(value)) if name in merged else value
        )
    return merged


def _as_object(entry: Any) -> Any:
    return {LEVEL_KEY: entry} if isinstance(entry, str) else entry


def _deep_merge(old: Any, new: Any) -> Any:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        merged = dict(old)
        for key, value in new.items():
            merged[key] = _deep_merge(merged[key], value) if key in merged else value
        return merged
    return new


MAX_CONFIG_BYTES = 1 << 20
"""The largest config file read (1 MiB); real ones are well under 10 KiB."""
MAX_CONFIG_DEPTH = 16
"""The deepest nesting of objects and lists a config may have (a real one has 4)."""
CONFIG_READ_SECONDS = 10.0
"""The longest :func:`load_config_file` waits for data (a FIFO whose writer is silent)."""


def load_config_file(path: str | Path, *, timeout: float | None = None) -> dict[str, Any]:
    """Read a JSON config document: a UTF-8 JSON object of at most :data:`MAX_CONFIG_BYTES`,
    nested at most :data:`MAX_CONFIG_DEPTH` deep, with no key twice in one object and no
    ``NaN`` or ``Infinity``. Anything else, or a file that cannot be read to its end within
    ``timeout`` seconds (default :data:`CONFIG_READ_SECONDS`), raises
    :class:`InvalidInputError` on ``config``. The read is bounded in size and time, so
    ``/dev/zero`` or a FIFO neither fills memory nor hangs."""
    name = repr(str(path))
    timeout = CONFIG_READ_SECONDS if timeout is None else timeout
    try:
        data = _read_bounded(Path(path), timeout)
    except OSError as exc:
        raise InvalidInputError("config", f"cannot read {name}: {exc}") from None
    if data is None:
        raise InvalidInputError(
            "config", f"{name} was not read to its end within {timeout:g}s (a silent FIFO?)"
        )
    if len(data) > MAX_CONFIG_BYTES:
        raise InvalidInputError("config", f"{name} is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        document = json.loads(
            data.decode("utf-8"), object_pairs_hook=_object, parse_constant=_refuse_constant
        )
    except UnicodeDecodeError as exc:
        raise InvalidInputError("config", f"{name} is not UTF-8 text: {exc}") from None
    except _Refused as exc:
        raise InvalidInputError("config", f"{name} {exc}") from None
    except RecursionError:  # nested beyond the interpreter's limit, far beyond ours
        raise _too_deep(name) from None
    except ValueError as exc:  # JSONDecodeError, and integers beyond Python's digit limit
        raise InvalidInputError("config", f"{name} is not valid JSON: {exc}") from None
    if _deeper_than(document, MAX_CONFIG_DEPTH):
        raise _too_deep(name)
    if not isinstance(document, dict):
        raise InvalidInputError("config", f"{name} must hold a JSON object")
    return document


def _too_deep(name: str) -> InvalidInputError:
    return InvalidInputError("config", f"{name} is nested deeper than {MAX_CONFIG_DEPTH} levels")


class _Refused(BasetenError, ValueError):
    """Valid JSON that a config must not contain; the message completes "<file> ..."."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys; in a config that silently drops the first
    # entry (a rule's level or limit), so it is an error.
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Refused(f"has the key {key!r} twice in one object (the last would win)")
        found[key] = value
    return found


def _refuse_constant(constant: str) -> Any:
    raise _Refused(f"contains {constant}, which is not JSON")


def _deeper_than(value: Any, levels: int) -> bool:
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    return levels == 0 or any(_deeper_than(child, levels - 1) for child in children)


def _read_bounded(path: Path, timeout: float) -> bytes | None:
    """At most ``MAX_CONFIG_BYTES + 1`` bytes of ``path`` (so "too large" is decidable without
    reading the rest); ``None`` when no data came within ``timeout`` seconds. Opened without
    blocking: opening a FIFO would otherwise wait for a writer forever."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        chunks: list[bytes] = []
        size, deadline = 0, time.monotonic() + timeout
        while size <= MAX_CONFIG_BYTES:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            try:
                chunk = os.read(fd, min(1 << 16, MAX_CONFIG_BYTES + 1 - size))
            except BlockingIOError:  # a FIFO: readable was a false alarm
                continue
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
