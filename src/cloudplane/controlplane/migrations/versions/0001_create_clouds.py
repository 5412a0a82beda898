"""create clouds

Revision ID: 0001
Revises:
Create Date: 2026-11-26 11:32:28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clouds",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("deployment", sa.String(length=32), nullable=False),
        sa.Column("networking", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=1224), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_verification", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("last_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clouds")),
        sa.UniqueConstraint("name", name=op.f("uq_clouds_name")),
    )
    op.create_index("ix_clouds_created_at", "clouds", ["created_at"], unique=False)
    # At most one default cloud, enforced by the database.
    op.create_index(
        "uq_clouds_single_default",
        "clouds",
        ["is_default"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )


def downgrade() -> None:
    op.drop_index("uq_clouds_single_default", table_name="clouds")
    op.drop_index("ix_clouds_created_at", table_name="clouds")
    op.drop_table("clouds")
