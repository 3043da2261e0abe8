"""The provider ``local.invalid/pulumi-baseten-chains/baseten`` and the process serving it.

What a caller may rely on:

* Provider configuration: ``api_key`` (sensitive; falls back to ``BASETEN_API_KEY``) and
  ``api_url`` (falls back to ``BASETEN_API_URL``, then ``https://api.baseten.co``). Both are
  checked by the core validators (:mod:`provider.validation`) when terraform validates and
  configures the provider; a missing key fails at configure time, before any data source is read.
  ``max_requests_per_second`` (falls back to ``BASETEN_MAX_RPS``, then 100) is the key's rate
  limit per endpoint, which every read is paced under (:mod:`provider.ratelimit`).
* One :class:`~provider.client.BasetenClient` per process, from
  :func:`provider.connection.shared_client`; the key lives only in that client's memory.
  Terraform keeps no provider configuration in state, and the schema marks ``api_key``
  sensitive so terraform never prints it. (A plan saved with ``-out`` does hold the values of
  variables, sensitive ones included: in CI prefer ``BASETEN_API_KEY``.)
* :func:`serve` speaks the plugin protocol (v6) through ``tf``; started by hand without the
  handshake cookie terraform sets, it says so and exits 1 instead of hanging (``--dev`` runs a
  debug server and prints ``TF_REATTACH_PROVIDERS``).
* When terraform stops the provider (Ctrl-C), the process ends promptly: ``tf`` drops the
  in-flight call (terraform reports "Plugin did not respond") and a read waiting between polls
  is cut short. If terraform itself dies, the provider notices within a second and exits
  rather than serve nobody forever.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from .. import connection, credentials, ratelimit, validation
from ..client import BasetenClient
from ..errors import InvalidInputError
from ..text import log_handler
from . import diagnostics
from ._tf import Attribute, Config, Diagnostics, Number, Provider, Schema, String, run_provider
from .cliconfig import EXECUTABLE, PROVIDER_ADDRESS
from .data_sources import API_KEY_HINT, DATA_SOURCES, is_known

# go-plugin's handshake: terraform (and OpenTofu) set this variable for every provider process
# they start. Only its presence is checked: it tells "started by terraform" from "by hand".
_MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"


def _config_error(diags: Diagnostics, exc: InvalidInputError) -> None:
    # The core calls the URL "base_url"; in the provider block it is "api_url".
    name = "api_url" if exc.field == "base_url" else exc.field
    diagnostics.error(diags, f"Invalid {name}", exc.reason, path=[name])


class TerraformProvider(Provider):  # type: ignore[misc]  # tf is untyped: Any to mypy
    """The ``baseten`` provider: data sources only, one per read of the catalog (nothing to
    create, so no resources)."""

    def __init__(self) -> None:
        self._api_key: str | None = None
        self._api_url: str | None = None
        self._max_rps: float | None = None
        self._configured = False
        self.stopping = threading.Event()

    # -- identity and schema -----------------------------------------------------------------

    def full_name(self) -> str:
        return PROVIDER_ADDRESS

    def get_model_prefix(self) -> str:
        return "baseten_"

    def get_provider_schema(self, diags: Diagnostics) -> Any:
        return Schema(
            attributes=[
                Attribute(
                    "api_key",
                    String(),
                    optional=True,
                    sensitive=True,
                    description="Baseten API key. Defaults to `BASETEN_API_KEY`.",
                ),
                Attribute(
                    "api_url",
                    String(),
                    optional=True,
                    description="Base URL of the Baseten API. Defaults to `BASETEN_API_URL`, "
                    "then `https://api.baseten.co`; plain http only for loopback hosts.",
                ),
                Attribute(
                    credentials.MAX_RPS_SETTING,
                    Number(),
                    optional=True,
                    description="The API key's rate limit in requests per second per endpoint; "
                    f"every read is paced under it. Defaults to `{credentials.MAX_RPS_ENV}`, "
                    f"then {ratelimit.DEFAULT_MAX_RPS:g} (Baseten's). Raise it for a key with a "
                    "higher limit.",
                ),
            ],
        )

    def get_data_sources(self) -> list[type[Any]]:
        return list(DATA_SOURCES)

    def get_resources(self) -> list[type[Any]]:
        return []

    # -- configuration -----------------------------------------------------------------------

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        key, url = config.get("api_key"), config.get("api_url")
        try:
            if key is not None and is_known(key):
                validation.check_api_key(key)
            if url is not None and is_known(url):
                validation.check_base_url(url)
            _max_rps(config)
        except InvalidInputError as exc:
            _config_error(diags, exc)

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        key, url = config.get("api_key"), config.get("api_url")
        if not (is_known(key) and is_known(url)):
            # Depends on something not created yet; reads are deferred until it is known.
            return
        try:
            self._max_rps = _max_rps(config)
        except InvalidInputError as exc:
            _config_error(diags, exc)
            return
        self._api_key, self._api_url = key, url
        self._configured = True
        try:
            self.client()
        except InvalidInputError as exc:
            if exc.field == "api_key":
                diagnostics.error(
                    diags, "No usable Baseten API key", f"{exc.reason}; {API_KEY_HINT}."
                )
            elif exc.field == "base_url" and url is None:
                diagnostics.error(diags, "Invalid BASETEN_API_URL", exc.reason)
            else:
                _config_error(diags, exc)

    def client(self) -> BasetenClient:
        """The shared client for the configured (or environment) key and URL."""
        if not self._configured:
            raise InvalidInputError(
                "api_key",
                "the provider configuration is not known yet (it depends on a "
                "resource that does not exist yet)",
            )
        return connection.shared_client(self._api_key, self._api_url, self._max_rps)


def _max_rps(config: Config) -> float | None:
    """The configured rate limit (``None``: not set, or not known yet), checked."""
    value = config.get(credentials.MAX_RPS_SETTING)
    if value is None or not is_known(value):
        return None
    return ratelimit.check_rate(value, credentials.MAX_RPS_SETTING)


def serve(argv: Sequence[str] | None = None) -> int:
    """Serve the provider to terraform until it disconnects. Returns the exit status."""
    args = list(sys.argv if argv is None else argv)
    if _MAGIC_COOKIE_KEY not in os.environ and "--dev" not in args:
        print(
            f"{EXECUTABLE} is a Terraform plugin: terraform starts it. Install it for "
            "terraform init with python -m provider.terraform.mirror terraform.d/plugins, or "
            "skip init with python -m provider.terraform.cliconfig --output terraformrc and "
            "TF_CLI_CONFIG_FILE=$PWD/terraformrc; --dev runs a debug server.",
            file=sys.stderr,
        )
        return 1
    # stdout carries the go-plugin handshake and nothing else; logs go to stderr, which
    # terraform shows with TF_LOG=DEBUG (e.g. each status change while waiting).
    logging.basicConfig(
        level=logging.INFO,
        handlers=[log_handler(sys.stderr, "%(levelname)s %(name)s: %(message)s")],
    )
    provider = TerraformProvider()
    if "--dev" not in args:
        threading.Thread(
            target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True
        ).start()
    try:
        # tf falls back to sys.argv on an empty list; give it at least the program name.
        run_provider(provider, args or [EXECUTABLE])
    finally:
        provider.stopping.set()
        connection.close_shared_clients()
    return 0


def _exit_with_parent(parent: int) -> None:
    # tf serves until terraform says goodbye; a terraform killed outright never does, and its
    # orphaned plugin would keep a server (and maybe a wait) alive forever.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
