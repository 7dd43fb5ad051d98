"""Tokens: client and admin tokens for the REST API, and one token per agent.

Only SHA-256 hashes are stored; tokens are compared by hash, so a lookup is an index hit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import AgentRow, ApiTokenRow

Role = Literal["client", "admin", "agent"]


def new_token(prefix: str) -> str:
    """A fresh random token, prefixed by its kind for people reading logs and configs."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who made a request."""

    role: Role
    name: str
    agent_id: str | None = None


async def authenticate(
    session: AsyncSession, token: str, static: dict[str, Principal]
) -> Principal | None:
    """The principal a bearer token belongs to, or None.

    ``static`` maps hashes of tokens from the settings (``MODX_API_TOKEN``, ``MODX_ADMIN_TOKEN``)
    to their principals; issued tokens and agent tokens are looked up in the database.
    """
    digest = token_hash(token)
    if digest in static:
        return static[digest]
    agent = (
        await session.execute(select(AgentRow).where(AgentRow.token_hash == digest))
    ).scalar_one_or_none()
    if agent is not None:
        return Principal(role="agent", name=agent.name, agent_id=agent.id)
    issued = (
        await session.execute(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))
    ).scalar_one_or_none()
    if issued is not None and issued.role in ("client", "admin"):
        return Principal(role=issued.role, name=issued.name)  # type: ignore[arg-type]
    return None
