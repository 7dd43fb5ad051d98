"""The PostgreSQL pool: a connection idle long enough is pinged before use (so one that
PostgreSQL dropped meanwhile is replaced, not handed to a request), one in steady use is not,
and read sessions run without BEGIN and ROLLBACK (autocommit)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.engine import create_engine, readonly, session_factory

pytestmark = [pytest.mark.postgres]

IDLE_S = 0.2


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, ping_idle_s=IDLE_S, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(postgres_url: str, pid: int) -> None:
    conn = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


def _count_pings(engine: AsyncEngine) -> list[int]:
    dialect = engine.sync_engine.dialect
    ping = dialect.do_ping
    count = [0]

    def counted(dbapi_conn: Any) -> bool:
        count[0] += 1
        return bool(ping(dbapi_conn))

    dialect.do_ping = counted  # type: ignore[method-assign,assignment]
    return count


async def test_a_connection_dropped_while_idle_is_replaced_before_a_request_gets_it(
    engine: AsyncEngine, postgres_url: str
) -> None:
    first = await _backend(engine)
    await _terminate(postgres_url, first)  # as a PostgreSQL restart does to every connection
    await asyncio.sleep(IDLE_S * 1.5)
    assert await _backend(engine) != first  # the ping found it dead: a new connection


async def test_without_the_ping_a_dropped_connection_fails_one_request(postgres_url: str) -> None:
    # What the ping saves: the first use fails (an API request answers 503), and the pool is
    # invalidated, so the next use connects again.
    engine = create_engine(postgres_url, ping_idle_s=None, pool_size=1, max_overflow=0)
    try:
        first = await _backend(engine)
        await _terminate(postgres_url, first)
        await asyncio.sleep(IDLE_S * 1.5)
        with pytest.raises(DBAPIError):
            await _backend(engine)
        assert await _backend(engine) != first
    finally:
        await engine.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(engine: AsyncEngine) -> None:
    await _backend(engine)
    pings = _count_pings(engine)
    for _ in range(5):
        await _backend(engine)
    assert pings[0] == 0
    await asyncio.sleep(IDLE_S * 1.5)
    await _backend(engine)
    await _backend(engine)
    assert pings[0] == 1


async def test_read_sessions_open_no_transaction(engine: AsyncEngine) -> None:
    readers = session_factory(readonly(engine))
    async with readers() as session:
        await session.execute(text("SELECT 1"))
        raw = await (await session.connection()).get_raw_connection()
        assert raw.driver_connection is not None
        assert not raw.driver_connection.is_in_transaction()
    async with session_factory(engine)() as session:  # writers still do
        await session.execute(text("SELECT 1"))
        raw = await (await session.connection()).get_raw_connection()
        assert raw.driver_connection is not None
        assert raw.driver_connection.is_in_transaction()
