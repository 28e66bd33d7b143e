"""Claiming periodic per-object work in the database, so N replicas do it once per interval."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from registrar.ids import utcnow
from registrar.store.schema import job_claims

__all__ = ["claim"]


def claim(engine: Engine, job: str, object_id: str, interval_s: float) -> bool:
    """Take ``job`` for ``object_id`` unless another process took it less than ``interval_s`` ago."""
    now_ms = int(utcnow().timestamp() * 1000)
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(job_claims)
        .values(job=job, object_id=object_id, claimed_ms=now_ms)
        .on_conflict_do_update(
            index_elements=["job", "object_id"],
            set_={"claimed_ms": now_ms},
            # Only an expired claim is taken over; a live one leaves the row untouched (no row returned).
            where=job_claims.c.claimed_ms <= now_ms - int(interval_s * 1000),
        )
        .returning(job_claims.c.object_id)
    )
    with engine.begin() as conn:
        return conn.execute(statement).first() is not None
