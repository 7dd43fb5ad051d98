"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.api.deps import RuntimeDep, get_principal
from services.api.errors import ApiError
from services.db.models import SYSTEM_TENANT
from services.runtime import INSECURE_WARNING

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Ready when the database and the bus both answer; 503 names what is down. A
    development-only setting that is on (``MODX_INSECURE_AGENTS``) is named in ``warnings``."""
    db_ok, bus_ok = await asyncio.gather(runtime.database_ok(), runtime.bus_ok())
    checks = {"database": "ok" if db_ok else "down", "bus": "ok" if bus_ok else "down"}
    ready = db_ok and bus_ok
    body: dict[str, object] = {"status": "ready" if ready else "unavailable", "checks": checks}
    if runtime.settings.insecure_agents:
        body["warnings"] = [INSECURE_WARNING]
    return JSONResponse(body, 200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """Prometheus metrics; with ``metrics_require_token`` (the default), for a system admin or
    a token of the system tenant only (the figures cover every tenant)."""
    if runtime.settings.metrics_require_token:
        principal = await get_principal(request, runtime)
        if not (principal.is_system or principal.tenant == SYSTEM_TENANT):
            raise ApiError(403, "forbidden", "metrics need a token of the system tenant")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
