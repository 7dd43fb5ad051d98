"""runs: an index on (tenant, updated_at)

A2A's ListTasks lists a tenant's tasks last updated first, and filters them by the time of
their last update (``statusTimestampAfter``); ``updated_at`` is the time of the run's last
event.

Revision ID: 0010_runs_by_update
Revises: 0009_run_trees
Create Date: 2026-12-07 16:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0010_runs_by_update"
down_revision = "0009_run_trees"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_tenant_updated", "runs", ["tenant", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_tenant_updated", table_name="runs")
