"""Outages of the database or the bus: recognised, and told once when they start and once when
they end.

During an outage every request and every loop iteration fails the same way; a traceback for
each of them buries the one line that matters. ``dependency_of`` tells an outage from a bug,
and an ``Outage`` logs a warning when the first failure arrives and another, with how long it
lasted and how many failures it caused, when its dependency answers again.
"""

from __future__ import annotations

import logging
import time

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bus.errors import PublishError
from bus.redis_client import CLUSTER_UNREACHABLE, FULL

DATABASE = "database"
BUS = "bus"


# PostgreSQL unreachable (a connection refused, reset or timed out), or answering but unable
# to serve statements for now: out of disk, memory or connections (SQLSTATE class 53),
# shutting down, or read-only (a failover that reached a standby). Each passes with waiting;
# the latter ones were a 500 and a traceback per request.
POSTGRES_UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InsufficientResourcesError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.ReadOnlySQLTransactionError,
)


def dependency_of(exc: BaseException) -> str | None:
    """``"database"`` or ``"bus"`` when ``exc`` means that dependency cannot be reached now,
    else None (a bug, or a refusal that will not change by waiting)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the cause may say more
        seen.add(id(current))
        if isinstance(current, PublishError | RedisConnectionError | RedisTimeoutError):
            return BUS
        if isinstance(current, (*CLUSTER_UNREACHABLE, *FULL)):  # failing over, or full
            return BUS
        if isinstance(current, PoolTimeoutError | OperationalError | InterfaceError):
            return DATABASE
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return DATABASE
        if isinstance(current, (OSError, TimeoutError, *POSTGRES_UNAVAILABLE)):
            return DATABASE  # PostgreSQL unreachable, or unable to serve this for now
        current = current.__cause__ or current.__context__
    return None


def database_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached now."""
    return dependency_of(exc) == DATABASE


class Outage:
    """One dependency, as seen by one caller: up, or down since a time with a count.

    Args:
        what: What failed, as the log lines name it ("the database, for API requests").
        logger: Where the two lines go.
    """

    def __init__(self, what: str, logger: logging.Logger) -> None:
        self.what = what
        self.log = logger
        self.since: float | None = None
        self.failures = 0
        self.outages = 0
        self.last_failure: float | None = None  # time.monotonic() of the latest failure

    @property
    def down(self) -> bool:
        """True from the first failure until ``recovered``."""
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        """One more failure; the first of an outage is logged (without a traceback)."""
        self.failures += 1
        self.last_failure = time.monotonic()
        if self.since is None:
            self.since = time.monotonic()
            self.outages += 1
            self.log.warning("%s is unavailable (%s: %s)", self.what, type(exc).__name__, exc)

    def quiet_for(self, seconds: float) -> bool:
        """True when nothing failed in the last ``seconds``."""
        return self.last_failure is None or time.monotonic() - self.last_failure >= seconds

    def recovered(self) -> None:
        """The dependency answered again; logs the outage's end if there was one."""
        if self.since is None:
            return
        lasted = time.monotonic() - self.since
        self.log.warning(
            "%s is available again after %.1f s; %d failure(s) meanwhile",
            self.what,
            lasted,
            self.failures,
        )
        self.since = None
        self.failures = 0


def log_failure(outage: Outage, exc: Exception, logger: logging.Logger, doing: str) -> None:
    """Count ``exc`` against ``outage`` when it is one, else log it with its traceback."""
    if dependency_of(exc) is not None:
        outage.failed(exc)
    else:
        logger.error("%s failed; retrying", doing, exc_info=exc)
