"""Console sign-in throttling: failed sign-ins per account and per client address, shared by replicas.

Each attempt first *reserves* a row per subject (the account's login, the client address) in
``signin_failures`` and commits it, then counts the subject's rows in its sliding window. Committing before
counting is what makes the limit hold under concurrency, across replicas too: of N simultaneous guesses
the k-th to commit counts at least k rows, so no more than the limit get through to the password check.
A good credential deletes its reservations (a success is no failure); a refused attempt deletes them too
(waiting out the window is enough, hammering does not prolong it); a bad credential leaves them, and they
are the failure record.

The address is the client address as resolved through the trusted proxies (the events' ``client.ipAddress``,
never a header of the client's own); an IPv6 client is counted by its /64, the block one subscriber gets.
Subjects are stored hashed: the table holds neither submitted logins nor addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.engine import Connection

from registrar.config import Settings
from registrar.ids import utcnow
from registrar.store.database import write_lock
from registrar.store.schema import signin_failures

__all__ = ["Limit", "Reservation", "SignInThrottle", "address_subject"]

LimitName = Literal["ACCOUNT", "ADDRESS"]


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``failures`` failed sign-ins per subject within ``window_ms``."""

    name: LimitName  # what a subject is: an account, or a client address
    failures: int
    window_ms: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """One attempt's place in the counts; ``refused_by`` names the limit it would exceed."""

    ids: tuple[int, ...]
    refused_by: LimitName | None = None
    retry_after: int = 0  # seconds until the refusing limit has room again


def _now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def _hashed(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def account_subject(login: str) -> str:
    """The subject an account's attempts count against (the login as typed, case and spaces aside)."""
    return _hashed("account", login.strip().casefold())


def address_subject(address: str | None) -> str:
    """The subject a client address's attempts count against (an IPv6 address: its /64)."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return _hashed("address", "unknown")
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return _hashed("address", str(parsed.ipv4_mapped))
        return _hashed("address", str(ipaddress.ip_network(f"{parsed}/64", strict=False)))
    return _hashed("address", str(parsed))


def _insert(conn: Connection, subject: str, at_ms: int) -> int:
    key = conn.execute(insert(signin_failures).values(subject=subject, at_ms=at_ms)).inserted_primary_key
    assert key is not None
    return int(key[0])


class SignInThrottle:
    """The per-account and per-address limits on failed console sign-ins, counted in the database."""

    def __init__(self, engine: Engine, account: Limit, address: Limit):
        self.engine = engine
        self.account = account
        self.address = address

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> SignInThrottle:
        """The limits an operator configured (``REGISTRAR_SIGNIN_*``)."""
        return cls(
            engine,
            Limit(
                "ACCOUNT",
                settings.signin_account_failures,
                int(settings.signin_account_window_seconds * 1000),
            ),
            Limit(
                "ADDRESS",
                settings.signin_address_failures,
                int(settings.signin_address_window_seconds * 1000),
            ),
        )

    def reserve(self, *, login: str | None, address: str | None) -> Reservation:
        """Count this attempt in; refused (and not counted) when a limit has no room left for it."""
        subjects: list[tuple[Limit, str]] = [(self.address, address_subject(address))]
        if login is not None:
            subjects.insert(0, (self.account, account_subject(login)))
        now = _now_ms()
        horizon = now - max(self.account.window_ms, self.address.window_ms)
        with write_lock(self.engine), self.engine.begin() as conn:
            conn.execute(delete(signin_failures).where(signin_failures.c.at_ms <= horizon))  # housekeeping
            ids = tuple(_insert(conn, subject, now) for _, subject in subjects)
        reservation = Reservation(ids)
        with self.engine.connect().execution_options(sqlite_immediate=False) as conn:
            for limit, subject in subjects:
                count, oldest = conn.execute(
                    select(func.count(), func.min(signin_failures.c.at_ms)).where(
                        signin_failures.c.subject == subject, signin_failures.c.at_ms > now - limit.window_ms
                    )
                ).one()
                if count > limit.failures:
                    wait_ms = int(oldest) + limit.window_ms - now
                    reservation = Reservation(ids, limit.name, max(1, math.ceil(wait_ms / 1000)))
                    break
        if reservation.refused_by is not None:
            with write_lock(self.engine), self.engine.begin() as conn:
                self.release(conn, reservation)
            return Reservation((), reservation.refused_by, reservation.retry_after)
        return reservation

    @staticmethod
    def release(conn: Connection, reservation: Reservation) -> None:
        """Take an attempt back out of the counts (it succeeded, or was refused), in ``conn``'s work."""
        ids: Sequence[int] = reservation.ids
        if ids:
            conn.execute(delete(signin_failures).where(signin_failures.c.id.in_(ids)))
