"""What the migrations repeat: the constraint names, the surrogate key, the columns every entity table
has, one-row tables, the tables of the first two kinds of resource server, the two functions of a migration
that only creates a table, and adding or dropping columns (batch mode, for SQLite). The column types they
share are in ``_types``.

Migrations are history: a helper here builds exactly the DDL the migrations built before they used it,
constraint by constraint and in the same order, so a database migrated before and one migrated after are
the same. Once a migration uses a helper, what the helper sends to the database never changes: new
behaviour is a new helper (or a new keyword whose default keeps the old behaviour). Only migrations import
this module, and they call into ``alembic.op`` only while one runs: Alembic imports every script to read
the revision graph (``/readyz`` does, with no migration running), so nothing here runs ``op`` at import.

Columns are written as ``schema.py`` writes them: a column allows NULL unless it says ``nullable=False`` or
is part of the primary key (SQLAlchemy's default), so ``nullable=True`` is never spelt out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._types import ID_TYPE, KEY_TYPE, TIME_TYPE

__all__ = [
    "add_columns",
    "api_auth_servers_table",
    "api_servers_table",
    "drop_columns",
    "entity_table",
    "foreign_key",
    "keyed_table",
    "mcp_auth_servers_table",
    "mcp_servers_table",
    "new_table",
    "primary_key",
    "resource_server_columns",
    "singleton_table",
    "surrogate_key",
    "unique_key",
]


def primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """``table``'s primary key, named ``pk_<table>`` (``schema.py``'s naming convention)."""
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def foreign_key(table: str, column: str, target: str, **options: Any) -> sa.ForeignKeyConstraint:
    """``table.column`` refers to ``target`` (``"<table>.<column>"``), named as the convention names it."""
    name = op.f(f"fk_{table}_{column}_{target.split('.')[0]}")
    return sa.ForeignKeyConstraint([column], [target], name=name, **options)


def unique_key(table: str, *columns: str) -> sa.UniqueConstraint:
    """A unique constraint on ``columns`` of ``table``, named ``uq_<table>_<first column>``."""
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{columns[0]}"))


def surrogate_key(name: str = "pk") -> sa.Column[Any]:
    """The auto-incremented key column (its primary-key constraint is declared by the table)."""
    return sa.Column(name, KEY_TYPE, autoincrement=True, nullable=False)


def keyed_table(
    name: str,
    *columns: sa.Column[Any],
    leading: Sequence[sa.Constraint] = (),
    unique: Sequence[str | tuple[str, ...]] = (),
) -> sa.Table:
    """Create ``name``: ``pk``, the public ``id`` (unique), then ``columns``.

    ``leading`` constraints (made by the caller, so before this call) come before the key constraints in the
    DDL; each entry of ``unique`` (a column, or several) gets its own unique constraint after them.
    """
    return op.create_table(
        name,
        surrogate_key(),
        sa.Column("id", ID_TYPE, nullable=False),
        *columns,
        *leading,
        primary_key(name, "pk"),
        unique_key(name, "id"),
        *(unique_key(name, *((entry,) if isinstance(entry, str) else entry)) for entry in unique),
    )


def entity_table(
    name: str,
    *columns: sa.Column[Any],
    leading: Sequence[sa.Constraint] = (),
    unique: Sequence[str | tuple[str, ...]] = (),
) -> sa.Table:
    """A ``keyed_table`` whose rows also record when they were created and last updated (epoch ms)."""
    return keyed_table(
        name,
        *columns,
        sa.Column("created_ms", TIME_TYPE, nullable=False),
        sa.Column("last_updated_ms", TIME_TYPE, nullable=False),
        leading=leading,
        unique=unique,
    )


def singleton_table(name: str, *columns: sa.Column[Any]) -> sa.Table:
    """Create ``name``, a table of one row: keyed by ``singleton`` (always 1), then ``columns``."""
    return op.create_table(
        name,
        sa.Column("singleton", sa.Integer(), nullable=False),
        *columns,
        primary_key(name, "singleton"),
    )


def new_table(name: str, *columns: sa.Column[Any]) -> tuple[Callable[[], None], Callable[[], None]]:
    """The ``upgrade`` and ``downgrade`` of a migration that only creates the table ``name``.

    For ``upgrade, downgrade = new_table(...)`` at a script's top level: the columns are built when Alembic
    imports the script, the table only when ``upgrade`` runs (Alembic copies columns already used by an
    earlier run); the primary key is the columns marked ``primary_key=True``.
    """

    def upgrade() -> None:
        op.create_table(name, *columns)

    def downgrade() -> None:
        op.drop_table(name)

    return upgrade, downgrade


def resource_server_columns(*, url_required: bool = True) -> list[sa.Column[Any]]:
    """What every kind of resource server has: the URL, the names, the status."""
    return [
        sa.Column("resource_url", sa.Text(), nullable=not url_required),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("status", sa.String(length=16), nullable=False),
    ]


def _auth_server_table(name: str, servers: str, *columns: sa.Column[Any]) -> sa.Table:
    # The authorization servers of the ``servers`` table: one per issuer and server.
    key = f"{servers.removesuffix('s')}_id"
    return entity_table(
        name,
        sa.Column(key, ID_TYPE, nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        *columns,
        leading=[foreign_key(name, key, f"{servers}.id"), unique_key(name, key, "issuer")],
    )


# The first two kinds had tables of their own until 0015 merged them: 0001 and 0003 create them, 0015's
# downgrade creates them again.


def api_servers_table() -> sa.Table:
    """Create ``api_servers`` (0001)."""
    return entity_table("api_servers", *resource_server_columns(), unique=["resource_url"])


def api_auth_servers_table() -> sa.Table:
    """Create ``api_auth_servers`` (0001): the endpoints and grant types entered by an admin."""
    return _auth_server_table(
        "api_auth_servers",
        "api_servers",
        sa.Column("authorization_endpoint", sa.Text(), nullable=False),
        sa.Column("token_endpoint", sa.Text(), nullable=False),
        sa.Column("grant_types", sa.Text(), nullable=False),
    )


def mcp_servers_table() -> sa.Table:
    """Create ``mcp_servers`` (0003), with what discovery found."""
    return entity_table(
        "mcp_servers",
        *resource_server_columns(),
        sa.Column("resource_name", sa.Text()),
        sa.Column("scopes_supported", sa.Text(), nullable=False),
        sa.Column("last_refreshed_ms", TIME_TYPE),
        unique=["resource_url"],
    )


def mcp_auth_servers_table() -> sa.Table:
    """Create ``mcp_auth_servers`` (0003): the discovered authorization servers, with their metadata."""
    return _auth_server_table(
        "mcp_auth_servers",
        "mcp_servers",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detected_metadata", sa.Text(), nullable=False),
    )


def add_columns(table: str, *columns: sa.Column[Any]) -> None:
    """Add ``columns`` to ``table`` (SQLite copies the table; PostgreSQL alters it)."""
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.add_column(column)


def drop_columns(table: str, *names: str) -> None:
    """Drop the columns ``names`` of ``table``, in that order."""
    with op.batch_alter_table(table) as batch:
        for name in names:
            batch.drop_column(name)
