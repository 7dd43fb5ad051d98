"""Data functions for tenants and their tokens: create, list, revoke, rotate; last use.

A token is shown once, when it is created or rotated; only its SHA-256 hash is stored.
Revoking or rotating changes the stored row, and every replica reads that row on the token's
next request (``services.auth.authenticate``), so the old token stops working everywhere at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth import ROLES, new_token, token_hash
from services.db.models import ApiTokenRow, TenantRow, utcnow

TENANT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_DURATION = re.compile(r"^(\d{1,6})([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class TokenError(ValueError):
    """A token request that cannot be honoured (unknown tenant, role or token)."""


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` as a timedelta; ValueError otherwise."""
    found = _DURATION.match(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 90m")
    return timedelta(seconds=int(found.group(1)) * _UNIT_S[found.group(2)])


async def create_tenant(session: AsyncSession, name: str) -> tuple[TenantRow, bool]:
    """The tenant ``name``, created if it is new (returns it and whether it was created)."""
    if re.match(TENANT_PATTERN, name) is None:
        raise TokenError(f"tenant names match {TENANT_PATTERN}")
    row = await session.get(TenantRow, name)
    if row is not None:
        return row, False
    row = TenantRow(name=name, created_at=utcnow())
    session.add(row)
    await session.flush()
    return row, True


async def list_tenants(session: AsyncSession) -> Sequence[TenantRow]:
    """Every tenant, by name."""
    return (await session.execute(select(TenantRow).order_by(TenantRow.name))).scalars().all()


async def create_token(
    session: AsyncSession,
    tenant: str,
    role: str,
    *,
    name: str = "",
    expires_in: timedelta | None = None,
) -> tuple[ApiTokenRow, str]:
    """A new token of ``tenant`` with ``role``; returns the row and the token (shown once)."""
    if role not in ROLES:
        raise TokenError(f"role must be one of {', '.join(ROLES)}")
    if await session.get(TenantRow, tenant) is None:
        raise TokenError(f"tenant {tenant!r} does not exist")
    token = new_token("mdx")
    now = utcnow()
    row = ApiTokenRow(
        tenant=tenant,
        name=name or f"{role}@{tenant}",
        role=role,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
    )
    session.add(row)
    await session.flush()
    return row, token


async def list_tokens(
    session: AsyncSession, tenant: str | None = None, include_revoked: bool = False
) -> Sequence[ApiTokenRow]:
    """Tokens (never their secrets), oldest first; of one tenant when given."""
    query = select(ApiTokenRow).order_by(ApiTokenRow.id)
    if tenant is not None:
        query = query.where(ApiTokenRow.tenant == tenant)
    if not include_revoked:
        query = query.where(ApiTokenRow.revoked_at.is_(None))
    return (await session.execute(query)).scalars().all()


async def get_token(session: AsyncSession, token_id: int, tenant: str | None) -> ApiTokenRow:
    """A live token by id, of ``tenant`` unless None (a system admin's view)."""
    row = await session.get(ApiTokenRow, token_id)
    if row is None or row.revoked_at is not None or (tenant is not None and row.tenant != tenant):
        raise TokenError(f"token {token_id} does not exist")
    return row


async def revoke_token(session: AsyncSession, token_id: int, tenant: str | None) -> ApiTokenRow:
    """Revoke a token: refused from the next request on, on every replica."""
    row = await get_token(session, token_id, tenant)
    row.revoked_at = utcnow()
    return row


async def rotate_token(
    session: AsyncSession, token_id: int, tenant: str | None
) -> tuple[ApiTokenRow, str]:
    """Give a token a new secret (same id, tenant, role and expiry); the old one stops at once."""
    row = await get_token(session, token_id, tenant)
    token = new_token("mdx")
    row.token_hash = token_hash(token)
    return row, token


class LastUsed:
    """Remembers when each issued token was last used and writes that in batches.

    A write per request would put the database on every request's path; instead the times are
    kept here and ``flush`` writes them (one statement) every few seconds and at shutdown.
    """

    def __init__(self) -> None:
        self._pending: dict[int, datetime] = {}

    def note(self, token_id: int) -> None:
        """The token was used now."""
        self._pending[token_id] = utcnow()

    async def flush(self, sessions: async_sessionmaker[AsyncSession]) -> int:
        """Write the times noted since the last flush; returns how many tokens were updated."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        table: Table = ApiTokenRow.__table__  # type: ignore[assignment]
        statement = (
            update(table)
            .where(table.c.id == bindparam("token_id"))
            .values(last_used_at=bindparam("used"))
        )
        async with sessions() as session, session.begin():
            conn = await session.connection()
            await conn.execute(statement, [{"token_id": k, "used": v} for k, v in pending.items()])
        return len(pending)
