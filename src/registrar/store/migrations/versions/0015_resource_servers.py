"""One table of resource servers (every kind) and one of their authorization servers; MCP tools, tool
discoveries and virtual MCP server capabilities.

The rows of ``api_servers`` / ``mcp_servers`` and of their authorization-server tables move into the new
tables with their ids unchanged, in registration order (``created_ms``, then the old key), so lists keep
their order; the old tables are then dropped.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import (
    api_auth_servers_table,
    api_servers_table,
    entity_table,
    foreign_key,
    keyed_table,
    mcp_auth_servers_table,
    mcp_servers_table,
    resource_server_columns,
)
from registrar.store.migrations._types import ID_TYPE, TIME_TYPE

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    servers = entity_table(
        "resource_servers",
        sa.Column("kind", sa.String(length=8), nullable=False),
        *resource_server_columns(url_required=False),
        sa.Column("detected_metadata", sa.Text(), nullable=False),
        sa.Column("last_refreshed_ms", TIME_TYPE),
        unique=[("kind", "resource_url")],
    )
    op.create_index("ix_resource_servers_kind_pk", "resource_servers", ["kind", "pk"], unique=False)
    auth_servers = entity_table(
        "resource_auth_servers",
        sa.Column("server_id", ID_TYPE, nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("authorization_endpoint", sa.Text()),
        sa.Column("token_endpoint", sa.Text()),
        sa.Column("grant_types", sa.Text(), nullable=False),
        sa.Column("detected_metadata", sa.Text(), nullable=False),
        leading=[foreign_key("resource_auth_servers", "server_id", "resource_servers.id")],
        unique=[("server_id", "issuer")],
    )
    _create_tool_tables()
    _copy_servers(servers)
    _copy_auth_servers(auth_servers)
    op.drop_table("api_auth_servers")
    op.drop_table("mcp_auth_servers")
    op.drop_table("api_servers")
    op.drop_table("mcp_servers")


def _create_tool_tables() -> None:
    keyed_table(
        "mcp_tools",
        sa.Column("server_id", ID_TYPE, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("description", sa.Text()),
        sa.Column("input_schema", sa.Text(), nullable=False),
        sa.Column("output_schema", sa.Text()),
        sa.Column("annotations", sa.Text()),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("discovered_ms", TIME_TYPE, nullable=False),
        sa.Column("last_seen_ms", TIME_TYPE, nullable=False),
        sa.Column("changed_ms", TIME_TYPE, nullable=False),
        unique=[("server_id", "name")],
    )
    op.create_index(op.f("ix_mcp_tools_server_id"), "mcp_tools", ["server_id"], unique=False)
    keyed_table(
        "mcp_discoveries",
        sa.Column("server_id", ID_TYPE, nullable=False),
        sa.Column("client_auth_settings_id", ID_TYPE, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_ms", TIME_TYPE, nullable=False),
        sa.Column("completed_ms", TIME_TYPE),
        sa.Column("tool_count", sa.Integer()),
        sa.Column("error_message", sa.Text()),
        unique=[("server_id", "client_auth_settings_id")],
    )
    entity_table(
        "virtual_capabilities",
        sa.Column("virtual_server_id", ID_TYPE, nullable=False),
        sa.Column("source_server_id", ID_TYPE, nullable=False),
        sa.Column("tool_name", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        unique=[("virtual_server_id", "source_server_id", "tool_name")],
    )
    op.create_index(
        "ix_virtual_capabilities_source",
        "virtual_capabilities",
        ["source_server_id", "tool_name"],
        unique=False,
    )


def _rows(table: str) -> list[Any]:
    return list(op.get_bind().execute(sa.text(f"SELECT * FROM {table}")).mappings())  # noqa: S608 - fixed names


def _registration_order(rows: list[Any]) -> list[Any]:
    return sorted(rows, key=lambda row: (row["created_ms"], row["pk"]))


def _copy_servers(servers: sa.Table) -> None:
    moved: list[dict[str, Any]] = []
    for row in _rows("api_servers"):
        moved.append({**_common(row), "kind": "api", "detected_metadata": "{}", "last_refreshed_ms": None})
    for row in _rows("mcp_servers"):
        detected = {
            "resourceName": row["resource_name"],
            "scopesSupported": orjson.loads(row["scopes_supported"]),
        }
        moved.append(
            {
                **_common(row),
                "kind": "mcp",
                "detected_metadata": orjson.dumps(detected).decode(),
                "last_refreshed_ms": row["last_refreshed_ms"],
            }
        )
    for row in _registration_order(moved):
        op.get_bind().execute(servers.insert().values({k: v for k, v in row.items() if k != "pk"}))


def _common(row: Any) -> dict[str, Any]:
    names = (
        "pk",
        "id",
        "resource_url",
        "display_name",
        "description",
        "status",
        "created_ms",
        "last_updated_ms",
    )
    return {name: row[name] for name in names}


def _copy_auth_servers(auth_servers: sa.Table) -> None:
    moved: list[dict[str, Any]] = []
    for row in _rows("api_auth_servers"):
        moved.append(
            {
                **_auth_common(row, row["api_server_id"]),
                "status": "ACTIVE",
                "authorization_endpoint": row["authorization_endpoint"],
                "token_endpoint": row["token_endpoint"],
                "grant_types": row["grant_types"],
                "detected_metadata": "{}",
            }
        )
    for row in _rows("mcp_auth_servers"):
        detected = orjson.loads(row["detected_metadata"])
        moved.append(
            {
                **_auth_common(row, row["mcp_server_id"]),
                "status": row["status"],
                "authorization_endpoint": detected.get("authorizationEndpoint"),
                "token_endpoint": detected.get("tokenEndpoint"),
                "grant_types": orjson.dumps(detected.get("grantTypesSupported") or []).decode(),
                "detected_metadata": row["detected_metadata"],
            }
        )
    for row in _registration_order(moved):
        op.get_bind().execute(auth_servers.insert().values({k: v for k, v in row.items() if k != "pk"}))


def _auth_common(row: Any, server_id: str) -> dict[str, Any]:
    names = ("pk", "id", "issuer", "created_ms", "last_updated_ms")
    return {"server_id": server_id, **{name: row[name] for name in names}}


def downgrade() -> None:
    """Back to one table per kind. A2A and virtual MCP servers, tools, discoveries and capabilities did not
    exist before 0015: they are dropped with their tables (the audit log keeps their history)."""
    api = api_servers_table()
    mcp = mcp_servers_table()
    api_auth = api_auth_servers_table()
    mcp_auth = mcp_auth_servers_table()
    kinds: dict[str, str] = {}
    for row in sorted(_rows("resource_servers"), key=lambda r: r["pk"]):
        kinds[row["id"]] = row["kind"]
        common = {k: v for k, v in _common(row).items() if k != "pk"}
        if row["kind"] == "api":
            op.get_bind().execute(api.insert().values(common))
        elif row["kind"] == "mcp":
            detected = orjson.loads(row["detected_metadata"] or "{}")
            op.get_bind().execute(
                mcp.insert().values(
                    {
                        **common,
                        "resource_name": detected.get("resourceName"),
                        "scopes_supported": orjson.dumps(detected.get("scopesSupported") or []).decode(),
                        "last_refreshed_ms": row["last_refreshed_ms"],
                    }
                )
            )
    for row in sorted(_rows("resource_auth_servers"), key=lambda r: r["pk"]):
        kind = kinds.get(row["server_id"])
        base = {"id": row["id"], "issuer": row["issuer"], "created_ms": row["created_ms"]}
        base["last_updated_ms"] = row["last_updated_ms"]
        if kind == "api":
            values = {
                **base,
                "api_server_id": row["server_id"],
                "authorization_endpoint": row["authorization_endpoint"] or "",
                "token_endpoint": row["token_endpoint"] or "",
                "grant_types": row["grant_types"],
            }
            op.get_bind().execute(api_auth.insert().values(values))
        elif kind == "mcp":
            values = {
                **base,
                "mcp_server_id": row["server_id"],
                "status": row["status"],
                "detected_metadata": row["detected_metadata"],
            }
            op.get_bind().execute(mcp_auth.insert().values(values))
    for table in ("virtual_capabilities", "mcp_discoveries", "mcp_tools", "resource_auth_servers"):
        op.drop_table(table)
    op.drop_table("resource_servers")
