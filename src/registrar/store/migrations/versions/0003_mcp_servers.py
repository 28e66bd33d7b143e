"""MCP servers and the authorization servers discovered for them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mcp_servers",
        sa.Column(
            "pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("resource_url", sa.Text(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resource_name", sa.Text(), nullable=True),
        sa.Column("scopes_supported", sa.Text(), nullable=False),
        sa.Column("last_refreshed_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_mcp_servers")),
        sa.UniqueConstraint("id", name=op.f("uq_mcp_servers_id")),
        sa.UniqueConstraint("resource_url", name=op.f("uq_mcp_servers_resource_url")),
    )
    op.create_table(
        "mcp_auth_servers",
        sa.Column(
            "pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("mcp_server_id", sa.String(length=20), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detected_metadata", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mcp_server_id"], ["mcp_servers.id"], name=op.f("fk_mcp_auth_servers_mcp_server_id_mcp_servers")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_mcp_auth_servers")),
        sa.UniqueConstraint("mcp_server_id", "issuer", name=op.f("uq_mcp_auth_servers_mcp_server_id")),
        sa.UniqueConstraint("id", name=op.f("uq_mcp_auth_servers_id")),
    )


def downgrade() -> None:
    op.drop_table("mcp_auth_servers")
    op.drop_table("mcp_servers")
