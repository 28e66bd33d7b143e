"""MCP servers and the authorization servers discovered for them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import auth_server_table, entity_table, resource_server_columns

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    entity_table(
        "mcp_servers",
        *resource_server_columns(),
        sa.Column("resource_name", sa.Text(), nullable=True),
        sa.Column("scopes_supported", sa.Text(), nullable=False),
        sa.Column("last_refreshed_ms", sa.BigInteger(), nullable=True),
        unique=["resource_url"],
    )
    auth_server_table(
        "mcp_auth_servers",
        "mcp_servers",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detected_metadata", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mcp_auth_servers")
    op.drop_table("mcp_servers")
