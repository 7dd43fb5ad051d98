"""A task cancelled while its SQLite connection waits leaves nothing running behind it
(``services.db.sqlite_connection``): the embedded mode's shutdown waits for every task."""

from __future__ import annotations

import asyncio
import gc
import threading
from pathlib import Path

from sqlalchemy import make_url, text

from bus.tasks import cancel_and_wait
from services.db.engine import create_engine, session_factory
from services.db.sqlite_connection import connector


async def test_a_write_cancelled_while_it_waits_for_the_lock_leaves_no_task(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'modx.db'}")
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE t (x INTEGER)"))
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold_the_write_lock() -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            await release.wait()

    async def write() -> None:
        async with sessions() as session, session.begin():  # waits for the lock
            await session.execute(text("INSERT INTO t VALUES (2)"))

    before = asyncio.all_tasks()
    holder = asyncio.create_task(hold_the_write_lock())
    await holding.wait()
    writer = asyncio.create_task(write())
    await asyncio.sleep(0.2)  # the writer's thread is in SQLite's busy wait
    # Cancelled, and again a second later while its connection's close still waits (as every
    # stop in MODX cancels): SQLAlchemy then forces the connection closed.
    await cancel_and_wait([writer])
    assert writer.cancelled()
    release.set()
    await holder

    async def leftovers() -> set[asyncio.Task[object]]:
        return {t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()}

    for _ in range(50):  # the connection's thread finishes its queue, then nothing is left
        if not await leftovers():
            break
        await asyncio.sleep(0.1)
    left = await leftovers()
    assert not left, [t.get_coro() for t in left]
    await engine.dispose()
    async with sessions() as session:  # and the database took the one write that committed
        assert (await session.execute(text("SELECT x FROM t"))).scalars().all() == [1]
    await engine.dispose()


def test_a_connection_never_closed_is_collected_after_its_loop_without_a_thread_error(
    tmp_path: Path,
) -> None:
    """A connection left open is stopped by its ``__del__`` when the garbage collector finds
    it, often long after its loop closed. aiosqlite answered that stop on the loop the policy
    held (the closed one): its worker thread died raising, an unhandled thread exception that
    pytest blamed on whichever test ran then (five of them in one CI run)."""
    errors: list[threading.ExceptHookArgs] = []
    loop = asyncio.new_event_loop()
    connection = loop.run_until_complete(connector(make_url(f"sqlite:///{tmp_path / 'x.db'}"))())
    thread = connection._thread
    loop.close()
    asyncio.set_event_loop(loop)  # what the policy holds after a test's loop closed
    previous, threading.excepthook = threading.excepthook, errors.append
    try:
        del connection
        gc.collect()
        thread.join(10)
    finally:
        threading.excepthook = previous
        asyncio.set_event_loop(None)
    assert not thread.is_alive()
    assert errors == []


def test_a_call_that_outlives_its_loop_leaves_the_worker_serving(tmp_path: Path) -> None:
    """A call still running on the worker when its caller's loop closes (a stop cut short): its
    answer has nowhere to go. aiosqlite's worker died raising there, and every later call on
    the connection, its close included, waited for ever."""
    errors: list[threading.ExceptHookArgs] = []
    loop = asyncio.new_event_loop()
    connection = loop.run_until_complete(connector(make_url(f"sqlite:///{tmp_path / 'x.db'}"))())
    release, answered = threading.Event(), threading.Event()
    connection._tx.put_nowait((loop.create_future(), release.wait))
    connection._tx.put_nowait((None, answered.set))
    loop.close()
    previous, threading.excepthook = threading.excepthook, errors.append
    try:
        release.set()  # the call ends after its loop closed
        assert answered.wait(10)  # and the worker took the next one
        assert connection._thread.is_alive() and errors == []

        async def close() -> None:
            await connection.close()

        asyncio.run(close())
        connection._thread.join(10)
    finally:
        threading.excepthook = previous
    assert not connection._thread.is_alive()
