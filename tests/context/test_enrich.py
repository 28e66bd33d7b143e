"""The Enricher: settings in, client and security context out."""

from __future__ import annotations

from pathlib import Path

import pytest

from registrar.config import Settings
from registrar.context import Enricher, GeoContext, IpHop, SecurityInfo

from .mmdb import city, write_mmdb

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def _headers(**headers: str) -> list[tuple[bytes, bytes]]:
    return [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]


def test_settings_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "REGISTRAR_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32",
            "REGISTRAR_GEOIP_DB": str(tmp_path / "city.mmdb"),
            "REGISTRAR_ASN_DB": str(tmp_path / "asn.mmdb"),
            "REGISTRAR_ANONYMIZER_LIST": str(tmp_path / "tor.txt"),
        }
    )
    assert settings.trusted_proxies == ("10.0.0.0/8", "2001:db8::/32")
    assert settings.geoip_db == tmp_path / "city.mmdb"
    assert settings.asn_db == tmp_path / "asn.mmdb"
    assert settings.anonymizer_list == tmp_path / "tor.txt"
    defaults = Settings.from_env({})
    assert (defaults.trusted_proxies, defaults.geoip_db, defaults.asn_db, defaults.anonymizer_list) == (
        (),
        None,
        None,
        None,
    )


def test_bad_settings_fail_when_the_enricher_is_built(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"REGISTRAR_TRUSTED_PROXIES: 'proxy\.internal'"):
        Enricher.from_settings(Settings(trusted_proxies=("proxy.internal",)))
    with pytest.raises(FileNotFoundError):
        Enricher.from_settings(Settings(geoip_db=tmp_path / "missing.mmdb"))


def test_zero_configuration_enrichment() -> None:
    client, security = Enricher().describe(_headers(user_agent=CHROME), "8.8.8.8")
    assert client.ip_address == "8.8.8.8"
    assert (client.raw_user_agent, client.browser, client.os, client.device) == (
        CHROME,
        "CHROME",
        "Windows 10",
        "Computer",
    )
    assert client.geo == GeoContext(country="United States")
    assert client.zone == "null"
    assert client.ip_chain == (IpHop("8.8.8.8", "V4", GeoContext(country="United States")),)
    assert security == SecurityInfo(is_proxy=False)


def test_configured_enrichment(tmp_path: Path) -> None:
    tor = tmp_path / "tor.txt"
    tor.write_text("81.2.69.160\n")
    settings = Settings(
        trusted_proxies=("10.0.0.0/8",),
        network_zones=(("partners", ("81.2.69.0/24",)),),
        geoip_db=write_mmdb(
            tmp_path / "city.mmdb",
            "GeoIP2-City",
            {
                "81.2.69.0/24": city(
                    "GB", "United Kingdom", state="England", city="London", postal="EC2V", lat=51.5, lon=-0.1
                )
            },
        ),
        asn_db=write_mmdb(
            tmp_path / "asn.mmdb",
            "GeoLite2-ASN",
            {"81.2.69.0/24": {"autonomous_system_number": 20712, "autonomous_system_organization": "A&A"}},
        ),
        anonymizer_list=tor,
    )
    enricher = Enricher.from_settings(settings)
    london = GeoContext("United Kingdom", "England", "London", "EC2V", 51.5, -0.1)

    client, security = enricher.describe(_headers(x_forwarded_for="81.2.69.160"), "10.0.0.1")
    assert client.ip_address == "81.2.69.160"
    assert client.geo == london
    assert client.zone == "partners"
    assert client.ip_chain == (IpHop("81.2.69.160", "V4", london), IpHop("10.0.0.1", "V4", None))
    # On the anonymizer list: a proxy, although every hop we can see is trusted.
    assert security == SecurityInfo(is_proxy=True, as_number=20712, as_org="A&A")

    client, security = enricher.describe(_headers(), "10.0.0.1")
    assert (client.ip_address, client.geo, client.zone) == ("10.0.0.1", None, "null")
    assert security == SecurityInfo(is_proxy=False)
