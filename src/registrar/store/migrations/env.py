"""Alembic environment: migrations run on the connection handed over by ``registrar.store.migrate``."""

from __future__ import annotations

from alembic import context

from registrar.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when alembic is run by hand
    raise RuntimeError("run migrations through `registrar migrate` or registrar.store.migrate()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
