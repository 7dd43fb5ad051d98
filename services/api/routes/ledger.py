"""The ledger's routes: verification, one run's export, the checkpoints and the public key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from services.api.deps import ReaderDep, RuntimeDep, SessionDep
from services.api.errors import not_found
from services.db.models import LedgerCheckpointRow
from services.db.ranges import INT64_MAX
from services.ledger import format as fmt
from services.ledger import keys
from services.ledger.checkpoints import as_dict
from services.ledger.export import export_run
from services.ledger.verify import verify as verify_ledger
from services.orchestrator import runs

router = APIRouter(prefix="/v1", tags=["ledger"])


@router.get("/ledger/verify")
async def verify(
    principal: ReaderDep, runtime: RuntimeDep, session: SessionDep, run_id: str | None = None
) -> dict[str, Any]:
    """Check the chain of every run of the caller's tenant (or of one), the runs' and steps'
    outputs against it, and the checkpoints against the key and the published file; each
    problem at its entry (problems of other tenants' runs are not shown)."""
    return await verify_ledger(
        session,
        runtime.checkpointer.public_key,
        run_id,
        published=runtime.settings.resolved_checkpoint_file,
        tenant=principal.tenant,
    )


@router.get("/runs/{run_id}/ledger")
async def export(
    principal: ReaderDep, runtime: RuntimeDep, session: SessionDep, run_id: str
) -> dict[str, Any]:
    """The run's entries with a signed checkpoint and the inclusion proof of its head
    (``modx ledger verify --offline`` checks it); a checkpoint is made first if none covers
    the head yet."""
    if await runs.get_run(session, run_id, principal.tenant) is None:
        raise not_found("run", run_id)
    await session.rollback()
    bundle = await export_run(runtime.readers, runtime.checkpointer, run_id)
    if bundle is None:
        raise not_found("run", run_id)
    return bundle


@router.get("/ledger/checkpoints")
async def checkpoints(
    _: ReaderDep,
    session: SessionDep,
    after: int = Query(0, ge=0, le=INT64_MAX, description="Only checkpoints with a greater seq."),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Signed checkpoints, oldest first (what the append-only file holds)."""
    rows = await session.scalars(
        select(LedgerCheckpointRow)
        .where(LedgerCheckpointRow.seq > after)
        .order_by(LedgerCheckpointRow.seq)
        .limit(limit)
    )
    return [as_dict(row) for row in rows]


@router.get("/ledger/public-key")
async def public_key(_: ReaderDep, runtime: RuntimeDep) -> dict[str, str]:
    """The ledger's public key (base64 of its 32 raw bytes) and its id."""
    key = runtime.checkpointer.public_key
    return {"public_key": keys.public_key_text(key), "key_id": fmt.key_id(key)}
