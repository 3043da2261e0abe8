"""Where the API key and base URL come from, and one shared client per pair.

Precedence: an explicit value, then the Pulumi stack config (``baseten:apiKey``,
``baseten:apiUrl``), then ``BASETEN_API_KEY`` / ``BASETEN_API_URL``. Clients are cached per
(key, URL) for the life of the process, so many lookups reuse one connection pool. The cache
lives in this module, never on an object that Pulumi pickles.
"""

from __future__ import annotations

import hashlib
import os
import threading

from .client import BasetenClient

CONFIG_API_KEY = "baseten:apiKey"
CONFIG_API_URL = "baseten:apiUrl"

_clients: dict[tuple[str, str | None], BasetenClient] = {}
_lock = threading.Lock()


def shared_client(api_key: str | None = None, base_url: str | None = None) -> BasetenClient:
    """The process-wide client for this key and URL (environment variables fill the gaps)."""
    if api_key is None:
        api_key = os.environ.get("BASETEN_API_KEY")
    if base_url is None:
        base_url = os.environ.get("BASETEN_API_URL")
    # A digest as the cache key: the key itself is held only by the client's auth object.
    cache_key = (hashlib.sha256((api_key or "").encode()).hexdigest(), base_url)
    with _lock:
        client = _clients.get(cache_key)
        if client is None:
            client = BasetenClient(api_key=api_key, base_url=base_url)
            _clients[cache_key] = client
        return client


def close_shared_clients() -> None:
    """Close and forget every cached client (tests use this between emulators)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
