"""Who runs an address's network: ``securityContext`` from a MaxMind-format ASN database, when configured."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import maxminddb

from .geo import is_public, lookup_record
from .networks import IPAddress
from .watched import WatchedFile

__all__ = ["AsnInfo", "AsnLookup"]


@dataclass(frozen=True, slots=True)
class AsnInfo:
    """The autonomous system (and, in ISP-format databases, the ISP and domain) of an address."""

    as_number: int | None = None
    as_org: str | None = None
    isp: str | None = None
    domain: str | None = None


_NONE = AsnInfo()


def _text(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) and value else None


class AsnLookup:
    """Address → ``AsnInfo`` from GeoLite2-ASN (or GeoIP2-ISP, which adds ``isp``), cached per address."""

    def __init__(self, db: WatchedFile[maxminddb.Reader], *, cache_size: int = 8192):
        self._db = db
        self._generation = db.generation
        self._cached = functools.lru_cache(maxsize=cache_size)(self._lookup)

    def lookup(self, address: IPAddress) -> AsnInfo:
        """The network owner of ``address``; all ``None`` for addresses that are not public or not listed."""
        if not is_public(address):
            return _NONE
        self._db.get()  # gives a changed file the chance to reload before the cache answers
        if self._db.generation != self._generation:
            self._generation = self._db.generation
            self._cached.cache_clear()
        return self._cached(address)

    def _lookup(self, address: IPAddress) -> AsnInfo:
        record = lookup_record(self._db.get(), address)
        if not isinstance(record, Mapping):
            return _NONE
        number = record.get("autonomous_system_number")
        return AsnInfo(
            as_number=number if isinstance(number, int) and not isinstance(number, bool) else None,
            as_org=_text(record, "autonomous_system_organization"),
            isp=_text(record, "isp"),
            domain=_text(record, "domain"),
        )
