"""tenants: every token, run, workflow and agent belongs to a tenant; tokens expire and revoke

Revision ID: 0003_tenants
Revises: 0002_ledger
Create Date: 2026-12-05 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.db.models

revision = "0003_tenants"
down_revision = "0002_ledger"
branch_labels = None
depends_on = None

UTC = services.db.models.UTCDateTime(timezone=True)


def _tenant() -> sa.Column[str]:
    # Rows from before tenants belong to the default tenant.
    return sa.Column("tenant", sa.String(length=64), nullable=False, server_default="default")


def upgrade() -> None:
    tenants = op.create_table(
        "tenants",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tenants")),
    )
    now = services.db.models.utcnow()
    op.bulk_insert(
        tenants,
        [{"name": "default", "created_at": now}, {"name": "system", "created_at": now}],
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(_tenant())
        batch_op.add_column(sa.Column("expires_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("last_used_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("revoked_at", UTC, nullable=True))
        batch_op.create_index(batch_op.f("ix_api_tokens_tenant"), ["tenant"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_tenant_tenants"),
            "tenants",
            ["tenant"],
            ["name"],
            ondelete="CASCADE",
        )
    op.execute("UPDATE api_tokens SET role = 'operator' WHERE role = 'client'")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(_tenant())
        batch_op.create_index(batch_op.f("ix_agents_tenant"), ["tenant"], unique=False)
    with op.batch_alter_table("capabilities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("workflow_definitions", schema=None) as batch_op:
        batch_op.add_column(_tenant())
        batch_op.drop_constraint("uq_workflow_definitions_name", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_workflow_definitions_tenant"), ["tenant", "name", "version"]
        )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(_tenant())
        batch_op.drop_constraint("uq_runs_idempotency_key", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_runs_tenant"), ["tenant", "idempotency_key"]
        )
        batch_op.create_index("ix_runs_tenant_created", ["tenant", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_tenant_created")
        batch_op.drop_constraint("uq_runs_tenant", type_="unique")
        batch_op.create_unique_constraint("uq_runs_idempotency_key", ["idempotency_key"])
        batch_op.drop_column("tenant")
    with op.batch_alter_table("workflow_definitions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_workflow_definitions_tenant", type_="unique")
        batch_op.create_unique_constraint("uq_workflow_definitions_name", ["name", "version"])
        batch_op.drop_column("tenant")
    with op.batch_alter_table("capabilities", schema=None) as batch_op:
        batch_op.drop_column("shared")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index("ix_agents_tenant")
        batch_op.drop_column("tenant")
    op.execute("UPDATE api_tokens SET role = 'client' WHERE role = 'operator'")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_tokens_tenant_tenants", type_="foreignkey")
        batch_op.drop_index("ix_api_tokens_tenant")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("tenant")
    op.drop_table("tenants")
