"""Geography: countries from the shipped offline data, everything from a MaxMind city database."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

from registrar.context.geo import GeoLocator, country_name, open_mmdb
from registrar.context.request import GeoContext
from registrar.context.watched import WatchedFile

from .mmdb import city, write_mmdb


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("8.8.8.8", "United States"),
        ("81.2.69.160", "United Kingdom"),
        ("2a00:1450:4001:81b::200e", "Ireland"),
    ],
)
def test_country_of_a_public_address_needs_no_configuration(address: str, country: str) -> None:
    assert GeoLocator().locate(_ip(address)) == GeoContext(country=country)


NOWHERE = [
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "127.0.0.1",  # loopback
    "::1",
    "169.254.0.1",  # link-local
    "fe80::1",
    "100.64.0.1",  # carrier-grade NAT
    "192.0.2.1",  # documentation
    "198.51.100.23",
    "2001:db8::1",
    "240.0.0.1",  # reserved
    "224.0.0.1",  # multicast
    "0.0.0.0",  # noqa: S104 - "this host", not a bind address
]


@pytest.mark.parametrize("address", NOWHERE)
def test_addresses_that_are_not_public_have_no_location(address: str, tmp_path: Path) -> None:
    assert GeoLocator().locate(_ip(address)) is None


def test_country_names_are_okta_s_short_english_names() -> None:
    assert country_name("US") == "United States"
    assert country_name("gb") == "United Kingdom"
    assert country_name("KR") == "South Korea"
    assert country_name("IR") == "Iran"
    assert country_name("XX") is None


def _city_db(path: Path, london: str = "London") -> Path:
    return write_mmdb(
        path,
        "GeoIP2-City",
        {
            "81.2.69.0/24": city(
                "GB", "United Kingdom", state="England", city=london, postal="EC2V", lat=51.5142, lon=-0.0931
            ),
            "2a02:ff0::/32": {"country": {"iso_code": "DE", "names": {"en": "Germany"}}},
            # A database entry for a private range must not give 10.x a country.
            "10.0.0.0/8": {"country": {"iso_code": "AQ", "names": {"en": "Antarctica"}}},
        },
    )


def test_city_database_gives_the_full_context(tmp_path: Path) -> None:
    locator = GeoLocator(WatchedFile(_city_db(tmp_path / "city.mmdb"), open_mmdb))
    assert locator.locate(_ip("81.2.69.160")) == GeoContext(
        country="United Kingdom", state="England", city="London", postal_code="EC2V", lat=51.5142, lon=-0.0931
    )
    assert locator.locate(_ip("2a02:ff0::1")) == GeoContext(country="Germany")
    # Not in the database: the shipped data still knows the country.
    assert locator.locate(_ip("8.8.8.8")) == GeoContext(country="United States")
    assert locator.locate(_ip("10.1.2.3")) is None


def test_city_database_is_reloaded_when_replaced(tmp_path: Path) -> None:
    path = _city_db(tmp_path / "city.mmdb")
    locator = GeoLocator(WatchedFile(path, open_mmdb, check_interval=0))
    before = locator.locate(_ip("81.2.69.160"))
    assert before is not None and before.city == "London"
    _city_db(tmp_path / "next.mmdb", london="City of London")
    os.replace(tmp_path / "next.mmdb", path)
    after = locator.locate(_ip("81.2.69.160"))
    assert after is not None and after.city == "City of London"
