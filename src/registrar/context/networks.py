"""IP addresses as requests carry them, and sets of networks answered in O(log n)."""

from __future__ import annotations

import functools
import ipaddress
from bisect import bisect_right
from collections.abc import Iterable

__all__ = ["IPAddress", "NetworkSet", "parse_address", "parse_networks"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# Longer than any address with brackets, port and zone id: not one, and not worth a cache slot.
_MAX_ADDRESS_TEXT = 100


def parse_address(text: str) -> IPAddress | None:
    """The address in ``text`` (bare, ``[v6]``, ``v4:port`` or ``[v6]:port``), or ``None`` if there is none.

    IPv4-mapped IPv6 addresses (what a dual-stack socket reports) come back as IPv4, so that one client
    has one spelling in the log and IPv4 networks match it.
    """
    return None if len(text) > _MAX_ADDRESS_TEXT else _parse_address(text)


@functools.lru_cache(maxsize=8192)  # the same peers and proxies recur request after request
def _parse_address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (end + 1 < len(text) and not text[end + 1 :].startswith(":")):
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_networks(texts: Iterable[str], *, source: str) -> list[_Network]:
    """CIDRs (or single addresses) as networks; ``ValueError`` naming ``source`` for a bad one."""
    networks: list[_Network] = []
    for text in texts:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{source}: {text.strip()!r} is not an IP address or network") from None
    return networks


class NetworkSet:
    """An immutable set of networks; membership is a binary search over merged address ranges."""

    __slots__ = ("_ends", "_size", "_starts")

    def __init__(self, networks: Iterable[_Network] = ()) -> None:
        nets = list(networks)
        self._size = len(nets)
        self._starts: dict[int, list[int]] = {}
        self._ends: dict[int, list[int]] = {}
        v4 = ipaddress.collapse_addresses(n for n in nets if isinstance(n, ipaddress.IPv4Network))
        v6 = ipaddress.collapse_addresses(n for n in nets if isinstance(n, ipaddress.IPv6Network))
        for version, merged in ((4, list(v4)), (6, list(v6))):
            self._starts[version] = [int(n.network_address) for n in merged]
            self._ends[version] = [int(n.broadcast_address) for n in merged]

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        starts = self._starts[address.version]
        value = int(address)
        i = bisect_right(starts, value) - 1
        return i >= 0 and value <= self._ends[address.version][i]

    def __bool__(self) -> bool:
        return self._size > 0

    def __len__(self) -> int:
        return self._size
