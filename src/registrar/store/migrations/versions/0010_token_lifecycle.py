"""Token expiry and last use; console sign-in throttling."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import add_columns, drop_columns, primary_key, surrogate_key
from registrar.store.migrations._types import TIME_TYPE

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    add_columns(
        "api_tokens",
        sa.Column("expires_ms", TIME_TYPE),  # NULL: never expires
        sa.Column("last_used_ms", TIME_TYPE),  # minute resolution
    )
    # One row per failed (or in-flight) console sign-in, per throttled subject (an account or an address).
    op.create_table(
        "signin_failures",
        surrogate_key("id"),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("at_ms", TIME_TYPE, nullable=False),
        primary_key("signin_failures", "id"),
    )
    op.create_index("ix_signin_failures_subject_at_ms", "signin_failures", ["subject", "at_ms"])
    op.create_index("ix_signin_failures_at_ms", "signin_failures", ["at_ms"])


def downgrade() -> None:
    op.drop_index("ix_signin_failures_at_ms", table_name="signin_failures")
    op.drop_index("ix_signin_failures_subject_at_ms", table_name="signin_failures")
    op.drop_table("signin_failures")
    drop_columns("api_tokens", "last_used_ms", "expires_ms")
