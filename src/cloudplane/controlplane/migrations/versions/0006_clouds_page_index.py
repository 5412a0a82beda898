"""clouds listed a page at a time: an index on (org, created_at, id)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A page is "this organisation's clouds after (created_at, id), in that order": read straight off this
    # index instead of sorting every cloud of the organisation for each page.
    op.create_index("ix_clouds_org_created_at_id", "clouds", ["org", "created_at", "id"])
    op.drop_index("ix_clouds_created_at", table_name="clouds")


def downgrade() -> None:
    op.create_index("ix_clouds_created_at", "clouds", ["created_at"], unique=False)
    op.drop_index("ix_clouds_org_created_at_id", table_name="clouds")
