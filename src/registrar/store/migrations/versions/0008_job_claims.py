"""Claims for periodic per-object work (e.g. one MCP refresh per server per interval across replicas)."""

from __future__ import annotations

import sqlalchemy as sa

from registrar.store.migrations._ddl import new_table
from registrar.store.migrations._types import TIME_TYPE

revision = "0008"
down_revision = "0007"

upgrade, downgrade = new_table(
    "job_claims",
    sa.Column("job", sa.String(64), primary_key=True),
    sa.Column("object_id", sa.String(64), primary_key=True),
    sa.Column("claimed_ms", TIME_TYPE, nullable=False),
)
