"""Verification of the ledger: every run's hash chain, recomputed from its entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import LedgerEntryRow
from services.orchestrator.context import chain_hash


async def verify(session: AsyncSession, run_id: str | None = None) -> dict[str, Any]:
    """Walk the chains; a changed, removed or reordered entry breaks its run's chain."""
    query = select(LedgerEntryRow).order_by(LedgerEntryRow.run_id, LedgerEntryRow.seq)
    if run_id is not None:
        query = query.where(LedgerEntryRow.run_id == run_id)
    problems: list[dict[str, Any]] = []
    runs = entries = 0
    current, head, expected_seq = None, "", 1
    async for row in await session.stream_scalars(query.execution_options(yield_per=1000)):
        if row.run_id != current:
            current, head, expected_seq = row.run_id, "", 1
            runs += 1
        entries += 1
        if row.seq != expected_seq:
            problems.append(
                {"run_id": row.run_id, "seq": row.seq, "problem": f"expected seq {expected_seq}"}
            )
        if row.prev_hash != head:
            problems.append(
                {"run_id": row.run_id, "seq": row.seq, "problem": "prev_hash does not match"}
            )
        if chain_hash(row.prev_hash, row.run_id, row.seq, row.kind, row.data) != row.hash:
            problems.append(
                {"run_id": row.run_id, "seq": row.seq, "problem": "hash does not match the entry"}
            )
        head, expected_seq = row.hash, row.seq + 1
    return {"ok": not problems, "runs": runs, "entries": entries, "problems": problems[:100]}
