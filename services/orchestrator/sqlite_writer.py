"""The orchestrator's SQLite connection: a plain sqlite3 connection on a thread of its own.

Through aiosqlite every statement crosses threads several times (cursor, execute, fetch,
close), and each crossing wakes the event loop; a batch of the orchestrator's writer is a dozen
statements. Here a batch crosses twice: once to begin (take the write lock, read what it
needs), once to write and commit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

T = TypeVar("T")


class SqliteWriter:
    """One connection, one thread; ``run`` calls a function with the connection there."""

    def __init__(self, url: str) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        self._engine = create_engine(
            sync_url,
            poolclass=StaticPool,
            isolation_level="AUTOCOMMIT",  # BEGIN IMMEDIATE / COMMIT are ours to send
            connect_args={"timeout": 30, "check_same_thread": False},
        )

        @event.listens_for(self._engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="modx-writer")
        self._conn: Connection | None = None

    async def run(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` on the writer's thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._call, work)

    def _call(self, work: Callable[[Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._engine.connect()
        try:
            return work(self._conn)
        except Exception:
            if self._conn.invalidated:
                self._conn = None
            raise

    async def close(self) -> None:
        """Close the connection and the thread."""

        def close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._engine.dispose()

        await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown(wait=True)
