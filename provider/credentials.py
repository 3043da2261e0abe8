"""Where the API key and the base URL come from: the one place that reads the environment.

Precedence: a value the front end hands over (its own configuration: Pulumi's stack config
``baseten:apiKey`` / ``baseten:apiUrl``, Terraform's provider block, the command line's
``--api-url``), then ``BASETEN_API_KEY`` / ``BASETEN_API_URL``, then (for the URL)
``https://api.baseten.co``. Messages here are neutral; each front end adds where *its* users
set the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import NoReturn

from .errors import NotPicklableError

API_KEY_ENV = "BASETEN_API_KEY"
API_URL_ENV = "BASETEN_API_URL"
DEFAULT_BASE_URL = "https://api.baseten.co"

PULUMI_NAMESPACE = "baseten"
PULUMI_API_KEY = "apiKey"
PULUMI_API_URL = "apiUrl"
"""The two settings' names in Pulumi: stack config ``baseten:apiKey`` / ``baseten:apiUrl`` for
the Python resource and functions, and the native plugin's config variables."""
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
