"""The migrations build exactly the tables ``schema.py`` declares, and 0015 carries the old rows over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, select, text

from registrar.store import database
from registrar.store.schema import metadata, resource_auth_servers, resource_servers

# The System Log's keyword index is built by raw SQL (FTS5 on SQLite, a tsvector table on PostgreSQL).
_SEARCH_TABLES = ("log_event_fts", "log_event_search")


def _declared(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not (reflected and compare_to is None and str(table).startswith(_SEARCH_TABLES))


def test_the_migrated_schema_is_the_declared_one(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _declared})
        differences = compare_metadata(context, metadata)
    assert differences == []


def _config(conn: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    return config


@pytest.fixture
def at_0014(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0014")
    return engine


def test_0015_moves_api_and_mcp_servers_in_registration_order_keeping_ids(at_0014: Engine) -> None:
    mcp_auth = {"tokenEndpoint": "https://as.example/token", "grantTypesSupported": ["client_credentials"]}
    with at_0014.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_servers (id, resource_url, display_name, description, status, created_ms, "
                "last_updated_ms) VALUES ('apsB', 'https://b.example/', 'B', NULL, 'ACTIVE', 20, 21), "
                "('apsA', 'https://a.example/', 'A', 'first', 'INACTIVE', 10, 11)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO mcp_servers (id, resource_url, display_name, status, resource_name, "
                "scopes_supported, last_refreshed_ms, created_ms, last_updated_ms) VALUES "
                "('mcpM', 'https://a.example/', 'M', 'INVALID', 'tools', '[\"read\"]', 16, 15, 16)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO api_auth_servers (id, api_server_id, issuer, authorization_endpoint, "
                "token_endpoint, grant_types, created_ms, last_updated_ms) VALUES "
                "('easA', 'apsA', 'https://as.example', 'https://as.example/auth', "
                "'https://as.example/token', '[\"authorization_code\"]', 12, 12)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO mcp_auth_servers (id, mcp_server_id, issuer, status, detected_metadata, "
                "created_ms, last_updated_ms) "
                "VALUES ('easM', 'mcpM', 'https://as.example', 'ACTIVE', :d, 15, 15)"
            ),
            {"d": orjson.dumps(mcp_auth).decode()},
        )
    with at_0014.begin() as conn:
        command.upgrade(_config(conn), "head")
    with at_0014.connect() as conn:
        servers = conn.execute(select(resource_servers).order_by(resource_servers.c.pk)).mappings().all()
        auths = (
            conn.execute(select(resource_auth_servers).order_by(resource_auth_servers.c.pk)).mappings().all()
        )
        tables = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
    assert [(s["id"], s["kind"], s["resource_url"], s["status"]) for s in servers] == [
        ("apsA", "api", "https://a.example/", "INACTIVE"),
        ("mcpM", "mcp", "https://a.example/", "INVALID"),  # the same URL in another kind is no duplicate
        ("apsB", "api", "https://b.example/", "ACTIVE"),
    ]
    assert servers[0]["description"] == "first"
    assert orjson.loads(servers[0]["detected_metadata"]) == {}
    assert orjson.loads(servers[1]["detected_metadata"]) == {
        "resourceName": "tools",
        "scopesSupported": ["read"],
    }
    assert servers[1]["last_refreshed_ms"] == 16
    assert [(a["id"], a["server_id"], a["status"], a["token_endpoint"]) for a in auths] == [
        ("easA", "apsA", "ACTIVE", "https://as.example/token"),
        ("easM", "mcpM", "ACTIVE", "https://as.example/token"),
    ]
    assert orjson.loads(auths[0]["grant_types"]) == ["authorization_code"]
    assert orjson.loads(auths[1]["grant_types"]) == ["client_credentials"]
    assert orjson.loads(auths[1]["detected_metadata"]) == mcp_auth
    assert not tables & {"api_servers", "api_auth_servers", "mcp_servers", "mcp_auth_servers"}
