"""The time that leases are written and read in: the database's clock.

A lease is written by one replica (a heartbeat, a membership renewal) and judged by another (the
sweep that expires it). On their own clocks, two machines whose clocks disagree by a minute
disagree about every lease by a minute: a replica ahead keeps a dead member's partitions, or a
dead agent's tasks, a minute longer, and one behind writes leases the others find already
expired. The database's clock is the one every replica reads. The embedded mode (SQLite) is a
single process, so its own clock is that clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import utcnow


async def database_now(session: AsyncSession) -> datetime:
    """Now, in UTC, on the clock every replica shares (``now()`` of the session's transaction
    on PostgreSQL, so the same for every lease of one transaction)."""
    if session.get_bind().dialect.name != "postgresql":
        return utcnow()
    now: datetime = (await session.execute(select(func.now()))).scalar_one()
    return now.astimezone(UTC)
