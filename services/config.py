"""Service settings, read once from the environment (prefix ``MODX_``) and checked."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bus.transport import DEFAULT_MAX_ENTRY_BYTES
from services.orchestrator.limits import Limits

WEAK_TOKENS = {"changethis", "changeme", "secret", "token", "password"}


def token_problem(value: str) -> str | None:
    """Why ``value`` cannot be a token, or None."""
    if value.lower() in WEAK_TOKENS or len(value) < 16:
        return "tokens must be at least 16 characters and not a placeholder"
    return None


def visibility_problem(visibility_timeout_s: float, agent_lease_s: float) -> str | None:
    """Why a visibility timeout is too short for an agent lease, or None.

    A dead agent's shared-stream task is claimed by another agent once idle for the visibility
    timeout, as early as two thirds of it after the dead agent's last renewal; its taker's
    answers count only once the dead agent's lease ran out (docs/guarantees.md)."""
    if visibility_timeout_s > 1.5 * agent_lease_s:
        return None
    return (
        f"MODX_VISIBILITY_TIMEOUT_S ({visibility_timeout_s:g} s) must be more than 1.5 times "
        f"MODX_AGENT_LEASE_S ({agent_lease_s:g} s): a dead agent's task could be taken by "
        "another agent while the dead one's lease still holds, and the taker's answers refused"
    )


