"""Registry routes: agents register, heartbeat and leave; clients discover capabilities."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bus.signing import public_key_to_str
from services import metrics
from services.api.deps import (
    AgentDep,
    PrincipalDep,
    ReaderDep,
    RegistrarDep,
    RuntimeDep,
    SessionDep,
    WriteSessionDep,
)
from services.api.errors import ApiError, not_found
from services.auth import Principal
from services.db.models import SYSTEM_TENANT, AgentRow
from services.discovery.search import discover, discovery_of
from services.egress import EgressRefused
from services.orchestrator.holding import DEREGISTERED_WHY
from services.registry import store, where
from services.registry.bus_access import audience
from services.registry.identity import RegistrationRefused
from services.registry.schemas import (
    AgentCard,
    AgentDraining,
    AgentPublic,
    AgentRegistered,
    BusPublic,
    Heartbeat,
    HeartbeatAck,
)

router = APIRouter(prefix="/v1", tags=["agents"])
log = logging.getLogger(__name__)


def agent_public(agent: AgentRow, in_flight: int) -> AgentPublic:
    """The API view of an agent."""
    card = AgentCard.model_validate(agent.card)
    return AgentPublic(
        agent_id=agent.id,
        name=agent.name,
        version=agent.version,
        description=agent.description,
        transport=agent.transport,
        endpoint=agent.endpoint,
        protocol=where.protocol(agent.transport),
        location=where.location(agent.transport, agent.endpoint, agent.card),
        status=agent.status,
        registered_at=agent.registered_at,
        last_heartbeat_at=agent.last_heartbeat_at,
        lease_expires_at=agent.lease_expires_at,
        in_flight=in_flight,
        capabilities=card.capabilities,
    )


@router.get("/bus", response_model=BusPublic)
async def bus(principal: RegistrarDep, runtime: RuntimeDep) -> BusPublic:
    """Which bus this server has, for an agent choosing how to take its tasks before it
    registers (the SDK's ``auto`` transport): an agent of another process cannot reach an
    in-process bus, and registers once, for the gateway, instead of twice."""
    url = runtime.settings.bus_url
    if url.startswith("memory:"):
        return BusPublic(kind="memory", url=url)
    return BusPublic(kind="redis")


@router.post("/agents", status_code=201, response_model=AgentRegistered)
async def register(
    card: AgentCard, principal: RegistrarDep, runtime: RuntimeDep, session: WriteSessionDep
) -> AgentRegistered:
    """Register an agent of the caller's tenant; the answer carries the agent's own token.

    Capabilities marked ``shared`` serve every tenant when the caller belongs to the system
    tenant (or is a system admin); otherwise they serve the caller's tenant only, and
    ``shared`` in the answer (the capabilities actually shared) says so.

    A bus agent's card has a ``public_key``; a name an online agent of the tenant holds is
    taken only with that agent's key and a ``proof`` (``services.registry.identity``). The
    answer's ``bus_url`` carries the agent's own Redis user.
    """
    settings = runtime.settings
    if card.transport in ("mcp", "a2a"):
        # An MCP card names a command to run, an A2A card is what MODX fetched from the peer:
        # only their own routes check who may do that, and fetch the card.
        kind = "an MCP server" if card.transport == "mcp" else "an A2A agent"
        message = f"{kind} is registered with POST /v1/agents/{card.transport}"
        details = [{"path": "$.transport", "in": "body", "message": message}]
        raise ApiError(422, "invalid_request", f"$.transport: {message}", details)
    card = card.model_copy(update={"inbox_only": []})  # the server's to say (below)
    may_share = principal.is_system or principal.tenant == SYSTEM_TENANT
    if not may_share and any(cap.shared for cap in card.capabilities):
        log.warning(
            "agent %s asked to share capabilities, but tenant %s may not: kept to the tenant",
            card.name,
            principal.tenant,
        )
        card = card.model_copy(
            update={
                "capabilities": [c.model_copy(update={"shared": False}) for c in card.capabilities]
            }
        )
    if card.transport == "http" and card.endpoint is not None:
        try:
            await runtime.egress.check_url(card.endpoint)
        except EgressRefused as exc:
            raise ApiError(
                422,
                "invalid_request",
                f"$.endpoint: {exc}",
                [{"path": "$.endpoint", "in": "body", "message": str(exc)}],
            ) from None
    async with session.begin():
        try:
            agent, token = await store.enroll(session, card, principal.tenant, settings)
        except RegistrationRefused as exc:
            path = f"$.{exc.field}" if exc.field else "$"
            details = [{"path": path, "in": "body", "message": exc.message}]
            raise ApiError(exc.status, exc.code, f"{path}: {exc.message}", details) from None
        # Only a bus agent reaches the bus, with a user of its own: an HTTP or gateway agent
        # gets no URL (the server's own, credentials and all, went to every HTTP agent).
        bus_url: str | None = None
        inbox_only: list[str] = []
        audiences = {c.name: audience(principal.tenant, c.shared) for c in card.capabilities}
        if card.transport == "bus":
            # Inside the transaction: an agent whose user could not be made is not registered.
            granted = await runtime.access.grant(agent.id, audiences)
            bus_url, inbox_only = granted.bus_url, granted.inbox_only
        elif card.transport == "gateway":  # the gateway reads the streams for it, by this
            inbox_only = await runtime.access.claim(audiences)
        if inbox_only:  # routing reads it: these tasks go to the agent's inbox
            agent.card = {**agent.card, "inbox_only": inbox_only}
    runtime.orchestrator.engine.router.invalidate()
    runtime.orchestrator.authenticator.forget(agent.id)
    metrics.AGENTS_REGISTERED.inc()
    return AgentRegistered(
        agent_id=agent.id,
        token=token,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        lease_s=settings.agent_lease_s,
        bus_url=bus_url,
        shared=[cap.name for cap in card.capabilities if cap.shared],
        inbox_only=inbox_only,
        orchestrator_key=public_key_to_str(runtime.orchestrator.authenticator.public_key),
    )


async def _own_agent(session: AsyncSession, principal: Principal, agent_id: str) -> AgentRow:
    # An agent acts for itself only, an admin for its tenant's agents: anything else answers
    # as an agent that is not registered, so that ids of others' agents cannot be probed.
    agent = await store.get_agent(session, agent_id, principal.tenant)
    if principal.role == "agent" and principal.agent_id != agent_id:
        agent = None
    if agent is None:
        raise ApiError(
            404, "agent_unknown", f"agent {agent_id!r} is not registered (register again)"
        )
    return agent


@router.post("/agents/{agent_id}/heartbeat", response_model=HeartbeatAck)
async def heartbeat(
    agent_id: str,
    principal: AgentDep,
    runtime: RuntimeDep,
    session: WriteSessionDep,
    body: Heartbeat | None = None,
) -> HeartbeatAck:
    """Renew the agent's lease."""
    async with session.begin():
        agent = await _own_agent(session, principal, agent_id)
        came_back = agent.status == store.OFFLINE
        await store.heartbeat(
            session, agent, (body or Heartbeat()).in_flight, runtime.settings.agent_lease_s
        )
    if came_back:
        runtime.orchestrator.engine.router.invalidate()
    return HeartbeatAck(status=agent.status, lease_expires_at=agent.lease_expires_at)


@router.delete("/agents/{agent_id}", status_code=202, response_model=AgentDraining)
async def deregister(
    agent_id: str, principal: PrincipalDep, runtime: RuntimeDep, session: WriteSessionDep
) -> AgentDraining:
    """Start draining: no new task goes to the agent; it is removed when its tasks end. Its
    tasks it has not taken (in its inbox, unread or given back) go to others at once, as the
    lease sweep sends those of an agent that died; those it holds or answered stay its own."""
    if principal.role not in ("agent", "admin") or (
        principal.role == "agent" and principal.agent_id is None
    ):
        raise ApiError(403, "forbidden", "an agent deregisters itself (or its tenant's admin)")
    async with session.begin():
        agent = await _own_agent(session, principal, agent_id)
        await store.start_draining(session, agent)
        removed = await store.remove_drained(session)
    await runtime.access.revoke(removed)
    runtime.orchestrator.engine.router.invalidate()
    if agent_id not in removed:  # tasks still out with it
        try:
            await runtime.orchestrator.send_on([agent_id], DEREGISTERED_WHY)
        except Exception:  # its lease running out sends them instead, as before
            log.warning(
                "agent %s deregistered: its tasks wait for its lease", agent_id, exc_info=True
            )
    return AgentDraining(agent_id=agent_id, status=agent.status)


@router.get("/agents", response_model=list[AgentPublic])
async def list_agents(
    principal: ReaderDep, session: SessionDep, status: str | None = None, name: str | None = None
) -> list[AgentPublic]:
    """The tenant's agents with liveness and load."""
    agents = await store.list_agents(session, status=status, name=name, tenant=principal.tenant)
    load = await store.active_tasks(session, [a.id for a in agents])
    return [agent_public(agent, load.get(agent.id, 0)) for agent in agents]


@router.get("/agents/{agent_id}", response_model=AgentPublic)
async def get_agent(agent_id: str, principal: ReaderDep, session: SessionDep) -> AgentPublic:
    """One agent of the tenant."""
    agent = await store.get_agent(session, agent_id, principal.tenant)
    if agent is None:
        raise not_found("agent", agent_id)
    load = await store.active_tasks(session, [agent.id])
    return agent_public(agent, load.get(agent.id, 0))


@router.get("/capabilities")
async def capabilities(
    request: Request,
    principal: ReaderDep,
    runtime: RuntimeDep,
    session: SessionDep,
    q: str | None = Query(default=None, max_length=2000, description="a request in plain words"),
    name: str | None = None,
    produces: str | None = None,
    consumes: str | None = None,
    live: bool = False,
    limit: int = Query(default=100, ge=1, le=1000),
    fuse: bool = Query(
        default=False, description="fuse the embedding ranking with BM25 (reciprocal rank fusion)"
    ),
) -> dict[str, object]:
    """Capabilities of registered agents: by name, by ontology concept (a concept also finds
    its subclasses), and ranked by meaning for ``q`` (``ranking`` says how; see
    ``services/discovery/search.py``). Only those serving the caller's tenant: its own
    agents' and the shared ones."""
    return await discover(
        session,
        discovery_of(request.app.state, runtime),
        q=q,
        name=name,
        produces=produces,
        consumes=consumes,
        live=live,
        limit=limit,
        tenant=principal.tenant,
        fuse=fuse,
    )
