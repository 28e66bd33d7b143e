"""Who the client is behind proxies: ``Forwarded`` (RFC 7239) and ``X-Forwarded-*``, trusted per hop.

A forwarding header is only as honest as whoever wrote it, so the chain is walked from the socket peer
leftwards, one hop at a time, and only while the hop that vouches for the next one is a trusted proxy
(``REGISTRAR_TRUSTED_PROXIES``). The first untrusted address is the client. Anything a trusted proxy
could not name (``unknown``, an obfuscated ``_hidden`` identifier, a malformed value) ends the walk at
the last address that is known.

When a request carries both ``Forwarded`` and ``X-Forwarded-For``, ``Forwarded`` is read: a trusted
proxy must therefore set (or strip) the header it uses, as it must for any forwarding header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from starlette.types import Scope

from .networks import IPAddress, NetworkSet, parse_address

__all__ = ["ClientChain", "ForwardingHeaders", "external_origin", "read_forwarding", "resolve_client"]

RawHeaders = Iterable[tuple[bytes, bytes]]

# Headers that only a forwarding proxy adds: their presence on a connection from a peer we do not trust
# means the request came through a proxy the operator does not vouch for (or claims to have).
_PROXY_HEADERS = frozenset(
    {b"forwarded", b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto", b"x-real-ip", b"via"}
)
_TCHAR = r"[!#$%&'*+.^_`|~0-9A-Za-z-]"  # RFC 9110 token characters
# One ``name=value`` pair of a Forwarded element (or an empty one), and the separator that ends it.
_PAIR = re.compile(rf'[ \t]*(?:({_TCHAR}+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^\s;,"]*)))?[ \t]*([;,]|$)')
_ESCAPE = re.compile(r"\\(.)")
# What may go into the absolute URLs we build (Link headers): a DNS name or an IP literal, and a port.
_HOST = re.compile(r"^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class _Hop:
    """One forwarded-element: the node it names (``None``: unknown, hidden or malformed)."""

    address: IPAddress | None
    proto: str | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class ForwardingHeaders:
    """The forwarding headers of one request, as sent (several fields of one name joined in order)."""

    forwarded: tuple[str, ...] = ()
    forwarded_for: tuple[str, ...] = ()
    forwarded_proto: tuple[str, ...] = ()
    forwarded_host: tuple[str, ...] = ()
    proxy_hint: bool = False  # any header that only a proxy adds


@dataclass(frozen=True, slots=True)
class ClientChain:
    """The outcome of the walk: the client, the trusted path to us, and whether a stranger forwarded."""

    client: IPAddress | None
    chain: tuple[IPAddress, ...] = ()  # client first, the socket peer last
    via_untrusted_proxy: bool = False


@dataclass(frozen=True, slots=True)
class _Walk:
    chain: ClientChain
    hops: tuple[_Hop, ...] = ()
    stop: int | None = None  # the element where the walk ended: written by a trusted proxy
    proxies: int = 0  # trusted proxies the request passed through, the socket peer included


def read_forwarding(headers: RawHeaders) -> ForwardingHeaders:
    """Pick the forwarding headers out of ASGI ``(name, value)`` pairs."""
    forwarded: list[str] = []
    forwarded_for: list[str] = []
    proto: list[str] = []
    host: list[str] = []
    hint = False
    for name, value in headers:
        if name not in _PROXY_HEADERS:
            continue
        hint = True
        text = value.decode("latin-1")
        if name == b"forwarded":
            forwarded.append(text)
        elif name == b"x-forwarded-for":
            forwarded_for.append(text)
        elif name == b"x-forwarded-proto":
            proto.append(text)
        elif name == b"x-forwarded-host":
            host.append(text)
    return ForwardingHeaders(tuple(forwarded), tuple(forwarded_for), tuple(proto), tuple(host), hint)


def _parse_forwarded_field(text: str) -> list[_Hop]:
    hops: list[_Hop] = []
    pairs: dict[str, str] = {}
    valid = True
    pos = 0
    while True:
        match = _PAIR.match(text, pos)
        if match is None:
            # Unparseable up to the next comma: this element names nobody we can believe. Parsing
            # resumes after that comma, so what a trusted proxy appended to the right still counts.
            valid = False
            comma = text.find(",", pos)
            separator = "," if comma >= 0 else ""
            pos = comma + 1
        else:
            name, quoted, bare, separator = match.groups()
            if name is not None:
                key = name.lower()
                if key in pairs:  # RFC 7239 §4: a parameter occurs at most once per element
                    valid = False
                pairs[key] = _ESCAPE.sub(r"\1", quoted) if quoted is not None else bare
            pos = match.end()
        if separator != ";":
            if pairs or not valid:  # empty list elements are allowed and mean nothing (RFC 9110 §5.6.1)
                hops.append(_element(pairs, valid))
            pairs, valid = {}, True
        if separator == "":
            return hops


def _element(pairs: dict[str, str], valid: bool) -> _Hop:
    if not valid:
        return _Hop(None)
    node = pairs.get("for")
    return _Hop(
        parse_address(node) if node else None,
        proto=pairs.get("proto"),
        host=pairs.get("host"),
    )


def _hops(headers: ForwardingHeaders) -> tuple[_Hop, ...]:
    if headers.forwarded:
        return tuple(hop for text in headers.forwarded for hop in _parse_forwarded_field(text))
    items = (item.strip() for text in headers.forwarded_for for item in text.split(","))
    return tuple(_Hop(parse_address(item)) for item in items if item)


def resolve_client(headers: ForwardingHeaders, peer: str | None, trusted: NetworkSet) -> ClientChain:
    """Walk from the socket ``peer`` through trusted proxies to the first address we cannot vouch past."""
    return _walk(headers, peer, trusted).chain


def _walk(headers: ForwardingHeaders, peer: str | None, trusted: NetworkSet) -> _Walk:
    peer_address = parse_address(peer) if peer else None
    if peer_address is None:
        return _Walk(ClientChain(None, (), headers.proxy_hint))
    if peer_address not in trusted:
        # Whatever the headers say was written by someone we do not trust: record the socket peer only.
        return _Walk(ClientChain(peer_address, (peer_address,), headers.proxy_hint))
    hops = _hops(headers)
    path = [peer_address]
    stop: int | None = None
    proxies = 1
    via_untrusted = False
    for index in range(len(hops) - 1, -1, -1):
        stop = index
        address = hops[index].address
        if address is None:
            break
        path.append(address)
        if address not in trusted:
            # It forwarded for someone further left: a proxy nobody vouches for.
            via_untrusted = index > 0
            break
        if index > 0:
            proxies += 1
    path.reverse()
    return _Walk(ClientChain(path[0], tuple(path), via_untrusted), hops, stop, proxies)


def _pick(values: Sequence[str], proxies: int) -> str | None:
    # One value per proxy that appended it; the outermost trusted proxy's is ``proxies`` from the right.
    # Proxies that overwrite leave fewer values: the leftmost is then the outermost one's.
    items = [item.strip() for text in values for item in text.split(",")]
    if not items:
        return None
    return items[-proxies] if 0 < proxies <= len(items) else items[0]


def _origin_from(walk: _Walk, headers: ForwardingHeaders) -> tuple[str | None, str | None]:
    if headers.forwarded:
        # The element where the walk stopped was written by the outermost trusted proxy and describes
        # the request the client sent it; elements to its right are inner hops, a fallback for gaps.
        inner = walk.hops[walk.stop :] if walk.stop is not None else ()
        proto = next((hop.proto for hop in inner if hop.proto), None)
        host = next((hop.host for hop in inner if hop.host), None)
        return proto, host
    return _pick(headers.forwarded_proto, walk.proxies), _pick(headers.forwarded_host, walk.proxies)


def _scope_host(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return str(value.decode("latin-1"))
    server = scope.get("server")
    if not server:
        return "localhost"
    host, port = server[0], server[1]
    host = f"[{host}]" if ":" in str(host) else str(host)
    default = 443 if scope.get("scheme") == "https" else 80
    return host if port in (None, default) else f"{host}:{port}"


def external_origin(scope: Scope, trusted: NetworkSet) -> tuple[str, str]:
    """``(scheme, host[:port])`` the client used: from trusted forwarding headers, else the request itself."""
    scheme = str(scope.get("scheme", "http"))
    host = _scope_host(scope)
    client = scope.get("client")
    peer = client[0] if client else None
    headers = read_forwarding(scope.get("headers", ()))
    walk = _walk(headers, peer, trusted)
    if not walk.proxies:
        return scheme, host
    proto, forwarded_host = _origin_from(walk, headers)
    if proto and proto.lower() in _SCHEMES:
        scheme = proto.lower()
    if forwarded_host and _HOST.match(forwarded_host):
        host = forwarded_host
    return scheme, host
