"""The client behind proxies: header parsing, per-hop trust, and the externally visible origin."""

from __future__ import annotations

from typing import Any

import pytest

from registrar.context.forwarding import external_origin, read_forwarding, resolve_client
from registrar.context.networks import NetworkSet, parse_networks

TRUSTED = NetworkSet(parse_networks(["10.0.0.0/8", "2001:db8:ffff::/48"], source="test"))
Headers = list[tuple[str, str]]


def _raw(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode("latin-1")) for name, value in headers]


def _resolve(peer: str | None, headers: Headers) -> tuple[str | None, list[str], bool]:
    chain = resolve_client(read_forwarding(_raw(headers)), peer, TRUSTED)
    client = str(chain.client) if chain.client is not None else None
    return client, [str(a) for a in chain.chain], chain.via_untrusted_proxy


CASES: list[tuple[str, str | None, Headers, str | None, list[str], bool]] = [
    # (case, peer, headers, client, ipChain client-first, isProxy)
    ("direct", "203.0.113.5", [], "203.0.113.5", ["203.0.113.5"], False),
    ("direct IPv6", "2001:db8::5", [], "2001:db8::5", ["2001:db8::5"], False),
    ("dual-stack spelling", "::ffff:203.0.113.5", [], "203.0.113.5", ["203.0.113.5"], False),
    ("no peer at all", None, [], None, [], False),
    # A peer we do not trust: its headers change nothing but mark the request as proxied.
    ("spoofed XFF", "203.0.113.5", [("X-Forwarded-For", "8.8.8.8")], "203.0.113.5", ["203.0.113.5"], True),
    (
        "spoofed Forwarded",
        "203.0.113.5",
        [("Forwarded", "for=8.8.8.8")],
        "203.0.113.5",
        ["203.0.113.5"],
        True,
    ),
    ("Via from a stranger", "203.0.113.5", [("Via", "1.1 squid")], "203.0.113.5", ["203.0.113.5"], True),
    (
        "X-Real-IP from a stranger",
        "203.0.113.5",
        [("X-Real-IP", "8.8.8.8")],
        "203.0.113.5",
        ["203.0.113.5"],
        True,
    ),
    # Trusted proxies speak for the next hop.
    ("trusted, XFF", "10.0.0.1", [("X-Forwarded-For", "8.8.8.8")], "8.8.8.8", ["8.8.8.8", "10.0.0.1"], False),
    (
        "two trusted hops",
        "10.0.0.1",
        [("X-Forwarded-For", "8.8.8.8, 10.0.0.9")],
        "8.8.8.8",
        ["8.8.8.8", "10.0.0.9", "10.0.0.1"],
        False,
    ),
    (
        "client-supplied entry left of the real client",
        "10.0.0.1",
        [("X-Forwarded-For", "1.1.1.1, 8.8.8.8")],
        "8.8.8.8",
        ["8.8.8.8", "10.0.0.1"],
        True,
    ),
    (
        "several XFF fields join in order",
        "10.0.0.1",
        [("X-Forwarded-For", "8.8.8.8"), ("X-Forwarded-For", "10.0.0.9")],
        "8.8.8.8",
        ["8.8.8.8", "10.0.0.9", "10.0.0.1"],
        False,
    ),
    (
        "XFF with ports, brackets and an empty element",
        "10.0.0.1",
        [("X-Forwarded-For", "[2001:db8::5]:1234, , 10.0.0.9:80,")],
        "2001:db8::5",
        ["2001:db8::5", "10.0.0.9", "10.0.0.1"],
        False,
    ),
    ("malformed XFF", "10.0.0.1", [("X-Forwarded-For", "not-an-address")], "10.0.0.1", ["10.0.0.1"], False),
    (
        "everyone trusted",
        "10.0.0.1",
        [("X-Forwarded-For", "10.0.0.7")],
        "10.0.0.7",
        ["10.0.0.7", "10.0.0.1"],
        False,
    ),
    (
        "trusted IPv6 proxy",
        "2001:db8:ffff::1",
        [("X-Forwarded-For", "198.51.100.4")],
        "198.51.100.4",
        ["198.51.100.4", "2001:db8:ffff::1"],
        False,
    ),
    (
        "Forwarded, quoted IPv6 with port",
        "10.0.0.1",
        [("Forwarded", 'for="[2001:db8:cafe::17]:4711";proto=https')],
        "2001:db8:cafe::17",
        ["2001:db8:cafe::17", "10.0.0.1"],
        False,
    ),
    (
        "Forwarded, several elements and fields, mixed case",
        "10.0.0.1",
        [("Forwarded", "For=8.8.8.8;by=10.0.0.9"), ("Forwarded", 'for="10.0.0.9:80";proto=http')],
        "8.8.8.8",
        ["8.8.8.8", "10.0.0.9", "10.0.0.1"],
        False,
    ),
    (
        "Forwarded, obfuscated client behind a trusted hop",
        "10.0.0.1",
        [("Forwarded", "for=_hidden, for=10.0.0.9")],
        "10.0.0.9",
        ["10.0.0.9", "10.0.0.1"],
        False,
    ),
    (
        "Forwarded, unknown client",
        "10.0.0.1",
        [("Forwarded", "for=unknown")],
        "10.0.0.1",
        ["10.0.0.1"],
        False,
    ),
    ("Forwarded without for", "10.0.0.1", [("Forwarded", "proto=https")], "10.0.0.1", ["10.0.0.1"], False),
    (
        "Forwarded, junk after a value",
        "10.0.0.1",
        [("Forwarded", "for=8.8.8.8 x")],
        "10.0.0.1",
        ["10.0.0.1"],
        False,
    ),
    (
        "Forwarded, a parameter twice",
        "10.0.0.1",
        [("Forwarded", "for=8.8.8.8;for=9.9.9.9")],
        "10.0.0.1",
        ["10.0.0.1"],
        False,
    ),
    (
        "Forwarded, an unterminated quote cannot swallow the trusted element",
        "10.0.0.1",
        [("Forwarded", 'for="1.1.1.1, for=8.8.8.8')],
        "8.8.8.8",
        ["8.8.8.8", "10.0.0.1"],
        True,
    ),
    (
        "Forwarded wins over X-Forwarded-For",
        "10.0.0.1",
        [("X-Forwarded-For", "9.9.9.9"), ("Forwarded", "for=8.8.8.8")],
        "8.8.8.8",
        ["8.8.8.8", "10.0.0.1"],
        False,
    ),
]


