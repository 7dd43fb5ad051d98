"""``POST /v1/agents/a2a``: a remote A2A agent becomes a MODX agent, each skill a capability.

MODX fetches the Agent Card at ``card_url`` (egress-checked), checks it (the A2A spec's
required fields, a JSON-RPC interface whose URL egress allows, at least one skill), and
registers an agent with ``transport: "a2a"`` whose capabilities are the skills:
``a2a.<name>.<skill id>``, or the skill's own id when it is already a dotted capability name
(another MODX's ``legal.infer``). Their descriptions and tags feed discovery; their input
schemas come from MODX's skill-schema extension when the card has it (any object otherwise). A
card URL that does not answer, or a card that is not a valid Agent Card, is a 422 naming
``$.card_url``. ``headers`` (the agent's credentials, e.g. ``Authorization``) go with the card's
fetch and every JSON-RPC call; they are stored with the agent and never shown.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from a2a.types import AgentCard as A2aCard
from fastapi import APIRouter
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services import metrics
from services.api.deps import RegistrarDep, RuntimeDep, WriteSessionDep
from services.api.errors import ApiError
from services.db.models import SYSTEM_TENANT
from services.egress import EgressRefused
from services.interop.a2a_client import (
    CardRefused,
    capability_name,
    fetch_card,
    rpc_interface,
    skill_schemas,
)
from services.orchestrator.remote.a2a import TRANSPORT, A2aDelivery
from services.registry import store
from services.registry.identity import RegistrationRefused
from services.registry.schemas import A2aPeer, AgentCard, CapabilitySpec, check_headers

router = APIRouter(prefix="/v1", tags=["agents"])
log = logging.getLogger(__name__)
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_\-]+")


class A2aRegistration(BaseModel):
    """A remote A2A agent to register: where its card is, and optionally its name here."""

    model_config = ConfigDict(extra="forbid")

    card_url: str = Field(max_length=2000)
    """The URL of the Agent Card (``https://host/.well-known/agent-card.json``)."""
    name: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=100)
    """The agent's name here (default: the card's name, made a name)."""
    shared: bool = False
    """Serve every tenant (system tenant only, as for any agent)."""
    headers: dict[str, Annotated[str, Field(max_length=8000)]] = Field(
        default_factory=dict, max_length=50
    )
    """Sent with every request to the agent (``{"Authorization": "Bearer …"}``); stored with
    the agent and never shown."""

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        return check_headers(value)


class A2aRegistered(BaseModel):
    """The agent an A2A agent became."""

    agent_id: str
    name: str
    card_url: str
    endpoint: str
    """The JSON-RPC URL MODX sends steps to."""
    streaming: bool
    capabilities: list[str]


def _refuse(message: str, field: str = "card_url") -> ApiError:
    path = f"$.{field}"
    details = [{"path": path, "in": "body", "message": message}]
    return ApiError(422, "invalid_request", f"{path}: {message}", details)


def _name(body: A2aRegistration, card: A2aCard) -> str:
    if body.name is not None:
        return body.name
    name = _NOT_A_NAME.sub("-", card.name).strip("-_")
    if not name or not name[0].isalpha():
        name = f"a2a-{name}".rstrip("-")
    return name[:100]


@router.post("/agents/a2a", status_code=201, response_model=A2aRegistered)
async def register_a2a(
    body: A2aRegistration, principal: RegistrarDep, runtime: RuntimeDep, session: WriteSessionDep
) -> A2aRegistered:
    """Register the A2A agent whose Agent Card is at ``card_url`` as an agent of the caller's
    tenant."""
    try:
        peer = A2aPeer(card_url=body.card_url)
        await runtime.egress.check_url(peer.card_url)
    except (ValueError, EgressRefused) as exc:
        raise _refuse(str(exc).splitlines()[-1] if str(exc) else "not a usable URL") from None
    delivery = runtime.remote.deliveries.get(TRANSPORT)
    assert isinstance(delivery, A2aDelivery)
    try:
        card = await fetch_card(delivery.http, peer.card_url, body.headers)
    except CardRefused as exc:
        raise _refuse(str(exc)) from None
    interface = rpc_interface(card)
    assert interface is not None  # fetch_card checked it
    try:
        await runtime.egress.check_url(interface.url)
    except EgressRefused as exc:
        raise _refuse(f"the card's JSON-RPC URL {interface.url}: {exc}") from None
    name = _name(body, card)
    schemas = skill_schemas(card)
    shared = body.shared and (principal.is_system or principal.tenant == SYSTEM_TENANT)
    capabilities: list[CapabilitySpec] = []
    skills: dict[str, str] = {}
    for skill in card.skills:
        capability = capability_name(name, skill)
        if capability in skills:
            continue  # two skill ids that make one name: the first serves it
        skills[capability] = skill.id
        schema = schemas.get(skill.id, {})
        words = " ".join([skill.description or skill.name or skill.id, *skill.tags])
        capabilities.append(
            CapabilitySpec(
                name=capability,
                description=words[:4000],
                input_schema=schema.get("inputSchema") or {},
                output_schema=schema.get("outputSchema") or {},
                shared=shared,
            )
        )
    try:
        modx_card = AgentCard(
            name=name,
            version=card.version[:50] or "0.0.0",
            description=card.description[:4000],
            transport=TRANSPORT,
            endpoint=interface.url,
            a2a=A2aPeer(
                card_url=peer.card_url,
                card=json_format.MessageToDict(card),
                skills=skills,
                headers=body.headers,
            ),
            capabilities=capabilities,
        )
    except ValueError as exc:
        raise _refuse(f"the card cannot be registered: {exc}") from None
    async with session.begin():
        try:
            agent, _ = await store.enroll(session, modx_card, principal.tenant, runtime.settings)
        except RegistrationRefused as exc:
            # A refused skill schema is the peer's card's (found at card_url), not this body's.
            path = "$.card_url" if (exc.field or "").startswith("capabilities") else "$.name"
            raise ApiError(exc.status, exc.code, f"{path}: {exc.message}") from None
    runtime.orchestrator.engine.router.invalidate()
    runtime.orchestrator.authenticator.forget(agent.id)
    metrics.AGENTS_REGISTERED.inc()
    log.info(
        "A2A agent %s registered as agent %s (%d skills)", peer.card_url, agent.id, len(skills)
    )
    return A2aRegistered(
        agent_id=agent.id,
        name=name,
        card_url=peer.card_url,
        endpoint=interface.url,
        streaming=card.capabilities.streaming,
        capabilities=list(skills),
    )
