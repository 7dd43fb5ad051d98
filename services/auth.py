"""Who is calling: tokens, their tenant and their role.

Every token belongs to a tenant and has a role:

- ``viewer`` reads the tenant's runs, workflows, agents and capabilities;
- ``operator`` also submits, cancels and retries runs, registers workflows and agents;
- ``admin`` does everything within the tenant, tokens included;
- ``agent`` registers agents; a registered agent's own token acts only on its own tasks.

Admins of the ``system`` tenant (and ``MODX_ADMIN_TOKEN``) are system admins: they manage
tenants and every tenant's tokens. Only SHA-256 hashes are stored, so a lookup is an index hit.

The principals of issued tokens are cached (``PrincipalCache``) under the token epoch read with
the throttle's counters (``services.throttle``), which every revoke and rotate changes: a revoked
token is still refused by every replica on its next request, and a token in use costs no
database read. An agent's own token is read each time (agents are deleted by several sweeps).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
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
    found = await identify(session, digest)
    return found[0] if found is not None else None


async def identify(session: AsyncSession, digest: str) -> tuple[Principal, datetime | None] | None:
    """The agent or live issued token whose hash is ``digest``, with the token's expiry."""
    agent = (
        await session.execute(
            select(AgentRow.id, AgentRow.name, AgentRow.tenant).where(AgentRow.token_hash == digest)
        )
    ).one_or_none()
    if agent is not None:
        principal = Principal(tenant=agent.tenant, role="agent", name=agent.name, agent_id=agent.id)
        return principal, None
    table = ApiTokenRow
    issued = (
        await session.execute(
            select(table.id, table.tenant, table.role, table.name, table.expires_at).where(
                table.token_hash == digest, table.revoked_at.is_(None)
            )
        )
    ).one_or_none()
    if issued is None or issued.role not in ROLES or expired(issued.expires_at):
        return None
    principal = Principal(
        tenant=issued.tenant, role=issued.role, name=issued.name, token_id=issued.id
    )
    return principal, issued.expires_at


@dataclass(frozen=True)
class _Cached:
    principal: Principal
    epoch: int
    expires_at: datetime | None  # the token's own expiry
    read_at: float  # monotonic


class PrincipalCache:
    """Issued tokens' principals by hash, each valid while the token epoch it was read in holds
    (see the module), until its token expires, and for ``max_age_s`` at most: the bound for a
    change the epoch did not announce (a row edited by hand, a revoke whose epoch change failed
    after its commit). ``max_age_s=0`` turns the cache off."""

    def __init__(
        self,
        max_age_s: float,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age_s = max_age_s
        self._size = size
        self._clock = clock
        self._entries: dict[str, _Cached] = {}

    def get(self, digest: str, epoch: int) -> Principal | None:
        """The principal cached for ``digest`` if it is still good under ``epoch``."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if (
            entry.epoch != epoch
            or self._clock() - entry.read_at >= self.max_age_s
            or expired(entry.expires_at)
        ):
            del self._entries[digest]
            return None
        return entry.principal

    def put(
        self, digest: str, epoch: int, principal: Principal, expires_at: datetime | None
    ) -> None:
        """Remember an issued token's principal, read from the database under ``epoch`` (read
        before the database: a change committed in between moves the epoch on after it)."""
        if not epoch or not self.max_age_s or principal.token_id is None:
            return  # no epoch yet, the cache is off, or an agent's token
        if len(self._entries) >= self._size:
            self._entries.clear()  # tokens in use come back at their next request
        self._entries[digest] = _Cached(principal, epoch, expires_at, self._clock())

    def clear(self) -> None:
        """Forget every principal (this process changed a token)."""
        self._entries.clear()
