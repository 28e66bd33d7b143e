"""Walking the log to prove it intact, or to say precisely what was edited, deleted, inserted or reordered.

Each event stores its predecessor's hash and its own hash over the exact stored bytes. The walk checks, per
event: its content against its own hash (an edit), its sequence number against the last one (a deletion),
and its link against its predecessor's hash (a break). Breaks are then explained by where the link points:
two back means the event in between was inserted; forward or further back means events were reordered;
nowhere means the predecessor was replaced (edited and re-hashed) or events were deleted and renumbered.
Checkpoints are checked for signature, succession and agreement with the events they describe; each must be
signed by a published key (:mod:`registrar.integrity.keys`) and dated inside that key's validity period, and
the published keys must form an unbroken, doubly signed rotation chain that includes the trusted key.
The Merkle tree is checked against the stored bytes (:mod:`registrar.integrity.tree`), and so is every
column and target row the log is queried by (:mod:`registrar.integrity.columns`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from registrar.store.eventlog import chain_hash
from registrar.store.schema import log_events, log_head

from .checkpoints import Checkpoint, list_checkpoints, payload_digest
from .columns import check_columns
from .findings import Finding
from .keys import ALGORITHM, PublishedKey, check_keys, published_keys, to_ms
from .scan import event_batches
from .signing import key_id_of, verify_signature
from .tree import check_tree

__all__ = ["Finding", "verification_keys", "verify_derived", "verify_log"]


@dataclass(frozen=True, slots=True)
class _Break:
    seq: int
    points_to: str  # the predecessor hash this event claims
    previous_seq: int


def _rows(conn: Connection, start: int) -> Iterator[Any]:
    columns = (log_events.c.uuid, log_events.c.prev_hash, log_events.c.hash, log_events.c.body)
    for batch in event_batches(conn, *columns, after_seq=start - 1):
        yield from batch


def verification_keys(conn: Connection, trusted: str | None) -> list[PublishedKey]:
    """The keys to check checkpoints with: the published ones, or (before any was published) ``trusted``."""
    keys = published_keys(conn)
    if keys or trusted is None:
        return keys
    return [PublishedKey(key_id_of(trusted) or "?", ALGORITHM, trusted, 0, None)]


def verify_log(
    conn: Connection,
    public_key_b64: str | None,
    *,
    since_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Finding]:
    """Every problem in the log (empty when it is intact); ``since_seq`` trusts the link into that event.

    ``public_key_b64`` is the key the caller trusts (its own signing key, or one pinned from outside); the
    published keys are believed only if they chain to it. None trusts the published keys as they are.
    """
    head = conn.execute(select(log_head)).one()
    start = max(int(head.first_seq), since_seq or 0)
    findings: list[Finding] = []
    breaks: list[_Break] = []
    hashes: dict[str, int] = {}
    expected_seq = start
    expected_prev: str | None = head.anchor_hash if start == head.first_seq else None
    last: Any = None
    for row in _rows(conn, start):
        if chain_hash(row.prev_hash, row.body.encode()) != row.hash:
            findings.append(
                Finding(
                    "edited",
                    row.seq,
                    f"event seq {row.seq} ({row.uuid}) was edited: its content no longer matches its hash",
                )
            )
        if row.seq != expected_seq:
            gap = f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq}..{row.seq - 1}"
            findings.append(Finding("deleted", expected_seq, f"events seq {gap} were deleted"))
        elif expected_prev is not None and row.prev_hash != expected_prev:
            breaks.append(_Break(row.seq, row.prev_hash, last.seq if last is not None else start - 1))
        hashes[row.hash] = row.seq
        expected_prev, expected_seq, last = row.hash, row.seq + 1, row
        if progress is not None:
            progress(1)
    findings += _explain(breaks, hashes)
    if last is None:
        if head.seq >= start:
            findings.append(
                Finding(
                    "head", None, f"the log should run to seq {head.seq} but holds no events from seq {start}"
                )
            )
    elif (last.seq, last.hash) != (head.seq, head.hash):
        findings.append(
            Finding(
                "head",
                None,
                f"the log ends at seq {last.seq} but its head records seq {head.seq}: events were "
                + ("appended outside Registrar" if last.seq > head.seq else "deleted from the end"),
            )
        )
    keys = verification_keys(conn, public_key_b64)
    findings += [Finding("key", None, problem) for problem in check_keys(keys, public_key_b64)]
    findings += _check_checkpoints(conn, keys, head, start)
    return sorted(findings, key=lambda f: (f.seq is None, f.seq or 0, f.kind))


def verify_derived(conn: Connection, chain: list[Finding], *, since_seq: int | None = None) -> list[Finding]:
    """What the Merkle tree and the indexed columns say beyond ``chain`` (``verify_log``'s findings).

    An event the chain already shows edited needs no second word from its leaf or its columns; they speak
    alone when the chain was re-hashed over the edit, or when only a column was changed.
    """
    edited = {f.seq for f in chain if f.kind == "edited"}
    derived = check_tree(conn) + check_columns(conn, since_seq or 1)
    return sorted(
        (f for f in derived if f.seq is None or f.seq not in edited),
        key=lambda f: (f.seq is None, f.seq or 0, f.kind),
    )


def _explain(breaks: list[_Break], hashes: dict[str, int]) -> list[Finding]:
    findings: list[Finding] = []
    explained: set[int] = set()
    for brk in breaks:
        target = hashes.get(brk.points_to)
        if target is not None and target > brk.seq:
            # Chains to a later event: the two swapped places; the break at the later one is the same swap.
            findings.append(
                Finding("reordered", brk.seq, f"events seq {brk.seq} and {target} were reordered")
            )
            explained.update({brk.seq, target + 1, target})
    for brk in breaks:
        if brk.seq in explained:
            continue
        target = hashes.get(brk.points_to)
        if target is not None and target == brk.previous_seq - 1:
            inserted = brk.previous_seq
            findings.append(
                Finding(
                    "inserted",
                    inserted,
                    f"event seq {inserted} was inserted: seq {brk.seq} chains to seq {target}",
                )
            )
            explained.add(inserted)
        elif target is not None:
            findings.append(
                Finding(
                    "reordered",
                    brk.seq,
                    f"event seq {brk.seq} chains to seq {target}, not seq {brk.previous_seq}",
                )
            )
    for brk in breaks:
        if brk.seq in explained or brk.previous_seq in explained or hashes.get(brk.points_to) is not None:
            continue
        findings.append(
            Finding(
                "altered",
                brk.previous_seq,
                f"event seq {brk.previous_seq} was replaced or edited and re-hashed, or events before "
                f"seq {brk.seq} were deleted and the rest renumbered: seq {brk.seq} chains to an event "
                "that is not in the log",
            )
        )
    return findings


def _check_signer(checkpoint: Checkpoint, keys: dict[str, tuple[int, PublishedKey]], last: int) -> str | None:
    """What is wrong with who signed ``checkpoint`` and when (None if nothing).

    ``keys`` maps key ids to (rotation rank, key); ``last`` is the rank of the previous checkpoint's key.
    """
    ranked = keys.get(checkpoint.key_id)
    if ranked is None:
        return f"signed by key {checkpoint.key_id}, which is not a published signing key"
    rank, key = ranked
    if not verify_signature(key.public_key, checkpoint.payload.encode(), checkpoint.signature):
        return "the signature does not verify"
    fields = checkpoint.fields()
    if fields.get("keyId", checkpoint.key_id) != checkpoint.key_id:
        return f"its payload names key {fields.get('keyId')} but it is filed under key {checkpoint.key_id}"
    try:
        dated = to_ms(datetime.fromisoformat(str(fields["time"])))
    except (KeyError, ValueError):
        return "it carries no valid time"
    if not key.covers(dated):
        return f"dated {fields['time']}, outside the validity of key {key.key_id} ({key.period()})"
    if rank < last:
        return f"signed by key {key.key_id}, which an earlier checkpoint's key had already replaced"
    return None


def _check_checkpoints(conn: Connection, keys: list[PublishedKey], head: Any, start: int) -> list[Finding]:
    findings: list[Finding] = []
    previous: str | None = None
    anchored = int(head.first_seq) == 1
    ranked = {key.key_id: (rank, key) for rank, key in enumerate(keys)}
    last_rank = 0
    for checkpoint in list_checkpoints(conn):
        name = f"checkpoint {checkpoint.id}"
        problem = _check_signer(checkpoint, ranked, last_rank)
        if problem is not None:
            findings.append(Finding("checkpoint", None, f"{name}: {problem}"))
            previous = payload_digest(checkpoint.payload)
            continue
        last_rank = ranked[checkpoint.key_id][0]
        fields = checkpoint.fields()
        if fields.get("previous") != previous:
            findings.append(Finding("checkpoint", None, f"{name}: its predecessor is missing or was altered"))
        previous = payload_digest(checkpoint.payload)
        if (fields["firstSeq"], fields["anchorHash"]) == (head.first_seq, head.anchor_hash):
            anchored = True
        seq = int(fields["seq"])
        if seq > head.seq:
            findings.append(
                Finding(
                    "checkpoint",
                    None,
                    f"{name} covers seq {seq} but the log ends at seq {head.seq}: "
                    "events deleted from the end",
                )
            )
        elif seq >= max(start, 1) and seq >= head.first_seq:
            stored = conn.execute(select(log_events.c.hash).where(log_events.c.seq == seq)).scalar()
            if stored != fields["hash"]:
                findings.append(
                    Finding("checkpoint", seq, f"{name}: the event at seq {seq} differs from the signed one")
                )
    if not anchored:
        findings.append(
            Finding(
                "checkpoint",
                None,
                f"the log starts at seq {head.first_seq} but no signed checkpoint anchors that start",
            )
        )
    return findings
