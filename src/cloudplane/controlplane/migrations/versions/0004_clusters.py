"""clusters, and the last functional verification of each cloud

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("cloud_id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("instances", sa.JSON(), nullable=False),
        sa.Column("compute_config", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org"], ["organisations.name"], name=op.f("fk_clusters_org_organisations")),
        sa.ForeignKeyConstraint(
            ["cloud_id"], ["clouds.id"], name=op.f("fk_clusters_cloud_id_clouds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
    )
    op.create_index("ix_clusters_cloud_id", "clusters", ["cloud_id"])
    op.create_index(
        "uq_clusters_live_name",
        "clusters",
        ["org", "name"],
        unique=True,
        sqlite_where=sa.text("terminated_at IS NULL"),
        postgresql_where=sa.text("terminated_at IS NULL"),
    )
    with op.batch_alter_table("clouds") as batch:
        batch.add_column(sa.Column("last_functional_verification", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("last_functional_verified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clouds") as batch:
        batch.drop_column("last_functional_verified_at")
        batch.drop_column("last_functional_verification")
    op.drop_index("uq_clusters_live_name", table_name="clusters")
    op.drop_index("ix_clusters_cloud_id", table_name="clusters")
    op.drop_table("clusters")
