"""Signed-note checkpoints of the tree, witness cosignatures and witness state."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import primary_key
from registrar.store.migrations._types import TIME_TYPE

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    op.create_table(
        "tlog_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("created_ms", TIME_TYPE, nullable=False),
        primary_key("tlog_checkpoints", "size"),
    )
    op.create_table(
        "tlog_cosignatures",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness_name", sa.String(length=255), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_ms", TIME_TYPE, nullable=False),
        primary_key("tlog_cosignatures", "size", "witness_name"),
    )
    op.create_table(
        "tlog_witnesses",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("vkey", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger()),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_attempt_ms", TIME_TYPE),
        sa.Column("last_success_ms", TIME_TYPE),
        sa.Column("lease_ms", TIME_TYPE),
        primary_key("tlog_witnesses", "name"),
    )


def downgrade() -> None:
    op.drop_table("tlog_witnesses")
    op.drop_table("tlog_cosignatures")
    op.drop_table("tlog_checkpoints")