class Settings(BaseSettings):
    """Everything the API, the orchestrator and the relay need to start.

    Embedded mode is the default: SQLite under ``data_dir`` and the in-process bus. Setting
    ``MODX_DATABASE_URL`` and ``MODX_REDIS_URL`` switches to the distributed mode.
    """

    model_config = SettingsConfigDict(env_prefix="MODX_", extra="ignore")

    data_dir: Path = Path(".modx")
    database_url: str | None = None
    redis_url: str | None = None
    # PostgreSQL: the connections each replica keeps open for the API and the orchestrator,
    # and how many more it may open at a peak (closed as soon as they are returned: under
    # bursts, a connect and a new backend per request past ``database_pool_size``). Requests
    # past both wait for a returned connection, up to ``database_pool_timeout_s``. PostgreSQL's
    # max_connections must cover replicas x (pool size + overflow + 4 for the writer).
    database_pool_size: int = Field(default=40, ge=1)
    database_max_overflow: int = Field(default=0, ge=0)
    database_pool_timeout_s: float = Field(default=30.0, gt=0)
    host: str = "127.0.0.1"
    port: int = 8000
    api_token: str | None = Field(default=None, repr=False)
    admin_token: str | None = Field(default=None, repr=False)

    # The ledger (docs/ledger.md): its key signs every entry and every checkpoint.
    ledger_key: SecretStr | None = None
    """The ledger's Ed25519 private key (base64 of its 32 raw bytes). Every replica needs the
    same one; it never goes into the database."""
    ledger_key_file: Path | None = None
    """A file holding that key; embedded mode creates ``<data_dir>/ledger.key`` on first start."""
    insecure_ledger_key: bool = False
    """Development only: distributed mode may create its ledger key under ``data_dir`` (each
    replica its own, so their entries do not verify against one key)."""
    ledger_checkpoint_interval_s: float = Field(default=60.0, gt=0)
    ledger_checkpoint_file: Path | None = None
    """The append-only file checkpoints are published to; default
    ``<data_dir>/ledger-checkpoints.jsonl``."""
    ledger_checkpoint_url: str | None = None
    """Each new checkpoint is also POSTed (as JSON) to this URL, when set."""
    # Failed token checks and logins allowed per window, per client address and overall
    # (services/throttle.py); past them the API answers 429 with Retry-After.
    auth_fail_per_address: int = Field(default=10, ge=1)
    auth_fail_overall: int = Field(default=300, ge=1)
    auth_fail_window_s: float = Field(default=60.0, gt=0)
    # Issued tokens' principals are cached while no token is revoked or rotated (the token
    # epoch, services/throttle.py), this many seconds at most: the bound for a change made
    # behind MODX's back (docs/tenants.md). 0 reads the database on every request.
    auth_cache_s: float = Field(default=30.0, ge=0)
    # The latest version of a workflow started by name is kept while no definition is
    # registered (the definitions epoch, services/throttle.py), this many seconds at most:
    # the bound for a change made behind MODX's back. 0 reads it at every start.
    definition_cache_s: float = Field(default=30.0, ge=0)
    # How often the times tokens were last used are written (one statement for all of them).
    token_last_used_flush_s: float = Field(default=10.0, gt=0)
    # /metrics answers only a system admin or a token of the system tenant; false opens it.
    metrics_require_token: bool = True
    # /docs, /redoc and /openapi.json; false removes them.
    docs_enabled: bool = True

    max_request_bytes: int = 2 * 1024 * 1024
    heartbeat_interval_s: float = 5.0
    agent_lease_s: float = 15.0
    default_step_timeout_s: float = 300.0
    visibility_timeout_s: float = 30.0
    # Development only: let the visibility timeout be 1.5 times the agent lease or less (a
    # killed agent's task may then be claimed while its lease still holds, and the taker's
    # answers refused: docs/guarantees.md). Logged as a warning at start.
    allow_short_visibility_timeout: bool = False
    # A task on the bus that no agent has answered or announced within this time, and that
    # the bus no longer holds, is delivered again (docs/guarantees.md).
    claim_timeout_s: float = 10.0
    max_deliveries: int = 5
    outbox_poll_s: float = 0.5
    scheduler_poll_s: float = 1.0
    # The most changes to runs the orchestrator's writer applies in one transaction: its group
    # commit takes whatever is queued, up to this many (``services.orchestrator.service``).
    writer_max_batch: int = Field(default=256, ge=1)
    # Open gateway connections of one agent on one API process: the SDK holds one (two for a
    # moment while it reconnects); each costs the server a task and Redis connections.
    gateway_connections_per_agent: int = Field(default=4, ge=1)
    # Gateway subscriptions of one tenant's agents on one API process: each is a consumer of
    # the server's (two Redis connections when distributed, out of Redis's shared maxclients).
    gateway_subscriptions_per_tenant: int = Field(default=256, ge=1)
    # The largest gateway frame (an agent's answer rides in one, up to max_answer_bytes):
    # uvicorn's WebSocket limit when MODX serves, and checked again on each frame.
    gateway_max_frame_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # Each HTTP request (head and body) must arrive whole within this many seconds of its
    # first byte, or its connection is closed: uvicorn alone waits for ever (slowloris).
    http_request_read_timeout_s: float = Field(default=30.0, gt=0)
    # The largest request head (request line and headers): past it a 431, and the connection
    # is closed (httptools alone reads heads of any size; agents/sdk/http_protocol.py).
    http_max_head_bytes: int = Field(default=64 * 1024, ge=1024)
    # Open HTTP connections of the process (never more than its descriptor limit leaves), and of
    # one client address (0: no bound; behind a proxy every client has the proxy's address):
    # past either, a 503 and the connection is closed (agents/sdk/http_protocol.py).
    http_max_connections: int = Field(default=8192, ge=1)
    http_max_connections_per_address: int = Field(default=512, ge=0)
    # Run streams and waits (GET /v1/runs/{id}/stream, /wait) open at once on one API process,
    # per token and per tenant: each is a socket and a task for up to an hour.
    open_streams_per_token: int = Field(default=256, ge=1)
    open_streams_per_tenant: int = Field(default=1024, ge=1)
    http_dispatch_timeout_s: float = 30.0
    # Deliveries to remote agents (HTTP, MCP, A2A) in flight at once: to one, and to all.
    http_dispatch_per_agent: int = Field(default=8, ge=1)
    # ...and to the agents of one tenant: its slow agents leave the other tenants the rest.
    http_dispatch_per_tenant: int = Field(default=32, ge=1)
    http_dispatch_total: int = Field(default=64, ge=1)
    egress_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """CIDRs and host names HTTP agents' endpoints may reach besides public addresses
    (``services.egress``); comma-separated in ``MODX_EGRESS_ALLOW``."""
    mcp_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Browser origins (``https://host[:port]``) whose pages may call ``/mcp``; a request
    with any other ``Origin`` is a 403 (``services.interop.mcp_origin``); comma-separated in
    ``MODX_MCP_ALLOWED_ORIGINS``."""
    max_for_each_items: int = Field(default=100_000, ge=1)
    max_run_items: int = Field(default=200_000, ge=1)
    max_workflow_steps: int = Field(default=1_000, ge=1, le=100_000)
    max_input_bytes: int = Field(default=1024 * 1024, ge=1)
    for_each_window: int = Field(default=1_000, ge=1, le=100_000)
    max_run_depth: int = Field(default=10, ge=1, le=1_000)
    max_tree_runs: int = Field(default=10_000, ge=1)
    max_answer_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # The largest bus entry the server keeps where agents may append (results streams and
    # their capabilities' dead-letter streams): an answer of max_answer_bytes rides in one, as
    # in a gateway frame. Larger ones are removed and dead-lettered without their data.
    bus_max_entry_bytes: int = Field(default=DEFAULT_MAX_ENTRY_BYTES, ge=1024)
    mcp_start_timeout_s: float = Field(default=15.0, gt=0)
    """How long an MCP server has to start and answer ``initialize``."""
    a2a_timeout_s: float = Field(default=300.0, gt=0)
    """A2A agents: how long MODX waits for a card, or for the next event of a streamed task."""
    a2a_heartbeat_timeout_s: float = Field(default=30.0, ge=0)
    """A step on an A2A agent that sets no ``heartbeat_timeout_s`` gets this one (0: none): the
    process that follows its remote task beats every 5 s, so a dead one is noticed and the
    task followed again by another (docs/interop.md)."""
    http_reply_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    orchestrator_id: str | None = None
    # Runs are split into this many partitions, shared out among the live replicas (each run
    # has one owner); the same on every replica, and never lowered while runs are unfinished.
    result_partitions: int = Field(default=12, ge=1, le=1024)
    # A replica that stops renewing its membership lease loses its runs after this long.
    replica_lease_s: float = Field(default=10.0, gt=0)

    @field_validator("egress_allow", "mcp_allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # Identity and integrity (docs/protocol.md, "Signatures").
    orchestrator_key: SecretStr | None = None
    """The orchestrator's Ed25519 private key (base64); it signs tasks and the answers the
    server relays for agents that hold no bus key. Every replica needs the same one."""
    orchestrator_key_file: Path | None = None
    """A file holding that key; default ``<data_dir>/orchestrator.key``, created on first start."""
    insecure_agents: bool = False
    """Development only: bus agents may register without a key and their envelopes go
    unchecked. ``/readyz`` and the dashboard say so while it is on."""
    clock_skew_s: float = Field(default=300.0, gt=0)
    """An agent's envelope whose ``created_at`` is further than this from the server's clock
    is refused (its replay window)."""
    agent_acl: bool = True
    """On Redis, each bus agent gets its own ACL user (its task streams, results only)."""

    @field_validator("api_token", "admin_token")
    @classmethod
    def _refuse_weak_tokens(cls, value: str | None) -> str | None:
        problem = None if value is None else token_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _answers_fit_on_the_bus(self) -> Settings:
        # An answer the orchestrator would accept must not be removed from the bus unread.
        if self.bus_max_entry_bytes <= self.max_answer_bytes:
            raise ValueError(
                f"MODX_BUS_MAX_ENTRY_BYTES ({self.bus_max_entry_bytes}) must be larger than "
                f"MODX_MAX_ANSWER_BYTES ({self.max_answer_bytes}): an answer rides in one entry"
            )
        return self

    @model_validator(mode="after")
    def _visibility_past_lease(self) -> Settings:
        problem = visibility_problem(self.visibility_timeout_s, self.agent_lease_s)
        if problem is not None and not self.allow_short_visibility_timeout:
            raise ValueError(
                f"{problem}; set MODX_ALLOW_SHORT_VISIBILITY_TIMEOUT=1 to run so anyway "
                "(development only)"
            )
        return self

    @cached_property
    def limits(self) -> Limits:
        """How much work one request may ask for (``services.orchestrator.limits``)."""
        return Limits(
            max_for_each_items=self.max_for_each_items,
            max_run_items=self.max_run_items,
            max_workflow_steps=self.max_workflow_steps,
            max_input_bytes=self.max_input_bytes,
            for_each_window=self.for_each_window,
            max_run_depth=self.max_run_depth,
            max_tree_runs=self.max_tree_runs,
            max_answer_bytes=self.max_answer_bytes,
        )

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'modx.db'}"

    @cached_property
    def bus_url(self) -> str:
        """The transport URL: Redis when configured, the in-process bus otherwise."""
        return self.redis_url or "memory://"

    @cached_property
    def resolved_checkpoint_file(self) -> Path:
        """Where checkpoints are published."""
        return self.ledger_checkpoint_file or self.data_dir / "ledger-checkpoints.jsonl"

    @property
    def embedded(self) -> bool:
        """True when both state and bus live in this process."""
        return self.redis_url is None
