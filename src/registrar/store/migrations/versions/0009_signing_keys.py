"""Signing keys with validity periods (rotation keeps old checkpoints verifiable)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    # Filled at run time: the first checkpoint signed after this migration registers the key in use
    # (a migration cannot read the key file).
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("public_key", sa.String(128), nullable=False),
        sa.Column("not_before_ms", sa.BigInteger(), nullable=False),
        sa.Column("not_after_ms", sa.BigInteger()),
        sa.Column("rotation", sa.Text()),
        sa.Column("predecessor_signature", sa.String(128)),
        sa.Column("own_signature", sa.String(128)),
    )


def downgrade() -> None:
    op.drop_table("signing_keys")
