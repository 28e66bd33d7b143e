"""Where an address is: the country from data shipped in a package, the rest from a MaxMind city database.

The zero-configuration source is ``iptocc`` (the Regional Internet Registries' allocation data, embedded
in the wheel and refreshed nightly upstream): it knows countries only. ``REGISTRAR_GEOIP_DB`` pointing at a
MaxMind-format city database (GeoLite2/GeoIP2 City, DB-IP City Lite) adds state, city, postal code and
coordinates. Addresses that are not globally routable have no location at all, never a wrong one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import iptocc
import maxminddb
import pycountry

from .networks import IPAddress
from .request import GeoContext
from .watched import WatchedFile

__all__ = ["GeoLocator", "country_name", "is_public", "lookup_record", "open_mmdb"]

log = logging.getLogger(__name__)


def open_mmdb(path: Path) -> maxminddb.Reader:
    """Read a MaxMind DB file into memory.

    Not memory-mapped: an operator who copies a new database over the old file (rather than renaming
    it into place) would corrupt a mapped reader's lookups, or crash the process with SIGBUS if the file
    shrank. Lookups from memory cost microseconds and are cached per address.
    """
    return maxminddb.open_database(str(path), maxminddb.MODE_MEMORY)


def lookup_record(reader: maxminddb.Reader, address: IPAddress) -> Any:
    """The record for ``address``, or ``None``: a damaged database means "unknown", never an error."""
    try:
        return reader.get(address)
    except (maxminddb.InvalidDatabaseError, ValueError):
        log.warning("lookup of %s failed in %s", address, reader.metadata().database_type, exc_info=True)
        return None


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is globally routable: private, loopback, link-local, shared, reserved,
    documentation and multicast addresses have no place on a map."""
    return address.is_global and not address.is_multicast


@functools.cache
def country_name(code: str) -> str | None:
    """The English short name Okta writes (``"United States"``) for an ISO 3166-1 alpha-2 ``code``."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return None
    # ``common_name`` where ISO's name is the formal one: "South Korea", "Iran", "Vietnam", "Taiwan".
    name: str = getattr(country, "common_name", None) or country.name
    return name


def _english(node: Any) -> str | None:
    if not isinstance(node, Mapping):
        return None
    names = node.get("names")
    name = names.get("en") if isinstance(names, Mapping) else None
    return name if isinstance(name, str) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _from_city_record(record: Mapping[str, Any], fallback_country: str | None) -> GeoContext:
    country = record.get("country")
    code = country.get("iso_code") if isinstance(country, Mapping) else None
    name = _english(country) or (country_name(code) if isinstance(code, str) else None)
    subdivisions = record.get("subdivisions")
    postal = record.get("postal")
    location = record.get("location")
    postal_code = postal.get("code") if isinstance(postal, Mapping) else None
    location = location if isinstance(location, Mapping) else {}
    return GeoContext(
        country=name or fallback_country,
        state=_english(subdivisions[0]) if isinstance(subdivisions, list) and subdivisions else None,
        city=_english(record.get("city")),
        postal_code=postal_code if isinstance(postal_code, str) else None,
        lat=_float(location.get("latitude")),
        lon=_float(location.get("longitude")),
    )


class GeoLocator:
    """Address → ``GeoContext`` (or ``None``), cached per address and dropped when the database reloads."""

    def __init__(self, city_db: WatchedFile[maxminddb.Reader] | None = None, *, cache_size: int = 8192):
        self._city_db = city_db
        self._generation = city_db.generation if city_db else 0
        self._cached = functools.lru_cache(maxsize=cache_size)(self._locate)

    def locate(self, address: IPAddress) -> GeoContext | None:
        """Where ``address`` is, or ``None`` when it is not public or no source knows it."""
        if not is_public(address):
            return None
        if self._city_db is not None:
            self._city_db.get()  # gives a changed file the chance to reload before the cache answers
            if self._city_db.generation != self._generation:
                self._generation = self._city_db.generation
                self._cached.cache_clear()
        return self._cached(address)

    def _locate(self, address: IPAddress) -> GeoContext | None:
        code = iptocc.country_code(str(address))
        country = country_name(code) if code else None
        if self._city_db is not None:
            record = lookup_record(self._city_db.get(), address)
            if isinstance(record, Mapping):
                return _from_city_record(record, country)
        return GeoContext(country=country) if country else None
