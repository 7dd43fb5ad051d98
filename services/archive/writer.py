"""``modx db archive``: finished runs older than a cut-off, out to an archive, then out of the
database.

Which runs: finished (succeeded, failed, cancelled, timed out) before the cut-off, except a
sub-workflow's run whose parent is still unfinished (it stays with its parent). Unfinished
runs are never archived, however old: their rows stay, and so does any partition holding them
(``prune``). A run is archived only when the checkpoint made at the start covers its chain's
head, so that its archive proves every entry.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Table, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased

from services.archive import layout
from services.archive.prune import Archived, prune
from services.db.engine import readonly
from services.db.models import (
    A2aTaskRow,
    EventRow,
    LedgerCheckpointRow,
    LedgerEntryRow,
    LedgerLeafRow,
    RunRow,
    StepRow,
    utcnow,
)
from services.ledger.checkpoints import Checkpointer, as_dict
from services.ledger.merkle import inclusion_proofs, leaf_hash

TERMINAL = ("succeeded", "failed", "cancelled", "timed_out")
CHUNK = 500
RUNS: Table = RunRow.__table__  # type: ignore[assignment]
STEPS: Table = StepRow.__table__  # type: ignore[assignment]
EVENTS: Table = EventRow.__table__  # type: ignore[assignment]
LEDGER: Table = LedgerEntryRow.__table__  # type: ignore[assignment]
A2A_TASKS: Table = A2aTaskRow.__table__  # type: ignore[assignment]
Progress = Callable[[int, int], None]


def candidates(cutoff: datetime) -> Any:
    """The ids of the runs to archive, by id (a select)."""
    parent = aliased(RunRow)
    unfinished_parent = exists().where(
        parent.id == RunRow.parent_run_id, parent.status.not_in(TERMINAL)
    )
    return select(RunRow.id).where(
        RunRow.status.in_(TERMINAL),
        func.coalesce(RunRow.finished_at, RunRow.updated_at) < cutoff,
        ~unfinished_parent,
    )


async def archive(
    db: AsyncEngine,
    key: Ed25519PrivateKey,
    checkpointer: Checkpointer,
    cutoff: datetime,
    out: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Archive the runs finished before ``cutoff`` to a new directory under ``out`` and remove
    them from the database (``dry_run``: count them, and the partitions that would go)."""
    name = "modx-archive-" + utcnow().strftime("%Y%m%dT%H%M%SZ")
    if not dry_run:
        await checkpointer.checkpoint()  # every finished chain covered, then published
        await checkpointer.publish()
    # SQLite: reading takes no write lock; PostgreSQL: a transaction, as events are streamed
    reader = readonly(db, autocommit=False)
    async with AsyncSession(reader) as session:
        total = (
            await session.execute(select(func.count()).select_from(candidates(cutoff).subquery()))
        ).scalar_one()
        checkpoint = await session.scalar(
            select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.seq.desc()).limit(1)
        )
    result: dict[str, Any] = {
        "name": name,
        "archive": None if dry_run else str(out / name),
        "cutoff": cutoff.isoformat(),
        "dry_run": dry_run,
        "checkpoint": checkpoint.seq if checkpoint is not None else None,
    }
    counts = {"runs": 0, "steps": 0, "events": 0, "ledger_entries": 0}
    if dry_run:
        archived = await _count(reader, cutoff, total, counts, progress)
    else:
        directory = out / name
        directory.mkdir(parents=True, exist_ok=False)
        try:
            archived = await _write(reader, cutoff, directory, checkpoint, total, counts, progress)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)  # nothing was removed from the database
            raise
        layout.write_manifest(
            directory,
            {
                "format": layout.FORMAT,
                "name": name,
                "created_at": utcnow().isoformat(),
                "cutoff": cutoff.isoformat(),
                "database": db.dialect.name,
                "checkpoint": as_dict(checkpoint) if checkpoint is not None else None,
                "counts": counts,
                "files": {
                    file: {"sha256": layout.sha256(directory / file), "lines": lines}
                    for file, lines in _lines(counts).items()
                },
            },
        )
    result.update(counts)
    result["skipped_uncovered"] = total - counts["runs"]
    result.update(await prune(db, key, name, archived, cutoff, dry_run=dry_run))
    return result


def _lines(counts: dict[str, int]) -> dict[str, int]:
    return {
        layout.RUNS: counts["runs"],
        layout.LEDGER: counts["ledger_entries"],
        layout.EVENTS: counts["events"],
    }


async def _chunks(conn: AsyncConnection, cutoff: datetime) -> Any:
    """The candidates' ids, ``CHUNK`` at a time."""
    after = ""
    while True:
        query = candidates(cutoff).where(RunRow.id > after).order_by(RunRow.id).limit(CHUNK)
        ids = list((await conn.execute(query)).scalars())
        if not ids:
            return
        yield ids
        after = ids[-1]


async def _count(
    db: AsyncEngine, cutoff: datetime, total: int, counts: dict[str, int], progress: Progress | None
) -> list[Archived]:
    archived: list[Archived] = []
    async with db.connect() as conn:
        async for ids in _chunks(conn, cutoff):
            for name, table in (("steps", STEPS), ("events", EVENTS), ("ledger_entries", LEDGER)):
                query = select(func.count()).select_from(table).where(table.c.run_id.in_(ids))
                counts[name] += (await conn.execute(query)).scalar_one()
            archived.extend(Archived(i, 0, "") for i in ids)
            counts["runs"] += len(ids)
            if progress is not None:
                progress(counts["runs"], total)
        counts["events"] += await _loose_events(conn, cutoff, None)
    return archived


