"""Bearer tokens on the protocol endpoints (``/mcp``, ``/a2a``): the REST API's tokens, checks
and throttle, with its error bodies."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from services.api.deps import check_token
from services.api.errors import ApiError, error_body
from services.auth import READERS, Principal


async def reader(connection: HTTPConnection) -> Principal:
    """The caller, a viewer, operator or admin (never an agent's token).

    Raises:
        ApiError: 401 without a valid token, 403 for an agent's, 429 when throttled.
    """
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "missing bearer token")
    principal = await check_token(connection, connection.app.state.runtime, token.strip())
    if principal is None:
        raise ApiError(401, "unauthorized", "invalid token")
    if principal.role not in READERS or principal.agent_id is not None:
        raise ApiError(403, "forbidden", "this needs a viewer, operator or admin token")
    return principal


def refusal(exc: ApiError) -> JSONResponse:
    """The answer to a refused request (a 401 says ``WWW-Authenticate: Bearer``)."""
    headers = dict(exc.headers or {})
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error_body(exc.code, exc.message, exc.details), exc.status, headers=headers)
