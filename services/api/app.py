"""The FastAPI application factory."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.routing import Route

from services.api import errors, openapi
from services.api.input_guard import InputGuard, guard_params
from services.api.json_bodies import JsonBodies
from services.api.limits import BodySizeLimit
from services.api.observe import RequestMetrics
from services.api.open_streams import OpenStreams
from services.api.routes import (
    a2a_agents,
    agents,
    gateway,
    health,
    ledger,
    mcp_agents,
    runs,
    tasks,
    tokens,
    workflows,
)
from services.config import Settings
from services.dashboard import router as dashboard_router
from services.interop.a2a_server import CARD_PATH, RPC_PATH, A2aEndpoint
from services.interop.a2a_server import refusal as a2a_refusal
from services.interop.mcp_origin import McpOriginGuard
from services.interop.mcp_server import PATH as MCP_PATH
from services.interop.mcp_server import McpEndpoint
from services.interop.mcp_server import refusal as mcp_refusal
from services.quota import Quota
from services.runtime import Runtime

# The HTTP server's connection handling (``modx serve`` and the embedded service).
GRACEFUL_SHUTDOWN_S = 3  # open connections (long polls, live views) get this long at a stop
# An idle connection stays open longer than clients and load balancers keep one for reuse
# (httpx 5 s, AWS ALB 60 s): at uvicorn's default 5 s the server closed connections that
# clients were reusing at that moment, and their requests failed with "Server disconnected".
KEEP_ALIVE_S = 75


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
            await app.state.outages.close()
            await runtime.close()

    app = FastAPI(
        title="MODX",
        version="0.1.0",
        description="Multi-agent orchestration over typed capabilities.",
        lifespan=lifespan,
        dependencies=[Depends(guard_params)],
        # MODX_DOCS_ENABLED=false: no /docs, /redoc or /openapi.json.
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.settings = settings
    app.state.on_ready = []  # async hooks(runtime) after start-up (built-in agents)
    app.state.on_shutdown = []
    app.state.gateway_connections = Counter()  # open gateway connections by agent id
    app.state.open_streams = OpenStreams(settings)
    app.state.gateway_subscriptions = Quota(
        "MODX_GATEWAY_SUBSCRIPTIONS_PER_TENANT", lambda: settings.gateway_subscriptions_per_tenant
    )
    errors.install(app)
    openapi.install(app)
    # The router tries routes in order, each included router's in turn (2-4% of a request's
    # CPU in a burst, bench/routes.py): the routes clients call all the time come first.
    for module in (
        runs,
        health,
        agents,
        mcp_agents,
        a2a_agents,
        gateway,
        workflows,
        tasks,
        ledger,
        tokens,
    ):
        app.include_router(module.router, responses=errors.ERROR_RESPONSES)
    app.include_router(dashboard_router)
    mcp = McpEndpoint(app.version)  # MCP over streamable HTTP (services/interop/mcp_server.py)
    app.router.routes.append(Route(MCP_PATH, mcp, include_in_schema=False))
    app.state.on_ready.append(mcp.start)
    app.state.on_shutdown.append(mcp.stop)
    a2a = A2aEndpoint()  # A2A 1.0 over JSON-RPC (services/interop/a2a_server.py)
    app.router.routes.append(Route(RPC_PATH, a2a, methods=["POST"], include_in_schema=False))
    app.router.routes.append(Route(CARD_PATH, a2a.card, methods=["GET"], include_in_schema=False))

    # inside the size limit: it reads bounded bodies only; JSON-RPC endpoints refuse in kind
    app.add_middleware(InputGuard, rpc={RPC_PATH: a2a_refusal, MCP_PATH: mcp_refusal})
    app.add_middleware(JsonBodies)  # before the guard: a form-typed /v1/ body is a 415, not a form
    app.add_middleware(RequestMetrics)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    # outermost: MCP's Origin check (DNS rebinding) before anything reads the request
    app.add_middleware(McpOriginGuard, path=MCP_PATH, allowed=settings.mcp_allowed_origins)
    return app
