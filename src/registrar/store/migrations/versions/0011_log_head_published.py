"""The log head remembers the last published time (published never decreases in log order)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import add_columns, drop_columns
from registrar.store.migrations._types import TIME_TYPE

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    add_columns("log_head", sa.Column("published_ms", TIME_TYPE, nullable=False, server_default="0"))
    # An existing log may hold published times out of order: the next event goes after all of them.
    op.execute("UPDATE log_head SET published_ms = COALESCE((SELECT MAX(published_ms) FROM log_events), 0)")


def downgrade() -> None:
    drop_columns("log_head", "published_ms")
