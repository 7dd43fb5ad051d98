"""The consumer's dedicated connections: RESP packing, replies in order, a bounded wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bus._redis_link import Link, pack

pytestmark = pytest.mark.redis


def test_pack_writes_an_array_of_bulk_strings() -> None:
    assert pack(("XACK", b"s\r\n", 12)) == b"*3\r\n$4\r\nXACK\r\n$3\r\ns\r\n\r\n$2\r\n12\r\n"
    assert pack(("SET", "clé", "")) == b"*3\r\n$3\r\nSET\r\n$4\r\ncl\xc3\xa9\r\n$0\r\n\r\n"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_replies_come_back_in_order_and_an_error_reply_is_a_value(client: Redis) -> None:
    link = Link(client, timeout_s=5)
    try:
        set_, incr, get = await link.call([("SET", "k", "v"), ("INCR", "k"), ("GET", "k")])
        assert (set_, get) == (b"OK", b"v")
        assert isinstance(incr, ResponseError)
        assert await link.call([("PING",)]) == [b"PONG"]  # still in step after the error
    finally:
        await link.close()


async def test_a_reply_that_does_not_come_in_time_raises_and_the_link_recovers(
    client: Redis,
) -> None:
    link = Link(client, timeout_s=1.0)
    try:
        with pytest.raises(TimeoutError):
            await link.call([("BLPOP", "nothing", 10)])  # the server would wait 10 s
        assert await link.call([("PING",)]) == [b"PONG"]
        # ``block_s`` extends the wait for commands that block on purpose: without it, this
        # 1.5 s block would outlast the 1 s timeout (the margin is wide for a busy machine).
        assert await link.call([("BLPOP", "nothing", "1.5")], block_s=1.5) == [None]
    finally:
        await link.close()


async def test_a_cancelled_call_is_cancelled_not_timed_out(client: Redis) -> None:
    link = Link(client, timeout_s=5)
    try:
        call = asyncio.create_task(link.call([("BLPOP", "nothing", 5)]))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert await link.call([("PING",)]) == [b"PONG"]
    finally:
        await link.close()
