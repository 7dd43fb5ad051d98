"""runs: root_run_id, the run a chain of sub-workflows started from

MODX_MAX_TREE_RUNS bounds how many runs one submitted run makes through its sub-workflows and
loops; the depth limit alone let one request of nested fan-outs ask for 1,000^10 runs. A
child names its root (``root_run_id``), and the root counts its tree (``tree_runs``), raised
by one conditional UPDATE before each child starts.

Revision ID: 0009_run_trees
Revises: 0008_running_deadlines
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_run_trees"
down_revision = "0008_running_deadlines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("root_run_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("tree_runs", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("tree_runs")
        batch.drop_column("root_run_id")
