"""events and ledger_entries partitioned by month of created_at (PostgreSQL); archived_runs

On PostgreSQL each table is rebuilt as a partitioned one: renamed aside, a partitioned twin
made with the same columns and id sequence, a DEFAULT partition and one partition per month
that has rows (and the months ahead), every row copied, the old table dropped, then the keys
and indexes made again. The primary key becomes (id, created_at) and ledger_entries' unique
key (run_id, seq, created_at): a partitioned table's unique keys must hold its partition key.
The copy runs in the migration's transaction, so it takes as long as the history is big.
SQLite is not partitioned; only the unique key changes there, to keep one schema.

Revision ID: 0006_partitioned_history
Revises: 0005_subworkflows
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

import services.db.models
from services.db import partitions

revision = "0006_partitioned_history"
down_revision = "0005_subworkflows"
branch_labels = None
depends_on = None

UTC_TYPE = services.db.models.UTCDateTime(timezone=True)
# table -> (index name, columns) as 0001 made them
INDEXES = {
    "events": [
        ("ix_events_created_at", "created_at"),
        ("ix_events_envelope_id", "envelope_id"),
        ("ix_events_run_id_id", "run_id, id"),
    ],
    "ledger_entries": [("ix_ledger_entries_run_id", "run_id")],
}
UNIQUE = "uq_ledger_entries_run_id"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(text("SET LOCAL TIME ZONE 'UTC'"))
        for table in partitions.TABLES:
            _partition(bind, table)
    else:
        with op.batch_alter_table("ledger_entries") as batch:
            batch.drop_constraint(UNIQUE, type_="unique")
            batch.create_unique_constraint(UNIQUE, ["run_id", "seq", "created_at"])
    op.create_table(
        "archived_runs",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("ledger_seq", sa.Integer(), nullable=False),
        sa.Column("ledger_head", sa.String(length=64), nullable=False),
        sa.Column("archive", sa.String(length=200), nullable=False),
        sa.Column("archived_at", UTC_TYPE, nullable=False),
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_archived_runs")),
    )


def downgrade() -> None:
    op.drop_table("archived_runs")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in partitions.TABLES:
            _unpartition(bind, table)
    else:
        with op.batch_alter_table("ledger_entries") as batch:
            batch.drop_constraint(UNIQUE, type_="unique")
            batch.create_unique_constraint(UNIQUE, ["run_id", "seq"])


def _partition(bind: sa.Connection, table: str) -> None:
    old = f"{table}_unpartitioned"
    _set_aside(bind, table, old)
    like = f"(LIKE {old} INCLUDING DEFAULTS)"
    bind.execute(text(f"CREATE TABLE {table} {like} PARTITION BY RANGE (created_at)"))
    _own_sequence(bind, old, table)
    bind.execute(text(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT"))
    months = bind.execute(
        text(f"SELECT DISTINCT date_trunc('month', created_at) FROM {old}")
    ).scalars()
    for month in sorted(months):
        partitions.create_month(bind, table, partitions.month_start(month))
    this_month = partitions.month_start(datetime.now(UTC))
    for count in range(partitions.MONTHS_AHEAD + 1):
        partitions.create_month(bind, table, partitions.add_months(this_month, count))
    bind.execute(text(f"INSERT INTO {table} SELECT * FROM {old}"))
    bind.execute(text(f"DROP TABLE {old}"))
    _keys(bind, table, partitioned=True)


def _unpartition(bind: sa.Connection, table: str) -> None:
    old = f"{table}_partitioned"
    _set_aside(bind, table, old)
    bind.execute(text(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS)"))
    _own_sequence(bind, old, table)
    bind.execute(text(f"INSERT INTO {table} SELECT * FROM {old}"))
    bind.execute(text(f"DROP TABLE {old} CASCADE"))  # and its partitions
    _keys(bind, table, partitioned=False)


def _set_aside(bind: sa.Connection, table: str, aside: str) -> None:
    """Rename ``table`` and free the names of its keys and indexes (they are schema-wide)."""
    bind.execute(text(f"ALTER TABLE {table} RENAME TO {aside}"))
    bind.execute(text(f"ALTER TABLE {aside} DROP CONSTRAINT pk_{table}"))
    if table == "ledger_entries":
        bind.execute(text(f"ALTER TABLE {aside} DROP CONSTRAINT {UNIQUE}"))
    for name, _ in INDEXES[table]:
        bind.execute(text(f"DROP INDEX {name}"))


def _own_sequence(bind: sa.Connection, old: str, table: str) -> None:
    """The id sequence (shared through the copied default) now belongs to the new table."""
    sequence = bind.execute(text(f"SELECT pg_get_serial_sequence('{old}', 'id')")).scalar()
    bind.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id"))


def _keys(bind: sa.Connection, table: str, *, partitioned: bool) -> None:
    key = "id, created_at" if partitioned else "id"
    bind.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({key})"))
    if table == "ledger_entries":
        unique = "run_id, seq, created_at" if partitioned else "run_id, seq"
        bind.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {UNIQUE} UNIQUE ({unique})"))
    for name, columns in INDEXES[table]:
        bind.execute(text(f"CREATE INDEX {name} ON {table} ({columns})"))
