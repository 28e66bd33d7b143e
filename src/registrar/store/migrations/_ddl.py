"""What the migrations repeat: the surrogate key, the columns every entity table has, a resource server's
columns, its authorization servers' table, and adding or dropping columns (batch mode, for SQLite).

Migrations are history: a helper here builds exactly the DDL the migrations built before they used it,
constraint by constraint and in the same order, so a database migrated before and one migrated after are
the same. Only migrations import this module (through ``alembic.op``, so only while one runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

__all__ = [
    "KEY_TYPE",
    "add_columns",
    "auth_server_table",
    "drop_columns",
    "entity_table",
    "resource_server_columns",
    "surrogate_key",
]

# 64-bit on PostgreSQL; INTEGER on SQLite, where only an INTEGER PRIMARY KEY is the rowid.
KEY_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def surrogate_key(name: str = "pk") -> sa.Column[Any]:
    """The auto-incremented key column (its primary-key constraint is declared by the table)."""
    return sa.Column(name, KEY_TYPE, autoincrement=True, nullable=False)


def entity_table(
    name: str, *columns: sa.Column[Any], leading: Sequence[sa.Constraint] = (), unique: Sequence[str] = ()
) -> sa.Table:
    """Create ``name``: ``pk``, the public ``id`` (unique), ``columns``, then ``created_ms`` and
    ``last_updated_ms``.

    ``leading`` constraints (made by the caller, so before this call) come before the ``id`` constraint in
    the DDL; each column in ``unique`` gets its own unique constraint after it.
    """
    constraints = [
        sa.PrimaryKeyConstraint("pk", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("id", name=op.f(f"uq_{name}_id")),
        *(sa.UniqueConstraint(column, name=op.f(f"uq_{name}_{column}")) for column in unique),
    ]
    return op.create_table(
        name,
        surrogate_key(),
        sa.Column("id", sa.String(length=20), nullable=False),
        *columns,
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_ms", sa.BigInteger(), nullable=False),
        *leading,
        *constraints,
    )


def resource_server_columns() -> list[sa.Column[Any]]:
    """What every kind of resource server had in its own table: the URL, the names, the status."""
    return [
        sa.Column("resource_url", sa.Text(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
    ]


def auth_server_table(name: str, servers: str, *columns: sa.Column[Any]) -> sa.Table:
    """Create ``name``, the authorization servers of the ``servers`` table: one per issuer and server."""
    key = f"{servers.removesuffix('s')}_id"
    return entity_table(
        name,
        sa.Column(key, sa.String(length=20), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        *columns,
        leading=[
            sa.ForeignKeyConstraint([key], [f"{servers}.id"], name=op.f(f"fk_{name}_{key}_{servers}")),
            sa.UniqueConstraint(key, "issuer", name=op.f(f"uq_{name}_{key}")),
        ],
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
