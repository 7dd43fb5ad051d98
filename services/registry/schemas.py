"""The agent card and the registry's API shapes (input and output kept apart)."""

from __future__ import annotations

import re
import shlex
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bus.streams import DLQ_SUFFIX
from services.db.ranges import Count
from services.orchestrator.definitions import CAPABILITY_PATTERN


class RateLimit(BaseModel):
    """At most ``count`` tasks of a capability start per ``per`` (a token bucket)."""

    model_config = ConfigDict(extra="forbid")

    per: Literal["second", "minute", "hour"]
    count: int = Field(ge=1, le=1_000_000)


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
    concurrency: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="at most this many tasks in flight, for all the agents serving it together",
    )
    rate_limit: RateLimit | None = Field(
        default=None, description="at most this many tasks started per period, for all agents"
    )

    @model_validator(mode="after")
    def _not_a_dead_letter_stream(self) -> CapabilitySpec:
        # Reserved: a task stream named like a dead-letter stream misleads whoever reads the
        # bus (dead letters are ``<stream>.dlq``, see bus/streams.py).
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


def _check_url(value: str) -> str:
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        # URL parsers drop CR, LF and tabs silently; a request line must never carry them.
        raise ValueError("a URL has no spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL here carries no credentials")
    return value


_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,200}$")
_HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers MODX may send for a peer: valid names (RFC 9110 tokens), values without control
    characters, none that HTTP itself sets."""
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"{name!r} is not a header name")
        if name.lower() in _HOP_HEADERS:
            raise ValueError(f"the {name} header is HTTP's own")
        if any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in value):
            raise ValueError(f"the {name} header's value holds a control character")
    return headers


class McpServer(BaseModel):
    """How to reach an MCP server: a command MODX starts (stdio) or a streamable-HTTP URL.

    A command runs on the MODX server with its privileges: only a system admin may register
    one (docs/interop.md, "Security"). It runs without a shell, with a minimal environment
    (the MCP SDK's safe variables, e.g. ``PATH`` and ``HOME``, plus ``env``), never the
    server's own (which holds its keys and database URL).
    """

    model_config = ConfigDict(extra="forbid")

    command: list[Annotated[str, Field(min_length=1, max_length=4000)]] | None = Field(
        default=None, min_length=1, max_length=200
    )
    """The program and its arguments (argv, no shell)."""
    env: dict[str, Annotated[str, Field(max_length=8000)]] = Field(
        default_factory=dict, max_length=100
    )
    cwd: str | None = Field(default=None, max_length=4000)
    url: str | None = Field(default=None, max_length=2000)
    headers: dict[str, Annotated[str, Field(max_length=8000)]] = Field(
        default_factory=dict, max_length=50
    )
    """Sent with every request to ``url`` (e.g. the server's own Authorization); never shown."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        return check_headers(value)

    @model_validator(mode="after")
    def _one_way(self) -> McpServer:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either command (stdio) or url (streamable HTTP)")
        if self.url is None and self.headers:
            raise ValueError("headers go with url")
        if self.command is None and (self.env or self.cwd):
            raise ValueError("env and cwd go with command")
        return self

    @property
    def location(self) -> str:
        """Where the server lives, to show: its URL, or ``stdio: <command line>``."""
        if self.url is not None:
            return self.url
        return "stdio: " + shlex.join(self.command or [])


class A2aPeer(BaseModel):
    """A remote A2A agent (``transport: "a2a"``, registered with ``POST /v1/agents/a2a`` only):
    where its Agent Card is, and the card as fetched (what MODX calls it with)."""

    model_config = ConfigDict(extra="forbid")

    card_url: str = Field(max_length=2000)
    card: dict[str, Any] = Field(default_factory=dict)
    """The remote Agent Card (A2A JSON)."""
    skills: dict[str, str] = Field(default_factory=dict)
    """Capability name -> the remote skill's id."""
    headers: dict[str, Annotated[str, Field(max_length=8000)]] = Field(
        default_factory=dict, max_length=50
    )
    """Sent with every request to the agent (its card, JSON-RPC calls), e.g. its own
    ``Authorization``; never shown."""

    @field_validator("card_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        return check_headers(value)


class AgentCard(BaseModel):
    """What an agent says about itself when it registers (DESIGN.md)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    version: str = Field(default="0.0.0", max_length=50)
    description: str = Field(default="", max_length=4000)
    transport: Literal["bus", "http", "gateway", "mcp", "a2a"] = "bus"
    endpoint: str | None = Field(default=None, max_length=2000)
    mcp: McpServer | None = None
    """An MCP server's (``transport: "mcp"``, registered with ``POST /v1/agents/mcp`` only)."""
    a2a: A2aPeer | None = None
    """A remote A2A agent's (``transport: "a2a"``, registered with ``POST /v1/agents/a2a``)."""
    public_key: str | None = Field(default=None, max_length=2000)
    capabilities: list[CapabilitySpec] = Field(min_length=1, max_length=500)
    proof: RegistrationProof | None = None
    """Needed to take a name that a live agent holds (a restart, another instance)."""
    features: list[Annotated[str, Field(max_length=50)]] = Field(
        default_factory=list, max_length=50
    )
    """Envelope fields added after the first protocol version that the agent's SDK knows
    (``bus.envelope.LATER_FIELDS``): tasks carry such a field only to agents that list it."""
    inbox_only: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=500
    )
    """Set by the server at registration (what a card sends is ignored): the capabilities
    whose task stream this agent may not read, another tenant's (``bus_access.grant``)."""

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_a_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @model_validator(mode="after")
    def _http_needs_endpoint(self) -> AgentCard:
        if self.transport == "http" and not (self.endpoint or "").startswith(
            ("http://", "https://")
        ):
            raise ValueError("an http agent needs an endpoint URL (http:// or https://)")
        if (self.transport == "mcp") != (self.mcp is not None):
            raise ValueError('an MCP server\'s card has transport "mcp" and its "mcp" settings')
        if (self.transport == "a2a") != (self.a2a is not None):
            raise ValueError('an A2A agent\'s card has transport "a2a" and its "a2a" settings')
        names = [cap.name for cap in self.capabilities]
        if len(names) != len(set(names)):
            raise ValueError("capability names must be unique within a card")
        return self


class BusPublic(BaseModel):
    """What an agent learns of the server's bus before it registers (``GET /v1/bus``)."""

    kind: Literal["memory", "redis"]
    url: str | None = None
    """The in-process bus's URL (``memory://…``): only a process holding that bus reaches it,
    which an agent in another process cannot, so it registers for the gateway. None for
    Redis: a bus agent gets its URL, with a user of its own, when it registers."""


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
    inbox_only: list[str] = Field(
        default_factory=list,
        description=(
            "capabilities whose task stream another tenant's agents read: their tasks come to "
            "this agent's inbox only, and its bus user may not read that stream"
        ),
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
    protocol: str = "bus"
    """``bus``, ``HTTP``, ``MCP`` or ``A2A``."""
    location: str = ""
    """Where it lives: its URL, ``stdio: <command>``, or the bus (``services.registry.where``)."""
    status: str
    registered_at: datetime
    last_heartbeat_at: datetime
    lease_expires_at: datetime
    in_flight: int
    capabilities: list[CapabilitySpec]
