"""Admin console: users' password hashes and server-side console sessions."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import add_columns, drop_columns, foreign_key, primary_key, unique_key
from registrar.store.migrations._types import ID_TYPE, TIME_TYPE

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    # An Argon2id PHC string; NULL: the user cannot sign in to the console with a password.
    add_columns("users", sa.Column("password_hash", sa.String(length=255)))
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("user_id", ID_TYPE, nullable=False),
        sa.Column("token_id", ID_TYPE),
        sa.Column("credential", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("ip_address", sa.String(length=64)),
        sa.Column("user_agent", sa.Text()),
        sa.Column("created_ms", TIME_TYPE, nullable=False),
        sa.Column("last_seen_ms", TIME_TYPE, nullable=False),
        sa.Column("expires_ms", TIME_TYPE, nullable=False),
        sa.Column("ended_ms", TIME_TYPE),
        foreign_key("console_sessions", "user_id", "users.id"),
        foreign_key("console_sessions", "token_id", "api_tokens.id"),
        primary_key("console_sessions", "id"),
        unique_key("console_sessions", "secret_hash"),
    )
    op.create_index("ix_console_sessions_user_id", "console_sessions", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_console_sessions_user_id", table_name="console_sessions")
    op.drop_table("console_sessions")
    drop_columns("users", "password_hash")
