"""Which IP addresses discovery may connect to: public ones, and those an operator allow-listed.

An address that embeds another (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``,
Teredo) is judged by the IPv4 address it carries as well as by itself, because that is where the packets
end up. The deny list follows Microsoft AntiSSRF's ``recommended_v1`` ranges plus the cloud metadata
addresses; ``ipaddress``'s own flags are a backstop, not the rule, because ``is_private`` misses CGNAT
(``100.64.0.0/10``) and ``is_global`` lets multicast and the embedding prefixes through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

__all__ = ["AddressPolicy", "IPAddress", "IPNetwork", "blocked_reason", "parse_networks"]

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# IPv4 ranges, then IPv6 ones (an address is never in a network of the other version).
_DENIED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ip_network(cidr), why)
    for cidr, why in (
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.100.100.200/32", "cloud metadata"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("168.63.129.16/32", "cloud metadata"),
        ("169.254.169.254/32", "cloud metadata"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("192.31.196.0/24", "AS112"),
        ("192.52.193.0/24", "AMT"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"),
        ("192.175.48.0/24", "AS112"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        # Deprecated IPv4-compatible addresses (::a.b.c.d): no legitimate public use.
        ("::/96", "IPv4-compatible"),
        ("64:ff9b:1::/48", "NAT64 local-use"),
        ("100::/64", "discard-only"),
        ("100:0:0:1::/64", "dummy prefix"),
        ("2001::/23", "IETF protocol assignment"),
        ("2001:db8::/32", "documentation"),
        ("2620:4f:8000::/48", "AS112"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fd00:ec2::254/128", "cloud metadata"),
        ("fc00::/7", "unique local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_NAT64 = IPv6Network("64:ff9b::/96")


def _embedded(address: IPv6Address) -> tuple[str, IPv4Address] | None:
    """The IPv4 address an IPv6 address carries, with the name of the form, if it carries one."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address in _NAT64:
        return "NAT64", IPv4Address(address.packed[-4:])
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    if address.teredo is not None:
        return "Teredo", address.teredo[1]
    return None


def _own_reason(address: IPAddress) -> str | None:
    for network, why in _DENIED:
        if address in network:
            return why
    if address.is_multicast:
        return "multicast"
    if not address.is_global:
        return "not globally reachable"
    return None


def blocked_reason(address: IPAddress) -> str | None:
    """Why discovery must not connect to ``address`` (``None`` when it is a public unicast address)."""
    if isinstance(address, IPv6Address):
        if address.scope_id:
            return "scoped (link-local)"
        inner = _embedded(address)
        if inner is not None:
            form, ipv4 = inner
            why = _own_reason(ipv4)
            if why is not None:
                return f"{form} {ipv4}: {why}"
            if form == "IPv4-mapped":
                return None  # the very same host as its public IPv4 address
    return _own_reason(address)


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings (as configured) to networks; host bits are tolerated (``10.1.2.3/8`` = ``10.0.0.0/8``)."""
    return tuple(ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Public addresses, plus the non-public networks an operator explicitly allowed."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    def allows(self, address: IPAddress) -> bool:
        """True when ``address`` is allow-listed (an IPv4-mapped form counts as its IPv4 address)."""
        candidates: list[IPAddress] = [address]
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.allowed_networks
        )

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused under this policy, or ``None`` when it may be reached."""
        if self.allows(address):
            return None
        return blocked_reason(address)


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is an IP literal (brackets tolerated), else ``None``."""
    try:
        return ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
