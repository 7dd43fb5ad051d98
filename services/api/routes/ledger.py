"""The ledger's verification endpoint."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services import ledger
from services.api.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/v1", tags=["ledger"])


@router.get("/ledger/verify")
async def verify(_: PrincipalDep, session: SessionDep, run_id: str | None = None) -> dict[str, Any]:
    """Recompute every run's hash chain (or one run's) and report what does not match."""
    return await ledger.verify(session, run_id)
