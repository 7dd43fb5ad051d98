"""The async engine and session factory, tuned per backend."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from services.db import sqlite_connection

READONLY = "modx_readonly"

# A pooled connection idle this long is pinged before use. Under load connections come back
# within milliseconds and go out again unpinged (a ping per checkout was a round trip and
# 3-8% of the server's CPU in a burst); after a quiet spell, in which PostgreSQL may have
# restarted or a network dropped idle connections, the first use pings as pre-ping did.
PING_IDLE_S = 1.0
_LAST_USED = "modx_last_used"

PLAN_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
"""Server settings of every PostgreSQL connection (a caller's own settings win: the writer's).
asyncpg prepares each statement once per connection, and after five executions PostgreSQL may
keep a generic plan, made on the tables as they were then, for as long as the connection
lives: only an ``ANALYZE`` of a table it reads makes it plan again. Planned on the small tables
of a new or quiet database, the due-work sweep kept reading every row of ``steps`` as the
table grew. Custom plans are made at each execution, on the tables' current sizes and the
parameters' values, for a fraction of a millisecond (``bench/README.md``)."""


log = logging.getLogger(__name__)

# TCP keepalive and user timeout on every PostgreSQL connection. A network that drops packets
# silently (a partition, a firewall that forgot the connection, a server host gone) tells a
# client nothing: a query already sent and acknowledged waited for its reply for ever (asyncpg
# sets no keepalive, and the kernel's default first probe comes after two hours). With these,
# such a connection fails within about KEEPALIVE_IDLE_S + KEEPALIVE_COUNT * KEEPALIVE_INTERVAL_S
# (25 s) of silence, and data unacknowledged for TCP_USER_TIMEOUT_S fails it as well (the
# kernel's retransmissions alone gave up after 15 minutes). The probes are answered by the
# server's kernel, so a long query on a healthy link is never cut.
KEEPALIVE_IDLE_S = 10
KEEPALIVE_INTERVAL_S = 5
KEEPALIVE_COUNT = 3
TCP_USER_TIMEOUT_S = 30


