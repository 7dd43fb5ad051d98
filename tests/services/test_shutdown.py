"""A process stopping while Redis or PostgreSQL does not answer (``Runtime.close``): it stops at
one deadline shared by every step, says once per component what it could not clean up and
which server was unreachable, and logs no traceback for the outage. Each server is reached
through a proxy that the test freezes (connections stay open, nothing is answered)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bus import tasks
from services.config import Settings
from services.db.engine import create_engine, session_factory, sever
from services.ledger.keys import create_key_file
from services.runtime import Runtime
from tests.fixtures.proxy import TcpProxy, proxied

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

DEADLINE = re.escape("(the stop's deadline)")
CUT = (
    r"stop: [0-9]+ database connection\(s\) still in use at the stop's deadline: cut "
    r"\(the database unreachable\)"
)


@pytest.fixture
async def proxies() -> AsyncIterator[list[TcpProxy]]:
    made: list[TcpProxy] = []
    yield made
    for proxy in made:
        await proxy.cut()


async def open_runtime(tmp_path: Path, database_url: str, redis_url: str) -> Runtime:
    create_key_file(tmp_path / "ledger.key")
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path,
        ledger_key_file=tmp_path / "ledger.key",
    )
    return await Runtime.open(settings)


async def test_a_stop_with_redis_frozen_names_redis_once_per_consumer_and_no_traceback(
    tmp_path: Path,
    postgres_migrated_url: str,
    redis_url: str,
    proxies: list[TcpProxy],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(tasks, "STOP_TIMEOUT_S", 3.0)
    proxy, through = await proxied(redis_url, 6379)
    proxies.append(proxy)
    runtime = await open_runtime(tmp_path, postgres_migrated_url, through)
    orchestrator = runtime.orchestrator
    consumers = [orchestrator._subscription, *orchestrator._partitions.values()]
    assert len(consumers) == 1 + runtime.settings.result_partitions
    proxy.freeze()
    with caplog.at_level(logging.WARNING):
        await runtime.close()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings if r.exc_info] == []
    messages = [r.getMessage() for r in warnings]
    for consumer in consumers:  # each one line: the release went through, the clean-up not
        [line] = [m for m in messages if m.startswith(f"{consumer!r}: ")]
        assert re.fullmatch(
            rf"{re.escape(repr(consumer))}: cleanup on stop failed: TimeoutError after [0-9.]+ s "
            rf"{DEADLINE}, Redis unreachable",
            line,
        )
    # One deadline for the whole stop, not one per step: the database steps after the bus's
    # found it passed.
    assert (
        "orchestrator: giving the replica lease back failed: the stop's deadline had passed "
        "before it began"
    ) in messages


async def test_a_stop_with_the_database_frozen_ends_and_names_the_database(
    tmp_path: Path,
    postgres_migrated_url: str,
    redis_url: str,
    proxies: list[TcpProxy],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing bounded a query to a database that does not answer: the stop waited for ever."""
    monkeypatch.setattr(tasks, "STOP_TIMEOUT_S", 3.0)
    proxy, through = await proxied(postgres_migrated_url, 5432)
    proxies.append(proxy)
    runtime = await open_runtime(tmp_path, through, redis_url)
    proxy.freeze()
    with caplog.at_level(logging.WARNING):
        await runtime.close()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings if r.exc_info] == []
    [lease] = [r.getMessage() for r in warnings if "replica lease" in r.getMessage()]
    # Its own wait timed out, or a loop closing its session on the frozen database had held
    # the stop up to the deadline (then its connection was cut, and said so).
    assert re.fullmatch(
        rf"orchestrator: giving the replica lease back failed: (TimeoutError after [0-9.]+ s "
        rf"{DEADLINE}, the database unreachable|the stop's deadline had passed before it began)",
        lease,
    )
    if "had passed" in lease:
        assert any(re.fullmatch(CUT, r.getMessage()) for r in warnings), lease


async def test_a_task_closing_its_session_on_a_frozen_database_ends_at_the_deadline(
    postgres_migrated_url: str, proxies: list[TcpProxy]
) -> None:
    """SQLAlchemy runs a session's close to completion whatever cancels it, and the close's
    rollback waits for the database: a task closing a session when the database froze never
    ended, nor did the stop that cancelled it (the hang of the stop above, 1 in ~20 runs: the
    ledger's checkpoint loop). At the stop's deadline its connection is cut (``sever``), and
    the task ends."""
    proxy, through = await proxied(postgres_migrated_url, 5432)
    proxies.append(proxy)
    engine = create_engine(through)
    sessions = session_factory(engine)
    asked = asyncio.Event()

    async def query() -> None:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            proxy.freeze()
            asked.set()
        # The close's ROLLBACK is never answered.

    task = asyncio.create_task(query())
    await asyncio.wait_for(asked.wait(), 30)
    cut: list[int] = []
    with tasks.stop_within(1.0, at_deadline=lambda: cut.append(sever(engine))):
        await tasks.cancel_and_wait([task])
    assert task.done()
    assert cut == [1]  # its one connection, the only one in use
    await engine.dispose(close=False)
