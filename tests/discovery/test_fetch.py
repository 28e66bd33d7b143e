"""The SSRF-guarded fetcher against a real loopback site: what it refuses, where it connects, its limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from ipaddress import ip_address
from urllib.parse import urlsplit

import pytest

from registrar.discovery import MAX_BODY_BYTES, FetchPolicy, GuardedFetcher, parse_networks
from registrar.discovery._addresses import IPAddress
from registrar.errors import DiscoveryFailed, UnsafeDestination

from .servers import MetadataSite, Reply

GUARDED = FetchPolicy(allow_http=True, connect_timeout=1.0, request_timeout=1.0)  # no allow-list


def _port(site: MetadataSite) -> int:
    port = urlsplit(site.base).port
    assert port is not None
    return port


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::ffff:127.0.0.1]",
        "[::1]",
        "2130706433",  # 127.0.0.1 as one decimal number
        "0x7f000001",
        "017700000001",
        "127.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
        "169.254.169.254",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
    ],
)
def test_loopback_and_internal_addresses_are_refused_before_anything_is_sent(
    site: MetadataSite, host: str
) -> None:
    site.json("/doc", {"ok": True})
    with GuardedFetcher(GUARDED) as fetcher, pytest.raises(UnsafeDestination) as refused:
        fetcher.get(f"http://{host}:{_port(site)}/doc")
    assert "is not a public address" in refused.value.cause
    assert "nothing was fetched" in refused.value.cause
    assert site.requests == []


def test_the_allow_list_lets_loopback_through(site: MetadataSite, policy: FetchPolicy) -> None:
    site.json("/doc", {"ok": True})
    with GuardedFetcher(policy) as fetcher:
        fetched = fetcher.get(site.url("/doc"))
    assert (fetched.status, fetched.body) == (200, b'{"ok":true}')
    assert site.paths_requested() == ["/doc"]


def _resolver(table: dict[str, Sequence[str]]) -> FetchPolicy:
    def resolve(host: str, port: int, timeout: float) -> list[IPAddress]:
        return [ip_address(a) for a in table[host]]

    return replace(GUARDED, resolver=resolve)


def test_the_connection_goes_to_the_vetted_address_with_the_hostname_kept(site: MetadataSite) -> None:
    # "mcp.registrar.test" exists only in this resolver: reaching the site proves the dialled address
    # is the one that was vetted, and no second lookup happened.
    site.json("/doc", {"ok": True})
    resolving = _resolver({"mcp.registrar.test": ["127.0.0.1"]})
    url = f"http://mcp.registrar.test:{_port(site)}/doc"
    with GuardedFetcher(resolving) as fetcher, pytest.raises(UnsafeDestination) as refused:
        fetcher.get(url)
    assert refused.value.cause.startswith("mcp.registrar.test resolves to 127.0.0.1, which is not a public")
    assert site.requests == []

    allowed = replace(resolving, allowed_networks=parse_networks(["127.0.0.0/8"]))
    with GuardedFetcher(allowed) as fetcher:
        fetched = fetcher.get(url)
    assert fetched.status == 200
    ((path, headers),) = site.requests
    assert path == "/doc"
    assert headers["host"] == f"mcp.registrar.test:{_port(site)}"


def test_one_internal_address_among_public_ones_refuses_the_name(site: MetadataSite) -> None:
    resolving = _resolver({"mixed.registrar.test": ["8.8.8.8", "169.254.169.254"]})
    with GuardedFetcher(resolving) as fetcher, pytest.raises(UnsafeDestination) as refused:
        fetcher.get(f"http://mixed.registrar.test:{_port(site)}/doc")
    assert "169.254.169.254" in refused.value.cause and "cloud metadata" in refused.value.cause


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://example.com/", "must be an https URL"),
        ("https://user:secret@example.com/", "must not carry credentials"),
        ("https://example.com/#frag", "must not have a fragment"),
        ("file:///etc/passwd", "must be an https URL"),
    ],
)
def test_urls_are_checked_before_resolution(url: str, why: str) -> None:
    strict = replace(GUARDED, allow_http=False)
    with GuardedFetcher(strict) as fetcher, pytest.raises(UnsafeDestination) as refused:
        fetcher.get(url)
    assert refused.value.cause.endswith(why)


def test_redirects_are_returned_not_followed(site: MetadataSite, policy: FetchPolicy) -> None:
    site.reply("/moved", Reply(302, b"", {"location": "http://169.254.169.254/latest/meta-data/"}))
    with GuardedFetcher(policy) as fetcher:
        fetched = fetcher.get(site.url("/moved"))
    assert fetched.status == 302
    assert site.paths_requested() == ["/moved"]


@pytest.mark.parametrize("chunks", [0, 8])  # 0: with Content-Length; 8: streamed without it
def test_bodies_are_capped_at_256_kib(site: MetadataSite, policy: FetchPolicy, chunks: int) -> None:
    headers = {"content-type": "application/json"}
    site.reply("/big", Reply(200, b" " * (MAX_BODY_BYTES + 1), headers, chunks=chunks))
    site.reply("/fits", Reply(200, b" " * MAX_BODY_BYTES, headers, chunks=chunks))
    with GuardedFetcher(policy) as fetcher:
        assert len(fetcher.get(site.url("/fits")).body) == MAX_BODY_BYTES
        with pytest.raises(DiscoveryFailed) as refused:
            fetcher.get(site.url("/big"))
    assert refused.value.cause.endswith("the response is larger than 256 KiB")


def test_a_slow_answer_times_out(site: MetadataSite, policy: FetchPolicy) -> None:
    site.reply("/slow", Reply(200, b"{}", {"content-type": "application/json"}, delay=30))
    with GuardedFetcher(replace(policy, request_timeout=0.3)) as fetcher, pytest.raises(DiscoveryFailed) as e:
        fetcher.get(site.url("/slow"))
    assert e.value.cause == f"{site.url('/slow')}: timed out"


def test_the_discovery_deadline_bounds_all_requests_together(site: MetadataSite, policy: FetchPolicy) -> None:
    site.json("/doc", {})
    with GuardedFetcher(replace(policy, discovery_timeout=0)) as fetcher, pytest.raises(DiscoveryFailed) as e:
        fetcher.get(site.url("/doc"))
    assert e.value.cause.endswith("discovery ran out of time")
    assert site.requests == []


def test_compressed_bodies_are_refused(site: MetadataSite, policy: FetchPolicy) -> None:
    site.reply(
        "/gz", Reply(200, b"\x1f\x8b", {"content-type": "application/json", "content-encoding": "gzip"})
    )
    with GuardedFetcher(policy) as fetcher, pytest.raises(DiscoveryFailed) as refused:
        fetcher.get(site.url("/gz"))
    assert refused.value.cause.endswith("compressed responses are not accepted")
    ((_, headers),) = site.requests
    assert headers["accept-encoding"] == "identity"


def test_proxies_from_the_environment_are_ignored(
    site: MetadataSite, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    site.json("/doc", {})
    with GuardedFetcher(policy) as fetcher:
        assert fetcher.get(site.url("/doc")).status == 200


def test_a_closed_port_is_a_connection_failure(policy: FetchPolicy) -> None:
    with GuardedFetcher(policy) as fetcher, pytest.raises(DiscoveryFailed) as failed:
        fetcher.get("http://127.0.0.1:9/doc")
    assert failed.value.cause == "http://127.0.0.1:9/doc: could not connect"
