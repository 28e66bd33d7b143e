"""Entry points used by the jobs, the CLI and the API: one transaction each."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Engine

from registrar.config import Settings

from .checkpoints import Checkpoint, create_checkpoint
from .retention import purge
from .signing import Signer

__all__ = ["checkpoint_now", "purge_now", "signer_for"]


@cache
def signer_for(settings: Settings) -> Signer:
    """The checkpoint signer of these settings (loaded, or generated with mode 0600, once per process)."""
    return Signer.load(settings.signing_key, settings.signing_key_file)


def checkpoint_now(
    engine: Engine, settings: Settings, org_id: str, *, min_interval_s: float = 0
) -> Checkpoint | None:
    """Sign the head now (or skip, when another replica signed less than ``min_interval_s`` ago)."""
    with engine.begin() as conn:
        return create_checkpoint(
            conn, signer_for(settings), org_id, min_interval_ms=int(min_interval_s * 1000)
        )


def purge_now(engine: Engine, settings: Settings, org_id: str) -> int:
    """Apply the retention policy now; returns the number of events removed."""
    with engine.begin() as conn:
        return purge(conn, signer_for(settings), org_id)
