"""OAuth 2.0 service apps, and the client assertions already used at the token endpoint."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import entity_table, primary_key
from registrar.store.migrations._types import TIME_TYPE

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    entity_table(
        "service_apps",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("jwks", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("revoked_ms", TIME_TYPE),
    )
    op.create_table(
        "oauth_assertions",
        sa.Column("jti_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_ms", TIME_TYPE, nullable=False),
        primary_key("oauth_assertions", "jti_hash"),
    )
    op.create_index("ix_oauth_assertions_expires_ms", "oauth_assertions", ["expires_ms"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_oauth_assertions_expires_ms", table_name="oauth_assertions")
    op.drop_table("oauth_assertions")
    op.drop_table("service_apps")
