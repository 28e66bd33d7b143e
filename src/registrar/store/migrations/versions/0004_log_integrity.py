"""Signed checkpoints of the event log, and the retention policy."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import add_columns, drop_columns
from registrar.store.migrations._types import KEY_TYPE, TIME_TYPE

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "log_checkpoints",
        sa.Column("id", KEY_TYPE, primary_key=True, autoincrement=True),
        sa.Column("created_ms", TIME_TYPE, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_log_checkpoints_seq", "log_checkpoints", ["seq"])
    add_columns(
        "installation",
        sa.Column("retention_days", sa.Integer(), nullable=False, server_default="90"),
        sa.Column("retention_locked", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # After a purge the log starts here; the anchor is the hash of the last purged event.
    add_columns(
        "log_head",
        sa.Column("first_seq", sa.BigInteger(), nullable=False, server_default="1"),
        sa.Column("anchor_hash", sa.String(64), nullable=False, server_default="0" * 64),
    )


def downgrade() -> None:
    drop_columns("log_head", "anchor_hash", "first_seq")
    drop_columns("installation", "retention_locked", "retention_days")
    op.drop_table("log_checkpoints")
