"""api key scopes: orchestrator (its own cases and imports), read, or admin; existing keys are orchestrators

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scope", sa.String(length=16), nullable=False, server_default="orchestrator"
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_api_keys_scope"), "scope IN ('orchestrator', 'read', 'admin')"
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_api_keys_scope"), type_="check")
        batch_op.drop_column("scope")
