"""The PostgreSQL pool: a connection idle long enough is pinged before use (so one that
PostgreSQL dropped meanwhile is replaced, not handed to a request), one in steady use is not,
read sessions run without BEGIN and ROLLBACK (autocommit), and a server on loopback is reached
without SSL unless the URL or the environment asks for it, and connections carry TCP
keepalive."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.engine import (
    KEEPALIVE_COUNT,
    KEEPALIVE_IDLE_S,
    KEEPALIVE_INTERVAL_S,
    TCP_USER_TIMEOUT_S,
    create_engine,
    readonly,
    session_factory,
    ssl_choice,
)

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


async def _ssl_of(engine: AsyncEngine) -> Any:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        return raw.driver_connection._params.ssl  # type: ignore[union-attr]


async def test_a_server_on_loopback_is_reached_without_asking_for_ssl(postgres_url: str) -> None:
    # asyncpg's default (``prefer``) builds an SSL context and asks the server for SSL on every
    # new connection; on loopback the traffic never leaves the host.
    assert make_url(postgres_url).host in ("127.0.0.1", "localhost", "::1")
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        assert await _ssl_of(engine) is False
    finally:
        await engine.dispose()


async def test_an_explicit_ssl_choice_is_kept_on_loopback(postgres_url: str) -> None:
    # ``sslmode`` (libpq's name, refused by asyncpg as an argument) is taken as asyncpg's ssl.
    for choice in ("sslmode=require", "ssl=require"):
        engine = create_engine(f"{postgres_url}?{choice}", pool_size=1, max_overflow=0)
        try:  # the test server has no SSL: a required SSL connection fails
            with pytest.raises((DBAPIError, ConnectionError, OSError)):
                await _ssl_of(engine)
        finally:
            await engine.dispose()
    engine = create_engine(f"{postgres_url}?sslmode=disable", pool_size=1, max_overflow=0)
    try:
        assert await _ssl_of(engine) is False
    finally:
        await engine.dispose()


def test_remote_hosts_keep_the_default_and_local_ones_skip_ssl() -> None:
    cases = {
        "postgresql+asyncpg://u@db.example.com/x": {},
        "postgresql+asyncpg://u@10.0.0.5:5432/x": {},
        "postgresql+asyncpg://u@127.0.0.1/x?host=10.0.0.2:5432": {},
        "postgresql+asyncpg://u@localhost/x": {"ssl": False},
        "postgresql+asyncpg://u@[::1]:5432/x": {"ssl": False},
        "postgresql+asyncpg://u@/x?host=/var/run/postgresql": {"ssl": False},
        "postgresql+asyncpg://u@/x?host=127.0.0.1:5432,localhost:5433": {"ssl": False},
        "postgresql+asyncpg://u@db.example.com/x?sslmode=verify-full": {"ssl": "verify-full"},
    }
    for url, expected in cases.items():
        assert ssl_choice(make_url(url), {})[1] == expected, url
    assert ssl_choice(make_url("postgresql+asyncpg://u@127.0.0.1/x"), {"ssl": True})[1] == {
        "ssl": True
    }


def test_pgsslmode_is_a_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSSLMODE", "require")
    assert ssl_choice(make_url("postgresql+asyncpg://u@127.0.0.1/x"), {})[1] == {}


async def test_connections_find_a_silent_link_dead_through_tcp_keepalive(
    engine: AsyncEngine,
) -> None:
    """asyncpg sets no keepalive: a query on a link that drops packets waited for ever
    (tests/chaos/test_netns.py shows the wait itself, across a network namespace)."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        sock = raw.driver_connection._transport.get_extra_info("socket")  # type: ignore[union-attr]
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == KEEPALIVE_IDLE_S
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == KEEPALIVE_INTERVAL_S
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == KEEPALIVE_COUNT
        timeout_ms = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)
        assert timeout_ms == TCP_USER_TIMEOUT_S * 1000
