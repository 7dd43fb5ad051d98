"""SQLite connections for the embedded mode: aiosqlite's, with a worker thread that outlives
its callers' loop and a stop that happens once.

aiosqlite runs each connection on a worker thread that ends at the first stop it reads. Two
of its behaviours broke MODX, and this module's connection differs from aiosqlite's in both:

- Its ``close`` stops the thread again in a ``finally`` and waits for the answer, which no
  thread will give when the connection was already stopped. SQLAlchemy does exactly that when
  a task is cancelled while its connection waits (for SQLite's write lock, say): it starts a
  graceful ``close`` and, cancelled again meanwhile, a forced ``stop``. The graceful close then
  never ended, and a cancel of it at shutdown was swallowed by that ``finally``: the process
  waited for it for ever (``tests/services/test_sqlite_connection.py``). Here a second stop
  is a no-op.
- Its worker hands each answer to the loop of the call's future, and dies raising when that
  loop is closed: a call still running when its loop closed (a stop cut short), or the stop
  that ``__del__`` makes when the garbage collector finds a connection never closed, bound to
  the closed loop the event-loop policy still holds. pytest reported the thread's death in
  whatever test ran then (five unrelated ones in one CI run). Here an answer nobody can
  receive any more is dropped, and the thread goes on to its stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from functools import partial
from queue import SimpleQueue
from threading import Thread
from typing import Any

import aiosqlite
from aiosqlite.core import _STOP_RUNNING_SENTINEL
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL

Call = tuple["asyncio.Future[Any] | None", Callable[[], Any]]


class Connection(aiosqlite.Connection):
    """An aiosqlite connection whose worker survives a closed loop and whose second ``stop``
    is a no-op (the first already ends the worker once it has done what was queued before)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        # As SQLAlchemy's dialect does: daemon, never holds up an exit.
        self._thread = Thread(target=_work, args=(self._tx,), daemon=True)

    def stop(self) -> asyncio.Future[Any] | None:
        if not self._running:
            return None
        return super().stop()


def _work(calls: SimpleQueue[Call]) -> None:
    """The worker thread: run each queued call, answer it if its loop can still take it, and
    end at the stop."""
    while True:
        future, function = calls.get()
        try:
            result, error = function(), None
        except BaseException as exc:  # the caller gets whatever it raised
            result, error = None, exc
        if future is not None:
            # A closed loop raises: nobody waits for this answer any more.
            with contextlib.suppress(RuntimeError):
                future.get_loop().call_soon_threadsafe(_answer, future, result, error)
        if result is _STOP_RUNNING_SENTINEL:
            return


def _answer(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def connector(url: URL, **options: Any) -> partial[Any]:
    """An ``async_creator`` for ``create_async_engine``: connections opened with the
    arguments SQLAlchemy's aiosqlite dialect derives from ``url``, plus ``options``."""
    args, derived = SQLiteDialect_aiosqlite().create_connect_args(url)
    return partial(_connect, partial(sqlite3.connect, *args, **{**derived, **options}))


async def _connect(connect: partial[sqlite3.Connection]) -> Connection:
    connection = Connection(connect, iter_chunk_size=64)
    await connection  # starts the thread and connects
    return connection
