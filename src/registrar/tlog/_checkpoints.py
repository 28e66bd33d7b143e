"""Checkpoints of the tree as C2SP ``tlog-checkpoint`` signed notes, and the keys that verify them.

One row per tree size in ``tlog_checkpoints``: the note (origin, size, base64 root; no extension lines)
signed by the installation's current signing key under the key name ``origin``. Signing locks the log head,
so the size and root are a committed prefix and replicas sign each size once. The log never signs a tree
that does not extend its latest checkpoint (c2sp.org/tlog-checkpoint: a log MUST NOT sign inconsistent
checkpoints): a tree rewritten or rolled back in the database is refused here, and by the witnesses.

Witness cosignatures (``tlog_cosignatures``) are appended to the note as served.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from registrar.integrity.keys import published_keys, require_current
from registrar.integrity.signing import Signer
from registrar.store.schema import log_head, tlog_checkpoints, tlog_cosignatures

from ._note import ED25519, VerifierKey, checkpoint_body, sign_note
from ._store import DatabaseNodes, MissingNodes, tree_head
from ._tree import consistency_proof, verify_consistency

__all__ = [
    "Checkpoint",
    "CheckpointRefused",
    "checkpoint_at",
    "default_origin",
    "latest_checkpoint",
    "sign_tree_checkpoint",
    "store_cosignature",
    "verifier_key",
    "verifier_keys",
]


class CheckpointRefused(RuntimeError):
    """The tree no longer extends the latest checkpoint (rolled back or rewritten): nothing is signed."""


def default_origin(org_id: str) -> str:
    """The origin line when ``REGISTRAR_TLOG_ORIGIN`` is unset: schema-less and unique per installation."""
    return f"registrar/{org_id}"


def verifier_key(origin: str, public_b64: str) -> str:
    """The signed-note verifier key of a signing key (Ed25519, type 0x01) for checkpoints of ``origin``."""
    return VerifierKey(origin, ED25519, base64.b64decode(public_b64)).encode()


def verifier_keys(conn: Connection, origin: str) -> list[str]:
    """Every published signing key as a verifier key: the current one first, then the retired ones."""
    keys = sorted(published_keys(conn), key=lambda k: (k.current, k.not_before_ms), reverse=True)
    return [verifier_key(origin, key.public_key) for key in keys]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed checkpoint of the tree and the witness cosignatures stored for it."""

    size: int
    root: bytes
    signed_note: str  # the log's own signed note
    key_id: str  # the signing key (``signing_keys.key_id``) that signed it
    created_ms: int
    cosignatures: tuple[str, ...] = ()  # verified witness signature lines, each ending in a newline

    @property
    def note(self) -> str:
        """The note as served: the log's signature followed by the witnesses' cosignatures."""
        return self.signed_note + "".join(self.cosignatures)

    @property
    def body(self) -> str:
        """The checkpoint text (origin, size, root), without signatures."""
        return self.signed_note[: self.signed_note.rfind("\n\n") + 1]


def _cosignatures(conn: Connection, size: int) -> tuple[str, ...]:
    rows = conn.execute(
        select(tlog_cosignatures.c.line)
        .where(tlog_cosignatures.c.size == size)
        .order_by(tlog_cosignatures.c.witness_name)
    )
    return tuple(rows.scalars())


def _load(conn: Connection, size: int | None) -> Checkpoint | None:
    query = select(tlog_checkpoints)
    if size is None:
        query = query.order_by(tlog_checkpoints.c.size.desc()).limit(1)
    else:
        query = query.where(tlog_checkpoints.c.size == size)
    row = conn.execute(query).first()
    if row is None:
        return None
    return Checkpoint(
        size=int(row.size),
        root=bytes(row.root),
        signed_note=row.note,
        key_id=row.key_id,
        created_ms=int(row.created_ms),
        cosignatures=_cosignatures(conn, int(row.size)),
    )


def latest_checkpoint(conn: Connection) -> Checkpoint | None:
    """The checkpoint of the largest tree signed so far, with its cosignatures."""
    return _load(conn, None)


def checkpoint_at(conn: Connection, size: int) -> Checkpoint | None:
    """The checkpoint of the tree of ``size`` leaves, if one was signed."""
    return _load(conn, size)


def _extends(conn: Connection, latest: Checkpoint, size: int, root: bytes) -> bool:
    if size < latest.size:
        return False
    try:
        proof = consistency_proof(latest.size, size, DatabaseNodes(conn))
    except MissingNodes:
        return False
    return verify_consistency(latest.size, size, latest.root, root, proof)


def sign_tree_checkpoint(
    conn: Connection, signer: Signer, origin: str, now_ms: int, *, heartbeat_ms: int
) -> Checkpoint | None:
    """Sign the current tree if it grew since the latest checkpoint, or if that one is ``heartbeat_ms`` old.

    Returns the new (or re-signed) checkpoint, or None when the latest one is current and fresh. Locks the
    log head. Raises :class:`~registrar.integrity.keys.SigningKeyRefused` when ``signer`` is not the current
    key, and :class:`CheckpointRefused` when the tree does not extend the latest checkpoint.
    """
    conn.execute(select(log_head.c.singleton).where(log_head.c.singleton == 1).with_for_update()).one()
    head = tree_head(conn)
    latest = latest_checkpoint(conn)
    if latest is not None:
        if not _extends(conn, latest, head.size, head.root):
            raise CheckpointRefused(
                f"the tree ({head.size} entries) does not extend the latest checkpoint ({latest.size} "
                "entries): the log was rolled back or rewritten in the database; no checkpoint is signed"
            )
        if latest.size == head.size and now_ms - latest.created_ms < heartbeat_ms:
            return None
    key = require_current(conn, signer, now_ms)
    now_ms = max(now_ms, key.not_before_ms)  # a clock behind the rotating replica's: stay in the key's period
    public = base64.b64decode(signer.public_key_b64())
    note = sign_note(
        checkpoint_body(origin, head.size, head.root),
        origin,
        public,
        lambda message: base64.b64decode(signer.sign(message)),
    )
    values = {"root": head.root, "note": note, "key_id": signer.key_id, "created_ms": now_ms}
    if latest is not None and latest.size == head.size:
        # The heartbeat: re-signed (byte-identical unless the key rotated), dated now, cosignatures kept.
        conn.execute(update(tlog_checkpoints).where(tlog_checkpoints.c.size == head.size).values(values))
    else:
        conn.execute(insert(tlog_checkpoints).values(size=head.size, **values))
    return Checkpoint(
        size=head.size,
        root=head.root,
        signed_note=note,
        key_id=signer.key_id,
        created_ms=now_ms,
        cosignatures=_cosignatures(conn, head.size),
    )


def store_cosignature(conn: Connection, size: int, witness: str, line: str, now_ms: int) -> None:
    """Keep ``witness``'s verified cosignature line on the checkpoint of ``size`` (replacing an older one)."""
    conn.execute(
        delete(tlog_cosignatures).where(
            tlog_cosignatures.c.size == size, tlog_cosignatures.c.witness_name == witness
        )
    )
    conn.execute(
        insert(tlog_cosignatures).values(size=size, witness_name=witness, line=line, created_ms=now_ms)
    )
