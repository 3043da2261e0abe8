"""Where the API key and the base URL come from: the one place that reads the environment.

Precedence: a value the front end hands over (its own configuration: Pulumi's stack config
``baseten:apiKey`` / ``baseten:apiUrl``, Terraform's provider block, the command line's
``--api-url``), then ``BASETEN_API_KEY`` / ``BASETEN_API_URL``, then (for the URL)
``https://api.baseten.co``. Messages here are neutral; each front end adds where *its* users
set the key.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import NoReturn

from . import ratelimit
from .errors import InvalidInputError, NotPicklableError

API_KEY_ENV = "BASETEN_API_KEY"
API_URL_ENV = "BASETEN_API_URL"
MAX_RPS_ENV = "BASETEN_MAX_RPS"
DEFAULT_BASE_URL = "https://api.baseten.co"
CA_BUNDLE_ENVS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
"""Where ``requests`` takes the certificates to trust from (the first one set wins)."""

PULUMI_NAMESPACE = "baseten"
PULUMI_API_KEY = "apiKey"
PULUMI_API_URL = "apiUrl"
"""The two settings' names in Pulumi: stack config ``baseten:apiKey`` / ``baseten:apiUrl`` for
the Python resource and functions, and the native plugin's config variables."""
PULUMI_MAX_RPS = "maxRequestsPerSecond"
"""The rate-limit setting's name in Pulumi (``baseten:maxRequestsPerSecond``); Terraform's
provider attribute and the client's argument are ``max_requests_per_second``, the command
line's flag ``--max-rps``."""
MAX_RPS_SETTING = "max_requests_per_second"
PULUMI_KEY_HINT = (
    f"set it with `pulumi config set --secret {PULUMI_NAMESPACE}:{PULUMI_API_KEY} ...` or "
    f"export {API_KEY_ENV}"
)
"""Where Pulumi users set the key: the hint both Pulumi front ends add to a key error."""


@dataclass(frozen=True)
class Credentials:
    """An API key (``None``: none was found) and a base URL. ``repr`` hides the key."""

    api_key: str | None
    base_url: str

    def __repr__(self) -> str:
        return f"Credentials(base_url={self.base_url!r}, api_key=<redacted>)"

    def __reduce__(self) -> NoReturn:
        # Like the client and its auth object: a pickle would carry the key into state.
        raise NotPicklableError("credentials cannot be pickled")


def resolve(api_key: str | None = None, base_url: str | None = None) -> Credentials:
    """The credentials to use: the values given, else the environment, else the default URL.
    ``None`` means not given; an empty value given is kept (and refused by the client), while
    an empty variable in the environment counts as unset."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
    url = base_url if base_url is not None else os.environ.get(API_URL_ENV) or DEFAULT_BASE_URL
    return Credentials(key, url)


def check_ca_bundle() -> None:
    """Refuse (:class:`~provider.errors.InvalidInputError` naming the variable and the path)
    a CA bundle variable of :data:`CA_BUNDLE_ENVS` that names nothing readable: ``requests``
    would fail on it only at the first request, as an ``OSError`` no front end could explain.
    A file must be readable, a directory (``openssl rehash`` style) listable."""
    for name in CA_BUNDLE_ENVS:
        path = os.environ.get(name)
        if not path:
            continue
        if os.path.isdir(path):
            readable = os.access(path, os.R_OK | os.X_OK)
        else:
            try:
                with open(path, "rb"):
                    readable = True
            except OSError as exc:
                cause = (exc.strerror or "cannot be read").lower()
                raise InvalidInputError(
                    name, f"names {path!r}, which cannot be read ({cause}); fix or unset it"
                ) from None
        if not readable:
            raise InvalidInputError(
                name, f"names the directory {path!r}, which cannot be read; fix or unset it"
            )
        return


def resolve_max_rps(given: float | None = None) -> float:
    """The key's rate limit (requests/s per endpoint): the value given (checked), else
    ``BASETEN_MAX_RPS`` (checked, named in the error), else Baseten's documented 100.
    ``math.inf`` given turns the limiter off (code only; no setting accepts it)."""
    if given is not None:
        if isinstance(given, float) and given == math.inf:
            return given
        return ratelimit.check_rate(given, MAX_RPS_SETTING)
    from_env = os.environ.get(MAX_RPS_ENV)
    if from_env:
        return ratelimit.check_rate(from_env, MAX_RPS_ENV)
    return ratelimit.DEFAULT_MAX_RPS
