"""orchestrator_replicas: each replica's membership lease, from which runs get their owner

Revision ID: 0004_replicas
Revises: 0003_tenants
Create Date: 2026-12-06 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.db.models

revision = "0004_replicas"
down_revision = "0003_tenants"
branch_labels = None
depends_on = None

UTC = services.db.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "orchestrator_replicas",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestrator_replicas")),
    )
    op.create_index(
        op.f("ix_orchestrator_replicas_expires_at"),
        "orchestrator_replicas",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_orchestrator_replicas_expires_at"), table_name="orchestrator_replicas")
    op.drop_table("orchestrator_replicas")
