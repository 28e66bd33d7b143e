"""MCP servers and the authorization servers discovered for them."""

from __future__ import annotations

from alembic import op

from registrar.store.migrations._ddl import mcp_auth_servers_table, mcp_servers_table

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    mcp_servers_table()
    mcp_auth_servers_table()


def downgrade() -> None:
    op.drop_table("mcp_auth_servers")
    op.drop_table("mcp_servers")
