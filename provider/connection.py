"""Where the API key and base URL come from, and one shared client per pair.

The key and URL are resolved by :func:`provider.credentials.resolve` (the value a front end
hands over, then ``BASETEN_API_KEY`` / ``BASETEN_API_URL``). Clients are cached per
(key, URL) for the life of the process, so many lookups reuse one connection pool. The cache
lives in this module, never on an object that Pulumi pickles.
"""

from __future__ import annotations

import hashlib
import threading

from . import credentials
from .client import BasetenClient

_clients: dict[tuple[str, str, float], BasetenClient] = {}
_lock = threading.Lock()


def shared_client(
    api_key: str | None = None, base_url: str | None = None, max_rps: float | None = None
) -> BasetenClient:
    """The process-wide client for this key, URL and rate limit (environment variables fill
    the gaps)."""
    found = credentials.resolve(api_key, base_url)
    rate = credentials.resolve_max_rps(max_rps)
    # A digest as the cache key: the key itself is held only by the client's auth object.
    digest = hashlib.sha256((found.api_key or "").encode("utf-8", "surrogatepass")).hexdigest()
    cache_key = (digest, found.base_url, rate)
    with _lock:
        client = _clients.get(cache_key)
        if client is None:
            client = BasetenClient(
                api_key=found.api_key, base_url=found.base_url, max_requests_per_second=rate
            )
            _clients[cache_key] = client
        return client


def close_shared_clients() -> None:
    """Close and forget every cached client (tests use this between emulators)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
