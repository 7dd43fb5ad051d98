"""runs.parent_run_id, runs.parent_step_id: a sub-workflow's run names the run and step that
started it

Revision ID: 0005_subworkflows
Revises: 0004_replicas
Create Date: 2026-12-06 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_subworkflows"
down_revision = "0004_replicas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("parent_run_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("parent_step_id", sa.String(length=200), nullable=True))
        batch.create_index(batch.f("ix_runs_parent_run_id"), ["parent_run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index(batch.f("ix_runs_parent_run_id"))
        batch.drop_column("parent_step_id")
        batch.drop_column("parent_run_id")
