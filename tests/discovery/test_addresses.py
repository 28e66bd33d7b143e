"""Address classification: which addresses the SSRF guard refuses, and what the allow-list lets through."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from registrar.discovery import AddressPolicy, blocked_reason, parse_networks


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1: loopback"),
        ("64:ff9b::a9fe:a9fe", "NAT64 169.254.169.254: cloud metadata"),
        ("2002:7f00:1::", "6to4 127.0.0.1: loopback"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.100.100.200", "cloud metadata"),
        ("168.63.129.16", "cloud metadata"),
        ("fd00::1", "unique local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to classify, not to bind
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("198.18.0.1", "benchmarking"),
        ("192.0.2.1", "documentation"),
        ("2001:db8::1", "documentation"),
        ("2001:2::1", "IETF protocol assignment"),
        ("::7f00:1", "IPv4-compatible"),
        ("fec0::1", "site-local"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo 192.0.2.45: documentation"),
    ],
)
def test_non_public_addresses_are_refused_with_their_reason(address: str, reason: str) -> None:
    assert blocked_reason(ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert blocked_reason(ip_address(address)) is None


def test_a_scoped_ipv6_address_is_refused() -> None:
    assert blocked_reason(ip_address("fe80::1%eth0")) == "scoped (link-local)"


def test_the_allow_list_admits_its_networks_and_nothing_else() -> None:
    policy = AddressPolicy(parse_networks(["127.0.0.0/8", " fd00::/8 "]))
    assert policy.refusal(ip_address("127.0.0.1")) is None
    assert policy.refusal(ip_address("::ffff:127.0.0.2")) is None  # the same host, mapped
    assert policy.refusal(ip_address("fd00::1")) is None
    assert policy.refusal(ip_address("::1")) == "loopback"
    assert policy.refusal(ip_address("169.254.169.254")) == "cloud metadata"
    # An embedded loopback is reached through a relay, not on this host: the allow-list does not cover it.
    assert policy.refusal(ip_address("2002:7f00:1::")) == "6to4 127.0.0.1: loopback"


def test_allowed_networks_tolerate_host_bits() -> None:
    assert [str(n) for n in parse_networks(["10.1.2.3/8", ""])] == ["10.0.0.0/8"]
