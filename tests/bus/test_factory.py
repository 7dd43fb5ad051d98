"""Choosing a transport from a bus URL."""

from __future__ import annotations

import pytest

from bus import MemoryTransport, RedisStreamsTransport, UnsupportedTransportError, create_transport


async def test_memory_urls_share_one_instance_per_name_until_closed():
    first = create_transport("memory://")
    assert isinstance(first, MemoryTransport)
    assert create_transport("memory://default") is first
    other = create_transport("memory://other")
    assert other is not first
    await first.close()
    replacement = create_transport("memory://")
    assert replacement is not first and await replacement.ping()
    await replacement.close()
    await other.close()


async def test_redis_urls_give_a_redis_transport_with_options():
    transport = create_transport("redis://127.0.0.1:1/0", maxlen=123)
    assert isinstance(transport, RedisStreamsTransport)
    assert transport.maxlen == 123
    assert await transport.ping() is False  # nothing listens on port 1
    await transport.close()


def test_other_schemes_are_refused():
    with pytest.raises(UnsupportedTransportError):
        create_transport("kafka://localhost")
    with pytest.raises(ValueError):
        create_transport("localhost:6379")
