"""The agent card and the registry's API shapes (input and output kept apart)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bus.streams import DLQ_SUFFIX
from services.db.ranges import Count
from services.orchestrator.definitions import CAPABILITY_PATTERN


class CapabilitySpec(BaseModel):
    """One capability in an agent card."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=CAPABILITY_PATTERN, max_length=200)
    description: str = Field(default="", max_length=4000)
    input_schema: dict[str, Any] = Field(default_factory=dict)
    output_schema: dict[str, Any] = Field(default_factory=dict)
    consumes: list[str] = Field(default_factory=list, max_length=50)
    produces: list[str] = Field(default_factory=list, max_length=50)
    idempotent: bool = False
    shared: bool = Field(
        default=False,
        description="serve every tenant, not only the agent's own (system tenant only)",
    )

    @model_validator(mode="after")
    def _not_a_dead_letter_stream(self) -> CapabilitySpec:
        # Its task stream would be the dead-letter stream of the capability without ".dlq".
        if self.name.endswith(DLQ_SUFFIX):
            raise ValueError(f"a capability name cannot end in {DLQ_SUFFIX!r}")
        return self


class RegistrationProof(BaseModel):
    """Proof that the registering agent holds the private key of its card's ``public_key``:
    its signature over ``bus.signing.registration_bytes(name, public_key, signed_at)``."""

    model_config = ConfigDict(extra="forbid")

    signed_at: str = Field(max_length=64)
    """ISO 8601, exactly as signed."""
    signature: str = Field(max_length=200)


class AgentCard(BaseModel):
    """What an agent says about itself when it registers (DESIGN.md)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    version: str = Field(default="0.0.0", max_length=50)
    description: str = Field(default="", max_length=4000)
    transport: Literal["bus", "http", "gateway"] = "bus"
    endpoint: str | None = Field(default=None, max_length=2000)
    public_key: str | None = Field(default=None, max_length=2000)
    capabilities: list[CapabilitySpec] = Field(min_length=1, max_length=500)
    proof: RegistrationProof | None = None
    """Needed to take a name that a live agent holds (a restart, another instance)."""

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_a_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            # URL parsers drop CR, LF and tabs silently; a request line must never carry them.
            raise ValueError("an endpoint URL has no spaces or control characters")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a port that is not a number in range
        except ValueError:
            raise ValueError("the endpoint is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an endpoint is an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("an endpoint URL carries no credentials")
        return value

    @model_validator(mode="after")
    def _http_needs_endpoint(self) -> AgentCard:
        if self.transport == "http" and not (self.endpoint or "").startswith(
            ("http://", "https://")
        ):
            raise ValueError("an http agent needs an endpoint URL (http:// or https://)")
        names = [cap.name for cap in self.capabilities]
        if len(names) != len(set(names)):
            raise ValueError("capability names must be unique within a card")
        return self


class AgentRegistered(BaseModel):
    """The answer to a registration."""

    agent_id: str
    token: str
    heartbeat_interval_s: float
    lease_s: float
    bus_url: str | None = None
    """The bus to consume tasks from; None for agents on the gateway (they never hold it)."""
    shared: list[str] = Field(
        default_factory=list, description="the capabilities shared with every tenant"
    )
    orchestrator_key: str
    """The orchestrator's public key (base64): tasks are signed with it."""


class AgentDraining(BaseModel):
    """The answer to a deregistration: the agent drains, then leaves."""

    agent_id: str
    status: str


class Heartbeat(BaseModel):
    """An agent's heartbeat body."""

    model_config = ConfigDict(extra="forbid")

    in_flight: Count = 0


class HeartbeatAck(BaseModel):
    """The answer to a heartbeat."""

    status: str
    lease_expires_at: datetime


class CapabilityPublic(BaseModel):
    """A capability as discovery shows it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    consumes: list[str]
    produces: list[str]
    idempotent: bool
    shared: bool = False
    agent_id: str
    agent_name: str
    agent_status: str
    score: float | None = None


class AgentPublic(BaseModel):
    """An agent as the API shows it."""

    agent_id: str
    name: str
    version: str
    description: str
    transport: str
    endpoint: str | None
    status: str
    registered_at: datetime
    last_heartbeat_at: datetime
    lease_expires_at: datetime
    in_flight: int
    capabilities: list[CapabilitySpec]
