"""Event hooks and their delivery positions (the event log itself is the outbox)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import entity_table, foreign_key, primary_key
from registrar.store.migrations._types import ID_TYPE, TIME_TYPE

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    entity_table(
        "event_hooks",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verification_status", sa.String(length=16), nullable=False),
        sa.Column("event_types", sa.Text(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("auth_key", sa.String(length=255)),
        sa.Column("auth_value_sealed", sa.LargeBinary()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
    )
    op.create_table(
        "event_hook_deliveries",
        sa.Column("hook_id", ID_TYPE, nullable=False),
        sa.Column("cursor_seq", sa.BigInteger(), nullable=False),
        sa.Column("pending_upto_seq", sa.BigInteger()),
        sa.Column("pending_event_id", sa.String(length=36)),
        sa.Column("pending_event_time_ms", TIME_TYPE),
        sa.Column("next_attempt_ms", TIME_TYPE, nullable=False),
        sa.Column("lease_owner", sa.String(length=32)),
        sa.Column("lease_until_ms", TIME_TYPE),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failing_since_ms", TIME_TYPE),
        sa.Column("last_success_ms", TIME_TYPE),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_error_ms", TIME_TYPE),
        sa.Column("paused_ms", TIME_TYPE),
        foreign_key("event_hook_deliveries", "hook_id", "event_hooks.id", ondelete="CASCADE"),
        primary_key("event_hook_deliveries", "hook_id"),
    )
    op.create_index(
        "ix_event_hook_deliveries_next_attempt", "event_hook_deliveries", ["next_attempt_ms"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_event_hook_deliveries_next_attempt", table_name="event_hook_deliveries")
    op.drop_table("event_hook_deliveries")
    op.drop_table("event_hooks")
