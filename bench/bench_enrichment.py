"""What request-context enrichment costs per request, next to one whole audited write.

Run: ``.venv/bin/python bench/bench_enrichment.py [--iterations N] [--writes N]``

Enrichment = ``registrar.context.context_from_request`` on an ASGI scope: forwarding-header walk, user
agent, geography (every hop), zone, anonymizer list, ASN. "warm" repeats one client (caches hit, as for
a busy caller); "cold" gives every request a new public address (geography and ASN caches miss). The
audited write is ``services.resource_servers.servers("api").register`` on a temporary SQLite database
(WAL, synchronous NORMAL): resource row + LogEvent, one transaction.
"""

from __future__ import annotations

import argparse
import base64
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from registrar.api import create_app
from registrar.config import Settings
from registrar.context import Enricher, context_from_request
from registrar.services.resource_servers import servers
from registrar.store.tokens import ALL_SCOPES, create_token, ensure_user

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/127.0.0.0 Safari/537.36"
)


def _scope(peer: str, extra: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "path": "/resource-servers/api/v1/api-servers",
        "query_string": b"",
        "headers": [
            (b"host", b"registrar.example.com"),
            (b"authorization", b"SSWS 00secret"),
            (b"user-agent", CHROME.encode()),
            (b"content-type", b"application/json"),
            *extra,
        ],
        "client": (peer, 50123),
        "state": {"request_id": "bench-request-0000000"},
    }


def _measure(run: Callable[[int], object], iterations: int) -> tuple[float, float]:
    """Median and p99 in microseconds."""
    samples = []
    for i in range(iterations):
        start = time.perf_counter_ns()
        run(i)
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def _databases(directory: Path) -> tuple[Path, Path] | None:
    """A small city and ASN database, if mmdb-writer (a test dependency) is installed."""
    try:
        from mmdb_writer import MMDBWriter  # type: ignore[import-untyped, unused-ignore]
        from netaddr import IPSet  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return None
    city = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City", languages=["en"])
    asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN", languages=["en"])
    for first in range(1, 224):
        if first in (10, 127):
            continue
        network = IPSet([f"{first}.0.0.0/8"])
        city.insert_network(
            network,
            {
                "country": {"iso_code": "US", "names": {"en": "United States"}},
                "subdivisions": [{"names": {"en": "California"}}],
                "city": {"names": {"en": "Dublin"}},
                "postal": {"code": "94568"},
                "location": {"latitude": 37.7201, "longitude": -121.919},
            },
        )
        owner = {"autonomous_system_number": 64500 + first, "autonomous_system_organization": f"AS {first}"}
        asn.insert_network(network, owner)
    city.to_db_file(str(directory / "city.mmdb"))
    asn.to_db_file(str(directory / "asn.mmdb"))
    return directory / "city.mmdb", directory / "asn.mmdb"


def _public(i: int) -> str:
    # A different public address per request, skipping 10/8, 127/8 and 0/8.
    return f"{11 + (i >> 16) % 100}.{(i >> 8) & 255}.{i & 255}.{7 + i % 200}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--writes", type=int, default=2_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        settings = Settings(
            database_url=f"sqlite:///{directory / 'bench.db'}",
            secret_key=base64.b64encode(b"b" * 32).decode(),
            secret_key_file=directory / "unused.key",
            trusted_proxies=("10.0.0.0/8",),
        )
        app = create_app(settings)
        deps = app.state.deps
        with deps.engine.begin() as conn:
            user = ensure_user(conn, "bench@example.com", "Bench")
            token, _ = create_token(conn, user, "bench", ALL_SCOPES)

        tor = directory / "tor.txt"
        tor.write_text("".join(f"185.220.{i >> 8}.{i & 255}\n" for i in range(2000)))
        databases = _databases(directory)
        full = Enricher.from_settings(
            Settings(
                trusted_proxies=("10.0.0.0/8",),
                network_zones=(("office", ("192.168.0.0/16",)), ("vpn", ("100.64.0.0/10",))),
                anonymizer_list=tor,
                geoip_db=databases[0] if databases else None,
                asn_db=databases[1] if databases else None,
            )
        )
        plain: Enricher = app.state.enricher
        xff = [(b"x-forwarded-for", b"8.8.8.8, 10.0.0.9")]

        def enrich(enricher: Enricher, peer: Callable[[int], str], extra: Any) -> Callable[[int], Any]:
            return lambda i: context_from_request(_scope(peer(i), extra), token, enricher)

        cases: list[tuple[str, Callable[[int], Any]]] = [
            ("enrich: direct, zero-config, warm", enrich(plain, lambda i: "8.8.8.8", [])),
            ("enrich: direct, zero-config, cold", enrich(plain, _public, [])),
            ("enrich: 2 trusted proxies, zero-config, warm", enrich(plain, lambda i: "10.0.0.2", xff)),
            (
                "enrich: direct, all sources" + ("" if databases else " but mmdb") + ", warm",
                enrich(full, lambda i: "8.8.8.8", []),
            ),
            (
                "enrich: direct, all sources" + ("" if databases else " but mmdb") + ", cold",
                enrich(full, _public, []),
            ),
        ]
        rows = [(name, *_measure(run, args.iterations)) for name, run in cases]

        ctx = context_from_request(_scope("8.8.8.8", []), token, plain)

        def register(i: int) -> None:
            body = orjson.dumps(
                {"resourceUrl": f"https://api{i}.example.com/", "metadata": {"displayName": "X"}}
            )
            servers("api").register(deps, ctx, body)

        rows.append(("audited write: api_servers.register (SQLite)", *_measure(register, args.writes)))
        deps.engine.dispose()

    write_median = rows[-1][1]
    print(f"# {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, {sys.platform}")
    print(f"{'case':<52} {'median µs':>10} {'p99 µs':>10} {'of a write':>11}")
    for name, median, p99 in rows:
        print(f"{name:<52} {median:>10.1f} {p99:>10.1f} {median / write_median:>10.1%}")


if __name__ == "__main__":
    main()
