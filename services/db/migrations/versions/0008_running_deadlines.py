"""runs: the deadline index holds running runs only (the sweep's question), not every run

Every replica asks each second which running runs are past their deadline. Through the index
on status, that read every running run's entry (and its dead versions until vacuum), a cost
that grew with the runs in flight; a partial index on ``deadline_at`` of running runs answers
with the entries past due only, and finished runs no longer add entries to it.

Revision ID: 0008_running_deadlines
Revises: 0007_a2a_tasks
Create Date: 2026-12-06 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_running_deadlines"
down_revision = "0007_a2a_tasks"
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index(batch.f("ix_runs_deadline_at"))
        batch.create_index(
            "ix_runs_running_deadline",
            ["deadline_at"],
            unique=False,
            postgresql_where=RUNNING,
            sqlite_where=RUNNING,
        )


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_running_deadline")
        batch.create_index(batch.f("ix_runs_deadline_at"), ["deadline_at"], unique=False)
