"""Keyword search over events: FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Contentless: the text lives in log_events.body; the index holds only tokens. rowid = seq.
        op.execute(
            "CREATE VIRTUAL TABLE log_event_fts USING fts5("
            "document, content='', tokenize=\"unicode61 remove_diacritics 2\")"
        )
    else:
        op.create_table(
            "log_event_search",
            sa.Column("seq", sa.BigInteger(), sa.ForeignKey("log_events.seq"), primary_key=True),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
        )
        op.create_index(
            "ix_log_event_search_document", "log_event_search", ["document"], postgresql_using="gin"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE log_event_fts")
    else:
        op.drop_table("log_event_search")
