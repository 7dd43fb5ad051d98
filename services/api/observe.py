"""Request metrics as plain ASGI middleware: no extra task or stream per request, which
Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``) costs on every call."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import metrics


class RequestMetrics:
    """Counts requests and observes their latency by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            # The router records the matched route in the scope it was given (this one).
            path = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            metrics.REQUESTS.labels(method, path, str(status)).inc()
            metrics.REQUEST_SECONDS.labels(method, path).observe(time.perf_counter() - start)
