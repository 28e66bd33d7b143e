"""Witnesses (c2sp.org/tlog-witness@v1.0.0): submitting checkpoints and keeping their cosignatures.

After each checkpoint (and each heartbeat) the log POSTs ``<url>/add-checkpoint``: ``old <size>`` (what the
witness last cosigned), the consistency-proof hashes from that size, a blank line and the signed note. A 200
carries cosignature lines, each verified against the witness's key before it is stored; a 409 with
``text/x.tlog.size`` names the size the witness has: the log resyncs to it and retries once; anything else is
recorded as the witness's ``last_error``. Requests go through the SSRF guard (as event hooks do), are bounded
in time and bytes, and run on the job threads, never on a request thread. A replica holds a short lease on a
witness while it talks to it, so replicas never race each other for one witness.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx2
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from registrar.config import Settings
from registrar.outbound import CallFailed, call, guarded_client
from registrar.store.schema import tlog_witnesses

from ._checkpoints import Checkpoint, latest_checkpoint, store_cosignature
from ._note import NoteError, VerifierKey, parse_verifier_key, verify_cosignature
from ._store import DatabaseNodes, MissingNodes
from ._tree import consistency_proof

__all__ = [
    "SIZE_CONTENT_TYPE",
    "USER_AGENT",
    "Witness",
    "WitnessStatus",
    "submit_to_witnesses",
    "witness_status",
]

log = logging.getLogger(__name__)

USER_AGENT = "Registrar-Witness-Client/0.1"
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_MAX_ERROR_CHARS = 300

Clock = Callable[[], int]  # epoch milliseconds


@dataclass(frozen=True, slots=True)
class Witness:
    """A configured witness: its cosignature key and its submission prefix."""

    key: VerifierKey
    url: str

    @property
    def name(self) -> str:
        """The witness's key name."""
        return self.key.name

    @classmethod
    def configured(cls, settings: Settings) -> list[Witness]:
        """The witnesses of ``REGISTRAR_WITNESSES`` (already validated at start-up)."""
        return [cls(parse_verifier_key(vkey), url) for vkey, url in settings.witnesses]


@dataclass(frozen=True, slots=True)
class WitnessStatus:
    """What ``GET /api/v1/logs/tlog/witnesses`` shows for one witness."""

    name: str
    url: str
    size: int | None  # the largest size it cosigned (None: never)
    lag_entries: int | None  # entries of the latest checkpoint it has not cosigned
    lag_seconds: float | None  # while behind: seconds since it last cosigned; 0 when up to date
    last_error: str | None
    last_attempt_ms: int | None
    last_success_ms: int | None