def keep_alive(sock: socket.socket) -> None:
    """Set the options above on a TCP socket (a Unix socket is left as it is)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    options = (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE_S),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_S),
        ("TCP_KEEPCNT", KEEPALIVE_COUNT),
        ("TCP_USER_TIMEOUT", TCP_USER_TIMEOUT_S * 1000),
    )
    for name, value in options:
        if hasattr(socket, name):  # Linux has them all; other systems some
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def _keep_alive_on_connect(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connected(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # asyncpg offers no socket options; its connection's transport holds the socket.
        transport = getattr(dbapi_conn.driver_connection, "_transport", None)
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is None:
            log.warning("no socket on a PostgreSQL connection: TCP keepalive not set")
            return
        keep_alive(sock)


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str, *, ping_idle_s: float | None = PING_IDLE_S, **kwargs: Any
) -> AsyncEngine:
    """An async engine; on SQLite, WAL mode, foreign keys, and a busy timeout; on PostgreSQL,
    ``PLAN_SETTINGS``, and pooled connections idle ``ping_idle_s`` or longer are pinged before
    use (None: never)."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, async_creator=sqlite_connection.connector(make_url(url), timeout=30), **kwargs
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes under WAL
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # Let SQLAlchemy's "begin" hook open the transaction (below), not the driver.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # A deferred transaction that later writes fails at once with "database is locked"
            # when another writer committed since it began; writers take the lock up front and
            # wait instead. Readers (see ``readonly``) never take it, so they never block.
            readonly = conn.get_execution_options().get(READONLY, False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        _track_checkouts(engine)
        return engine
    # Enough for the orchestrator's result handlers plus the API (200 concurrent requests),
    # all kept: an overflow connection is a TCP connect and a new backend, closed again when
    # it is returned, so a burst past the pool paid them for every request past it.
    kwargs.setdefault("pool_size", 40)
    kwargs.setdefault("max_overflow", 0)
    connect_args = dict(kwargs.get("connect_args", {}))
    connect_args["server_settings"] = PLAN_SETTINGS | connect_args.get("server_settings", {})
    target, kwargs["connect_args"] = ssl_choice(make_url(url), connect_args)
    engine = create_async_engine(target, **kwargs)
    _keep_alive_on_connect(engine)
    if ping_idle_s is not None:
        ping_after_idle(engine, ping_idle_s)
    _track_checkouts(engine)
    return engine


_IN_USE: weakref.WeakKeyDictionary[Engine, set[ConnectionPoolEntry]] = weakref.WeakKeyDictionary()


def _root(engine: AsyncEngine) -> Engine:
    """The engine ``create_engine`` made (``execution_options`` copies share its pool)."""
    sync = engine.sync_engine
    return getattr(sync, "_proxied", sync)


def _track_checkouts(engine: AsyncEngine) -> None:
    """Keep the set of ``engine``'s connections checked out of its pool, for ``sever``."""
    in_use = _IN_USE.setdefault(_root(engine), set())
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkout")
    def _out(_dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        in_use.add(record)

    @event.listens_for(pool, "checkin")
    def _in(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        in_use.discard(record)


def sever(engine: AsyncEngine) -> int:
    """Cut every connection now checked out of ``engine``'s pool, without a word to the
    database; returns how many were cut.

    For a stop past its deadline. A task cancelled in a query to a database that does not
    answer still has to close its session, and SQLAlchemy runs that close to completion
    whatever cancels it: a rollback that waits for the database for ever, and a stop that
    waits for the task. A connection cut under it fails at once, and the task ends.
    """
    cut = 0
    for record in list(_IN_USE.get(_root(engine), ())):
        connection = record.dbapi_connection
        if connection is None:
            continue
        with contextlib.suppress(Exception):  # already closed or closing: nothing left to cut
            connection.terminate()  # outside a greenlet: the driver's immediate close
            cut += 1
    return cut


def ssl_choice(url: URL, connect_args: dict[str, Any]) -> tuple[URL, dict[str, Any]]:
    """The URL and asyncpg arguments with the SSL choice made explicit.

    ``sslmode`` in the URL (libpq's name, which asyncpg takes only as ``ssl``) becomes
    ``ssl``. With no choice anywhere (URL, ``connect_args``, ``PGSSLMODE``), a server on
    loopback or a Unix socket is reached without SSL: asyncpg's default ``prefer`` would
    build an SSL context and ask the server for SSL on every new connection, for traffic
    that never leaves the host. Any other host keeps asyncpg's default.
    """
    query = dict(url.query)
    if "sslmode" in query and "ssl" not in query and "ssl" not in connect_args:
        connect_args = {**connect_args, "ssl": query.pop("sslmode")}
        url = url.set(query=query)
    chosen = "ssl" in query or "ssl" in connect_args or os.environ.get("PGSSLMODE")
    if not chosen and _local(url):
        connect_args = {**connect_args, "ssl": False}
    return url, connect_args


def _local(url: URL) -> bool:
    """True when ``url`` names its hosts and each is a loopback address or a Unix socket."""
    hosts = [url.host] if url.host else []
    extra = url.query.get("host", ())  # multi-host URLs: ?host=a:5432,b or repeated
    for item in [extra] if isinstance(extra, str) else extra:
        hosts.extend(item.split(","))
    return bool(hosts) and all(_loopback(host) for host in hosts)


def _loopback(host: str) -> bool:
    if host.startswith("/"):
        return True  # a Unix socket's directory
    if host.startswith("["):
        host = host[1 : host.find("]")]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ping_after_idle(engine: AsyncEngine, idle_s: float) -> None:
    """Ping a pooled connection before use when it has been idle ``idle_s`` or longer.

    A dead one (the ping fails) invalidates the pool, as ``pool_pre_ping`` does: the checkout
    gets a new connection, and every connection made before is replaced at its next checkout.
    A connection that dies within ``idle_s`` of its last use fails its request (a 503) and
    invalidates the pool the same way.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _checked_in(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        # ``info`` is emptied when its connection closes: a new connection is not pinged.
        last = record.info.get(_LAST_USED)
        if last is None or time.monotonic() - last < idle_s:
            return
        try:
            alive = dialect.do_ping(dbapi_conn)
        except Exception as error:
            raise exc.InvalidatePoolError(f"ping after {idle_s} s idle failed: {error}") from error
        if not alive:
            raise exc.InvalidatePoolError(f"ping after {idle_s} s idle failed")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (rows are read after writing)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def readonly(engine: AsyncEngine, *, autocommit: bool = True) -> AsyncEngine:
    """The same engine and pool, for sessions that only read: on SQLite they take no write
    lock; on PostgreSQL they run in autocommit, so a read is its statements alone, without
    the BEGIN and ROLLBACK round trips (at READ COMMITTED, each statement of a transaction
    sees its own snapshot anyway, so reads lose nothing). ``autocommit=False`` keeps the
    transaction, for readers that stream rows through a server-side cursor (it needs one)."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READONLY: True})
    if not autocommit:
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")
