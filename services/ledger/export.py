"""One run's ledger, exported with the proof that a checkpoint covers it (see ``offline``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.models import LedgerCheckpointRow, LedgerEntryRow, LedgerLeafRow, RunRow, StepRow
from services.ledger import format as fmt
from services.ledger.checkpoints import Checkpointer, as_dict
from services.ledger.merkle import inclusion_proof, leaf_hash


async def export_run(
    sessions: async_sessionmaker[AsyncSession], checkpointer: Checkpointer, run_id: str
) -> dict[str, Any] | None:
    """The export of run ``run_id`` (None when there is no such run).

    When no checkpoint covers the run's current head yet, one is made first, so that the
    export proves every entry.
    """
    for attempt in range(3):
        async with sessions() as session:
            bundle = await _read(session, run_id)
            if bundle is None:
                return None
            if bundle["run"]["ledger_seq"] == 0:
                return {**bundle, "checkpoint": None, "leaf": None, "proof": []}
            covered = await _covering(session, run_id, bundle["run"]["ledger_seq"])
            if covered is not None:
                checkpoint, index, leaves = covered
                proof = inclusion_proof(leaves, index)
                return {
                    **bundle,
                    "checkpoint": checkpoint,
                    "leaf": {
                        "index": index,
                        "run_id": run_id,
                        "seq": bundle["run"]["ledger_seq"],
                        "head": bundle["run"]["ledger_head"],
                    },
                    "proof": [node.hex() for node in proof],
                }
        if attempt < 2:
            await checkpointer.checkpoint()
    raise RuntimeError(f"no checkpoint covers run {run_id} after two attempts")


async def _read(session: AsyncSession, run_id: str) -> dict[str, Any] | None:
    run = await session.get(RunRow, run_id)
    if run is None:
        return None
    entries = await session.scalars(
        select(LedgerEntryRow).where(LedgerEntryRow.run_id == run_id).order_by(LedgerEntryRow.seq)
    )
    steps = await session.scalars(
        select(StepRow).where(StepRow.run_id == run_id).order_by(StepRow.step_id)
    )
    return {
        "format": fmt.EXPORT_FORMAT,
        "run": {
            "id": run.id,
            "workflow": run.workflow_name,
            "status": run.status,
            "input": run.input,
            "output": run.output,
            "error": run.error,
            "ledger_seq": run.ledger_seq,
            "ledger_head": run.ledger_head,
        },
        "steps": [
            {
                "step_id": s.step_id,
                "definition_id": s.definition_id,
                "item_index": s.item_index,
                "attempt": s.attempt,
                "status": s.status,
                "output": s.output,
            }
            for s in steps
        ],
        "entries": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "data": e.data,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
                "signature": e.signature,
                "created_at": e.created_at.isoformat(),
            }
            for e in entries
        ],
    }


async def _covering(
    session: AsyncSession, run_id: str, seq: int
) -> tuple[dict[str, Any], int, list[bytes]] | None:
    """The newest checkpoint, the index of the run's leaf at ``seq`` in it, and its leaves."""
    newest = await session.scalar(
        select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.seq.desc()).limit(1)
    )
    if newest is None:
        return None
    index = await session.scalar(
        select(LedgerLeafRow.idx).where(
            LedgerLeafRow.run_id == run_id,
            LedgerLeafRow.seq == seq,
            LedgerLeafRow.idx < newest.tree_size,
        )
    )
    if index is None:
        return None
    rows = await session.execute(
        select(LedgerLeafRow.run_id, LedgerLeafRow.seq, LedgerLeafRow.head)
        .where(LedgerLeafRow.idx < newest.tree_size)
        .order_by(LedgerLeafRow.idx)
    )
    leaves = [leaf_hash(r, s, h) for r, s, h in rows]
    return as_dict(newest), index, leaves
