"""Group commit: concurrent audited operations share one transaction and one commit.

Operations arriving while another runs queue for their turn on the group's connection. Each runs in a
savepoint of its own, so one that fails rolls back alone (and its FAILURE event, written next, joins the
group like any other operation). When an operation ends and another is queued, the group stays open and
the turn passes on; the last one in the queue, or the one that fills the group (``max_members``) or finds it
old enough (``max_seconds``), commits it. No operation returns before the commit that holds it is done: an
acknowledged change is as durable as the configured synchronous mode makes any commit.

Sequence numbers, ``published`` and the Merkle tree need nothing more: operations in a group append to the
log one after the other, under the log head, inside the group's transaction. A failure that takes the whole
transaction with it (SQLite rolls back the transaction of an interrupted write; a lost connection) fails
every operation of the group that was waiting for its commit, with a 503 that each of them audits.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from registrar.errors import ServiceUnavailable

__all__ = ["GroupCommit"]

log = logging.getLogger(__name__)

_BUSY = "The database stayed locked by other writers for longer than a request may wait; try again."
_ABORTED = "The transaction this operation shared with concurrent ones was rolled back; try again."

Opener = Callable[[float], Connection]
"""Opens the group's connection with its transaction begun, waiting at most the given seconds."""
Closer = Callable[[Connection], None]
"""Gives the group's connection back (after commit or rollback): the write lock it held goes with it."""


@dataclass(eq=False, slots=True)
class _Group:
    conn: Connection
    opened: float
    members: int = 0
    broken: BaseException | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(eq=False, slots=True)
class _Ticket:
    granted: bool = False
    ready: threading.Event = field(default_factory=threading.Event)


class GroupCommit:
    """The group-commit queue of one engine (one per process and database)."""

    def __init__(self, opener: Opener, closer: Closer, *, max_members: int = 64, max_seconds: float = 0.05):
        self._open_conn = opener
        self._close_conn = closer
        self._max_members = max_members
        self._max_seconds = max_seconds
        self._lock = threading.Lock()
        self._busy = False  # an operation holds the turn
        self._queue: deque[_Ticket] = deque()
        self._group: _Group | None = None

    @contextmanager
    def member(self, wait: float) -> Iterator[Connection]:
        """A savepoint in the current group (opened if there is none); returns once it is committed.

        Waiting for the turn is bounded by ``wait`` (``ServiceUnavailable`` after it).
        """
        deadline = time.monotonic() + wait
        self._take_turn(wait)
        try:
            group = self._group or self._open(deadline)
        except BaseException:
            self._release_turn()
            raise
        group.members += 1
        try:
            savepoint = group.conn.begin_nested()
            yield group.conn
            savepoint.commit()
        except BaseException as error:
            self._roll_back(group, error)
            self._pass_turn(group)
            raise
        self._pass_turn(group)
        group.done.wait()
        if group.error is not None:
            raise group.error

    def _take_turn(self, wait: float) -> None:
        with self._lock:
            if not self._busy and not self._queue:
                self._busy = True
                return
            ticket = _Ticket()
            self._queue.append(ticket)
        ticket.ready.wait(wait)
        with self._lock:
            if ticket.granted:
                return  # handed over, possibly just as the wait ran out: it is ours now
            self._queue.remove(ticket)
        raise ServiceUnavailable([_BUSY])

    def _grant_next(self) -> bool:
        # Under self._lock: hand the turn to the first in the queue, if any.
        if not self._queue:
            return False
        ticket = self._queue.popleft()
        ticket.granted = True
        ticket.ready.set()
        return True

    def _release_turn(self) -> None:
        with self._lock:
            if not self._grant_next():
                self._busy = False

    def _open(self, deadline: float) -> _Group:
        conn = self._open_conn(max(deadline - time.monotonic(), 0.0))
        group = _Group(conn, time.monotonic())
        self._group = group
        return group

    def _roll_back(self, group: _Group, error: BaseException) -> None:
        # The operation's own savepoint goes; if the transaction went with it, the group cannot commit.
        try:
            if group.conn.in_nested_transaction():
                nested = group.conn.get_nested_transaction()
                assert nested is not None  # in_nested_transaction() said so
                nested.rollback()
            intact = group.conn.in_transaction() and _driver_in_transaction(group.conn)
        except Exception:  # noqa: BLE001 - the operation's own error is what it raises; the group is lost
            intact = False
        if not intact and group.broken is None:
            group.broken = error

    def _pass_turn(self, group: _Group) -> None:
        with self._lock:
            full = group.members >= self._max_members
            old = time.monotonic() - group.opened >= self._max_seconds
            if self._queue and group.broken is None and not full and not old:
                self._grant_next()  # the group stays open for the next operation
                return
            self._group = None
        try:
            self._close(group)
        finally:
            self._release_turn()

    def _close(self, group: _Group) -> None:
        try:
            if group.broken is not None:
                group.conn.rollback()
                group.error = ServiceUnavailable([_ABORTED])
            else:
                group.conn.commit()
        except Exception as error:  # noqa: BLE001 - every member gets it, as a failure of its operation
            log.warning("a group of %d operations failed to commit: %s", group.members, error)
            group.error = error
        finally:
            try:
                self._close_conn(group.conn)
            finally:
                group.done.set()


def _driver_in_transaction(conn: Connection) -> bool:
    # SQLAlchemy's view can lag the driver's: SQLite ends the transaction itself on some errors, and a
    # PostgreSQL transaction whose savepoint could not be rolled back is good for nothing but a rollback.
    driver = conn.connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        return driver.in_transaction
    info = getattr(driver, "info", None)
    status = getattr(info, "transaction_status", None)
    return status is None or status.name in {"INTRANS", "ACTIVE"}
