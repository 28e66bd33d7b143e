"""Network owners from a MaxMind-format ASN (or ISP) database."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from registrar.context.asn import AsnInfo, AsnLookup
from registrar.context.geo import open_mmdb
from registrar.context.watched import WatchedFile

from .mmdb import write_mmdb


def test_asn_database_fills_the_security_context(tmp_path: Path) -> None:
    path = write_mmdb(
        tmp_path / "asn.mmdb",
        "GeoLite2-ASN",
        {
            "8.8.8.0/24": {"autonomous_system_number": 15169, "autonomous_system_organization": "GOOGLE"},
            "81.2.69.0/24": {
                "autonomous_system_number": 20712,
                "autonomous_system_organization": "Andrews & Arnold Ltd",
                "isp": "Andrews & Arnold",
                "domain": "aa.net.uk",
            },
            "10.0.0.0/8": {"autonomous_system_number": 64512, "autonomous_system_organization": "private"},
        },
    )
    lookup = AsnLookup(WatchedFile(path, open_mmdb))
    assert lookup.lookup(ipaddress.ip_address("8.8.8.8")) == AsnInfo(15169, "GOOGLE")
    assert lookup.lookup(ipaddress.ip_address("81.2.69.160")) == AsnInfo(
        20712, "Andrews & Arnold Ltd", "Andrews & Arnold", "aa.net.uk"
    )
    assert lookup.lookup(ipaddress.ip_address("9.9.9.9")) == AsnInfo()
    assert lookup.lookup(ipaddress.ip_address("10.1.2.3")) == AsnInfo()


def test_asn_database_is_reloaded_when_replaced(tmp_path: Path) -> None:
    path = write_mmdb(
        tmp_path / "asn.mmdb", "GeoLite2-ASN", {"8.8.8.0/24": {"autonomous_system_number": 15169}}
    )
    lookup = AsnLookup(WatchedFile(path, open_mmdb, check_interval=0))
    assert lookup.lookup(ipaddress.ip_address("8.8.8.8")).as_number == 15169
    # Copied over in place, not renamed: the loaded copy is in memory, so this is safe too.
    path.write_bytes(
        write_mmdb(
            tmp_path / "n.mmdb", "GeoLite2-ASN", {"8.8.8.0/24": {"autonomous_system_number": 396982}}
        ).read_bytes()
    )
    assert lookup.lookup(ipaddress.ip_address("8.8.8.8")).as_number == 396982
