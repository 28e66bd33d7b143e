"""The transparency log's checkpoint job: sign the tree when it grew (or on the heartbeat), then witness it.

Replicas may all run it: signing locks the log head and signs each tree size once (a replica that finds the
latest checkpoint current and fresh does nothing), and each witness is leased to one replica at a time.
"""

from __future__ import annotations

from sqlalchemy import Engine

from registrar.config import Settings
from registrar.ids import utcnow
from registrar.integrity.keys import to_ms
from registrar.integrity.service import signer_for
from registrar.tlog import Checkpoint, default_origin, sign_tree_checkpoint, submit_to_witnesses

__all__ = ["checkpoint_tree", "tlog_origin", "wall_clock_ms"]


def wall_clock_ms() -> int:
    """Now, in epoch milliseconds."""
    return to_ms(utcnow())


def tlog_origin(settings: Settings, org_id: str) -> str:
    """The checkpoint origin (and the log's note key name): ``REGISTRAR_TLOG_ORIGIN`` or the default."""
    return settings.tlog_origin or default_origin(org_id)


def checkpoint_tree(engine: Engine, settings: Settings, org_id: str) -> Checkpoint | None:
    """Sign a checkpoint if one is due, then submit the latest to the witnesses that lack it.

    Returns the checkpoint signed now (None when the latest was current). Raises
    :class:`~registrar.tlog.CheckpointRefused` when the tree no longer extends the latest checkpoint and
    :class:`~registrar.integrity.keys.SigningKeyRefused` when this process's key is not the current one.
    """
    heartbeat_ms = int(settings.tlog_heartbeat_seconds * 1000)
    with engine.begin() as conn:
        signed = sign_tree_checkpoint(
            conn,
            signer_for(settings),
            tlog_origin(settings, org_id),
            wall_clock_ms(),
            heartbeat_ms=heartbeat_ms,
        )
    submit_to_witnesses(settings, engine, wall_clock_ms)
    return signed
