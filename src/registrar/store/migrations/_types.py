"""The column types the migrations share, named for what the columns hold.

Migrations are history: like ``_ddl``'s helpers, a type here never changes once a migration uses it (a
column of another type gets a constant of its own).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["ID_TYPE", "KEY_TYPE", "TIME_TYPE"]

# A surrogate key: 64-bit on PostgreSQL; INTEGER on SQLite, where only an INTEGER PRIMARY KEY is the rowid.
KEY_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# A public id (``id``, and every column that refers to one): ``schema.py``'s ``String(20)``.
ID_TYPE = sa.String(length=20)
# A time (the columns named ``*_ms``): integer milliseconds since the epoch, as ``schema.py`` keeps them.
TIME_TYPE = sa.BigInteger()