async def _write(
    db: AsyncEngine,
    cutoff: datetime,
    directory: Path,
    checkpoint: LedgerCheckpointRow | None,
    total: int,
    counts: dict[str, int],
    progress: Progress | None,
) -> list[Archived]:
    archived: list[Archived] = []
    tree: list[bytes] | None = None
    with (
        layout.LinesWriter(directory / layout.RUNS) as runs_out,
        layout.LinesWriter(directory / layout.LEDGER) as ledger_out,
        layout.LinesWriter(directory / layout.EVENTS) as events_out,
    ):
        async with db.connect() as conn:
            async for ids in _chunks(conn, cutoff):
                rows = await conn.execute(select(RUNS).where(RUNS.c.id.in_(ids)))
                runs = [dict(r) for r in rows.mappings()]
                size = checkpoint.tree_size if checkpoint is not None else 0
                leaves = await _leaves(conn, [r["id"] for r in runs if r["ledger_seq"]], size)
                covered = [
                    r for r in runs if r["ledger_seq"] == 0 or (r["id"], r["ledger_seq"]) in leaves
                ]
                if not covered:
                    continue
                if tree is None and leaves:
                    tree = await _tree(conn, size)
                proofs = inclusion_proofs(tree or [], list(leaves.values())) if leaves else {}
                kept = [r["id"] for r in covered]
                steps: dict[str, list[dict[str, Any]]] = {i: [] for i in kept}
                query = select(STEPS).where(STEPS.c.run_id.in_(kept)).order_by(STEPS.c.step_id)
                for step in (await conn.execute(query)).mappings():
                    steps[step["run_id"]].append(layout.jsonable(step))
                # A run started over A2A has a row of the task's context under the run's id.
                query = select(A2A_TASKS).where(A2A_TASKS.c.id.in_(kept))
                tasks = {
                    t["id"]: layout.jsonable(t) for t in (await conn.execute(query)).mappings()
                }
                for run in sorted(covered, key=lambda r: r["id"]):
                    index = leaves.get((run["id"], run["ledger_seq"]))
                    leaf = None
                    if index is not None:
                        leaf = {
                            "index": index,
                            "run_id": run["id"],
                            "seq": run["ledger_seq"],
                            "head": run["ledger_head"],
                        }
                    runs_out.write(
                        {
                            "run": layout.jsonable(run),
                            "steps": steps[run["id"]],
                            "a2a_task": tasks.get(run["id"]),
                            "leaf": leaf,
                            "proof": [n.hex() for n in proofs[index]] if index is not None else [],
                        }
                    )
                    archived.append(Archived(run["id"], run["ledger_seq"], run["ledger_head"]))
                    counts["steps"] += len(steps[run["id"]])
                query = (
                    select(LEDGER)
                    .where(LEDGER.c.run_id.in_(kept))
                    .order_by(LEDGER.c.run_id, LEDGER.c.seq)
                )
                for entry in (await conn.execute(query)).mappings():
                    ledger_out.write(layout.jsonable(entry))
                query = select(EVENTS).where(EVENTS.c.run_id.in_(kept)).order_by(EVENTS.c.id)
                for event in (await conn.execute(query)).mappings():
                    events_out.write(layout.jsonable(event))
                counts["runs"] += len(covered)
                if progress is not None:
                    progress(counts["runs"], total)
            await _loose_events(conn, cutoff, events_out)
        counts["ledger_entries"] = ledger_out.lines
        counts["events"] = events_out.lines
    return archived


async def _leaves(
    conn: AsyncConnection, run_ids: Sequence[str], tree_size: int
) -> dict[tuple[str, int], int]:
    """(run id, seq) -> leaf index, in the tree of ``tree_size`` leaves, of these runs."""
    if not run_ids:
        return {}
    query = select(LedgerLeafRow.run_id, LedgerLeafRow.seq, LedgerLeafRow.idx).where(
        LedgerLeafRow.run_id.in_(run_ids), LedgerLeafRow.idx < tree_size
    )
    return {(run_id, seq): idx for run_id, seq, idx in await conn.execute(query)}


async def _tree(conn: AsyncConnection, tree_size: int) -> list[bytes]:
    """The leaf hashes of the tree of ``tree_size`` leaves."""
    query = (
        select(LedgerLeafRow.run_id, LedgerLeafRow.seq, LedgerLeafRow.head)
        .where(LedgerLeafRow.idx < tree_size)
        .order_by(LedgerLeafRow.idx)
    )
    return [leaf_hash(r, s, h) for r, s, h in await conn.execute(query)]


async def _loose_events(
    conn: AsyncConnection, cutoff: datetime, out: layout.LinesWriter | None
) -> int:
    """Events of no run older than the cut-off: written to ``out`` (or counted)."""
    where = (EVENTS.c.run_id.is_(None), EVENTS.c.created_at < cutoff)
    if out is None:
        query = select(func.count()).select_from(EVENTS).where(*where)
        return (await conn.execute(query)).scalar_one()
    before = out.lines
    stream = await conn.stream(select(EVENTS).where(*where).order_by(EVENTS.c.id))
    async for event in stream.mappings():
        out.write(layout.jsonable(event))
    return out.lines - before
