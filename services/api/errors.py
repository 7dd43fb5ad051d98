"""Every error as ``{"error": {"code", "message", "details"}}``, with the field at fault named."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api import unavailable
from services.orchestrator.definitions import error_message, json_path

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a message, and (for a 422) the fields at fault."""

    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The body of every error."""

    error: ErrorDetail


_DOCUMENTED = {
    401: "No bearer token, or not a valid one",
    403: "The token's role or tenant does not allow this",
    404: "No such object (or another tenant's)",
    409: "The object's state does not allow this",
    413: "The request body is over MODX_MAX_REQUEST_BYTES",
    415: "A body not sent as JSON (`content-type: application/json`)",
    422: "A field is not valid: `details` names it with a JSON path",
    429: "Too many failed token checks, or streams open; see Retry-After",
    503: "The database or the bus is unavailable; see Retry-After",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text} for status, text in _DOCUMENTED.items()
}
"""The errors every route documents (``app.include_router(..., responses=ERROR_RESPONSES)``)."""


class ApiError(Exception):
    """An error the API answers with; raised by routes and dependencies."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = (
            status,
            code,
            message,
            details,
            headers,
        )


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The error shape of the whole API."""
    return {"error": {"code": code, "message": message, "details": details}}


def not_found(what: str, ident: str) -> ApiError:
    """A 404 for a thing by id."""
    return ApiError(404, "not_found", f"{what} {ident!r} does not exist")


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for item in exc.errors():
            loc = list(item.get("loc", ()))
            where = loc[0] if loc else "body"
            details.append(
                {
                    "path": json_path(tuple(loc[1:])),
                    "in": where,
                    "message": error_message(item.get("msg", "")),
                }
            )
        first = details[0] if details else {"path": "$", "message": "invalid request"}
        message = f"{first['path']}: {first['message']}"
        return JSONResponse(error_body("invalid_request", message, details), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODES.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    unavailable.install(app, error_body)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body("internal", f"internal error: {type(exc).__name__}"), 500)
