"""The published signing keys: every key that signed checkpoints, its validity period, its rotations.

Only public keys are stored (``signing_keys``). The current key has no ``not_after``. A rotation retires
the current key and introduces its successor at one instant; the statement recording it (both keys, the
retired key's period, the instant) is signed by both keys and stored with the successor. Trust then flows
along the chain from any one key a verifier already trusts: the statements cannot be rewritten without a
private key, and every row must agree with the statements that name it, so an edited, swapped or deleted
key row is reported by :func:`check_keys`.

Replicas share the table: a process whose key is not the current one refuses to sign
(:class:`SigningKeyRefused`), so a replica left with a retired (perhaps compromised) key cannot extend
the log's signed history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from registrar.ids import format_timestamp
from registrar.store.schema import log_checkpoints, signing_keys

from .signing import Signer, key_id_of, verify_signature

__all__ = [
    "ALGORITHM",
    "PublishedKey",
    "SigningKeyRefused",
    "check_keys",
    "from_ms",
    "published_keys",
    "require_current",
    "retire_and_replace",
    "to_ms",
]

ALGORITHM = "Ed25519"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_ROTATION = "registrar.signing-key-rotation"


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, exactly (no float rounding), truncated as timestamps are."""
    return (moment - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The instant ``ms`` milliseconds after the epoch."""
    return _EPOCH + ms * _MS


class SigningKeyRefused(RuntimeError):
    """This process's signing key may not sign: it was retired, or it was never published."""


@dataclass(frozen=True, slots=True)
class PublishedKey:
    """One row of ``signing_keys``."""

    key_id: str
    algorithm: str
    public_key: str
    not_before_ms: int
    not_after_ms: int | None
    rotation: str | None = None
    predecessor_signature: str | None = None
    own_signature: str | None = None

    @property
    def current(self) -> bool:
        """Whether this key has not been retired."""
        return self.not_after_ms is None

    def covers(self, moment_ms: int) -> bool:
        """Whether a checkpoint dated ``moment_ms`` falls in this key's period ``[not_before, not_after)``."""
        return self.not_before_ms <= moment_ms and (
            self.not_after_ms is None or moment_ms < self.not_after_ms
        )

    def period(self) -> str:
        """``from T`` or ``from T to T'``, for people."""
        start = format_timestamp(from_ms(self.not_before_ms))
        if self.not_after_ms is None:
            return f"current since {start}"
        return f"from {start} to {format_timestamp(from_ms(self.not_after_ms))}"

    def as_json(self) -> dict[str, Any]:
        """The published form (``GET /api/v1/logs/checkpoints``): enough for an outsider to check it."""
        return {
            "keyId": self.key_id,
            "algorithm": self.algorithm,
            "key": self.public_key,
            "notBefore": format_timestamp(from_ms(self.not_before_ms)),
            "notAfter": None if self.not_after_ms is None else format_timestamp(from_ms(self.not_after_ms)),
            "rotation": None
            if self.rotation is None
            else {
                "statement": self.rotation,
                "predecessorSignature": self.predecessor_signature,
                "signature": self.own_signature,
            },
        }


def published_keys(conn: Connection) -> list[PublishedKey]:
    """Every published key, oldest first."""
    rows = conn.execute(select(signing_keys).order_by(signing_keys.c.not_before_ms, signing_keys.c.key_id))
    return [
        PublishedKey(
            key_id=row.key_id,
            algorithm=row.algorithm,
            public_key=row.public_key,
            not_before_ms=int(row.not_before_ms),
            not_after_ms=None if row.not_after_ms is None else int(row.not_after_ms),
            rotation=row.rotation,
            predecessor_signature=row.predecessor_signature,
            own_signature=row.own_signature,
        )
        for row in rows
    ]


def require_current(conn: Connection, signer: Signer, now_ms: int) -> PublishedKey:
    """The published row of ``signer``'s key, which must be the current key; publishes the first key.

    Call with the log head locked (as checkpoints and rotations do), so replicas agree on one first key.
    Checkpoints signed before this table existed (migration 0009) date the first key's period back.
    """
    keys = published_keys(conn)
    current = next((key for key in keys if key.current), None)
    if current is None and not keys:
        earliest = conn.execute(
            select(func.min(log_checkpoints.c.created_ms)).where(log_checkpoints.c.key_id == signer.key_id)
        ).scalar()
        current = PublishedKey(
            signer.key_id, ALGORITHM, signer.public_key_b64(), min(now_ms, int(earliest or now_ms)), None
        )
        conn.execute(
            insert(signing_keys).values(
                key_id=current.key_id,
                algorithm=current.algorithm,
                public_key=current.public_key,
                not_before_ms=current.not_before_ms,
            )
        )
        return current
    if current is not None and current.key_id == signer.key_id:
        return current
    now = f"the current signing key is {current.key_id}" if current else "no signing key is current"
    mine = next((key for key in keys if key.key_id == signer.key_id), None)
    if mine is not None:
        raise SigningKeyRefused(
            f"this process's signing key {signer.key_id} was retired ({mine.period()}) and {now}: give "
            "this replica the current key (the registrar-signing.key in the data directory of the host "
            "that ran `registrar keys rotate`, or its REGISTRAR_SIGNING_KEY) and restart it"
        )
    raise SigningKeyRefused(
        f"this process's signing key {signer.key_id} is not a published signing key and {now}: replicas "
        "must share one signing key (copy the key file or set the same REGISTRAR_SIGNING_KEY everywhere)"
    )


def _statement(retired: PublishedKey, successor_id: str, successor_public: str, at_ms: int) -> str:
    """The rotation statement both keys sign: canonical JSON, rebuilt byte for byte by verifiers."""
    return orjson.dumps(
        {
            "type": _ROTATION,
            "time": format_timestamp(from_ms(at_ms)),
            "retired": {
                "algorithm": retired.algorithm,
                "key": retired.public_key,
                "keyId": retired.key_id,
                "notBefore": format_timestamp(from_ms(retired.not_before_ms)),
            },
            "successor": {"algorithm": ALGORITHM, "key": successor_public, "keyId": successor_id},
        },
        option=orjson.OPT_SORT_KEYS,
    ).decode()


def retire_and_replace(conn: Connection, old: Signer, new: Signer, now_ms: int) -> PublishedKey:
    """Retire ``old`` (the current key) and publish ``new`` from the same instant; returns ``old``'s row.

    Call with the log head locked. The instant is after the latest checkpoint, so every checkpoint ``old``
    signed falls inside its period even when replica clocks disagree a little.
    """
    current = require_current(conn, old, now_ms)
    latest = conn.execute(select(func.max(log_checkpoints.c.created_ms))).scalar()
    at_ms = max(now_ms, int(latest or 0) + 1, current.not_before_ms + 1)
    statement = _statement(current, new.key_id, new.public_key_b64(), at_ms)
    payload = statement.encode()
    conn.execute(
        update(signing_keys).where(signing_keys.c.key_id == current.key_id).values(not_after_ms=at_ms)
    )
    conn.execute(
        insert(signing_keys).values(
            key_id=new.key_id,
            algorithm=ALGORITHM,
            public_key=new.public_key_b64(),
            not_before_ms=at_ms,
            rotation=statement,
            predecessor_signature=old.sign(payload),
            own_signature=new.sign(payload),
        )
    )
    return PublishedKey(current.key_id, current.algorithm, current.public_key, current.not_before_ms, at_ms)


def check_keys(keys: list[PublishedKey], trusted: str | None) -> list[str]:
    """What is wrong with the published keys (empty when the chain holds and includes ``trusted``)."""
    problems: list[str] = []
    for key in keys:
        if key.algorithm != ALGORITHM or key_id_of(key.public_key) != key.key_id:
            problems.append(
                f"signing key {key.key_id}: its public key does not match its id (the row was altered)"
            )
    currents = [key.key_id for key in keys if key.current]
    if keys and currents != [keys[-1].key_id]:
        problems.append(
            f"the published keys should end with exactly one current key, but {len(currents)} are current"
        )
    for index, key in enumerate(keys):
        if index == 0:
            if key.rotation is not None:
                problems.append(
                    f"signing key {key.key_id} was introduced by a rotation, but the key it replaced is "
                    "not published (deleted)"
                )
            continue
        problems += _check_rotation(keys[index - 1], key)
    if trusted is not None and keys and trusted not in {key.public_key for key in keys}:
        problems.append(
            f"the trusted key {key_id_of(trusted) or repr(trusted)} is not among the published signing keys: "
            "they cannot be trusted"
        )
    return problems


def _check_rotation(retired: PublishedKey, successor: PublishedKey) -> list[str]:
    name = f"the rotation from signing key {retired.key_id} to {successor.key_id}"
    if (
        successor.rotation is None
        or successor.predecessor_signature is None
        or successor.own_signature is None
    ):
        return [f"{name} is not recorded: a key row was inserted or its rotation statement removed"]
    payload = successor.rotation.encode()
    problems = []
    if not (
        verify_signature(retired.public_key, payload, successor.predecessor_signature)
        and verify_signature(successor.public_key, payload, successor.own_signature)
    ):
        problems.append(f"{name} is not signed by both keys: the statement or a public key was altered")
    expected_at = retired.not_after_ms if retired.not_after_ms is not None else -1
    rebuilt = _statement(retired, successor.key_id, successor.public_key, expected_at)
    if successor.not_before_ms != expected_at or rebuilt != successor.rotation:
        problems.append(
            f"{name}: the key rows no longer match the signed rotation statement (a validity period or "
            "key was altered)"
        )
    return problems
