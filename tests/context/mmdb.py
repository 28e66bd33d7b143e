"""Tiny MaxMind-format databases written on the spot, so tests need no downloaded GeoIP data."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

_WHY = "mmdb-writer (and netaddr) build the test .mmdb files; install them to run the MaxMind-format tests"


def write_mmdb(path: Path, database_type: str, records: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write ``{cidr: record}`` as an IPv6 database that also answers IPv4 (as MaxMind's do)."""
    mmdb_writer = pytest.importorskip("mmdb_writer", reason=_WHY)
    netaddr = pytest.importorskip("netaddr", reason=_WHY)
    writer = mmdb_writer.MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type,
        languages=["en"],
        description="registrar tests",
    )
    for cidr, record in records.items():
        writer.insert_network(netaddr.IPSet([cidr]), dict(record))
    writer.to_db_file(str(path))
    return path


def city(
    iso: str, country: str, *, state: str, city: str, postal: str, lat: float, lon: float
) -> dict[str, Any]:
    """A GeoIP2-City record in MaxMind's layout."""
    return {
        "country": {"iso_code": iso, "names": {"en": country}},
        "subdivisions": [{"names": {"en": state}}],
        "city": {"names": {"en": city}},
        "postal": {"code": postal},
        "location": {"latitude": lat, "longitude": lon},
    }
