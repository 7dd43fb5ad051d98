"""Dependencies of the routes, as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.errors import ApiError
from services.auth import Principal, authenticate
from services.outage import dependency_of
from services.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The process's Runtime, opened by the app's lifespan."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A read-only session for one request."""
    session = runtime.readers()
    try:
        yield session
    finally:
        await _close(session)


async def get_write_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A session for a request that writes (it takes SQLite's write lock when it begins)."""
    session = runtime.sessions()
    try:
        yield session
    finally:
        await _close(session)


async def _close(session: AsyncSession) -> None:
    """Close a request's session. It closes after the answer has started: a connection the
    database dropped must not raise there, or the server drops the client's connection too."""
    try:
        await session.close()
    except Exception as exc:
        if dependency_of(exc) is None:
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session)]
WriteSessionDep = Annotated[AsyncSession, Depends(get_write_session)]


async def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """Who is calling, from ``Authorization: Bearer``; 401 without a valid token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "unauthorized", "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    async with runtime.readers() as session:
        principal = await authenticate(session, token.strip(), runtime.static_tokens)
    if principal is None:
        raise ApiError(401, "unauthorized", "invalid token", headers={"WWW-Authenticate": "Bearer"})
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_client(principal: PrincipalDep) -> Principal:
    """A client or admin token (agents' tokens cannot start runs or register agents)."""
    if principal.role not in ("client", "admin"):
        raise ApiError(403, "forbidden", "this needs a client API token, not an agent token")
    return principal


def require_admin(principal: PrincipalDep) -> Principal:
    """The admin token."""
    if principal.role != "admin":
        raise ApiError(403, "forbidden", "this needs the admin token")
    return principal


def require_agent(principal: PrincipalDep) -> Principal:
    """An agent token."""
    if principal.role != "agent" or principal.agent_id is None:
        raise ApiError(403, "forbidden", "this needs an agent token")
    return principal


ClientDep = Annotated[Principal, Depends(require_client)]
AdminDep = Annotated[Principal, Depends(require_admin)]
AgentDep = Annotated[Principal, Depends(require_agent)]
