"""Signing keys with validity periods (rotation keeps old checkpoints verifiable)."""

from __future__ import annotations

import sqlalchemy as sa

from registrar.store.migrations._ddl import new_table
from registrar.store.migrations._types import TIME_TYPE

revision = "0009"
down_revision = "0008"

# Filled at run time: the first checkpoint signed after this migration registers the key in use
# (a migration cannot read the key file).
upgrade, downgrade = new_table(
    "signing_keys",
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("algorithm", sa.String(16), nullable=False),
    sa.Column("public_key", sa.String(128), nullable=False),
    sa.Column("not_before_ms", TIME_TYPE, nullable=False),
    sa.Column("not_after_ms", TIME_TYPE),
    sa.Column("rotation", sa.Text()),
    sa.Column("predecessor_signature", sa.String(128)),
    sa.Column("own_signature", sa.String(128)),
)
