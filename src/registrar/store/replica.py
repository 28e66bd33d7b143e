"""Reads that scale out: a read-only engine on a PostgreSQL streaming replica, and the rules for using it.

A physical replica's snapshot is a commit-order prefix of the primary's log (sequence numbers are handed
out under the log head's lock, so commit order is ``seq`` order, and a standby replays commits in that
order). What it may lack is the newest part. A read that names a position the replica has not replayed
yet (a cursor, a tile handed out by the primary or by a replica further ahead), or that must see
everything committed when the request arrived (a ``published`` window reaching past the replica's head),
raises :class:`ReplicaBehind` inside its snapshot; :meth:`Reads.catch_up` then asks the primary how far
its log reaches, lets the replica catch up to that for at most ``wait_seconds``, and otherwise has the
primary answer. A replica that cannot be reached (or cancels a read for a conflict with recovery) also
hands the read to the primary.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client import Counter
from sqlalchemy import Engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from .database import DEFAULT_STATEMENT_TIMEOUT, DEFAULT_WAIT_SECONDS, create_database_engine, unavailable
from .schema import installation, log_head

__all__ = ["APPLICATION_NAME", "Horizon", "Reads", "ReplicaBehind", "create_replica_engine", "head_seq"]

T = TypeVar("T")

APPLICATION_NAME = "registrar-read"
"""The ``application_name`` of the replica engine's sessions (``pg_stat_activity`` on the replica)."""

_POLL_SECONDS = 0.02  # between two looks at a lagging replica's head
_log = logging.getLogger(__name__)
# With a replica configured: who answered each read that may scale out, and why the primary did.
_ANSWERED = Counter(
    "registrar_replica_reads",
    "Reads that may go to the read replica, by who answered: replica; primary_behind (the replica had not "
    "replayed what the read needs within the wait); primary_failed (the replica could not answer); "
    "primary_not_there (a lookup the replica may not have replayed yet).",
    ["answered_by"],
)
_BY_REPLICA, _NOT_THERE = _ANSWERED.labels("replica"), _ANSWERED.labels("primary_not_there")


class ReplicaBehind(Exception):
    """A read on the replica found its snapshot short of what the request needs."""

    def __init__(self, position: int | None = None):
        super().__init__(position)
        self.position = position  # the log position it needs; None: the primary's head as of now


@dataclass(frozen=True, slots=True)
class Horizon:
    """How far a replica's snapshot must reach before its answer may be served (``None`` on the primary)."""

    seq: int = 0  # every log position up to this one
    synced: bool = False  # ``seq`` is the primary's head as this request saw it


def head_seq(engine: Engine) -> int:
    """How far the log of ``engine``'s database reaches (its head's ``seq``)."""
    with engine.connect().execution_options(sqlite_immediate=False) as conn:
        return int(conn.execute(select(log_head.c.seq).where(log_head.c.singleton == 1)).scalar_one())


def create_replica_engine(
    url: str,
    *,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    statement_timeout: float | None = DEFAULT_STATEMENT_TIMEOUT,
) -> Engine:
    """A read-only engine on the PostgreSQL replica at ``url`` (never migrated, never written).

    Every session has ``default_transaction_read_only`` on: a write that reached it by mistake fails even
    where the URL names a writable server, instead of changing state behind the primary's audit log.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        raise ValueError(
            f"REGISTRAR_READ_DATABASE_URL must be a postgresql:// URL, not {parsed.drivername}://"
        )
    engine = create_database_engine(url, wait_seconds=wait_seconds, statement_timeout=statement_timeout)
    named = "application_name" in parsed.query

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = on")
            if not named:
                cursor.execute(f"SET application_name = '{APPLICATION_NAME}'")
        dbapi_conn.commit()

    return engine


def check_installation(replica: Engine, org_id: str) -> None:
    """Refuse a replica whose database belongs to another installation (it would serve another log).

    One that cannot be reached yet, or has not replayed the installation's first row, passes: reads fall
    back to the primary while it cannot answer.
    """
    try:
        with replica.connect() as conn:
            found = conn.execute(select(installation.c.org_id)).scalar()
    except OperationalError as error:
        _log.warning("read replica not reachable at start-up (%s)", error.__class__.__name__)
        return
    if found is not None and found != org_id:
        raise ValueError(
            f"REGISTRAR_READ_DATABASE_URL names the database of installation {found}, not {org_id}: "
            "it must be a replica of REGISTRAR_DATABASE_URL"
        )


def _replica_failed(error: DBAPIError) -> bool:
    """Whether the primary should answer instead: the replica is unreachable or cancelled the read for a
    conflict with recovery. Not a read that ran out of time (our statement or lock timeout: it would only
    do so again there), and never a write the replica refused (that must fail, not move to the primary)."""
    return isinstance(error, OperationalError) and unavailable(error) is None


@dataclass(frozen=True, slots=True)
class Reads:
    """Where reads that may scale out go: ``replica`` when there is one and it has what they need."""

    primary: Engine
    replica: Engine | None = None
    wait_seconds: float = 2.0

    @property
    def engine(self) -> Engine:
        """The engine such reads use first: the replica, else the primary."""
        return self.replica or self.primary

    def run(self, read: Callable[[Engine], T], *, not_there: tuple[type[Exception], ...] = ()) -> T:
        """``read`` on the replica, or on the primary when the replica fails it, or when it raises one of
        ``not_there`` (a lookup of something the replica may not have replayed yet, such as a 404)."""
        if self.replica is None:
            return read(self.primary)
        try:
            answer = read(self.replica)
        except not_there:
            _NOT_THERE.inc()
        except DBAPIError as error:
            if not _replica_failed(error):
                raise
            _log.warning("read replica failed (%s); the primary answers", error.__class__.__name__)
            _ANSWERED.labels("primary_failed").inc()
        else:
            _BY_REPLICA.inc()
            return answer
        return read(self.primary)

    def catch_up(self, read: Callable[[Engine, Horizon | None], T]) -> T:
        """``read`` on a replica that has replayed what it needs, else on the primary (horizon ``None``).

        ``read`` raises :class:`ReplicaBehind` from a snapshot that lacks it. The first time, the primary's
        head is read once: a position beyond it too is the primary's to answer now (a 400 or a 404, as
        without a replica); otherwise the replica must reach that head, and is retried until it does or
        ``wait_seconds`` have passed.
        """
        replica = self.replica
        if replica is None:
            return read(self.primary, None)
        horizon = Horizon()
        deadline: float | None = None
        why = "primary_behind"
        while True:
            try:
                answer = read(replica, horizon)
            except ReplicaBehind as behind:
                if deadline is None:
                    primary_head = head_seq(self.primary)
                    if behind.position is not None and behind.position > primary_head:
                        break
                    horizon = Horizon(primary_head, synced=True)
                    deadline = time.monotonic() + max(self.wait_seconds, 0.0)
                    continue  # it may have caught up meanwhile
                if time.monotonic() >= deadline:
                    _log.info("read replica behind position %d after %.1f s", horizon.seq, self.wait_seconds)
                    break
                time.sleep(_POLL_SECONDS)
            except DBAPIError as error:
                if not _replica_failed(error):
                    raise
                _log.warning("read replica failed (%s); the primary answers", error.__class__.__name__)
                why = "primary_failed"
                break
            else:
                _BY_REPLICA.inc()
                return answer
        _ANSWERED.labels(why).inc()
        return read(self.primary, None)
