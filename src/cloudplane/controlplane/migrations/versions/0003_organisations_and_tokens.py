"""organisations and tokens: clouds belong to an organisation, names and the default are per organisation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 02:20:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCAL_ORG = "local"


def upgrade() -> None:
    organisations = op.create_table(
        "organisations",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_organisations")),
    )
    op.bulk_insert(organisations, [{"name": LOCAL_ORG, "created_at": datetime.now(UTC)}])

    op.create_table(
        "tokens",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org"], ["organisations.name"], name=op.f("fk_tokens_org_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_tokens_secret_sha256")),
    )
    op.create_index(
        "uq_tokens_live_name",
        "tokens",
        ["org", "name"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )

    # Dropped before the batch: a SQLite table rebuild would not carry the partial index's WHERE over.
    op.drop_index("uq_clouds_single_default", table_name="clouds")
    with op.batch_alter_table("clouds") as batch:
        # Existing clouds land in the local organisation.
        batch.add_column(
            sa.Column("org", sa.String(length=63), nullable=False, server_default=sa.text(f"'{LOCAL_ORG}'"))
        )
        batch.create_foreign_key(op.f("fk_clouds_org_organisations"), "organisations", ["org"], ["name"])
        batch.drop_constraint("uq_clouds_name", type_="unique")
        batch.create_unique_constraint(op.f("uq_clouds_org_name"), ["org", "name"])
    op.create_index(
        "uq_clouds_default_per_org",
        "clouds",
        ["org", "is_default"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )


def downgrade() -> None:
    op.drop_index("uq_clouds_default_per_org", table_name="clouds")
    with op.batch_alter_table("clouds") as batch:
        batch.drop_constraint("uq_clouds_org_name", type_="unique")
        batch.create_unique_constraint("uq_clouds_name", ["name"])
        batch.drop_constraint("fk_clouds_org_organisations", type_="foreignkey")
        batch.drop_column("org")
    op.create_index(
        "uq_clouds_single_default",
        "clouds",
        ["is_default"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    op.drop_index("uq_tokens_live_name", table_name="tokens")
    op.drop_table("tokens")
    op.drop_table("organisations")
