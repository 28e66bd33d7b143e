"""Network zones: configuration syntax and matching."""

from __future__ import annotations

import ipaddress

import pytest

from registrar.config import Settings
from registrar.context.zones import NetworkZones


def test_zone_syntax() -> None:
    settings = Settings.from_env(
        {"REGISTRAR_NETWORK_ZONES": " office = 10.0.0.0/8, 192.0.2.0/24 ; vpn=100.64.0.0/10;;"}
    )
    assert settings.network_zones == (("office", ("10.0.0.0/8", "192.0.2.0/24")), ("vpn", ("100.64.0.0/10",)))
    assert Settings.from_env({}).network_zones == ()


@pytest.mark.parametrize("raw", ["office", "=10.0.0.0/8", "office=", "a=10.0.0.0/8;a=10.0.0.0/8"])
def test_malformed_zones_fail_at_start(raw: str) -> None:
    with pytest.raises(ValueError, match="REGISTRAR_NETWORK_ZONES"):
        Settings.from_env({"REGISTRAR_NETWORK_ZONES": raw})


def test_first_matching_zone_wins_and_no_match_is_the_string_null() -> None:
    zones = NetworkZones.from_config([("lab", ("10.1.0.0/16",)), ("office", ("10.0.0.0/8", "2001:db8::/32"))])
    assert zones.zone_of(ipaddress.ip_address("10.1.2.3")) == "lab"
    assert zones.zone_of(ipaddress.ip_address("10.2.0.1")) == "office"
    assert zones.zone_of(ipaddress.ip_address("2001:db8::1")) == "office"
    assert zones.zone_of(ipaddress.ip_address("8.8.8.8")) == "null"
    assert zones.zone_of(None) == "null"
    assert NetworkZones().zone_of(ipaddress.ip_address("10.1.2.3")) == "null"


def test_bad_network_names_its_zone() -> None:
    with pytest.raises(ValueError, match=r"REGISTRAR_NETWORK_ZONES \(vpn\): '10\.300\.0\.0/16'"):
        NetworkZones.from_config([("vpn", ("10.300.0.0/16",))])
