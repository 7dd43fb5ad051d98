"""SQLite connections for the embedded mode: aiosqlite's, stopped at most once.

aiosqlite runs each connection on a worker thread that ends at the first stop it reads. Its
``close`` stops the thread again in a ``finally`` and waits for the answer, which no thread
will give when the connection was already stopped. SQLAlchemy does exactly that when a task is
cancelled while its connection waits (for SQLite's write lock, say): it starts a graceful
``close`` and, cancelled again meanwhile, a forced ``stop``. The graceful close then never
ended, and a cancel of it at shutdown (``asyncio.run``'s, the test runner's) was swallowed by
that ``finally``: the process waited for it for ever (``tests/services/test_sqlite_connection.py``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from functools import partial
from typing import Any

import aiosqlite
from aiosqlite.core import _STOP_RUNNING_SENTINEL
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL


class Connection(aiosqlite.Connection):
    """An aiosqlite connection whose second ``stop`` is a no-op: the first already ends the
    worker thread once it has done what was queued before it.

    A stop outside a running loop (the garbage collector's ``__del__`` of a connection never
    closed) is not answered: aiosqlite would tie the answer to the loop the event-loop policy
    holds, closed by then, and its worker thread would die raising on it (an unhandled thread
    exception that surfaced in whatever ran next: seen in CI)."""

    def stop(self) -> asyncio.Future[Any] | None:
        if not self._running:
            return None
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._running = False
            self._tx.put_nowait((None, self._close_and_stop))
            return None
        return super().stop()

    def _close_and_stop(self) -> object:
        """On the worker thread: close the SQLite connection, then end the thread."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return _STOP_RUNNING_SENTINEL  # what aiosqlite's worker ends on


def connector(url: URL, **options: Any) -> partial[Any]:
    """An ``async_creator`` for ``create_async_engine``: connections opened with the
    arguments SQLAlchemy's aiosqlite dialect derives from ``url``, plus ``options``."""
    args, derived = SQLiteDialect_aiosqlite().create_connect_args(url)
    return partial(_connect, partial(sqlite3.connect, *args, **{**derived, **options}))


async def _connect(connect: partial[sqlite3.Connection]) -> Connection:
    connection = Connection(connect, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy's dialect does: never holds up an exit
    await connection  # starts the thread and connects
    return connection
