"""Serve a model over HTTP: a FastAPI router factory around a :class:`ModelServer`.

The router has three endpoints: ``POST {path}`` runs the handler, ``GET /health`` returns the
server's :class:`~agents.models.serving.ServerHealth` (503 when not ready) and, when a registry
is given, ``GET /metrics`` exposes it in the Prometheus text format. ``Overloaded`` becomes
``429`` with a ``Retry-After`` header, ``RequestTooLarge`` ``413`` and ``NotReady`` ``503``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel

from agents.models.errors import NotReady, Overloaded, RequestTooLarge
from agents.models.serving import ModelServer, ServerHealth, retry_after_header

ReqT = TypeVar("ReqT", bound=BaseModel)
RespT = TypeVar("RespT", bound=BaseModel)


def create_model_router(
    server: ModelServer[Any, Any],
    handler: Callable[[ReqT], Awaitable[RespT]],
    *,
    request_model: type[ReqT],
    response_model: type[RespT],
    path: str = "/infer",
    registry: CollectorRegistry | None = None,
    tags: list[str] | None = None,
) -> APIRouter:
    """Build a router that serves ``handler`` and the health of ``server``.

    Args:
        server: The model server behind ``handler`` (its health is served).
        handler: Turns a validated request into a response, usually by calling
            ``server.predict_many``.
        request_model: The request body's pydantic model.
        response_model: The response's pydantic model.
        path: Where the inference endpoint is mounted.
        registry: When given, ``GET /metrics`` exposes this Prometheus registry.
        tags: OpenAPI tags of the routes.

    Returns:
        A router to ``include_router`` in an app.
    """
    router = APIRouter(tags=list(tags or [server.name]))

    async def infer(body: Any) -> Any:
        try:
            return await handler(body)
        except Overloaded as exc:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=exc.to_dict(),
                headers=retry_after_header(exc),
            ) from exc
        except RequestTooLarge as exc:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=exc.to_dict()) from exc
        except NotReady as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=exc.to_dict()) from exc

    # FastAPI reads the body's type from the signature; the type is only known here.
    infer.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=request_model)],
        return_annotation=response_model,
    )
    router.add_api_route(
        path,
        infer,
        methods=["POST"],
        response_model=response_model,
        responses={
            413: {"description": "More items than the queue can ever hold"},
            429: {"description": "Overloaded; see Retry-After"},
            503: {"description": "Model not loaded"},
        },
    )

    async def health(response: Response) -> ServerHealth:
        snapshot = server.health()
        if not snapshot.ready:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return snapshot

    router.add_api_route("/health", health, methods=["GET"], response_model=ServerHealth)

    if registry is not None:
        exposed = registry

        async def metrics() -> Response:
            return Response(generate_latest(exposed), media_type=CONTENT_TYPE_LATEST)

        router.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    return router
