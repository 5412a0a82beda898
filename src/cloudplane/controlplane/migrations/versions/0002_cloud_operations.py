"""cloud operations: which command is working on a cloud, and until when its claim holds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clouds") as batch:
        batch.add_column(sa.Column("operation", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("operation_owner", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("operation_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clouds") as batch:
        batch.drop_column("operation_expires_at")
        batch.drop_column("operation_owner")
        batch.drop_column("operation")