@pytest.mark.parametrize(
    ("peer", "headers", "client", "chain", "is_proxy"),
    [case[1:] for case in CASES],
    ids=[c[0] for c in CASES],
)
def test_resolve_client(
    peer: str | None, headers: Headers, client: str | None, chain: list[str], is_proxy: bool
) -> None:
    assert _resolve(peer, headers) == (client, chain, is_proxy)


def _scope(
    peer: str, headers: Headers, *, scheme: str = "http", server: tuple[str, int] | None = None
) -> Any:
    return {
        "type": "http",
        "scheme": scheme,
        "headers": _raw(headers),
        "client": (peer, 50000),
        "server": server or ("127.0.0.1", 8080),
    }


HOST = ("Host", "registrar.internal:8080")
ORIGINS: list[tuple[str, str, Headers, tuple[str, str]]] = [
    ("no proxy", "203.0.113.5", [HOST], ("http", "registrar.internal:8080")),
    (
        "stranger's headers ignored",
        "203.0.113.5",
        [HOST, ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.example")],
        ("http", "registrar.internal:8080"),
    ),
    (
        "trusted X-Forwarded-*",
        "10.0.0.1",
        [HOST, ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "registrar.example.com")],
        ("https", "registrar.example.com"),
    ),
    (
        "X-Forwarded-Host value appended by the trusted proxy, not the client's",
        "10.0.0.1",
        [HOST, ("X-Forwarded-For", "8.8.8.8"), ("X-Forwarded-Host", "evil.example, registrar.example.com")],
        ("http", "registrar.example.com"),
    ),
    (
        "trusted Forwarded",
        "10.0.0.1",
        [HOST, ("Forwarded", "for=8.8.8.8;proto=https;host=registrar.example.com")],
        ("https", "registrar.example.com"),
    ),
    (
        "outermost trusted proxy's view",
        "10.0.0.1",
        [
            HOST,
            (
                "Forwarded",
                'for=8.8.8.8;proto=https;host="reg.example.com:8443", for=10.0.0.9;proto=http;host=inner',
            ),
        ],
        ("https", "reg.example.com:8443"),
    ),
    (
        "client-written element ignored",
        "10.0.0.1",
        [
            HOST,
            (
                "Forwarded",
                "for=1.1.1.1;proto=http;host=evil.example, for=8.8.8.8;proto=https;host=good.example",
            ),
        ],
        ("https", "good.example"),
    ),
    (
        "hidden client, trusted proxy's parameters still count",
        "10.0.0.1",
        [HOST, ("Forwarded", "for=_hidden;proto=https;host=registrar.example.com")],
        ("https", "registrar.example.com"),
    ),
    (
        "gaps filled from inner hops",
        "10.0.0.1",
        [HOST, ("Forwarded", "for=8.8.8.8;proto=https, for=10.0.0.9;host=registrar.example.com")],
        ("https", "registrar.example.com"),
    ),
    (
        "unsafe values ignored",
        "10.0.0.1",
        [HOST, ("Forwarded", 'for=8.8.8.8;proto=javascript;host="a.example/x>; rel=next"')],
        ("http", "registrar.internal:8080"),
    ),
]


@pytest.mark.parametrize(
    ("peer", "headers", "origin"), [case[1:] for case in ORIGINS], ids=[case[0] for case in ORIGINS]
)
def test_external_origin(peer: str, headers: Headers, origin: tuple[str, str]) -> None:
    assert external_origin(_scope(peer, headers), TRUSTED) == origin


def test_external_origin_without_a_host_header_uses_the_server_address() -> None:
    assert external_origin(_scope("203.0.113.5", []), TRUSTED) == ("http", "127.0.0.1:8080")
    https = _scope("203.0.113.5", [], scheme="https", server=("::1", 443))
    assert external_origin(https, TRUSTED) == ("https", "[::1]")
