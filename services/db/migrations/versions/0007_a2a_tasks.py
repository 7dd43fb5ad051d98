"""a2a_tasks: an A2A task's context id, and a task that asks which skill before its run exists

Revision ID: 0007_a2a_tasks
Revises: 0006_partitioned_history
Create Date: 2026-12-06 06:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.db.models

revision = "0007_a2a_tasks"
down_revision = "0006_partitioned_history"
branch_labels = None
depends_on = None

UTC = services.db.models.UTCDateTime(timezone=True)
JSON = services.db.models.JsonType


def upgrade() -> None:
    op.create_table(
        "a2a_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("context_id", sa.String(length=200), nullable=False),
        sa.Column("ask", JSON, nullable=True),
        sa.Column("history", JSON, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_a2a_tasks")),
    )
    with op.batch_alter_table("a2a_tasks") as batch:
        batch.create_index("ix_a2a_tasks_tenant_context", ["tenant", "context_id"], unique=False)
        batch.create_index(batch.f("ix_a2a_tasks_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("a2a_tasks")
