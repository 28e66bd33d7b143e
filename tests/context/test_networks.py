"""Addresses as requests spell them, and network sets."""

from __future__ import annotations

import ipaddress

import pytest

from registrar.context.networks import NetworkSet, parse_address, parse_networks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.60", "192.0.2.60"),
        (" 192.0.2.60 ", "192.0.2.60"),
        ("192.0.2.60:4711", "192.0.2.60"),
        ("2001:db8:cafe::17", "2001:db8:cafe::17"),
        ("[2001:db8:cafe::17]", "2001:db8:cafe::17"),
        ("[2001:db8:cafe::17]:4711", "2001:db8:cafe::17"),
        ("::ffff:203.0.113.9", "203.0.113.9"),  # what a dual-stack socket reports for an IPv4 client
        ("unknown", None),
        ("_hidden", None),
        ("", None),
        ("[2001:db8::1", None),
        ("[2001:db8::1]x", None),
        ("300.1.2.3", None),
        ("example.com", None),
    ],
)
def test_parse_address(text: str, expected: str | None) -> None:
    address = parse_address(text)
    assert (str(address) if address else None) == expected


def test_network_set_membership_across_merged_ranges() -> None:
    networks = NetworkSet(
        parse_networks(["10.0.0.0/9", "10.128.0.0/9", "192.0.2.7", "2001:db8::/48"], source="t")
    )
    assert ipaddress.ip_address("10.255.255.255") in networks
    assert ipaddress.ip_address("192.0.2.7") in networks
    assert ipaddress.ip_address("192.0.2.8") not in networks
    assert ipaddress.ip_address("11.0.0.0") not in networks
    assert ipaddress.ip_address("2001:db8:0:ffff::1") in networks
    assert ipaddress.ip_address("2001:db9::1") not in networks
    assert ipaddress.ip_address("::a00:1") not in networks  # an IPv6 number is not the IPv4 one
    assert "10.0.0.1" not in networks  # only address objects are members
    assert len(networks) == 4 and networks
    assert not NetworkSet()


def test_bad_network_names_its_source() -> None:
    with pytest.raises(ValueError, match=r"REGISTRAR_TRUSTED_PROXIES: '10\.0\.0/8'"):
        parse_networks(["10.0.0/8"], source="REGISTRAR_TRUSTED_PROXIES")
