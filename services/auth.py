"""Who is calling: tokens, their tenant and their role.

Every token belongs to a tenant and has a role:

- ``viewer`` reads the tenant's runs, workflows, agents and capabilities;
- ``operator`` also submits, cancels and retries runs, registers workflows and agents;
- ``admin`` does everything within the tenant, tokens included;
- ``agent`` registers agents; a registered agent's own token acts only on its own tasks.

Admins of the ``system`` tenant (and ``MODX_ADMIN_TOKEN``) are system admins: they manage
tenants and every tenant's tokens. Only SHA-256 hashes are stored, so a lookup is an index hit;
there is no token cache, so a revoked token is refused by every replica on its next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import SYSTEM_TENANT, AgentRow, ApiTokenRow, utcnow

Role = Literal["viewer", "operator", "admin", "agent"]
ROLES: tuple[str, ...] = get_args(Role)
READERS = frozenset({"viewer", "operator", "admin"})
OPERATORS = frozenset({"operator", "admin"})
REGISTRARS = frozenset({"operator", "admin", "agent"})


def new_token(prefix: str) -> str:
    """A fresh random token, prefixed by its kind for people reading logs and configs."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who made a request: a tenant, a role, and for an agent's own token the agent."""

    tenant: str
    role: Role
    name: str
    agent_id: str | None = None
    token_id: int | None = None
    system: bool = False

    @property
    def is_system(self) -> bool:
        """True for a system admin, who manages tenants and every tenant's tokens."""
        return self.system or (self.tenant == SYSTEM_TENANT and self.role == "admin")


def expired(expires_at: datetime | None, now: datetime | None = None) -> bool:
    """True once a token's expiry has passed."""
    return expires_at is not None and expires_at <= (now or utcnow())


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
        await session.execute(
            select(AgentRow.id, AgentRow.name, AgentRow.tenant).where(AgentRow.token_hash == digest)
        )
    ).one_or_none()
    if agent is not None:
        return Principal(tenant=agent.tenant, role="agent", name=agent.name, agent_id=agent.id)
    issued = (
        await session.execute(
            select(ApiTokenRow).where(
                ApiTokenRow.token_hash == digest, ApiTokenRow.revoked_at.is_(None)
            )
        )
    ).scalar_one_or_none()
    if issued is None or issued.role not in ROLES or expired(issued.expires_at):
        return None
    return Principal(
        tenant=issued.tenant,
        role=issued.role,  # type: ignore[arg-type]
        name=issued.name,
        token_id=issued.id,
    )
