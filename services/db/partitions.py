"""Monthly partitions of the history tables on PostgreSQL (``events``, ``ledger_entries``).

Both tables are partitioned by RANGE of ``created_at``, one partition per calendar month (UTC),
named ``<table>_pYYYYMM``, plus ``<table>_default`` for any time no month partition holds (far
past, far future): an insert never fails for want of a partition. The service creates the
months ahead (``MONTHS_AHEAD``) when it starts and then every ``KEEP_EVERY_S``
(``PartitionKeeper``), so the default partition stays empty in practice. A month created while
the default partition holds some of its rows takes them over (``create_month``).

Old months are dropped whole by ``modx db archive`` (``services.archive``) once every row in
them is archived. SQLite (embedded) is not partitioned; ``partitioned`` is False there and
everything here is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

TABLES = ("events", "ledger_entries")
MONTHS_AHEAD = 3
KEEP_EVERY_S = 3600.0
_LOCK = 727276  # advisory lock: one replica changes partitions at a time
_NAME = re.compile(r"^(events|ledger_entries)_(p\d{6}|default)$")
_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


@dataclass(frozen=True)
class Partition:
    """One partition: its name and its range (``None`` bounds: the default partition)."""

    name: str
    low: datetime | None
    high: datetime | None

    @property
    def is_default(self) -> bool:
        """True for the default partition (rows of no month partition)."""
        return self.low is None


def is_partition(name: str | None) -> bool:
    """True for the name of one of our partitions (Alembic compares only the parents)."""
    return name is not None and _NAME.match(name) is not None


def month_start(when: datetime) -> datetime:
    """The first instant of ``when``'s month, in UTC."""
    when = when.astimezone(UTC)
    return datetime(when.year, when.month, 1, tzinfo=UTC)


def add_months(month: datetime, count: int) -> datetime:
    """The month ``count`` months after ``month`` (a month start)."""
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def month_name(table: str, month: datetime) -> str:
    """The partition of ``table`` for ``month``."""
    return f"{table}_p{month.year:04d}{month.month:02d}"


def partitioned(conn: Connection, table: str) -> bool:
    """True when ``table`` is a partitioned table (never on SQLite)."""
    if conn.dialect.name != "postgresql":
        return False
    query = text(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = :t AND c.relnamespace = current_schema()::regnamespace"
    )
    return conn.execute(query, {"t": table}).first() is not None


def partitions(conn: Connection, table: str) -> list[Partition]:
    """The partitions of ``table``, the default one first, then by month."""
    conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))  # the bounds below, as written, in UTC
    query = text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname = :t AND p.relnamespace = current_schema()::regnamespace"
    )
    found = []
    for name, bound in conn.execute(query, {"t": table}):
        match = _BOUND.search(bound or "")
        if match is None:
            found.append(Partition(name, None, None))
        else:
            low, high = (datetime.fromisoformat(b).astimezone(UTC) for b in match.groups())
            found.append(Partition(name, low, high))
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda p: (p.low is not None, p.low or oldest))


def create_month(conn: Connection, table: str, month: datetime) -> str | None:
    """Create ``table``'s partition for ``month`` unless it exists; returns its name if made.

    Rows of that month already in the default partition are moved into it first: PostgreSQL
    refuses a new partition whose rows the default one holds.
    """
    name, high = month_name(table, month), add_months(month, 1)
    exists = conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
    if exists is not None:
        return None
    default = f"{table}_default"
    bounds = {"lo": month, "hi": high}
    strays = conn.execute(
        text(f"SELECT 1 FROM {default} WHERE created_at >= :lo AND created_at < :hi LIMIT 1"),
        bounds,
    ).first()
    if strays is None:
        conn.execute(
            text(
                f"CREATE TABLE {name} PARTITION OF {table} "
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{high.isoformat()}')"
            )
        )
        return name
    conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)"))
    conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {default} WHERE created_at >= :lo AND created_at < :hi "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ),
        bounds,
    )
    conn.execute(
        text(
            f"ALTER TABLE {table} ATTACH PARTITION {name} "
            f"FOR VALUES FROM ('{month.isoformat()}') TO ('{high.isoformat()}')"
        )
    )
    return name


def ensure(conn: Connection, now: datetime, ahead: int = MONTHS_AHEAD) -> list[str]:
    """Create the partitions from ``now``'s month to ``ahead`` months later (in the caller's
    transaction, under a lock shared by the replicas); returns the ones made."""
    if not any(partitioned(conn, table) for table in TABLES):
        return []
    conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"))
    conn.execute(text("SET LOCAL lock_timeout = '10s'"))  # never hold inserts up for long
    made = []
    first = month_start(now)
    for table in TABLES:
        if not partitioned(conn, table):
            continue
        for count in range(ahead + 1):
            name = create_month(conn, table, add_months(first, count))
            if name is not None:
                made.append(name)
    return made


class PartitionKeeper:
    """Keeps the months ahead created, from the service (every replica; the lock serialises)."""

    def __init__(self, db: AsyncEngine, every_s: float = KEEP_EVERY_S) -> None:
        self.db = db
        self.every_s = every_s

    async def keep(self) -> list[str]:
        """Create the missing months now; returns the partitions made."""
        async with self.db.begin() as conn:
            made = await conn.run_sync(lambda sync: ensure(sync, datetime.now(UTC)))
        if made:
            log.info("created history partitions: %s", ", ".join(made))
        return made

    async def run(self) -> None:
        """``keep`` every ``every_s`` until cancelled (a failure is retried next round)."""
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.keep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("could not create the history partitions ahead: %s", exc)
