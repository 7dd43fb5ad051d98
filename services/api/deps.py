"""Dependencies of the routes, as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from agents.sdk.http_protocol import client_key
from services.api.errors import ApiError
from services.auth import OPERATORS, READERS, REGISTRARS, Principal, identify, token_hash
from services.outage import dependency_of
from services.runtime import Runtime

# Dependencies are ``async def`` even when they never await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop per request for each of them.


async def get_runtime(request: Request) -> Runtime:
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


def client_address(request: HTTPConnection) -> str:
    """The caller, as throttles count it (behind a proxy, uvicorn's ``--forwarded-allow-ips``
    sets its address): an IPv6 client is its /64, which one host commonly holds whole."""
    return client_key(request.client.host) if request.client is not None else "unknown"


def too_many(retry_after: int) -> ApiError:
    """A 429 for a throttled token check or login."""
    return ApiError(
        429,
        "too_many_requests",
        f"too many failed attempts from this address; try again in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


async def check_token(request: HTTPConnection, runtime: Runtime, token: str) -> Principal | None:
    """The principal of ``token``, or None; throttled per address and overall (429).

    An issued token's principal comes from the cache while the token epoch (read with the
    throttle's counters, before the database) is the one it was read in (``services.auth``).
    The definitions epoch read with them is kept for the request (``definitions_epoch``).
    """
    address = client_address(request)
    throttle = runtime.throttle
    retry_after, epoch, request.state.definitions_epoch = await throttle.check(address)
    if retry_after is not None:
        raise too_many(retry_after)
    digest = token_hash(token)
    principal = runtime.static_tokens.get(digest) or runtime.principals.get(digest, epoch)
    if principal is None:
        async with runtime.readers() as session:
            found = await identify(session, digest)
        if found is not None:
            principal, expires_at = found
            runtime.principals.put(digest, epoch, principal, expires_at)
    if principal is None:
        retry_after = await throttle.failed(address)
        if retry_after is not None:
            raise too_many(retry_after)
        return None
    await throttle.succeeded(address)
    if principal.token_id is not None:
        runtime.last_used.note(principal.token_id)
    return principal


def definitions_epoch(connection: HTTPConnection) -> int:
    """The definitions epoch this request's token check read (``services.throttle``), after the
    request came: a definition cached under it is the latest of any registration answered
    before the request. 0 when none was read (nothing is cached under 0)."""
    epoch: int = getattr(connection.state, "definitions_epoch", 0)
    return epoch


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token of ``Authorization: Bearer``, or None."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def still_holds(connection: HTTPConnection, runtime: Runtime, principal: Principal) -> bool:
    """Whether the token that opened a long-lived answer (an event stream, a WebSocket) still
    gives ``principal``: a revoked, rotated or expired token, or a removed agent, ends it.

    Checked before each thing such an answer sends, not only when it opens: a revoke must stop
    what a stream sends at once, as it stops the next request. An issued token in use costs the
    epoch's read (one ``MGET``, shared by concurrent checks) while no token changes."""
    token = bearer_token(connection)
    if token is None:
        return False
    digest = token_hash(token)
    if digest in runtime.static_tokens:
        return runtime.static_tokens[digest] == principal
    epoch = (await runtime.throttle.check(client_address(connection))).epoch
    cached = runtime.principals.get(digest, epoch)
    if cached is not None:
        return cached == principal
    async with runtime.readers() as session:
        found = await identify(session, digest)
    if found is None:
        return False
    runtime.principals.put(digest, epoch, found[0], found[1])
    return found[0] == principal


async def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """Who is calling, from ``Authorization: Bearer``; 401 without a valid token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "unauthorized", "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    principal = await check_token(request, runtime, token.strip())
    if principal is None:
        raise ApiError(401, "unauthorized", "invalid token", headers={"WWW-Authenticate": "Bearer"})
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_role(principal: Principal, roles: frozenset[str], what: str) -> Principal:
    """``principal`` if its role is one of ``roles``; 403 naming ``what`` otherwise."""
    # A registered agent's own token acts on its own tasks only (``AgentDep``).
    if principal.role not in roles or principal.agent_id is not None:
        raise ApiError(403, "forbidden", f"this needs {what}")
    return principal


def _needs(
    roles: frozenset[str], what: str
) -> Callable[[Principal], Coroutine[None, None, Principal]]:
    # The rule is in ``require_role``, called per request; this only binds its arguments.
    async def check(principal: PrincipalDep) -> Principal:
        return require_role(principal, roles, what)

    check.__doc__ = f"A principal with {what} (403 otherwise)."
    return check


async def require_agent(principal: PrincipalDep) -> Principal:
    """A registered agent's own token."""
    if principal.role != "agent" or principal.agent_id is None:
        raise ApiError(403, "forbidden", "this needs an agent token")
    return principal


async def require_system(principal: PrincipalDep) -> Principal:
    """A system admin (an admin of the system tenant, or ``MODX_ADMIN_TOKEN``)."""
    if not principal.is_system:
        raise ApiError(403, "forbidden", "this needs a system admin token")
    return principal


# viewer, operator and admin read their tenant; agents' tokens read nothing.
ReaderDep = Annotated[Principal, Depends(_needs(READERS, "a viewer, operator or admin token"))]
OperatorDep = Annotated[Principal, Depends(_needs(OPERATORS, "an operator or admin token"))]
AdminDep = Annotated[Principal, Depends(_needs(frozenset({"admin"}), "an admin token"))]
RegistrarDep = Annotated[
    Principal, Depends(_needs(REGISTRARS, "an operator, admin or agent token"))
]
AgentDep = Annotated[Principal, Depends(require_agent)]
SystemDep = Annotated[Principal, Depends(require_system)]
