"""Signed checkpoints: "at this time the retained log ran from firstSeq (chained to anchorHash) to seq".

Made periodically even when no events arrived (as CloudTrail's empty digest files), and by every purge,
so the retained log stays anchored. Each payload names its predecessor's digest, so a deleted or altered
checkpoint is itself detectable. An outside party verifies them with the published public keys alone:
each checkpoint names the key that signed it (``keyId``), and is dated inside that key's validity period
(:mod:`registrar.integrity.keys`). Only the current published key signs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from registrar.ids import format_timestamp, utcnow
from registrar.store.schema import log_checkpoints, log_head

from .keys import from_ms, require_current, to_ms
from .signing import Signer

__all__ = ["Checkpoint", "create_checkpoint", "latest_checkpoint", "list_checkpoints", "payload_digest"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int
    payload: str
    signature: str
    key_id: str

    def fields(self) -> dict[str, Any]:
        """The signed statement, parsed."""
        parsed: dict[str, Any] = orjson.loads(self.payload)
        return parsed


def payload_digest(payload: str) -> str:
    """The digest the next checkpoint names as its ``previous``."""
    return hashlib.sha256(payload.encode()).hexdigest()


def _row(row: Any) -> Checkpoint:
    return Checkpoint(id=row.id, payload=row.payload, signature=row.signature, key_id=row.key_id)


def latest_checkpoint(conn: Connection) -> Checkpoint | None:
    """The most recent checkpoint."""
    row = conn.execute(select(log_checkpoints).order_by(log_checkpoints.c.id.desc()).limit(1)).first()
    return None if row is None else _row(row)


def list_checkpoints(conn: Connection, *, after_id: int = 0, limit: int | None = None) -> list[Checkpoint]:
    """Checkpoints in creation order."""
    query = select(log_checkpoints).where(log_checkpoints.c.id > after_id).order_by(log_checkpoints.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [_row(r) for r in conn.execute(query)]


def create_checkpoint(
    conn: Connection, signer: Signer, org_id: str, *, min_interval_ms: int = 0
) -> Checkpoint | None:
    """Sign the current head, unless a checkpoint newer than ``min_interval_ms`` exists (then None).

    Locks the log head so the statement describes a committed prefix and replicas don't sign twice.
    Raises :class:`~registrar.integrity.keys.SigningKeyRefused` when ``signer`` is not the current key.
    """
    head = conn.execute(select(log_head).where(log_head.c.singleton == 1).with_for_update()).one()
    now = utcnow()
    now_ms = to_ms(now)
    key = require_current(conn, signer, now_ms)
    if now_ms < key.not_before_ms:
        # This replica's clock is behind the one that rotated: date the checkpoint inside the key's period.
        now_ms = key.not_before_ms
        now = from_ms(now_ms)
    previous = latest_checkpoint(conn)
    if previous is not None and min_interval_ms:
        last_ms = conn.execute(
            select(log_checkpoints.c.created_ms).where(log_checkpoints.c.id == previous.id)
        ).scalar_one()
        if now_ms - last_ms < min_interval_ms:
            return None
    payload = orjson.dumps(
        {
            "version": 1,
            "org": org_id,
            "time": format_timestamp(now),
            "seq": int(head.seq),
            "hash": head.hash,
            "firstSeq": int(head.first_seq),
            "anchorHash": head.anchor_hash,
            "previous": payload_digest(previous.payload) if previous else None,
            "keyId": signer.key_id,
        },
        option=orjson.OPT_SORT_KEYS,
    ).decode()
    signature = signer.sign(payload.encode())
    result = conn.execute(
        insert(log_checkpoints).values(
            created_ms=now_ms,
            seq=head.seq,
            hash=head.hash,
            payload=payload,
            signature=signature,
            key_id=signer.key_id,
        )
    )
    (checkpoint_id,) = result.inserted_primary_key or (0,)
    return Checkpoint(id=int(checkpoint_id), payload=payload, signature=signature, key_id=signer.key_id)
