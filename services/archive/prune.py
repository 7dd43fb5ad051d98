"""Removing archived runs from the database, in one transaction, once their archive is on disk.

Each archived run leaves a signed record in ``archived_runs`` (its chain's length and head, and
the archive's name): ledger verification checks the run's checkpoint leaves against it, so the
checkpoints stay whole while the chains are gone.

On PostgreSQL, a month partition wholly before the cut-off whose rows all belong to archived
runs (or to no run) is dropped; the rows of archived runs in any other partition are deleted.
A month that still holds a run left in the database (an unfinished one, or one an archive did
not take) is kept with those rows: nothing but archived rows ever leaves. SQLite deletes rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.db import partitions
from services.db.models import (
    A2aTaskRow,
    ArchivedRunRow,
    EventRow,
    LedgerEntryRow,
    RunRow,
    StepRow,
    utcnow,
)
from services.ledger import format as fmt

CHUNK = 500


@dataclass(frozen=True)
class Archived:
    """A run written to the archive: its chain's length and head."""

    run_id: str
    seq: int
    head: str


async def prune(
    db: AsyncEngine,
    key: Ed25519PrivateKey,
    archive: str,
    runs: Sequence[Archived],
    cutoff: datetime,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Remove ``runs`` (and events of no run before ``cutoff``); returns the partitions
    dropped and the ones before the cut-off kept. ``dry_run``: only say which."""
    async with db.connect() as conn:
        transaction = await conn.begin()
        try:
            is_pg = conn.dialect.name == "postgresql"
            if is_pg:
                await conn.execute(
                    text("CREATE TEMP TABLE archiving (id varchar(36) PRIMARY KEY) ON COMMIT DROP")
                )
                for start in range(0, len(runs), CHUNK):
                    chunk = runs[start : start + CHUNK]
                    await conn.execute(
                        text("INSERT INTO archiving (id) VALUES (:id)"),
                        [{"id": r.run_id} for r in chunk],
                    )
            drops, kept = await conn.run_sync(_plan, cutoff) if is_pg else ([], [])
            if dry_run:
                await transaction.rollback()
                return {"partitions_dropped": drops, "partitions_kept": kept}
            await _remove(conn, key, archive, runs, cutoff, drops)
            await transaction.commit()
        except BaseException:
            if transaction.is_active:
                await transaction.rollback()
            raise
    return {"partitions_dropped": drops, "partitions_kept": kept}


def _plan(conn: Connection, cutoff: datetime) -> tuple[list[str], list[str]]:
    """The month partitions wholly before ``cutoff``: those holding only archived rows (to
    drop), and the others (kept)."""
    drops: list[str] = []
    kept: list[str] = []
    for table in partitions.TABLES:
        if not partitions.partitioned(conn, table):
            continue
        for part in partitions.partitions(conn, table):
            if part.is_default or part.high is None or part.high > cutoff:
                continue
            other = conn.execute(
                text(
                    f"SELECT 1 FROM {part.name} x WHERE x.run_id IS NOT NULL AND NOT EXISTS "
                    "(SELECT 1 FROM archiving a WHERE a.id = x.run_id) LIMIT 1"
                )
            ).first()
            (kept if other is not None else drops).append(part.name)
    return drops, kept


async def _remove(
    conn: AsyncConnection,
    key: Ed25519PrivateKey,
    archive: str,
    runs: Sequence[Archived],
    cutoff: datetime,
    drops: Sequence[str],
) -> None:
    now = utcnow()
    for start in range(0, len(runs), CHUNK):
        chunk = runs[start : start + CHUNK]
        await conn.execute(
            insert(ArchivedRunRow),
            [
                {
                    "run_id": r.run_id,
                    "ledger_seq": r.seq,
                    "ledger_head": r.head,
                    "archive": archive,
                    "archived_at": now,
                    "signature": fmt.sign_archived(key, r.run_id, r.seq, r.head, archive),
                }
                for r in chunk
            ],
        )
        ids = [r.run_id for r in chunk]
        await conn.execute(delete(StepRow).where(StepRow.run_id.in_(ids)))
        await conn.execute(delete(A2aTaskRow).where(A2aTaskRow.id.in_(ids)))
        await conn.execute(delete(RunRow).where(RunRow.id.in_(ids)))
        if conn.dialect.name != "postgresql":
            await conn.execute(delete(EventRow).where(EventRow.run_id.in_(ids)))
            await conn.execute(delete(LedgerEntryRow).where(LedgerEntryRow.run_id.in_(ids)))
    loose = {"cutoff": cutoff}
    if conn.dialect.name == "postgresql":
        # Row by row only where a partition stays; then the dropped ones, at the end, so the
        # parent tables are locked only for the last moments of the transaction.
        for table in partitions.TABLES:
            parts = await conn.run_sync(partitions.partitions, table)
            for name in [p.name for p in parts] or [table]:
                if name in drops:
                    continue
                where = "run_id IN (SELECT id FROM archiving)"
                if table == "events":
                    where += " OR (run_id IS NULL AND created_at < :cutoff)"
                params = loose if table == "events" else {}
                await conn.execute(text(f"DELETE FROM {name} WHERE {where}"), params)
        for name in drops:
            await conn.execute(text(f"DROP TABLE {name}"))
    else:
        await conn.execute(
            delete(EventRow).where(EventRow.run_id.is_(None), EventRow.created_at < cutoff)
        )
