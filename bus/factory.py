"""Pick a transport from a URL: ``memory://[name]``, ``redis://``/``rediss://``/``unix://`` (one
Redis server) or ``redis+cluster://``/``rediss+cluster://`` (a Redis Cluster)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bus.errors import UnsupportedTransportError
from bus.memory import MemoryTransport
from bus.redis_client import SCHEMES as REDIS_SCHEMES
from bus.redis_streams import RedisStreamsTransport
from bus.transport import Transport

_memory: dict[str, MemoryTransport] = {}


def open_memory_transport(url: str) -> MemoryTransport | None:
    """The open in-process bus that ``memory://[name]`` names, or None when this process has
    none (a ``memory://`` URL from another process names a bus out of reach)."""
    name = url.split("://", 1)[1].strip("/") or "default"
    existing = _memory.get(name)
    return None if existing is None or existing.closed else existing


def create_transport(url: str, **options: Any) -> Transport:
    """The transport a bus URL names.

    ``memory://`` gives a process-wide in-memory bus: every caller in the process that asks
    for the same name (``memory://`` is ``memory://default``) shares one instance, until it
    is closed. Redis URLs give a new ``RedisStreamsTransport`` each call (on a cluster with
    ``redis+cluster://`` or ``rediss+cluster://``).

    Args:
        url: The bus URL (e.g. ``MODX_REDIS_URL``).
        **options: Keyword arguments for the transport's constructor (e.g. ``maxlen``).

    Returns:
        The transport.

    Raises:
        UnsupportedTransportError: For any other scheme.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        name = url.split("://", 1)[1].strip("/") or "default"
        existing = _memory.get(name)
        if existing is None or existing.closed:
            existing = _memory[name] = MemoryTransport(name=name, **options)
        return existing
    if scheme in REDIS_SCHEMES:
        return RedisStreamsTransport(url, **options)
    raise UnsupportedTransportError(
        f"no transport for {url!r}: use memory://, redis://, rediss://, unix://, "
        "redis+cluster:// or rediss+cluster://"
    )
