"""Claims for periodic per-object work (e.g. one MCP refresh per server per interval across replicas)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "job_claims",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("object_id", sa.String(64), primary_key=True),
        sa.Column("claimed_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_claims")
