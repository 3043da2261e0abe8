"""A local stand-in for the Baseten management API (chains endpoints) on 127.0.0.1.

The emulator serves the read-only chain calls of ``https://api.baseten.co`` from in-memory
fixtures, so the client, the readiness gate and the Pulumi provider can be exercised without a
network or a real key. It is built on the standard library only and binds to 127.0.0.1 alone.

What a caller may rely on:

* Routes (``GET`` only, JSON, ``Content-Type: application/json``, always a ``Content-Length``
  unless a queued fault says otherwise): ``/v1/chains``, ``/v1/chains/{chain_id}``,
  ``/v1/chains/{chain_id}/deployments``,
  ``/v1/chains/{chain_id}/deployments/{chain_deployment_id}``,
  ``/v1/chains/{chain_id}/environments`` and ``/v1/chains/{chain_id}/environments/{env_name}``.
  Unknown things answer 404 with a ``{"message": ...}`` body; any other method answers 405
  (and is recorded, so a test can prove that nothing ever sent a ``DELETE``).
* Auth: ``Authorization: Api-Key <key>`` or ``Authorization: Bearer <key>``; anything else
  answers 401 and does not consume a fault.
* Per request, in this order: record the start, check auth, sleep :attr:`Emulator.latency`,
  serve the first matching raw answer (:meth:`Emulator.add_raw_answer`), else apply the first
  matching fault (any :class:`Misbehaviour`; the tests' vocabulary is ``tests/emulator_faults.py``),
  else answer normally, record the finish.
* Every request any emulator in the process records is also counted by method in a
  process-wide tally (:meth:`Emulator.methods_seen_by_all`), so a test session can prove that
  nothing, anywhere, sent anything but ``GET``.
* Deployments may follow a timeline of :class:`Step` s, by served-request count or by emulator
  clock time; the timeline shows wherever the deployment is served.
* The request log (:class:`RecordedRequest`) never holds headers or the API key.
* Nothing happens at import time; :class:`Emulator` starts a server only on ``__enter__`` /
  :meth:`Emulator.start`, and stops within a second on ``__exit__`` / :meth:`Emulator.close`,
  even while a ``hang`` fault is in progress.

Run it by hand with ``python -m provider.emulator --scenario rollout`` (``--help`` lists the
scenarios).

Every name below is importable from ``provider.emulator``. The package is split by seam; no
module reaches into another's private names, and each part talks to the others through
documented public methods. In dependency order:

* :mod:`~provider.emulator.validation` - the seconds check shared by the value types and the CLI;
* :mod:`~provider.emulator.shapes` - what the API names and serves: paths, :func:`make_chainlet`,
  :func:`make_deployment`, :data:`IN_PROGRESS_STATUSES`, error messages, the JSON encoding;
* :mod:`~provider.emulator.store` - the state: chains, deployments, environments and timelines
  (:class:`Step`), and the normal answer to every route;
* :mod:`~provider.emulator.faults` - answers other than the store's: the :class:`Misbehaviour`
  protocol and how the server delivers one, the two faults the scenarios use
  (:class:`CannedAnswer`, :class:`StatusRewrite`), raw answers, latency and the queue;
* :mod:`~provider.emulator.recording` - :class:`RecordedRequest`, the request log and the
  process-wide tally;
* :mod:`~provider.emulator.http_server` - the HTTP server and request handler (:data:`HOST`);
* :mod:`~provider.emulator.emulator` - :class:`Emulator`, which puts the parts together;
* :mod:`~provider.emulator.scenarios` - named setups: :func:`load_default_fixtures`,
  :data:`SCENARIOS` and :func:`apply_scenario`;
* :mod:`~provider.emulator.cli` - :func:`main`, run by ``python -m provider.emulator``.
"""

from __future__ import annotations

from .cli import main
from .emulator import DEFAULT_API_KEY, Emulator
from .faults import Answer, CannedAnswer, Misbehaviour, StatusRewrite
from .http_server import HOST
from .recording import RecordedRequest
from .scenarios import AUDIO_CHAIN, RAG_CHAIN, SCENARIOS, apply_scenario, load_default_fixtures
from .shapes import (
    DEFAULT_CREATED_AT,
    IN_PROGRESS_STATUSES,
    chain_path,
    deployment_path,
    environment_path,
    make_chainlet,
    make_deployment,
)
from .store import Step

__all__ = [
    "AUDIO_CHAIN",
    "DEFAULT_API_KEY",
    "DEFAULT_CREATED_AT",
    "HOST",
    "IN_PROGRESS_STATUSES",
    "RAG_CHAIN",
    "SCENARIOS",
    "Answer",
    "CannedAnswer",
    "Emulator",
    "Misbehaviour",
    "RecordedRequest",
    "StatusRewrite",
    "Step",
    "apply_scenario",
    "chain_path",
    "deployment_path",
    "environment_path",
    "load_default_fixtures",
    "main",
    "make_chainlet",
    "make_deployment",
]