def _sync(engine: Engine, witnesses: Sequence[Witness]) -> None:
    """Make sure every configured witness has a row (key and URL as configured now)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    with engine.begin() as conn:
        for witness in witnesses:
            vkey = witness.key.encode()
            conn.execute(
                dialect.insert(tlog_witnesses)
                .values(name=witness.name, vkey=vkey, url=witness.url)
                .on_conflict_do_update(index_elements=["name"], set_={"vkey": vkey, "url": witness.url})
            )


def _lease(engine: Engine, name: str, now_ms: int, lease_ms: int) -> int | None:
    """Take the witness for ``lease_ms`` unless another replica holds it; returns its known size (or 0)."""
    with engine.begin() as conn:
        taken = conn.execute(
            update(tlog_witnesses)
            .where(
                tlog_witnesses.c.name == name,
                or_(tlog_witnesses.c.lease_ms.is_(None), tlog_witnesses.c.lease_ms < now_ms),
            )
            .values(lease_ms=now_ms + lease_ms)
        ).rowcount
        if taken != 1:
            return None
        size = conn.execute(select(tlog_witnesses.c.size).where(tlog_witnesses.c.name == name)).scalar()
    return int(size or 0)


def _due(engine: Engine, checkpoint: Checkpoint, witnesses: Sequence[Witness]) -> list[Witness]:
    """The witnesses that have not cosigned ``checkpoint`` as signed (a heartbeat re-submits to all)."""
    with engine.connect() as conn:
        rows = {
            row.name: row
            for row in conn.execute(
                select(tlog_witnesses.c.name, tlog_witnesses.c.size, tlog_witnesses.c.last_success_ms)
            )
        }
    due = []
    for witness in witnesses:
        row = rows.get(witness.name)
        if row is None or row.size != checkpoint.size or (row.last_success_ms or 0) < checkpoint.created_ms:
            due.append(witness)
    return due


def _client(settings: Settings, seen: dict[str, str]) -> httpx2.Client:
    def remember(response: httpx2.Response) -> None:
        seen["content-type"] = response.headers.get("content-type", "")

    return guarded_client(
        settings, timeout=settings.witness_timeout_seconds, user_agent=USER_AGENT, on_response=remember
    )


def _request_body(engine: Engine, old: int, checkpoint: Checkpoint) -> bytes:
    with engine.connect() as conn:
        proof = consistency_proof(old, checkpoint.size, DatabaseNodes(conn))
    lines = "".join(f"{base64.b64encode(digest).decode()}\n" for digest in proof)
    return f"old {old}\n{lines}\n{checkpoint.signed_note}".encode()


def _shown(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    line = "".join(ch if ch.isprintable() else " " for ch in text.strip().split("\n", 1)[0])
    return line[:_MAX_ERROR_CHARS]


@dataclass(frozen=True, slots=True)
class _Outcome:
    size: int | None  # what the witness is now known to have cosigned (None: unchanged)
    line: str | None = None  # the verified cosignature line (on success)
    error: str | None = None


def _exchange(
    settings: Settings, engine: Engine, witness: Witness, old: int, checkpoint: Checkpoint
) -> _Outcome:
    """One submission, with at most one resync after a 409."""
    known: int | None = None
    for _attempt in range(2):
        if old > checkpoint.size:
            return _Outcome(
                known,
                error=f"the witness has cosigned {old} entries, more than this log's latest checkpoint "
                f"({checkpoint.size}): the log was rolled back or truncated",
            )
        try:
            body = _request_body(engine, old, checkpoint)
        except MissingNodes:
            return _Outcome(known, error=f"the tree nodes for a proof from {old} entries are missing")
        seen: dict[str, str] = {}
        try:
            with _client(settings, seen) as client:
                answer = call(
                    client,
                    "POST",
                    f"{witness.url}/add-checkpoint",
                    headers=[("Content-Type", "text/plain; charset=utf-8")],
                    timeout=settings.witness_timeout_seconds,
                    content=body,
                    read_body=True,
                )
        except CallFailed as failure:
            return _Outcome(known, error=failure.reason)
        media = seen.get("content-type", "").split(";", 1)[0].strip().lower()
        if answer.status == 409 and media == SIZE_CONTENT_TYPE:
            text = answer.body.decode("ascii", "replace").strip()
            if not text.isascii() or not text.isdigit():
                return _Outcome(known, error="the witness's 409 does not name a size")
            known = old = int(text)
            continue
        if answer.status != 200:
            return _Outcome(known, error=f"add-checkpoint answered {answer.status}: {_shown(answer.body)}")
        return _cosigned(witness, checkpoint, answer.body)
    return _Outcome(known, error=f"the witness still disagrees about the old size after resyncing to {old}")


def _cosigned(witness: Witness, checkpoint: Checkpoint, body: bytes) -> _Outcome:
    """The cosignature line of a 200 that ``witness``'s key verifies (other keys' lines are ignored)."""
    try:
        lines = body.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return _Outcome(None, error="the witness's answer is not UTF-8")
    failures = []
    for line in lines:
        try:
            verify_cosignature(line, witness.key, checkpoint.body)
        except NoteError as error:
            failures.append(str(error))
            continue
        return _Outcome(checkpoint.size, line=line + "\n")
    reason = failures[0] if failures else "no cosignature lines"
    return _Outcome(None, error=f"the witness's answer holds no valid cosignature from its key: {reason}")


def _record(engine: Engine, witness: Witness, checkpoint: Checkpoint, outcome: _Outcome, now_ms: int) -> None:
    values: dict[str, object] = {"lease_ms": None, "last_attempt_ms": now_ms, "last_error": outcome.error}
    if outcome.size is not None:
        values["size"] = outcome.size
    if outcome.line is not None:
        values["last_success_ms"] = now_ms
    with engine.begin() as conn:
        if outcome.line is not None:
            store_cosignature(conn, checkpoint.size, witness.name, outcome.line, now_ms)
        conn.execute(update(tlog_witnesses).where(tlog_witnesses.c.name == witness.name).values(values))
    if outcome.error:
        log.warning("witness %s: %s", witness.name, outcome.error)


def _submit(
    settings: Settings, engine: Engine, witness: Witness, checkpoint: Checkpoint, clock: Clock
) -> None:
    lease_ms = int((2 * settings.witness_timeout_seconds + 5) * 1000)
    old = _lease(engine, witness.name, clock(), lease_ms)
    if old is None:
        return  # another replica is talking to this witness now
    try:
        outcome = _exchange(settings, engine, witness, old, checkpoint)
    except Exception as error:  # recorded, and the lease released, whatever went wrong
        log.exception("witness %s: submission failed", witness.name)
        outcome = _Outcome(None, error=f"submission failed: {error.__class__.__name__}")
    _record(engine, witness, checkpoint, outcome, clock())


def submit_to_witnesses(settings: Settings, engine: Engine, clock: Clock) -> None:
    """Submit the latest checkpoint to every witness that has not cosigned it yet (in parallel)."""
    witnesses = Witness.configured(settings)
    if not witnesses:
        return
    _sync(engine, witnesses)
    with engine.connect() as conn:
        checkpoint = latest_checkpoint(conn)
    if checkpoint is None:
        return
    due = _due(engine, checkpoint, witnesses)
    if not due:
        return
    with ThreadPoolExecutor(max_workers=len(due), thread_name_prefix="registrar-witness") as pool:
        for future in [pool.submit(_submit, settings, engine, w, checkpoint, clock) for w in due]:
            future.result()


def witness_status(settings: Settings, engine: Engine, now_ms: int) -> list[WitnessStatus]:
    """The state of every configured witness, in configuration order."""
    witnesses = Witness.configured(settings)
    with engine.connect() as conn:
        latest = latest_checkpoint(conn)
        rows = {row.name: row for row in conn.execute(select(tlog_witnesses))}
    statuses = []
    for witness in witnesses:
        row = rows.get(witness.name)
        size = None if row is None or row.size is None else int(row.size)
        success = None if row is None or row.last_success_ms is None else int(row.last_success_ms)
        lag_entries = None if latest is None else latest.size - (size or 0)
        if lag_entries is not None and lag_entries <= 0 and size is not None:
            lag_seconds: float | None = 0.0
        else:
            lag_seconds = None if success is None else max(0, now_ms - success) / 1000
        statuses.append(
            WitnessStatus(
                name=witness.name,
                url=witness.url,
                size=size,
                lag_entries=lag_entries,
                lag_seconds=lag_seconds,
                last_error=None if row is None else row.last_error,
                last_attempt_ms=None
                if row is None or row.last_attempt_ms is None
                else int(row.last_attempt_ms),
                last_success_ms=success,
            )
        )
    return statuses
