"""Rate-limit counters shared by every replica (used on PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from registrar.store.migrations._ddl import new_table

revision = "0007"
down_revision = "0006"

upgrade, downgrade = new_table(
    "rate_limit_windows",
    sa.Column("caller", sa.String(80), primary_key=True),
    sa.Column("window", sa.BigInteger(), primary_key=True),
    sa.Column("count", sa.Integer(), nullable=False),
)
