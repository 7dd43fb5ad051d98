"""SQLAlchemy 2.0 models of the tables in DESIGN.md ("State").

The same models serve PostgreSQL (asyncpg) and SQLite (aiosqlite): JSON becomes JSONB on
PostgreSQL, and timestamps are always stored and returned as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY, so BIGINT ids are INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


DEFAULT_TENANT = "default"
"""The tenant of everything in a single-tenant deployment (and of the settings' tokens)."""
SYSTEM_TENANT = "system"
"""The tenant whose admins manage the others."""


def tenant_column(*, index: bool = False) -> Mapped[str]:
    """The tenant a row belongs to (``services/tenancy.py`` says what that scopes)."""
    return mapped_column(String(64), default=DEFAULT_TENANT, index=index)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (Alembic needs them)."""

    metadata = MetaData(naming_convention=NAMING)


class AgentRow(Base):
    """A registered agent and its lease."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = tenant_column(index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    transport: Mapped[str] = mapped_column(String(10))
    endpoint: Mapped[str | None] = mapped_column(Text)
    public_key: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    card: Mapped[dict[str, Any]] = mapped_column(JsonType)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    in_flight: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class CapabilityRow(Base):
    """One capability that one agent serves."""

    __tablename__ = "capabilities"
    # GIN on PostgreSQL: discovery's concept filters (jsonb ?|) read only the matching rows.
    # SQLite matches with json_each, which no index serves; it gets a plain index, unused, so
    # that both databases keep the same schema (tests/services/test_migrations.py).
    __table_args__ = (
        Index("ix_capabilities_produces", "produces", postgresql_using="gin"),
        Index("ix_capabilities_consumes", "consumes", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    input_schema: Mapped[dict[str, Any]] = mapped_column(JsonType)
    output_schema: Mapped[dict[str, Any]] = mapped_column(JsonType)
    consumes: Mapped[list[str]] = mapped_column(JsonType)
    produces: Mapped[list[str]] = mapped_column(JsonType)
    idempotent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Served to every tenant, not only the agent's own (only the system tenant may share).
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


class WorkflowDefinitionRow(Base):
    """A named, versioned workflow definition."""

    __tablename__ = "workflow_definitions"
    __table_args__ = (UniqueConstraint("tenant", "name", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = tenant_column()
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RunRow(Base):
    """A workflow run; ``definition`` is the frozen copy the run executes."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_status_created", "status", "created_at"),
        Index("ix_runs_tenant_created", "tenant", "created_at"),
        # A2A's ListTasks: a tenant's tasks, last updated first
        Index("ix_runs_tenant_updated", "tenant", "updated_at"),
        # The sweep's question (which running runs are past their deadline): entries of
        # running runs only, so it reads those past due, not every run in flight.
        Index(
            "ix_runs_running_deadline",
            "deadline_at",
            postgresql_where=text("status = 'running'"),
            sqlite_where=text("status = 'running'"),
        ),
        UniqueConstraint("tenant", "idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = tenant_column()
    workflow_name: Mapped[str] = mapped_column(String(200), index=True)
    workflow_version: Mapped[int | None] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JsonType)
    input: Mapped[Any] = mapped_column(JsonType, nullable=True)
    output: Mapped[Any] = mapped_column(JsonType, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    goal: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    retry_of: Mapped[str | None] = mapped_column(String(36), index=True)
    # A sub-workflow's run: the run and step that started it (services.orchestrator.steps).
    parent_run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    parent_step_id: Mapped[str | None] = mapped_column(String(200))
    # The run a sub-workflow's chain started from, to count a tree's runs (MODX_MAX_TREE_RUNS).
    root_run_id: Mapped[str | None] = mapped_column(String(36))
    # On a root: how many runs its tree holds, itself included (None: itself only).
    tree_runs: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ledger_seq: Mapped[int] = mapped_column(Integer, default=0)
    ledger_head: Mapped[str] = mapped_column(String(64), default="")
    # Bumped by every transaction that changes the run or its steps: a replica holding the run
    # in memory reloads it when the version it locked is not the one it holds.
    version: Mapped[int] = mapped_column(Integer, default=0)


class StepRow(Base):
    """One step of a run; a ``for_each`` step has one row per item (``fan[3]``)."""

    __tablename__ = "steps"
    # Load per agent (routing, the agents page) and "runs an agent served" (run list filter).
    __table_args__ = (Index("ix_steps_agent_status", "agent_id", "status"),)

    run_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    step_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(200))
    item_index: Mapped[int | None] = mapped_column(Integer)
    capability: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    input: Mapped[Any] = mapped_column(JsonType, nullable=True)
    output: Mapped[Any] = mapped_column(JsonType, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(36))
    task_id: Mapped[str | None] = mapped_column(String(36))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class EventRow(Base):
    """Append-only history: every transition and every envelope of a run, in order.

    On PostgreSQL the table is partitioned by month of ``created_at`` (``services.db.partitions``)
    and its primary key is ``(id, created_at)``; ``id`` stays unique (one sequence).
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_run_id_id", "run_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(String(36))
    step_id: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(50))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    attempt: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[str | None] = mapped_column(String(36))
    envelope_id: Mapped[str | None] = mapped_column(String(36), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxRow(Base):
    """An envelope committed with the transition that caused it, waiting for the relay."""

    __tablename__ = "outbox"

    # The envelope's id: time-ordered (UUIDv7), and known before the insert (no RETURNING).
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    destination: Mapped[str] = mapped_column(String(300))
    envelope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LedgerEntryRow(Base):
    """A hash-chained record of a run's results; ``GET /v1/ledger/verify`` walks the chains.

    Partitioned like ``events`` on PostgreSQL. A partitioned table's unique keys must hold the
    partition key, hence ``created_at`` in the unique key: a second entry at a run's ``seq`` is
    kept out by the run's version check (one writer per run version) and reported by verify.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("run_id", "seq", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Ed25519 by the ledger key over the hash (``services.ledger.format``); entries written
    # before entries were signed have none, and verify reports them.
    signature: Mapped[str | None] = mapped_column(String(88))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerCheckpointRow(Base):
    """A signed head of the Merkle tree over the chains' heads (``services.ledger.checkpoints``).

    Also published, line by line, to an append-only file outside the database.
    """

    __tablename__ = "ledger_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(64))
    prev: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[str] = mapped_column(String(40))  # signed as written: ISO 8601 text
    signature: Mapped[str] = mapped_column(String(88))
    # The highest ledger_entries.id this checkpoint read (where the next one starts looking).
    entries_upto: Mapped[int] = mapped_column(BigInteger)


class LedgerLeafRow(Base):
    """A leaf of the checkpoints' Merkle tree: a run's chain length and head when checkpointed."""

    __tablename__ = "ledger_leaves"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(String(64))


class ArchivedRunRow(Base):
    """A run moved out to an archive by ``modx db archive``: its chain's length and head, signed
    by the ledger key, so that verify accepts the checkpoint leaves of a run no longer here."""

    __tablename__ = "archived_runs"

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ledger_seq: Mapped[int] = mapped_column(Integer)
    ledger_head: Mapped[str] = mapped_column(String(64))
    archive: Mapped[str] = mapped_column(String(200))  # the archive's name (its directory)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signature: Mapped[str] = mapped_column(String(88))


class TenantRow(Base):
    """A tenant: a team whose runs, workflows and agents the others never see."""

    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiTokenRow(Base):
    """An API token of a tenant with a role, stored as a SHA-256 hash (shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(
        String(64), ForeignKey("tenants.name", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReplicaRow(Base):
    """An orchestrator replica's membership lease (``services.orchestrator.ownership``)."""

    __tablename__ = "orchestrator_replicas"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    # Every replica must split runs into the same number of partitions; each says its own.
    partitions: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class A2aTaskRow(Base):
    """What MODX keeps of an A2A task beside its run (``services/interop/a2a_tasks.py``): the
    client's context id, and the question of a task that asks which skill before any run
    exists. The task's id is its run's id once the run starts."""

    __tablename__ = "a2a_tasks"
    __table_args__ = (Index("ix_a2a_tasks_tenant_context", "tenant", "context_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = tenant_column()
    context_id: Mapped[str] = mapped_column(String(200))
    # While no run exists: {"text", "question", "candidates"}; None for a task that is a run.
    ask: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    # The client's messages while it asks (A2A message JSON), for the task's history.
    history: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
