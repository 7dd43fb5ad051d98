"""ledger: entry signatures, checkpoints and their Merkle leaves

Revision ID: 0002_ledger
Revises: 0001
Create Date: 2026-12-05 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_ledger"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature", sa.String(length=88), nullable=True))
    op.create_table(
        "ledger_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("prev", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.String(length=88), nullable=False),
        sa.Column("entries_upto", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_checkpoints")),
    )
    op.create_table(
        "ledger_leaves",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_ledger_leaves")),
    )
    with op.batch_alter_table("ledger_leaves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_leaves_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_leaves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_leaves_run_id"))
    op.drop_table("ledger_leaves")
    op.drop_table("ledger_checkpoints")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_column("signature")
