"""Events an event hook skipped and why (too large for the receiver); what a hook's delivery learned."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import add_columns, drop_columns, foreign_key, primary_key, surrogate_key
from registrar.store.migrations._types import ID_TYPE, TIME_TYPE

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    add_columns(
        "event_hook_deliveries",
        # The largest body the receiver is known to accept, learned from its 413s (NULL: nothing learned).
        sa.Column("body_limit_bytes", sa.BigInteger()),
        # The log head when the hook was created: events at or below it are history, replayed only by a
        # caller who may read the log.
        sa.Column("origin_seq", sa.BigInteger(), nullable=False, server_default="0"),
    )
    # Existing hooks: the newest event published no later than the hook's creation.
    op.execute(
        "UPDATE event_hook_deliveries SET origin_seq = COALESCE(("
        " SELECT MAX(log_events.seq) FROM log_events, event_hooks"
        " WHERE event_hooks.id = event_hook_deliveries.hook_id"
        " AND log_events.published_ms <= event_hooks.created_ms), 0)"
    )
    op.create_table(
        "event_hook_skips",
        surrogate_key(),
        sa.Column("hook_id", ID_TYPE, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_uuid", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("skipped_ms", TIME_TYPE, nullable=False),
        foreign_key("event_hook_skips", "hook_id", "event_hooks.id", ondelete="CASCADE"),
        primary_key("event_hook_skips", "pk"),
    )
    op.create_index("ix_event_hook_skips_hook_id_pk", "event_hook_skips", ["hook_id", "pk"])


def downgrade() -> None:
    op.drop_index("ix_event_hook_skips_hook_id_pk", table_name="event_hook_skips")
    op.drop_table("event_hook_skips")
    drop_columns("event_hook_deliveries", "origin_seq", "body_limit_bytes")
