"""Tenants and tokens: a tenant's admin manages its tokens; a system admin manages every
tenant and every tenant's tokens. A token's secret is in the answer once, at creation or
rotation, and never again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from services.api.deps import AdminDep, RuntimeDep, SessionDep, SystemDep, WriteSessionDep
from services.api.errors import ApiError, not_found
from services.auth import Principal, Role
from services.db.models import ApiTokenRow, TenantRow
from services.runtime import Runtime
from services.tokens import (
    TENANT_PATTERN,
    TokenError,
    create_tenant,
    create_token,
    list_tenants,
    list_tokens,
    parse_duration,
    revoke_token,
    rotate_token,
)

router = APIRouter(prefix="/v1", tags=["tokens"])
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class TenantCreate(BaseModel):
    """A new tenant."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=TENANT_PATTERN, max_length=64)


class TenantPublic(BaseModel):
    """A tenant."""

    name: str
    created_at: datetime


class TokenCreate(BaseModel):
    """A new token: its tenant (default: the caller's), role, label and lifetime."""

    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(default=None, pattern=TENANT_PATTERN, max_length=64)
    role: Role
    name: str = Field(default="", max_length=200)
    expires_in: str | None = Field(
        default=None, max_length=10, description="a duration: 30d, 12h, 90m, 45s, 2w"
    )


class TokenPublic(BaseModel):
    """A token without its secret."""

    id: int
    tenant: str
    role: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenPublic):
    """A token with its secret, shown this once."""

    token: str


def _public(row: ApiTokenRow) -> TokenPublic:
    return TokenPublic.model_validate(row, from_attributes=True)


def _issued(row: ApiTokenRow, token: str) -> TokenIssued:
    return TokenIssued(**_public(row).model_dump(), token=token)


def _scope(principal: Principal) -> str | None:
    """Whose tokens a caller manages: a system admin every tenant's (None), others their own."""
    return None if principal.is_system else principal.tenant


@router.post(
    "/tenants",
    status_code=201,
    response_model=TenantPublic,
    responses={200: {"model": TenantPublic, "description": "The tenant exists already"}},
)
async def add_tenant(
    body: TenantCreate, response: Response, _: SystemDep, session: WriteSessionDep
) -> TenantRow:
    """Create a tenant (200 when it exists already)."""
    async with session.begin():
        row, created = await create_tenant(session, body.name)
    if not created:
        response.status_code = 200
    return row


@router.get("/tenants", response_model=list[TenantPublic])
async def tenants(_: SystemDep, session: SessionDep) -> list[TenantRow]:
    """Every tenant."""
    return list(await list_tenants(session))


@router.post("/tokens", status_code=201, response_model=TokenIssued)
async def add_token(
    body: TokenCreate, principal: AdminDep, session: WriteSessionDep
) -> TokenIssued:
    """Create a token; the answer is the only time its secret is shown."""
    tenant = body.tenant or principal.tenant
    if not principal.is_system and tenant != principal.tenant:
        raise ApiError(403, "forbidden", "only a system admin creates tokens of another tenant")
    try:
        expires_in = parse_duration(body.expires_in) if body.expires_in else None
    except ValueError as exc:
        raise ApiError(
            422, "invalid_request", f"$.expires_in: {exc}", [{"path": "$.expires_in"}]
        ) from None
    async with session.begin():
        try:
            row, token = await create_token(
                session, tenant, body.role, name=body.name, expires_in=expires_in
            )
        except TokenError as exc:
            raise ApiError(404, "tenant_unknown", str(exc), [{"path": "$.tenant"}]) from None
    return _issued(row, token)


@router.get("/tokens", response_model=list[TokenPublic])
async def tokens(
    principal: AdminDep, session: SessionDep, tenant: str | None = None
) -> list[TokenPublic]:
    """Live tokens of the caller's tenant (a system admin: of every tenant, or ``?tenant=``)."""
    scope = _scope(principal)
    if scope is not None and tenant is not None and tenant != scope:
        return []  # another tenant's tokens are not there for this caller
    return [_public(row) for row in await list_tokens(session, tenant or scope)]


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
async def revoke(
    token_id: TokenId, principal: AdminDep, runtime: RuntimeDep, session: WriteSessionDep
) -> TokenPublic:
    """Revoke a token: every replica refuses it from its next request on."""
    async with session.begin():
        try:
            row = await revoke_token(session, token_id, _scope(principal))
        except TokenError:
            raise not_found("token", str(token_id)) from None
    await changed(runtime)
    return _public(row)


@router.post("/tokens/{token_id}/rotate", response_model=TokenIssued)
async def rotate(
    token_id: TokenId, principal: AdminDep, runtime: RuntimeDep, session: WriteSessionDep
) -> TokenIssued:
    """Give a token a new secret; the old secret stops working at once."""
    async with session.begin():
        try:
            row, token = await rotate_token(session, token_id, _scope(principal))
        except TokenError:
            raise not_found("token", str(token_id)) from None
    await changed(runtime)
    return _issued(row, token)


async def changed(runtime: Runtime) -> None:
    """A token changed (committed): cached principals are stale here at once, and on every
    other replica from its next request (the token epoch), before the answer goes out."""
    runtime.principals.clear()
    await runtime.throttle.tokens_changed()
