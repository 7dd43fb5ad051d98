"""The FastAPI application factory."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from starlette.middleware.base import RequestResponseEndpoint

from services import metrics
from services.api import errors
from services.api.limits import BodySizeLimit
from services.api.routes import agents, health, ledger, runs, tasks, workflows
from services.config import Settings
from services.dashboard import router as dashboard_router
from services.runtime import Runtime


def create_app(settings: Settings | None = None, *, orchestrate: bool = True) -> FastAPI:
    """The API, with the orchestrator's loops running in the same process (``orchestrate``)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings, orchestrate=orchestrate)
        app.state.runtime = runtime
        try:
            for hook in app.state.on_ready:
                await hook(runtime)
            yield
        finally:
            for hook in app.state.on_shutdown:
                await hook(runtime)
            await runtime.close()

    app = FastAPI(
        title="MODX",
        version="0.1.0",
        description="Multi-agent orchestration over typed capabilities.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.on_ready = []  # async hooks(runtime) after start-up (built-in agents)
    app.state.on_shutdown = []
    errors.install(app)
    for module in (health, agents, workflows, runs, tasks, ledger):
        app.include_router(module.router)
    app.include_router(dashboard_router)

    @app.middleware("http")
    async def _observe(request: Request, call_next: RequestResponseEndpoint) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        metrics.REQUEST_SECONDS.labels(request.method, path).observe(time.perf_counter() - start)
        return response

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    return app
